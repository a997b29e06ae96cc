//! The backend a session runs against. An enum rather than a trait object: `Backend`'s
//! methods return `impl Future`, and each new way to reach the broker (a relay that holds the
//! client secret) is one more variant here.

use crate::ciba::{
    AuthReqId, CibaClient, CibaError, LoginHint, NonceMode, ParResponse, PollOutcome, Profile,
    TokenResponse,
};
use crate::relay_client::RelayBackend;
use crate::session::{Backend, Started};

pub enum AnyBackend {
    /// This box talks to the broker itself, with its own client credentials.
    Direct(CibaClient),
    /// This box asks the operator's relay, which holds the client secret; it checks the ID
    /// token against the broker itself.
    Relay(RelayBackend),
}

impl AnyBackend {
    /// The broker client, when this box talks to the broker itself (`check`, discovery).
    pub fn direct(&self) -> Option<&CibaClient> {
        match self {
            AnyBackend::Direct(c) => Some(c),
            AnyBackend::Relay(_) => None,
        }
    }
}

impl Backend for AnyBackend {
    async fn start(&self, hint: &LoginHint) -> Result<Started, CibaError> {
        match self {
            AnyBackend::Direct(c) => Backend::start(c, hint).await,
            AnyBackend::Relay(r) => Backend::start(r, hint).await,
        }
    }
    async fn poll(&self, id: &AuthReqId) -> Result<PollOutcome, CibaError> {
        match self {
            AnyBackend::Direct(c) => Backend::poll(c, id).await,
            AnyBackend::Relay(r) => Backend::poll(r, id).await,
        }
    }
    async fn cancel(&self, id: &AuthReqId) -> Result<(), CibaError> {
        match self {
            AnyBackend::Direct(c) => Backend::cancel(c, id).await,
            AnyBackend::Relay(r) => Backend::cancel(r, id).await,
        }
    }
    async fn init_auth(&self, id: &AuthReqId) -> Result<ParResponse, CibaError> {
        match self {
            AnyBackend::Direct(c) => Backend::init_auth(c, id).await,
            AnyBackend::Relay(r) => Backend::init_auth(r, id).await,
        }
    }
    async fn validate(
        &self,
        tokens: &TokenResponse,
        ciba_nonce: Option<&str>,
        nonce_mode: NonceMode,
    ) -> Result<Profile, CibaError> {
        match self {
            AnyBackend::Direct(c) => Backend::validate(c, tokens, ciba_nonce, nonce_mode).await,
            AnyBackend::Relay(r) => Backend::validate(r, tokens, ciba_nonce, nonce_mode).await,
        }
    }
    fn can_cancel(&self) -> bool {
        match self {
            AnyBackend::Direct(c) => Backend::can_cancel(c),
            AnyBackend::Relay(r) => Backend::can_cancel(r),
        }
    }
}
