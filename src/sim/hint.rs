//! `login_hint_token` parsing and validation, as the broker's field table describes it.
//!
//! The broker's own examples are not all well-formed: the Postman collection and the base64
//! example in the broker docs' "Ciba integration" carry a legacy nested form whose inner quotes are not escaped,
//! `{"idp":"mitid","idp_params":"{"uuid":"…", "referenceTextBody":"…", "ip":"1.1.1.1"}"}`.
//! Because those examples must run unchanged, the parser accepts that text as well as the
//! well-formed escaped nested form, the flat form, and base64 of any of them.

use std::net::IpAddr;

use base64::Engine as _;
use serde_json::{Map, Value};

/// Actions the MitID app can show (field table: `action`).
pub const ACTIONS: [&str; 5] = ["LOG_ON", "APPROVE", "CONFIRM", "ACCEPT", "SIGN"];

/// Longest `referenceTextBody` the simulator accepts, in characters.
pub const MAX_REFERENCE_TEXT_CHARS: usize = 130;

/// What a valid hint asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hint {
    /// The MitID Flex app flow: the broker pushes the request to a known person's app.
    Flex(FlexHint),
    /// CIBA + PAR (`flow_type: broker_oidc`): the person is unknown until they open the
    /// authentication URI in a browser (QR flow).
    BrokerOidc(BrokerOidcHint),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Uuid(String),
    Cpr(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlexHint {
    pub subject: Subject,
    pub reference_text: String,
    pub ip: IpAddr,
    pub action: Option<String>,
    pub reference_id: Option<String>,
    pub ciba_nonce: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerOidcHint {
    pub idp_values: Option<String>,
    pub prompt_login: bool,
    pub reference_text: Option<String>,
    pub action: Option<String>,
    pub ciba_nonce: Option<String>,
}

/// Why a hint was refused; the text goes to `error_description`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("login_hint_token: {0}")]
pub struct HintError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, HintError> {
    Err(HintError(msg.into()))
}

/// Parses and validates a `login_hint_token` parameter value.
pub fn parse_login_hint_token(raw: &str) -> Result<Hint, HintError> {
    let object = parse_object(raw)?;
    validate(&object)
}

/// Turns any accepted textual form into one flat JSON object.
pub fn parse_object(raw: &str) -> Result<Map<String, Value>, HintError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return err("is empty");
    }
    let text = if trimmed.starts_with('{') {
        trimmed.to_owned()
    } else {
        decode_base64(trimmed)
            .ok_or_else(|| HintError("is neither JSON nor base64-encoded JSON".into()))?
    };
    let mut outer = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return err("must be a JSON object"),
        Err(_) => return parse_legacy_unescaped(&text),
    };
    match outer.remove("idp_params") {
        None => Ok(outer),
        Some(Value::Object(inner)) => merge(outer, inner),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(inner)) => merge(outer, inner),
            _ => err("idp_params must hold a JSON object"),
        },
        Some(_) => err("idp_params must hold a JSON object"),
    }
}

fn decode_base64(text: &str) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|s| s.trim_start().starts_with('{'))
        .map(|s| s.trim().to_owned())
}

/// `{"idp":"mitid","idp_params":"{"uuid":"…", …}"}`: the value of `idp_params` is a JSON object
/// wrapped in quotes whose own quotes were never escaped. The wrapped object runs from the `{`
/// after the opening quote to the last `}"` in the text.
fn parse_legacy_unescaped(text: &str) -> Result<Map<String, Value>, HintError> {
    const MALFORMED: &str = "is not valid JSON";
    let Some(key_at) = text.find("\"idp_params\"") else {
        return err(MALFORMED);
    };
    let after_key = key_at + "\"idp_params\"".len();
    let rest = &text[after_key..];
    let colon = rest.trim_start();
    let Some(after_colon) = colon.strip_prefix(':') else {
        return err(MALFORMED);
    };
    let value = after_colon.trim_start();
    if !value.starts_with("\"{") {
        return err(MALFORMED);
    }
    let value_at = text.len() - value.len();
    let inner_start = value_at + 1;
    let Some(close_rel) = text[inner_start..].rfind("}\"") else {
        return err(MALFORMED);
    };
    let inner_end = inner_start + close_rel + 1;
    let inner_text = &text[inner_start..inner_end];
    let outer_text = format!("{}\"\"{}", &text[..value_at], &text[inner_end + 1..]);
    let Ok(Value::Object(mut outer)) = serde_json::from_str::<Value>(&outer_text) else {
        return err(MALFORMED);
    };
    let Ok(Value::Object(inner)) = serde_json::from_str::<Value>(inner_text) else {
        return err("idp_params must hold a JSON object");
    };
    outer.remove("idp_params");
    merge(outer, inner)
}

fn merge(
    mut outer: Map<String, Value>,
    inner: Map<String, Value>,
) -> Result<Map<String, Value>, HintError> {
    for (key, value) in inner {
        match outer.get(&key) {
            Some(existing) if existing != &value => {
                return err(format!("{key} is given twice with different values"));
            }
            _ => {
                outer.insert(key, value);
            }
        }
    }
    Ok(outer)
}

fn opt_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, HintError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => err(format!("{key} must be a string")),
    }
}

fn validate(map: &Map<String, Value>) -> Result<Hint, HintError> {
    if let Some(flow_type) = opt_string(map, "flow_type")? {
        if flow_type != "broker_oidc" {
            return err("flow_type must be \"broker_oidc\"");
        }
        return validate_broker_oidc(map);
    }
    match opt_string(map, "idp")? {
        None => return err("idp is required and must be \"mitid\""),
        Some(idp) if idp != "mitid" => return err("idp must be \"mitid\""),
        Some(_) => {}
    }
    let uuid = opt_string(map, "uuid")?.filter(|s| !s.trim().is_empty());
    let cpr = opt_string(map, "cpr")?.filter(|s| !s.trim().is_empty());
    let subject = match (uuid, cpr) {
        (Some(_), Some(_)) => return err("exactly one of uuid or cpr must be given, not both"),
        (None, None) => return err("exactly one of uuid or cpr must be given"),
        (Some(u), None) => {
            if uuid::Uuid::parse_str(u.trim()).is_err() {
                return err("uuid must be a UUID");
            }
            Subject::Uuid(u.trim().to_ascii_lowercase())
        }
        (None, Some(c)) => {
            let digits: String = c.chars().filter(|ch| *ch != '-').collect();
            if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return err("cpr must be ten digits");
            }
            Subject::Cpr(digits)
        }
    };
    let reference_text = reference_text(map, true)?.unwrap_or_default();
    let ip = match opt_string(map, "ip")? {
        None => return err("ip is required"),
        Some(ip) => ip
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| HintError("ip must be an IPv4 or IPv6 address".into()))?,
    };
    let reference_id = match (
        opt_string(map, "referenceId")?,
        opt_string(map, "reference_id")?,
    ) {
        (Some(_), Some(_)) => return err("give only one of referenceId or reference_id"),
        (a, b) => a.or(b),
    };
    Ok(Hint::Flex(FlexHint {
        subject,
        reference_text,
        ip,
        action: action(map)?,
        reference_id,
        ciba_nonce: opt_string(map, "ciba_nonce")?,
    }))
}

fn reference_text(map: &Map<String, Value>, required: bool) -> Result<Option<String>, HintError> {
    match opt_string(map, "referenceTextBody")? {
        None if required => err("referenceTextBody is required"),
        Some(t) if required && t.trim().is_empty() => err("referenceTextBody is required"),
        Some(t) if t.chars().count() > MAX_REFERENCE_TEXT_CHARS => err(format!(
            "referenceTextBody is longer than {MAX_REFERENCE_TEXT_CHARS} characters"
        )),
        other => Ok(other),
    }
}

fn action(map: &Map<String, Value>) -> Result<Option<String>, HintError> {
    match opt_string(map, "action")? {
        Some(a) if !ACTIONS.contains(&a.as_str()) => {
            err(format!("action must be one of {}", ACTIONS.join(", ")))
        }
        other => Ok(other),
    }
}

fn validate_broker_oidc(map: &Map<String, Value>) -> Result<Hint, HintError> {
    let idp_values = opt_string(map, "idp_values")?;
    if let Some(values) = &idp_values
        && !values.split_whitespace().any(|v| v == "mitid")
    {
        return err("idp_values must include \"mitid\" (the simulator offers only MitID)");
    }
    let prompt_login = match opt_string(map, "prompt")?.as_deref() {
        None => false,
        Some("login") => true,
        Some(_) => return err("prompt must be \"login\""),
    };
    Ok(Hint::BrokerOidc(BrokerOidcHint {
        idp_values,
        prompt_login,
        reference_text: reference_text(map, false)?,
        action: action(map)?,
        ciba_nonce: opt_string(map, "ciba_nonce")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "8a9856e0-f12d-4217-b320-c8a076be9320";
    const DOC_JSON: &str = r#"{"idp":"mitid", "uuid":"8a9856e0-f12d-4217-b320-c8a076be9320", "referenceTextBody":"Testing MitID Flex app 😉", "ip":"1.1.1.1"}"#;
    const DOC_BASE64: &str = "eyJpZHAiOiJtaXRpZCIsImlkcF9wYXJhbXMiOiJ7InV1aWQiOiI4YTk4NTZlMC1mMTJkLTQyMTctYjMyMC1jOGEwNzZiZTkzMjAiLCAicmVmZXJlbmNlVGV4dEJvZHkiOiJUZXN0aW5nIE1pdElEIEZsZXggYXBwIPCfmIkiLCAiaXAiOiIxLjEuMS4xIn0ifQ==";
    const POSTMAN: &str = r#"{"idp":"mitid","idp_params":"{"uuid":"8a9856e0-f12d-4217-b320-c8a076be9320", "referenceTextBody":"Testing MitID Flex app 😉", "ip":"1.1.1.1"}"}"#;

    fn flex(raw: &str) -> FlexHint {
        match parse_login_hint_token(raw) {
            Ok(Hint::Flex(f)) => f,
            other => panic!("expected a Flex hint, got {other:?}"),
        }
    }

    fn refused(raw: &str) -> String {
        match parse_login_hint_token(raw) {
            Err(HintError(msg)) => msg,
            Ok(h) => panic!("expected refusal, got {h:?}"),
        }
    }

    #[test]
    fn doc_forms_all_give_the_same_hint() {
        let expected = flex(DOC_JSON);
        assert_eq!(expected.subject, Subject::Uuid(UUID.into()));
        assert_eq!(expected.reference_text, "Testing MitID Flex app 😉");
        assert_eq!(expected.ip.to_string(), "1.1.1.1");
        assert_eq!(flex(DOC_BASE64), expected);
        assert_eq!(flex(POSTMAN), expected);
        let escaped = serde_json::json!({
            "idp": "mitid",
            "idp_params": serde_json::json!({"uuid": UUID, "referenceTextBody": "Testing MitID Flex app 😉", "ip": "1.1.1.1"}).to_string(),
        })
        .to_string();
        assert_eq!(flex(&escaped), expected);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(DOC_JSON);
        assert_eq!(flex(&b64), expected);
    }

    #[test]
    fn legacy_form_with_keys_after_idp_params() {
        let raw = r#"{"idp_params":"{"cpr":"080436-1234", "referenceTextBody":"a", "ip":"::1"}", "idp":"mitid", "action":"SIGN"}"#;
        let f = flex(raw);
        assert_eq!(f.subject, Subject::Cpr("0804361234".into()));
        assert_eq!(f.action.as_deref(), Some("SIGN"));
    }

    #[test]
    fn field_rules() {
        assert!(refused(r#"{"idp":"nemid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","referenceTextBody":"x","ip":"1.1.1.1"}"#).contains("idp"));
        assert!(
            refused(r#"{"idp":"mitid","referenceTextBody":"x","ip":"1.1.1.1"}"#)
                .contains("exactly one of uuid or cpr")
        );
        assert!(refused(r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","cpr":"0804361234","referenceTextBody":"x","ip":"1.1.1.1"}"#).contains("not both"));
        assert!(
            refused(
                r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","ip":"1.1.1.1"}"#
            )
            .contains("referenceTextBody")
        );
        assert!(refused(r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","referenceTextBody":"x"}"#).contains("ip is required"));
        assert!(refused(r#"{"idp":"mitid","uuid":"8a9856e0-f12d-4217-b320-c8a076be9320","referenceTextBody":"x","ip":"1.1.1.1","action":"DANCE"}"#).contains("action"));
        let long = "x".repeat(131);
        assert!(
            refused(&format!(
                r#"{{"idp":"mitid","uuid":"{UUID}","referenceTextBody":"{long}","ip":"1.1.1.1"}}"#
            ))
            .contains("130")
        );
        let ok = "æ".repeat(130);
        assert_eq!(
            flex(&format!(
                r#"{{"idp":"mitid","uuid":"{UUID}","referenceTextBody":"{ok}","ip":"1.1.1.1"}}"#
            ))
            .reference_text,
            ok
        );
        assert!(refused("not json").contains("neither JSON nor base64"));
        assert!(refused(r#"{"idp":"mitid","idp_params":"{"uuid":"#).contains("not valid JSON"));
        assert!(
            refused(r#"{"idp":"mitid","uuid":"a","idp_params":{"uuid":"b"}}"#).contains("twice")
        );
    }

    #[test]
    fn optional_fields_pass_through() {
        let f = flex(&format!(
            r#"{{"idp":"mitid","uuid":"{UUID}","referenceTextBody":"x","ip":"2001:db8::1","action":"APPROVE","reference_id":"r1","ciba_nonce":"n-1"}}"#
        ));
        assert_eq!(f.action.as_deref(), Some("APPROVE"));
        assert_eq!(f.reference_id.as_deref(), Some("r1"));
        assert_eq!(f.ciba_nonce.as_deref(), Some("n-1"));
    }

    #[test]
    fn broker_oidc_forms() {
        let Ok(Hint::BrokerOidc(h)) =
            parse_login_hint_token(r#"{ "flow_type": "broker_oidc", "prompt": "login" }"#)
        else {
            panic!("broker_oidc hint refused");
        };
        assert!(h.prompt_login);
        assert!(matches!(
            parse_login_hint_token(r#"{"flow_type": "broker_oidc", "idp_values":"mitid" }"#),
            Ok(Hint::BrokerOidc(_))
        ));
        assert!(
            refused(r#"{"flow_type":"broker_oidc","idp_values":"nemid"}"#).contains("idp_values")
        );
        assert!(refused(r#"{"flow_type":"other"}"#).contains("flow_type"));
    }
}
