//! `mitid-flex-relay`: the operator's service between a fleet of boxes and the broker.
//!
//! It holds the broker's client secret, knows each box by its client certificate, limits
//! how often any box or viewer can be pushed (draft-ietf-oauth-cross-device-security), and
//! tells the operator's backend who signed in. Instances share nothing but a key (handles
//! are sealed, see `seal`) and, optionally, Redis (limits), so they scale out behind any
//! TCP load balancer.

pub mod api;
pub mod config;
pub mod limits;
pub mod metrics;
pub mod outbox;
mod poll;
pub mod results;
pub mod seal;
pub mod tls;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::Extension;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_rustls::TlsAcceptor;

use crate::ciba::CibaClient;
use crate::session::SessionSettings;
use api::Peer;
use config::RelayConfig;
use limits::{Limiter, RedisBuckets};
use metrics::Metrics;
use results::ResultCache;
use seal::Sealer;
use tls::DenyList;
use webhook::Webhook;

/// A TLS handshake that takes longer than this is dropped (slow-loris).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests may finish after SIGTERM.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a handler needs; shared by all connections of an instance.
pub struct Relay {
    pub broker: CibaClient,
    /// Template, service name, action, nonce rule; `client_ip` is set per request.
    pub session: SessionSettings,
    pub sealer: Sealer,
    pub limiter: Limiter,
    pub deny: DenyList,
    pub webhook: Option<Arc<Webhook>>,
    pub metrics: Arc<Metrics>,
    /// With Redis: results kept for a box whose instance died before answering.
    pub results: Option<ResultCache>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Config(#[from] config::RelayConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Setup(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Relay {
    pub async fn build(cfg: &RelayConfig) -> Result<Self, RelayError> {
        let issuer = cfg.broker.issuer.clone().unwrap_or_default();
        let broker = CibaClient::new(cfg.broker.client_config(&issuer))
            .map_err(|e| RelayError::Setup(format!("broker client: {e}")))?;
        let metrics = Arc::new(Metrics::default());
        let redis = match &cfg.file.redis_url {
            Some(url) => Some(
                limits::connect(url)
                    .await
                    .map_err(|e| RelayError::Setup(format!("redis: {e}")))?,
            ),
            None => None,
        };
        let webhook = match (&cfg.file.webhook, &cfg.webhook_key) {
            (Some(w), Some(key)) => Some(Arc::new(
                Webhook::new(
                    w.url.clone(),
                    key,
                    w.max_attempts,
                    cfg.webhook_timeout(),
                    metrics.clone(),
                )
                .map_err(|e| RelayError::Setup(format!("webhook client: {e}")))?,
            )),
            _ => None,
        };
        Ok(Self {
            broker,
            session: crate::wiring::session_settings(&cfg.broker, &issuer),
            sealer: Sealer::new(&cfg.seal_key)
                .map_err(|e| RelayError::Setup(format!("seal key: {e}")))?,
            limiter: Limiter::new(cfg.file.limits, redis.clone().map(RedisBuckets::new)),
            deny: DenyList::load(cfg.file.deny_list.clone())?,
            webhook,
            metrics,
            results: redis.map(ResultCache::new),
        })
    }
}

/// Serves until SIGTERM or SIGINT, then lets in-flight requests finish. SIGHUP reloads the
/// deny list.
pub async fn run(cfg: RelayConfig) -> Result<(), RelayError> {
    let tls = tls::server_config(&cfg.file.tls_cert, &cfg.tls_key, &cfg.file.client_ca)?;
    let relay = Arc::new(Relay::build(&cfg).await?);
    // Discovery now, so a wrong issuer shows at start and not at the first viewer.
    if let Err(e) = relay.broker.discover().await {
        tracing::warn!(error = %e, "broker discovery failed; retrying on first use");
    }
    let listener =
        TcpListener::bind(cfg.file.listen)
            .await
            .map_err(|source| RelayError::Listen {
                addr: cfg.file.listen,
                source,
            })?;
    if let Some(addr) = cfg.file.metrics_listen {
        let ops = TcpListener::bind(addr)
            .await
            .map_err(|source| RelayError::Listen { addr, source })?;
        let app = api::ops_router(relay.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(ops, app).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    if let Some(cache) = &relay.results {
        // Alive before the first poll: other instances must not think its tickets orphaned.
        if let Err(e) = cache.heartbeat().await {
            tracing::warn!(error = %e, "redis: first heartbeat failed");
        }
        tokio::spawn(background(relay.clone()));
    }
    let hup_relay = relay.clone();
    let mut hup = signal(SignalKind::hangup()).map_err(|e| RelayError::Setup(e.to_string()))?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match hup_relay.deny.reload() {
                Ok(n) => tracing::info!(denied = n, "deny list reloaded"),
                Err(e) => tracing::error!(error = %e, "deny list not reloaded; the old one stays"),
            }
        }
    });
    tracing::info!(
        listen = %cfg.file.listen,
        shared_limits = cfg.file.redis_url.is_some(),
        "mitid-flex-relay serving"
    );
    serve(listener, TlsAcceptor::from(tls), relay).await
}

async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    relay: Arc<Relay>,
) -> Result<(), RelayError> {
    let mut term = signal(SignalKind::terminate()).map_err(|e| RelayError::Setup(e.to_string()))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| RelayError::Setup(e.to_string()))?;
    let graceful = GracefulShutdown::new();
    let app = api::box_router(relay.clone());
    loop {
        let (tcp, addr) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let relay = relay.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    relay.metrics.handshake_failures.fetch_add(1, Relaxed);
                    tracing::info!(peer = %addr, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    relay.metrics.handshake_failures.fetch_add(1, Relaxed);
                    return;
                }
            };
            let box_id = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(tls::box_id);
            let Some(box_id) = box_id else {
                relay.metrics.handshake_failures.fetch_add(1, Relaxed);
                tracing::warn!(peer = %addr, "client certificate without a usable common name");
                return;
            };
            let peer = Peer {
                box_id: box_id.into(),
                ip: addr.ip(),
            };
            let service = TowerToHyperService::new(app.layer(Extension(peer)));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    tracing::info!("stopping: no new connections; letting requests finish");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still busy after {DRAIN_TIMEOUT:?}");
    }
    if let Some(webhook) = &relay.webhook
        && !webhook.drain(DRAIN_TIMEOUT).await
    {
        tracing::error!("webhook deliveries still pending at shutdown were dropped");
    }
    if let Some(cache) = &relay.results {
        // Whatever is still ours in the outbox is delivered by another instance now.
        cache.retire().await;
    }
    Ok(())
}

/// With Redis: the heartbeat that tells other instances this one is alive, and the sweep
/// that delivers webhooks orphaned by a dead instance.
async fn background(relay: Arc<Relay>) {
    let Some(cache) = &relay.results else {
        return;
    };
    let mut beat = tokio::time::interval(results::HEARTBEAT);
    let mut sweep = tokio::time::interval(outbox::SWEEP);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = beat.tick() => {
                let ok = cache.heartbeat().await;
                if let Err(e) = &ok && !failing {
                    tracing::warn!(error = %e, "redis: heartbeat failed");
                }
                failing = ok.is_err();
            }
            _ = sweep.tick() => {
                if let Some(webhook) = &relay.webhook {
                    outbox::sweep(cache, &relay.sealer, webhook, &relay.metrics).await;
                }
            }
        }
    }
}
