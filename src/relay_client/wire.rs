//! The box ↔ relay wire format, version 1: JSON over HTTPS with mutual TLS.
//!
//! `POST /v1/signins` starts, `GET /v1/signins/{handle}` polls, `DELETE /v1/signins/{handle}`
//! cancels. The handle is sealed to the calling box's certificate, so a handle that leaks
//! into a proxy log is useless to anyone else. Both sides use these types.

use serde::{Deserialize, Serialize};

pub const START_PATH: &str = "/v1/signins";

/// Longest handle either side accepts (a sealed `auth_req_id` is about 200 characters).
pub const MAX_HANDLE_LEN: usize = 1024;

/// Whom the box wants to sign in. No `Debug`: it can carry a CPR number.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireWho {
    Uuid(String),
    Cpr(String),
    UserId(String),
    /// CIBA + PAR: the relay returns an `authentication_uri` to show as a QR code.
    Qr,
}

impl std::fmt::Debug for WireWho {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WireWho::Uuid(_) => "Uuid(..)",
            WireWho::Cpr(_) => "Cpr(<redacted>)",
            WireWho::UserId(_) => "UserId(..)",
            WireWho::Qr => "Qr",
        })
    }
}

#[derive(Serialize, Deserialize)]
pub struct StartRequest {
    pub who: WireWho,
    /// The handle of a sign-in whose answer was lost in a relay crash
    /// (`lost_in_relay_crash`): the relay starts a new one for the same viewer with the same
    /// reference text and code, so the TV's screen stays right. It is a new push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
}

/// The restart handle is a capability for this box's sign-in: never printed.
impl std::fmt::Debug for StartRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartRequest")
            .field("who", &self.who)
            .field("restart", &self.restart.as_ref().map(|_| "<handle>"))
            .finish()
    }
}

/// `201 Created`. The relay wrote the reference text and drew the code: a box cannot make
/// the viewer's phone show a text of its choosing.
#[derive(Serialize, Deserialize)]
pub struct StartReply {
    pub handle: String,
    /// Exactly what the MitID app shows; empty for QR.
    pub reference_text: String,
    /// The verification code inside `reference_text`; empty for QR.
    pub code: String,
    pub expires_in: u64,
    pub interval: u64,
    /// QR flow only.
    pub authentication_uri: Option<String>,
}

/// A poll's answer (`200`). Transient trouble at the broker is a `503` with an error body.
#[derive(Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PollReply {
    Pending,
    SlowDown,
    Result(ResultBody),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireOutcome {
    SignedIn,
    Rejected,
    Expired,
    /// The broker lost or already delivered the answer: start again.
    StartAgain,
    /// The broker delivered the answer to a relay instance that died before keeping it:
    /// start again with `restart` (the viewer gets one more push).
    LostInRelayCrash,
    /// The broker refused the relay's configuration.
    ConfigRefused,
    /// The relay's own ID token validation failed.
    TokenRejected,
    MitidError,
    Failed,
}

impl WireOutcome {
    pub const ALL: [WireOutcome; 9] = [
        WireOutcome::SignedIn,
        WireOutcome::Rejected,
        WireOutcome::Expired,
        WireOutcome::StartAgain,
        WireOutcome::LostInRelayCrash,
        WireOutcome::ConfigRefused,
        WireOutcome::TokenRejected,
        WireOutcome::MitidError,
        WireOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WireOutcome::SignedIn => "signed_in",
            WireOutcome::Rejected => "rejected",
            WireOutcome::Expired => "expired",
            WireOutcome::StartAgain => "start_again",
            WireOutcome::LostInRelayCrash => "lost_in_relay_crash",
            WireOutcome::ConfigRefused => "config_refused",
            WireOutcome::TokenRejected => "token_rejected",
            WireOutcome::MitidError => "mitid_error",
            WireOutcome::Failed => "failed",
        }
    }
}

/// The end of a sign-in. On `signed_in` the box gets the broker's original ID token (and the
/// access token its `at_hash` binds), and validates them itself against the broker's keys.
#[derive(Serialize, Deserialize)]
pub struct ResultBody {
    pub outcome: WireOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The identity as the relay read it (the box trusts only its own validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<serde_json::Value>,
    /// MitID status code, OAuth error code or reason, for logs and the error screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Every non-2xx answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// With `429`: seconds until a push for this box or viewer is allowed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Error codes of `ErrorBody::error` that the relay itself defines (the broker's OAuth codes,
/// such as `unknown_user_id`, are passed through).
pub mod codes {
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const DENIED_BOX: &str = "box_denied";
    pub const UNKNOWN_HANDLE: &str = "unknown_handle";
    pub const BAD_REQUEST: &str = "invalid_request";
    pub const BROKER_UNAVAILABLE: &str = "broker_unavailable";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_has_the_documented_json_forms() {
        let j = |w: WireWho| {
            serde_json::to_string(&StartRequest {
                who: w,
                restart: None,
            })
            .unwrap()
        };
        assert_eq!(j(WireWho::Qr), r#"{"who":"qr"}"#);
        assert_eq!(j(WireWho::Uuid("u".into())), r#"{"who":{"uuid":"u"}}"#);
        assert_eq!(j(WireWho::UserId("x".into())), r#"{"who":{"user_id":"x"}}"#);
        assert!(!format!("{:?}", WireWho::Cpr("0804361234".into())).contains("0804"));
        let restart = StartRequest {
            who: WireWho::Qr,
            restart: Some("sealed-handle-xyz".into()),
        };
        assert!(!format!("{restart:?}").contains("sealed-handle-xyz"));
    }

    #[test]
    fn poll_replies_are_tagged_by_status() {
        let p: PollReply = serde_json::from_str(r#"{"status":"pending"}"#).unwrap();
        assert!(matches!(p, PollReply::Pending));
        let r = serde_json::to_value(PollReply::Result(ResultBody {
            outcome: WireOutcome::MitidError,
            id_token: None,
            access_token: None,
            profile: None,
            detail: Some("4001".into()),
        }))
        .unwrap();
        assert_eq!(
            r,
            serde_json::json!({"status":"result","outcome":"mitid_error","detail":"4001"})
        );
        for o in WireOutcome::ALL {
            let s = serde_json::to_value(o).unwrap();
            assert_eq!(s, o.as_str());
        }
    }
}
