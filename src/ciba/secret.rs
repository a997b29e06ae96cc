//! Values that must never reach a log line or a `Debug` print.
//!
//! Each newtype only hands out its content through an explicitly named accessor, so a
//! leak has to be written on purpose and is easy to find in review.

use std::fmt;

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        // Deserialize so config files can hold one without a plain `String` ever existing
        // in a `Debug`-printable struct.
        #[derive(Clone, PartialEq, Eq, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The raw value, for the wire only.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_string!(
    /// The OAuth client secret.
    ClientSecret
);
secret_string!(
    /// The CIBA `auth_req_id`: whoever holds it can collect the viewer's tokens.
    AuthReqId
);
secret_string!(
    /// A raw, not yet validated, ID token.
    IdToken
);
secret_string!(
    /// A raw access token.
    AccessToken
);
secret_string!(
    /// A Danish CPR number (10 digits, no dash).
    Cpr
);

impl AuthReqId {
    /// A short, non-reversible tag to correlate log lines of one request.
    pub fn log_tag(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.0.as_bytes());
        digest.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = ClientSecret::new("hunter2");
        let id = AuthReqId::new("0A2179A15B686CB-1");
        assert_eq!(format!("{s:?}"), "ClientSecret(<redacted>)");
        assert!(!format!("{id:?}").contains("0A21"));
        assert!(!format!("{:?}", Cpr::new("0804361234")).contains("0804"));
    }

    #[test]
    fn log_tag_is_short_and_stable() {
        let id = AuthReqId::new("abc");
        assert_eq!(id.log_tag().len(), 8);
        assert_eq!(id.log_tag(), AuthReqId::new("abc").log_tag());
        assert_ne!(id.log_tag(), AuthReqId::new("abd").log_tag());
    }
}
