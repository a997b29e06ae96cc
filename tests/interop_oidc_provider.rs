//! Interop: the real `mitid-flex-tv signin` binary, `--profile generic`,
//! against an independent CIBA OP that is not part of this repo: panva's `oidc-provider`
//! (pinned in tests/interop/package.json), in poll mode, started by `tests/interop/op.mjs`.
//!
//! Set-up once: `npm ci --prefix tests/interop`. Without it these tests fail; they are
//! skipped only when `MITID_SKIP_INTEROP=1`.
//!
//! The OP enforces the poll interval at its token endpoint (a poll sooner than the interval
//! after the previous one draws `slow_down`, CIBA Core §7.3/§11), and its control port
//! reports how many answers were `slow_down`. The rogue-key cases publish, at the OP's
//! jwks_uri, a freshly generated RSA key instead of the one that really signs the ID token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

const BIN: &str = env!("CARGO_BIN_EXE_mitid-flex-tv");
/// How long after the request reaches the "authentication device" the viewer approves.
const APPROVE_AFTER: Duration = Duration::from_secs(3);
/// Upper bound for one sign-in; every case here needs well under 20 s.
const SIGNIN_TIMEOUT: Duration = Duration::from_secs(60);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// True when the interop tests are switched off on purpose (`MITID_SKIP_INTEROP=1`).
fn skip() -> bool {
    if std::env::var("MITID_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!("MITID_SKIP_INTEROP=1: oidc-provider interop test skipped");
        return true;
    }
    false
}

/// One oidc-provider process. Dropping it closes its stdin (op.mjs exits) and kills it.
struct Op {
    _child: Child,
    _stdin: ChildStdin,
    stderr: Arc<Mutex<String>>,
    issuer: String,
    control: String,
    ready: Value,
    http: reqwest::Client,
}

impl Op {
    async fn start(args: &[&str]) -> Op {
        // One OP boots at a time: six Node processes generating RSA keys at once on a 2-core
        // CI machine made a start miss its deadline once.
        static STARTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one_at_a_time = STARTING.lock().await;
        let dir = interop_dir();
        assert!(
            dir.join("node_modules/oidc-provider/package.json").exists(),
            "tests/interop/node_modules is missing: run `npm ci --prefix tests/interop` \
             (or set MITID_SKIP_INTEROP=1 to skip the oidc-provider interop tests)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("op.mjs"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `node tests/interop/op.mjs` (is Node.js installed?): {e}")
            });
        let stdin = child.stdin.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["ready"] == true
                {
                    return Some(v);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            panic!(
                "op.mjs did not become ready within 60 s (exit status so far: {:?}); its stderr:\n{}",
                child.try_wait(),
                stderr.lock().unwrap()
            )
        });
        // Keep draining stdout so the OP never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let issuer = ready["issuer"].as_str().unwrap().to_string();
        assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
        eprintln!(
            "oidc-provider {} on node {} at {issuer}",
            ready["oidc_provider"], ready["node"]
        );
        Op {
            _child: child,
            _stdin: stdin,
            stderr,
            control: ready["control"].as_str().unwrap().to_string(),
            issuer,
            ready,
            http: reqwest::Client::new(),
        }
    }

    fn client(&self) -> (String, String) {
        let c = &self.ready["client"];
        (
            c["client_id"].as_str().unwrap().to_string(),
            c["client_secret"].as_str().unwrap().to_string(),
        )
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.control))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn stats(&self) -> Value {
        self.get("/stats").await
    }

    fn op_stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the OP's "authentication device" has the request for `user`, then, after
    /// `after`, approves or denies it there. Returns the request as the device saw it.
    async fn decide_later(&self, user: &str, after: Duration, approve: bool) -> Value {
        let seen = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let pending = self.get("/pending").await;
                if let Some(p) = pending
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["user"] == user && p["decision"].is_null())
                {
                    return p.clone();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no CIBA request for {user} reached the OP; OP stderr:\n{}",
                self.op_stderr()
            )
        });
        tokio::time::sleep(after).await;
        let verb = if approve { "approve" } else { "deny" };
        let id = seen["auth_req_id"].as_str().unwrap();
        let resp = self
            .http
            .post(format!("{}/{verb}?auth_req_id={id}", self.control))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{verb}: {}",
            resp.text().await.unwrap()
        );
        seen
    }

    /// `mitid-flex-tv signin --profile generic` against this OP, isolated from machine config.
    fn signin(&self, user: &str, extra: &[&str]) -> Command {
        let (client_id, secret) = self.client();
        let mut c = Command::new(BIN);
        c.args(["signin", "--profile", "generic", "--issuer", &self.issuer])
            .args([
                "--client-id",
                &client_id,
                "--kind",
                "user-id",
                "--identifier",
                user,
                "--json",
            ])
            .args(extra)
            .env("MITID_FLEX_TV_CLIENT_SECRET", secret)
            // An explicit config path that does not exist is an error; /dev/null is an empty config.
            .env("MITID_FLEX_TV_CONFIG", "/dev/null")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env("LANG", "en_US.UTF-8")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The request as the OP's authentication device saw it.
    decided: Value,
}

/// Runs the binary while the "device" approves or denies `after` the request reached it.
async fn run(op: &Op, user: &str, extra: &[&str], after: Duration, approve: bool) -> Run {
    let child = op.signin(user, extra).spawn().unwrap();
    let wait = tokio::time::timeout(SIGNIN_TIMEOUT, child.wait_with_output());
    tokio::pin!(wait);
    let decided = tokio::select! {
        d = op.decide_later(user, after, approve) => d,
        out = &mut wait => match out {
            Ok(out) => {
                let out = out.unwrap();
                panic!(
                    "signin ended before the viewer decided: exit {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- OP stderr\n{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                    op.op_stderr()
                )
            }
            Err(_) => panic!("signin hung before the viewer decided; OP stats {}", op.stats().await),
        },
    };
    let Ok(out) = wait.await else {
        // kill_on_drop has ended the binary by now; the OP's view says why it hung.
        panic!(
            "signin did not finish within {SIGNIN_TIMEOUT:?} after the viewer decided; OP stats {}\n--- OP stderr\n{}",
            op.stats().await,
            op.op_stderr()
        );
    };
    let out = out.unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        decided,
    }
}

fn ctx(run: &Run, stats: &Value, op: &Op) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- OP stats\n{stats}\n--- OP stderr\n{}",
        run.code,
        run.stdout,
        run.stderr,
        op.op_stderr()
    )
}

/// The checks shared by every successful sign-in.
fn assert_signed_in(op: &Op, run: &Run, stats: &Value, user: &str) {
    let why = ctx(run, stats, op);
    assert_eq!(run.code, Some(0), "{why}");
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "exactly one JSON line: {why}"
    );
    let v: Value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {why}"));
    assert_eq!(v["sub"], user, "{why}");
    assert_eq!(v["issuer"], op.issuer.as_str(), "{why}");
    // The generic profile sends the 4-digit code as binding_message (the OP's default rules
    // accept it); the text the viewer was shown carries the same code.
    let binding = run.decided["binding_message"]
        .as_str()
        .unwrap_or_else(|| panic!("no binding_message: {why}"));
    assert!(
        binding.len() == 4 && binding.bytes().all(|b| b.is_ascii_digit()),
        "{binding}: {why}"
    );
    let text = v["reference_text"].as_str().unwrap();
    assert!(
        text.contains(binding),
        "reference_text {text:?} lacks the binding_message {binding}: {why}"
    );
    assert!(run.stderr.contains(text), "{why}");
    // CIBA Core §7.3/§11: the client never polled faster than the interval.
    assert_eq!(stats["slow_down"], 0, "the client drew slow_down: {why}");
    assert_eq!(stats["tokens_issued"], 1, "{why}");
    assert_eq!(stats["backchannel_ok"], 1, "{why}");
    // Nothing secret reached the output.
    let (_, secret) = op.client();
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains(&secret), "client secret leaked: {why}");
    assert!(!all.contains("eyJ"), "a token leaked: {why}");
    let id = run.decided["auth_req_id"].as_str().unwrap();
    assert!(!all.contains(id), "auth_req_id leaked: {why}");
}

/// Every backchannel and token request used exactly this client authentication method.
fn assert_auth_method(stats: &Value, method: &str, why: &str) {
    for endpoint in ["backchannel", "token"] {
        let used = stats["auth_methods"][endpoint].as_object().unwrap();
        assert_eq!(
            used.keys().collect::<Vec<_>>(),
            vec![method],
            "{endpoint}: {why}"
        );
    }
}

fn gaps(stats: &Value, key: &str) -> Vec<u64> {
    stats[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_against_oidc_provider_defaults_without_slow_down() {
    if skip() {
        return;
    }
    // oidc-provider sends no `interval`: the CIBA default of 5 s applies and is enforced.
    let op = Op::start(&[]).await;
    let started = Instant::now();
    let run = run(&op, "alice", &[], APPROVE_AFTER, true).await;
    let stats = op.stats().await;
    assert_signed_in(&op, &run, &stats, "alice");
    let why = ctx(&run, &stats, &op);
    assert_auth_method(&stats, "client_secret_post", &why);
    // The first poll came a full default interval after the start response.
    let first = gaps(&stats, "first_poll_gaps_ms");
    assert!(first.len() == 1 && first[0] >= 5000, "{why}");
    assert!(started.elapsed() < Duration::from_secs(30), "{why}");
    eprintln!("default interval: {stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_with_client_secret_basic_and_a_1s_interval_without_slow_down() {
    if skip() {
        return;
    }
    // interval 1: the client polls several times while the viewer takes 3 s, and the OP
    // checks every gap.
    let op = Op::start(&["--interval", "1"]).await;
    let run = run(
        &op,
        "bob",
        &["--client-auth", "client-secret-basic"],
        APPROVE_AFTER,
        true,
    )
    .await;
    let stats = op.stats().await;
    assert_signed_in(&op, &run, &stats, "bob");
    let why = ctx(&run, &stats, &op);
    assert_auth_method(&stats, "client_secret_basic", &why);
    let pending = stats["token_errors"]["authorization_pending"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        pending >= 2,
        "expected pending polls before the approval: {why}"
    );
    assert!(
        gaps(&stats, "poll_gaps_ms").iter().all(|g| *g >= 1000),
        "{why}"
    );
    eprintln!("interval 1 s: {stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_on_the_device_exits_3() {
    if skip() {
        return;
    }
    let op = Op::start(&["--interval", "1"]).await;
    let run = run(&op, "carol", &[], Duration::from_secs(1), false).await;
    let stats = op.stats().await;
    let why = ctx(&run, &stats, &op);
    assert_eq!(run.code, Some(3), "{why}");
    assert!(run.stdout.is_empty(), "{why}");
    assert_eq!(stats["token_errors"]["access_denied"], 1, "{why}");
    assert_eq!(stats["slow_down"], 0, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_login_hint_exits_5() {
    if skip() {
        return;
    }
    let op = Op::start(&[]).await;
    let out = op.signin("mallory", &[]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// The OP signs as always; its jwks_uri publishes another key. The token must be refused.
/// Returns the run, the OP's stats, and how many times the client fetched the JWKS.
async fn rogue_jwks(mode: &str) -> (Op, Run, Value, u64) {
    let op = Op::start(&["--interval", "1", "--rogue-jwks", mode]).await;
    // The key set the client will see really lacks the signing key.
    let published: Value = reqwest::get(format!("{}/jwks", op.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let real = op.get("/real-jwks").await;
    assert_eq!(
        published["keys"].as_array().unwrap().len(),
        1,
        "{published}"
    );
    assert_ne!(
        published["keys"][0]["n"], real["keys"][0]["n"],
        "the published key must differ"
    );
    let same_kid = published["keys"][0]["kid"] == real["keys"][0]["kid"];
    assert_eq!(same_kid, mode == "same-kid", "{published} vs {real}");
    let fetched_by_test = op.stats().await["jwks_requests"].as_u64().unwrap();
    let run = run(&op, "alice", &[], Duration::from_secs(1), true).await;
    let stats = op.stats().await;
    let client_jwks_fetches = stats["jwks_requests"].as_u64().unwrap() - fetched_by_test;
    let why = ctx(&run, &stats, &op);
    // A real token was issued (signed with the OP's real key) and then refused.
    assert_eq!(stats["tokens_issued"], 1, "{why}");
    assert_eq!(run.code, Some(7), "{why}");
    assert!(
        run.stdout.is_empty(),
        "nothing may be printed as signed in: {why}"
    );
    assert!(run.stderr.contains("ID token rejected"), "{why}");
    assert!(!run.stderr.contains("You are signed in"), "{why}");
    assert_eq!(stats["slow_down"], 0, "{why}");
    (op, run, stats, client_jwks_fetches)
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_a_token_whose_kid_maps_to_a_different_key_in_the_jwks() {
    if skip() {
        return;
    }
    let (op, run, stats, jwks_fetches) = rogue_jwks("same-kid").await;
    let why = ctx(&run, &stats, &op);
    // The kid is found; the signature does not verify with that key.
    assert!(run.stderr.contains("ID token rejected at step 4"), "{why}");
    assert_eq!(jwks_fetches, 1, "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_a_token_whose_kid_is_not_in_the_jwks() {
    if skip() {
        return;
    }
    let (op, run, stats, jwks_fetches) = rogue_jwks("fresh-kid").await;
    let why = ctx(&run, &stats, &op);
    // Unknown kid: exactly one re-fetch of the JWKS, the key is still not there, refused.
    assert!(run.stderr.contains("ID token rejected at step 3"), "{why}");
    assert_eq!(jwks_fetches, 2, "{why}");
}
