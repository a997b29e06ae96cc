//! `mitid-flex-sim`: an offline stand-in for Signaturgruppen's broker (MitID Flex app over
//! OpenID Connect CIBA, and the CIBA + PAR "QR" flow), faithful to the reference documents.
//!
//! It shares no code with the client side (`ciba`, `session`, `ui`) on purpose: the client is
//! tested against an independent reading of the broker's contract.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mitid_flex_tv::sim::SimError> {
//! use mitid_flex_tv::sim::{self, SimOptions};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(sim::SimError::bind)?;
//! let sim = sim::serve(listener, SimOptions::default()).await?;
//! println!("authority {} phone {}", sim.authority(), sim.phone_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod errors;
pub mod faults;
pub mod hint;
mod html;
pub mod identities;
mod info;
pub mod keys;
pub mod options;
mod routes_oidc;
mod routes_par;
mod routes_phone;
mod shared;
pub mod state;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use faults::{Endpoint, FaultRequest, Faults};
pub use identities::{
    IdentitiesFile, Identity, PP_DEMO_CLIENT_ID, PP_DEMO_CLIENT_SECRET, SimClient,
};
pub use keys::SigningKey;
pub use options::{NonceEcho, SimOptions, TokenShape};
pub use state::{HintKind, RequestInfo, RequestStatus};
pub use tokens::{WRONG_AUDIENCE, WRONG_ISSUER};

use shared::Shared;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key: {0}")]
    Key(String),
    #[error("identities file: {0}")]
    Identities(String),
    #[error("invalid option: {0}")]
    Options(String),
    #[error("{0}")]
    Decision(String),
}

impl SimError {
    /// For `TcpListener::bind(..).await.map_err(SimError::bind)`.
    pub fn bind(source: std::io::Error) -> Self {
        Self::Io {
            what: "binding the listener".into(),
            source,
        }
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The simulator the app embeds when no broker is configured: loopback only, an ephemeral
/// port, and its signing key kept in the app's data dir so the kid survives restarts.
pub async fn start_embedded(
    approve_after: Option<std::time::Duration>,
) -> Result<SimHandle, SimError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(SimError::bind)?;
    let options = SimOptions {
        auto_approve_after: approve_after,
        data_dir: crate::fsutil::project_dirs().map(|d| d.data_dir().join("simulator")),
        ..SimOptions::default()
    };
    serve(listener, options).await
}

/// Starts the simulator on `listener` as a task of the current tokio runtime.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: SimOptions,
) -> Result<SimHandle, SimError> {
    let addr = listener.local_addr().map_err(SimError::bind)?;
    if options.identities.is_empty() {
        return Err(SimError::Options("at least one identity is needed".into()));
    }
    let key = match (&options.signing_key, &options.data_dir) {
        (Some(key), _) => key.clone(),
        (None, Some(dir)) => {
            let dir = dir.clone();
            Arc::new(run_blocking(move || SigningKey::load_or_create(&dir)).await?)
        }
        (None, None) => Arc::new(run_blocking(SigningKey::generate).await?),
    };
    let shared = Arc::new(Shared::new(addr, options, key.clone()));
    let app = routes(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "simulator server stopped with an error");
        }
    });
    tracing::info!(authority = %shared.issuer, kid = %key.kid(), "broker simulator listening");
    Ok(SimHandle {
        addr,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    })
}

pub(crate) async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SimError> + Send + 'static,
) -> Result<T, SimError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SimError::Key(format!("key task failed: {e}")))?
}

fn routes(shared: Arc<Shared>) -> axum::Router {
    routes_oidc::router()
        .merge(routes_par::router())
        .merge(routes_phone::router())
        .with_state(shared)
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT` (an unspecified listen address is shown as loopback).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }
    /// `http://127.0.0.1:PORT/op`, the issuer.
    pub fn authority(&self) -> String {
        self.shared.issuer.clone()
    }
    /// The simulated MitID app, under the public base URL if one was set.
    pub fn phone_url(&self) -> String {
        self.shared.phone_url.clone()
    }
    /// The kid tokens are currently signed with.
    pub fn kid(&self) -> String {
        self.shared.active_kid()
    }
    /// Same as `GET /_sim/requests`.
    pub fn requests(&self) -> Vec<RequestInfo> {
        self.shared.requests().list()
    }
    /// Same as `GET /_sim/pushes`: requests pushed to each identity, by user ID.
    pub fn pushes(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.requests().pushes()
    }
    pub fn request(&self, auth_req_id: &str) -> Option<RequestInfo> {
        self.shared.requests().info(auth_req_id)
    }
    /// Same as `POST /_sim/approve/{id}`; `user_id` binds an unbound QR request.
    pub fn approve(&self, auth_req_id: &str, user_id: Option<&str>) -> Result<(), SimError> {
        self.shared
            .decide(auth_req_id, true, user_id)
            .map_err(|e| SimError::Decision(e.to_string()))
    }
    /// Same as `POST /_sim/reject/{id}`.
    pub fn reject(&self, auth_req_id: &str) -> Result<(), SimError> {
        self.shared
            .decide(auth_req_id, false, None)
            .map_err(|e| SimError::Decision(e.to_string()))
    }
    /// Replaces the run-wide faults (`Faults::default()` clears them).
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults() = faults;
    }
    /// Attaches faults to one request; they win over the run-wide ones while they last.
    pub fn set_request_faults(&self, auth_req_id: &str, faults: Faults) -> Result<(), SimError> {
        self.shared
            .set_request_faults(auth_req_id, faults)
            .map_err(|e| SimError::Decision(e.to_string()))
    }
    /// Rotates to a new signing key now; the JWKS publishes old and new keys.
    pub async fn rotate_key(&self) -> Result<String, SimError> {
        self.shared.rotate_key().await
    }

    /// Stops accepting connections and waits (at most five seconds) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Idle keep-alive connections would hold a graceful shutdown open; without an async
        // context to wait in, end the server task outright.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
