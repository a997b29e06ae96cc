//! The backchannel authentication answer (CIBA Core §7.3), parsed into bounded values.
//!
//! Malformed means the OP answered nonsense: the request is not used (and, where the OP has
//! a cancel endpoint, cancelled). Large but well-formed numbers are kept as they are, and
//! the session caps them.

use serde::Deserialize;
use serde_json::Value;

use super::error::CibaError;
use super::secret::AuthReqId;

/// Longest `auth_req_id` we accept. CIBA Core §7.3 sets no limit; the broker's are under 100
/// characters, and the id goes into a URL path for cancel.
pub const MAX_AUTH_REQ_ID_LEN: usize = 1024;

#[derive(Debug)]
pub struct StartResponse {
    pub auth_req_id: AuthReqId,
    /// Seconds, at least 1. May be huge: the session caps the lifetime.
    pub expires_in: u64,
    /// Seconds; absent means the CIBA Core default of 5 s. 0 is allowed (the session polls
    /// no faster than its minimum interval).
    pub interval: Option<u64>,
}

#[derive(Deserialize)]
struct StartBody {
    auth_req_id: Option<Value>,
    expires_in: Option<Value>,
    interval: Option<Value>,
}

/// Parses a 2xx answer of the backchannel authentication endpoint.
pub fn parse(status: u16, body: &[u8]) -> Result<StartResponse, CibaError> {
    let malformed = |detail: &str, id: Option<&str>| CibaError::BadStart {
        status,
        detail: detail.to_string(),
        auth_req_id: id.map(AuthReqId::new),
    };
    let b: StartBody =
        serde_json::from_slice(body).map_err(|_| malformed("not a JSON object", None))?;
    let id = match b.auth_req_id {
        Some(Value::String(s)) if valid_auth_req_id(&s) => s,
        Some(_) => {
            return Err(malformed(
                "auth_req_id is not 1 to 1024 visible ASCII characters",
                None,
            ));
        }
        None => return Err(malformed("auth_req_id is missing", None)),
    };
    let bad = |detail: &str| malformed(detail, Some(&id));
    let expires_in = match b.expires_in.as_ref().map(whole_seconds) {
        Some(Some(s)) if s > 0 => s,
        Some(_) => return Err(bad("expires_in is not a positive whole number")),
        None => return Err(bad("expires_in is missing")),
    };
    let interval = match b.interval {
        None | Some(Value::Null) => None,
        Some(v) => Some(whole_seconds(&v).ok_or_else(|| bad("interval is not a whole number"))?),
    };
    Ok(StartResponse {
        auth_req_id: AuthReqId::new(id),
        expires_in,
        interval,
    })
}

/// 1..=1024 characters from `!` to `~`: nothing that could break a URL path, a header or a
/// log line.
pub fn valid_auth_req_id(s: &str) -> bool {
    (1..=MAX_AUTH_REQ_ID_LEN).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// A non-negative whole JSON number of seconds, saturating at `u64::MAX` (a number too
/// large for u64 arrives as a float). Negative, fractional, non-numeric: `None`.
pub fn whole_seconds(v: &Value) -> Option<u64> {
    let Value::Number(n) = v else { return None };
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    let f = n.as_f64()?;
    // `as` saturates for finite floats; 2^64 and beyond become u64::MAX.
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0).then_some(f as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> StartResponse {
        parse(200, body.as_bytes()).unwrap()
    }

    fn malformed(body: &str) -> bool {
        matches!(parse(200, body.as_bytes()), Err(CibaError::BadStart { .. }))
    }

    #[test]
    fn a_well_formed_id_is_kept_for_cancelling() {
        match parse(200, br#"{"auth_req_id":"r-1","expires_in":-3}"#) {
            Err(CibaError::BadStart {
                auth_req_id: Some(id),
                ..
            }) => assert_eq!(id.expose(), "r-1"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_broker_example_parses() {
        let r = ok(r#"{"auth_req_id":"0A2179A15B686CB-1","expires_in":300,"interval":3}"#);
        assert_eq!(r.auth_req_id.expose(), "0A2179A15B686CB-1");
        assert_eq!((r.expires_in, r.interval), (300, Some(3)));
    }

    #[test]
    fn nonsense_is_malformed() {
        for body in [
            r#"{"expires_in":300}"#,
            r#"{"auth_req_id":"","expires_in":300}"#,
            r#"{"auth_req_id":"a b","expires_in":300}"#,
            r#"{"auth_req_id":"a\u001b","expires_in":300}"#,
            r#"{"auth_req_id":"æ","expires_in":300}"#,
            r#"{"auth_req_id":42,"expires_in":300}"#,
            r#"{"auth_req_id":"a"}"#,
            r#"{"auth_req_id":"a","expires_in":0}"#,
            r#"{"auth_req_id":"a","expires_in":-1}"#,
            r#"{"auth_req_id":"a","expires_in":1.5}"#,
            r#"{"auth_req_id":"a","expires_in":"300"}"#,
            r#"{"auth_req_id":"a","expires_in":300,"interval":-5}"#,
            r#"{"auth_req_id":"a","expires_in":300,"interval":0.5}"#,
            r#"{"auth_req_id":"a","expires_in":300,"interval":"5"}"#,
            "[]",
            "",
        ] {
            assert!(malformed(body), "{body}");
        }
        let long = "a".repeat(MAX_AUTH_REQ_ID_LEN + 1);
        assert!(malformed(&format!(
            r#"{{"auth_req_id":"{long}","expires_in":300}}"#
        )));
    }

    #[test]
    fn huge_numbers_are_kept_for_the_session_to_cap() {
        let r = ok(r#"{"auth_req_id":"a","expires_in":18446744073709551615,"interval":0}"#);
        assert_eq!((r.expires_in, r.interval), (u64::MAX, Some(0)));
        let r = ok(r#"{"auth_req_id":"a","expires_in":1e300,"interval":1e30}"#);
        assert_eq!((r.expires_in, r.interval), (u64::MAX, Some(u64::MAX)));
        let r = ok(r#"{"auth_req_id":"a","expires_in":60,"interval":null}"#);
        assert_eq!(r.interval, None);
    }
}
