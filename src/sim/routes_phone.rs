//! The simulated MitID app (`/phone`) and the simulator's own control API under `/_sim`.
//!
//! `/_sim/requests`, `/_sim/identities`, `/_sim/approve/{id}` and `/_sim/reject/{id}` serve the
//! phone page, which may run on a real phone on the LAN. Fault control and key rotation change
//! how the broker behaves for everyone, so they answer loopback callers only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::errors::BrokerError;
use super::faults::{FaultRequest, Faults};
use super::shared::Shared;
use super::state::{DecisionError, short_id};

const PHONE_PAGE: &str = include_str!("../../assets/sim/phone.html");

type Sh = State<Arc<Shared>>;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/phone") }))
        .route("/phone", get(phone))
        .route("/_sim/requests", get(requests))
        .route("/_sim/pushes", get(pushes))
        .route("/_sim/identities", get(identities))
        .route("/_sim/approve/{auth_req_id}", post(approve))
        .route("/_sim/reject/{auth_req_id}", post(reject))
        .route(
            "/_sim/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/_sim/rotate-key", post(rotate_key))
}

async fn phone() -> Response {
    super::html::page_response(
        StatusCode::OK,
        PHONE_PAGE.to_owned(),
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
    )
}

/// How many requests reached each identity's app since the start (`{"user_id": n}`), also
/// for requests `/_sim/requests` no longer lists: what push-bombing limits are judged by.
async fn pushes(State(shared): Sh) -> Response {
    no_store(shared.requests().pushes())
}

async fn requests(State(shared): Sh) -> Response {
    no_store(shared.requests().list())
}

/// Live state: a browser must never show a cached copy.
fn no_store(value: impl serde::Serialize) -> Response {
    let mut response = axum::Json(value).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn identities(State(shared): Sh) -> Response {
    let list: Vec<_> = shared
        .identities
        .iter()
        .map(|i| json!({"user_id": i.user_id, "name": i.name, "uuid": i.uuid, "date_of_birth": i.date_of_birth}))
        .collect();
    axum::Json(list).into_response()
}

fn decision_error(e: DecisionError) -> BrokerError {
    match e {
        DecisionError::NotFound => BrokerError::not_found("unknown auth_req_id"),
        other => BrokerError::bad("invalid_request", other.to_string()),
    }
}

async fn decide(
    shared: &Shared,
    id: &str,
    approve: bool,
    q: &HashMap<String, String>,
) -> Result<Response, BrokerError> {
    let user = q
        .get("identity")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    shared.decide(id, approve, user).map_err(decision_error)?;
    tracing::info!(req = %short_id(id), approve, "decision from the phone");
    let status = if approve { "approved" } else { "rejected" };
    Ok(axum::Json(json!({"auth_req_id": id, "status": status})).into_response())
}

/// `?identity=USER_ID` picks the person for an unbound (QR) request; without it the first
/// identity is used.
async fn approve(
    State(shared): Sh,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, BrokerError> {
    decide(&shared, &id, true, &q).await
}

async fn reject(
    State(shared): Sh,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, BrokerError> {
    decide(&shared, &id, false, &q).await
}

fn loopback_only(peer: SocketAddr) -> Result<(), BrokerError> {
    if peer.ip().to_canonical().is_loopback() {
        Ok(())
    } else {
        Err(BrokerError::bad(
            "access_denied",
            "the control API answers loopback callers only",
        ))
    }
}

async fn get_faults(
    State(shared): Sh,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, BrokerError> {
    loopback_only(peer)?;
    Ok(axum::Json(shared.faults().clone()).into_response())
}

async fn set_faults(
    State(shared): Sh,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, BrokerError> {
    loopback_only(peer)?;
    let request = FaultRequest::from_json(&body)
        .map_err(|e| BrokerError::invalid_request(format!("fault body: {e}")))?;
    match &request.auth_req_id {
        Some(id) => {
            shared
                .set_request_faults(id, request.faults.clone())
                .map_err(decision_error)?;
            tracing::info!(req = %short_id(id), faults = ?request.faults, "request faults set");
        }
        None => {
            tracing::info!(faults = ?request.faults, "run-wide faults set");
            *shared.faults() = request.faults.clone();
        }
    }
    Ok(axum::Json(json!({"ok": true, "faults": request.faults})).into_response())
}

async fn clear_faults(
    State(shared): Sh,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, BrokerError> {
    loopback_only(peer)?;
    *shared.faults() = Faults::default();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate_key(
    State(shared): Sh,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, BrokerError> {
    loopback_only(peer)?;
    let kid = shared
        .rotate_key()
        .await
        .map_err(|e| BrokerError::server_error(e.to_string()))?;
    Ok(axum::Json(json!({"kid": kid})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_api_is_for_loopback_peers_only() {
        assert!(loopback_only("127.0.0.1:5000".parse().expect("addr")).is_ok());
        assert!(loopback_only("[::1]:5000".parse().expect("addr")).is_ok());
        assert!(loopback_only("[::ffff:127.0.0.1]:5000".parse().expect("addr")).is_ok());
        assert!(loopback_only("192.168.1.20:5000".parse().expect("addr")).is_err());
        assert!(loopback_only("[::ffff:192.168.1.20]:5000".parse().expect("addr")).is_err());
    }
}
