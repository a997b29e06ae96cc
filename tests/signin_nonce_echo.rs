//! `signin` against the simulator in every `--nonce-echo` mode, with every `ciba_nonce`
//! config value, and against ID tokens that lack the name and birthdate (userinfo fills
//! them in). The real binary, exit codes checked from outside.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use mitid_flex_tv::sim::{self, NonceEcho, SimHandle, SimOptions, TokenShape};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mitid-flex-tv");

async fn sim_with(shape: TokenShape) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let opts = SimOptions {
        auto_approve_after: Some(Duration::from_millis(500)),
        shape,
        ..SimOptions::with_timings(Duration::from_secs(1), Duration::from_secs(60))
    };
    sim::serve(listener, opts).await.unwrap()
}

/// Exit code and stdout of a sign-in with `config` as the config file.
async fn signin(sim: &SimHandle, config: &str) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let out = Command::new(BIN)
        .args(["signin", "--profile", "signaturgruppen-pp", "--issuer"])
        .arg(sim.authority())
        .args([
            "--kind",
            "uuid",
            "--identifier",
            "8a9856e0-f12d-4217-b320-c8a076be9320",
        ])
        .arg("--json")
        .env("MITID_FLEX_TV_CONFIG", &file)
        .env_remove("MITID_FLEX_TV_CLIENT_SECRET")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// One sign-in against a simulator echoing the nonce per `echo`, with `ciba_nonce = value`.
async fn one(echo: NonceEcho, value: &'static str) -> (Option<i32>, String) {
    let sim = sim_with(TokenShape {
        nonce_echo: echo,
        ..TokenShape::default()
    })
    .await;
    let (code, _, stderr) = signin(&sim, &format!("ciba_nonce = {value}\n")).await;
    (code, stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_echo_mode_with_every_config_value() {
    let mut runs = Vec::new();
    for echo in [
        NonceEcho::IdToken,
        NonceEcho::Response,
        NonceEcho::Both,
        NonceEcho::None,
    ] {
        // `true` is the boolean of earlier versions, read as "verify".
        for value in ["\"verify\"", "\"require\"", "\"off\"", "true"] {
            runs.push((echo, value, tokio::spawn(one(echo, value))));
        }
    }
    for (echo, value, run) in runs {
        let (code, stderr) = run.await.unwrap();
        let verify = value == "\"verify\"" || value == "true";
        // Only "require" with no echo at all refuses; a wrong echo is covered by tests/hostile.
        let want = if echo == NonceEcho::None && value == "\"require\"" {
            7
        } else {
            0
        };
        assert_eq!(code, Some(want), "{echo:?} / {value}: {stderr}");
        assert_eq!(
            stderr.contains("did not echo ciba_nonce"),
            echo == NonceEcho::None && verify,
            "{echo:?} / {value}: one warning exactly when verify sees no echo: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lean_id_token_is_completed_from_userinfo() {
    let sim = sim_with(TokenShape {
        lean_id_token: true,
        ..TokenShape::default()
    })
    .await;
    let (code, stdout, stderr) = signin(&sim, "").await;
    assert_eq!(code, Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["name"], "Ileya Jensen", "{stdout}");
    assert_eq!(v["date_of_birth"], "1936-04-08", "{stdout}");
    assert_eq!(sim.requests().len(), 1, "one sign-in, one request");
}
