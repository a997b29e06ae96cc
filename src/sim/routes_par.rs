//! The CIBA + PAR ("QR") flow (broker docs, "CIBA PAR OIDC integration"): `init-auth` turns a pending
//! `broker_oidc` request into an authentication URI, and `/connect/authorize` is the page the
//! person's phone browser opens from the QR code.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Form, authenticate};
use super::errors::BrokerError;
use super::faults::Endpoint;
use super::html::{escape, fill, page_response};
use super::routes_oidc::transport_fault;
use super::shared::Shared;
use super::state::{DecisionError, REQUEST_URI_LIFETIME, short_id};

const PAGE: &str = include_str!("../../assets/sim/authorize.html");
const SESSION_COOKIE: &str = "sim_broker_session";
const DECISION_PATH: &str = "/op/connect/authorize/decision";

type Sh = State<Arc<Shared>>;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/op/api/ciba/broker-oidc/init-auth", post(init_auth))
        .route("/op/connect/authorize", get(authorize))
        .route(DECISION_PATH, post(decision))
}

#[derive(Deserialize)]
struct InitAuthBody {
    #[serde(rename = "requestId")]
    request_id: String,
    #[serde(rename = "redirectUri", default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

/// The doc's example call carries no client authentication; if the caller sends some anyway
/// (Basic header), it must be right.
async fn init_auth(
    State(shared): Sh,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, BrokerError> {
    if let Some(r) = transport_fault(&shared, Endpoint::InitAuth, None).await {
        return Ok(r);
    }
    if headers.contains_key(header::AUTHORIZATION) {
        authenticate(&shared, &headers, &Form::parse(b"")?)?;
    }
    let body: InitAuthBody = serde_json::from_slice(&body).map_err(|e| {
        BrokerError::invalid_request(format!("body must be JSON with requestId: {e}"))
    })?;
    if let Some(uri) = &body.redirect_uri {
        let ok = url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(BrokerError::invalid_request(
                "redirectUri must be an absolute http(s) URL",
            ));
        }
    }
    let redirect = body.redirect_uri.map(|u| (u, body.state));
    let (request_uri, client_id) = shared
        .requests()
        .init_auth(&body.request_id, redirect)
        .map_err(|e| match e {
            DecisionError::NotFound => BrokerError::invalid_request("unknown requestId"),
            other => BrokerError::invalid_request(other.to_string()),
        })?;
    tracing::info!(req = %short_id(&body.request_id), "PAR request_uri issued");
    let authentication_uri = format!(
        "{}/connect/authorize?client_id={}&request_uri={}",
        shared.public_authority, client_id, request_uri
    );
    Ok(axum::Json(json!({
        "request_uri": request_uri,
        "expires_in": REQUEST_URI_LIFETIME.as_secs(),
        "authentication_uri": authentication_uri,
    }))
    .into_response())
}

fn page(status: StatusCode, title: &str, content: &str) -> Response {
    let html = fill(PAGE, &[("title", &escape(title)), ("content", content)]);
    page_response(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; form-action *",
    )
}

fn message_page(status: StatusCode, title: &str, da: &str, en: &str) -> Response {
    let content = format!(
        r#"<div class="card" id="message"><h1>{}</h1><p>{} <span class="en">{}</span></p></div>"#,
        escape(title),
        escape(da),
        escape(en)
    );
    page(status, title, &content)
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

fn request_card(reference_text: &str, action: Option<&str>) -> String {
    let action = action
        .map(|a| format!(r#" <span class="badge" id="action">{}</span>"#, escape(a)))
        .unwrap_or_default();
    let text = if reference_text.is_empty() {
        "Log på hos tjenesten"
    } else {
        reference_text
    };
    format!(
        r#"<div class="card"><div class="note">Anmodning <span class="en">Request</span>{action}</div><p class="ref" id="reference-text">{}</p></div>"#,
        escape(text)
    )
}

fn buttons() -> &'static str {
    r#"<div class="row">
  <button type="submit" name="decision" value="reject" id="reject">Afvis <span class="en">Reject</span></button>
  <button type="submit" name="decision" value="approve" id="approve" class="primary">Godkend <span class="en">Approve</span></button>
</div>"#
}

async fn authorize(
    State(shared): Sh,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(request_uri) = q.get("request_uri") else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Ugyldigt link",
            "Linket mangler request_uri.",
            "The link has no request_uri.",
        );
    };
    let session_user = session_cookie(&headers).and_then(|c| shared.session_user(&c));
    let (card, prompt_login) = {
        let mut requests = shared.requests();
        let Some((_, r)) = requests.by_request_uri(request_uri) else {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Linket er udløbet",
                "Linket er udløbet eller ugyldigt.",
                "The link has expired or is invalid.",
            );
        };
        if q.get("client_id").is_some_and(|c| c != r.client_id()) {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Ugyldigt link",
                "client_id passer ikke til anmodningen.",
                "client_id does not match the request.",
            );
        }
        if r.status() != super::state::RequestStatus::Pending {
            return message_page(
                StatusCode::OK,
                "Anmodningen er afsluttet",
                "Denne anmodning er allerede afsluttet.",
                "This request has already ended.",
            );
        }
        r.count_authorize_view();
        (
            request_card(r.reference_text(), r.action()),
            r.prompt_login(),
        )
    };
    let hidden = format!(
        r#"<input type="hidden" name="request_uri" value="{}">"#,
        escape(request_uri)
    );
    // Broker docs, "CIBA PAR OIDC integration", "Sessions": an existing session goes straight to the
    // confirmation step, unless the request said prompt=login.
    let session_identity = session_user
        .filter(|_| !prompt_login)
        .and_then(|u| shared.identity(&u).cloned());
    let content = match session_identity {
        Some(identity) => format!(
            r#"<h1>Bekræft <span class="en">Confirm</span></h1>{card}
<form method="post" action="{DECISION_PATH}" class="card" id="confirm-form">{hidden}
<input type="hidden" name="identity" value="{}">
<p>Du er logget på som <strong id="session-identity">{}</strong>. <span class="en">You are signed in.</span></p>{}</form>"#,
            escape(&identity.user_id),
            escape(&identity.name),
            buttons()
        ),
        None => {
            let people: String = shared
                .identities
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    format!(
                        r#"<label class="who"><input type="radio" name="identity" value="{uid}" id="identity-{uid}" data-user-id="{uid}"{checked}> <span>{name}<br><span class="note">{uid} · født {dob}</span></span></label>"#,
                        uid = escape(&p.user_id),
                        name = escape(&p.name),
                        dob = escape(&p.date_of_birth),
                        checked = if i == 0 { " checked" } else { "" },
                    )
                })
                .collect();
            format!(
                r#"<h1>Log på med MitID <span class="en">Log in</span></h1>{card}
<form method="post" action="{DECISION_PATH}" class="card" id="login-form">{hidden}
<p>Vælg testperson <span class="en">Choose a test identity</span></p>{people}{}</form>"#,
                buttons()
            )
        }
    };
    page(StatusCode::OK, "Log på med MitID", &content)
}

async fn decision(State(shared): Sh, body: Bytes) -> Response {
    let form = match Form::parse(&body) {
        Ok(f) => f,
        Err(_) => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Fejl",
                "Ugyldig formular.",
                "Invalid form.",
            );
        }
    };
    let (Some(request_uri), Some(choice), Some(user)) = (
        form.get("request_uri"),
        form.get("decision"),
        form.get("identity"),
    ) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Fejl",
            "Formularen mangler felter.",
            "The form is missing fields.",
        );
    };
    let approve = match choice {
        "approve" => true,
        "reject" => false,
        _ => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Fejl",
                "Ukendt valg.",
                "Unknown decision.",
            );
        }
    };
    let found = shared
        .requests()
        .by_request_uri(request_uri)
        .map(|(id, r)| (id, r.redirect.clone()));
    let Some((id, redirect)) = found else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Linket er udløbet",
            "Linket er udløbet eller ugyldigt.",
            "The link has expired or is invalid.",
        );
    };
    if let Err(e) = shared.decide(&id, approve, Some(user)) {
        return message_page(
            StatusCode::CONFLICT,
            "Kan ikke gennemføres",
            &e.to_string(),
            "The decision could not be recorded.",
        );
    }
    tracing::info!(req = %short_id(&id), approve, user = %crate::sanitize::Clean(user), "decision on authorize page");
    let cookie = approve.then(|| {
        format!(
            "{SESSION_COOKIE}={}; Path=/op; HttpOnly; SameSite=Lax",
            shared.new_session(user)
        )
    });
    let mut response = match redirect {
        Some((uri, state)) => match url::Url::parse(&uri) {
            Ok(mut url) => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = &state {
                        q.append_pair("state", s);
                    }
                    if !approve {
                        q.append_pair("error", "access_denied");
                        q.append_pair("error_description", "The user rejected the request");
                    }
                }
                (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
            }
            Err(_) => message_page(
                StatusCode::OK,
                "Færdig",
                "Du kan lukke denne side.",
                "You can close this page.",
            ),
        },
        None if approve => message_page(
            StatusCode::OK,
            "Godkendt",
            "Du er logget på. Du kan lukke denne side.",
            "Approved. You can close this page.",
        ),
        None => message_page(
            StatusCode::OK,
            "Afvist",
            "Anmodningen er afvist. Du kan lukke denne side.",
            "Rejected. You can close this page.",
        ),
    };
    if let Some(c) = cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
