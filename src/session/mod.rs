//! The sign-in journey: start a CIBA request, wait for the viewer's phone, finish once.
//!
//! `timing` holds the wait rules as pure data with an injected `now`; `runner` drives
//! them with tokio's clock (paused in tests); `backend` is the seam to the broker.
//! No UI code and no user-facing text here: outcomes are typed and the UI words them.

pub mod backend;
pub mod code;
pub mod runner;
pub mod timing;

use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

pub use backend::{Backend, Shown, Started};
pub use runner::{SessionHandle, spawn};
pub use timing::WaitPolicy;

use crate::ciba::{Action, FlexHint, FlexSubject, LoginHint, Profile};

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
    /// Send a random `ciba_nonce` and require the ID token to echo it.
    pub ciba_nonce: bool,
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
            ciba_nonce: s
                .ciba_nonce
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
    pub code: String,
    /// When the request ends: start + `expires_in` (and, for QR, no later than the
    /// `request_uri` lifetime).
    pub deadline: Instant,
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

impl Outcome {
    /// Exit status of `mitid-flex-tv signin` (documented in the README).
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::SignedIn(_) => 0,
            Outcome::ConfigRefused { .. } => 2,
            Outcome::Rejected => 3,
            Outcome::Expired => 4,
            Outcome::UnknownUser => 5,
            Outcome::NoConnection { .. }
            | Outcome::StartAgain
            | Outcome::MitIdError { .. }
            | Outcome::Failed { .. } => 6,
            Outcome::TokenRejected { .. } => 7,
            Outcome::Cancelled => 130,
        }
    }
}

/// The identity handed to the operator's middleware and printed by `signin`
/// (documented in packaging/README.md). `reference_text` is what the viewer approved.
pub fn identity_json(
    profile: &Profile,
    reference_text: &str,
    signed_in_at: std::time::SystemTime,
) -> serde_json::Value {
    let at = time::OffsetDateTime::from(signed_in_at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    serde_json::json!({
        "sub": profile.sub,
        "name": profile.name,
        "uuid": profile.uuid,
        "date_of_birth": profile.date_of_birth,
        "age": profile.age,
        "issuer": profile.issuer,
        "reference_text": profile.reference_text.as_deref().or(Some(reference_text).filter(|t| !t.is_empty())),
        "signed_in_at": at,
    })
}
