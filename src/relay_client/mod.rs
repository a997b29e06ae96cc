//! The box side of relay mode: a session `Backend` that asks the operator's relay (which
//! holds the broker's client secret) instead of the broker.
//!
//! The box proves who it is with its client certificate (mutual TLS). It trusts the relay
//! for nothing that signs a viewer in: the ID token it gets back is validated again here,
//! against the broker's own discovery and JWKS (OIDC Core §3.1.3.7), so a compromised relay
//! cannot sign anyone in without the broker's signature.

mod answer;
pub mod restart;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crate::ciba::{
    AuthReqId, CibaClient, CibaError, ClientConfig, LoginHint, NonceMode, ParResponse, PollOutcome,
    Profile, TokenResponse,
};
use crate::session::{Backend, Shown, Started};
use answer::{
    Answer, ENDPOINT, MAX_RETRY_AFTER_SECS, body, error_answer, from_result, retry_after,
    server_timing, wire_who,
};
use wire::{PollReply, StartReply, StartRequest, WireOutcome, WireWho};

/// Where the relay is and how this box proves itself.
#[derive(Clone, Debug)]
pub struct RelayClientConfig {
    /// One or more relay instances (`https://…`); a request that cannot connect to one is
    /// sent to the next.
    pub urls: Vec<String>,
    /// The box's certificate chain and private key (PEM), usually systemd credentials.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA that signed the relay's server certificate; `None` trusts the system's roots.
    pub ca: Option<PathBuf>,
    pub request_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayClientError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
    #[error("relay mode needs at least one https relay URL")]
    NoUrl,
}

/// One relay call as the box saw it: for fleet monitoring and the load benchmark.
#[derive(Clone, Copy, Debug)]
pub struct CallTiming {
    pub call: &'static str,
    /// From sending the request to the last byte of the answer.
    pub total: Duration,
    /// What the relay says it waited for the broker (`Server-Timing: broker;dur=…`).
    pub broker: Option<Duration>,
}

pub type Observer = std::sync::Arc<dyn Fn(CallTiming) + Send + Sync>;

pub struct RelayBackend {
    http: reqwest::Client,
    observer: Option<Observer>,
    urls: Vec<String>,
    /// The instance that answered last: try it first.
    preferred: AtomicUsize,
    /// Sign-ins that can start again after a relay crash, and how often that happened.
    restarts: restart::Restarts,
    repushed: AtomicU64,
    /// Starts sent on to another instance after theirs broke mid-request.
    resent: AtomicU64,
    /// Discovery and JWKS of the broker, for validation only. Its secret is empty and it
    /// never sends a request that would need one.
    broker: CibaClient,
}

fn read(path: &Path) -> Result<Vec<u8>, RelayClientError> {
    std::fs::read(path).map_err(|source| RelayClientError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl RelayBackend {
    /// `broker` is the broker's issuer and this operator's client_id (both public); its
    /// `client_secret` must be empty.
    pub fn new(cfg: &RelayClientConfig, broker: ClientConfig) -> Result<Self, RelayClientError> {
        let urls: Vec<String> = cfg
            .urls
            .iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .filter(|u| u.starts_with("https://"))
            .collect();
        if urls.is_empty() || urls.len() != cfg.urls.len() {
            return Err(RelayClientError::NoUrl);
        }
        let mut pem = read(&cfg.cert)?;
        pem.push(b'\n');
        pem.extend(read(&cfg.key)?);
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| RelayClientError::Tls(format!("box certificate or key: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .identity(identity)
            .connect_timeout(Duration::from_secs(3))
            .timeout(cfg.request_timeout)
            .user_agent(concat!("mitid-flex-tv/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca {
            let certs = reqwest::Certificate::from_pem_bundle(&read(ca)?)
                .map_err(|e| RelayClientError::Tls(format!("relay CA {}: {e}", ca.display())))?;
            builder = builder.tls_certs_only(certs);
        }
        let http = builder
            .build()
            .map_err(|e| RelayClientError::Tls(format!("HTTP client: {e}")))?;
        let broker =
            CibaClient::new(broker).map_err(|e| RelayClientError::Tls(format!("broker: {e}")))?;
        Ok(Self {
            http,
            observer: None,
            urls,
            preferred: AtomicUsize::new(0),
            restarts: restart::Restarts::default(),
            repushed: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            broker,
        })
    }

    /// Sends `build(base_url)` to the preferred instance, then to the next ones while the
    /// connection cannot be made. With `only_unsent` (a start, which pushes), a request that
    /// timed out is not repeated; one whose connection broke is, and counted in `resent`.
    async fn send(
        &self,
        only_unsent: bool,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CibaError> {
        let n = self.urls.len();
        let first = self.preferred.load(Ordering::Relaxed) % n;
        let mut last = None;
        for i in 0..n {
            let at = (first + i) % n;
            match build(&self.urls[at]).send().await {
                Ok(resp) => {
                    self.preferred.store(at, Ordering::Relaxed);
                    return Ok(resp);
                }
                Err(e) => {
                    tracing::warn!(relay = %self.urls[at], error = %e, "relay instance unreachable");
                    // A connection that broke without an answer (not a timeout: a slow
                    // relay may still be pushing) is an instance that died or restarted
                    // under the request. Sending it on may push once more: counted.
                    let broken = !e.is_connect() && !e.is_timeout() && i + 1 < n;
                    if only_unsent && broken {
                        self.resent.fetch_add(1, Ordering::Relaxed);
                    }
                    let retry = e.is_connect() || !only_unsent || broken;
                    last = Some(CibaError::transport(ENDPOINT, &e));
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last.unwrap_or(CibaError::Transport {
            endpoint: ENDPOINT,
            detail: "no relay instance".into(),
        }))
    }

    /// Sign-ins started again because their answer was lost in a relay crash: each one was
    /// one more push to the viewer's phone.
    pub fn repushed(&self) -> u64 {
        self.repushed.load(Ordering::Relaxed)
    }

    /// Starts (and restarts) sent on to another instance because the connection to the
    /// first broke mid-request: each may have pushed twice.
    pub fn resent(&self) -> u64 {
        self.resent.load(Ordering::Relaxed)
    }

    /// Starts `id` again after the relay said its answer died with an instance: the same
    /// viewer, and the relay gives the same reference text and code (checked here), so the
    /// TV's screen stays true. Pending on success; otherwise the viewer starts again.
    async fn restart(&self, id: &AuthReqId) -> PollOutcome {
        let Some(plan) = self.restarts.plan(id.expose()) else {
            return PollOutcome::InvalidGrant;
        };
        let req = StartRequest {
            who: plan.who,
            restart: Some(plan.current),
        };
        let answer = self
            .call("restart", true, |base| {
                self.http
                    .post(format!("{base}{}", wire::START_PATH))
                    .json(&req)
            })
            .await;
        let reply = match answer {
            Ok(a) if a.status == 201 => serde_json::from_slice::<StartReply>(&a.bytes).ok(),
            Ok(a) => {
                tracing::warn!(
                    status = a.status,
                    "relay refused to start a lost sign-in again"
                );
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "relay unreachable to start a lost sign-in again");
                return PollOutcome::Unavailable {
                    status: 502,
                    retry_after: None,
                };
            }
        };
        match reply {
            Some(r)
                if r.code == plan.code
                    && !r.handle.is_empty()
                    && r.handle.len() <= wire::MAX_HANDLE_LEN =>
            {
                self.restarts.restarted(id.expose(), r.handle);
                self.repushed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "a relay instance died holding this sign-in's answer; started again: one more push to the viewer's phone, same code"
                );
                PollOutcome::Pending
            }
            _ => {
                self.restarts.finished(id.expose());
                PollOutcome::InvalidGrant
            }
        }
    }

    /// Calls `f` after every relay call with its timing.
    pub fn with_observer(mut self, f: Observer) -> Self {
        self.observer = Some(f);
        self
    }

    /// Sends, reads the answer (capped), and reports the timing.
    async fn call(
        &self,
        call: &'static str,
        only_unsent: bool,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<Answer, CibaError> {
        let t0 = std::time::Instant::now();
        let resp = self.send(only_unsent, build).await?;
        let wait = retry_after(&resp);
        let broker = server_timing(&resp);
        let (status, bytes) = body(resp).await?;
        if let Some(f) = &self.observer {
            f(CallTiming {
                call,
                total: t0.elapsed(),
                broker,
            });
        }
        Ok(Answer {
            status,
            wait,
            bytes,
        })
    }

    fn url(base: &str, handle: &AuthReqId) -> String {
        format!("{base}{}/{}", wire::START_PATH, handle.expose())
    }
}

impl Backend for RelayBackend {
    async fn start(&self, hint: &LoginHint) -> Result<Started, CibaError> {
        let req = StartRequest {
            who: wire_who(hint),
            restart: None,
        };
        let Answer {
            status,
            wait,
            bytes,
        } = self
            .call("start", true, |base| {
                self.http
                    .post(format!("{base}{}", wire::START_PATH))
                    .json(&req)
            })
            .await?;
        if status != 201 {
            return Err(error_answer(status, wait, &bytes));
        }
        let r: StartReply = serde_json::from_slice(&bytes).map_err(|e| CibaError::Protocol {
            endpoint: ENDPOINT,
            status,
            detail: format!("unexpected JSON: {e}"),
        })?;
        if r.handle.is_empty() || r.handle.len() > wire::MAX_HANDLE_LEN || r.expires_in == 0 {
            return Err(CibaError::Protocol {
                endpoint: ENDPOINT,
                status,
                detail: "empty or oversized handle, or zero expires_in".into(),
            });
        }
        let qr = matches!(req.who, WireWho::Qr);
        let par = match (qr, r.authentication_uri) {
            (true, Some(uri)) => Some(ParResponse {
                authentication_uri: uri,
                expires_in: r.expires_in,
            }),
            (true, None) => {
                return Err(CibaError::Protocol {
                    endpoint: ENDPOINT,
                    status,
                    detail: "QR start without authentication_uri".into(),
                });
            }
            (false, _) => None,
        };
        if !qr {
            self.restarts.started(&r.handle, req.who.clone(), &r.code);
        }
        Ok(Started {
            auth_req_id: AuthReqId::new(r.handle),
            expires_in: r.expires_in,
            interval: Some(r.interval),
            shown: (!qr).then_some(Shown {
                reference_text: r.reference_text,
                code: r.code,
            }),
            par,
        })
    }

    async fn poll(&self, id: &AuthReqId) -> Result<PollOutcome, CibaError> {
        let current = AuthReqId::new(self.restarts.current(id.expose()));
        let Answer {
            status,
            wait,
            bytes,
        } = self
            .call("poll", false, |base| {
                self.http.get(Self::url(base, &current))
            })
            .await?;
        Ok(match status {
            200 => match serde_json::from_slice::<PollReply>(&bytes) {
                Ok(PollReply::Pending) => PollOutcome::Pending,
                Ok(PollReply::SlowDown) => PollOutcome::SlowDown,
                Ok(PollReply::Result(r)) if r.outcome == WireOutcome::LostInRelayCrash => {
                    self.restart(id).await
                }
                Ok(PollReply::Result(r)) => {
                    self.restarts.finished(id.expose());
                    from_result(r)
                }
                Err(_) => PollOutcome::Malformed { status },
            },
            // Sealed for another box, or by a key the relays no longer hold.
            404 => PollOutcome::InvalidGrant,
            429 | 500.. => PollOutcome::Unavailable {
                status,
                retry_after: wait.map(|s| Duration::from_secs(s.min(MAX_RETRY_AFTER_SECS))),
            },
            _ => match error_answer(status, wait, &bytes) {
                CibaError::Oauth {
                    code, description, ..
                } => PollOutcome::Refused { code, description },
                _ => PollOutcome::Malformed { status },
            },
        })
    }

    async fn cancel(&self, id: &AuthReqId) -> Result<(), CibaError> {
        let current = AuthReqId::new(self.restarts.current(id.expose()));
        self.restarts.finished(id.expose());
        let Answer {
            status,
            wait,
            bytes,
        } = self
            .call("cancel", false, |base| {
                self.http.delete(Self::url(base, &current))
            })
            .await?;
        match status {
            200..=299 | 404 => Ok(()),
            _ => Err(error_answer(status, wait, &bytes)),
        }
    }

    async fn init_auth(&self, _id: &AuthReqId) -> Result<ParResponse, CibaError> {
        // The relay answers a QR start with its URL already (see `start`).
        Err(CibaError::Unsupported("init-auth through a relay"))
    }

    /// The relay checked the `ciba_nonce` it sent; the box never saw it, so it checks
    /// everything else again: the broker's signature, issuer, audience, times, at_hash.
    async fn validate(
        &self,
        tokens: &TokenResponse,
        _ciba_nonce: Option<&str>,
        _nonce_mode: NonceMode,
    ) -> Result<Profile, CibaError> {
        // The relay sent the hint and checked its nonce against the broker's answer; the box
        // re-checks everything the broker signed, which is what a compromised relay cannot forge.
        self.broker
            .validate(tokens, None, NonceMode::Off, SystemTime::now())
            .await
    }

    fn can_cancel(&self) -> bool {
        true
    }
}
