//! The relay's one TOML file. The broker part is the TV's own config format (`[broker]`),
//! resolved by the same code, so profiles, issuer rules and secret sources are the same.
//! Secrets come from systemd credentials or the environment, never from this file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::{FileConfig, Overrides, Settings};

pub const SYSTEM_CONFIG: &str = "/etc/mitid-flex-relay/relay.toml";
/// 32 random bytes, base64: seals handles; every instance must hold the same.
pub const SEAL_KEY_CREDENTIAL: &str = "seal_key";
pub const SEAL_KEY_ENV: &str = "MITID_FLEX_RELAY_SEAL_KEY";
/// Shared secret of the webhook signature.
pub const WEBHOOK_KEY_CREDENTIAL: &str = "webhook_key";
pub const WEBHOOK_KEY_ENV: &str = "MITID_FLEX_RELAY_WEBHOOK_KEY";
/// The relay's TLS private key, when not given as a path.
pub const TLS_KEY_CREDENTIAL: &str = "tls_key";

/// One token bucket: `burst` pushes at once, then one more every `refill_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    pub burst: u32,
    pub refill_secs: f64,
}

impl Bucket {
    pub fn check(&self, name: &str) -> Result<(), RelayConfigError> {
        if self.burst == 0 || !(0.001..=86_400.0).contains(&self.refill_secs) {
            return Err(RelayConfigError::Invalid(format!(
                "limits.{name}: burst must be ≥ 1 and refill_secs within 0.001–86400"
            )));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Starts per box (certificate).
    pub per_box: Bucket,
    /// Pushes per viewer (uuid or CPR, keyed by a keyed hash): against push-bombing.
    pub per_identity: Bucket,
    /// All starts of all instances together: protects the broker and the operator's quota.
    pub global: Bucket,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_box: Bucket {
                burst: 5,
                refill_secs: 30.0,
            },
            per_identity: Bucket {
                burst: 3,
                refill_secs: 120.0,
            },
            global: Bucket {
                burst: 500,
                refill_secs: 0.01,
            },
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_webhook_timeout")]
    pub timeout_secs: u64,
}

fn default_attempts() -> u32 {
    6
}
fn default_webhook_timeout() -> u64 {
    5
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRelay {
    /// Box-facing HTTPS with client certificates.
    pub listen: SocketAddr,
    /// Plain HTTP for `/metrics` and `/healthz` (keep it on loopback or a private network).
    pub metrics_listen: Option<SocketAddr>,
    /// The relay's certificate chain (PEM).
    pub tls_cert: PathBuf,
    /// Its private key (PEM); default `$CREDENTIALS_DIRECTORY/tls_key`.
    pub tls_key: Option<PathBuf>,
    /// The operator's box CA (PEM): only certificates it signed get a handshake.
    pub client_ca: PathBuf,
    /// Box IDs (certificate common names) refused, one per line; reloaded on SIGHUP.
    pub deny_list: Option<PathBuf>,
    /// Shared limits across instances; without it, each instance limits on its own.
    pub redis_url: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    pub webhook: Option<WebhookConfig>,
    /// The broker client, in the TV's config format (`profile`, `issuer`, `client_id`,
    /// `service_name`, `reference_template`, `ciba_nonce` …).
    pub broker: FileConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid relay config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Everything the relay runs with, resolved and checked.
pub struct RelayConfig {
    pub file: FileRelay,
    pub broker: Settings,
    pub tls_key: PathBuf,
    pub seal_key: [u8; 32],
    pub webhook_key: Option<Vec<u8>>,
}

fn credential(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    Some(Path::new(&dir).join(name)).filter(|p| p.exists())
}

/// A secret from `$CREDENTIALS_DIRECTORY/<name>`, else from `$<env>`; trimmed, empty = unset.
fn secret(name: &str, env: &str) -> Result<Option<String>, RelayConfigError> {
    if let Some(path) = credential(name) {
        let s = std::fs::read_to_string(&path)
            .map_err(|source| RelayConfigError::Read { path, source })?;
        if !s.trim().is_empty() {
            return Ok(Some(s.trim().to_string()));
        }
    }
    Ok(std::env::var(env).ok().filter(|s| !s.trim().is_empty()))
}

pub fn parse_seal_key(b64: &str) -> Result<[u8; 32], RelayConfigError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| RelayConfigError::Invalid("seal key is not base64".into()))?;
    bytes.try_into().map_err(|_| {
        RelayConfigError::Invalid("seal key must be 32 bytes (openssl rand -base64 32)".into())
    })
}

impl RelayConfig {
    pub fn load(path: &Path) -> Result<Self, RelayConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| RelayConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: FileRelay = toml::from_str(&text).map_err(|e| RelayConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if file.broker.client_secret.is_some() {
            return Err(RelayConfigError::Invalid(
                "broker.client_secret does not belong in the file: use the client_secret \
                 credential or MITID_FLEX_TV_CLIENT_SECRET"
                    .into(),
            ));
        }
        // The broker secret is read exactly as the TV reads it (credential, then env).
        let broker = Settings::load_with(file.broker.clone(), &Overrides::default())
            .map_err(|e| RelayConfigError::Invalid(format!("[broker]: {e}")))?;
        if broker.issuer.is_none() {
            return Err(RelayConfigError::Invalid(
                "[broker] needs an issuer (the simulator is not embedded in the relay)".into(),
            ));
        }
        for (name, b) in [
            ("per_box", file.limits.per_box),
            ("per_identity", file.limits.per_identity),
            ("global", file.limits.global),
        ] {
            b.check(name)?;
        }
        if let Some(w) = &file.webhook
            && !(w.url.starts_with("https://")
                || url::Url::parse(&w.url).is_ok_and(|u| crate::config::is_loopback_http(&u)))
        {
            return Err(RelayConfigError::Invalid(
                "webhook.url must be https (http only on loopback)".into(),
            ));
        }
        let tls_key = file
            .tls_key
            .clone()
            .or_else(|| credential(TLS_KEY_CREDENTIAL))
            .ok_or_else(|| {
                RelayConfigError::Invalid("no tls_key and no tls_key credential".into())
            })?;
        let seal_key = secret(SEAL_KEY_CREDENTIAL, SEAL_KEY_ENV)?.ok_or_else(|| {
            RelayConfigError::Invalid(format!(
                "no seal key: set the {SEAL_KEY_CREDENTIAL} credential or {SEAL_KEY_ENV}"
            ))
        })?;
        let webhook_key = secret(WEBHOOK_KEY_CREDENTIAL, WEBHOOK_KEY_ENV)?.map(String::into_bytes);
        if file.webhook.is_some() && webhook_key.is_none() {
            return Err(RelayConfigError::Invalid(format!(
                "a webhook needs a signing key: the {WEBHOOK_KEY_CREDENTIAL} credential or {WEBHOOK_KEY_ENV}"
            )));
        }
        Ok(Self {
            seal_key: parse_seal_key(&seal_key)?,
            file,
            broker,
            tls_key,
            webhook_key,
        })
    }

    pub fn webhook_timeout(&self) -> Duration {
        Duration::from_secs(
            self.file
                .webhook
                .as_ref()
                .map_or(5, |w| w.timeout_secs)
                .clamp(1, 60),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_key_must_be_32_bytes_of_base64() {
        assert!(parse_seal_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
        assert!(parse_seal_key("AAAA").is_err());
        assert!(parse_seal_key("not base64!").is_err());
    }

    #[test]
    fn buckets_are_bounded() {
        let b = |burst, refill_secs| Bucket { burst, refill_secs };
        assert!(b(3, 120.0).check("x").is_ok());
        assert!(b(0, 1.0).check("x").is_err());
        assert!(b(1, 0.0).check("x").is_err());
        assert!(b(1, f64::NAN).check("x").is_err());
    }
}
