//! The sign-in journey: start a CIBA request, wait for the viewer's phone, finish once.
//!
//! `timing` holds the wait rules as pure data with an injected `now`; `runner` drives
//! them with tokio's clock (paused in tests); `backend` is the seam to the broker.
//! No UI code and no user-facing text here: outcomes are typed and the UI words them.

// Values from outside (expires_in, interval, exp, iat…) may be anything: every integer
// operation here must be checked or saturating.
#![deny(clippy::arithmetic_side_effects)]

pub mod backend;
pub mod code;
mod finish;
pub mod runner;
pub mod timing;

use std::net::IpAddr;
use std::time::Duration;

pub use backend::{Backend, Shown, Started};
pub use runner::{SessionHandle, spawn};
pub use timing::WaitPolicy;

use crate::ciba::{Action, FlexHint, FlexSubject, LoginHint, NonceMode, Profile};

/// Whom to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// MitID Flex app by uuid or CPR (Signaturgruppen only).
    Flex(FlexSubject),
    /// Standard CIBA `login_hint` (any CIBA OP).
    UserId(String),
    /// CIBA + PAR: a QR code the phone's browser opens (Signaturgruppen only).
    Qr,
}

#[derive(Clone, Debug)]
pub struct SessionSettings {
    pub service_name: String,
    /// Must contain `{code}`; may contain `{service}`.
    pub reference_template: String,
    pub action: Option<Action>,
    /// The viewer's IP for the broker's risk data (`ip` in the Flex hint).
    pub client_ip: IpAddr,
    /// Whether to send a random `ciba_nonce` (Flex hint only) and how its echo is checked.
    pub ciba_nonce: NonceMode,
    /// Standard `login_hint` only: send just the code as `binding_message` (OPs limit its
    /// characters), rather than the whole reference text.
    pub binding_message_is_code: bool,
    pub policy: WaitPolicy,
}

/// The request the OP gets for `who`, carrying `reference_text` (Flex) or the code (standard
/// `binding_message`, CIBA Core §7.1) and a fresh `ciba_nonce` when configured. Shared by the
/// session and the relay, which builds it for its boxes.
pub fn login_hint(who: Who, s: &SessionSettings, reference_text: &str, code: &str) -> LoginHint {
    match who {
        Who::Flex(subject) => LoginHint::Flex(FlexHint {
            subject,
            reference_text: reference_text.to_string(),
            ip: s.client_ip,
            action: s.action,
            reference_id: None,
            ciba_nonce: (s.ciba_nonce != NonceMode::Off)
                .then(|| uuid::Uuid::new_v4().simple().to_string()),
        }),
        Who::UserId(user_id) => LoginHint::Standard {
            user_id,
            binding_message: Some(if s.binding_message_is_code {
                code.to_string()
            } else {
                reference_text.to_string()
            }),
        },
        Who::Qr => LoginHint::BrokerOidc {
            idp_values: "mitid".into(),
            prompt_login: true,
        },
    }
}

/// What the viewer has to look at while the phone decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Exactly the text the MitID app shows (Flex), or the text the TV shows next to the
    /// `binding_message` code (standard CIBA). Empty for QR.
    pub reference_text: String,
    /// The verification code inside the reference text (empty for QR).
    pub code: String,
    /// Time left when this was sent: `expires_in` from the start (for QR, no more than the
    /// `request_uri` lifetime, and never more than `timing::MAX_LIFETIME`) minus the time the start took. A duration rather than an
    /// instant, so that the UI counts down on its own clock.
    pub left: Duration,
    pub expires_in: Duration,
    /// QR flow: the URL to show as a QR code.
    pub authentication_uri: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    Starting,
    Waiting(Waiting),
    /// Polls are failing (`ok == false`) or work again. The request is still alive.
    Connection {
        ok: bool,
    },
    Finished(Outcome),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    SignedIn(Profile),
    /// The viewer said no in the MitID app (`access_denied`).
    Rejected,
    /// The request's lifetime ran out (`expired_token` or our deadline).
    Expired,
    /// The OP does not know this viewer (`unknown_user_id`).
    UnknownUser,
    /// The operator's relay refused to push yet (HTTP 429): too many sign-ins for this TV or
    /// this viewer. Nothing was sent to the phone; try again after `wait_secs`.
    RateLimited {
        wait_secs: u64,
    },
    /// `invalid_grant` while waiting: the result was lost or already taken. Start again.
    StartAgain,
    /// The viewer (or the app's exit) cancelled; the OP was told once.
    Cancelled,
    /// The OP could not be reached, or only answered with server errors, until the deadline.
    NoConnection {
        detail: String,
    },
    /// The OP refused our configuration (client, scope, request parameters).
    ConfigRefused {
        detail: String,
    },
    /// The ID token did not validate; nobody is signed in.
    TokenRejected {
        detail: String,
    },
    /// MitID ended the flow with this status code.
    MitIdError {
        status: String,
    },
    /// `transaction_failed` or an error code no spec defines.
    Failed {
        detail: String,
    },
}
