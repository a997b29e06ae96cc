//! The seam between the sign-in journey and the broker. The session only sees this
//! trait, so a relay backend (the box asks its operator's server, which holds the client
//! secret) can replace the direct CIBA client without touching the UI.

use std::future::Future;
use std::time::SystemTime;

use crate::ciba::{
    AuthReqId, CibaClient, CibaError, Dialect, LoginHint, ParResponse, PollOutcome, Profile,
    StartResponse, TokenResponse,
};

pub trait Backend: Send + Sync + 'static {
    fn start(
        &self,
        hint: &LoginHint,
    ) -> impl Future<Output = Result<StartResponse, CibaError>> + Send;
    fn poll(&self, id: &AuthReqId) -> impl Future<Output = Result<PollOutcome, CibaError>> + Send;
    fn cancel(&self, id: &AuthReqId) -> impl Future<Output = Result<(), CibaError>> + Send;
    fn init_auth(
        &self,
        id: &AuthReqId,
    ) -> impl Future<Output = Result<ParResponse, CibaError>> + Send;
    fn validate(
        &self,
        tokens: &TokenResponse,
        ciba_nonce: Option<&str>,
    ) -> impl Future<Output = Result<Profile, CibaError>> + Send;
    /// Whether the OP has a cancel endpoint (CIBA Core has none).
    fn can_cancel(&self) -> bool;
}

impl Backend for CibaClient {
    async fn start(&self, hint: &LoginHint) -> Result<StartResponse, CibaError> {
        CibaClient::start(self, hint).await
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
    ) -> Result<Profile, CibaError> {
        CibaClient::validate(self, tokens, ciba_nonce, SystemTime::now()).await
    }
    fn can_cancel(&self) -> bool {
        self.config().dialect == Dialect::Signaturgruppen
    }
}
