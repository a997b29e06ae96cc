//! Reading the relay's answers: capped bodies, `Retry-After`, `Server-Timing`, error bodies
//! as typed errors, and results as the session's poll outcomes.

use std::time::Duration;

use super::wire::{ErrorBody, ResultBody, WireOutcome, WireWho};
use crate::ciba::{CibaError, FlexSubject, IdToken, LoginHint, PollOutcome, TokenResponse};

/// Largest relay answer read; an ID token is a few KiB.
const MAX_BODY: usize = 64 * 1024;
/// Longest wait a 429 may ask for before we show it to the viewer as is.
pub const MAX_RETRY_AFTER_SECS: u64 = 3600;
pub const ENDPOINT: &str = "relay";

pub(super) struct Answer {
    pub status: u16,
    /// `Retry-After` in seconds.
    pub wait: Option<u64>,
    pub bytes: Vec<u8>,
}

/// `Server-Timing: broker;dur=<ms>` (W3C Server Timing §3).
pub(super) fn server_timing(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get("server-timing")?.to_str().ok()?;
    let ms: f64 = v.strip_prefix("broker;dur=")?.trim().parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms.min(3_600_000.0) / 1000.0))
}

/// Reads at most `MAX_BODY` bytes through the one capped reader; a longer body is an error,
/// not a truncated parse.
pub(super) async fn body(resp: reqwest::Response) -> Result<(u16, Vec<u8>), CibaError> {
    let status = resp.status().as_u16();
    let buf = crate::ciba::wire::read_capped(ENDPOINT, resp, MAX_BODY).await?;
    Ok((status, buf))
}

pub(super) fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// An error answer as a typed error: 429 carries the wait, the broker's OAuth codes pass
/// through (`unknown_user_id` …), 5xx is the service's trouble.
pub(super) fn error_answer(status: u16, header_wait: Option<u64>, bytes: &[u8]) -> CibaError {
    let parsed = serde_json::from_slice::<ErrorBody>(bytes).ok();
    if status == 429 {
        let secs = header_wait
            .or(parsed.as_ref().and_then(|e| e.retry_after))
            .unwrap_or(1)
            .clamp(1, MAX_RETRY_AFTER_SECS);
        return CibaError::RateLimited {
            endpoint: ENDPOINT,
            retry_after_secs: secs,
        };
    }
    match parsed {
        Some(e) if status < 500 => CibaError::Oauth {
            endpoint: ENDPOINT,
            status,
            code: e.error,
            description: e.error_description,
        },
        Some(e) => CibaError::Protocol {
            endpoint: ENDPOINT,
            status,
            detail: e.error,
        },
        None => CibaError::Protocol {
            endpoint: ENDPOINT,
            status,
            detail: "error status without an error body".into(),
        },
    }
}

pub(super) fn wire_who(hint: &LoginHint) -> WireWho {
    match hint {
        LoginHint::Flex(f) => match &f.subject {
            FlexSubject::Uuid(u) => WireWho::Uuid(u.clone()),
            FlexSubject::Cpr(c) => WireWho::Cpr(c.expose().to_string()),
        },
        LoginHint::Standard { user_id, .. } => WireWho::UserId(user_id.clone()),
        LoginHint::BrokerOidc { .. } => WireWho::Qr,
    }
}

/// The relay's result as the session's poll outcome, so the session words it as always.
pub(super) fn from_result(r: ResultBody) -> PollOutcome {
    let detail = r.detail.unwrap_or_default();
    match r.outcome {
        WireOutcome::SignedIn => match r.id_token {
            Some(t) if !t.is_empty() => PollOutcome::Tokens(TokenResponse {
                id_token: IdToken::new(t),
                access_token: r.access_token.map(crate::ciba::AccessToken::new),
                ciba_nonce: None,
            }),
            _ => PollOutcome::Malformed { status: 200 },
        },
        WireOutcome::Rejected => PollOutcome::Denied,
        WireOutcome::Expired => PollOutcome::Expired,
        // Handled in `poll` while a restart is possible; after that, start again.
        WireOutcome::StartAgain | WireOutcome::LostInRelayCrash => PollOutcome::InvalidGrant,
        WireOutcome::ConfigRefused => PollOutcome::Refused {
            code: "relay_config_refused".into(),
            description: Some(detail),
        },
        WireOutcome::MitidError => PollOutcome::MitId { status: detail },
        WireOutcome::TokenRejected => PollOutcome::Unknown {
            code: "relay_token_rejected".into(),
            description: Some(detail),
        },
        WireOutcome::Failed => PollOutcome::Unknown {
            code: "relay_failed".into(),
            description: Some(detail),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_requests_is_typed_with_the_wait() {
        let e = error_answer(
            429,
            Some(42),
            br#"{"error":"rate_limited","retry_after":7}"#,
        );
        assert!(matches!(
            e,
            CibaError::RateLimited {
                retry_after_secs: 42,
                ..
            }
        ));
        let e = error_answer(429, None, br#"{"error":"rate_limited","retry_after":7}"#);
        assert!(matches!(
            e,
            CibaError::RateLimited {
                retry_after_secs: 7,
                ..
            }
        ));
        let e = error_answer(429, Some(99_999_999), b"");
        assert!(matches!(
            e,
            CibaError::RateLimited {
                retry_after_secs: MAX_RETRY_AFTER_SECS,
                ..
            }
        ));
    }

    #[test]
    fn broker_codes_pass_through_and_5xx_is_the_service() {
        let e = error_answer(400, None, br#"{"error":"unknown_user_id"}"#);
        assert_eq!(e.oauth_code(), Some("unknown_user_id"));
        assert!(matches!(
            error_answer(502, None, br#"{"error":"broker_unavailable"}"#),
            CibaError::Protocol { status: 502, .. }
        ));
    }

    #[test]
    fn relay_results_map_to_the_sessions_outcomes() {
        let r = |outcome, detail: Option<&str>| ResultBody {
            outcome,
            id_token: None,
            access_token: None,
            profile: None,
            detail: detail.map(str::to_string),
        };
        assert!(matches!(
            from_result(r(WireOutcome::Rejected, None)),
            PollOutcome::Denied
        ));
        assert!(matches!(
            from_result(r(WireOutcome::SignedIn, None)),
            PollOutcome::Malformed { .. }
        ));
        match from_result(r(WireOutcome::MitidError, Some("4001"))) {
            PollOutcome::MitId { status } => assert_eq!(status, "4001"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_result(r(WireOutcome::StartAgain, None)),
            PollOutcome::InvalidGrant
        ));
    }
}
