//! Property tests: whatever an OP (or a phone on the LAN, for the simulator) sends, the
//! parsers and the wait schedule never panic and keep their bounds. 10,000 cases each; a
//! panic fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use mitid_flex_tv::ciba::discovery::{ASYMMETRIC_ALGS, ProviderMetadata};
use mitid_flex_tv::ciba::idtoken::{self, Expectations, NonceMode};
use mitid_flex_tv::ciba::{IdToken, poll, start};
use mitid_flex_tv::session::WaitPolicy;
use mitid_flex_tv::session::timing::{Answer, MAX_LIFETIME, Schedule, Step};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::time::Instant;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 10_000,
        // Failure persistence writes files next to the sources; CI needs none.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Numbers as an OP could spell them: extremes of u64, i64 and f64, and small values.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(0)),
        (0u64..100_000).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(Value::Null),
        Just(json!([1])),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "\\PC{0,20}",
        ".{0,20}",
        Just("x".repeat(2000))
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        Just(Answer::Pending),
        Just(Answer::SlowDown),
        proptest::option::of(any::<u64>().prop_map(Duration::from_secs))
            .prop_map(|retry_after| Answer::Transient { retry_after }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wait_schedule_stays_within_the_lifetime(
        expires_in in prop_oneof![any::<u64>(), Just(u64::MAX), 1u64..4000],
        interval in proptest::option::of(prop_oneof![any::<u64>(), Just(u64::MAX), 0u64..100]),
        answers in proptest::collection::vec((answer(), any::<u32>()), 0..12),
    ) {
        let t0 = Instant::now();
        let mut s = Schedule::new(
            t0,
            Duration::from_secs(expires_in),
            interval.map(Duration::from_secs),
            WaitPolicy::default(),
        );
        let deadline = s.deadline();
        prop_assert!(deadline <= t0 + MAX_LIFETIME);
        prop_assert_eq!(deadline, t0 + Duration::from_secs(expires_in).min(MAX_LIFETIME));
        prop_assert!(s.interval() >= Duration::from_secs(1));
        let mut now = t0;
        for (a, later_ms) in answers {
            match s.next(now) {
                Step::WaitUntil(t) => prop_assert!(t > now && t <= deadline),
                Step::Deadline => prop_assert!(now >= deadline),
                Step::Poll => {
                    s.poll_sent();
                    prop_assert_eq!(s.next(now), Step::AwaitAnswer);
                    let wait = s.answered(now, a);
                    prop_assert!(wait >= s.interval());
                }
                Step::AwaitAnswer => prop_assert!(false, "no poll is in flight"),
            }
            now += Duration::from_millis(u64::from(later_ms % 4_000_000));
        }
    }

    #[test]
    fn start_answers_parse_or_fail_cleanly(
        id in prop_oneof![text().prop_map(Value::from), number()],
        expires_in in number(),
        interval in number(),
        status in 100u16..600,
        drop_field in 0u8..4,
    ) {
        let mut body = json!({"auth_req_id": id, "expires_in": expires_in, "interval": interval});
        if let Some(name) = ["auth_req_id", "expires_in", "interval"].get(usize::from(drop_field)) {
            body.as_object_mut().map(|o| o.remove(*name));
        }
        if let Ok(r) = start::parse(status, body.to_string().as_bytes()) {
            prop_assert!(r.expires_in > 0);
            prop_assert!(start::valid_auth_req_id(r.auth_req_id.expose()));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_parser(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        status in 0u16..1000,
        retry_after in proptest::option::of(text()),
    ) {
        let _ = start::parse(status, &body);
        let _ = poll::classify(status, retry_after.as_deref(), &body);
        let _ = serde_json::from_slice::<ProviderMetadata>(&body);
        let _ = serde_json::from_slice::<JwkSet>(&body);
        let _ = mitid_flex_tv::sim::hint::parse_login_hint_token(&String::from_utf8_lossy(&body));
    }

    #[test]
    fn poll_answers_classify_without_panic(
        error in prop_oneof![
            Just("authorization_pending".to_string()),
            Just("slow_down".to_string()),
            Just("mitid_flex_app.mitid_error_".to_string()),
            text(),
        ],
        description in proptest::option::of(text()),
        id_token in proptest::option::of(text()),
        nonce in number(),
        status in 100u16..600,
        success in any::<bool>(),
    ) {
        let body = if success {
            json!({"id_token": id_token, "access_token": "a", "ciba_nonce": nonce})
        } else {
            json!({"error": error, "error_description": description})
        };
        let _ = poll::classify(status, Some("99999999999999999999999"), body.to_string().as_bytes());
    }

    #[test]
    fn discovery_documents_check_without_panic(
        issuer in prop_oneof![Just("https://op.example/op".to_string()), Just("http://127.0.0.1:1/op".to_string()), text()],
        endpoint in prop_oneof![Just("https://op.example/op/x".to_string()), Just("http://192.0.2.1/x".to_string()), text()],
        algs in proptest::collection::vec(prop_oneof![Just("RS256".to_string()), Just("none".to_string()), Just("HS256".to_string()), text()], 0..4),
        same_origin in any::<bool>(),
    ) {
        let doc = json!({
            "issuer": issuer, "token_endpoint": endpoint, "jwks_uri": endpoint,
            "backchannel_authentication_endpoint": endpoint, "userinfo_endpoint": endpoint,
            "id_token_signing_alg_values_supported": algs,
        });
        let meta: ProviderMetadata = serde_json::from_value(doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ok = meta.check(&issuer, same_origin).is_ok();
        prop_assert!(meta.allowed_algs().iter().all(|a| ASYMMETRIC_ALGS.contains(a)));
        if ok {
            prop_assert!(!meta.allowed_algs().is_empty());
            let u = url::Url::parse(&endpoint).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(mitid_flex_tv::ciba::discovery::transport_allowed(&u));
        }
    }

    #[test]
    fn jwt_and_jwks_never_panic(
        header in prop_oneof![
            Just(json!({"alg": "RS256", "kid": "k"})),
            Just(json!({"alg": "RS256", "crit": ["exp"]})),
            Just(json!({"alg": "none"})),
            Just(json!({"alg": "HS256"})),
            text().prop_map(|a| json!({"alg": a})),
            number().prop_map(|n| json!({"alg": "RS256", "kid": n, "crit": n})),
        ],
        claims in (number(), number(), number(), text()).prop_map(|(exp, iat, nbf, s)| json!({
            "iss": "https://op.example/op", "aud": "c", "sub": s, "exp": exp, "iat": iat, "nbf": nbf,
        })),
        signature in proptest::collection::vec(any::<u8>(), 0..300),
        raw in text(),
        n in text(),
        e in text(),
    ) {
        let token = format!(
            "{}.{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string()),
            B64.encode(&signature)
        );
        let allowed = [Algorithm::RS256];
        let set = json!({"keys": [{"kty": "RSA", "kid": "k", "n": n, "e": e}]});
        let jwks: Option<JwkSet> = serde_json::from_value(set).ok();
        let jwk = jwks.as_ref().and_then(|s| s.keys.first());
        let expect = Expectations {
            issuer: "https://op.example/op",
            client_id: "c",
            trusted_audiences: &[],
            allowed_algs: &allowed,
            signaturgruppen: true,
            ciba_nonce: Some("n"),
            nonce_mode: NonceMode::Verify,
            response_nonce: None,
            access_token: None,
            now: std::time::SystemTime::now(),
        };
        for t in [token, raw] {
            let t = IdToken::new(t);
            if let Ok((alg, _)) = idtoken::header(&t, &allowed) {
                // An unsigned, forged or garbled token is never accepted.
                prop_assert!(idtoken::validate(&t, alg, jwk, &expect).is_err());
            }
        }
    }

    #[test]
    fn simulator_login_hint_parser_never_panics(
        fields in proptest::collection::btree_map(
            prop_oneof![
                Just("idp".to_string()), Just("uuid".to_string()), Just("cpr".to_string()),
                Just("referenceTextBody".to_string()), Just("ip".to_string()),
                Just("action".to_string()), Just("ciba_nonce".to_string()),
                Just("idp_params".to_string()), Just("idp_values".to_string()), text(),
            ],
            prop_oneof![text().prop_map(Value::from), number()],
            0..8,
        ),
        as_base64 in any::<bool>(),
    ) {
        let json = serde_json::to_string(&fields).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let raw = if as_base64 {
            base64::engine::general_purpose::STANDARD.encode(&json)
        } else {
            json
        };
        let _ = mitid_flex_tv::sim::hint::parse_login_hint_token(&raw);
    }
}
