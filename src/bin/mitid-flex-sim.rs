//! `mitid-flex-sim`: the offline broker simulator as a program (see `mitid_flex_tv::sim`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mitid_flex_tv::sim::{self, Endpoint, Faults, IdentitiesFile, SimOptions};
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};

/// Offline simulator of Signaturgruppen's broker for the MitID Flex app (OpenID Connect CIBA).
///
/// Serves the broker's endpoints under /op (discovery, JWKS, /connect/ciba, /connect/token,
/// cancel, CIBA+PAR init-auth and /connect/authorize, userinfo), a simulated MitID app at
/// /phone, and a control API under /_sim. The broker's public PP demo client is accepted, so
/// the reference documentation's curl lines run with only the host changed.
#[derive(Debug, Parser)]
#[command(name = "mitid-flex-sim", version, about, long_about)]
struct Cli {
    /// Address to listen on. Anything but loopback exposes the simulator to the network
    /// (useful so a real phone on the LAN can scan the QR code).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:8787",
        env = "MITID_FLEX_SIM_LISTEN"
    )]
    listen: SocketAddr,

    /// Lifetime of an auth_req_id, in seconds.
    #[arg(long, value_name = "S", default_value_t = 300)]
    expires_in: u64,

    /// Required gap between polls, in seconds.
    #[arg(long, value_name = "S", default_value_t = 3)]
    interval: u64,

    /// Approve every request by itself after N seconds (demos and tests).
    #[arg(long, value_name = "N")]
    auto_approve_after: Option<u64>,

    /// Reject every request by itself (after --auto-approve-after seconds, default 1).
    #[arg(long)]
    auto_reject: bool,

    /// TOML file with [[identity]] tables (user_id, uuid, cpr, name, date_of_birth) and
    /// optional [[client]] tables (client_id, client_secret). Default: the shipped identities.
    #[arg(long, value_name = "FILE")]
    identities: Option<PathBuf>,

    /// Directory where the RSA signing key is kept (created with mode 0600), so the kid
    /// stays the same across restarts. Default: the user's data directory.
    #[arg(long, value_name = "DIR", env = "MITID_FLEX_SIM_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// Keep the signing key in memory only (a new kid at every start).
    #[arg(long, conflicts_with = "data_dir")]
    ephemeral_key: bool,

    /// Base URL a phone can reach, e.g. http://192.168.1.20:8787; used in the QR flow's
    /// authentication_uri and the printed /phone URL. The issuer stays the local URL.
    #[arg(long, value_name = "URL")]
    public_url: Option<url::Url>,

    /// Where the token response echoes the login hint's ciba_nonce: id-token, response
    /// (top level of the token response), both or none.
    #[arg(long, value_name = "WHERE", default_value = "id-token")]
    nonce_echo: sim::NonceEcho,

    /// Leave mitid.identity_name and mitid.date_of_birth out of ID tokens (userinfo still
    /// has them).
    #[arg(long)]
    lean_id_token: bool,

    /// Fault: delay responses of the fault endpoints by MS milliseconds.
    #[arg(long, value_name = "MS", help_heading = "Faults")]
    fault_delay_ms: Option<u64>,

    /// Fault: answer the fault endpoints with this HTTP status (e.g. 503).
    #[arg(long, value_name = "CODE", help_heading = "Faults")]
    fault_status: Option<u16>,

    /// Fault: answer the fault endpoints with 200 and an HTML body.
    #[arg(long, help_heading = "Faults")]
    fault_non_json: bool,

    /// Endpoints hit by the delay/status/non-JSON faults (comma separated): discovery, jwks,
    /// ciba, token, cancel, init_auth, userinfo.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "token",
        help_heading = "Faults"
    )]
    fault_endpoints: Vec<Endpoint>,

    /// Fault: mark a successful result collected but answer 502.
    #[arg(long, help_heading = "Faults")]
    fault_drop_success: bool,

    /// Fault: sign ID tokens with a key the JWKS does not publish.
    #[arg(long, help_heading = "Faults")]
    fault_wrong_signature: bool,

    /// Fault: put a wrong aud in ID tokens.
    #[arg(long, help_heading = "Faults")]
    fault_wrong_aud: bool,

    /// Fault: put a wrong iss in ID tokens.
    #[arg(long, help_heading = "Faults")]
    fault_wrong_iss: bool,

    /// Fault: issue ID tokens that have already expired.
    #[arg(long, help_heading = "Faults")]
    fault_expired_id_token: bool,

    /// Fault: rotate to a new signing key before each token is signed.
    #[arg(long, help_heading = "Faults")]
    fault_rotated_key: bool,

    /// Fault: answer every poll of a pending request with slow_down.
    #[arg(long, help_heading = "Faults")]
    fault_slow_down_storm: bool,

    /// Fault: end each pending request with mitid_flex_app.mitid_error_CODE on its next poll.
    #[arg(long, value_name = "CODE", help_heading = "Faults")]
    fault_mitid_error: Option<String>,

    /// Let the faults affect only the first N responses.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    fault_times: Option<u32>,
}

impl Cli {
    fn faults(&self) -> Faults {
        Faults {
            delay_ms: self.fault_delay_ms.unwrap_or(0),
            http_status: self.fault_status,
            non_json: self.fault_non_json,
            endpoints: self.fault_endpoints.clone(),
            drop_success: self.fault_drop_success,
            wrong_signature: self.fault_wrong_signature,
            wrong_aud: self.fault_wrong_aud,
            wrong_iss: self.fault_wrong_iss,
            expired_id_token: self.fault_expired_id_token,
            rotated_key: self.fault_rotated_key,
            slow_down_storm: self.fault_slow_down_storm,
            mitid_error: self.fault_mitid_error.clone(),
            times: self.fault_times,
        }
    }

    fn options(&self) -> Result<SimOptions, sim::SimError> {
        let mut options = SimOptions {
            expires_in: Duration::from_secs(self.expires_in),
            interval: Duration::from_secs(self.interval),
            auto_approve_after: self.auto_approve_after.map(Duration::from_secs),
            auto_reject: self.auto_reject,
            public_base_url: self.public_url.clone(),
            faults: self.faults(),
            shape: sim::TokenShape {
                nonce_echo: self.nonce_echo,
                lean_id_token: self.lean_id_token,
            },
            ..SimOptions::default()
        };
        if let Some(path) = &self.identities {
            let file = IdentitiesFile::load(path)?;
            if !file.identity.is_empty() {
                options.identities = file.identity;
            }
            options.clients.extend(file.client);
        }
        options.data_dir = match (&self.data_dir, self.ephemeral_key) {
            (_, true) => None,
            (Some(dir), false) => Some(dir.clone()),
            (None, false) => {
                directories::ProjectDirs::from("dk", "mitid-flex-tv", "mitid-flex-sim")
                    .map(|d| d.data_dir().to_path_buf())
            }
        };
        Ok(options)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // `RUST_LOG` as `target=level` directives (tracing's `Targets`, the same filter the TV
    // uses); unset or unparsable means `info`.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing_subscriber::filter::LevelFilter::INFO)
        });
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    if !cli.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {} exposes the broker simulator (and its approve buttons) to the network",
            cli.listen
        );
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mitid-flex-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), sim::SimError> {
    let options = cli.options()?;
    if cli.expires_in == 0 || cli.interval == 0 {
        return Err(sim::SimError::Options(
            "--expires-in and --interval must be at least 1".into(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .map_err(sim::SimError::bind)?;
    let handle = sim::serve(listener, options).await?;
    println!("authority: {}", handle.authority());
    println!("phone:     {}", handle.phone_url());
    println!("kid:       {}", handle.kid());
    wait_for_stop_signal().await;
    eprintln!("stopping");
    handle.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM (systemd, CI runners, `kill`).
async fn wait_for_stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = terminate => {}
        () = interrupt => {}
    }
}
