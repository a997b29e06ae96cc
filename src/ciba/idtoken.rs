//! ID token validation, step by step after OIDC Core 1.0 §3.1.3.7 (as applied to CIBA by
//! CIBA Core §10.1.1), plus the Signaturgruppen broker's own claims.
//!
//! Each step has its own error variant, so a log line points at the rule. All time
//! arithmetic saturates: `exp`, `iat` and `nbf` come from outside and may be any i64.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::claims::IdTokenClaims;
use super::secret::{AccessToken, IdToken};

/// Clock skew we tolerate on `exp`, `nbf` and `iat`.
pub const MAX_SKEW_SECS: i64 = 60;
/// Oldest `iat` we accept. The broker's ID tokens live 5 minutes (broker docs, "Issued claims and tokens");
/// a token issued much earlier is a replay, not a fresh sign-in (conformance `iat-is-week-in-past`).
pub const MAX_IAT_AGE_SECS: i64 = 600;
/// Longest JOSE header we decode ourselves (for `crit`); real ones are under 200 bytes.
const MAX_HEADER_LEN: usize = 4096;

/// Why an ID token was refused: one variant per numbered step of [`header`] and [`validate`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("step 1: unreadable header: {0}")]
    Header(String),
    #[error("step 2: alg {0} is not in the allow-list")]
    Algorithm(String),
    #[error("step 3: {0}")]
    Key(String),
    #[error("step 4: signature check failed: {0}")]
    Signature(String),
    #[error("step 5: {0}")]
    Issuer(String),
    #[error("step 6: {0}")]
    Audience(String),
    #[error("step 7: {0}")]
    Time(String),
    #[error("step 8: sub is missing")]
    Subject,
    #[error("step 9: {0}")]
    AtHash(String),
    #[error("step 10: {0}")]
    Broker(String),
    #[error("step 11: {0}")]
    Nonce(String),
}

impl IdTokenError {
    pub fn step(&self) -> u8 {
        match self {
            IdTokenError::Header(_) => 1,
            IdTokenError::Algorithm(_) => 2,
            IdTokenError::Key(_) => 3,
            IdTokenError::Signature(_) => 4,
            IdTokenError::Issuer(_) => 5,
            IdTokenError::Audience(_) => 6,
            IdTokenError::Time(_) => 7,
            IdTokenError::Subject => 8,
            IdTokenError::AtHash(_) => 9,
            IdTokenError::Broker(_) => 10,
            IdTokenError::Nonce(_) => 11,
        }
    }
}

/// How the `ciba_nonce` we send must come back (config `ciba_nonce`). The broker's doc only
/// says it is "received in token response", so it is looked for both in the ID token and at
/// the token response's top level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NonceMode {
    /// Send one; a mismatch wherever it is echoed is fatal; no echo logs one warning.
    #[default]
    Verify,
    /// Send one; it must be echoed, and match, in at least one place.
    Require,
    /// Send none.
    Off,
}

/// What the token must prove.
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Audiences besides our client_id that we trust (OIDC Core §3.1.3.7 item 3); usually none.
    pub trusted_audiences: &'a [String],
    /// Allow-list from discovery, already intersected with our asymmetric list.
    pub allowed_algs: &'a [Algorithm],
    /// Signaturgruppen profile: `idtoken_type == "ciba"` and `idp == "mitid"`.
    pub signaturgruppen: bool,
    /// The nonce we sent, if any, and how strictly it must come back.
    pub ciba_nonce: Option<&'a str>,
    pub nonce_mode: NonceMode,
    /// `ciba_nonce` at the token response's top level, if the OP put it there.
    pub response_nonce: Option<&'a str>,
    pub access_token: Option<&'a AccessToken>,
    pub now: SystemTime,
}

/// Step 1–2: read the header; the algorithm must be on the allow-list. Only `kid` picks
/// the key: `jku`, `jwk` and `x5u` would let the token choose its own key, so they are
/// never looked at. A `crit` naming any extension is refused: we understand none
/// (RFC 7515 §4.1.11).
pub fn header(
    token: &IdToken,
    allowed_algs: &[Algorithm],
) -> Result<(Algorithm, Option<String>), IdTokenError> {
    check_crit(token.expose())?;
    let header = jsonwebtoken::decode_header(token.expose())
        .map_err(|e| IdTokenError::Header(format!("{e}")))?;
    if !allowed_algs.contains(&header.alg) {
        return Err(IdTokenError::Algorithm(alg_name(header.alg).to_string()));
    }
    Ok((header.alg, header.kid))
}

fn check_crit(token: &str) -> Result<(), IdTokenError> {
    let bad = |why: &str| IdTokenError::Header(why.to_string());
    let segment = token.split('.').next().unwrap_or_default();
    if segment.len() > MAX_HEADER_LEN {
        return Err(bad("header too long"));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| bad("header is not base64url"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| bad("header is not a JSON object"))?;
    match header.get("crit") {
        None => Ok(()),
        Some(serde_json::Value::Array(a)) if a.is_empty() => Ok(()),
        Some(_) => Err(bad(
            "crit names extensions we do not understand (RFC 7515 §4.1.11)",
        )),
    }
}

/// Steps 3–11 once the key is known.
pub fn validate(
    token: &IdToken,
    alg: Algorithm,
    jwk: Option<&Jwk>,
    expect: &Expectations<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    // 3. The key comes from the OP's JWKS, chosen by kid (OIDC Core §10.1).
    let jwk = jwk.ok_or_else(|| {
        IdTokenError::Key("no key in the OP's JWKS matches the token's kid".into())
    })?;
    if let Some(key_alg) = jwk.common.key_algorithm
        && key_algorithm(key_alg) != Some(alg)
    {
        return Err(IdTokenError::Key(format!(
            "the key is for another algorithm than the token's {}",
            alg_name(alg)
        )));
    }
    let key =
        DecodingKey::from_jwk(jwk).map_err(|e| IdTokenError::Key(format!("unusable JWK: {e}")))?;

    // 4. Signature (OIDC Core §3.1.3.7 item 6). Claim checks are ours, below, so each has
    //    its own numbered step and error.
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    let c = jsonwebtoken::decode::<IdTokenClaims>(token.expose(), &key, &v)
        .map_err(|e| IdTokenError::Signature(e.to_string()))?
        .claims;

    // 5. iss must match the discovered issuer exactly (item 2).
    match c.iss.as_deref() {
        Some(iss) if iss == expect.issuer => {}
        Some(iss) => {
            return Err(IdTokenError::Issuer(format!(
                "iss {iss:?} is not {:?}",
                expect.issuer
            )));
        }
        None => return Err(IdTokenError::Issuer("iss is missing".into())),
    }

    // 6. aud must contain our client_id, and nothing we do not trust (item 3); with several
    //    audiences, azp must be us (items 4–5).
    let auds = c
        .aud
        .as_ref()
        .map(|a| a.as_slice())
        .ok_or_else(|| IdTokenError::Audience("aud is missing".into()))?;
    if !auds.iter().any(|a| a == expect.client_id) {
        return Err(IdTokenError::Audience(
            "aud does not contain our client_id".into(),
        ));
    }
    if let Some(other) = auds
        .iter()
        .find(|a| *a != expect.client_id && !expect.trusted_audiences.contains(a))
    {
        return Err(IdTokenError::Audience(format!(
            "untrusted additional audience {other:?}"
        )));
    }
    if auds.len() > 1 && c.azp.as_deref() != Some(expect.client_id) {
        return Err(IdTokenError::Audience(
            "several audiences and azp is not our client_id".into(),
        ));
    }

    // 7. Times (items 9–10), with at most MAX_SKEW_SECS of clock skew.
    check_times(&c, expect.now)?;

    // 8. sub must be there: it is the identity we hand on.
    if c.sub.as_deref().is_none_or(str::is_empty) {
        return Err(IdTokenError::Subject);
    }

    // 9. at_hash, when present, binds the access token to this ID token (OIDC Core §3.2.2.9).
    if let Some(at_hash) = c.at_hash.as_deref() {
        let at = expect.access_token.ok_or_else(|| {
            IdTokenError::AtHash("at_hash present but no access token was issued".into())
        })?;
        if at_hash != left_half_hash(alg, at.expose()) {
            return Err(IdTokenError::AtHash(
                "at_hash does not match the access token".into(),
            ));
        }
    }

    // 10. Signaturgruppen: a CIBA ID token from MitID (broker docs, "Ciba integration": token example).
    if expect.signaturgruppen {
        if c.idtoken_type.as_deref() != Some("ciba") {
            return Err(IdTokenError::Broker(format!(
                "idtoken_type is {:?}, expected \"ciba\"",
                c.idtoken_type
            )));
        }
        if c.idp.as_deref() != Some("mitid") {
            return Err(IdTokenError::Broker(format!(
                "idp is {:?}, expected \"mitid\"",
                c.idp
            )));
        }
    }

    // 11. ciba_nonce, wherever the OP echoes it.
    check_nonce(c.ciba_nonce.as_deref(), expect)?;
    Ok(c)
}

fn check_times(c: &IdTokenClaims, now: SystemTime) -> Result<(), IdTokenError> {
    let t = |s: &str| IdTokenError::Time(s.to_string());
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| t("system clock is before 1970"))?
        .as_secs();
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let exp = c.exp.ok_or_else(|| t("exp is missing"))?;
    if now > exp.saturating_add(MAX_SKEW_SECS) {
        return Err(IdTokenError::Time(format!(
            "expired {} s ago",
            now.saturating_sub(exp)
        )));
    }
    let iat = c.iat.ok_or_else(|| t("iat is missing"))?;
    if iat > now.saturating_add(MAX_SKEW_SECS) {
        return Err(t("iat is in the future"));
    }
    if now.saturating_sub(iat) > MAX_IAT_AGE_SECS + MAX_SKEW_SECS {
        return Err(IdTokenError::Time(format!(
            "issued {} s ago",
            now.saturating_sub(iat)
        )));
    }
    if c.nbf
        .is_some_and(|nbf| nbf > now.saturating_add(MAX_SKEW_SECS))
    {
        return Err(t("not valid yet (nbf)"));
    }
    Ok(())
}

/// Set once the first sign-in without an echoed nonce has been logged.
static UNECHOED_WARNED: AtomicBool = AtomicBool::new(false);

fn check_nonce(in_token: Option<&str>, expect: &Expectations<'_>) -> Result<(), IdTokenError> {
    let Some(sent) = expect.ciba_nonce else {
        return Ok(());
    };
    if expect.nonce_mode == NonceMode::Off {
        return Ok(());
    }
    for (place, echoed) in [
        ("the ID token", in_token),
        ("the token response", expect.response_nonce),
    ] {
        if echoed.is_some_and(|e| e != sent) {
            return Err(IdTokenError::Nonce(format!(
                "ciba_nonce in {place} does not echo the one we sent"
            )));
        }
    }
    if in_token.is_none() && expect.response_nonce.is_none() {
        if expect.nonce_mode == NonceMode::Require {
            return Err(IdTokenError::Nonce(
                "ciba_nonce was not echoed (config ciba_nonce = \"require\")".into(),
            ));
        }
        if !UNECHOED_WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the OP did not echo ciba_nonce, neither in the ID token nor in the token response; accepted (config ciba_nonce = \"verify\")"
            );
        }
    }
    Ok(())
}

/// The algorithm a JWK's `alg` names, compared by value with the token's.
fn key_algorithm(k: KeyAlgorithm) -> Option<Algorithm> {
    Some(match k {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

/// base64url of the left half of the hash of `value`, with the hash of the token's alg.
pub fn left_half_hash(alg: Algorithm, value: &str) -> String {
    use aws_lc_rs::digest;
    let algo = match alg {
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 | Algorithm::HS384 => {
            &digest::SHA384
        }
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::HS512 | Algorithm::EdDSA => {
            &digest::SHA512
        }
        _ => &digest::SHA256,
    };
    let d = digest::digest(algo, value.as_bytes());
    let half = &d.as_ref()[..d.as_ref().len() / 2];
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_spec_example() {
        // OIDC Core appendix A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        // has at_hash "77QmUPtjPfzWtF2AnpK9RQ" under RS256.
        assert_eq!(
            left_half_hash(
                Algorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
