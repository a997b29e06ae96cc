//! Reading answers off the wire: one capped body reader for every response.
//!
//! An OP (or anything between us and it) can send a body of any length. Reading stops at a
//! per-endpoint cap, so a box with 512 MB never holds more than the cap per request, and an
//! oversized answer is a failure rather than a partial parse.

use serde::Deserialize;

use super::error::CibaError;

/// Discovery documents and key sets: the broker's are a few KiB.
pub const METADATA_CAP: usize = 256 * 1024;
/// CIBA start, token, cancel, init-auth and userinfo answers: the broker's are under 8 KiB.
pub const ANSWER_CAP: usize = 64 * 1024;

/// An OAuth error object (RFC 6749 §5.2).
#[derive(Deserialize)]
pub struct OauthErrorBody {
    pub error: String,
    pub error_description: Option<String>,
}

/// Reads at most `cap` bytes of `resp`'s body. A declared or actual length beyond `cap` is
/// `TooLarge`, and the rest is never read (dropping the response closes the connection).
pub async fn read_capped(
    endpoint: &'static str,
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, CibaError> {
    let too_large = CibaError::TooLarge { endpoint, cap };
    if resp
        .content_length()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| CibaError::transport(endpoint, &e))?
    {
        if body.len().saturating_add(chunk.len()) > cap {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON answer: an OAuth error object becomes `Oauth`, any other non-2xx `Protocol`.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    resp: reqwest::Response,
    cap: usize,
) -> Result<T, CibaError> {
    let status = resp.status().as_u16();
    let body = read_capped(endpoint, resp, cap).await?;
    parse_json(endpoint, status, &body)
}

/// The pure half of [`read_json`].
pub fn parse_json<T: serde::de::DeserializeOwned>(
    endpoint: &'static str,
    status: u16,
    body: &[u8],
) -> Result<T, CibaError> {
    refusal(endpoint, status, body)?;
    serde_json::from_slice(body)
        .map_err(|e| CibaError::protocol(endpoint, status, format!("unexpected JSON: {e}")))
}

/// An OAuth error object (whatever the status) or a non-2xx status is an error.
pub fn refusal(endpoint: &'static str, status: u16, body: &[u8]) -> Result<(), CibaError> {
    if let Ok(err) = serde_json::from_slice::<OauthErrorBody>(body) {
        return Err(CibaError::Oauth {
            endpoint,
            status,
            code: err.error,
            description: err.error_description,
        });
    }
    if !(200..300).contains(&status) {
        return Err(CibaError::protocol(
            endpoint,
            status,
            "error status without an OAuth error body",
        ));
    }
    Ok(())
}
