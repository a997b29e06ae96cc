//! `mitid-flex-tv signin` as an operator runs it: the real binary against a simulator on a
//! loopback port, exit codes and output checked from outside.

use std::process::Stdio;
use std::time::{Duration, Instant};

use mitid_flex_tv::sim::{self, SimHandle, SimOptions};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mitid-flex-tv");

async fn sim_with(opts: SimOptions) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::serve(listener, opts).await.unwrap()
}

fn signin(sim: &SimHandle, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "signin",
        "--profile",
        "signaturgruppen-pp",
        "--issuer",
        &sim.authority(),
    ])
    .args(extra)
    // Isolate from any config on the machine running the tests.
    .env("MITID_FLEX_TV_CONFIG", "/dev/null")
    .env_remove("MITID_FLEX_TV_CLIENT_SECRET")
    .env_remove("CREDENTIALS_DIRECTORY")
    .env("RUST_LOG", "info")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn approved_after_three_seconds_prints_the_identity_and_exits_0() {
    let sim = sim_with(SimOptions {
        auto_approve_after: Some(Duration::from_secs(3)),
        ..SimOptions::with_timings(Duration::from_secs(1), Duration::from_secs(300))
    })
    .await;
    let started = Instant::now();
    let out = signin(
        &sim,
        &[
            "--kind",
            "uuid",
            "--identifier",
            "8a9856e0-f12d-4217-b320-c8a076be9320",
            "--json",
        ],
    )
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["name"], "Ileya Jensen");
    assert_eq!(v["uuid"], "8a9856e0-f12d-4217-b320-c8a076be9320");
    assert_eq!(v["date_of_birth"], "1936-04-08");
    assert!(v["age"].as_u64().unwrap() >= 88);
    assert_eq!(v["issuer"], sim.authority());
    assert!(v["sub"].as_str().is_some_and(|s| !s.is_empty()));
    let text = v["reference_text"].as_str().unwrap();
    assert!(text.starts_with("Log på TV · kode "), "{text}");
    // The same text was shown on stderr while waiting.
    assert!(stderr.contains(text), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Nothing secret reached the output or the log lines.
    let all = format!("{stdout}{stderr}");
    let id = &sim.requests()[0].auth_req_id;
    assert!(!all.contains(id.as_str()), "auth_req_id leaked");
    assert!(
        !all.contains(mitid_flex_tv::config::PP_DEMO_CLIENT_SECRET),
        "secret leaked"
    );
    assert!(!all.contains("eyJ"), "a token leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_in_the_app_exits_3() {
    let sim = sim_with(SimOptions {
        auto_approve_after: Some(Duration::from_secs(1)),
        auto_reject: true,
        ..SimOptions::with_timings(Duration::from_secs(1), Duration::from_secs(300))
    })
    .await;
    let out = signin(&sim, &["--kind", "cpr", "--identifier", "080436-1234"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_exits_4() {
    let sim = sim_with(SimOptions::with_timings(
        Duration::from_secs(1),
        Duration::from_secs(3),
    ))
    .await;
    let out = signin(&sim, &["--kind", "user-id", "--identifier", "ileya"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_user_exits_5_and_bad_input_exits_2() {
    let sim = sim_with(SimOptions::with_timings(
        Duration::from_secs(1),
        Duration::from_secs(30),
    ))
    .await;
    let out = signin(&sim, &["--kind", "user-id", "--identifier", "nobody"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let out = signin(&sim, &["--kind", "cpr", "--identifier", "320136-1234"])
        .output()
        .await
        .unwrap();
    // Exit 2 comes from our own check; had it reached the broker it would be 5.
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DDMM"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_broker_exits_6() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = Command::new(BIN)
        .args([
            "signin",
            "--profile",
            "signaturgruppen-pp",
            "--issuer",
            &format!("http://127.0.0.1:{port}/op"),
        ])
        .args(["--identifier", "8a9856e0-f12d-4217-b320-c8a076be9320"])
        .env("MITID_FLEX_TV_CONFIG", "/dev/null")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_issuer_off_this_machine_is_refused() {
    let out = Command::new(BIN)
        .args([
            "signin",
            "--profile",
            "generic",
            "--issuer",
            "http://op.example.com",
            "--client-id",
            "x",
        ])
        .args(["--identifier", "ileya"])
        .env("MITID_FLEX_TV_CONFIG", "/dev/null")
        .env("MITID_FLEX_TV_CLIENT_SECRET", "s")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_cancels_at_the_broker_and_exits_130() {
    let sim = sim_with(SimOptions::with_timings(
        Duration::from_secs(1),
        Duration::from_secs(300),
    ))
    .await;
    let mut child = signin(&sim, &["--kind", "user-id", "--identifier", "ileya"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.requests().first().is_none_or(|r| r.polls == 0) {
        assert!(
            Instant::now() < deadline,
            "no request reached the simulator"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = child.id().unwrap() as i32;
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    let r = &sim.requests()[0];
    assert!(r.cancelled, "cancel not recorded");
    assert_eq!(r.cancels, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_hook_receives_the_identity_after_a_headless_sign_in() {
    let sim = sim_with(SimOptions {
        auto_approve_after: Some(Duration::from_secs(1)),
        ..SimOptions::with_timings(Duration::from_secs(1), Duration::from_secs(300))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("identity.json");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "profile = \"signaturgruppen-pp\"\nissuer = \"{}\"\nidentifier_kind = \"uuid\"\n\n[handoff]\ncommand = [\"/bin/sh\", \"-c\", \"cat > '{}'\"]\ntimeout_secs = 5\n",
            sim.authority(),
            received.display()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["signin", "--config", config.to_str().unwrap()])
        .args([
            "--identifier",
            "8a9856e0-f12d-4217-b320-c8a076be9320",
            "--json",
        ])
        .env_remove("MITID_FLEX_TV_CLIENT_SECRET")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let handed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&received).unwrap()).unwrap();
    assert_eq!(
        handed, printed,
        "the hook got the same identity that was printed"
    );
    assert_eq!(handed["name"], "Ileya Jensen");

    // A failing hook: signed in, but the hand-off failure is reported and the exit is 6.
    std::fs::write(
        &config,
        format!(
            "profile = \"signaturgruppen-pp\"\nissuer = \"{}\"\nidentifier_kind = \"uuid\"\n\n[handoff]\ncommand = [\"/bin/false\"]\n",
            sim.authority()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["signin", "--config", config.to_str().unwrap()])
        .args([
            "--identifier",
            "8a9856e0-f12d-4217-b320-c8a076be9320",
            "--json",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("overdragelsen fejlede"));
}
