//! The sign-in hand-off (src/handoff.rs) against real processes, a real FIFO and a real
//! Unix socket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mitid_flex_tv::ciba::Profile;
use mitid_flex_tv::handoff::{HandoffConfig, HandoffError, Identity, deliver};

fn identity() -> Identity {
    Identity {
        profile: Profile {
            sub: "8c2f6c8e-6b8e-4c8e-9d6e-0d3b8c2f6c8e".into(),
            name: Some("Åse Ørsted Hansen".into()),
            uuid: Some("8c2f6c8e-6b8e-4c8e-9d6e-0d3b8c2f6c8e".into()),
            date_of_birth: Some("1990-01-01".into()),
            age: Some(35),
            issuer: "http://127.0.0.1:8089/op".into(),
            reference_text: Some("Log på Stue-TV · kode 4711\nanden linje".into()),
        },
        signed_in_at: "2025-06-01T12:00:00Z".into(),
    }
}

/// What every target must receive: one line of JSON and a newline.
fn expected_line() -> String {
    let line = format!("{}\n", identity().to_json_line());
    assert_eq!(line.matches('\n').count(), 1, "the JSON itself is one line");
    line
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_owned()
}

fn hook(argv: &[&str], timeout_secs: u64) -> HandoffConfig {
    HandoffConfig {
        command: Some(argv.iter().map(|s| s.to_string()).collect()),
        timeout_secs: Some(timeout_secs),
        ..Default::default()
    }
}

#[tokio::test]
async fn hook_receives_the_identity_json_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received.json");
    let hook_path = script(dir.path(), "on-signin", r#"cat > "$1""#);
    let cfg = hook(&[&hook_path, out.to_str().unwrap()], 5);

    deliver(&cfg, &identity()).await.expect("delivered");

    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(got, expected_line());
    let parsed: serde_json::Value = serde_json::from_str(got.trim_end()).unwrap();
    assert_eq!(parsed, serde_json::to_value(identity()).unwrap());
}

#[tokio::test]
async fn hook_arguments_are_not_interpreted_by_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("args");
    let hook_path = script(dir.path(), "args", r#"printf '%s\n' "$@" > "$OUT""#);
    // `$OUT` reaches the script through its environment, the odd argument verbatim.
    let cfg = HandoffConfig {
        command: Some(vec![
            "/usr/bin/env".into(),
            format!("OUT={}", out.display()),
            hook_path,
            "$(touch pwned); `x` 'q' \"d\"".into(),
        ]),
        timeout_secs: Some(5),
        ..Default::default()
    };
    deliver(&cfg, &identity()).await.expect("delivered");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "$(touch pwned); `x` 'q' \"d\"\n"
    );
    assert!(!Path::new("pwned").exists());
}

#[tokio::test]
async fn failing_hook_is_an_error_with_its_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let hook_path = script(
        dir.path(),
        "fails",
        "cat >/dev/null; echo 'middleware down for 010190-1234' >&2; exit 3",
    );
    let err = deliver(&hook(&[&hook_path], 5), &identity())
        .await
        .unwrap_err();
    match &err {
        HandoffError::HookFailed {
            program,
            code,
            stderr,
        } => {
            assert_eq!(program, &hook_path);
            assert_eq!(*code, 3);
            assert_eq!(stderr, "middleware down for ******-****");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("exit code 3"), "{err}");
}

#[tokio::test]
async fn hook_that_does_not_read_stdin_is_judged_by_its_exit_status() {
    let cfg = hook(&["/bin/true"], 5);
    deliver(&cfg, &identity()).await.expect("exit 0 is success");
    let cfg = hook(&["/bin/false"], 5);
    assert!(matches!(
        deliver(&cfg, &identity()).await,
        Err(HandoffError::HookFailed { code: 1, .. })
    ));
}

#[tokio::test]
async fn missing_hook_is_a_spawn_error() {
    let cfg = hook(&["/nonexistent/on-signin"], 5);
    let err = deliver(&cfg, &identity()).await.unwrap_err();
    assert!(
        matches!(&err, HandoffError::HookSpawn { program, .. } if program == "/nonexistent/on-signin"),
        "{err:?}"
    );
}

fn alive(pid: u32) -> bool {
    // A zombie waiting for its reaper counts as dead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap().split_whitespace().next();
            state != Some("Z")
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn slow_hook_times_out_and_its_whole_process_group_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let hook_path = script(
        dir.path(),
        "slow",
        &format!(
            "cat >/dev/null; sleep 30 & echo $! > {}; wait",
            pidfile.display()
        ),
    );
    let started = Instant::now();
    let err = deliver(&hook(&[&hook_path], 1), &identity())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, HandoffError::HookTimeout { secs: 1, .. }),
        "{err:?}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone_by = Instant::now() + Duration::from_secs(3);
    while alive(pid) && Instant::now() < gone_by {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(pid), "the hook's child {pid} outlived the timeout");
}

#[tokio::test]
async fn hook_leaving_a_background_process_does_not_hang_the_handoff() {
    let dir = tempfile::tempdir().unwrap();
    // The background sleep keeps the stderr pipe open after the hook has exited 0.
    let hook_path = script(dir.path(), "forks", "cat >/dev/null; sleep 5 & exit 0");
    let started = Instant::now();
    deliver(&hook(&[&hook_path], 10), &identity())
        .await
        .expect("delivered");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn fifo_delivery_to_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("identity.fifo");
    mkfifo(&fifo);
    let reader_path = fifo.clone();
    // The reader opens the FIFO a little later: the writer must wait for it.
    let reader = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        std::fs::read_to_string(reader_path).unwrap()
    });
    let cfg = HandoffConfig {
        fifo: Some(fifo),
        timeout_secs: Some(5),
        ..Default::default()
    };
    deliver(&cfg, &identity()).await.expect("delivered");
    assert_eq!(reader.join().unwrap(), expected_line());
}

#[tokio::test]
async fn fifo_without_reader_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("identity.fifo");
    mkfifo(&fifo);
    let cfg = HandoffConfig {
        fifo: Some(fifo.clone()),
        timeout_secs: Some(1),
        ..Default::default()
    };
    let started = Instant::now();
    let err = deliver(&cfg, &identity()).await.unwrap_err();
    assert!(
        matches!(&err, HandoffError::FifoNoReader { path, secs: 1 } if *path == fifo),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn fifo_that_is_missing_or_a_regular_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.fifo");
    let cfg = HandoffConfig {
        fifo: Some(missing),
        ..Default::default()
    };
    assert!(matches!(
        deliver(&cfg, &identity()).await,
        Err(HandoffError::FifoMissing { .. })
    ));
    let regular = dir.path().join("regular");
    std::fs::write(&regular, "").unwrap();
    let cfg = HandoffConfig {
        fifo: Some(regular),
        ..Default::default()
    };
    assert!(matches!(
        deliver(&cfg, &identity()).await,
        Err(HandoffError::NotAFifo { .. })
    ));
}

#[tokio::test]
async fn socket_delivery() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).await.unwrap(); // ends when the app shuts down its side
        got
    });
    let cfg = HandoffConfig {
        socket: Some(path),
        timeout_secs: Some(5),
        ..Default::default()
    };
    deliver(&cfg, &identity()).await.expect("delivered");
    assert_eq!(server.await.unwrap(), expected_line());
}

#[tokio::test]
async fn socket_nobody_listens_on_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = HandoffConfig {
        socket: Some(dir.path().join("absent.sock")),
        ..Default::default()
    };
    assert!(matches!(
        deliver(&cfg, &identity()).await,
        Err(HandoffError::SocketConnect { .. })
    ));
}

#[tokio::test]
async fn all_targets_get_the_line_and_every_failure_is_reported() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hook.json");
    let hook_path = script(dir.path(), "on-signin", r#"cat > "$1""#);
    let sock: PathBuf = dir.path().join("s.sock");
    let listener = tokio::net::UnixListener::bind(&sock).unwrap();
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).await.unwrap();
        got
    });
    let cfg = HandoffConfig {
        command: Some(vec![hook_path, out.to_str().unwrap().to_owned()]),
        socket: Some(sock),
        timeout_secs: Some(5),
        ..Default::default()
    };
    deliver(&cfg, &identity()).await.expect("delivered");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected_line());
    assert_eq!(server.await.unwrap(), expected_line());

    let cfg = HandoffConfig {
        command: Some(vec!["/bin/false".into()]),
        socket: Some(dir.path().join("absent.sock")),
        ..Default::default()
    };
    match deliver(&cfg, &identity()).await {
        Err(HandoffError::Several(errors)) => {
            assert_eq!(errors.len(), 2);
            assert!(matches!(errors[0], HandoffError::HookFailed { .. }));
            assert!(matches!(errors[1], HandoffError::SocketConnect { .. }));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn nothing_configured_is_a_no_op() {
    deliver(&HandoffConfig::default(), &identity())
        .await
        .expect("no-op");
}
