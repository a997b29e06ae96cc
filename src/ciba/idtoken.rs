//! ID token validation, step by step after OIDC Core 1.0 §3.1.3.7 (as applied to CIBA by
//! CIBA Core §10.1.1), plus the Signaturgruppen broker's own claims.
//!
//! The error's `step` number is the step below, so a log line points at the rule.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use serde_json::{Map, Value};

use super::error::CibaError;
use super::secret::{AccessToken, IdToken};

/// Clock skew we tolerate on `exp`, `nbf` and `iat`.
pub const MAX_SKEW_SECS: i64 = 60;
/// Oldest `iat` we accept. The broker's ID tokens live 5 minutes (broker docs, "Issued claims and tokens");
/// a token issued much earlier is a replay, not a fresh sign-in (conformance `iat-is-week-in-past`).
pub const MAX_IAT_AGE_SECS: i64 = 600;

/// What the token must prove.
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Audiences besides our client_id that we trust (OIDC Core §3.1.3.7 item 3); usually none.
    pub trusted_audiences: &'a [String],
    /// Allow-list from discovery, already intersected with our asymmetric list.
    pub allowed_algs: &'a [String],
    /// Signaturgruppen profile: `idtoken_type == "ciba"` and `idp == "mitid"`.
    pub signaturgruppen: bool,
    pub ciba_nonce: Option<&'a str>,
    pub access_token: Option<&'a AccessToken>,
    pub now: SystemTime,
}

fn fail(step: u8, reason: impl Into<String>) -> CibaError {
    CibaError::IdToken {
        step,
        reason: reason.into(),
    }
}

/// Step 1–2: read the header; the algorithm must be on the allow-list. Only `kid` picks
/// the key: `jku`, `jwk` and `x5u` would let the token choose its own key, so they are
/// never looked at.
pub fn header(
    token: &IdToken,
    allowed_algs: &[String],
) -> Result<(Algorithm, Option<String>), CibaError> {
    let header = jsonwebtoken::decode_header(token.expose())
        .map_err(|e| fail(1, format!("unreadable header or unsupported alg: {e}")))?;
    let alg = alg_name(header.alg);
    if !allowed_algs.iter().any(|a| a == alg) {
        return Err(fail(
            2,
            format!("alg {alg} is not in the allow-list {allowed_algs:?}"),
        ));
    }
    Ok((header.alg, header.kid))
}

/// Steps 3–11 once the key is known.
pub fn validate(
    token: &IdToken,
    alg: Algorithm,
    jwk: Option<&Jwk>,
    expect: &Expectations<'_>,
) -> Result<Map<String, Value>, CibaError> {
    // 3. The key comes from the OP's JWKS, chosen by kid (OIDC Core §10.1).
    let jwk = jwk.ok_or_else(|| fail(3, "no key in the OP's JWKS matches the token's kid"))?;
    if let Some(key_alg) = &jwk.common.key_algorithm
        && format!("{key_alg:?}") != alg_name(alg)
    {
        return Err(fail(
            3,
            format!("key is for {key_alg:?}, token says {}", alg_name(alg)),
        ));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| fail(3, format!("unusable JWK: {e}")))?;

    // 4. Signature (OIDC Core §3.1.3.7 item 6). Claim checks are ours, below, so each has
    //    its own numbered step and error.
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token.expose(), &key, &v)
        .map_err(|e| fail(4, format!("signature check failed: {e}")))?
        .claims;

    // 5. iss must match the discovered issuer exactly (item 2).
    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == expect.issuer => {}
        Some(iss) => return Err(fail(5, format!("iss {iss:?} is not {:?}", expect.issuer))),
        None => return Err(fail(5, "iss is missing")),
    }

    // 6. aud must contain our client_id, and nothing we do not trust (item 3); with several
    //    audiences, azp must be us (items 4–5).
    let auds: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(fail(6, "aud is missing")),
    };
    if !auds.contains(&expect.client_id) {
        return Err(fail(6, "aud does not contain our client_id"));
    }
    if let Some(other) = auds
        .iter()
        .find(|a| **a != expect.client_id && !expect.trusted_audiences.iter().any(|t| t == *a))
    {
        return Err(fail(6, format!("untrusted additional audience {other:?}")));
    }
    if auds.len() > 1 {
        match claims.get("azp").and_then(Value::as_str) {
            Some(azp) if azp == expect.client_id => {}
            _ => return Err(fail(6, "several audiences and azp is not our client_id")),
        }
    }

    // 7. Times (items 9–10), with at most MAX_SKEW_SECS of clock skew.
    let now = expect
        .now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| fail(7, "system clock is before 1970"))?
        .as_secs() as i64;
    let exp = int_claim(&claims, "exp").ok_or_else(|| fail(7, "exp is missing"))?;
    if now > exp + MAX_SKEW_SECS {
        return Err(fail(7, format!("expired {} s ago", now - exp)));
    }
    let iat = int_claim(&claims, "iat").ok_or_else(|| fail(7, "iat is missing"))?;
    if iat > now + MAX_SKEW_SECS {
        return Err(fail(7, "iat is in the future"));
    }
    if now - iat > MAX_IAT_AGE_SECS + MAX_SKEW_SECS {
        return Err(fail(7, format!("issued {} s ago", now - iat)));
    }
    if let Some(nbf) = int_claim(&claims, "nbf")
        && nbf > now + MAX_SKEW_SECS
    {
        return Err(fail(7, "not valid yet (nbf)"));
    }

    // 8. sub must be there: it is the identity we hand on.
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(fail(8, "sub is missing"));
    }

    // 9. at_hash, when present, binds the access token to this ID token (OIDC Core §3.2.2.9).
    if let Some(at_hash) = claims.get("at_hash").and_then(Value::as_str) {
        let at = expect
            .access_token
            .ok_or_else(|| fail(9, "at_hash present but no access token was issued"))?;
        if at_hash != left_half_hash(alg, at.expose()) {
            return Err(fail(9, "at_hash does not match the access token"));
        }
    }

    // 10. Signaturgruppen: a CIBA ID token from MitID (broker docs, "Ciba integration": token example).
    if expect.signaturgruppen {
        let ty = claims.get("idtoken_type").and_then(Value::as_str);
        if ty != Some("ciba") {
            return Err(fail(
                10,
                format!("idtoken_type is {ty:?}, expected \"ciba\""),
            ));
        }
        let idp = claims.get("idp").and_then(Value::as_str);
        if idp != Some("mitid") {
            return Err(fail(10, format!("idp is {idp:?}, expected \"mitid\"")));
        }
    }

    // 11. ciba_nonce must come back unchanged when we sent one.
    if let Some(sent) = expect.ciba_nonce
        && claims.get("ciba_nonce").and_then(Value::as_str) != Some(sent)
    {
        return Err(fail(11, "ciba_nonce does not echo the one we sent"));
    }

    Ok(claims)
}

fn int_claim(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let v = claims.get(name)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
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
