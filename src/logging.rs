//! Logging: `tracing` to journald under systemd, to stderr otherwise.
//!
//! * **Where.** When stderr is the journal stream that systemd set up for the service
//!   (`JOURNAL_STREAM` names the device and inode of our stderr, see `systemd.exec(5)`), events
//!   go to journald natively, with priorities and structured fields (`journalctl -u
//!   mitid-flex-tv -o verbose`). Otherwise, e.g. a developer in a terminal, a human-readable
//!   format goes to stderr. If the journald socket cannot be reached, stderr is used as well.
//! * **How much.** `RUST_LOG` wins when set (comma-separated `target=level` or bare `level`
//!   directives, used as given; targets match by prefix). Else the config file's `log_level`,
//!   else `info`. A bare level from the config (`debug`) applies to this app's own code only;
//!   the libraries stay at `warn`, so that raising the level never turns on HTTP-client
//!   tracing that could print headers.
//! * **What never goes in.** Secrets, tokens, `auth_req_id` and CPR numbers must never be
//!   logged. The code that holds them does not put them in events; for text that comes from
//!   outside (a broker's error body, a hook's stderr) use [`crate::sanitize::clean`] before logging it.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};

/// The default when neither `RUST_LOG` nor the config sets a level.
pub const DEFAULT_LEVEL: &str = "info";

/// `SYSLOG_IDENTIFIER` in the journal (`journalctl -t mitid-flex-tv`).
pub const SYSLOG_IDENTIFIER: &str = "mitid-flex-tv";

/// Our own tracing targets (library and binaries), which a bare config level applies to.
const OWN_TARGETS: &[&str] = &["mitid_flex_tv", "mitid_flex_sim"];

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// `RUST_LOG` or `log_level` is not a valid level or filter directive.
    #[error(
        "invalid log level {value:?} from {origin}: {reason} (use error, warn, info, debug, trace, or RUST_LOG-style directives)"
    )]
    InvalidLevel {
        value: String,
        origin: LevelOrigin,
        reason: String,
    },
    /// `init` was called twice, or another global subscriber is already installed.
    #[error("logging was already initialised: {0}")]
    AlreadyInitialised(String),
}

/// Where the effective level came from (shown in errors and at start-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelOrigin {
    RustLog,
    Config,
    Default,
}

impl std::fmt::Display for LevelOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LevelOrigin::RustLog => "RUST_LOG",
            LevelOrigin::Config => "the config file (log_level)",
            LevelOrigin::Default => "the default",
        })
    }
}

/// Where the events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Journald,
    Stderr,
}

/// Install the global subscriber. Call once, early in `main`, after reading the config.
///
/// `level_from_config` is the config file's `log_level`, if any.
pub fn init(level_from_config: Option<&str>) -> Result<(), LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (directives, origin) = filter_directives(rust_log.as_deref(), level_from_config);
    let filter = parse_filter(&directives, origin)?;

    let journal_stream = std::env::var("JOURNAL_STREAM").ok();
    let want_journal = stderr_identity()
        .is_some_and(|(dev, ino)| stderr_is_journal(journal_stream.as_deref(), dev, ino));

    let registry = tracing_subscriber::registry().with(filter);
    let (result, sink, journal_error) = if want_journal {
        match tracing_journald::layer() {
            Ok(layer) => {
                let layer = layer.with_syslog_identifier(SYSLOG_IDENTIFIER.to_owned());
                (registry.with(layer).try_init(), Sink::Journald, None)
            }
            Err(e) => (
                registry.with(stderr_layer()).try_init(),
                Sink::Stderr,
                Some(e),
            ),
        }
    } else {
        (registry.with(stderr_layer()).try_init(), Sink::Stderr, None)
    };
    result.map_err(|e| LoggingError::AlreadyInitialised(e.to_string()))?;

    if let Some(e) = journal_error {
        tracing::warn!("journald is not reachable ({e}); logging to stderr");
    }
    tracing::debug!(?sink, level = %directives, origin = %origin, "logging initialised");
    Ok(())
}

fn stderr_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colours only where the build has them (the `desktop` feature): asking a build
        // without tracing-subscriber's `ansi` for colours makes it complain at start.
        .with_ansi(cfg!(feature = "desktop") && std::io::stderr().is_terminal())
        .with_target(true)
}

/// Pick the filter: `RUST_LOG` (verbatim), else the config (a bare level is scoped to our
/// own targets, libraries stay at `warn`), else [`DEFAULT_LEVEL`] scoped the same way.
pub fn filter_directives(rust_log: Option<&str>, config: Option<&str>) -> (String, LevelOrigin) {
    if let Some(v) = nonempty(rust_log) {
        return (v.to_owned(), LevelOrigin::RustLog);
    }
    let (value, origin) = match nonempty(config) {
        Some(v) => (v, LevelOrigin::Config),
        None => (DEFAULT_LEVEL, LevelOrigin::Default),
    };
    if is_bare_level(value) {
        let level = value.to_ascii_lowercase();
        let mut d = String::from("warn");
        for t in OWN_TARGETS {
            d.push_str(&format!(",{t}={level}"));
        }
        (d, origin)
    } else {
        (value.to_owned(), origin)
    }
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn is_bare_level(v: &str) -> bool {
    ["error", "warn", "info", "debug", "trace"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(v))
}

/// Parses `target=level` and bare `level` directives into a per-target filter.
///
/// `Targets` rather than `EnvFilter`: no span or field-value filters, but no regex engine in
/// the binary either (about a megabyte of the kiosk's size budget), and a box's operator
/// only ever needs "this module at debug, the rest at warn".
fn parse_filter(directives: &str, origin: LevelOrigin) -> Result<Targets, LoggingError> {
    directives
        .parse::<Targets>()
        .map_err(|e| LoggingError::InvalidLevel {
            value: directives.to_owned(),
            origin,
            reason: e.to_string(),
        })
}

/// Device and inode of our stderr, to compare with `JOURNAL_STREAM`.
fn stderr_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

/// `JOURNAL_STREAM` is `"<device>:<inode>"` of the stream systemd connected to stdout/stderr.
/// It is inherited by children whose stderr may have been redirected, so it only counts when
/// it matches our own stderr (`systemd.exec(5)`, "JOURNAL_STREAM").
pub fn stderr_is_journal(journal_stream: Option<&str>, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = journal_stream.and_then(|s| s.trim().split_once(':')) else {
        return false;
    };
    matches!((d.parse::<u64>(), i.parse::<u64>()), (Ok(d), Ok(i)) if d == dev && i == ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_wins_verbatim() {
        let (d, o) = filter_directives(Some("hyper=trace,debug"), Some("warn"));
        assert_eq!(d, "hyper=trace,debug");
        assert_eq!(o, LevelOrigin::RustLog);
    }

    #[test]
    fn empty_rust_log_falls_back_to_config() {
        let (d, o) = filter_directives(Some("  "), Some("debug"));
        assert_eq!(d, "warn,mitid_flex_tv=debug,mitid_flex_sim=debug");
        assert_eq!(o, LevelOrigin::Config);
    }

    #[test]
    fn config_directives_are_used_as_given() {
        let (d, o) = filter_directives(None, Some("mitid_flex_tv::ciba=trace,info"));
        assert_eq!(d, "mitid_flex_tv::ciba=trace,info");
        assert_eq!(o, LevelOrigin::Config);
    }

    #[test]
    fn default_is_info_for_us_and_warn_for_libraries() {
        let (d, o) = filter_directives(None, None);
        assert_eq!(d, "warn,mitid_flex_tv=info,mitid_flex_sim=info");
        assert_eq!(o, LevelOrigin::Default);
        assert!(parse_filter(&d, o).is_ok());
    }

    #[test]
    fn the_filter_scopes_levels_by_target_prefix() {
        use tracing::Level;
        let (d, o) = filter_directives(None, None);
        let f = parse_filter(&d, o).unwrap();
        assert!(f.would_enable("mitid_flex_tv::ciba::poll", &Level::INFO));
        assert!(!f.would_enable("mitid_flex_tv::ciba::poll", &Level::DEBUG));
        assert!(f.would_enable("hyper_util::client", &Level::WARN));
        assert!(!f.would_enable("hyper_util::client", &Level::INFO));

        let f = parse_filter("mitid_flex_tv::ciba=TRACE,error", LevelOrigin::RustLog).unwrap();
        assert!(f.would_enable("mitid_flex_tv::ciba::poll", &Level::TRACE));
        assert!(!f.would_enable("mitid_flex_tv::ui", &Level::WARN));
        assert!(f.would_enable("mitid_flex_tv::ui", &Level::ERROR));

        let f = parse_filter("off", LevelOrigin::RustLog).unwrap();
        assert!(!f.would_enable("mitid_flex_tv", &Level::ERROR));
    }

    #[test]
    fn level_is_case_insensitive() {
        let (d, _) = filter_directives(None, Some("DEBUG"));
        assert!(d.ends_with("mitid_flex_sim=debug"), "{d}");
    }

    #[test]
    fn invalid_level_is_an_error_naming_its_origin() {
        let (d, o) = filter_directives(None, Some("loud=verbose"));
        let e = parse_filter(&d, o).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("loud=verbose") && msg.contains("log_level"),
            "{msg}"
        );
    }

    #[test]
    fn journal_stream_must_match_our_stderr() {
        assert!(stderr_is_journal(Some("8:12345"), 8, 12345));
        assert!(!stderr_is_journal(Some("8:12345"), 8, 54321));
        assert!(!stderr_is_journal(Some("9:12345"), 8, 12345));
        assert!(!stderr_is_journal(Some("garbage"), 8, 12345));
        assert!(!stderr_is_journal(Some(""), 0, 0));
        assert!(!stderr_is_journal(None, 8, 12345));
    }

    /// The only test in this binary that installs the global subscriber.
    #[test]
    fn init_rejects_a_bad_level_then_installs_once() {
        if std::env::var_os("RUST_LOG").is_some() {
            eprintln!("skipped: RUST_LOG is set and would win over the config");
            return;
        }
        assert!(matches!(
            init(Some("mitid_flex_tv=loud")),
            Err(LoggingError::InvalidLevel {
                origin: LevelOrigin::Config,
                ..
            })
        ));
        init(Some("debug")).expect("first init");
        assert!(matches!(
            init(None),
            Err(LoggingError::AlreadyInitialised(_))
        ));
    }
}
