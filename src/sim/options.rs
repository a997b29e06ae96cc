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
    fn wire_seconds_round_up() {
        assert_eq!(wire_secs(Duration::from_millis(200)), 1);
        assert_eq!(wire_secs(Duration::from_secs(3)), 3);
        assert_eq!(wire_secs(Duration::from_millis(3001)), 4);
        assert_eq!(wire_secs(Duration::ZERO), 1);
    }
}
