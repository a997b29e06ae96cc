//! How a simulator run is set up.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::faults::Faults;
use super::identities::{Identity, SimClient, default_identities};
use super::keys::SigningKey;

/// Settings of one simulator run. `SimOptions::default()` behaves like the broker's PP
/// environment with the public demo client: `expires_in` 300 s, `interval` 3 s.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Lifetime of an `auth_req_id`. Sent rounded up to whole seconds (at least 1).
    pub expires_in: Duration,
    /// Required gap between polls. Sent rounded up to whole seconds (at least 1); enforced
    /// with millisecond precision, so tests may use e.g. 200 ms.
    pub interval: Duration,
    /// Decide every request by itself this long after it was started (demos, tests).
    pub auto_approve_after: Option<Duration>,
    /// Make the automatic decision a rejection. Without `auto_approve_after` the decision
    /// comes after one second.
    pub auto_reject: bool,
    /// Where the signing key is kept (created with mode 0600). `None`: an in-memory key.
    pub data_dir: Option<PathBuf>,
    /// Base URL a phone on the LAN can reach (e.g. `http://192.168.1.20:8787`), used for
    /// the QR flow's `authentication_uri` and `phone_url`. The issuer stays the local URL.
    pub public_base_url: Option<url::Url>,
    pub identities: Vec<Identity>,
    /// Accepted clients. The default holds the broker's PP demo client.
    pub clients: Vec<SimClient>,
    /// Run-wide faults from the start.
    pub faults: Faults,
    /// Use this key instead of loading or generating one (tests can share one key).
    pub signing_key: Option<Arc<SigningKey>>,
    /// What the minted tokens look like.
    pub shape: TokenShape,
}

/// Where the token response echoes the `ciba_nonce` of the login hint. The broker's doc only
/// says it is "received in token response" (flex-app-ciba.md), so a client must cope with
/// every placement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonceEcho {
    /// As a claim of the ID token.
    #[default]
    IdToken,
    /// At the top level of the token response.
    Response,
    Both,
    None,
}

impl NonceEcho {
    pub fn in_id_token(self) -> bool {
        matches!(self, NonceEcho::IdToken | NonceEcho::Both)
    }

    pub fn in_response(self) -> bool {
        matches!(self, NonceEcho::Response | NonceEcho::Both)
    }
}

impl std::str::FromStr for NonceEcho {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "id-token" => Ok(NonceEcho::IdToken),
            "response" => Ok(NonceEcho::Response),
            "both" => Ok(NonceEcho::Both),
            "none" => Ok(NonceEcho::None),
            _ => Err(format!(
                "unknown nonce echo {s:?}; use id-token, response, both or none"
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenShape {
    pub nonce_echo: NonceEcho,
    /// Leave `mitid.identity_name` and `mitid.date_of_birth` out of the ID token (userinfo
    /// still has them), as the broker's ID tokens may (issued-claims-tokens.md).
    pub lean_id_token: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            expires_in: Duration::from_secs(300),
            interval: Duration::from_secs(3),
            auto_approve_after: None,
            auto_reject: false,
            data_dir: None,
            public_base_url: None,
            identities: default_identities(),
            clients: vec![SimClient::pp_demo()],
            faults: Faults::default(),
            signing_key: None,
            shape: TokenShape::default(),
        }
    }
}

impl SimOptions {
    /// Handy for tests: default options with the given timings.
    pub fn with_timings(interval: Duration, expires_in: Duration) -> Self {
        Self {
            interval,
            expires_in,
            ..Self::default()
        }
    }

    /// The delay after which an automatic decision is made, if any.
    pub(crate) fn auto_decision(&self) -> Option<(Duration, bool)> {
        match (self.auto_approve_after, self.auto_reject) {
            (Some(after), reject) => Some((after, reject)),
            (None, true) => Some((Duration::from_secs(1), true)),
            (None, false) => None,
        }
    }
}

/// Whole seconds for the wire, rounded up and at least 1.
pub(crate) fn wire_secs(d: Duration) -> u64 {
    let ms = d.as_millis();
    u64::try_from(ms.div_ceil(1000)).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_echo_names() {
        for (name, echo) in [
            ("id-token", NonceEcho::IdToken),
            ("response", NonceEcho::Response),
            ("both", NonceEcho::Both),
            ("none", NonceEcho::None),
        ] {
            assert_eq!(name.parse::<NonceEcho>(), Ok(echo));
        }
        assert!("token".parse::<NonceEcho>().is_err());
    }

    #[test]
    fn wire_seconds_round_up() {
        assert_eq!(wire_secs(Duration::from_millis(200)), 1);
        assert_eq!(wire_secs(Duration::from_secs(3)), 3);
        assert_eq!(wire_secs(Duration::from_millis(3001)), 4);
        assert_eq!(wire_secs(Duration::ZERO), 1);
    }
}
