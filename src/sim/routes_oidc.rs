//! The broker's OpenID Connect endpoints under `/op`: discovery, JWKS, CIBA initiation, the
//! token endpoint (CIBA poll), cancel and userinfo.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;

use super::auth::{Form, authenticate};
use super::errors::BrokerError;
use super::faults::Endpoint;
use super::hint::{Hint, MAX_REFERENCE_TEXT_CHARS, Subject, parse_login_hint_token};
use super::options::wire_secs;
use super::shared::Shared;
use super::state::{HintKind, NewRequest, PollOutcome, short_id, unix_now};
use super::tokens::mint;

pub(crate) const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

type Sh = State<Arc<Shared>>;
type Res = Result<Response, BrokerError>;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/op/.well-known/openid-configuration", get(discovery))
        .route("/op/.well-known/openid-configuration/jwks", get(jwks))
        .route("/op/connect/ciba", post(ciba))
        .route("/op/connect/token", post(token))
        .route("/op/api/v1/ciba/{auth_req_id}", delete(cancel))
        .route("/op/connect/userinfo", get(userinfo).post(userinfo))
}

/// Applies delay, 5xx and non-JSON faults for `endpoint`. `Some` is the response to send
/// instead of the real one.
pub(crate) async fn transport_fault(
    shared: &Shared,
    endpoint: Endpoint,
    req_id: Option<&str>,
) -> Option<Response> {
    let (source, faults) = shared.effective_faults(req_id)?;
    if !faults.has_transport() || !faults.hits(endpoint) {
        return None;
    }
    shared.consume_faults(&source);
    if faults.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
    }
    if let Some(code) = faults.http_status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let text = status.canonical_reason().unwrap_or("Error");
        return Some(
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text.to_owned(),
            )
                .into_response(),
        );
    }
    if faults.non_json {
        let html =
            "<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>";
        return Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
        );
    }
    None
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn discovery(State(shared): Sh) -> Response {
    if let Some(r) = transport_fault(&shared, Endpoint::Discovery, None).await {
        return r;
    }
    let iss = &shared.issuer;
    axum::Json(json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/.well-known/openid-configuration/jwks"),
        "authorization_endpoint": format!("{iss}/connect/authorize"),
        "token_endpoint": format!("{iss}/connect/token"),
        "userinfo_endpoint": format!("{iss}/connect/userinfo"),
        "backchannel_authentication_endpoint": format!("{iss}/connect/ciba"),
        "backchannel_token_delivery_modes_supported": ["poll"],
        "backchannel_user_code_parameter_supported": false,
        "grant_types_supported": [CIBA_GRANT],
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "client_secret_jwt"],
        "scopes_supported": ["openid", "mitid"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "at_hash", "idp", "idtoken_type",
            "mitid.uuid", "mitid.identity_name", "mitid.date_of_birth", "mitid.age", "mitid.has_cpr",
            "mitid.reference_text", "mitid.transaction_id", "idp_transaction_id", "ciba_nonce"
        ],
        "request_uri_parameter_supported": true,
    }))
    .into_response()
}

async fn jwks(State(shared): Sh) -> Response {
    if let Some(r) = transport_fault(&shared, Endpoint::Jwks, None).await {
        return r;
    }
    axum::Json(shared.keys().jwks()).into_response()
}

async fn ciba(State(shared): Sh, headers: HeaderMap, body: Bytes) -> Res {
    if let Some(r) = transport_fault(&shared, Endpoint::Ciba, None).await {
        return Ok(r);
    }
    let form = Form::parse(&body)?;
    let client_id = authenticate(&shared, &headers, &form)?;
    let scope = form.get("scope").unwrap_or_default();
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(BrokerError::bad(
            "invalid_scope",
            "scope must include openid",
        ));
    }
    let hints = ["login_hint_token", "login_hint", "id_token_hint"];
    let given: Vec<&str> = hints
        .iter()
        .copied()
        .filter(|h| form.get(h).is_some())
        .collect();
    if given.len() != 1 {
        return Err(BrokerError::invalid_request(
            "exactly one of login_hint_token, login_hint or id_token_hint is required",
        ));
    }
    let mut new = NewRequest {
        client_id,
        scope: scope.split_whitespace().collect::<Vec<_>>().join(" "),
        kind: HintKind::LoginHint,
        identity: None,
        reference_text: String::new(),
        action: None,
        ciba_nonce: None,
        prompt_login: false,
        interval: shared.interval,
        expires_in: shared.expires_in,
        auto_decision: shared.auto_decision,
        default_identity: shared.default_identity().cloned(),
    };
    match given[0] {
        "login_hint_token" => {
            let raw = form.get("login_hint_token").unwrap_or_default();
            match parse_login_hint_token(raw)
                .map_err(|e| BrokerError::invalid_request(e.to_string()))?
            {
                Hint::Flex(flex) => {
                    let found = shared.identities.iter().find(|i| match &flex.subject {
                        Subject::Uuid(u) => i.uuid.eq_ignore_ascii_case(u),
                        Subject::Cpr(c) => i.cpr.as_deref() == Some(c.as_str()),
                    });
                    let identity = found.ok_or_else(|| {
                        BrokerError::bad("unknown_user_id", "no MitID user with that uuid or cpr")
                    })?;
                    new.kind = HintKind::LoginHintToken;
                    new.identity = Some(identity.clone());
                    new.reference_text = flex.reference_text;
                    new.action = flex.action;
                    new.ciba_nonce = flex.ciba_nonce;
                }
                Hint::BrokerOidc(par) => {
                    new.kind = HintKind::BrokerOidc;
                    new.reference_text = par.reference_text.unwrap_or_default();
                    new.action = par.action;
                    new.ciba_nonce = par.ciba_nonce;
                    new.prompt_login = par.prompt_login;
                }
            }
        }
        "login_hint" => {
            let user = form.get("login_hint").unwrap_or_default();
            let identity = shared.identity(user).ok_or_else(|| {
                BrokerError::bad("unknown_user_id", "no user with that login_hint (user ID)")
            })?;
            new.identity = Some(identity.clone());
            let message = form.get("binding_message").unwrap_or("Log på");
            if message.chars().count() > MAX_REFERENCE_TEXT_CHARS {
                return Err(BrokerError::invalid_request(format!(
                    "binding_message is longer than {MAX_REFERENCE_TEXT_CHARS} characters"
                )));
            }
            new.reference_text = message.to_owned();
        }
        _ => {
            return Err(BrokerError::invalid_request(
                "id_token_hint is not supported by the simulator",
            ));
        }
    }
    let kind = new.kind;
    let user = new.identity.as_ref().map(|i| i.user_id.clone());
    let id = shared.requests().create(new);
    tracing::info!(req = %short_id(&id), ?kind, user = ?user, "ciba request started");
    Ok(no_store(
        axum::Json(json!({
            "auth_req_id": id,
            "expires_in": wire_secs(shared.expires_in),
            "interval": wire_secs(shared.interval),
        }))
        .into_response(),
    ))
}

async fn token(State(shared): Sh, headers: HeaderMap, body: Bytes) -> Res {
    let form = Form::parse(&body)?;
    let client_id = authenticate(&shared, &headers, &form)?;
    if form.get("grant_type") != Some(CIBA_GRANT) {
        return Err(BrokerError::bad(
            "unsupported_grant_type",
            format!("grant_type must be {CIBA_GRANT}"),
        ));
    }
    let id = form
        .get("auth_req_id")
        .ok_or_else(|| BrokerError::invalid_request("auth_req_id is required"))?;
    if let Some(r) = transport_fault(&shared, Endpoint::Token, Some(id)).await {
        shared.requests().note_faulted_poll(id, &client_id);
        return Ok(r);
    }
    let effective = shared.effective_faults(Some(id));
    let storm = effective.as_ref().is_some_and(|(_, f)| f.slow_down_storm);
    let mitid_error = effective.as_ref().and_then(|(_, f)| f.mitid_error.clone());
    let outcome = shared
        .requests()
        .poll(id, &client_id, storm, mitid_error.as_deref());
    let short = short_id(id);
    match outcome {
        PollOutcome::Pending => Err(BrokerError::bare("authorization_pending")),
        PollOutcome::SlowDown { storm } => {
            if storm && let Some((source, _)) = &effective {
                shared.consume_faults(source);
            }
            tracing::debug!(req = %short, "slow_down");
            Err(BrokerError::bare("slow_down"))
        }
        PollOutcome::MitIdError(code) => {
            if let Some((source, _)) = &effective {
                shared.consume_faults(source);
            }
            Err(BrokerError::mitid(&code))
        }
        PollOutcome::Denied => Err(BrokerError::bad(
            "access_denied",
            "the user rejected the request",
        )),
        PollOutcome::Expired => Err(BrokerError::bad(
            "expired_token",
            "the auth_req_id has expired",
        )),
        PollOutcome::InvalidGrant(why) => Err(BrokerError::bad("invalid_grant", why)),
        PollOutcome::Success(grant) => {
            let faults = match effective {
                Some((source, f)) if f.shapes_success() => {
                    shared.consume_faults(&source);
                    f
                }
                _ => Default::default(),
            };
            if faults.drop_success {
                tracing::info!(req = %short, "fault: dropping the success response");
                return Ok((
                    StatusCode::BAD_GATEWAY,
                    [(header::CONTENT_TYPE, "text/plain")],
                    "Bad Gateway",
                )
                    .into_response());
            }
            shared
                .prepare_keys(&faults)
                .await
                .map_err(|e| BrokerError::server_error(e.to_string()))?;
            let minted = {
                let ring = shared.keys();
                mint(&grant, &faults, &shared.issuer, &ring)
                    .map_err(|e| BrokerError::server_error(e.to_string()))?
            };
            shared.store_access_token(
                minted.access_token,
                minted.access_token_exp,
                minted.userinfo,
            );
            tracing::info!(req = %short, user = %grant.identity.user_id, "tokens issued");
            Ok(no_store(axum::Json(minted.body).into_response()))
        }
    }
}

/// The broker's cancel call ("Ciba integration") carries no client authentication, so none is asked for.
async fn cancel(State(shared): Sh, Path(id): Path<String>) -> Res {
    if let Some(r) = transport_fault(&shared, Endpoint::Cancel, Some(&id)).await {
        return Ok(r);
    }
    if shared.requests().cancel(&id) {
        tracing::info!(req = %short_id(&id), "ciba request cancelled");
        Ok(StatusCode::OK.into_response())
    } else {
        Err(BrokerError::not_found("unknown auth_req_id"))
    }
}

async fn userinfo(State(shared): Sh, headers: HeaderMap) -> Res {
    if let Some(r) = transport_fault(&shared, Endpoint::Userinfo, None).await {
        return Ok(r);
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| BrokerError::invalid_token("a Bearer access token is required"))?;
    match shared.userinfo(token) {
        Some((exp, claims)) if exp > unix_now() => Ok(no_store(axum::Json(claims).into_response())),
        Some(_) => Err(BrokerError::invalid_token("the access token has expired")),
        None => Err(BrokerError::invalid_token("unknown access token")),
    }
}
