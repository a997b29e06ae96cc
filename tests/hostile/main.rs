//! The release binary's behaviour against an OP that misbehaves on purpose, one test per
//! class of misbehaviour: numbers, bodies, text, endpoints, headers, outages, cancellation
//! and deadlines. Every run checks the exit code (README, "What it refuses, and what the
//! viewer sees"), that no signal killed it (a panic aborts) and that its output is clean.
//!
//! `cargo test` runs it on the debug binary; tests/hostile/measure-release.sh runs it on the
//! release binary and prints the measured numbers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod op;
mod run;

use std::time::Duration;

use op::{AUTH_REQ_ID, Op, Reply};
use run::{Run, finish, signin};
use serde_json::{Value, json};

/// Peak RSS may grow at most this much over a normal sign-in, whatever the OP sends.
const RSS_MARGIN_KIB: i64 = 5 * 1024;
const MB_200: usize = 200 * 1024 * 1024;

async fn sign_in(op: &Op, config: &str, extra: &[&str]) -> Run {
    finish(signin(&op.issuer, config, extra), None).await
}

fn path_of(r: &op::Request<'_>, suffix: &str) -> bool {
    r.path.ends_with(suffix)
}

fn cancelled_at_op(op: &Op) -> bool {
    op.count("DELETE", &format!("/op/api/v1/ciba/{AUTH_REQ_ID}")) == 1
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_mb_bodies_stay_within_5_mb_of_a_normal_sign_in() {
    let normal = Op::start(|_, _| None).await;
    let base = sign_in(&normal, "", &["--json"]).await;
    base.assert_exit(0, "normal sign-in");
    println!("RSS normal sign-in: {} KiB", base.max_rss_kib);
    for (endpoint, declared) in [
        ("/connect/token", true),
        ("/connect/token", false),
        ("/.well-known/openid-configuration", false),
        ("/jwks", false),
        ("/connect/ciba", false),
    ] {
        let op = Op::start(move |_, r| {
            path_of(r, endpoint).then_some(Reply::Huge {
                len: MB_200,
                declared,
            })
        })
        .await;
        let run = sign_in(&op, "", &[]).await;
        let what = format!("200 MB from {endpoint} (Content-Length: {declared})");
        run.assert_exit(6, &what);
        println!("RSS {what}: {} KiB", run.max_rss_kib);
        assert!(
            run.max_rss_kib <= base.max_rss_kib + RSS_MARGIN_KIB,
            "{what}: {} KiB against {} KiB",
            run.max_rss_kib,
            base.max_rss_kib
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_near_the_limits_neither_crash_nor_overflow() {
    // Huge lifetime, interval 0: polls every second, signs in.
    let op = Op::start(|_, r| {
        path_of(r, "/connect/ciba").then(|| {
            Reply::Json(
                200,
                json!({"auth_req_id": AUTH_REQ_ID, "expires_in": u64::MAX, "interval": 0}),
            )
        })
    })
    .await;
    sign_in(&op, "", &[])
        .await
        .assert_exit(0, "expires_in u64::MAX");

    // An interval longer than any lifetime: no poll; leaving cancels the request.
    let op = Op::start(|_, r| {
        path_of(r, "/connect/ciba").then(|| {
            Reply::Json(
                200,
                json!({"auth_req_id": AUTH_REQ_ID, "expires_in": 1e300, "interval": u64::MAX}),
            )
        })
    })
    .await;
    let child = signin(&op.issuer, "", &[]);
    op.wait_for("/op/connect/ciba").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let run = finish(child, Some(libc::SIGTERM)).await;
    run.assert_exit(130, "interval u64::MAX");
    assert_eq!(op.count("POST", "/op/connect/token"), 0);
    assert!(cancelled_at_op(&op));

    // iat = i64::MIN used to wrap around the age check in release builds.
    for (claim, v) in [
        ("iat", json!(i64::MIN)),
        ("exp", json!(i64::MIN)),
        ("iat", json!(u64::MAX)),
    ] {
        let op = Op::start(move |op, r| {
            path_of(r, "/connect/token").then(|| {
                let mut c = op.claims();
                c[claim] = v.clone();
                op.tokens(c)
            })
        })
        .await;
        sign_in(&op, "", &[]).await.assert_exit(7, claim);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_start_answers_fail_with_6_and_are_cancelled() {
    let id = AUTH_REQ_ID;
    for (body, cancellable) in [
        (
            json!({"auth_req_id": id, "expires_in": 60, "interval": -1}),
            true,
        ),
        (
            json!({"auth_req_id": id, "expires_in": 60, "interval": 1.5}),
            true,
        ),
        (
            json!({"auth_req_id": id, "expires_in": 60, "interval": "5"}),
            true,
        ),
        (json!({"auth_req_id": id, "expires_in": 0}), true),
        (json!({"auth_req_id": id, "expires_in": -1}), true),
        (json!({"auth_req_id": id}), true),
        (json!({"expires_in": 60}), false),
        (json!({"auth_req_id": "a b\u{1b}", "expires_in": 60}), false),
        (
            json!({"auth_req_id": "x".repeat(1025), "expires_in": 60}),
            false,
        ),
    ] {
        let answer = body.clone();
        let op = Op::start(move |_, r| {
            path_of(r, "/connect/ciba").then(|| Reply::Json(200, answer.clone()))
        })
        .await;
        let run = sign_in(&op, "", &[]).await;
        run.assert_exit(6, &body.to_string());
        assert_eq!(cancelled_at_op(&op), cancellable, "{body}");
        assert_eq!(op.count("POST", "/op/connect/token"), 0, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn op_text_reaches_the_terminal_sanitized() {
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31m\rsigned in as admin\u{202E}\u{9b}";
    let long = format!("{evil}{}", "d".repeat(10_000));
    let refusal = json!({"error": format!("invalid_request{evil}"), "error_description": long});
    let op = Op::start(move |_, r| {
        path_of(r, "/connect/ciba").then(|| Reply::Json(400, refusal.clone()))
    })
    .await;
    let run = sign_in(&op, "", &[]).await;
    run.assert_exit(2, "escape sequences in a start refusal");
    // The 10 KB description is cut, so it cannot flood the terminal or the journal.
    assert!(run.stderr.len() < 3_000, "{}", run.stderr());

    let code = evil.to_string();
    let op = Op::start(move |_, r| {
        path_of(r, "/connect/token").then(|| {
            Reply::Json(
                400,
                json!({"error": code, "error_description": "010190-1234"}),
            )
        })
    })
    .await;
    let run = sign_in(&op, "", &[]).await;
    run.assert_exit(6, "escape sequences in a poll error");
    assert!(!run.stderr().contains("010190-1234"), "CPR number shown");

    let name = format!("Ileya{evil}");
    for json_out in [false, true] {
        let claim = name.clone();
        let op = Op::start(move |op, r| {
            path_of(r, "/connect/token").then(|| {
                let mut c = op.claims();
                c["mitid.identity_name"] = Value::from(claim.clone());
                op.tokens(c)
            })
        })
        .await;
        let extra: &[&str] = if json_out { &["--json"] } else { &[] };
        let run = sign_in(&op, "", extra).await;
        run.assert_exit(0, "escape sequences in the name claim");
        if json_out {
            let v: Value = serde_json::from_slice(&run.stdout).unwrap();
            assert_eq!(v["name"], name, "JSON keeps the value, escaped");
        } else {
            assert!(
                run.stdout().contains("name: Ileya]0;pwned"),
                "{}",
                run.stdout()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unsafe_endpoints_are_refused_before_anything_is_sent() {
    // A listener on this machine's LAN address (not loopback) would receive the secret.
    let trap = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let lan = mitid_flex_tv::wiring::local_ip_towards("http://192.0.2.1/");
    let port = trap.local_addr().unwrap().port();
    let plain = format!("http://{lan}:{port}/connect/token");
    let trapped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = trapped.clone();
    tokio::spawn(async move {
        while trap.accept().await.is_ok() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let other_origin = "http://127.0.0.1:9/op/connect/ciba".to_string();
    for (field, url) in [
        ("token_endpoint", plain.clone()),
        (
            "backchannel_authentication_endpoint",
            plain.replace("token", "ciba"),
        ),
        ("backchannel_authentication_endpoint", other_origin),
        ("jwks_uri", "https://keys.example/jwks".to_string()),
    ] {
        let op = Op::start(move |op, r| {
            path_of(r, "/openid-configuration").then(|| {
                let mut d = op.discovery();
                d[field] = Value::from(url.clone());
                Reply::Json(200, d)
            })
        })
        .await;
        let run = sign_in(&op, "", &[]).await;
        run.assert_exit(2, field);
        assert!(
            run.stderr().contains("discovery document rejected"),
            "{}",
            run.stderr()
        );
        assert_eq!(
            op.count("POST", "/op/connect/ciba"),
            0,
            "{field}: a phone got a push"
        );
        let check = std::process::Command::new(run::bin())
            .args([
                "check",
                "--profile",
                "signaturgruppen-pp",
                "--issuer",
                &op.issuer,
            ])
            .env("MITID_FLEX_TV_CONFIG", "/dev/null")
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(2), "check: {field}");
    }
    assert_eq!(
        trapped.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "secret sent off TLS"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn crit_headers_and_jwks_outages_have_their_own_outcomes() {
    let op = Op::start(|op, r| {
        path_of(r, "/connect/token").then(|| {
            op.tokens_with(
                json!({"alg": "RS256", "kid": op.kid(), "crit": ["exp"], "exp": 1}),
                op.claims(),
            )
        })
    })
    .await;
    let run = sign_in(&op, "", &[]).await;
    run.assert_exit(7, "crit");
    assert!(run.stderr().contains("step 1"), "{}", run.stderr());

    for outage in [
        Reply::Raw(503, Vec::new()),
        Reply::Raw(200, b"<html>".to_vec()),
    ] {
        let op = Op::start(move |_, r| path_of(r, "/jwks").then(|| outage.clone())).await;
        sign_in(&op, "", &[]).await.assert_exit(6, "JWKS outage");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_exits_130_within_a_second_whatever_is_in_flight() {
    for (hang, signal) in [
        ("/openid-configuration", libc::SIGTERM),
        ("/connect/ciba", libc::SIGTERM),
        ("/connect/token", libc::SIGTERM),
        ("/jwks", libc::SIGTERM),
        ("/connect/token", libc::SIGINT),
    ] {
        let op = Op::start(move |_, r| path_of(r, hang).then_some(Reply::Hang)).await;
        let child = signin(&op.issuer, "", &[]);
        op.wait_for(hang).await;
        let run = finish(child, Some(signal)).await;
        run.assert_exit(130, hang);
        println!(
            "signal {signal} during a hanging {hang}: exit after {:?}",
            run.elapsed
        );
        assert!(
            run.elapsed < Duration::from_secs(1),
            "{hang}: {:?}",
            run.elapsed
        );
        if hang == "/connect/token" {
            assert!(cancelled_at_op(&op), "the pending request is cancelled");
        }
    }
    // A start answer that arrives after the viewer left is cancelled at the broker.
    let op = Op::start(|_, r| {
        path_of(r, "/connect/ciba").then(|| {
            Reply::Delayed(
                Duration::from_millis(200),
                Box::new(Reply::Json(
                    200,
                    json!({"auth_req_id": AUTH_REQ_ID, "expires_in": 60}),
                )),
            )
        })
    })
    .await;
    let child = signin(&op.issuer, "", &[]);
    op.wait_for("/op/connect/ciba").await;
    let run = finish(child, Some(libc::SIGTERM)).await;
    run.assert_exit(130, "late start answer");
    assert!(run.elapsed < Duration::from_secs(1), "{:?}", run.elapsed);
    assert!(cancelled_at_op(&op), "the late request is cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_in_flight_at_the_deadline_ends_the_session_within_a_second() {
    let op = Op::start(|_, r| {
        if path_of(r, "/connect/ciba") {
            return Some(Reply::Json(
                200,
                json!({"auth_req_id": AUTH_REQ_ID, "expires_in": 2, "interval": 1}),
            ));
        }
        path_of(r, "/connect/token").then_some(Reply::Hang)
    })
    .await;
    let child = signin(&op.issuer, "", &[]);
    op.wait_for("/op/connect/ciba").await;
    let run = finish(child, None).await;
    run.assert_exit(4, "deadline with a hanging poll");
    println!(
        "expires_in 2 s with a hanging poll: exit after {:?}",
        run.elapsed
    );
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(
        run.elapsed >= Duration::from_millis(1900),
        "{:?}",
        run.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_different_nonce_at_the_top_level_is_fatal() {
    let op = Op::start(|op, r| {
        path_of(r, "/connect/token").then(|| {
            let Reply::Json(status, mut v) = op.tokens(op.claims()) else {
                unreachable!()
            };
            v["ciba_nonce"] = json!("not-the-one-we-sent");
            Reply::Json(status, v)
        })
    })
    .await;
    sign_in(&op, "ciba_nonce = \"verify\"\n", &[])
        .await
        .assert_exit(7, "nonce mismatch");
    sign_in(&op, "ciba_nonce = \"off\"\n", &[])
        .await
        .assert_exit(0, "nonce off");
}
