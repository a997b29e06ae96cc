//! Broker error responses: `{"error": "...", "error_description": "..."}`, HTTP 400 (401 for
//! `invalid_client` and `invalid_token`), as in the poll table of the broker docs' "Ciba integration".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub(crate) struct BrokerError {
    status: StatusCode,
    error: std::borrow::Cow<'static, str>,
    description: Option<String>,
}

impl BrokerError {
    fn new(status: StatusCode, error: &'static str, description: Option<String>) -> Self {
        Self {
            status,
            error: error.into(),
            description,
        }
    }
    /// `mitid_flex_app.mitid_error_{status}` from the broker's poll table ("Ciba integration").
    pub fn mitid(status_code: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: format!("mitid_flex_app.mitid_error_{status_code}").into(),
            description: Some("MitID ended the flow with this status code".into()),
        }
    }
    pub fn bare(error: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, None)
    }
    pub fn bad(error: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, Some(description.into()))
    }
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::bad("invalid_request", description)
    }
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            Some(description.into()),
        )
    }
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            Some(description.into()),
        )
    }
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request",
            Some(description.into()),
        )
    }
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            Some(description.into()),
        )
    }
}

impl IntoResponse for BrokerError {
    fn into_response(self) -> Response {
        let body = match &self.description {
            Some(d) => json!({"error": &*self.error, "error_description": d}),
            None => json!({"error": &*self.error}),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self.status {
            StatusCode::UNAUTHORIZED if self.error == "invalid_client" => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"mitid-flex-sim\""),
                );
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        response
    }
}
