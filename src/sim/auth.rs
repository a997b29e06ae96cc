//! Form bodies and client authentication (client_secret_post, client_secret_basic, and the
//! HS256 client assertion that the broker docs' "Ciba integration" describes).

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine as _;

use super::errors::BrokerError;
use super::shared::Shared;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An `application/x-www-form-urlencoded` body. Repeated parameters are refused
/// (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
pub(crate) struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, BrokerError> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(BrokerError::invalid_request(format!(
                    "parameter {k} is repeated"
                )));
            }
        }
        Ok(Self(map))
    }

    /// A parameter, with an empty value counting as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn secrets_equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, BrokerError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || BrokerError::invalid_client("malformed Basic authorization header");
    let text = value.to_str().map_err(|_| bad())?;
    let Some((scheme, rest)) = text.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Returns the authenticated client_id, or 401 `invalid_client`.
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    form: &Form,
) -> Result<String, BrokerError> {
    let basic = basic_credentials(headers)?;
    let form_id = form.get("client_id");
    let form_secret = form.get("client_secret");
    let assertion = form.get("client_assertion");
    let methods = usize::from(basic.is_some())
        + usize::from(form_secret.is_some())
        + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(BrokerError::invalid_request(
            "use exactly one client authentication method",
        ));
    }
    if let Some((id, secret)) = basic {
        if form_id.is_some_and(|f| f != id) {
            return Err(BrokerError::invalid_client(
                "client_id differs from the Basic credentials",
            ));
        }
        return check_secret(shared, &id, &secret);
    }
    if let Some(assertion) = assertion {
        return check_assertion(shared, form, form_id, assertion);
    }
    match (form_id, form_secret) {
        (Some(id), Some(secret)) => check_secret(shared, id, secret),
        (Some(_), None) => Err(BrokerError::invalid_client("client_secret is missing")),
        _ => Err(BrokerError::invalid_client(
            "client authentication is missing",
        )),
    }
}

fn check_secret(shared: &Shared, id: &str, secret: &str) -> Result<String, BrokerError> {
    let known = shared.clients.iter().find(|c| c.client_id == id);
    match known {
        Some(c) if secrets_equal(&c.client_secret, secret) => Ok(c.client_id.clone()),
        _ => {
            tracing::info!(client_id = %id, "client authentication failed");
            Err(BrokerError::invalid_client(
                "unknown client or wrong client secret",
            ))
        }
    }
}

fn check_assertion(
    shared: &Shared,
    form: &Form,
    form_id: Option<&str>,
    assertion: &str,
) -> Result<String, BrokerError> {
    if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(BrokerError::invalid_client(format!(
            "client_assertion_type must be {ASSERTION_TYPE}"
        )));
    }
    let claimed = match form_id {
        Some(id) => id.to_owned(),
        None => jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(assertion)
            .ok()
            .and_then(|d| {
                d.claims
                    .get("sub")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            })
            .ok_or_else(|| BrokerError::invalid_client("client_assertion is not a JWT with sub"))?,
    };
    let Some(client) = shared.clients.iter().find(|c| c.client_id == claimed) else {
        return Err(BrokerError::invalid_client("unknown client"));
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[
        shared.issuer.as_str(),
        &format!("{}/connect/token", shared.issuer),
        &format!("{}/connect/ciba", shared.issuer),
    ]);
    validation.set_issuer(&[client.client_id.as_str()]);
    validation.sub = Some(client.client_id.clone());
    let key = jsonwebtoken::DecodingKey::from_secret(client.client_secret.as_bytes());
    jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation)
        .map_err(|e| BrokerError::invalid_client(format!("client_assertion rejected: {e}")))?;
    Ok(client.client_id.clone())
}
