//! `mitid-flex-tv signin` as an operator runs it: the real binary against a simulator on a
//! loopback port, exit codes and output checked from outside.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use mitid_flex_tv::sim::{self, SimHandle, SimOptions};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mitid-flex-tv");
const ILEYA_UUID: &str = "8a9856e0-f12d-4217-b320-c8a076be9320";

async fn sim_with(opts: SimOptions) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::serve(listener, opts).await.unwrap()
}

/// A simulator with this poll interval and request lifetime, in seconds.
async fn sim_timed(
    interval_s: u64,
    expires_s: u64,
    tweak: impl FnOnce(&mut SimOptions),
) -> SimHandle {
    let mut opts = SimOptions::with_timings(
        Duration::from_secs(interval_s),
        Duration::from_secs(expires_s),
    );
    tweak(&mut opts);
    sim_with(opts).await
}

/// The binary with `args`, isolated from any config on the machine running the tests.
fn bin(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("MITID_FLEX_TV_CONFIG", "/dev/null")
        .env_remove("MITID_FLEX_TV_CLIENT_SECRET")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn signin(sim: &SimHandle, extra: &[&str]) -> Command {
    let mut c = bin(&[
        "signin",
        "--profile",
        "signaturgruppen-pp",
        "--issuer",
        &sim.authority(),
    ]);
    c.args(extra);
    c
}

/// Runs `cmd` to its end and checks its exit status (stderr in the message).
async fn exits(cmd: &mut Command, code: i32) -> Output {
    let out = cmd.output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A config for the simulator at `sim`, uuid identifiers, and this `[handoff]` table.
fn write_config(path: &Path, sim: &SimHandle, handoff: &str) {
    let text = format!(
        "profile = \"signaturgruppen-pp\"\nissuer = \"{}\"\nidentifier_kind = \"uuid\"\n\n[handoff]\n{handoff}\n",
        sim.authority()
    );
    std::fs::write(path, text).unwrap();
}

fn signin_with_config(config: &Path) -> Command {
    bin(&[
        "signin",
        "--config",
        config.to_str().unwrap(),
        "--identifier",
        ILEYA_UUID,
        "--json",
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn approved_after_three_seconds_prints_the_identity_and_exits_0() {
    let sim = sim_timed(1, 300, |o| {
        o.auto_approve_after = Some(Duration::from_secs(3))
    })
    .await;
    let started = Instant::now();
    let out = exits(
        &mut signin(
            &sim,
            &["--kind", "uuid", "--identifier", ILEYA_UUID, "--json"],
        ),
        0,
    )
    .await;
    let stderr = stderr_of(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["name"], "Ileya Jensen");
    assert_eq!(v["uuid"], ILEYA_UUID);
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
    let sim = sim_timed(1, 300, |o| {
        o.auto_approve_after = Some(Duration::from_secs(1));
        o.auto_reject = true;
    })
    .await;
    let mut cmd = signin(&sim, &["--kind", "cpr", "--identifier", "080436-1234"]);
    let out = exits(&mut cmd, 3).await;
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_exits_4() {
    let sim = sim_timed(1, 3, |_| {}).await;
    exits(
        &mut signin(&sim, &["--kind", "user-id", "--identifier", "ileya"]),
        4,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_user_exits_5_and_bad_input_exits_2() {
    let sim = sim_timed(1, 30, |_| {}).await;
    exits(
        &mut signin(&sim, &["--kind", "user-id", "--identifier", "nobody"]),
        5,
    )
    .await;
    let mut cmd = signin(&sim, &["--kind", "cpr", "--identifier", "320136-1234"]);
    // Exit 2 comes from our own check; had it reached the broker it would be 5.
    let out = exits(&mut cmd, 2).await;
    assert!(stderr_of(&out).contains("DDMM"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_broker_exits_6() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let issuer = format!("http://127.0.0.1:{port}/op");
    let mut cmd = bin(&[
        "signin",
        "--profile",
        "signaturgruppen-pp",
        "--issuer",
        &issuer,
    ]);
    cmd.args(["--identifier", ILEYA_UUID]);
    exits(&mut cmd, 6).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_issuer_off_this_machine_is_refused() {
    let mut cmd = bin(&[
        "signin",
        "--profile",
        "generic",
        "--issuer",
        "http://op.example.com",
        "--client-id",
        "x",
    ]);
    cmd.args(["--identifier", "ileya"])
        .env("MITID_FLEX_TV_CLIENT_SECRET", "s");
    let out = exits(&mut cmd, 2).await;
    assert!(stderr_of(&out).contains("https"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_cancels_at_the_broker_and_exits_130() {
    let sim = sim_timed(1, 300, |_| {}).await;
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
    let sim = sim_timed(1, 300, |o| {
        o.auto_approve_after = Some(Duration::from_secs(1))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("identity.json");
    let config = dir.path().join("config.toml");
    let hook = format!(
        "command = [\"/bin/sh\", \"-c\", \"cat > '{}'\"]\ntimeout_secs = 5",
        received.display()
    );
    write_config(&config, &sim, &hook);
    let out = exits(&mut signin_with_config(&config), 0).await;
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let handed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&received).unwrap()).unwrap();
    assert_eq!(
        handed, printed,
        "the hook got the same identity that was printed"
    );
    assert_eq!(handed["name"], "Ileya Jensen");

    // A failing hook: signed in, but the hand-off failure is reported and the exit is 6.
    write_config(&config, &sim, "command = [\"/bin/false\"]");
    let out = exits(&mut signin_with_config(&config), 6).await;
    assert!(stderr_of(&out).contains("overdragelsen fejlede"));
}
