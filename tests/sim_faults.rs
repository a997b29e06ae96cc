//! Every injected fault of the broker simulator, through the Rust API and the control endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim_support;

use std::time::{Duration, Instant};

use mitid_flex_tv::sim::{
    Endpoint, Faults, PP_DEMO_CLIENT_ID, RequestStatus, WRONG_AUDIENCE, WRONG_ISSUER,
};
use serde_json::{Value, json};
use sim_support::*;

async fn approved_request(sim: &mitid_flex_tv::sim::SimHandle) -> String {
    let id = start_flex(sim, DOC_HINT_JSON).await;
    sim.approve(&id, None).expect("approve");
    tokio::time::sleep(FAST_INTERVAL).await;
    id
}

#[tokio::test]
async fn delay_holds_the_response() {
    let sim = start(fast_options()).await;
    sim.set_faults(Faults::default().delay_ms(400).times(1));
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    let t = Instant::now();
    let (_, body) = poll(&sim, &id).await;
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(
        error_of(&body),
        "authorization_pending",
        "a delay alone changes nothing else"
    );
    tokio::time::sleep(FAST_INTERVAL).await;
    let t = Instant::now();
    poll(&sim, &id).await;
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "times: 1 means once"
    );
}

#[tokio::test]
async fn server_error_then_recovery() {
    let sim = start(fast_options()).await;
    let id = approved_request(&sim).await;
    sim.set_request_faults(&id, Faults::default().http_status(503).times(1))
        .expect("faults");
    let (status, body) = poll(&sim, &id).await;
    assert_eq!(status, 503);
    assert!(body.is_string(), "not JSON: {body}");
    assert_eq!(
        sim.request(&id).expect("info").status,
        RequestStatus::Approved,
        "a 5xx does not consume the result"
    );
    assert_eq!(
        sim.request(&id).expect("info").polls,
        1,
        "a faulted poll still counts"
    );
    tokio::time::sleep(FAST_INTERVAL).await;
    let (status, _) = poll(&sim, &id).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn non_json_body_on_chosen_endpoints() {
    let sim = start(fast_options()).await;
    sim.set_faults(
        Faults::default()
            .non_json()
            .on(&[Endpoint::Ciba, Endpoint::Jwks]),
    );
    let (status, body) = ciba(&sim, "login_hint_token", DOC_HINT_JSON).await;
    assert_eq!(
        (status, body),
        (200, Value::Null),
        "200 with a body that is not JSON"
    );
    let res = http()
        .get(format!(
            "{}/.well-known/openid-configuration/jwks",
            sim.authority()
        ))
        .send()
        .await
        .expect("jwks");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    sim.set_faults(Faults::default());
    assert_eq!(ciba(&sim, "login_hint_token", DOC_HINT_JSON).await.0, 200);
}

#[tokio::test]
async fn dropped_success_is_collected_and_answered_502() {
    let sim = start(fast_options()).await;
    let id = approved_request(&sim).await;
    sim.set_request_faults(&id, Faults::default().drop_success())
        .expect("faults");
    let (status, _) = poll(&sim, &id).await;
    assert_eq!(status, 502);
    assert_eq!(
        sim.request(&id).expect("info").status,
        RequestStatus::Collected
    );
    tokio::time::sleep(FAST_INTERVAL).await;
    let (_, body) = poll(&sim, &id).await;
    assert_eq!(error_of(&body), "invalid_grant", "the result is gone");
}

#[tokio::test]
async fn wrong_signature_keeps_the_kid_but_does_not_verify() {
    let sim = start(fast_options()).await;
    let id = approved_request(&sim).await;
    sim.set_request_faults(&id, Faults::default().wrong_signature())
        .expect("faults");
    let (status, tokens) = poll(&sim, &id).await;
    assert_eq!(status, 200);
    let id_token = tokens["id_token"].as_str().expect("id");
    assert_eq!(header_of(id_token).kid.as_deref(), Some(sim.kid().as_str()));
    let err = verify(&sim, id_token, Some(PP_DEMO_CLIENT_ID))
        .await
        .expect_err("must not verify");
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidSignature
    );
    assert!(
        verify(&sim, tokens["access_token"].as_str().expect("at"), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn wrong_aud_wrong_iss_and_expired_id_tokens() {
    let sim = start(fast_options()).await;
    for (faults, check) in [
        (Faults::default().wrong_aud(), "aud"),
        (Faults::default().wrong_iss(), "iss"),
        (Faults::default().expired_id_token(), "exp"),
    ] {
        let id = approved_request(&sim).await;
        sim.set_request_faults(&id, faults).expect("faults");
        let (_, tokens) = poll(&sim, &id).await;
        let id_token = tokens["id_token"].as_str().expect("id");
        let claims = claims_of(id_token);
        let err = verify(&sim, id_token, Some(PP_DEMO_CLIENT_ID))
            .await
            .expect_err(check);
        use jsonwebtoken::errors::ErrorKind;
        match check {
            "aud" => {
                assert_eq!(claims["aud"], WRONG_AUDIENCE);
                assert_eq!(*err.kind(), ErrorKind::InvalidAudience);
            }
            "iss" => {
                assert_eq!(claims["iss"], WRONG_ISSUER);
                assert_eq!(*err.kind(), ErrorKind::InvalidIssuer);
            }
            _ => {
                assert!(claims["exp"].as_u64().expect("exp") < mitid_flex_tv_now());
                assert_eq!(*err.kind(), ErrorKind::ExpiredSignature);
            }
        }
    }
}

fn mitid_flex_tv_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test]
async fn rotated_key_is_published_after_it_signs() {
    let sim = start(fast_options()).await;
    let old_kid = sim.kid();
    let id = approved_request(&sim).await;
    sim.set_request_faults(&id, Faults::default().rotated_key())
        .expect("faults");
    let (_, tokens) = poll(&sim, &id).await;
    let id_token = tokens["id_token"].as_str().expect("id");
    let new_kid = header_of(id_token).kid.expect("kid");
    assert_ne!(new_kid, old_kid);
    assert_eq!(sim.kid(), new_kid);
    let set = jwks(&sim).await;
    let kids: Vec<_> = set
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    verify(&sim, id_token, Some(PP_DEMO_CLIENT_ID))
        .await
        .expect("re-fetched JWKS verifies the new kid");
}

#[tokio::test]
async fn slow_down_storm_until_it_runs_out() {
    let sim = start(fast_options()).await;
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    sim.set_request_faults(&id, Faults::default().slow_down_storm().times(2))
        .expect("faults");
    for _ in 0..2 {
        tokio::time::sleep(FAST_INTERVAL + Duration::from_millis(30)).await;
        assert_eq!(
            error_of(&poll(&sim, &id).await.1),
            "slow_down",
            "storm ignores the gap"
        );
    }
    let info = sim.request(&id).expect("info");
    assert_eq!(info.slow_downs, 2);
    assert_eq!(info.interval_ms, 10_200, "each slow_down still adds 5 s");
}

#[tokio::test]
async fn control_endpoint_takes_json() {
    let sim = start(fast_options()).await;
    let id = approved_request(&sim).await;
    let url = format!("{}/_sim/faults", sim.base_url());
    let res = http()
        .post(&url)
        .json(&json!({"auth_req_id": id, "http_status": 500, "times": 1}))
        .send()
        .await
        .expect("faults");
    assert_eq!(res.status(), 200);
    assert_eq!(poll(&sim, &id).await.0, 500);
    let res = http()
        .post(&url)
        .json(&json!({"delay_ms": 1, "endpoints": ["userinfo"]}))
        .send()
        .await
        .expect("global");
    assert_eq!(res.status(), 200);
    let current: Value = http()
        .get(&url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(current["endpoints"], json!(["userinfo"]));
    let res = http()
        .post(&url)
        .json(&json!({"no_such_fault": true}))
        .send()
        .await
        .expect("bad");
    assert_eq!(res.status(), 400, "unknown fault names are refused");
    let res = http().delete(&url).send().await.expect("clear");
    assert_eq!(res.status(), 204);
    let current: Value = http()
        .get(&url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(current["delay_ms"], 0);
}
