//! One token-endpoint answer, classified. The waiting loop lives in `session`.
//!
//! The decision is made on the `error` field, never on the HTTP status: the broker answers
//! every poll error with 400 (broker docs, "Ciba integration": "Status codes from Poll"), other OPs use 401,
//! 429 or 503 for some of the same codes, and a proxy may send 5xx with no body at all.

use std::time::Duration;

use serde::Deserialize;

use super::secret::{AccessToken, IdToken};

/// Prefix of the broker's MitID error codes: `mitid_flex_app.mitid_error_{status}`.
pub const MITID_ERROR_PREFIX: &str = "mitid_flex_app.mitid_error_";

#[derive(Debug)]
pub struct TokenResponse {
    pub id_token: IdToken,
    pub access_token: Option<AccessToken>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
}

#[derive(Debug)]
pub enum PollOutcome {
    /// `authorization_pending`: keep waiting.
    Pending,
    /// `slow_down`: keep waiting, and wait 5 s longer from now on (CIBA Core §11).
    SlowDown,
    /// `access_denied`: the viewer rejected the request in the MitID app.
    Denied,
    /// `expired_token`: the request timed out at the OP.
    Expired,
    /// `invalid_grant`: unknown, finished or already collected request. After we saw no
    /// success, it means a success answer was lost: the viewer has to start again.
    InvalidGrant,
    /// `invalid_request`, `invalid_client`, `unauthorized_client`, `unsupported_grant_type`…:
    /// our request or our registration is wrong; no retry will fix it.
    Refused {
        code: String,
        description: Option<String>,
    },
    /// `transaction_failed` (CIBA Core §11): the OP gave up on the transaction.
    TransactionFailed,
    /// `mitid_flex_app.mitid_error_{status}`: MitID ended the flow with this status code.
    MitId {
        status: String,
    },
    /// An error code that no spec we follow defines. Treated as terminal: retrying blindly
    /// could push repeated requests to the viewer's phone.
    Unknown {
        code: String,
        description: Option<String>,
    },
    /// The OP (or a proxy) is temporarily unavailable: 5xx/429 without an OAuth error.
    Unavailable {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// A body we could not read as JSON, or a 200 without an ID token.
    Malformed {
        status: u16,
    },
    Tokens(TokenResponse),
}

impl PollOutcome {
    /// Transient outcomes are retried with backoff until the deadline.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PollOutcome::Unavailable { .. } | PollOutcome::Malformed { .. }
        )
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct SuccessBody {
    id_token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
}

/// `Retry-After` as delta-seconds (RFC 9110 §10.2.3). HTTP-dates are rare on token
/// endpoints; when one arrives we fall back to our own backoff.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

pub fn classify(status: u16, retry_after: Option<&str>, body: &[u8]) -> PollOutcome {
    if let Ok(err) = serde_json::from_slice::<ErrorBody>(body) {
        return from_error_code(err.error, err.error_description);
    }
    if (200..300).contains(&status)
        && let Ok(ok) = serde_json::from_slice::<SuccessBody>(body)
    {
        return match ok.id_token {
            Some(id) if !id.is_empty() => PollOutcome::Tokens(TokenResponse {
                id_token: IdToken::new(id),
                access_token: ok.access_token.map(AccessToken::new),
                expires_in: ok.expires_in,
                scope: ok.scope,
            }),
            _ => PollOutcome::Malformed { status },
        };
    }
    if status >= 500 || status == 429 {
        return PollOutcome::Unavailable {
            status,
            retry_after: parse_retry_after(retry_after),
        };
    }
    PollOutcome::Malformed { status }
}

fn from_error_code(code: String, description: Option<String>) -> PollOutcome {
    match code.as_str() {
        "authorization_pending" => PollOutcome::Pending,
        "slow_down" => PollOutcome::SlowDown,
        "access_denied" => PollOutcome::Denied,
        "expired_token" => PollOutcome::Expired,
        "invalid_grant" => PollOutcome::InvalidGrant,
        "transaction_failed" => PollOutcome::TransactionFailed,
        "invalid_request"
        | "invalid_client"
        | "unauthorized_client"
        | "unsupported_grant_type"
        | "invalid_scope" => PollOutcome::Refused { code, description },
        _ => match code.strip_prefix(MITID_ERROR_PREFIX) {
            Some(status) => PollOutcome::MitId {
                status: status.to_string(),
            },
            None => PollOutcome::Unknown { code, description },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, code: &str) -> PollOutcome {
        classify(status, None, format!(r#"{{"error":"{code}"}}"#).as_bytes())
    }

    #[test]
    fn every_code_of_the_broker_poll_table_has_its_own_outcome() {
        assert!(matches!(
            err(400, "authorization_pending"),
            PollOutcome::Pending
        ));
        assert!(matches!(err(400, "slow_down"), PollOutcome::SlowDown));
        assert!(matches!(err(400, "access_denied"), PollOutcome::Denied));
        assert!(matches!(err(400, "expired_token"), PollOutcome::Expired));
        assert!(matches!(
            err(400, "invalid_grant"),
            PollOutcome::InvalidGrant
        ));
        assert!(matches!(
            err(400, "transaction_failed"),
            PollOutcome::TransactionFailed
        ));
        assert!(matches!(
            err(400, "invalid_request"),
            PollOutcome::Refused { .. }
        ));
        match err(400, "mitid_flex_app.mitid_error_4001") {
            PollOutcome::MitId { status } => assert_eq!(status, "4001"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            err(400, "brand_new_code"),
            PollOutcome::Unknown { .. }
        ));
    }

    #[test]
    fn the_error_field_wins_over_the_http_status() {
        // Some OPs send 401/503 with a CIBA error body; the body decides.
        assert!(matches!(
            err(503, "authorization_pending"),
            PollOutcome::Pending
        ));
        assert!(matches!(err(200, "access_denied"), PollOutcome::Denied));
        assert!(matches!(
            err(401, "invalid_client"),
            PollOutcome::Refused { .. }
        ));
    }

    #[test]
    fn unavailable_carries_retry_after() {
        match classify(503, Some(" 7 "), b"<html>busy</html>") {
            PollOutcome::Unavailable {
                status: 503,
                retry_after,
            } => assert_eq!(retry_after, Some(Duration::from_secs(7))),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(502, Some("Wed, 21 Oct 2015 07:28:00 GMT"), b""),
            PollOutcome::Unavailable {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn non_json_and_empty_success_are_malformed_and_transient() {
        let o = classify(400, None, b"<html>oops</html>");
        assert!(matches!(o, PollOutcome::Malformed { status: 400 }));
        assert!(o.is_transient());
        assert!(matches!(
            classify(200, None, br#"{"access_token":"a"}"#),
            PollOutcome::Malformed { .. }
        ));
    }

    #[test]
    fn success_keeps_tokens_out_of_debug() {
        let o = classify(200, None, br#"{"id_token":"eyJ.x.y","access_token":"at","expires_in":3600,"token_type":"Bearer"}"#);
        let PollOutcome::Tokens(t) = &o else {
            panic!("{o:?}")
        };
        assert_eq!(t.id_token.expose(), "eyJ.x.y");
        assert!(!format!("{o:?}").contains("eyJ"));
    }
}
