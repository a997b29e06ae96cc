//! The ID token against hostile headers and claims: `crit` (RFC 7515 §4.1.11), times at
//! the i64 limits, a key for another algorithm, and `ciba_nonce` wherever it is echoed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod idtoken_support;

use idtoken_support::*;
use mitid_flex_tv::ciba::NonceMode;
use serde_json::{Value, json};

#[test]
fn ciba_nonce_is_checked_wherever_it_is_echoed() {
    let k = Key::new("K1");
    let bare = k.rs256(&without(claims(), "ciba_nonce"));
    let full = k.rs256(&claims());
    let verify = |t: &str, top| check_nonce(t, &[k.jwk()], NonceMode::Verify, top);
    let require = |t: &str, top| check_nonce(t, &[k.jwk()], NonceMode::Require, top);
    // verify: no echo is accepted; any mismatch, in the token or at the top level, is fatal.
    assert!(verify(&bare, None).is_ok());
    assert!(verify(&bare, Some("n-1")).is_ok());
    assert!(verify(&full, Some("n-1")).is_ok());
    assert_eq!(step_of(verify(&bare, Some("other"))), 11);
    assert_eq!(step_of(verify(&full, Some("other"))), 11);
    // require: an echo in either place is enough.
    assert!(require(&bare, Some("n-1")).is_ok());
    assert!(require(&full, None).is_ok());
    assert_eq!(step_of(require(&bare, None)), 11);
    // off: nothing was sent, nothing is checked.
    assert!(check_nonce(&bare, &[k.jwk()], NonceMode::Off, Some("other")).is_ok());
}

#[test]
fn unknown_crit_header_is_rejected() {
    // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject.
    let k = Key::new("K1");
    let header = |crit: Value| json!({"alg": "RS256", "kid": "K1", "crit": crit, "exp": 1});
    for crit in [json!(["exp"]), json!(["b64"]), json!("exp"), json!(null)] {
        let token = k.sign(&header(crit.clone()), &claims());
        assert_eq!(step_of(check(&token, &[k.jwk()])), 1, "{crit}");
    }
    assert!(check(&k.sign(&header(json!([])), &claims()), &[k.jwk()]).is_ok());
}

#[test]
fn extreme_times_never_wrap() {
    // In release builds `now - iat` with iat = i64::MIN used to wrap and skip the age check.
    let k = Key::new("K1");
    for (claim, v) in [
        ("iat", json!(i64::MIN)),
        ("iat", json!(i64::MAX)),
        ("exp", json!(i64::MIN)),
        ("nbf", json!(i64::MAX)),
        ("iat", json!(-1e300)),
        ("exp", json!(-1e300)),
    ] {
        let c = with(claims(), claim, v.clone());
        assert_eq!(step_of(check(&k.rs256(&c), &[k.jwk()])), 7, "{claim}={v}");
    }
    // exp far in the future is fine (it is the iat age that bounds a token's use).
    let c = with(claims(), "exp", json!(u64::MAX));
    assert!(check(&k.rs256(&c), &[k.jwk()]).is_ok());
}

#[test]
fn key_algorithm_is_compared_by_value() {
    let k = Key::new("K1");
    let mut jwk = k.jwk();
    jwk.common.key_algorithm = Some(jsonwebtoken::jwk::KeyAlgorithm::RS384);
    assert_eq!(step_of(check(&k.rs256(&claims()), &[jwk])), 3);
}
