//! Command line: the TV UI (default), `signin` (headless), `check`, `render`.

pub mod check;
pub mod signin;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use mitid_flex_tv::ciba::{ClientAuth, HintEncoding};
use mitid_flex_tv::config::Settings;
use mitid_flex_tv::config::{IdentifierKind, Overrides, ProfileName};
use mitid_flex_tv::session::Outcome;
use mitid_flex_tv::wiring::{self, Wired, WiringError};

#[derive(Parser, Debug)]
#[command(
    name = "mitid-flex-tv",
    version,
    about = "Sign a viewer in on a TV with the MitID app (Signaturgruppen MitID Flex app, OpenID Connect CIBA).",
    long_about = "Sign a viewer in on a TV or set-top box with the Danish MitID app, through \
Signaturgruppen's broker (MitID Flex app, OpenID Connect CIBA in poll mode) or any CIBA OP.\n\n\
Without a subcommand it opens the TV app. Without a config file, builds with the simulator \
(the desktop build) run against the embedded offline broker simulator and print the simulated \
phone's URL; the kiosk build has none and shows the config-error screen instead.\n\n\
Config is read from --config, $MITID_FLEX_TV_CONFIG, $XDG_CONFIG_HOME/mitid-flex-tv/config.toml, \
then /etc/mitid-flex-tv/config.toml. The client secret may come from \
$CREDENTIALS_DIRECTORY/client_secret (systemd LoadCredential) or $MITID_FLEX_TV_CLIENT_SECRET.",
    after_help = "Exit codes: 0 signed in · 2 usage or config error · 3 rejected in the app · 4 expired · \
5 unknown user · 6 broker or network failure · 7 ID token rejected · 8 too many sign-ins, try later (relay) · \
130 interrupted (the request is cancelled)."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    /// Open the TV app fullscreen (the kiosk unit sets this).
    #[arg(long, global = true)]
    pub fullscreen: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// Config file (TOML).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Broker profile; decides cancel endpoint, ID token rules and the default client.
    #[arg(long, global = true, value_enum)]
    pub profile: Option<ProfileName>,
    /// Authority / issuer URL; overrides the profile's (http only for loopback).
    #[arg(long, global = true, value_name = "URL")]
    pub issuer: Option<String>,
    /// OAuth client_id.
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,
    /// How the viewer is identified: uuid/cpr use the Flex login_hint_token, user-id the standard login_hint.
    #[arg(long, global = true, value_enum)]
    pub kind: Option<IdentifierKind>,
    /// OAuth scope.
    #[arg(long, global = true, value_name = "S")]
    pub scope: Option<String>,
    /// Client authentication method.
    #[arg(long, global = true, value_enum)]
    pub client_auth: Option<AuthArg>,
    /// Send the Flex login_hint_token as JSON or base64.
    #[arg(long, global = true, value_enum)]
    pub hint_encoding: Option<EncodingArg>,
    /// Embedded simulator only: approve every request after this many seconds (demos, scripts).
    #[arg(long, global = true, value_name = "SECS")]
    pub sim_approve_after: Option<u64>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum AuthArg {
    ClientSecretPost,
    ClientSecretBasic,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EncodingArg {
    Json,
    Base64,
}

impl Common {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            profile: self.profile,
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            kind: self.kind,
            scope: self.scope.clone(),
            client_auth: self.client_auth.map(|a| match a {
                AuthArg::ClientSecretPost => ClientAuth::ClientSecretPost,
                AuthArg::ClientSecretBasic => ClientAuth::ClientSecretBasic,
            }),
            hint_encoding: self.hint_encoding.map(|e| match e {
                EncodingArg::Json => HintEncoding::Json,
                EncodingArg::Base64 => HintEncoding::Base64,
            }),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in without a screen: prints the reference text and a countdown to stderr, the identity as JSON to stdout.
    Signin(signin::SigninArgs),
    /// Validate the config, fetch discovery and JWKS, and print what was found.
    Check,
    /// Render one screen to PNG headlessly (software renderer, no display needed).
    #[cfg(feature = "render")]
    Render(RenderCmd),
}

#[cfg(feature = "render")]
#[derive(Args, Debug)]
pub struct RenderCmd {
    /// Screen to render.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(mitid_flex_tv::ui::SCREENS))]
    pub screen: String,
    /// Language.
    #[arg(long, default_value = "da", value_parser = ["da", "en"])]
    pub lang: String,
    /// Output PNG file.
    #[arg(long, value_name = "FILE.png")]
    pub out: PathBuf,
    /// Size in physical pixels.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    pub size: (u32, u32),
}

#[cfg(feature = "render")]
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or("expected WIDTHxHEIGHT, e.g. 1920x1080")?;
    let w: u32 = w.parse().map_err(|_| "bad width")?;
    let h: u32 = h.parse().map_err(|_| "bad height")?;
    if !(320..=7680).contains(&w) || !(240..=4320).contains(&h) {
        return Err("size out of range".into());
    }
    Ok((w, h))
}

/// Exit code for usage and configuration errors.
pub const EXIT_CONFIG: i32 = 2;
/// Exit code for broker or network failures.
pub const EXIT_BROKER: i32 = 6;

/// The process's one runtime; on failure the message is printed and the exit status returned.
pub fn runtime() -> Result<tokio::runtime::Runtime, i32> {
    wiring::runtime().map_err(|e| {
        eprintln!("tokio: {e}");
        EXIT_BROKER
    })
}

/// The broker (or the embedded simulator) for these settings; on failure the message is
/// printed and the exit status returned.
pub async fn connect(common: &Common, settings: &Settings) -> Result<Wired, i32> {
    let approve_after = common.sim_approve_after.map(Duration::from_secs);
    wiring::connect(settings, approve_after).await.map_err(|e| {
        eprintln!("{e}");
        wiring_exit_code(&e)
    })
}

/// Exit status when the broker cannot be reached from the config (`check`, `signin`).
pub fn wiring_exit_code(e: &WiringError) -> i32 {
    match e {
        WiringError::Client(_) | WiringError::Relay(_) | WiringError::NoSimulator => EXIT_CONFIG,
        WiringError::Simulator(_) | WiringError::Join(_) => EXIT_BROKER,
    }
}

/// Exit status of `signin` for each outcome (the `after_help` above and the README list them).
pub fn exit_code(outcome: &Outcome) -> i32 {
    match outcome {
        Outcome::SignedIn(_) => 0,
        Outcome::ConfigRefused { .. } => EXIT_CONFIG,
        Outcome::Rejected => 3,
        Outcome::Expired => 4,
        Outcome::UnknownUser => 5,
        Outcome::NoConnection { .. }
        | Outcome::StartAgain
        | Outcome::MitIdError { .. }
        | Outcome::Failed { .. } => EXIT_BROKER,
        Outcome::TokenRejected { .. } => 7,
        Outcome::RateLimited { .. } => 8,
        Outcome::Cancelled => 130,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(exit_code(&Outcome::StartAgain), 6);
        assert_eq!(exit_code(&Outcome::UnknownUser), 5);
        assert_eq!(exit_code(&Outcome::Rejected), 3);
        assert_eq!(exit_code(&Outcome::Expired), 4);
        assert_eq!(exit_code(&Outcome::Cancelled), 130);
        let refused = Outcome::ConfigRefused { detail: "x".into() };
        assert_eq!(exit_code(&refused), 2);
    }
}
