//! The seam between the sign-in journey and the broker. The session only sees this
//! trait, so a relay backend (the box asks its operator's server, which holds the client
//! secret) can replace the direct CIBA client without touching the UI.
//!
//! Errors are typed (`CibaError`), and the session decides from their variant whose problem
//! it is (`CibaError::is_network`, `IdToken`, `BadStart`…), so a backend must map its own
//! failures onto the variant that tells the truth: a relay that cannot reach its server
//! returns `Transport`, not `Protocol`.

use std::future::Future;
use std::time::SystemTime;

use crate::ciba::{
    AuthReqId, CibaClient, CibaError, Dialect, LoginHint, NonceMode, ParResponse, PollOutcome,
    Profile, StartResponse, TokenResponse,
};

/// A request the OP accepted, as the session sees it.
#[derive(Debug)]
pub struct Started {
    pub auth_req_id: AuthReqId,
    pub expires_in: u64,
    /// Absent means the CIBA Core default of 5 s.
    pub interval: Option<u64>,
    /// Set when the backend wrote the reference text and code itself (a relay does, so that
    /// a box cannot choose what the viewer's phone shows); the session then shows these.
    pub shown: Option<Shown>,
    /// Set when the backend already turned a QR request into its URL (CIBA + PAR).
    pub par: Option<ParResponse>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub reference_text: String,
    pub code: String,
}

impl From<StartResponse> for Started {
    fn from(s: StartResponse) -> Self {
        Started {
            auth_req_id: s.auth_req_id,
            expires_in: s.expires_in,
            interval: s.interval,
            shown: None,
            par: None,
        }
    }
}

pub trait Backend: Send + Sync + 'static {
    fn start(&self, hint: &LoginHint) -> impl Future<Output = Result<Started, CibaError>> + Send;
    fn poll(&self, id: &AuthReqId) -> impl Future<Output = Result<PollOutcome, CibaError>> + Send;
    fn cancel(&self, id: &AuthReqId) -> impl Future<Output = Result<(), CibaError>> + Send;
    fn init_auth(
        &self,
        id: &AuthReqId,
    ) -> impl Future<Output = Result<ParResponse, CibaError>> + Send;
    /// `ciba_nonce` is what was sent (if anything); `nonce_mode` how its echo is checked.
    fn validate(
        &self,
        tokens: &TokenResponse,
        ciba_nonce: Option<&str>,
        nonce_mode: NonceMode,
    ) -> impl Future<Output = Result<Profile, CibaError>> + Send;
    /// Whether the OP has a cancel endpoint (CIBA Core has none).
    fn can_cancel(&self) -> bool;
}

impl Backend for CibaClient {
    async fn start(&self, hint: &LoginHint) -> Result<Started, CibaError> {
        CibaClient::start(self, hint).await.map(Started::from)
    }
    async fn poll(&self, id: &AuthReqId) -> Result<PollOutcome, CibaError> {
        CibaClient::poll(self, id).await
    }
    async fn cancel(&self, id: &AuthReqId) -> Result<(), CibaError> {
        CibaClient::cancel(self, id).await
    }
    async fn init_auth(&self, id: &AuthReqId) -> Result<ParResponse, CibaError> {
        CibaClient::init_auth(self, id).await
    }
    async fn validate(
        &self,
        tokens: &TokenResponse,
        ciba_nonce: Option<&str>,
        nonce_mode: NonceMode,
    ) -> Result<Profile, CibaError> {
        CibaClient::validate(self, tokens, ciba_nonce, nonce_mode, SystemTime::now()).await
    }
    fn can_cancel(&self) -> bool {
        self.config().dialect == Dialect::Signaturgruppen
    }
}
