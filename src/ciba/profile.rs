//! The signed-in identity, mapped from validated ID token claims.

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub sub: String,
    pub name: Option<String>,
    /// MitID uuid (global identifier). Only present with the broker's `mitid.*` claims.
    pub uuid: Option<String>,
    /// ISO date `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    pub age: Option<u32>,
    pub issuer: String,
    /// The text the MitID app showed, as the broker reports it back.
    pub reference_text: Option<String>,
}

impl Profile {
    /// The broker sends the `mitid.*` claims as strings (broker docs, "Ciba integration": token example);
    /// generic OPs use the standard `name` and `birthdate` (OIDC Core §5.1).
    pub fn from_claims(claims: &Map<String, Value>) -> Profile {
        let s = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let age = claims.get("mitid.age").and_then(|v| match v {
            Value::String(s) => s.trim().parse().ok(),
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            _ => None,
        });
        Profile {
            sub: s("sub").unwrap_or_default(),
            name: s("mitid.identity_name").or_else(|| s("name")),
            uuid: s("mitid.uuid"),
            date_of_birth: s("mitid.date_of_birth").or_else(|| s("birthdate")),
            age,
            issuer: s("iss").unwrap_or_default(),
            reference_text: s("mitid.reference_text"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_broker_example_claims() {
        // Claims of the ID token example in the broker docs' "Ciba integration".
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"iss":"https://pp.netseidbroker.dk/op","sub":"7c9484f5-44bf-4e29-a683-84548951d3b8",
            "idp":"mitid","mitid.uuid":"eee4b272-6a33-40da-ab0b-5ce2abd42e78","mitid.age":"88",
            "mitid.date_of_birth":"1936-04-08","mitid.has_cpr":"true","mitid.identity_name":"Ileya Jensen",
            "mitid.reference_text":"ostemawd :=)","idtoken_type":"ciba"}"#,
        )
        .unwrap();
        let p = Profile::from_claims(&claims);
        assert_eq!(p.name.as_deref(), Some("Ileya Jensen"));
        assert_eq!(p.age, Some(88));
        assert_eq!(p.date_of_birth.as_deref(), Some("1936-04-08"));
        assert_eq!(
            p.uuid.as_deref(),
            Some("eee4b272-6a33-40da-ab0b-5ce2abd42e78")
        );
        assert_eq!(p.reference_text.as_deref(), Some("ostemawd :=)"));
    }

    #[test]
    fn falls_back_to_standard_claims() {
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"iss":"i","sub":"s","name":"Søren Ø","birthdate":"2010-01-02"}"#,
        )
        .unwrap();
        let p = Profile::from_claims(&claims);
        assert_eq!(p.name.as_deref(), Some("Søren Ø"));
        assert_eq!(p.date_of_birth.as_deref(), Some("2010-01-02"));
        assert_eq!((p.uuid, p.age), (None, None));
    }
}
