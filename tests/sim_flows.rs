//! The broker simulator over real HTTP: the reference doc's requests, poll semantics, tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim_support;

use std::time::Duration;

use mitid_flex_tv::sim::{PP_DEMO_CLIENT_ID, PP_DEMO_CLIENT_SECRET, RequestStatus, SimOptions};
use serde_json::Value;
use sim_support::*;

#[tokio::test]
async fn discovery_describes_a_ciba_poll_op() {
    let sim = start(fast_options()).await;
    let d: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            sim.authority()
        ))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let iss = sim.authority();
    assert_eq!(d["issuer"], iss.as_str());
    assert_eq!(
        d["jwks_uri"],
        format!("{iss}/.well-known/openid-configuration/jwks")
    );
    assert_eq!(d["token_endpoint"], format!("{iss}/connect/token"));
    assert_eq!(
        d["backchannel_authentication_endpoint"],
        format!("{iss}/connect/ciba")
    );
    assert_eq!(d["userinfo_endpoint"], format!("{iss}/connect/userinfo"));
    assert_eq!(
        d["backchannel_token_delivery_modes_supported"],
        serde_json::json!(["poll"])
    );
    assert!(
        d["grant_types_supported"]
            .as_array()
            .expect("array")
            .iter()
            .any(|g| g == CIBA_GRANT)
    );
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let methods = d["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("array");
    assert!(
        methods.iter().any(|m| m == "client_secret_post")
            && methods.iter().any(|m| m == "client_secret_basic")
    );
    assert!(
        d["scopes_supported"]
            .as_array()
            .expect("array")
            .iter()
            .any(|s| s == "mitid")
    );
    let set = jwks(&sim).await;
    assert_eq!(set.keys.len(), 1);
    assert_eq!(
        set.keys[0].common.key_id.as_deref(),
        Some(sim.kid().as_str())
    );
}

/// The doc's curl lines: JSON hint → pending → approve via /_sim → tokens → invalid_grant.
#[tokio::test]
async fn doc_flow_with_json_hint_gives_verifiable_tokens() {
    let sim = start(fast_options()).await;
    let (status, body) = ciba(&sim, "login_hint_token", DOC_HINT_JSON).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 30);
    assert_eq!(
        body["interval"], 1,
        "200 ms is sent rounded up to whole seconds"
    );
    let id = body["auth_req_id"].as_str().expect("id").to_owned();
    assert!(
        id.ends_with("-1") && id.len() == 66,
        "broker-shaped id: {id}"
    );

    let (status, body) = poll(&sim, &id).await;
    assert_eq!((status, error_of(&body)), (400, "authorization_pending"));
    assert_eq!(
        body,
        serde_json::json!({"error": "authorization_pending"}),
        "exactly the doc's body"
    );

    let res = http()
        .post(format!("{}/_sim/approve/{id}", sim.base_url()))
        .send()
        .await
        .expect("approve");
    assert_eq!(res.status(), 200);

    let (status, tokens) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "openid mitid");

    let id_token = tokens["id_token"].as_str().expect("id_token");
    let header = header_of(id_token);
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(sim.kid().as_str()));
    let claims = verify(&sim, id_token, Some(PP_DEMO_CLIENT_ID))
        .await
        .expect("id_token verifies against JWKS");
    for name in [
        "iss",
        "aud",
        "sub",
        "nbf",
        "iat",
        "exp",
        "auth_time",
        "at_hash",
        "idp",
        "idtoken_type",
        "mitid.uuid",
        "mitid.identity_name",
        "mitid.date_of_birth",
        "mitid.age",
        "mitid.has_cpr",
        "mitid.reference_text",
        "mitid.transaction_id",
        "idp_transaction_id",
    ] {
        assert!(
            claims.get(name).is_some(),
            "claim {name} missing in {claims}"
        );
    }
    assert_eq!(claims["idp"], "mitid");
    assert_eq!(claims["idtoken_type"], "ciba");
    assert_eq!(claims["mitid.uuid"], ILEYA_UUID);
    assert_eq!(claims["mitid.identity_name"], "Ileya Jensen");
    assert_eq!(claims["mitid.date_of_birth"], "1936-04-08");
    assert_eq!(claims["mitid.has_cpr"], "true");
    assert_eq!(claims["mitid.reference_text"], "Testing MitID Flex app 😉");
    assert_eq!(claims["mitid.transaction_id"], claims["idp_transaction_id"]);
    assert!(
        claims["mitid.age"]
            .as_str()
            .expect("age is a string")
            .parse::<u32>()
            .expect("number")
            >= 88
    );
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        300
    );
    assert!(claims.get("ciba_nonce").is_none());
    assert!(uuid::Uuid::parse_str(claims["sub"].as_str().expect("sub")).is_ok());

    let access_token = tokens["access_token"].as_str().expect("access_token");
    assert_eq!(header_of(access_token).typ.as_deref(), Some("at+jwt"));
    let at = verify(&sim, access_token, None)
        .await
        .expect("access token verifies");
    assert_eq!(at["scope"], serde_json::json!(["openid", "mitid"]));
    assert_eq!(at["client_id"], PP_DEMO_CLIENT_ID);
    assert_eq!(at["sub"], claims["sub"]);
    assert!(at["jti"].is_string());
    assert_eq!(
        at["exp"].as_u64().expect("exp") - at["iat"].as_u64().expect("iat"),
        3600
    );
    // OIDC Core §3.1.3.6.
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    assert_eq!(
        claims["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
    );

    tokio::time::sleep(FAST_INTERVAL).await;
    let (status, body) = poll(&sim, &id).await;
    assert_eq!(
        (status, error_of(&body)),
        (400, "invalid_grant"),
        "tokens are returned once"
    );

    let info = sim.request(&id).expect("introspection");
    assert_eq!(info.status, RequestStatus::Collected);
    assert_eq!(info.identity.as_deref(), Some("ileya"));
    assert!(info.polls >= 3);

    // userinfo with the access token.
    let ui: Value = http()
        .get(format!("{}/connect/userinfo", sim.authority()))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(ui["sub"], claims["sub"]);
    assert_eq!(ui["mitid.uuid"], ILEYA_UUID);
    let bad = http()
        .get(format!("{}/connect/userinfo", sim.authority()))
        .bearer_auth("nope")
        .send()
        .await
        .expect("userinfo");
    assert_eq!(bad.status(), 401);
}

#[tokio::test]
async fn base64_and_postman_hints_reach_the_same_person() {
    let sim = start(fast_options()).await;
    for hint in [DOC_HINT_BASE64, POSTMAN_HINT] {
        let id = start_flex(&sim, hint).await;
        let info = sim.request(&id).expect("info");
        assert_eq!(info.identity.as_deref(), Some("ileya"), "hint {hint}");
        assert_eq!(info.reference_text, "Testing MitID Flex app 😉");
        sim.approve(&id, None).expect("approve");
        let claims = signed_in_claims(&sim, &id).await;
        assert_eq!(claims["mitid.uuid"], ILEYA_UUID);
    }
}

#[tokio::test]
async fn standard_login_hint_matches_user_id_and_echoes_nonce_for_flex() {
    let sim = start(fast_options()).await;
    let (status, body) = ciba(&sim, "login_hint", "soeren").await;
    assert_eq!(status, 200, "{body}");
    let id = body["auth_req_id"].as_str().expect("id").to_owned();
    sim.approve(&id, None).expect("approve");
    let (_, tokens) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
    let claims = claims_of(tokens["id_token"].as_str().expect("id"));
    assert_eq!(claims["mitid.identity_name"], "Søren Ærø Åberg");
    assert_eq!(
        sim.request(&id).expect("info").login_hint_kind,
        mitid_flex_tv::sim::HintKind::LoginHint
    );

    let hint = r#"{"idp":"mitid","cpr":"170512-4018","referenceTextBody":"Se film","ip":"10.0.0.1","action":"LOG_ON","ciba_nonce":"n-42"}"#;
    let id = start_flex(&sim, hint).await;
    assert_eq!(
        sim.request(&id).expect("info").action.as_deref(),
        Some("LOG_ON")
    );
    sim.approve(&id, None).expect("approve");
    let (_, tokens) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
    let claims = claims_of(tokens["id_token"].as_str().expect("id"));
    assert_eq!(claims["ciba_nonce"], "n-42");
    assert_eq!(claims["mitid.identity_name"], "Lukas Møller Dahl");
    assert!(
        claims["mitid.age"]
            .as_str()
            .expect("age")
            .parse::<u32>()
            .expect("n")
            < 18
    );
}

#[tokio::test]
async fn request_validation_follows_the_field_table() {
    let sim = start(fast_options()).await;
    let cases = [
        (
            r#"{"idp":"nemid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","referenceTextBody":"x","ip":"1.1.1.1"}"#,
            "idp",
        ),
        (
            r#"{"idp":"mitid","referenceTextBody":"x","ip":"1.1.1.1"}"#,
            "uuid or cpr",
        ),
        (
            r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","cpr":"0804361234","referenceTextBody":"x","ip":"1.1.1.1"}"#,
            "not both",
        ),
        (
            r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","ip":"1.1.1.1"}"#,
            "referenceTextBody",
        ),
        (
            r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","referenceTextBody":"x"}"#,
            "ip",
        ),
        (
            r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","referenceTextBody":"x","ip":"1.1.1.1","action":"PAY"}"#,
            "action",
        ),
        ("%%%", "neither JSON nor base64"),
    ];
    for (hint, rule) in cases {
        let (status, body) = ciba(&sim, "login_hint_token", hint).await;
        assert_eq!(
            (status, error_of(&body)),
            (400, "invalid_request"),
            "{hint}"
        );
        let description = body["error_description"].as_str().expect("description");
        assert!(
            description.contains(rule),
            "{description:?} should name {rule:?}"
        );
    }
    let long = "a".repeat(131);
    let (status, body) = ciba(
        &sim,
        "login_hint_token",
        &format!(
            r#"{{"idp":"mitid","uuid":"{ILEYA_UUID}","referenceTextBody":"{long}","ip":"1.1.1.1"}}"#
        ),
    )
    .await;
    assert_eq!((status, error_of(&body)), (400, "invalid_request"));

    let (status, body) = ciba(&sim, "login_hint_token", r#"{"idp":"mitid","uuid":"00000000-0000-4000-8000-000000000001","referenceTextBody":"x","ip":"1.1.1.1"}"#).await;
    assert_eq!((status, error_of(&body)), (400, "unknown_user_id"));
    let (status, body) = ciba(&sim, "login_hint", "nobody").await;
    assert_eq!((status, error_of(&body)), (400, "unknown_user_id"));
    assert!(sim.requests().is_empty(), "refused requests leave no trace");
}

#[tokio::test]
async fn wrong_client_credentials_give_401_invalid_client() {
    let sim = start(fast_options()).await;
    let url = format!("{}/connect/ciba", sim.authority());
    let post = http()
        .post(&url)
        .form(&[
            ("scope", "openid"),
            ("client_id", PP_DEMO_CLIENT_ID),
            ("client_secret", "wrong"),
            ("login_hint", "ileya"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 401);
    let body: Value = post.json().await.expect("json");
    assert_eq!(error_of(&body), "invalid_client");

    let basic = http()
        .post(&url)
        .basic_auth(PP_DEMO_CLIENT_ID, Some("wrong"))
        .form(&[("scope", "openid"), ("login_hint", "ileya")])
        .send()
        .await
        .expect("basic");
    assert_eq!(basic.status(), 401);
    assert!(basic.headers().contains_key("www-authenticate"));

    let good_basic = http()
        .post(&url)
        .basic_auth(PP_DEMO_CLIENT_ID, Some(PP_DEMO_CLIENT_SECRET))
        .form(&[("scope", "openid"), ("login_hint", "ileya")])
        .send()
        .await
        .expect("basic");
    assert_eq!(good_basic.status(), 200, "client_secret_basic works");

    let poll = http()
        .post(format!("{}/connect/token", sim.authority()))
        .form(&[
            ("grant_type", CIBA_GRANT),
            ("client_id", "someone-else"),
            ("client_secret", "x"),
            ("auth_req_id", "x"),
        ])
        .send()
        .await
        .expect("poll");
    assert_eq!(poll.status(), 401);
}

#[tokio::test]
async fn reject_gives_access_denied_once_then_invalid_grant() {
    let sim = start(fast_options()).await;
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    let res = http()
        .post(format!("{}/_sim/reject/{id}", sim.base_url()))
        .send()
        .await
        .expect("reject");
    assert_eq!(res.status(), 200);
    let (status, body) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
    assert_eq!((status, error_of(&body)), (400, "access_denied"));
    tokio::time::sleep(FAST_INTERVAL).await;
    let (_, body) = poll(&sim, &id).await;
    assert_eq!(error_of(&body), "invalid_grant");
    assert_eq!(
        sim.request(&id).expect("info").status,
        RequestStatus::Rejected
    );
}

#[tokio::test]
async fn expiry_gives_expired_token() {
    let sim = start(SimOptions {
        expires_in: Duration::from_millis(600),
        ..fast_options()
    })
    .await;
    let (_, body) = ciba(&sim, "login_hint_token", DOC_HINT_JSON).await;
    assert_eq!(body["expires_in"], 1);
    let id = body["auth_req_id"].as_str().expect("id").to_owned();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        sim.request(&id).expect("info").status,
        RequestStatus::Expired
    );
    let (status, body) = poll(&sim, &id).await;
    assert_eq!((status, error_of(&body)), (400, "expired_token"));
    assert!(
        sim.approve(&id, None).is_err(),
        "an expired request cannot be approved"
    );
}

#[tokio::test]
async fn unknown_id_gives_invalid_grant() {
    let sim = start(fast_options()).await;
    let (status, body) = poll(&sim, "0A2179A15B686CB..3AC29A5A6A-1").await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
}

/// The broker's poll table ("Ciba integration"): invalid_grant means "Invalid request id or flow no longer
/// valid"; a cancelled flow is no longer valid, so the simulator answers invalid_grant.
#[tokio::test]
async fn cancel_ends_the_request() {
    let sim = start(fast_options()).await;
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    let res = http()
        .delete(format!("{}/api/v1/ciba/{id}", sim.authority()))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 200);
    let info = sim.request(&id).expect("info");
    assert!(info.cancelled);
    assert_eq!((info.status, info.cancels), (RequestStatus::Cancelled, 1));
    let (status, body) = poll(&sim, &id).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    assert!(sim.approve(&id, None).is_err());
    let res = http()
        .delete(format!("{}/api/v1/ciba/unknown-1", sim.authority()))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn fast_polls_get_slow_down_and_the_interval_grows_by_five_seconds() {
    // An interval of 2 s: back-to-back polls are well inside it however busy the machine,
    // and every gap below is judged by the simulator's own clock.
    let sim = start(SimOptions {
        interval: Duration::from_secs(2),
        ..fast_options()
    })
    .await;
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (_, first) = poll(&sim, &id).await;
    assert_eq!(
        error_of(&first),
        "authorization_pending",
        "the first poll has no previous poll to be near"
    );
    let (status, second) = poll(&sim, &id).await;
    assert_eq!((status, error_of(&second)), (400, "slow_down"));
    let info = sim.request(&id).expect("info");
    assert_eq!(info.slow_downs, 1);
    assert_eq!(info.interval_ms, 7_000, "CIBA Core §11: +5 s per slow_down");
    assert!(info.min_poll_gap_ms.expect("gap") < 2_000);
    assert!(info.first_poll_after_ms.expect("first") >= 120);
    // The old interval is no longer enough: 2.5 s is past the old 2 s, short of the new 7 s.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (_, third) = poll(&sim, &id).await;
    assert_eq!(error_of(&third), "slow_down");
    assert_eq!(sim.request(&id).expect("info").slow_downs, 2);
    let list: Vec<Value> = http()
        .get(format!("{}/_sim/requests", sim.base_url()))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    for field in [
        "auth_req_id",
        "status",
        "polls",
        "slow_downs",
        "min_poll_gap_ms",
        "cancelled",
        "first_poll_after_ms",
        "reference_text",
        "action",
        "identity",
        "login_hint_kind",
        "cancels",
    ] {
        assert!(list[0].get(field).is_some(), "introspection lacks {field}");
    }
    assert_eq!(list[0]["polls"], 3);
}

#[tokio::test]
async fn auto_approve_and_auto_reject() {
    let sim = start(SimOptions {
        auto_approve_after: Some(Duration::from_millis(300)),
        ..fast_options()
    })
    .await;
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    let (status, _) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
    assert_eq!(status, 200);
    let sim = start(SimOptions {
        auto_approve_after: Some(Duration::from_millis(100)),
        auto_reject: true,
        ..fast_options()
    })
    .await;
    let id = start_flex(&sim, DOC_HINT_JSON).await;
    let (_, body) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
    assert_eq!(error_of(&body), "access_denied");
}

#[tokio::test]
async fn key_persists_in_the_data_dir() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let options = || SimOptions {
        data_dir: Some(dir.path().join("sim")),
        interval: FAST_INTERVAL,
        ..SimOptions::default()
    };
    let first = start(options()).await;
    let kid = first.kid();
    first.shutdown().await;
    let second = start(options()).await;
    assert_eq!(second.kid(), kid, "same kid after a restart");
    let key_file = dir
        .path()
        .join("sim")
        .join(mitid_flex_tv::sim::keys::KEY_FILE);
    let mode = std::fs::metadata(&key_file)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let id = start_flex(&second, DOC_HINT_JSON).await;
    second.approve(&id, None).expect("approve");
    let (_, tokens) = poll_until_done(&second, &id, FAST_INTERVAL).await;
    assert_eq!(
        header_of(tokens["id_token"].as_str().expect("id"))
            .kid
            .as_deref(),
        Some(kid.as_str())
    );
    drop(second);
}

#[tokio::test]
async fn sub_is_stable_per_client_and_identity() {
    let sim = start(fast_options()).await;
    let mut subs = Vec::new();
    for _ in 0..2 {
        let id = start_flex(&sim, DOC_HINT_JSON).await;
        sim.approve(&id, None).expect("approve");
        let (_, tokens) = poll_until_done(&sim, &id, FAST_INTERVAL).await;
        subs.push(claims_of(tokens["id_token"].as_str().expect("id"))["sub"].clone());
    }
    assert_eq!(subs[0], subs[1]);
}

/// Broker docs, "Ciba integration", "Client assertions": an HS256 JWT signed with the client secret.
#[tokio::test]
async fn client_assertion_authenticates_like_the_doc_describes() {
    let sim = start(fast_options()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let assertion = |secret: &str| {
        let claims = serde_json::json!({
            "iss": PP_DEMO_CLIENT_ID, "sub": PP_DEMO_CLIENT_ID, "aud": sim.authority(),
            "iat": now, "nbf": now, "exp": now + 1200, "jti": uuid::Uuid::new_v4().to_string(),
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("assertion")
    };
    let send = |a: String| {
        http()
            .post(format!("{}/connect/ciba", sim.authority()))
            .form(&[
                ("client_id", PP_DEMO_CLIENT_ID.to_owned()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ),
                ("client_assertion", a),
                ("scope", "openid".to_owned()),
                ("login_hint", "ileya".to_owned()),
            ])
            .send()
    };
    assert_eq!(
        send(assertion(PP_DEMO_CLIENT_SECRET))
            .await
            .expect("ok")
            .status(),
        200
    );
    assert_eq!(
        send(assertion("not the secret"))
            .await
            .expect("bad")
            .status(),
        401
    );
}
