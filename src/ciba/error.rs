//! Typed protocol errors. They carry operator detail; the UI maps them to viewer text.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CibaError {
    /// The request could not be built from our own input (bad hint, bad URL…).
    #[error("invalid request parameters: {0}")]
    InvalidInput(String),

    /// No answer on the wire: DNS, connect, TLS, timeout.
    #[error("network error talking to {endpoint}: {detail}")]
    Transport {
        endpoint: &'static str,
        detail: String,
    },

    /// The OP answered, but not with what the protocol promises (non-JSON, missing fields).
    #[error("unexpected response from {endpoint} (HTTP {status}): {detail}")]
    Protocol {
        endpoint: &'static str,
        status: u16,
        detail: String,
    },

    /// The OP answered with an OAuth error object.
    #[error("{endpoint} refused the request: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Oauth {
        endpoint: &'static str,
        status: u16,
        code: String,
        description: Option<String>,
    },

    /// Discovery metadata that we must not trust or cannot use.
    #[error("discovery document rejected: {0}")]
    Discovery(String),

    /// The broker profile has no such endpoint (e.g. cancel on a generic OP).
    #[error("not supported by this OP: {0}")]
    Unsupported(&'static str),

    /// A relay refused to push yet (HTTP 429): too many requests for this box or viewer.
    /// The viewer is told to wait this many seconds.
    #[error("{endpoint} limits requests: try again in {retry_after_secs} s")]
    RateLimited {
        endpoint: &'static str,
        retry_after_secs: u64,
    },

    /// An ID token failed validation; the step number refers to `idtoken::validate`.
    #[error("ID token rejected at step {step}: {reason}")]
    IdToken { step: u8, reason: String },
}

impl CibaError {
    pub fn transport(endpoint: &'static str, err: &reqwest::Error) -> Self {
        // reqwest's Display includes the URL, which never carries secrets here: every
        // secret travels in a form body or a header, and the cancel path is mapped apart.
        let mut detail = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        if endpoint == "cancel" {
            detail =
                "request failed".to_string() + if err.is_timeout() { " (timeout)" } else { "" };
        }
        CibaError::Transport { endpoint, detail }
    }

    /// The OAuth error code, if the OP sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            CibaError::Oauth { code, .. } => Some(code),
            _ => None,
        }
    }
}
