//! Test identities and clients known to the simulator, and the TOML file that lists them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use super::SimError;

/// The identities file shipped with the simulator.
pub const DEFAULT_IDENTITIES_TOML: &str = include_str!("../../assets/sim/identities.toml");

/// The broker's public PP demo client from the reference documentation ("Ciba integration").
/// The secret is published there on purpose; it is not a secret of this project.
pub const PP_DEMO_CLIENT_ID: &str = "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9";
/// Secret of [`PP_DEMO_CLIENT_ID`], as published in the reference documentation.
pub const PP_DEMO_CLIENT_SECRET: &str =
    "mIpxk84FI1wpc7cP7nodFLfgQQ1ScZHYO44FZ9wPOqrB0ha9S5RUNYPXMkrCWwRjGqEH0hflnIJea8IKmW19aQ==";

/// A simulated MitID user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Matched by the standard CIBA `login_hint`.
    pub user_id: String,
    /// MitID UUID; matched by the Flex `login_hint_token` field `uuid`.
    pub uuid: String,
    /// Ten digits, no dash; matched by the Flex `login_hint_token` field `cpr`.
    #[serde(default)]
    pub cpr: Option<String>,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
}

impl Identity {
    pub(crate) fn birth_date(&self) -> Option<Date> {
        Date::parse(
            &self.date_of_birth,
            format_description!("[year]-[month]-[day]"),
        )
        .ok()
    }

    /// Whole years on `today`; the broker sends it as a string claim (`mitid.age`).
    pub(crate) fn age_on(&self, today: Date) -> Option<i32> {
        let born = self.birth_date()?;
        let mut age = today.year() - born.year();
        if (today.month() as u8, today.day()) < (born.month() as u8, born.day()) {
            age -= 1;
        }
        Some(age)
    }
}

/// A relying party the simulator accepts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimClient {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for SimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl SimClient {
    pub fn pp_demo() -> Self {
        Self {
            client_id: PP_DEMO_CLIENT_ID.to_owned(),
            client_secret: PP_DEMO_CLIENT_SECRET.to_owned(),
        }
    }
}

/// Contents of an identities file: `[[identity]]` tables and optional `[[client]]` tables.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitiesFile {
    #[serde(default)]
    pub identity: Vec<Identity>,
    #[serde(default)]
    pub client: Vec<SimClient>,
}

impl IdentitiesFile {
    pub fn parse(text: &str) -> Result<Self, SimError> {
        let file: Self = toml::from_str(text).map_err(|e| SimError::Identities(e.to_string()))?;
        file.validate()?;
        Ok(file)
    }

    pub fn load(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            what: format!("reading {}", path.display()),
            source,
        })?;
        Self::parse(&text)
    }

    fn validate(&self) -> Result<(), SimError> {
        let bad = |msg: String| Err(SimError::Identities(msg));
        for (i, id) in self.identity.iter().enumerate() {
            if id.user_id.is_empty() {
                return bad(format!("identity #{}: empty user_id", i + 1));
            }
            if uuid::Uuid::parse_str(&id.uuid).is_err() {
                return bad(format!("identity {}: uuid is not a UUID", id.user_id));
            }
            if let Some(cpr) = &id.cpr
                && (cpr.len() != 10 || !cpr.bytes().all(|b| b.is_ascii_digit()))
            {
                return bad(format!("identity {}: cpr must be ten digits", id.user_id));
            }
            if id.birth_date().is_none() {
                return bad(format!(
                    "identity {}: date_of_birth must be YYYY-MM-DD",
                    id.user_id
                ));
            }
            let dup = self.identity[..i]
                .iter()
                .any(|o| o.user_id == id.user_id || o.uuid.eq_ignore_ascii_case(&id.uuid));
            if dup {
                return bad(format!(
                    "identity {}: duplicate user_id or uuid",
                    id.user_id
                ));
            }
        }
        Ok(())
    }
}

/// The shipped identities.
pub fn default_identities() -> Vec<Identity> {
    // The shipped file is covered by a unit test, so a parse failure cannot reach users.
    IdentitiesFile::parse(DEFAULT_IDENTITIES_TOML)
        .map(|f| f.identity)
        .unwrap_or_default()
}

/// A stable, organisation-specific subject GUID, as the broker issues one per client and identity.
pub(crate) fn subject_for(client_id: &str, identity: &Identity) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!(
            "mitid-flex-sim sub|{client_id}|{}",
            identity.uuid.to_ascii_lowercase()
        )
        .as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn shipped_identities_parse_and_cover_the_brief() {
        let file = IdentitiesFile::parse(DEFAULT_IDENTITIES_TOML).expect("shipped file parses");
        assert!(file.identity.len() >= 5);
        let ileya = file
            .identity
            .iter()
            .find(|i| i.user_id == "ileya")
            .expect("ileya");
        assert_eq!(ileya.uuid, "8a9856e0-f12d-4217-b320-c8a076be9320");
        assert_eq!(ileya.name, "Ileya Jensen");
        assert_eq!(ileya.date_of_birth, "1936-04-08");
        assert!(
            ileya
                .cpr
                .as_deref()
                .is_some_and(|c| c.starts_with("080436"))
        );
        let today = date!(2026 - 01 - 01);
        assert!(
            file.identity
                .iter()
                .any(|i| i.age_on(today).is_some_and(|a| a < 18))
        );
        assert!(
            file.identity
                .iter()
                .any(|i| i.name.contains('æ') || i.name.contains('Æ'))
        );
        assert!(
            file.identity
                .iter()
                .any(|i| i.name.contains('ø') || i.name.contains('Ø'))
        );
        assert!(
            file.identity
                .iter()
                .any(|i| i.name.contains('å') || i.name.contains('Å'))
        );
    }

    #[test]
    fn age_counts_birthdays() {
        let ileya = &default_identities()[0];
        assert_eq!(ileya.age_on(date!(2024 - 04 - 07)), Some(87));
        assert_eq!(ileya.age_on(date!(2024 - 04 - 08)), Some(88));
    }

    #[test]
    fn subject_is_stable_per_client_and_identity() {
        let ids = default_identities();
        assert_eq!(subject_for("a", &ids[0]), subject_for("a", &ids[0]));
        assert_ne!(subject_for("a", &ids[0]), subject_for("b", &ids[0]));
        assert_ne!(subject_for("a", &ids[0]), subject_for("a", &ids[1]));
        assert!(uuid::Uuid::parse_str(&subject_for("a", &ids[0])).is_ok());
    }

    #[test]
    fn rejects_bad_files() {
        assert!(
            IdentitiesFile::parse(
                "[[identity]]\nuser_id='x'\nuuid='nope'\nname='n'\ndate_of_birth='2000-01-01'"
            )
            .is_err()
        );
        assert!(IdentitiesFile::parse("[[identity]]\nuser_id='x'\nuuid='8a9856e0-f12d-4217-b320-c8a076be9320'\ncpr='12'\nname='n'\ndate_of_birth='2000-01-01'").is_err());
    }
}
