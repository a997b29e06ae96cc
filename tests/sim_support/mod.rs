//! Helpers shared by the simulator's own integration tests (`tests/sim_*.rs`).
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mitid_flex_tv::sim::{
    self, PP_DEMO_CLIENT_ID, PP_DEMO_CLIENT_SECRET, SigningKey, SimHandle, SimOptions,
};
use serde_json::Value;

pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
pub const ILEYA_UUID: &str = "8a9856e0-f12d-4217-b320-c8a076be9320";
/// The reference doc's JSON `login_hint_token`, verbatim.
pub const DOC_HINT_JSON: &str = r#"{"idp":"mitid", "uuid":"8a9856e0-f12d-4217-b320-c8a076be9320", "referenceTextBody":"Testing MitID Flex app 😉", "ip":"1.1.1.1"}"#;
/// The reference doc's base64 `login_hint_token`, verbatim.
pub const DOC_HINT_BASE64: &str = "eyJpZHAiOiJtaXRpZCIsImlkcF9wYXJhbXMiOiJ7InV1aWQiOiI4YTk4NTZlMC1mMTJkLTQyMTctYjMyMC1jOGEwNzZiZTkzMjAiLCAicmVmZXJlbmNlVGV4dEJvZHkiOiJUZXN0aW5nIE1pdElEIEZsZXggYXBwIPCfmIkiLCAiaXAiOiIxLjEuMS4xIn0ifQ==";
/// The Postman collection's `login_hint_token` value, verbatim (inner quotes unescaped).
pub const POSTMAN_HINT: &str = r#"{"idp":"mitid","idp_params":"{"uuid":"8a9856e0-f12d-4217-b320-c8a076be9320", "referenceTextBody":"Testing MitID Flex app 😉", "ip":"1.1.1.1"}"}"#;

pub const FAST_INTERVAL: Duration = Duration::from_millis(200);

/// One RSA key for all simulators of a test binary: keygen is the slowest part of a start.
pub fn shared_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(SigningKey::generate().expect("RSA key generation")))
        .clone()
}

pub fn fast_options() -> SimOptions {
    SimOptions {
        interval: FAST_INTERVAL,
        expires_in: Duration::from_secs(30),
        signing_key: Some(shared_key()),
        ..SimOptions::default()
    }
}

pub async fn start(options: SimOptions) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    sim::serve(listener, options).await.expect("serve")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `POST /connect/ciba` as the doc's curl line does it (client_secret_post).
pub async fn ciba(sim: &SimHandle, hint_param: &str, hint: &str) -> (u16, Value) {
    let form = [
        ("grant_type", CIBA_GRANT),
        ("scope", "openid mitid"),
        ("client_id", PP_DEMO_CLIENT_ID),
        ("client_secret", PP_DEMO_CLIENT_SECRET),
        (hint_param, hint),
    ];
    let res = http()
        .post(format!("{}/connect/ciba", sim.authority()))
        .form(&form)
        .send()
        .await
        .expect("ciba");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn start_flex(sim: &SimHandle, hint: &str) -> String {
    let (status, body) = ciba(sim, "login_hint_token", hint).await;
    assert_eq!(status, 200, "ciba failed: {body}");
    body["auth_req_id"]
        .as_str()
        .expect("auth_req_id")
        .to_owned()
}

/// `POST /connect/token` as the doc's poll curl line does it.
pub async fn poll(sim: &SimHandle, id: &str) -> (u16, Value) {
    let form = [
        ("grant_type", CIBA_GRANT),
        ("scope", "openid"),
        ("client_id", PP_DEMO_CLIENT_ID),
        ("client_secret", PP_DEMO_CLIENT_SECRET),
        ("auth_req_id", id),
    ];
    let res = http()
        .post(format!("{}/connect/token", sim.authority()))
        .form(&form)
        .send()
        .await
        .expect("poll");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Polls politely (gap > interval) until the answer is not `authorization_pending`.
pub async fn poll_until_done(sim: &SimHandle, id: &str, interval: Duration) -> (u16, Value) {
    for _ in 0..100 {
        tokio::time::sleep(interval + Duration::from_millis(30)).await;
        let (status, body) = poll(sim, id).await;
        if body["error"] != "authorization_pending" {
            return (status, body);
        }
    }
    panic!("request never finished");
}

/// Polls until done, expects tokens, and returns the ID token's claims verified against the
/// served JWKS for the demo client.
pub async fn signed_in_claims(sim: &SimHandle, id: &str) -> Value {
    let (status, tokens) = poll_until_done(sim, id, FAST_INTERVAL).await;
    assert_eq!(status, 200, "{tokens}");
    verify(
        sim,
        tokens["id_token"].as_str().expect("id"),
        Some(PP_DEMO_CLIENT_ID),
    )
    .await
    .expect("verify")
}

/// A page's HTML, with the broker session cookie when given.
pub async fn page(url: &str, cookie: Option<&str>) -> String {
    let mut req = http().get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.expect("page").text().await.expect("html")
}

pub fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("<none>")
}

pub async fn jwks(sim: &SimHandle) -> jsonwebtoken::jwk::JwkSet {
    http()
        .get(format!(
            "{}/.well-known/openid-configuration/jwks",
            sim.authority()
        ))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json")
}

/// Verifies an RS256 token against the served JWKS the way a relying party would.
pub async fn verify(
    sim: &SimHandle,
    token: &str,
    audience: Option<&str>,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let header = jsonwebtoken::decode_header(token)?;
    let set = jwks(sim).await;
    let kid = header.kid.clone().unwrap_or_default();
    let jwk = set.find(&kid).ok_or_else(|| {
        jsonwebtoken::errors::Error::from(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)
    })?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[sim.authority()]);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    validation.leeway = 0;
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
}

pub fn header_of(token: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(token).expect("header")
}

pub fn claims_of(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).expect("claims")
}
