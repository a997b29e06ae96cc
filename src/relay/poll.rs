//! `GET /v1/signins/{handle}`: one poll of the broker's token endpoint (CIBA Core §10.1).
//!
//! The broker answers a final result once. With Redis, no answer lives only in this
//! process: a ticket is written before the broker is asked, and a final answer is kept
//! (with its webhook delivery) before anything else is done with it (see `results`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Relay;
use super::api::{Peer, audit, error, open_handle, result, timed, unix_now};
use super::results::{Recovery, request_tag};
use super::seal::Sealed;
use crate::ciba::{AuthReqId, PollOutcome, TokenResponse};
use crate::relay_client::wire::{PollReply, ResultBody, WireOutcome, codes};
use crate::sanitize::clean;

pub(super) async fn poll(
    State(r): State<Arc<Relay>>,
    Extension(peer): Extension<Peer>,
    Path(handle): Path<String>,
) -> Response {
    let sealed = match open_handle(&r, &peer, &handle) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let finished = |body: ResultBody| {
        let since = unix_now().saturating_sub(Duration::from_millis(sealed.started_ms));
        r.metrics.outcome(body.outcome);
        audit(
            "outcome",
            &peer.box_id,
            &sealed.subject,
            body.outcome.as_str(),
            since,
        );
        (StatusCode::OK, Json(PollReply::Result(body))).into_response()
    };
    if unix_now().as_secs() > sealed.deadline {
        return finished(result(WireOutcome::Expired, None));
    }
    let id = sealed.auth_req_id();
    let ticket = match &r.results {
        Some(cache) => cache.begin(&id).await,
        None => None,
    };
    let b0 = Instant::now();
    let answer = r.broker.poll(&id).await;
    let broker_time = b0.elapsed();
    r.metrics.broker_latency(broker_time);
    // Not final: nothing to keep.
    let not_final = |resp: Response, ticket| {
        if let (Some(cache), Some(t)) = (&r.results, ticket) {
            cache.end(t);
        }
        timed(resp, broker_time)
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(req = %id.log_tag(), error = %e, "broker poll failed");
            let resp = error(StatusCode::BAD_GATEWAY, codes::BROKER_UNAVAILABLE, None);
            return not_final(resp, ticket);
        }
    };
    let body = match answer {
        PollOutcome::Pending => return not_final(Json(PollReply::Pending).into_response(), ticket),
        PollOutcome::SlowDown => {
            return not_final(Json(PollReply::SlowDown).into_response(), ticket);
        }
        PollOutcome::Unavailable { retry_after, .. } => {
            let mut resp = error(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::BROKER_UNAVAILABLE,
                None,
            );
            if let Some(ra) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(ra.as_secs()));
            }
            return not_final(resp, ticket);
        }
        PollOutcome::Malformed { .. } => {
            let resp = error(StatusCode::BAD_GATEWAY, codes::BROKER_UNAVAILABLE, None);
            return not_final(resp, ticket);
        }
        PollOutcome::InvalidGrant => {
            // Already collected: by an instance that died before its answer arrived?
            let Some(cache) = &r.results else {
                return timed(finished(result(WireOutcome::StartAgain, None)), broker_time);
            };
            let outcome = match cache.recover(&r.sealer, &peer.box_id, &id, ticket).await {
                Recovery::Kept(kept) => {
                    audit(
                        "outcome",
                        &peer.box_id,
                        &sealed.subject,
                        "replayed",
                        Duration::ZERO,
                    );
                    return timed(Json(PollReply::Result(kept)).into_response(), broker_time);
                }
                // The instance that has it is alive and keeping it: ask again shortly.
                Recovery::Collecting => {
                    return timed(Json(PollReply::Pending).into_response(), broker_time);
                }
                Recovery::Lost => {
                    tracing::warn!(
                        req = %id.log_tag(),
                        box_id = %peer.box_id,
                        "answer collected by a relay instance that died before keeping it"
                    );
                    WireOutcome::LostInRelayCrash
                }
                Recovery::Unknown => WireOutcome::StartAgain,
            };
            return timed(finished(result(outcome, None)), broker_time);
        }
        PollOutcome::Tokens(tokens) => signed_in(&r, &peer, &sealed, &id, &tokens).await,
        PollOutcome::Denied => (result(WireOutcome::Rejected, None), None),
        PollOutcome::Expired => (result(WireOutcome::Expired, None), None),
        PollOutcome::Refused { code, .. } => {
            (result(WireOutcome::ConfigRefused, Some(clean(&code))), None)
        }
        PollOutcome::MitId { status } => {
            (result(WireOutcome::MitidError, Some(clean(&status))), None)
        }
        PollOutcome::TransactionFailed => (
            result(WireOutcome::Failed, Some("transaction_failed".into())),
            None,
        ),
        PollOutcome::Unknown { code, .. } => {
            (result(WireOutcome::Failed, Some(clean(&code))), None)
        }
    };
    let (body, identity) = body;
    // Kept before anything else: from here on, a crash of this instance loses nothing.
    let kept = match &r.results {
        Some(cache) => {
            cache
                .keep(
                    &r.sealer,
                    &peer.box_id,
                    &id,
                    ticket,
                    &body,
                    identity.as_deref(),
                )
                .await
        }
        None => false,
    };
    if let (Some(webhook), Some(identity)) = (&r.webhook, identity) {
        match &r.results {
            Some(cache) if kept => {
                super::outbox::deliver(cache, webhook, request_tag(&id), identity);
            }
            _ => webhook.send(identity),
        }
    }
    timed(finished(body), broker_time)
}

/// Validates the broker's tokens; on success, the box's answer and the identity for the
/// operator's backend.
async fn signed_in(
    r: &Relay,
    peer: &Peer,
    sealed: &Sealed,
    id: &AuthReqId,
    tokens: &TokenResponse,
) -> (ResultBody, Option<Vec<u8>>) {
    // Validation is the relay's own time (the JWKS is fetched once and cached).
    let valid = r
        .broker
        .validate(
            tokens,
            sealed.nonce.as_deref(),
            r.session.ciba_nonce,
            SystemTime::now(),
        )
        .await;
    let profile = match valid {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(req = %id.log_tag(), error = %e, "ID token rejected");
            let body = result(WireOutcome::TokenRejected, Some(clean(&e.to_string())));
            return (body, None);
        }
    };
    let identity =
        crate::handoff::Identity::new(&profile, &sealed.reference_text, SystemTime::now());
    let mut identity = serde_json::to_value(&identity).unwrap_or_default();
    identity["box_id"] = serde_json::Value::from(&*peer.box_id);
    // One id per sign-in, the same on every instance: the backend can drop a duplicate
    // delivery by it.
    identity["request"] = serde_json::Value::from(request_tag(id));
    let delivery = r
        .webhook
        .as_ref()
        .map(|_| identity.to_string().into_bytes());
    let body = ResultBody {
        outcome: WireOutcome::SignedIn,
        id_token: Some(tokens.id_token.expose().to_string()),
        access_token: tokens.access_token.as_ref().map(|a| a.expose().to_string()),
        profile: Some(identity),
        detail: None,
    };
    (body, delivery)
}
