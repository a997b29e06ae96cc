//! Injected faults: per run (options/CLI flags), changed at runtime through the loopback-only
//! `POST /_sim/faults`, or attached to one `auth_req_id`.
//!
//! JSON body of `POST /_sim/faults` (every field optional; unknown fields are refused):
//! ```json
//! { "auth_req_id": "…-1",          // omit for run-wide faults
//!   "delay_ms": 1500, "http_status": 503, "non_json": false,
//!   "endpoints": ["token", "ciba"], // where delay/http_status/non_json apply; default ["token"]
//!   "drop_success": false, "wrong_signature": false, "wrong_aud": false, "wrong_iss": false,
//!   "expired_id_token": false, "rotated_key": false, "slow_down_storm": false,
//!   "times": 2 }                     // affect this many responses, then stop; default: always
//! ```

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Endpoints a transport fault (delay, status, non-JSON body) can hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Discovery,
    Jwks,
    Ciba,
    Token,
    Cancel,
    InitAuth,
    Userinfo,
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            format!("unknown endpoint {s:?}; use discovery, jwks, ciba, token, cancel, init_auth or userinfo")
        })
    }
}

/// A set of faults. `Faults::default()` is "no faults".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Hold each response of the targeted endpoints this long.
    pub delay_ms: u64,
    /// Answer the targeted endpoints with this status (e.g. 503) and a plain-text body.
    pub http_status: Option<u16>,
    /// Answer the targeted endpoints with 200 and an HTML body.
    pub non_json: bool,
    /// Where `delay_ms`, `http_status` and `non_json` apply; empty means the token endpoint.
    pub endpoints: Vec<Endpoint>,
    /// The successful poll marks the request collected but is answered with 502.
    pub drop_success: bool,
    /// Sign the ID token with a key that the JWKS does not publish, keeping the usual kid.
    pub wrong_signature: bool,
    pub wrong_aud: bool,
    pub wrong_iss: bool,
    /// An ID token whose `exp` lies in the past.
    pub expired_id_token: bool,
    /// Rotate to a new signing key (new kid, added to the JWKS) before signing.
    pub rotated_key: bool,
    /// Answer every poll of a pending request with `slow_down`, whatever the gap.
    pub slow_down_storm: bool,
    /// End a pending request with `mitid_flex_app.mitid_error_{this}` on its next poll.
    pub mitid_error: Option<String>,
    /// Affect this many responses, then stop. `None`: no limit.
    pub times: Option<u32>,
}

impl Faults {
    pub fn is_empty(&self) -> bool {
        self == &Self::default() || self.times == Some(0)
    }

    pub(crate) fn hits(&self, endpoint: Endpoint) -> bool {
        if self.endpoints.is_empty() {
            endpoint == Endpoint::Token
        } else {
            self.endpoints.contains(&endpoint)
        }
    }

    pub(crate) fn has_transport(&self) -> bool {
        self.delay_ms > 0 || self.http_status.is_some() || self.non_json
    }

    /// Faults that change what a successful poll returns.
    pub(crate) fn shapes_success(&self) -> bool {
        self.drop_success
            || self.wrong_signature
            || self.wrong_aud
            || self.wrong_iss
            || self.expired_id_token
            || self.rotated_key
    }

    /// Counts one affected response.
    pub(crate) fn consume(&mut self) {
        if let Some(n) = &mut self.times {
            *n = n.saturating_sub(1);
        }
    }

    // Builder helpers so Rust tests read naturally: `Faults::default().http_status(503).times(1)`.
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.delay_ms = ms;
        self
    }
    pub fn http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }
    pub fn non_json(mut self) -> Self {
        self.non_json = true;
        self
    }
    pub fn on(mut self, endpoints: &[Endpoint]) -> Self {
        self.endpoints = endpoints.to_vec();
        self
    }
    pub fn drop_success(mut self) -> Self {
        self.drop_success = true;
        self
    }
    pub fn wrong_signature(mut self) -> Self {
        self.wrong_signature = true;
        self
    }
    pub fn wrong_aud(mut self) -> Self {
        self.wrong_aud = true;
        self
    }
    pub fn wrong_iss(mut self) -> Self {
        self.wrong_iss = true;
        self
    }
    pub fn expired_id_token(mut self) -> Self {
        self.expired_id_token = true;
        self
    }
    pub fn rotated_key(mut self) -> Self {
        self.rotated_key = true;
        self
    }
    pub fn slow_down_storm(mut self) -> Self {
        self.slow_down_storm = true;
        self
    }
    pub fn mitid_error(mut self, status_code: &str) -> Self {
        self.mitid_error = Some(status_code.to_string());
        self
    }
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// Body of `POST /_sim/faults`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FaultRequest {
    pub auth_req_id: Option<String>,
    #[serde(flatten)]
    pub faults: Faults,
}

impl FaultRequest {
    /// Parses the JSON body. Unknown fault names are refused, so a typo cannot silently
    /// switch nothing on (serde's `flatten` would swallow them).
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        let mut map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|e| format!("body must be a JSON object: {e}"))?;
        let auth_req_id = match map.remove("auth_req_id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(_) => return Err("auth_req_id must be a string".into()),
        };
        let faults =
            serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string())?;
        Ok(Self {
            auth_req_id,
            faults,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_round_trip() {
        let body = r#"{"auth_req_id":"X-1","http_status":503,"endpoints":["token","init_auth"],"times":1}"#;
        let req = FaultRequest::from_json(body.as_bytes()).expect("parses");
        assert!(FaultRequest::from_json(br#"{"non_jsn": true}"#).is_err());
        assert_eq!(req.auth_req_id.as_deref(), Some("X-1"));
        assert_eq!(
            req.faults,
            Faults::default()
                .http_status(503)
                .on(&[Endpoint::Token, Endpoint::InitAuth])
                .times(1)
        );
        assert!(req.faults.hits(Endpoint::InitAuth));
        assert!(!req.faults.hits(Endpoint::Jwks));
    }

    #[test]
    fn times_runs_out() {
        let mut f = Faults::default().non_json().times(1);
        assert!(!f.is_empty());
        f.consume();
        assert!(f.is_empty());
        assert!(Faults::default().hits(Endpoint::Token));
        assert_eq!("init_auth".parse::<Endpoint>(), Ok(Endpoint::InitAuth));
        assert!("nope".parse::<Endpoint>().is_err());
    }
}
