//! Typed protocol errors. They carry operator detail; the UI maps them to viewer text.
//!
//! Much of the detail comes from the OP (error codes, descriptions, URLs, claim values), so
//! `Display` runs the whole message through the one sanitizer: whoever prints a `CibaError`,
//! on a terminal, in the journal or on screen, gets clean text.

use std::fmt;

use super::idtoken::IdTokenError;

#[derive(Debug)]
pub enum CibaError {
    /// The request could not be built from our own input (bad hint, bad URL…).
    InvalidInput(String),

    /// No answer on the wire: DNS, connect, TLS, timeout.
    Transport {
        endpoint: &'static str,
        detail: String,
    },

    /// The OP answered, but not with what the protocol promises (non-JSON, missing fields,
    /// numbers out of range).
    Protocol {
        endpoint: &'static str,
        status: u16,
        detail: String,
    },

    /// The start answer (CIBA Core §7.3) is malformed. `auth_req_id` is kept when it was
    /// well-formed, so the request can still be cancelled at the broker.
    BadStart {
        status: u16,
        detail: String,
        auth_req_id: Option<super::secret::AuthReqId>,
    },

    /// The answer was longer than we read from that endpoint; reading stopped at `cap`.
    TooLarge { endpoint: &'static str, cap: usize },

    /// The OP answered with an OAuth error object.
    Oauth {
        endpoint: &'static str,
        status: u16,
        code: String,
        description: Option<String>,
    },

    /// Discovery metadata that we must not trust or cannot use (including an endpoint that
    /// would take the client secret off TLS or off the broker's origin).
    Discovery(String),

    /// The broker profile has no such endpoint (e.g. cancel on a generic OP).
    Unsupported(&'static str),

    /// A relay refused to push yet (HTTP 429): too many requests for this box or viewer.
    /// The viewer is told to wait this many seconds.
    RateLimited {
        endpoint: &'static str,
        retry_after_secs: u64,
    },

    /// An ID token failed validation, at the numbered step of `idtoken::validate`.
    IdToken(IdTokenError),
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

    pub fn protocol(endpoint: &'static str, status: u16, detail: impl Into<String>) -> Self {
        CibaError::Protocol {
            endpoint,
            status,
            detail: detail.into(),
        }
    }

    /// The OAuth error code, if the OP sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            CibaError::Oauth { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The network or the OP's servers failed: the same request may work later.
    pub fn is_network(&self) -> bool {
        match self {
            CibaError::Transport { .. } => true,
            CibaError::Protocol { status, .. } | CibaError::Oauth { status, .. } => {
                *status >= 500 || *status == 429
            }
            _ => false,
        }
    }

    fn raw(&self) -> String {
        match self {
            CibaError::InvalidInput(d) => format!("invalid request parameters: {d}"),
            CibaError::Transport { endpoint, detail } => {
                format!("network error talking to {endpoint}: {detail}")
            }
            CibaError::Protocol {
                endpoint,
                status,
                detail,
            } => format!("unexpected response from {endpoint} (HTTP {status}): {detail}"),
            CibaError::BadStart { status, detail, .. } => {
                format!("malformed answer from ciba (HTTP {status}): {detail}")
            }
            CibaError::TooLarge { endpoint, cap } => {
                format!("the answer from {endpoint} is larger than {cap} bytes; not read")
            }
            CibaError::Oauth {
                endpoint,
                code,
                description,
                ..
            } => match description {
                Some(d) => format!("{endpoint} refused the request: {code} ({d})"),
                None => format!("{endpoint} refused the request: {code}"),
            },
            CibaError::Discovery(d) => format!("discovery document rejected: {d}"),
            CibaError::Unsupported(what) => format!("not supported by this OP: {what}"),
            CibaError::IdToken(e) => format!("ID token rejected at {e}"),
            CibaError::RateLimited {
                endpoint,
                retry_after_secs,
            } => format!("{endpoint} limits requests: try again in {retry_after_secs} s"),
        }
    }
}

impl fmt::Display for CibaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::sanitize::clean(&self.raw()))
    }
}

impl std::error::Error for CibaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CibaError::IdToken(e) => Some(e),
            _ => None,
        }
    }
}

impl From<IdTokenError> for CibaError {
    fn from(e: IdTokenError) -> Self {
        CibaError::IdToken(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_sanitized_and_bounded() {
        let e = CibaError::Oauth {
            endpoint: "ciba",
            status: 400,
            code: "invalid_request\x1b]0;pwned\x07".into(),
            description: Some(format!(
                "\r\x1b[2Jsigned in as admin {}",
                "x".repeat(10_000)
            )),
        };
        let shown = e.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.chars().count() <= crate::sanitize::MAX_CHARS);
        assert!(shown.starts_with("ciba refused the request: invalid_request]0;pwned"));
    }
}
