//! The HTTP side of CIBA: discovery, start, poll, cancel, QR init and token validation.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::claims::UserinfoClaims;
use super::discovery::{CIBA_GRANT, JwksCache, KeyLookup, ProviderMetadata};
use super::error::CibaError;
use super::hint::{HintEncoding, LoginHint};
use super::idtoken::{self, Expectations, NonceMode};
use super::poll::{self, PollOutcome, TokenResponse};
use super::profile::Profile;
use super::secret::{AccessToken, AuthReqId, ClientSecret};
use super::start::{self, StartResponse};
use super::wire::{ANSWER_CAP, METADATA_CAP, OauthErrorBody, read_capped, read_json, refusal};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    ClientSecretPost,
    ClientSecretBasic,
}

/// Which OP semantics apply beyond CIBA Core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Signaturgruppen broker: cancel endpoint, CIBA+PAR, `idtoken_type`/`idp` checks.
    Signaturgruppen,
    /// Any CIBA Core OP in poll mode.
    Generic,
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The authority / issuer, exactly as the OP spells it (no trailing slash added).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub auth: ClientAuth,
    pub scope: String,
    pub dialect: Dialect,
    pub hint_encoding: HintEncoding,
    pub request_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ParResponse {
    pub authentication_uri: String,
    pub expires_in: u64,
}

pub struct CibaClient {
    http: reqwest::Client,
    cfg: ClientConfig,
    meta: OnceCell<ProviderMetadata>,
    jwks: JwksCache,
}

#[derive(Deserialize)]
struct ParBody {
    authentication_uri: String,
    expires_in: Option<u64>,
}

impl CibaClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, CibaError> {
        let https = cfg.issuer.starts_with("https://");
        let http = reqwest::Client::builder()
            // A redirect could carry our form (and secret) somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            // With an https issuer, discovery must not be able to downgrade any endpoint.
            .https_only(https)
            .connect_timeout(Duration::from_secs(5))
            .timeout(cfg.request_timeout)
            .user_agent(concat!("mitid-flex-tv/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CibaError::InvalidInput(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            cfg,
            meta: OnceCell::new(),
            // One forced JWKS re-fetch per minute at most.
            jwks: JwksCache::new(Duration::from_secs(60)),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Discovery, fetched once and cached for the life of the client.
    pub async fn discover(&self) -> Result<&ProviderMetadata, CibaError> {
        self.meta
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.cfg.issuer);
                let resp = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| CibaError::transport("discovery", &e))?;
                let meta: ProviderMetadata = read_json("discovery", resp, METADATA_CAP).await?;
                meta.check(
                    &self.cfg.issuer,
                    self.cfg.dialect == Dialect::Signaturgruppen,
                )?;
                Ok(meta)
            })
            .await
    }

    pub async fn fetch_jwks(&self) -> Result<JwkSet, CibaError> {
        let meta = self.discover().await?;
        let resp = self
            .http
            .get(&meta.jwks_uri)
            .send()
            .await
            .map_err(|e| CibaError::transport("jwks", &e))?;
        read_json("jwks", resp, METADATA_CAP).await
    }

    fn authed(
        &self,
        req: reqwest::RequestBuilder,
        form: &mut Vec<(&'static str, String)>,
    ) -> reqwest::RequestBuilder {
        match self.cfg.auth {
            ClientAuth::ClientSecretPost => {
                form.push(("client_id", self.cfg.client_id.clone()));
                form.push(("client_secret", self.cfg.client_secret.expose().to_string()));
                req
            }
            ClientAuth::ClientSecretBasic => {
                // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let creds = format!(
                    "{}:{}",
                    enc(&self.cfg.client_id),
                    enc(self.cfg.client_secret.expose())
                );
                let value = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(creds)
                );
                req.header(reqwest::header::AUTHORIZATION, value)
            }
        }
    }

    /// Backchannel authentication request (CIBA Core §7.1).
    pub async fn start(&self, hint: &LoginHint) -> Result<StartResponse, CibaError> {
        let meta = self.discover().await?;
        let endpoint = meta
            .backchannel_authentication_endpoint
            .as_deref()
            .ok_or(CibaError::Unsupported("backchannel authentication"))?;
        if matches!(hint, LoginHint::Flex(_) | LoginHint::BrokerOidc { .. })
            && self.cfg.dialect != Dialect::Signaturgruppen
        {
            return Err(CibaError::Unsupported(
                "login_hint_token outside the Signaturgruppen profile",
            ));
        }
        let mut form = vec![
            ("grant_type", CIBA_GRANT.to_string()),
            ("scope", self.cfg.scope.clone()),
        ];
        form.extend(hint.form_fields(self.cfg.hint_encoding)?);
        let req = self.authed(self.http.post(endpoint), &mut form);
        let resp = req
            .form(&form)
            .send()
            .await
            .map_err(|e| CibaError::transport("ciba", &e))?;
        let status = resp.status().as_u16();
        let body = read_capped("ciba", resp, ANSWER_CAP).await?;
        refusal("ciba", status, &body)?;
        start::parse(status, &body)
    }

    /// One token request (CIBA Core §10.1). Transport failures are `Err`; every answer,
    /// including HTTP errors, becomes a `PollOutcome`.
    pub async fn poll(&self, id: &AuthReqId) -> Result<PollOutcome, CibaError> {
        let meta = self.discover().await?;
        let mut form = vec![
            ("grant_type", CIBA_GRANT.to_string()),
            ("auth_req_id", id.expose().to_string()),
        ];
        let req = self.authed(self.http.post(&meta.token_endpoint), &mut form);
        let resp = req
            .form(&form)
            .send()
            .await
            .map_err(|e| CibaError::transport("token", &e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_capped("token", resp, ANSWER_CAP).await?;
        Ok(poll::classify(status, retry_after.as_deref(), &body))
    }

    /// Signaturgruppen's cancel API: `DELETE {authority}/api/v1/ciba/{auth_req_id}`.
    pub async fn cancel(&self, id: &AuthReqId) -> Result<(), CibaError> {
        if self.cfg.dialect != Dialect::Signaturgruppen {
            return Err(CibaError::Unsupported("cancel"));
        }
        let segment: String =
            url::form_urlencoded::byte_serialize(id.expose().as_bytes()).collect();
        let url = format!(
            "{}/api/v1/ciba/{}",
            self.cfg.issuer,
            segment.replace('+', "%20")
        );
        let resp = self
            .http
            .delete(url)
            .send()
            .await
            .map_err(|e| CibaError::transport("cancel", &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        // A finished or unknown request cannot be cancelled; that is not an error for us.
        let body = read_capped("cancel", resp, ANSWER_CAP)
            .await
            .unwrap_or_default();
        match serde_json::from_slice::<OauthErrorBody>(&body) {
            Ok(e) if e.error == "invalid_grant" => Ok(()),
            Ok(e) => Err(CibaError::Oauth {
                endpoint: "cancel",
                status: status.as_u16(),
                code: e.error,
                description: e.error_description,
            }),
            Err(_) if status == reqwest::StatusCode::NOT_FOUND => Ok(()),
            Err(_) => Err(CibaError::Protocol {
                endpoint: "cancel",
                status: status.as_u16(),
                detail: "non-JSON error".into(),
            }),
        }
    }

    /// CIBA + PAR: turn a `broker_oidc` request into a browser URL (the QR code).
    pub async fn init_auth(&self, id: &AuthReqId) -> Result<ParResponse, CibaError> {
        if self.cfg.dialect != Dialect::Signaturgruppen {
            return Err(CibaError::Unsupported("CIBA + PAR"));
        }
        let url = format!("{}/api/ciba/broker-oidc/init-auth", self.cfg.issuer);
        let resp = self
            .http
            .post(url)
            .json(&serde_json::json!({ "requestId": id.expose() }))
            .send()
            .await
            .map_err(|e| CibaError::transport("init-auth", &e))?;
        let body: ParBody = read_json("init-auth", resp, ANSWER_CAP).await?;
        // The URL becomes a QR code and terminal text: only a well-formed http(s) URL, in
        // its serialized form (which percent-encodes anything unprintable).
        let uri = url::Url::parse(&body.authentication_uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.as_str().len() <= 2048)
            .ok_or_else(|| {
                CibaError::protocol("init-auth", 200, "authentication_uri is not an http(s) URL")
            })?;
        Ok(ParResponse {
            authentication_uri: uri.to_string(),
            expires_in: body.expires_in.unwrap_or(600),
        })
    }

    /// Validates the ID token (see `idtoken`) and maps it to a profile, completed from
    /// userinfo when the ID token lacks the name or the birthdate.
    pub async fn validate(
        &self,
        tokens: &TokenResponse,
        ciba_nonce: Option<&str>,
        nonce_mode: NonceMode,
        now: SystemTime,
    ) -> Result<Profile, CibaError> {
        let meta = self.discover().await?;
        let allowed = meta.allowed_algs();
        let (alg, kid) = idtoken::header(&tokens.id_token, &allowed)?;
        let expect = Expectations {
            issuer: &meta.issuer,
            client_id: &self.cfg.client_id,
            trusted_audiences: &[],
            allowed_algs: &allowed,
            signaturgruppen: self.cfg.dialect == Dialect::Signaturgruppen,
            ciba_nonce,
            nonce_mode,
            response_nonce: tokens.ciba_nonce.as_deref(),
            access_token: tokens.access_token.as_ref(),
            now,
        };
        let mut claims = self
            .jwks
            .with_key(
                kid.as_deref(),
                || self.fetch_jwks(),
                |found| {
                    let jwk = match found {
                        KeyLookup::Found(k) => Some(k),
                        KeyLookup::Missing => None,
                    };
                    idtoken::validate(&tokens.id_token, alg, jwk, &expect)
                },
            )
            .await??;
        let p = &claims.profile;
        if (p.display_name().is_none() || p.birth_date().is_none())
            && let Some(at) = &tokens.access_token
            && meta.userinfo_endpoint.is_some()
        {
            // The broker's ID tokens do not always carry every claim (issued-claims-tokens.md);
            // userinfo has them. Its `sub` must be the ID token's (OIDC Core §5.3.4).
            match self.userinfo(at).await {
                Ok(info) if Some(&info.sub) == claims.sub.as_ref() => {
                    claims.profile.complete_from(info.profile);
                }
                Ok(_) => tracing::warn!("userinfo answered for another sub; not used"),
                Err(e) => tracing::warn!(error = %e, "userinfo failed; profile left incomplete"),
            }
        }
        Ok(Profile::from_claims(&claims))
    }

    /// OIDC Core §5.3: the claims the access token grants.
    pub async fn userinfo(&self, at: &AccessToken) -> Result<UserinfoClaims, CibaError> {
        let meta = self.discover().await?;
        let endpoint = meta
            .userinfo_endpoint
            .as_deref()
            .ok_or(CibaError::Unsupported("userinfo"))?;
        let resp = self
            .http
            .get(endpoint)
            .bearer_auth(at.expose())
            .send()
            .await
            .map_err(|e| CibaError::transport("userinfo", &e))?;
        read_json("userinfo", resp, ANSWER_CAP).await
    }
}
