//! One TOML file, command-line overrides, and secrets from the environment or systemd
//! credentials. `Settings` is the resolved, validated result: pure data, no IO beyond reading
//! the file and the secret (`crate::wiring` turns it into a client).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::ciba::{
    Action, ClientAuth, ClientConfig, ClientSecret, Dialect, HintEncoding, NonceMode,
};
use crate::handoff::HandoffConfig;
use crate::relay_client::RelayClientConfig;
use crate::session::code;

/// The broker's public PP demo client (broker docs, "Ciba integration": "Getting started").
pub const PP_DEMO_CLIENT_ID: &str = "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9";
pub const PP_DEMO_CLIENT_SECRET: &str =
    "mIpxk84FI1wpc7cP7nodFLfgQQ1ScZHYO44FZ9wPOqrB0ha9S5RUNYPXMkrCWwRjGqEH0hflnIJea8IKmW19aQ==";
pub const PP_AUTHORITY: &str = "https://pp.netseidbroker.dk/op";
pub const PROD_AUTHORITY: &str = "https://netseidbroker.dk/op";
pub const SECRET_ENV: &str = "MITID_FLEX_TV_CLIENT_SECRET";
pub const CONFIG_ENV: &str = "MITID_FLEX_TV_CONFIG";
pub const SYSTEM_CONFIG: &str = "/etc/mitid-flex-tv/config.toml";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileName {
    /// The embedded offline simulator (the default without a config file).
    #[default]
    Simulator,
    /// Signaturgruppen pre-production with the public demo client.
    SignaturgruppenPp,
    /// Signaturgruppen production: your own client credentials.
    SignaturgruppenProd,
    /// Any CIBA OP in poll mode, found by discovery from `issuer`.
    Generic,
    /// Through the operator's relay (`[relay]`), which holds the broker secret: this box
    /// holds none. `issuer` and `client_id` are the broker's, to check the ID token.
    Relay,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum IdentifierKind {
    /// MitID uuid, sent in the Flex `login_hint_token`.
    Uuid,
    /// CPR number, sent in the Flex `login_hint_token`.
    Cpr,
    /// A user ID, sent as the standard CIBA `login_hint`.
    UserId,
}

/// What the standard `login_hint` request sends as `binding_message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BindingMessage {
    /// Only the 4-digit code: fits every OP's binding_message rules.
    Code,
    /// The whole reference text (the simulator shows it like the MitID app would).
    ReferenceText,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackOnStart {
    /// Leave the app (a desktop window).
    Exit,
    /// Stay on Start: a kiosk has nothing behind the app, so leaving would leave the TV dark.
    Ignore,
}

impl Default for BackOnStart {
    fn default() -> Self {
        if cfg!(feature = "kiosk") {
            BackOnStart::Ignore
        } else {
            BackOnStart::Exit
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    pub fullscreen: bool,
    pub back_on_start: BackOnStart,
    /// Sign the viewer out after this long without a key press on the profile screen.
    pub idle_signout_secs: u64,
    /// How many remembered viewers the Start screen keeps.
    pub remember_max: usize,
    /// Offer the QR (CIBA + PAR) sign-in on Start (Signaturgruppen profiles only).
    pub qr: bool,
    /// Start itself shows the QR code beside the remembered viewers (where `qr` is offered).
    /// Unset: on the broker profiles (`signaturgruppen-pp`/`-prod`), not elsewhere, so the
    /// simulator keeps the keyboard first for a developer's offline journey.
    pub start_qr: Option<bool>,
    /// Spoken guidance through espeak-ng or spd-say when installed (silent otherwise).
    pub speech: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            fullscreen: false,
            back_on_start: BackOnStart::default(),
            idle_signout_secs: 900,
            remember_max: 6,
            qr: true,
            start_qr: None,
            speech: false,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub profile: Option<ProfileName>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<ClientSecret>,
    pub client_auth: Option<ClientAuth>,
    pub scope: Option<String>,
    pub identifier_kind: Option<IdentifierKind>,
    pub hint_encoding: Option<HintEncoding>,
    pub binding_message: Option<BindingMessage>,
    pub action: Option<Action>,
    pub service_name: Option<String>,
    pub reference_template: Option<String>,
    /// The reference text for viewers who chose English (default: an English `{code}` text).
    pub reference_template_en: Option<String>,
    /// `"auto"` (the box's address towards the OP) or a literal IP.
    pub client_ip: Option<String>,
    pub ciba_nonce: Option<NonceSetting>,
    pub language: Option<String>,
    pub log_level: Option<String>,
    pub request_timeout_secs: Option<u64>,
    pub ui: UiConfig,
    pub handoff: HandoffConfig,
    pub relay: Option<RelayFileConfig>,
}

/// `[relay]`: where the operator's relay is and this box's client certificate.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayFileConfig {
    /// One or more instances; a request that cannot connect goes to the next.
    pub urls: Vec<String>,
    /// Box certificate and key (PEM). Relative paths are systemd credentials
    /// (`$CREDENTIALS_DIRECTORY/…`); default `relay_cert` and `relay_key`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// CA of the relay's server certificate; default: the system's roots.
    pub ca: Option<PathBuf>,
}

/// `ciba_nonce = "verify" | "require" | "off"`. The boolean of earlier versions is still
/// read: `true` (send one) is "verify", `false` is "off".
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(untagged)]
pub enum NonceSetting {
    Mode(NonceMode),
    Bool(bool),
}

impl NonceSetting {
    pub fn mode(self) -> NonceMode {
        match self {
            NonceSetting::Mode(m) => m,
            NonceSetting::Bool(true) => NonceMode::Verify,
            NonceSetting::Bool(false) => NonceMode::Off,
        }
    }
}

/// Command-line values; they win over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub profile: Option<ProfileName>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub kind: Option<IdentifierKind>,
    pub scope: Option<String>,
    pub client_auth: Option<ClientAuth>,
    pub hint_encoding: Option<HintEncoding>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{message}")]
    Invalid {
        /// The config key to fix, as written in the file (`ui.remember_max`).
        key: &'static str,
        message: String,
    },
}

impl ConfigError {
    fn invalid(key: &'static str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key,
            message: message.into(),
        }
    }

    /// The key to fix, when one value is at fault.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// The file that was read, if any.
    pub source: Option<PathBuf>,
    pub profile: ProfileName,
    /// `None` for the embedded simulator: its address is known once it listens.
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub client_auth: ClientAuth,
    pub scope: String,
    pub kind: IdentifierKind,
    pub hint_encoding: HintEncoding,
    pub binding_message: BindingMessage,
    pub action: Option<Action>,
    pub service_name: String,
    /// Danish: the app's default language.
    pub reference_template: String,
    pub reference_template_en: String,
    pub client_ip: Option<IpAddr>,
    pub ciba_nonce: NonceMode,
    pub language: Option<String>,
    pub log_level: Option<String>,
    pub request_timeout: Duration,
    pub ui: UiConfig,
    pub handoff: HandoffConfig,
    /// Profile `relay` only.
    pub relay: Option<RelayClientConfig>,
}

/// The file to read: `--config`, `$MITID_FLEX_TV_CONFIG`, the XDG config dir, then /etc.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(CONFIG_ENV) {
        return Some(PathBuf::from(p));
    }
    let user = crate::fsutil::project_dirs()
        .map(|d| d.config_dir().join("config.toml"))
        .filter(|p| p.exists());
    user.or_else(|| Some(PathBuf::from(SYSTEM_CONFIG)).filter(|p| p.exists()))
}

pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if file.client_secret.is_some() {
        warn_if_world_readable(path);
    }
    Ok(file)
}

fn warn_if_world_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o004 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "config file holds client_secret and is readable by every user; chmod 0640 it, \
             or move the secret to systemd LoadCredential or {SECRET_ENV}"
        );
    }
}

/// The secret, most specific source first: systemd credential, environment, file.
fn secret_from_environment() -> Result<Option<String>, ConfigError> {
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join("client_secret");
        if path.exists() {
            let s = std::fs::read_to_string(&path)
                .map_err(|source| ConfigError::Read { path, source })?;
            // The package installs an empty credential file so that the unit can start
            // before an operator sets a secret: empty means "not set".
            let s = s.trim();
            if !s.is_empty() {
                return Ok(Some(s.to_string()));
            }
        }
    }
    Ok(std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty()))
}

impl Settings {
    pub fn load(o: &Overrides) -> Result<Settings, ConfigError> {
        let source = locate(o.config.as_deref());
        let file = match &source {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        Settings::resolve(source, file, o, secret_from_environment()?)
    }

    /// Resolves an already parsed config (the relay's `[broker]` table) with the secret
    /// from the usual sources.
    pub fn load_with(file: FileConfig, o: &Overrides) -> Result<Settings, ConfigError> {
        Settings::resolve(None, file, o, secret_from_environment()?)
    }

    /// Pure resolution, for tests.
    pub fn resolve(
        source: Option<PathBuf>,
        f: FileConfig,
        o: &Overrides,
        env_secret: Option<String>,
    ) -> Result<Settings, ConfigError> {
        let profile = o.profile.or(f.profile).unwrap_or_default();
        let issuer = o
            .issuer
            .clone()
            .or(f.issuer.clone())
            .map(|s| s.trim_end_matches('/').to_string());
        let issuer = match (profile, issuer) {
            (_, Some(i)) => Some(i),
            (ProfileName::Simulator, None) => None,
            (ProfileName::SignaturgruppenPp, None) => Some(PP_AUTHORITY.to_string()),
            (ProfileName::SignaturgruppenProd | ProfileName::Relay, None) => {
                Some(PROD_AUTHORITY.to_string())
            }
            (ProfileName::Generic, None) => {
                return Err(ConfigError::invalid(
                    "issuer",
                    "profile generic needs an issuer (--issuer or issuer =)",
                ));
            }
        };
        if let Some(i) = &issuer {
            check_issuer_url(i)?;
        }
        let demo_client = matches!(
            profile,
            ProfileName::Simulator | ProfileName::SignaturgruppenPp
        );
        let client_id = o.client_id.clone().or(f.client_id.clone());
        let secret = env_secret.or(f.client_secret.as_ref().map(|s| s.expose().to_string()));
        let relay = if profile == ProfileName::Relay {
            if secret.is_some() {
                return Err(ConfigError::invalid(
                    "client_secret",
                    "profile relay: the broker secret belongs on the relay, not on this box; \
                     remove client_secret",
                ));
            }
            Some(relay_client(f.relay.as_ref(), &f)?)
        } else {
            None
        };
        let (client_id, secret) = match (client_id, secret) {
            (Some(id), None) if relay.is_some() => (id, String::new()),
            (Some(id), Some(s)) => (id, s),
            (None, None) if demo_client => (PP_DEMO_CLIENT_ID.into(), PP_DEMO_CLIENT_SECRET.into()),
            (Some(id), None) if demo_client && id == PP_DEMO_CLIENT_ID => {
                (id, PP_DEMO_CLIENT_SECRET.into())
            }
            (None, _) => {
                return Err(ConfigError::invalid(
                    "client_id",
                    format!("profile {profile:?} needs client_id"),
                ));
            }
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    "client_secret",
                    format!(
                        "no client secret: set $CREDENTIALS_DIRECTORY/client_secret, {SECRET_ENV} or client_secret"
                    ),
                ));
            }
        };
        let kind = o.kind.or(f.identifier_kind).unwrap_or(match profile {
            // A user ID is what a developer can type; the simulator also speaks standard CIBA.
            ProfileName::Simulator | ProfileName::Generic => IdentifierKind::UserId,
            _ => IdentifierKind::Uuid,
        });
        if profile == ProfileName::Generic && kind != IdentifierKind::UserId {
            return Err(ConfigError::invalid(
                "identifier_kind",
                "uuid and cpr need the Signaturgruppen login_hint_token; a generic OP takes --kind user-id",
            ));
        }
        let service_name = f.service_name.clone().unwrap_or_else(|| "TV".to_string());
        let reference_template = f
            .reference_template
            .clone()
            .unwrap_or_else(|| code::DEFAULT_TEMPLATE.to_string());
        let reference_template_en = f
            .reference_template_en
            .clone()
            .unwrap_or_else(|| code::DEFAULT_TEMPLATE_EN.to_string());
        for (key, template) in [
            ("reference_template", &reference_template),
            ("reference_template_en", &reference_template_en),
        ] {
            code::check_template(template, &service_name)
                .map_err(|e| ConfigError::invalid(key, format!("{key}: {e}")))?;
        }
        let client_ip = match f.client_ip.as_deref().map(str::trim) {
            None | Some("auto") => None,
            Some(ip) => Some(ip.parse().map_err(|_| {
                ConfigError::invalid(
                    "client_ip",
                    format!("client_ip {ip:?} is not an IP address"),
                )
            })?),
        };
        if f.ui.remember_max > 50 {
            return Err(ConfigError::invalid(
                "ui.remember_max",
                "ui.remember_max is at most 50",
            ));
        }
        Ok(Settings {
            source,
            profile,
            issuer,
            client_id,
            client_secret: ClientSecret::new(secret),
            client_auth: o.client_auth.or(f.client_auth).unwrap_or_default(),
            scope: o
                .scope
                .clone()
                .or(f.scope.clone())
                .unwrap_or_else(|| "openid mitid".into()),
            kind,
            hint_encoding: o.hint_encoding.or(f.hint_encoding).unwrap_or_default(),
            binding_message: f
                .binding_message
                .unwrap_or(if profile == ProfileName::Generic {
                    BindingMessage::Code
                } else {
                    BindingMessage::ReferenceText
                }),
            action: f.action.or(Some(Action::LogOn)),
            service_name,
            reference_template,
            reference_template_en,
            client_ip,
            ciba_nonce: f.ciba_nonce.map(NonceSetting::mode).unwrap_or_default(),
            language: f.language.clone(),
            log_level: f.log_level.clone(),
            request_timeout: Duration::from_secs(
                f.request_timeout_secs.unwrap_or(15).clamp(2, 120),
            ),
            ui: f.ui.clone(),
            handoff: f.handoff.clone(),
            relay,
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.profile {
            ProfileName::Generic => Dialect::Generic,
            _ => Dialect::Signaturgruppen,
        }
    }

    pub fn is_simulator(&self) -> bool {
        self.profile == ProfileName::Simulator
    }

    pub fn client_config(&self, issuer: &str) -> ClientConfig {
        ClientConfig {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth: self.client_auth,
            scope: self.scope.clone(),
            dialect: self.dialect(),
            hint_encoding: self.hint_encoding,
            request_timeout: self.request_timeout,
        }
    }

    /// The reference template for the viewer's language (`"en"` English, anything else
    /// Danish). Whoever starts a request sets it as `SessionSettings::reference_template`.
    pub fn reference_template_for(&self, language: &str) -> &str {
        if language == "en" {
            &self.reference_template_en
        } else {
            &self.reference_template
        }
    }
}

fn relay_client(
    r: Option<&RelayFileConfig>,
    f: &FileConfig,
) -> Result<RelayClientConfig, ConfigError> {
    let r =
        r.ok_or_else(|| ConfigError::invalid("relay", "profile relay needs a [relay] table"))?;
    if r.urls.is_empty() || r.urls.iter().any(|u| !u.starts_with("https://")) {
        return Err(ConfigError::invalid(
            "relay.urls",
            "one or more https:// URLs",
        ));
    }
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    let place = |p: Option<&PathBuf>, default: &str| {
        let p = p.cloned().unwrap_or_else(|| PathBuf::from(default));
        match &credentials {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        }
    };
    Ok(RelayClientConfig {
        urls: r.urls.clone(),
        cert: place(r.cert.as_ref(), "relay_cert"),
        key: place(r.key.as_ref(), "relay_key"),
        ca: r.ca.clone(),
        request_timeout: Duration::from_secs(f.request_timeout_secs.unwrap_or(15).clamp(2, 120)),
    })
}

/// `http://` to this machine (loopback address or `localhost`).
pub fn is_loopback_http(url: &url::Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// TLS always, except to this machine (the simulator, a local test OP).
fn check_issuer_url(issuer: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| ConfigError::invalid("issuer", format!("issuer {issuer:?}: {e}")))?;
    if crate::ciba::discovery::transport_allowed(&url) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            "issuer",
            format!("issuer {issuer} must be https (plain http only on this machine)"),
        ))
    }
}
