//! A config that cannot work. `check` and `signin` exit with it; the TV app shows it on the
//! config-error screen and stays up, so a kiosk never leaves the TV dark.

use std::path::PathBuf;

use crate::config::{self, ConfigError, Overrides, SYSTEM_CONFIG, Settings};

#[derive(Debug)]
pub struct ConfigProblem {
    pub error: ConfigError,
    /// The file that was (or would be) read.
    pub path: PathBuf,
}

impl ConfigProblem {
    /// The log line and what to edit, for the operator: the screen shows exactly this.
    pub fn detail(&self) -> String {
        let file = self.path.display();
        match self.error.key() {
            Some(key) => format!("config: {}\nEdit {file}: {key}", self.error),
            None => format!("config: {}\nEdit {file}", self.error),
        }
    }
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

/// Reads and resolves the config for these overrides.
pub fn load(o: &Overrides) -> Result<Settings, ConfigProblem> {
    Settings::load(o).map_err(|error| ConfigProblem {
        path: match &error {
            ConfigError::Read { path, .. } | ConfigError::Parse { path, .. } => path.clone(),
            ConfigError::Invalid { .. } => {
                config::locate(o.config.as_deref()).unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG))
            }
        },
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_names_the_file_and_the_key() {
        let p = ConfigProblem {
            error: ConfigError::Invalid {
                key: "client_secret",
                message: "no client secret".into(),
            },
            path: PathBuf::from("/etc/mitid-flex-tv/config.toml"),
        };
        assert_eq!(
            p.detail(),
            "config: no client secret\nEdit /etc/mitid-flex-tv/config.toml: client_secret"
        );
    }
}
