//! Runs the real binary as an operator would, and measures it from outside: exit code,
//! peak RSS (`wait4`'s rusage of that one child), time from a signal to exit, and the bytes
//! it wrote.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: `HOSTILE_BIN` (the release build, from
/// tests/hostile/measure-release.sh) or the one cargo built for this test run.
pub fn bin() -> String {
    std::env::var("HOSTILE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_mitid-flex-tv").into())
}

pub struct Run {
    pub code: Option<i32>,
    /// Killed by this signal (a panic with `panic = "abort"` is SIGABRT).
    pub signal: Option<i32>,
    pub max_rss_kib: i64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// From `signal_after` (or the start) to the exit.
    pub elapsed: Duration,
}

impl Run {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).to_string()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).to_string()
    }

    /// Exit code, with the output in the failure message.
    pub fn assert_exit(&self, code: i32, what: &str) {
        assert_eq!(
            self.signal,
            None,
            "{what}: killed by a signal; {}",
            self.stderr()
        );
        assert_eq!(self.code, Some(code), "{what}: stderr: {}", self.stderr());
        assert_clean(&self.stdout, what);
        assert_clean(&self.stderr, what);
    }
}

/// No raw control character (except the newline), DEL, C1 control or bidi override.
pub fn assert_clean(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    let bad = text.chars().find(|c| {
        (c.is_control() && *c != '\n')
            || ('\u{202A}'..='\u{202E}').contains(c)
            || ('\u{2066}'..='\u{2069}').contains(c)
    });
    assert!(bad.is_none(), "{what}: raw {bad:?} in output:\n{text}");
}

/// `signin` against `issuer`, with `config` as the config file (TOML text).
pub fn signin(issuer: &str, config: &str, extra: &[&str]) -> Child {
    let dir = std::env::temp_dir().join(format!("hostile-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(&file, config).unwrap();
    Command::new(bin())
        .args([
            "signin",
            "--profile",
            "signaturgruppen-pp",
            "--issuer",
            issuer,
            "--kind",
            "uuid",
            "--identifier",
            super::op::UUID,
        ])
        .args(extra)
        .env("MITID_FLEX_TV_CONFIG", &file)
        .env_remove("MITID_FLEX_TV_CLIENT_SECRET")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("RUST_LOG", "info")
        .env("LANG", "en_US.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` (in a blocking thread), sending `signal` first if given. The clock
/// starts when the signal is sent.
pub async fn finish(mut child: Child, signal: Option<i32>) -> Run {
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let pid = i32::try_from(child.id()).unwrap();
    let started = Instant::now();
    if let Some(sig) = signal {
        // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }
    let (status, rss) = tokio::task::spawn_blocking(move || {
        let mut status = 0;
        // SAFETY: rusage is plain old data; wait4 fills it for this one child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(r, pid, "wait4");
        (status, usage.ru_maxrss)
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    // The child is reaped; make sure std does not try again.
    std::mem::forget(child);
    Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        max_rss_kib: rss,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed,
    }
}
