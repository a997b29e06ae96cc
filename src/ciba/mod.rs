//! OpenID Connect CIBA, poll mode, with the Signaturgruppen broker's MitID Flex app profile.
//!
//! Protocol only: no UI, no user-facing text, no waiting loop (that is `session`). Every
//! answer is read through one capped reader (`wire`) and parsed into typed, bounded values
//! (`start`, `poll`, `claims`) before any of it is used.

// Values from outside (expires_in, interval, exp, iat…) may be anything: every integer
// operation here must be checked or saturating.
#![deny(clippy::arithmetic_side_effects)]

pub mod claims;
pub mod client;
pub mod discovery;
pub mod error;
pub mod hint;
pub mod idtoken;
pub mod poll;
pub mod profile;
pub mod secret;
pub mod start;
pub mod wire;

pub use client::{CibaClient, ClientAuth, ClientConfig, Dialect, ParResponse};
pub use error::CibaError;
pub use hint::{Action, FlexHint, FlexSubject, HintEncoding, LoginHint};
pub use idtoken::{IdTokenError, NonceMode};
pub use poll::{PollOutcome, TokenResponse};
pub use profile::Profile;
pub use secret::{AccessToken, AuthReqId, ClientSecret, Cpr, IdToken};
pub use start::StartResponse;
