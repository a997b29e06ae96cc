//! ID and access tokens shaped like the broker's example (broker docs, "Ciba integration"), and the key ring
//! that signs them.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::SimError;
use super::faults::Faults;
use super::identities::{Identity, subject_for};
use super::keys::{SigningKey, random_hex};
use super::state::{Grant, unix_now};

/// Broker docs, "Issued claims and tokens": "Default expiry for ID tokens is 5 minutes."
pub const ID_TOKEN_LIFETIME_SECS: u64 = 300;
/// The Flex token response example says `expires_in: 3600`.
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;
/// What the wrong-iss fault puts in `iss`: the real PP broker, a believable misconfiguration.
pub const WRONG_ISSUER: &str = "https://pp.netseidbroker.dk/op";
/// What the wrong-aud fault puts in `aud`.
pub const WRONG_AUDIENCE: &str = "00000000-0000-4000-8000-000000000000";

/// Published keys, the active one, and a key nobody publishes (wrong-signature fault).
pub(crate) struct KeyRing {
    pub published: Vec<Arc<SigningKey>>,
    pub active: Arc<SigningKey>,
    pub rogue: Option<Arc<SigningKey>>,
}

impl KeyRing {
    pub fn new(primary: Arc<SigningKey>) -> Self {
        Self {
            published: vec![primary.clone()],
            active: primary,
            rogue: None,
        }
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": self.published.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }

    /// A new key becomes active; older keys stay published so earlier tokens still verify.
    pub fn rotate_to(&mut self, key: Arc<SigningKey>) {
        self.published.push(key.clone());
        self.active = key;
    }
}

/// The token endpoint's success body, plus what userinfo needs to know about the access token.
pub(crate) struct Minted {
    pub body: Value,
    pub access_token: String,
    pub access_token_exp: u64,
    pub userinfo: Value,
}

fn identity_claims(identity: &Identity, claims: &mut Map<String, Value>) {
    let today = OffsetDateTime::now_utc().date();
    let age = identity
        .age_on(today)
        .map(|a| a.to_string())
        .unwrap_or_default();
    claims.insert("mitid.uuid".into(), json!(identity.uuid));
    claims.insert("mitid.age".into(), json!(age));
    claims.insert("mitid.date_of_birth".into(), json!(identity.date_of_birth));
    claims.insert(
        "mitid.has_cpr".into(),
        json!(if identity.cpr.is_some() {
            "true"
        } else {
            "false"
        }),
    );
    claims.insert("mitid.identity_name".into(), json!(identity.name));
}

/// `at_hash`: base64url of the left half of SHA-256 over the access token (OIDC Core §3.1.3.6).
pub(crate) fn at_hash(access_token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// Signs the tokens for `grant`. Keys needed by `faults` (rotation, rogue key) must already be
/// in `ring`.
pub(crate) fn mint(
    grant: &Grant,
    faults: &Faults,
    issuer: &str,
    ring: &KeyRing,
) -> Result<Minted, SimError> {
    let now = unix_now();
    let sub = subject_for(&grant.client_id, &grant.identity);
    let scopes: Vec<&str> = grant.scope.split_whitespace().collect();
    let access_exp = now + ACCESS_TOKEN_LIFETIME_SECS;

    let access_claims = json!({
        "iss": issuer,
        "nbf": now,
        "iat": now,
        "exp": access_exp,
        "scope": scopes,
        "client_id": grant.client_id,
        "sub": sub,
        "auth_time": grant.auth_time,
        "idp": "mitid",
        "idp_transaction_id": grant.transaction_id,
        "jti": random_hex(16),
    });
    let key = &ring.active;
    let access_token = key.sign_jwt("at+jwt", key.kid(), &access_claims)?;

    let (iat, exp, auth_time) = if faults.expired_id_token {
        (
            now - 2 * ID_TOKEN_LIFETIME_SECS - 60,
            now - ID_TOKEN_LIFETIME_SECS - 60,
            grant.auth_time.min(now - 2 * ID_TOKEN_LIFETIME_SECS - 60),
        )
    } else {
        (now, now + ID_TOKEN_LIFETIME_SECS, grant.auth_time)
    };
    let mut claims = Map::new();
    claims.insert(
        "iss".into(),
        json!(if faults.wrong_iss {
            WRONG_ISSUER
        } else {
            issuer
        }),
    );
    claims.insert("nbf".into(), json!(iat));
    claims.insert("iat".into(), json!(iat));
    claims.insert("exp".into(), json!(exp));
    claims.insert(
        "aud".into(),
        json!(if faults.wrong_aud {
            WRONG_AUDIENCE
        } else {
            grant.client_id.as_str()
        }),
    );
    claims.insert("at_hash".into(), json!(at_hash(&access_token)));
    claims.insert("sub".into(), json!(sub));
    claims.insert("auth_time".into(), json!(auth_time));
    claims.insert("idp".into(), json!("mitid"));
    identity_claims(&grant.identity, &mut claims);
    claims.insert("mitid.reference_text".into(), json!(grant.reference_text));
    claims.insert("mitid.transaction_id".into(), json!(grant.transaction_id));
    claims.insert("idp_transaction_id".into(), json!(grant.transaction_id));
    claims.insert("idtoken_type".into(), json!("ciba"));
    if let Some(nonce) = &grant.ciba_nonce {
        claims.insert("ciba_nonce".into(), json!(nonce));
    }
    let id_claims = Value::Object(claims);
    let id_token = match (&ring.rogue, faults.wrong_signature) {
        (Some(rogue), true) => rogue.sign_jwt("JWT", key.kid(), &id_claims)?,
        _ => key.sign_jwt("JWT", key.kid(), &id_claims)?,
    };

    let mut userinfo = Map::new();
    userinfo.insert("sub".into(), json!(sub));
    userinfo.insert("idp".into(), json!("mitid"));
    identity_claims(&grant.identity, &mut userinfo);
    userinfo.insert("mitid.transaction_id".into(), json!(grant.transaction_id));
    userinfo.insert("idp_transaction_id".into(), json!(grant.transaction_id));

    let body = json!({
        "id_token": id_token,
        "access_token": access_token,
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "token_type": "Bearer",
        "scope": grant.scope,
    });
    Ok(Minted {
        body,
        access_token,
        access_token_exp: access_exp,
        userinfo: Value::Object(userinfo),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_oidc_example_shape() {
        // 16 bytes → 22 base64url characters, as in the broker's example ("ioMN8ZVwkuk9s7q6MlsSFA").
        assert_eq!(at_hash("x").len(), 22);
    }
}
