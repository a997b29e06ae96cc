//! Config → what a sign-in needs: the backend, the session settings and, when the profile asks
//! for it, the embedded simulator. The TV app, `signin` and `check` all build here, so that
//! every front end talks to the broker the same way.
//!
//! Nothing here blocks an async worker: the one name lookup (the box's address towards the OP)
//! runs on the blocking pool.

mod backend;
mod problem;
pub mod tv;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

pub use backend::AnyBackend;
pub use problem::{ConfigProblem, load};

use crate::ciba::{CibaClient, CibaError};
use crate::config::{BindingMessage, Settings};
use crate::lang::Lang;
use crate::relay_client::{RelayBackend, RelayClientError};
use crate::session::{SessionSettings, WaitPolicy};
#[cfg(feature = "sim")]
use crate::sim::SimHandle;

/// Everything a sign-in needs, ready. The embedded simulator lives as long as this does.
pub struct Wired {
    pub backend: Arc<AnyBackend>,
    pub session: SessionSettings,
    pub issuer: String,
    #[cfg(feature = "sim")]
    simulator: Option<SimHandle>,
}

impl Wired {
    /// The embedded simulator's phone page, when it runs.
    pub fn phone_url(&self) -> Option<String> {
        #[cfg(feature = "sim")]
        if let Some(sim) = &self.simulator {
            return Some(sim.phone_url());
        }
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("cannot start the embedded simulator: {0}")]
    Simulator(String),
    #[error(
        "this build has no embedded simulator: set issuer to a running mitid-flex-sim (e.g. issuer = \"http://127.0.0.1:8787/op\") or choose a broker profile"
    )]
    NoSimulator,
    #[error("{0}")]
    Client(#[from] CibaError),
    #[error("relay: {0}")]
    Relay(RelayClientError),
    #[error("setting up the session: {0}")]
    Join(String),
}

/// The one tokio runtime of a process: two workers for HTTP, the simulator, the viewer store
/// and the hand-off. The UI thread is not one of them.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mitid-io")
        .enable_all()
        .build()
}

/// The language of every viewer- and operator-facing text of this process.
pub fn language(settings: &Settings) -> Lang {
    Lang::from_env(settings.language.as_deref())
}

/// Starts the simulator if the settings ask for one, then builds the client and the session
/// settings. `approve_after`: the embedded simulator approves every request after this long.
pub async fn connect(
    settings: &Settings,
    approve_after: Option<Duration>,
) -> Result<Wired, WiringError> {
    #[cfg(feature = "sim")]
    let (issuer, simulator) = match &settings.issuer {
        Some(i) => (i.clone(), None),
        None => {
            let handle = crate::sim::start_embedded(approve_after)
                .await
                .map_err(|e| WiringError::Simulator(e.to_string()))?;
            (handle.authority(), Some(handle))
        }
    };
    #[cfg(not(feature = "sim"))]
    let issuer = {
        // Only the embedded simulator approves by itself.
        let _ = approve_after;
        settings.issuer.clone().ok_or(WiringError::NoSimulator)?
    };
    // Loads the TLS roots (and, for a relay, the box's certificate): off the UI thread,
    // after the first frame.
    let backend = match &settings.relay {
        Some(relay) => AnyBackend::Relay(
            RelayBackend::new(relay, settings.client_config(&issuer))
                .map_err(WiringError::Relay)?,
        ),
        None => AnyBackend::Direct(CibaClient::new(settings.client_config(&issuer))?),
    };
    let s = settings.clone();
    let i = issuer.clone();
    let session = tokio::task::spawn_blocking(move || session_settings(&s, &i))
        .await
        .map_err(|e| WiringError::Join(e.to_string()))?;
    Ok(Wired {
        backend: Arc::new(backend),
        session,
        issuer,
        #[cfg(feature = "sim")]
        simulator,
    })
}

/// May resolve the issuer's name (`client_ip = "auto"`): call it on the blocking pool.
pub fn session_settings(settings: &Settings, issuer: &str) -> SessionSettings {
    SessionSettings {
        service_name: settings.service_name.clone(),
        reference_template: settings.reference_template.clone(),
        action: settings.action,
        client_ip: settings
            .client_ip
            .unwrap_or_else(|| local_ip_towards(issuer)),
        ciba_nonce: settings.ciba_nonce,
        binding_message_is_code: settings.binding_message == BindingMessage::Code,
        policy: WaitPolicy::default(),
    }
}

/// The address this box uses towards the OP (no packet is sent: a UDP connect only picks
/// the route). The broker wants the viewer's IP for its risk data.
pub fn local_ip_towards(issuer: &str) -> IpAddr {
    let fallback = IpAddr::from([127, 0, 0, 1]);
    let Ok(url) = url::Url::parse(issuer) else {
        return fallback;
    };
    let Some(host) = url.host_str() else {
        return fallback;
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let target = std::net::ToSocketAddrs::to_socket_addrs(&(host.trim_matches(['[', ']']), port))
        .ok()
        .and_then(|mut a| a.next());
    let Some(target) = target else {
        return fallback;
    };
    let bind: std::net::SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    std::net::UdpSocket::bind(bind)
        .and_then(|s| s.connect(target).and_then(|_| s.local_addr()))
        .map(|a| a.ip())
        .unwrap_or(fallback)
}
