//! The HTTP side of CIBA: discovery, start, poll, cancel, QR init and token validation.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::discovery::{CIBA_GRANT, JwksCache, KeyLookup, ProviderMetadata};
use super::error::CibaError;
use super::hint::{HintEncoding, LoginHint};
use super::idtoken::{self, Expectations};
use super::poll::{self, PollOutcome, TokenResponse};
use super::profile::Profile;
use super::secret::{AuthReqId, ClientSecret};

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

#[derive(Debug)]
pub struct StartResponse {
    pub auth_req_id: AuthReqId,
    pub expires_in: u64,
    /// Absent means the CIBA Core default of 5 s.
    pub interval: Option<u64>,
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
struct StartBody {
    auth_req_id: String,
    expires_in: u64,
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct OauthErrorBody {
    error: String,
    error_description: Option<String>,
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
                let meta: ProviderMetadata = read_json("discovery", resp).await?;
                meta.check(&self.cfg.issuer)?;
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
        read_json("jwks", resp).await
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
        let body: StartBody = read_json("ciba", resp).await?;
        if body.auth_req_id.is_empty() || body.expires_in == 0 {
            return Err(CibaError::Protocol {
                endpoint: "ciba",
                status: 200,
                detail: "empty auth_req_id or zero expires_in".into(),
            });
        }
        Ok(StartResponse {
            auth_req_id: AuthReqId::new(body.auth_req_id),
            expires_in: body.expires_in,
            interval: body.interval,
        })
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
        let body = resp
            .bytes()
            .await
            .map_err(|e| CibaError::transport("token", &e))?;
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
        let body = resp.bytes().await.unwrap_or_default();
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
        let body: ParBody = read_json("init-auth", resp).await?;
        Ok(ParResponse {
            authentication_uri: body.authentication_uri,
            expires_in: body.expires_in.unwrap_or(600),
        })
    }

    /// Validates the ID token (see `idtoken`) and maps it to a profile.
    pub async fn validate(
        &self,
        tokens: &TokenResponse,
        ciba_nonce: Option<&str>,
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
            access_token: tokens.access_token.as_ref(),
            now,
        };
        let claims = self
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
        Ok(Profile::from_claims(&claims))
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    resp: reqwest::Response,
) -> Result<T, CibaError> {
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| CibaError::transport(endpoint, &e))?;
    if let Ok(err) = serde_json::from_slice::<OauthErrorBody>(&body) {
        return Err(CibaError::Oauth {
            endpoint,
            status,
            code: err.error,
            description: err.error_description,
        });
    }
    if !(200..300).contains(&status) {
        return Err(CibaError::Protocol {
            endpoint,
            status,
            detail: "error status without an OAuth error body".into(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| CibaError::Protocol {
        endpoint,
        status,
        detail: format!("unexpected JSON: {e}"),
    })
}
