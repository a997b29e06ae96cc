//! The claims we read from an ID token or a userinfo answer, as typed fields.
//!
//! Claims that decide whether the token is accepted (`iss`, `aud`, times, `sub`, `at_hash`,
//! the broker's `idtoken_type`/`idp`, `ciba_nonce`) must have their specified JSON type, or
//! the token is refused. Profile claims (name, birthdate…) of an unexpected type are ignored
//! rather than failing a sign-in that is otherwise valid.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `aud`: one string or an array of strings (OIDC Core §2).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn as_slice(&self) -> &[String] {
        match self {
            Audience::One(a) => std::slice::from_ref(a),
            Audience::Many(a) => a,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<Audience>,
    pub azp: Option<String>,
    /// Seconds since the epoch (RFC 7519 §2 NumericDate), saturated into i64.
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    #[serde(default, deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    pub at_hash: Option<String>,
    pub idtoken_type: Option<String>,
    pub idp: Option<String>,
    pub ciba_nonce: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// Profile claims: the broker's `mitid.*` (strings, flex-app-ciba.md token example) and the
/// standard ones (OIDC Core §5.1). Also the shape of a userinfo answer.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ProfileClaims {
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub birthdate: Option<String>,
    #[serde(rename = "mitid.identity_name", default, deserialize_with = "text")]
    pub identity_name: Option<String>,
    #[serde(rename = "mitid.date_of_birth", default, deserialize_with = "text")]
    pub date_of_birth: Option<String>,
    #[serde(rename = "mitid.uuid", default, deserialize_with = "text")]
    pub uuid: Option<String>,
    #[serde(rename = "mitid.age", default, deserialize_with = "age")]
    pub age: Option<u32>,
    #[serde(rename = "mitid.reference_text", default, deserialize_with = "text")]
    pub reference_text: Option<String>,
}

impl ProfileClaims {
    pub fn display_name(&self) -> Option<&str> {
        self.identity_name.as_deref().or(self.name.as_deref())
    }

    pub fn birth_date(&self) -> Option<&str> {
        self.date_of_birth.as_deref().or(self.birthdate.as_deref())
    }

    /// Fills what this set lacks from `other` (a userinfo answer).
    pub fn complete_from(&mut self, other: ProfileClaims) {
        let fill = |mine: &mut Option<String>, theirs: Option<String>| {
            if mine.is_none() {
                *mine = theirs;
            }
        };
        fill(&mut self.name, other.name);
        fill(&mut self.birthdate, other.birthdate);
        fill(&mut self.identity_name, other.identity_name);
        fill(&mut self.date_of_birth, other.date_of_birth);
        fill(&mut self.uuid, other.uuid);
        fill(&mut self.reference_text, other.reference_text);
        if self.age.is_none() {
            self.age = other.age;
        }
    }
}

/// A userinfo answer (OIDC Core §5.3.2): `sub` must be the ID token's (§5.3.4).
#[derive(Clone, Debug, Deserialize)]
pub struct UserinfoClaims {
    pub sub: String,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            // `as` saturates; fractions of a second do not matter here.
            .or_else(|| n.as_f64().map(|f| f as i64))),
        Some(_) => Err(serde::de::Error::custom("a NumericDate must be a number")),
    }
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        _ => None,
    })
}

fn age<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_times_saturate_and_wrong_types_fail() {
        let c: IdTokenClaims = serde_json::from_str(
            r#"{"exp":18446744073709551615,"iat":-9223372036854775808,"nbf":1e300}"#,
        )
        .unwrap();
        assert_eq!(
            (c.exp, c.iat, c.nbf),
            (Some(i64::MAX), Some(i64::MIN), Some(i64::MAX))
        );
        assert!(serde_json::from_str::<IdTokenClaims>(r#"{"exp":"soon"}"#).is_err());
        assert!(serde_json::from_str::<IdTokenClaims>(r#"{"iss":5}"#).is_err());
    }

    #[test]
    fn profile_claims_of_odd_types_are_ignored() {
        let c: IdTokenClaims =
            serde_json::from_str(r#"{"name":5,"mitid.age":"88","mitid.identity_name":" "}"#)
                .unwrap();
        assert_eq!(c.profile.name, None);
        assert_eq!(c.profile.identity_name, None);
        assert_eq!(c.profile.age, Some(88));
    }
}
