//! `mitid-flex-relay`: the operator's relay between a fleet of boxes and the MitID broker
//! (see `mitid_flex_tv::relay`). Built only with the cargo feature `relay`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mitid_flex_tv::relay::{self, config::RelayConfig};

/// Holds the broker's client secret for a fleet of boxes: mutual TLS per box, push limits
/// per box and per viewer (shared through Redis), a signed webhook to the operator's backend,
/// an audit line per sign-in, Prometheus /metrics and /healthz.
///
/// Secrets come from systemd credentials ($CREDENTIALS_DIRECTORY: client_secret, seal_key,
/// webhook_key, tls_key) or the environment (MITID_FLEX_TV_CLIENT_SECRET,
/// MITID_FLEX_RELAY_SEAL_KEY, MITID_FLEX_RELAY_WEBHOOK_KEY). SIGHUP reloads the deny list.
#[derive(Debug, Parser)]
#[command(name = "mitid-flex-relay", version, about, long_about)]
struct Cli {
    /// The relay's TOML config.
    #[arg(long, value_name = "FILE", default_value = relay::config::SYSTEM_CONFIG, env = "MITID_FLEX_RELAY_CONFIG")]
    config: PathBuf,
    /// Check the config and the secrets, then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match RelayConfig::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mitid-flex-relay: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = mitid_flex_tv::logging::init(cfg.broker.log_level.as_deref()) {
        eprintln!("mitid-flex-relay: {e}");
    }
    if cli.check {
        println!("config ok: {}", cli.config.display());
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mitid-flex-relay: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(relay::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mitid-flex-relay: {e}");
            ExitCode::FAILURE
        }
    }
}
