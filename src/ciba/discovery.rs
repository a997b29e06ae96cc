//! Discovery (OIDC Discovery 1.0 §4) and the JWKS cache.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::CibaError;

pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

/// Asymmetric signing algorithms we accept at all. Discovery narrows this list further;
/// it can never widen it (no `none`, no HMAC: HS256 with a public key as secret is the
/// classic key-confusion attack).
pub const ASYMMETRIC_ALGS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// TLS, except to this machine (the simulator, a local test OP): the rule for the issuer
/// and for every endpoint that receives the client secret or a token.
pub fn transport_allowed(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

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
    /// Checks that make the rest of the client safe to run against this OP. They run when
    /// discovery is read, before anything is sent to the OP, so an unsafe document never
    /// pushes a request to a phone.
    pub fn check(&self, expected_issuer: &str, same_origin: bool) -> Result<(), CibaError> {
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
        self.check_endpoints(same_origin)?;
        if self.allowed_algs().is_empty() {
            return Err(CibaError::Discovery(
                "no asymmetric ID token signing algorithm offered".into(),
            ));
        }
        Ok(())
    }

    /// Every endpoint the client may call (the issuer-derived cancel and init-auth ones are
    /// built from the checked issuer): https or loopback, and with `same_origin` (the
    /// Signaturgruppen profiles) on the issuer's scheme, host and port.
    fn check_endpoints(&self, same_origin: bool) -> Result<(), CibaError> {
        let issuer = url::Url::parse(&self.issuer)
            .map_err(|_| CibaError::Discovery("issuer is not a URL".into()))?;
        let endpoints = [
            ("token_endpoint", Some(&self.token_endpoint)),
            ("jwks_uri", Some(&self.jwks_uri)),
            (
                "backchannel_authentication_endpoint",
                self.backchannel_authentication_endpoint.as_ref(),
            ),
            ("userinfo_endpoint", self.userinfo_endpoint.as_ref()),
        ];
        for (name, value) in endpoints {
            let Some(value) = value else { continue };
            let url = url::Url::parse(value)
                .map_err(|_| CibaError::Discovery(format!("{name} is not a URL")))?;
            if !transport_allowed(&url) {
                return Err(CibaError::Discovery(format!(
                    "{name} {value} is not https (plain http is allowed on loopback only)"
                )));
            }
            if same_origin && url.origin() != issuer.origin() {
                return Err(CibaError::Discovery(format!(
                    "{name} {value} is not on the broker's origin {}",
                    issuer.origin().ascii_serialization()
                )));
            }
        }
        Ok(())
    }

    /// Our asymmetric allow-list intersected with what the OP says it signs with. An OP
    /// that lists nothing gets RS256, the OIDC default (Discovery §3).
    pub fn allowed_algs(&self) -> Vec<Algorithm> {
        if self.id_token_signing_alg_values_supported.is_empty() {
            return vec![Algorithm::RS256];
        }
        self.id_token_signing_alg_values_supported
            .iter()
            .filter_map(|a| a.parse::<Algorithm>().ok())
            .filter(|a| ASYMMETRIC_ALGS.contains(a))
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
                    kid = %crate::sanitize::Clean(kid.unwrap_or("<none>")),
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
                .check("https://op.example/op", true)
                .is_ok()
        );
        assert!(
            meta("https://op.example/op/")
                .check("https://op.example/op", true)
                .is_err()
        );
    }

    #[test]
    fn symmetric_and_none_never_enter_the_allow_list() {
        assert_eq!(meta("x").allowed_algs(), vec![Algorithm::RS256]);
    }

    #[test]
    fn push_only_op_is_refused() {
        let mut m = meta("x");
        m.backchannel_token_delivery_modes_supported = vec!["push".into()];
        assert!(m.check("x", false).is_err());
    }

    #[test]
    fn endpoints_must_be_tls_or_loopback_and_on_the_broker_origin() {
        let ok = |m: &ProviderMetadata, iss: &str, same: bool| m.check(iss, same).is_ok();
        let local = meta("http://127.0.0.1:8787/op");
        assert!(ok(&local, "http://127.0.0.1:8787/op", true));
        let mut m = local.clone();
        m.token_endpoint = "http://192.0.2.1/op/connect/token".into();
        assert!(
            !ok(&m, "http://127.0.0.1:8787/op", false),
            "plain http off loopback"
        );
        let mut m = local.clone();
        m.jwks_uri = "https://keys.example/jwks".into();
        assert!(
            ok(&m, "http://127.0.0.1:8787/op", false),
            "generic OP: https anywhere"
        );
        assert!(
            !ok(&m, "http://127.0.0.1:8787/op", true),
            "broker: same origin only"
        );
        let mut m = meta("https://op.example/op");
        m.backchannel_authentication_endpoint = Some("http://op.example/op/connect/ciba".into());
        assert!(
            !ok(&m, "https://op.example/op", false),
            "downgrade on the same host"
        );
        let mut m = meta("https://op.example/op");
        m.userinfo_endpoint = Some("https://op.example:8443/op/userinfo".into());
        assert!(!ok(&m, "https://op.example/op", true), "another port");
        m.userinfo_endpoint = Some("not a url".into());
        assert!(!ok(&m, "https://op.example/op", false));
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
