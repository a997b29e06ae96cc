//! How the OP is told whom to ask: the Flex `login_hint_token`, the QR (CIBA + PAR)
//! `login_hint_token`, or the standard CIBA `login_hint`.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::error::CibaError;
use super::secret::Cpr;

/// Broker docs, "Ciba integration": "login_hint_token parameters": the text shown in the MitID app.
pub const MAX_REFERENCE_TEXT_CHARS: usize = 130;

/// The only ways the broker identifies a Flex user (never by MitID user ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlexSubject {
    Uuid(String),
    Cpr(Cpr),
}

/// `action` values accepted by the broker (broker docs, "Ciba integration": field reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    LogOn,
    Approve,
    Confirm,
    Accept,
    Sign,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::LogOn => "LOG_ON",
            Action::Approve => "APPROVE",
            Action::Confirm => "CONFIRM",
            Action::Accept => "ACCEPT",
            Action::Sign => "SIGN",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HintEncoding {
    #[default]
    Json,
    Base64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlexHint {
    pub subject: FlexSubject,
    pub reference_text: String,
    pub ip: std::net::IpAddr,
    pub action: Option<Action>,
    pub reference_id: Option<String>,
    pub ciba_nonce: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginHint {
    /// Standard CIBA `login_hint`: a user identifier the OP knows. `binding_message`
    /// (CIBA Core §7.1) is shown on the authentication device; OPs restrict its length
    /// and characters, so callers keep it short (the verification code).
    Standard {
        user_id: String,
        binding_message: Option<String>,
    },
    /// Signaturgruppen MitID Flex app.
    Flex(FlexHint),
    /// Signaturgruppen CIBA + PAR (QR): the phone's browser does a normal MitID login.
    BrokerOidc {
        idp_values: String,
        prompt_login: bool,
    },
}

impl LoginHint {
    /// The form fields to send to the backchannel authentication endpoint.
    pub fn form_fields(
        &self,
        encoding: HintEncoding,
    ) -> Result<Vec<(&'static str, String)>, CibaError> {
        let token = match self {
            LoginHint::Standard {
                user_id,
                binding_message,
            } => {
                let user = user_id.trim();
                if user.is_empty() {
                    return Err(CibaError::InvalidInput("login_hint is empty".into()));
                }
                let mut fields = vec![("login_hint", user.to_string())];
                if let Some(m) = binding_message {
                    fields.push(("binding_message", m.clone()));
                }
                return Ok(fields);
            }
            LoginHint::Flex(flex) => flex_token(flex)?,
            LoginHint::BrokerOidc {
                idp_values,
                prompt_login,
            } => {
                let mut m = Map::new();
                m.insert("flow_type".into(), json!("broker_oidc"));
                m.insert("idp_values".into(), json!(idp_values));
                if *prompt_login {
                    m.insert("prompt".into(), json!("login"));
                }
                Value::Object(m)
            }
        };
        let text = token.to_string();
        let value = match encoding {
            HintEncoding::Json => text,
            HintEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(text),
        };
        Ok(vec![("login_hint_token", value)])
    }

    /// The `ciba_nonce` the ID token has to echo, if this hint sent one.
    pub fn ciba_nonce(&self) -> Option<&str> {
        match self {
            LoginHint::Flex(f) => f.ciba_nonce.as_deref(),
            _ => None,
        }
    }
}

fn flex_token(flex: &FlexHint) -> Result<Value, CibaError> {
    let text = flex.reference_text.trim();
    if text.is_empty() {
        return Err(CibaError::InvalidInput(
            "referenceTextBody is required".into(),
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_REFERENCE_TEXT_CHARS {
        return Err(CibaError::InvalidInput(format!(
            "referenceTextBody is {chars} characters; the broker allows {MAX_REFERENCE_TEXT_CHARS}"
        )));
    }
    let mut m = Map::new();
    m.insert("idp".into(), json!("mitid"));
    match &flex.subject {
        FlexSubject::Uuid(u) => {
            let parsed = uuid::Uuid::parse_str(u.trim())
                .map_err(|_| CibaError::InvalidInput("uuid is not a UUID".into()))?;
            m.insert("uuid".into(), json!(parsed.hyphenated().to_string()));
        }
        FlexSubject::Cpr(c) => {
            let digits = c.expose();
            if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CibaError::InvalidInput("cpr must be 10 digits".into()));
            }
            m.insert("cpr".into(), json!(digits));
        }
    }
    m.insert("referenceTextBody".into(), json!(text));
    m.insert("ip".into(), json!(flex.ip.to_string()));
    if let Some(a) = flex.action {
        m.insert("action".into(), json!(a.as_str()));
    }
    if let Some(r) = &flex.reference_id {
        m.insert("referenceId".into(), json!(r));
    }
    if let Some(n) = &flex.ciba_nonce {
        m.insert("ciba_nonce".into(), json!(n));
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flex(subject: FlexSubject, text: &str) -> LoginHint {
        LoginHint::Flex(FlexHint {
            subject,
            reference_text: text.into(),
            ip: "1.1.1.1".parse().unwrap(),
            action: Some(Action::LogOn),
            reference_id: Some("ref-1".into()),
            ciba_nonce: Some("n-1".into()),
        })
    }

    #[test]
    fn flex_json_has_exactly_one_subject_and_the_doc_field_names() {
        let hint = flex(
            FlexSubject::Uuid("8A9856E0-F12D-4217-B320-C8A076BE9320".into()),
            "Log på Stue-TV · kode 4821",
        );
        let fields = hint.form_fields(HintEncoding::Json).unwrap();
        let (name, value) = fields[0].clone();
        assert_eq!((name, fields.len()), ("login_hint_token", 1));
        let v: Value = serde_json::from_str(&value).unwrap();
        assert_eq!(v["idp"], "mitid");
        assert_eq!(v["uuid"], "8a9856e0-f12d-4217-b320-c8a076be9320");
        assert!(v.get("cpr").is_none());
        assert_eq!(v["referenceTextBody"], "Log på Stue-TV · kode 4821");
        assert_eq!(v["ip"], "1.1.1.1");
        assert_eq!(v["action"], "LOG_ON");
        assert_eq!(v["referenceId"], "ref-1");
        assert_eq!(v["ciba_nonce"], "n-1");
    }

    #[test]
    fn base64_form_decodes_to_the_json_form() {
        let hint = flex(FlexSubject::Cpr(Cpr::new("0804361234")), "x");
        let json_form = hint.form_fields(HintEncoding::Json).unwrap().remove(0).1;
        let b64 = hint.form_fields(HintEncoding::Base64).unwrap().remove(0).1;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), json_form);
    }

    #[test]
    fn reference_text_limit_counts_characters_not_bytes() {
        let ok = "æ".repeat(130);
        assert!(
            flex(FlexSubject::Uuid(uuid::Uuid::nil().to_string()), &ok)
                .form_fields(HintEncoding::Json)
                .is_ok()
        );
        let too_long = "æ".repeat(131);
        let err = flex(FlexSubject::Uuid(uuid::Uuid::nil().to_string()), &too_long)
            .form_fields(HintEncoding::Json)
            .unwrap_err();
        assert!(err.to_string().contains("131"));
    }

    #[test]
    fn bad_subjects_are_refused_before_sending() {
        assert!(
            flex(FlexSubject::Uuid("nope".into()), "x")
                .form_fields(HintEncoding::Json)
                .is_err()
        );
        assert!(
            flex(FlexSubject::Cpr(Cpr::new("08043612")), "x")
                .form_fields(HintEncoding::Json)
                .is_err()
        );
        let blank = LoginHint::Standard {
            user_id: "  ".into(),
            binding_message: None,
        };
        assert!(blank.form_fields(HintEncoding::Json).is_err());
    }

    #[test]
    fn qr_hint_always_carries_prompt_login_when_asked() {
        let (name, v) = LoginHint::BrokerOidc {
            idp_values: "mitid".into(),
            prompt_login: true,
        }
        .form_fields(HintEncoding::Json)
        .unwrap()
        .remove(0);
        assert_eq!(name, "login_hint_token");
        let v: Value = serde_json::from_str(&v).unwrap();
        assert_eq!(v["flow_type"], "broker_oidc");
        assert_eq!(v["idp_values"], "mitid");
        assert_eq!(v["prompt"], "login");
    }

    #[test]
    fn standard_hint_is_plain_login_hint() {
        let fields = LoginHint::Standard {
            user_id: "ileya".into(),
            binding_message: Some("4821".into()),
        }
        .form_fields(HintEncoding::Base64)
        .unwrap();
        assert_eq!(
            fields,
            vec![
                ("login_hint", "ileya".to_string()),
                ("binding_message", "4821".to_string())
            ]
        );
    }
}
