//! Hand-off: give the signed-in viewer's identity to the rest of the box.
//!
//! After a successful sign-in the app can pass the identity to the operator's middleware in up
//! to three ways, configured in the `[handoff]` table of the config file. Every way gets the
//! same bytes: the identity object as one line of compact JSON followed by `\n`:
//!
//! ```json
//! {"sub":"…","name":"…","uuid":"…","date_of_birth":"1990-01-01","age":35,"issuer":"…","reference_text":"…","signed_in_at":"2025-01-01T12:00:00Z"}
//! ```
//!
//! * `command`: a program and its arguments, run directly (no shell, so no quoting or
//!   injection issues) with the JSON line on stdin. Exit status 0 means delivered. Its stdout
//!   is discarded; its stderr goes to the app's log (CPR numbers redacted), so print
//!   diagnostics there but never the identity. The hook runs as the service user with the
//!   app's environment minus the client secret (`MITID_FLEX_TV_CLIENT_SECRET` and
//!   `CREDENTIALS_DIRECTORY` are removed). It runs in its own process group; when it does not
//!   finish within the timeout the whole group is killed.
//! * `fifo`: an existing named pipe (`mkfifo`). It is opened without blocking; when no
//!   process has it open for reading, the app retries until the timeout. One write of one
//!   line, which is atomic for lines up to `PIPE_BUF` (4096 bytes).
//! * `socket`: a Unix *stream* socket that the middleware listens on. The app connects,
//!   writes the line, shuts down its sending side and closes. No reply is expected.
//!
//! All configured targets are tried, concurrently, each bounded by `timeout_secs` (default
//! 10). The identity is never written to the log at any level.
//!
//! **Never call [`deliver`] on the UI thread.** It awaits a child process and I/O for up to the
//! timeout. Spawn it on the tokio runtime and report the outcome back to the UI, e.g.:
//!
//! ```ignore
//! let (cfg, identity) = (config.handoff.clone(), identity.clone());
//! tokio::spawn(async move {
//!     if mitid_flex_tv::handoff::deliver(&cfg, &identity).await.is_err() {
//!         events.send(UiEvent::HandoffFailed);
//!     }
//! });
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ciba::Profile;
use crate::logging::redact_cpr;

/// Used when `timeout_secs` is not set.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// How much of a hook's stderr is kept (the start of it).
const STDERR_KEEP: usize = 8 * 1024;

/// How long to wait for a finished hook's stderr to reach end-of-file. A hook that leaves a
/// background process holding stderr open must not make the hand-off hang.
const STDERR_GRACE: Duration = Duration::from_millis(300);

/// How often to retry opening a FIFO that has no reader yet.
const FIFO_RETRY: Duration = Duration::from_millis(50);

/// Environment variables a hook never inherits.
const SECRET_ENV: &[&str] = &["MITID_FLEX_TV_CLIENT_SECRET", "CREDENTIALS_DIRECTORY"];

/// The `[handoff]` table of the config file. Every field is optional; with none set there is
/// no hand-off. Unknown keys are an error, so a typo does not silently disable the hand-off.
///
/// ```toml
/// [handoff]
/// command = ["/usr/local/lib/acme/on-signin", "--from", "mitid"]
/// fifo = "/run/acme/identity.fifo"
/// socket = "/run/acme/identity.sock"
/// timeout_secs = 10
/// ```
#[derive(Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HandoffConfig {
    /// Program and arguments to run with the identity JSON line on stdin. Not run through a
    /// shell; the program is looked up in `PATH` when it has no `/`.
    pub command: Option<Vec<String>>,
    /// Existing named pipe to write the JSON line to.
    pub fifo: Option<PathBuf>,
    /// Unix stream socket to connect to and write the JSON line to.
    pub socket: Option<PathBuf>,
    /// Upper bound per target in seconds (default 10, at least 1).
    pub timeout_secs: Option<u64>,
}

impl HandoffConfig {
    /// True when at least one target is configured.
    pub fn is_configured(&self) -> bool {
        self.command.is_some() || self.fifo.is_some() || self.socket.is_some()
    }

    /// The per-target timeout: `timeout_secs`, default 10 s, never less than 1 s.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1))
    }

    /// Checks that need no I/O, for `mitid-flex-tv check` and start-up.
    pub fn validate(&self) -> Result<(), HandoffError> {
        match &self.command {
            Some(argv) if argv.first().is_none_or(|p| p.is_empty()) => {
                Err(HandoffError::EmptyCommand)
            }
            _ => Ok(()),
        }
    }
}

/// Why the hand-off failed. Each message says what to check. None contains the identity.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error(
        "handoff.command is empty: give the program and its arguments, e.g. [\"/usr/local/lib/acme/on-signin\"]"
    )]
    EmptyCommand,
    #[error(
        "cannot start the sign-in hook {program:?}: {source} (does it exist, is it executable, may the service user run it?)"
    )]
    HookSpawn {
        program: String,
        #[source]
        source: io::Error,
    },
    /// The hook ran and exited with a non-zero status. `stderr` is the start of what it
    /// printed there (CPR numbers redacted); it is logged, not part of the message.
    #[error("the sign-in hook {program:?} failed with exit code {code}")]
    HookFailed {
        program: String,
        code: i32,
        stderr: String,
    },
    #[error("the sign-in hook {program:?} was killed by signal {signal}")]
    HookKilled {
        program: String,
        signal: i32,
        stderr: String,
    },
    #[error(
        "the sign-in hook {program:?} did not finish within {secs} s and was killed (make it return sooner, or raise handoff.timeout_secs)"
    )]
    HookTimeout { program: String, secs: u64 },
    #[error("lost track of the sign-in hook {program:?}: {source}")]
    HookWait {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the hand-off FIFO {path:?} does not exist (create it with mkfifo; the service user must be able to write to it)"
    )]
    FifoMissing { path: PathBuf },
    #[error("the hand-off path {path:?} is not a FIFO (create it with mkfifo)")]
    NotAFifo { path: PathBuf },
    #[error(
        "nothing read the hand-off FIFO {path:?} within {secs} s (is the middleware running and reading it?)"
    )]
    FifoNoReader { path: PathBuf, secs: u64 },
    #[error("cannot write to the hand-off FIFO {path:?}: {source}")]
    FifoWrite {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot connect to the hand-off socket {path:?}: {source} (is the middleware listening, and may the service user connect?)"
    )]
    SocketConnect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot send to the hand-off socket {path:?}: {source}")]
    SocketWrite {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the hand-off socket {path:?} did not take the identity within {secs} s")]
    SocketTimeout { path: PathBuf, secs: u64 },
    /// More than one target failed; each error is in the list.
    #[error("{} hand-off targets failed: {}", .0.len(), join_errors(.0))]
    Several(Vec<HandoffError>),
}

fn join_errors(errors: &[HandoffError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The signed-in viewer as the middleware (and `signin`) receives it: the profile's fields in
/// their order, then `signed_in_at`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// `reference_text` is what the viewer approved: the broker's report of it, else what the
    /// TV showed.
    #[serde(flatten)]
    pub profile: Profile,
    /// RFC 3339, UTC.
    pub signed_in_at: String,
}

impl Identity {
    pub fn new(
        profile: &Profile,
        reference_text: &str,
        signed_in_at: std::time::SystemTime,
    ) -> Self {
        let at = time::OffsetDateTime::from(signed_in_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let shown = Some(reference_text).filter(|t| !t.is_empty());
        let mut profile = profile.clone();
        profile.reference_text = profile.reference_text.or(shown.map(str::to_string));
        Identity {
            profile,
            signed_in_at: at,
        }
    }

    /// One line of compact JSON (newlines inside strings are escaped).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Personal data stays out of logs and panics.
impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("issuer", &self.profile.issuer)
            .finish_non_exhaustive()
    }
}

/// Hand `identity` to every configured target. Returns `Ok(())` at once when none is
/// configured. Runs for at most about the configured timeout. See the module docs: spawn it,
/// never await it on the UI thread.
pub async fn deliver(cfg: &HandoffConfig, identity: &Identity) -> Result<(), HandoffError> {
    if !cfg.is_configured() {
        return Ok(());
    }
    cfg.validate()?;
    let mut line = identity.to_json_line();
    line.push('\n');
    let line = line.as_bytes();
    let timeout = cfg.timeout();

    let command = async {
        match &cfg.command {
            Some(argv) => run_hook(argv, line, timeout).await,
            None => Ok(()),
        }
    };
    let fifo = async {
        match &cfg.fifo {
            Some(path) => write_fifo(path, line, timeout).await,
            None => Ok(()),
        }
    };
    let socket = async {
        match &cfg.socket {
            Some(path) => write_socket(path, line, timeout).await,
            None => Ok(()),
        }
    };
    let (a, b, c) = tokio::join!(command, fifo, socket);
    let mut errors: Vec<HandoffError> = [a, b, c].into_iter().filter_map(Result::err).collect();
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(HandoffError::Several(errors)),
    }
}

/// The hook's command line, without a shell, stdin piped, stdout discarded, stderr captured,
/// its own process group, and no secret in its environment.
fn hook_command(program: &str, args: &[String]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    for var in SECRET_ENV {
        cmd.env_remove(var);
    }
    cmd
}

async fn run_hook(argv: &[String], line: &[u8], timeout: Duration) -> Result<(), HandoffError> {
    let (program, args) = argv.split_first().ok_or(HandoffError::EmptyCommand)?;
    let started = Instant::now();
    let mut child =
        hook_command(program, args)
            .spawn()
            .map_err(|source| HandoffError::HookSpawn {
                program: program.clone(),
                source,
            })?;
    let pgid = child.id();

    let captured = Arc::new(Mutex::new(Vec::new()));
    let reader = child.stderr.take().map(|mut err| {
        let captured = Arc::clone(&captured);
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = err.read(&mut buf).await {
                let mut c = captured.lock().unwrap_or_else(|p| p.into_inner());
                let room = STDERR_KEEP.saturating_sub(c.len());
                c.extend_from_slice(&buf[..n.min(room)]);
            }
        })
    });
    let mut stdin = child.stdin.take();

    let run = async {
        if let Some(w) = stdin.as_mut() {
            // A hook that exits without reading its stdin is judged by its exit status alone.
            if let Err(e) = w.write_all(line).await {
                tracing::debug!(program, error = %e, "hook did not take its stdin");
            }
        }
        drop(stdin.take()); // EOF for the hook
        child.wait().await
    };
    let outcome = tokio::time::timeout(timeout, run).await;

    let status = match outcome {
        Ok(Ok(status)) => status,
        Ok(Err(source)) => {
            return Err(HandoffError::HookWait {
                program: program.clone(),
                source,
            });
        }
        Err(_) => {
            kill_group(pgid);
            let _ = child.kill().await;
            if let Some(r) = reader {
                r.abort();
            }
            let stderr = take_text(&captured);
            if !stderr.is_empty() {
                tracing::warn!(program, stderr = %stderr, "sign-in hook stderr before timeout");
            }
            return Err(HandoffError::HookTimeout {
                program: program.clone(),
                secs: timeout.as_secs(),
            });
        }
    };

    if let Some(r) = reader {
        let abort = r.abort_handle();
        if tokio::time::timeout(STDERR_GRACE, r).await.is_err() {
            abort.abort();
        }
    }
    let stderr = take_text(&captured);
    let elapsed_ms = started.elapsed().as_millis() as u64;

    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => {
            if !stderr.is_empty() {
                tracing::info!(program, stderr = %stderr, "sign-in hook stderr");
            }
            tracing::info!(program, elapsed_ms, "identity handed to the sign-in hook");
            Ok(())
        }
        (Some(code), _) => {
            tracing::warn!(program, code, elapsed_ms, stderr = %stderr, "sign-in hook failed");
            Err(HandoffError::HookFailed {
                program: program.clone(),
                code,
                stderr,
            })
        }
        (None, signal) => {
            let signal = signal.unwrap_or(0);
            tracing::warn!(program, signal, stderr = %stderr, "sign-in hook was killed");
            Err(HandoffError::HookKilled {
                program: program.clone(),
                signal,
                stderr,
            })
        }
    }
}

/// Kill the hook's whole process group (it was started with `process_group(0)`, so the group
/// id is its pid), so that nothing it started outlives the timeout.
fn kill_group(pgid: Option<u32>) {
    if let Some(pgid) = pgid.and_then(|p| i32::try_from(p).ok()).filter(|&p| p > 1) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours. A negative pid
        // addresses the process group that the hook leads.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

fn take_text(captured: &Mutex<Vec<u8>>) -> String {
    let bytes = std::mem::take(&mut *captured.lock().unwrap_or_else(|p| p.into_inner()));
    redact_cpr(String::from_utf8_lossy(&bytes).trim_end())
}

async fn write_fifo(path: &Path, line: &[u8], timeout: Duration) -> Result<(), HandoffError> {
    use std::os::unix::fs::FileTypeExt;
    let deadline = tokio::time::Instant::now() + timeout;
    let owned = || path.to_path_buf();
    let meta = tokio::fs::metadata(path).await.map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            HandoffError::FifoMissing { path: owned() }
        } else {
            HandoffError::FifoWrite {
                path: owned(),
                source,
            }
        }
    })?;
    if !meta.file_type().is_fifo() {
        return Err(HandoffError::NotAFifo { path: owned() });
    }
    let no_reader = || HandoffError::FifoNoReader {
        path: owned(),
        secs: timeout.as_secs(),
    };
    let mut sender = loop {
        // O_WRONLY | O_NONBLOCK: fails with ENXIO while no process has the FIFO open for reading.
        match tokio::net::unix::pipe::OpenOptions::new().open_sender(path) {
            Ok(s) => break s,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                if tokio::time::Instant::now() + FIFO_RETRY > deadline {
                    return Err(no_reader());
                }
                tokio::time::sleep(FIFO_RETRY).await;
            }
            Err(source) => {
                return Err(HandoffError::FifoWrite {
                    path: owned(),
                    source,
                });
            }
        }
    };
    match tokio::time::timeout_at(deadline, sender.write_all(line)).await {
        Ok(Ok(())) => {
            tracing::info!(fifo = %path.display(), "identity handed to the FIFO");
            Ok(())
        }
        Ok(Err(source)) => Err(HandoffError::FifoWrite {
            path: owned(),
            source,
        }),
        Err(_) => Err(no_reader()),
    }
}

async fn write_socket(path: &Path, line: &[u8], timeout: Duration) -> Result<(), HandoffError> {
    let owned = || path.to_path_buf();
    let timed_out = || HandoffError::SocketTimeout {
        path: owned(),
        secs: timeout.as_secs(),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stream = tokio::time::timeout_at(deadline, tokio::net::UnixStream::connect(path))
        .await
        .map_err(|_| timed_out())?
        .map_err(|source| HandoffError::SocketConnect {
            path: owned(),
            source,
        })?;
    let send = async {
        stream.write_all(line).await?;
        stream.shutdown().await
    };
    tokio::time::timeout_at(deadline, send)
        .await
        .map_err(|_| timed_out())?
        .map_err(|source| HandoffError::SocketWrite {
            path: owned(),
            source,
        })?;
    tracing::info!(socket = %path.display(), "identity handed to the socket");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_rejects_unknown_keys() {
        let cfg: HandoffConfig = toml::from_str(
            "command = [\"/bin/true\", \"x\"]\nfifo = \"/run/a.fifo\"\nsocket = \"/run/a.sock\"\ntimeout_secs = 3\n",
        )
        .unwrap();
        assert_eq!(cfg.command.as_deref().unwrap()[1], "x");
        assert_eq!(cfg.timeout(), Duration::from_secs(3));
        assert!(cfg.is_configured());
        let err = toml::from_str::<HandoffConfig>("comand = [\"/bin/true\"]\n").unwrap_err();
        assert!(err.to_string().contains("comand"), "{err}");
    }

    #[test]
    fn empty_config_means_no_handoff_and_default_timeout() {
        let cfg = HandoffConfig::default();
        assert!(!cfg.is_configured());
        assert_eq!(cfg.timeout(), Duration::from_secs(DEFAULT_TIMEOUT_SECS));
        let zero = HandoffConfig {
            timeout_secs: Some(0),
            ..Default::default()
        };
        assert_eq!(zero.timeout(), Duration::from_secs(1));
    }

    #[test]
    fn empty_command_is_rejected() {
        for argv in [vec![], vec![String::new()]] {
            let cfg = HandoffConfig {
                command: Some(argv),
                ..Default::default()
            };
            assert!(matches!(cfg.validate(), Err(HandoffError::EmptyCommand)));
        }
    }

    #[test]
    fn hook_never_inherits_the_secret() {
        let cmd = hook_command("/bin/true", &[]);
        let envs: Vec<_> = cmd.as_std().get_envs().collect();
        for var in SECRET_ENV {
            assert!(
                envs.iter().any(|(k, v)| k == var && v.is_none()),
                "{var} is not removed: {envs:?}"
            );
        }
    }

    #[test]
    fn several_errors_are_all_listed() {
        let e = HandoffError::Several(vec![
            HandoffError::EmptyCommand,
            HandoffError::NotAFifo {
                path: "/tmp/x".into(),
            },
        ]);
        let msg = e.to_string();
        assert!(msg.starts_with("2 hand-off targets failed"), "{msg}");
        assert!(msg.contains("empty") && msg.contains("/tmp/x"), "{msg}");
    }
}
