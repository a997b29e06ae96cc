//! Discovery (OIDC Discovery 1.0 §4) and the JWKS cache.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::CibaError;

pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

/// Asymmetric signing algorithms we accept at all. Discovery narrows this list further;
/// it can never widen it (no `none`, no HMAC: HS256 with a public key as secret is the
/// classic key-confusion attack).
pub const ASYMMETRIC_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

#[derive(Clone, Debug, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub backchannel_authentication_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    pub backchannel_token_delivery_modes_supported: Vec<String>,
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

impl ProviderMetadata {
    /// Checks that make the rest of the client safe to run against this OP.
    pub fn check(&self, expected_issuer: &str) -> Result<(), CibaError> {
        // OIDC Discovery §4.3: the issuer in the document must be exactly the one we asked.
        if self.issuer != expected_issuer {
            return Err(CibaError::Discovery(format!(
                "issuer is {:?}, expected {:?}",
                self.issuer, expected_issuer
            )));
        }
        if self.backchannel_authentication_endpoint.is_none() {
            return Err(CibaError::Discovery(
                "no backchannel_authentication_endpoint: this OP does not offer CIBA".into(),
            ));
        }
        if !self.backchannel_token_delivery_modes_supported.is_empty()
            && !self
                .backchannel_token_delivery_modes_supported
                .iter()
                .any(|m| m == "poll")
        {
            return Err(CibaError::Discovery(
                "the OP does not support CIBA poll mode".into(),
            ));
        }
        if !self.grant_types_supported.is_empty()
            && !self.grant_types_supported.iter().any(|g| g == CIBA_GRANT)
        {
            return Err(CibaError::Discovery(format!(
                "grant type {CIBA_GRANT} not offered"
            )));
        }
        if self.allowed_algs().is_empty() {
            return Err(CibaError::Discovery(
                "no asymmetric ID token signing algorithm offered".into(),
            ));
        }
        Ok(())
    }

    /// Our asymmetric allow-list intersected with what the OP says it signs with. An OP
    /// that lists nothing gets RS256, the OIDC default (Discovery §3).
    pub fn allowed_algs(&self) -> Vec<String> {
        let offered: Vec<&str> = if self.id_token_signing_alg_values_supported.is_empty() {
            vec!["RS256"]
        } else {
            self.id_token_signing_alg_values_supported
                .iter()
                .map(String::as_str)
                .collect()
        };
        offered
            .into_iter()
            .filter(|a| ASYMMETRIC_ALGS.contains(a))
            .map(str::to_string)
            .collect()
    }
}

/// The OP's keys. An unknown `kid` may trigger a re-fetch, at most once per
/// `min_refetch`, so a stream of forged tokens cannot make us hammer the OP.
pub struct JwksCache {
    state: Mutex<JwksState>,
    min_refetch: Duration,
}

struct JwksState {
    keys: Option<JwkSet>,
    last_forced_refetch: Option<Instant>,
}

pub enum KeyLookup<'a> {
    Found(&'a jsonwebtoken::jwk::Jwk),
    /// No key with this kid, or no kid when the set has several keys.
    Missing,
}

impl JwksCache {
    pub fn new(min_refetch: Duration) -> Self {
        Self {
            state: Mutex::new(JwksState {
                keys: None,
                last_forced_refetch: None,
            }),
            min_refetch,
        }
    }

    /// Runs `f` with the key for `kid`, fetching the set on first use and re-fetching it
    /// once (rate-limited) when the key is not there.
    pub async fn with_key<F, Fut, T>(
        &self,
        kid: Option<&str>,
        fetch: F,
        use_key: impl FnOnce(KeyLookup<'_>) -> T,
    ) -> Result<T, CibaError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<JwkSet, CibaError>>,
    {
        let mut st = self.state.lock().await;
        if st.keys.is_none() {
            st.keys = Some(fetch().await?);
        }
        let found = st.keys.as_ref().is_some_and(|k| lookup(k, kid).is_some());
        if !found {
            let allowed = st
                .last_forced_refetch
                .is_none_or(|t| t.elapsed() >= self.min_refetch);
            if allowed {
                st.last_forced_refetch = Some(Instant::now());
                tracing::info!(
                    kid = kid.unwrap_or("<none>"),
                    "unknown signing key; re-fetching JWKS"
                );
                st.keys = Some(fetch().await?);
            }
        }
        let keys = st.keys.as_ref();
        Ok(match keys.and_then(|k| lookup(k, kid)) {
            Some(jwk) => use_key(KeyLookup::Found(jwk)),
            None => use_key(KeyLookup::Missing),
        })
    }
}

fn lookup<'a>(set: &'a JwkSet, kid: Option<&str>) -> Option<&'a jsonwebtoken::jwk::Jwk> {
    // Only signing keys count; a set may also publish encryption keys.
    let signing: Vec<_> = set
        .keys
        .iter()
        .filter(|k| {
            !matches!(
                k.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            )
        })
        .collect();
    match kid {
        Some(kid) => signing
            .into_iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        // OIDC Core §10.1: without a kid, the key is unambiguous only if there is one.
        None if signing.len() == 1 => signing.into_iter().next(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(issuer: &str) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/connect/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "backchannel_authentication_endpoint": format!("{issuer}/connect/ciba"),
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            "backchannel_token_delivery_modes_supported": ["poll", "ping"],
            "grant_types_supported": [CIBA_GRANT]
        }))
        .unwrap()
    }

    #[test]
    fn issuer_must_match_exactly() {
        assert!(
            meta("https://op.example/op")
                .check("https://op.example/op")
                .is_ok()
        );
        assert!(
            meta("https://op.example/op/")
                .check("https://op.example/op")
                .is_err()
        );
    }

    #[test]
    fn symmetric_and_none_never_enter_the_allow_list() {
        assert_eq!(meta("x").allowed_algs(), vec!["RS256".to_string()]);
    }

    #[test]
    fn push_only_op_is_refused() {
        let mut m = meta("x");
        m.backchannel_token_delivery_modes_supported = vec!["push".into()];
        assert!(m.check("x").is_err());
    }

    #[tokio::test]
    async fn unknown_kid_refetches_once_then_rate_limits() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let cache = JwksCache::new(Duration::from_secs(60));
        let fetch = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(JwkSet { keys: vec![] })
        };
        for _ in 0..3 {
            let found = cache
                .with_key(Some("nope"), fetch, |k| matches!(k, KeyLookup::Found(_)))
                .await
                .unwrap();
            assert!(!found);
        }
        // First use + one forced re-fetch; the third lookup is rate-limited.
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
