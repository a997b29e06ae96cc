//! The box-facing API (`/v1/…`, see `relay_client::wire`) and the operator's `/metrics` and
//! `/healthz`. Every handler is stateless: what a poll needs travels in the sealed handle.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::Relay;
use super::seal::Sealed;
use crate::ciba::{CibaError, FlexSubject};
use crate::config::IdentifierKind;
use crate::relay_client::wire::{
    ErrorBody, ResultBody, StartReply, StartRequest, WireOutcome, WireWho, codes,
};
use crate::sanitize::clean;
use crate::session::{self, Who, code};

/// Who is calling: set per connection from the verified client certificate.
#[derive(Clone, Debug)]
pub struct Peer {
    pub box_id: Arc<str>,
    pub ip: IpAddr,
}

pub fn box_router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route("/v1/signins", post(start))
        .route(
            "/v1/signins/{handle}",
            get(super::poll::poll).delete(cancel),
        )
        .layer(DefaultBodyLimit::max(4096))
        .with_state(relay)
}

pub fn ops_router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(relay)
}

async fn metrics(State(r): State<Arc<Relay>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        r.metrics.render(),
    )
        .into_response()
}

pub(super) fn error(status: StatusCode, code: &str, description: Option<String>) -> Response {
    let body = ErrorBody {
        error: code.to_string(),
        error_description: description,
        retry_after: None,
    };
    (status, Json(body)).into_response()
}

/// `Server-Timing` (W3C Server Timing §3) with the time spent waiting for the broker, so a
/// box (or the load test) can tell the relay's own share of a request's latency.
pub(super) fn timed(mut resp: Response, broker: Duration) -> Response {
    let value = format!("broker;dur={:.3}", broker.as_secs_f64() * 1000.0);
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

pub(super) fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One journal line per start and per outcome: box, keyed hash of the viewer, outcome,
/// latency. Never a CPR number, a uuid, a handle or a token.
pub(super) fn audit(event: &str, box_id: &str, subject: &str, outcome: &str, latency: Duration) {
    let subject = if subject.is_empty() { "-" } else { subject };
    tracing::info!(
        target: "mitid_flex_tv::relay::audit",
        event,
        box_id,
        subject,
        outcome,
        latency_ms = ms(latency),
        "audit"
    );
}

fn denied(r: &Relay, peer: &Peer) -> Option<Response> {
    if !r.deny.is_denied(&peer.box_id) {
        return None;
    }
    r.metrics.denied_boxes.fetch_add(1, Relaxed);
    tracing::warn!(box_id = %peer.box_id, "request from a denied box refused");
    Some(error(StatusCode::FORBIDDEN, codes::DENIED_BOX, None))
}

/// The session's `Who`, the metrics kind and the viewer's keyed hash (none for QR).
fn parse_who(r: &Relay, who: WireWho) -> Result<(Who, &'static str, String), String> {
    let (kind, input, label) = match &who {
        WireWho::Uuid(u) => (IdentifierKind::Uuid, u.as_str(), "uuid"),
        WireWho::Cpr(c) => (IdentifierKind::Cpr, c.as_str(), "cpr"),
        WireWho::UserId(u) => (IdentifierKind::UserId, u.as_str(), "user_id"),
        WireWho::Qr => return Ok((Who::Qr, "qr", String::new())),
    };
    let parsed = crate::identifier::parse(kind, input).map_err(|e| e.to_string())?;
    let key = match &parsed {
        Who::Flex(FlexSubject::Uuid(u)) => u.clone(),
        Who::Flex(FlexSubject::Cpr(c)) => c.expose().to_string(),
        Who::UserId(u) => u.clone(),
        Who::Qr => String::new(),
    };
    // uuid and CPR name the same people: one bucket per person would need the broker's
    // mapping, so each form has its own (documented in the operator's guide).
    Ok((parsed, label, r.sealer.subject_tag(label, &key)))
}

/// A broker failure at start: its OAuth codes pass through (a box shows `unknown_user_id`
/// as such), anything else is the service's trouble.
fn broker_error(e: &CibaError) -> Response {
    match e {
        CibaError::Oauth {
            status,
            code,
            description,
            ..
        } if *status < 500 => error(
            StatusCode::BAD_REQUEST,
            &clean(code),
            description.as_deref().map(clean),
        ),
        CibaError::InvalidInput(d) => {
            error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, Some(clean(d)))
        }
        _ => {
            tracing::warn!(error = %e, "broker call failed");
            error(StatusCode::BAD_GATEWAY, codes::BROKER_UNAVAILABLE, None)
        }
    }
}

async fn start(
    State(r): State<Arc<Relay>>,
    Extension(peer): Extension<Peer>,
    body: Bytes,
) -> Response {
    let t0 = Instant::now();
    if let Some(refused) = denied(&r, &peer) {
        return refused;
    }
    let Ok(req) = serde_json::from_slice::<StartRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, None);
    };
    let (who, kind, subject) = match parse_who(&r, req.who) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, Some(e)),
    };
    let is_qr = matches!(who, Who::Qr);
    // A restart after a relay crash: the same viewer, text and code as the lost sign-in.
    let again = match req.restart.as_deref().map(|h| open_handle(&r, &peer, h)) {
        None => None,
        Some(Err(refused)) => return *refused,
        Some(Ok(old)) if is_qr || old.subject != subject || old.code.is_empty() => {
            return error(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                Some("restart is for the same viewer, and not for QR".into()),
            );
        }
        Some(Ok(old)) => Some(old),
    };
    let want = r
        .limiter
        .want(&peer.box_id, (!is_qr).then_some(subject.as_str()));
    let taken = r
        .limiter
        .take(&want, || {
            r.metrics.redis_errors.fetch_add(1, Relaxed);
        })
        .await;
    if let Err(refused) = taken {
        r.metrics.limited(refused.scope);
        let secs = refused.wait.as_secs().saturating_add(1);
        audit(
            "start",
            &peer.box_id,
            &subject,
            &format!("rate_limited_{}", refused.scope.as_str()),
            t0.elapsed(),
        );
        let body = ErrorBody {
            error: codes::RATE_LIMITED.into(),
            error_description: Some(format!("{} limit", refused.scope.as_str())),
            retry_after: Some(secs),
        };
        let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return resp;
    }

    let (code, reference_text) = match again {
        Some(old) => (old.code, old.reference_text),
        None => {
            let Ok(code) = code::verification_code() else {
                return error(StatusCode::INTERNAL_SERVER_ERROR, "rng", None);
            };
            let text = code::render(
                &r.session.reference_template,
                &r.session.service_name,
                &code,
            );
            (code, text)
        }
    };
    let restarted = req.restart.is_some();
    let mut settings = r.session.clone();
    // The broker wants the viewer's address for its risk data: the box's, as we see it.
    settings.client_ip = peer.ip;
    let hint = session::login_hint(who, &settings, &reference_text, &code);

    let b0 = Instant::now();
    let started = r.broker.start(&hint).await;
    let mut broker_time = b0.elapsed();
    r.metrics.broker_latency(broker_time);
    let started = match started {
        Ok(s) => s,
        Err(e) => {
            audit(
                "start",
                &peer.box_id,
                &subject,
                "broker_refused",
                t0.elapsed(),
            );
            return broker_error(&e);
        }
    };
    let mut expires_in = started.expires_in;
    let mut authentication_uri = None;
    if is_qr {
        let b0 = Instant::now();
        let par = r.broker.init_auth(&started.auth_req_id).await;
        r.metrics.broker_latency(b0.elapsed());
        broker_time += b0.elapsed();
        match par {
            Ok(p) => {
                expires_in = expires_in.min(p.expires_in);
                authentication_uri = Some(p.authentication_uri);
            }
            Err(e) => {
                let _ = r.broker.cancel(&started.auth_req_id).await;
                return broker_error(&e);
            }
        }
    }
    let now = unix_now();
    let sealed = Sealed {
        auth_req_id: started.auth_req_id.expose().to_string(),
        nonce: hint.ciba_nonce().map(str::to_string),
        deadline: now.as_secs().saturating_add(expires_in),
        subject: subject.clone(),
        started_ms: ms(now),
        reference_text: if is_qr {
            String::new()
        } else {
            reference_text.clone()
        },
        code: if is_qr { String::new() } else { code.clone() },
    };
    let Ok(handle) = r.sealer.seal(&peer.box_id, &sealed) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "seal", None);
    };
    r.metrics.start(kind);
    let outcome = if restarted {
        r.metrics.restarts.fetch_add(1, Relaxed);
        "restarted_after_relay_crash"
    } else {
        "started"
    };
    audit("start", &peer.box_id, &subject, outcome, t0.elapsed());
    let reply = StartReply {
        handle,
        reference_text: if is_qr { String::new() } else { reference_text },
        code: if is_qr { String::new() } else { code },
        expires_in,
        interval: started.interval.unwrap_or(5),
        authentication_uri,
    };
    timed(
        (StatusCode::CREATED, Json(reply)).into_response(),
        broker_time,
    )
}

pub(super) fn result(outcome: WireOutcome, detail: Option<String>) -> ResultBody {
    ResultBody {
        outcome,
        id_token: None,
        access_token: None,
        profile: None,
        detail,
    }
}

/// A poll or cancel: the box must not be denied, and the handle must open for it.
pub(super) fn open_handle(r: &Relay, peer: &Peer, handle: &str) -> Result<Sealed, Box<Response>> {
    if let Some(refused) = denied(r, peer) {
        return Err(Box::new(refused));
    }
    r.sealer
        .open(&peer.box_id, handle)
        .map_err(|_| Box::new(error(StatusCode::NOT_FOUND, codes::UNKNOWN_HANDLE, None)))
}

async fn cancel(
    State(r): State<Arc<Relay>>,
    Extension(peer): Extension<Peer>,
    Path(handle): Path<String>,
) -> Response {
    let sealed = match open_handle(&r, &peer, &handle) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let b0 = Instant::now();
    let done = r.broker.cancel(&sealed.auth_req_id()).await;
    r.metrics.broker_latency(b0.elapsed());
    let since = unix_now().saturating_sub(Duration::from_millis(sealed.started_ms));
    match done {
        Ok(()) => {
            r.metrics.cancelled();
            audit("outcome", &peer.box_id, &sealed.subject, "cancelled", since);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => broker_error(&e),
    }
}
