//! The CIBA + PAR ("QR") flow (broker docs: "CIBA PAR OIDC integration") against the simulator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim_support;

use mitid_flex_tv::sim::{HintKind, PP_DEMO_CLIENT_ID, RequestStatus, SimHandle};
use serde_json::{Value, json};
use sim_support::*;

async fn init_auth(sim: &SimHandle, body: Value) -> (u16, Value) {
    let res = http()
        .post(format!(
            "{}/api/ciba/broker-oidc/init-auth",
            sim.authority()
        ))
        .json(&body)
        .send()
        .await
        .expect("init-auth");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn start_qr(sim: &SimHandle, hint: &str) -> (String, String) {
    let (status, body) = ciba(sim, "login_hint_token", hint).await;
    assert_eq!(status, 200, "{body}");
    let id = body["auth_req_id"].as_str().expect("id").to_owned();
    let (status, par) = init_auth(sim, json!({"requestId": id})).await;
    assert_eq!(status, 200, "{par}");
    (
        id,
        par["authentication_uri"].as_str().expect("uri").to_owned(),
    )
}

fn form_value<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    Some(&html[start..start + html[start..].find('"')?])
}

async fn decide(
    sim: &SimHandle,
    html: &str,
    user: &str,
    decision: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let request_uri = form_value(html, "request_uri").expect("request_uri in the page");
    let mut req = http()
        .post(format!("{}/connect/authorize/decision", sim.authority()))
        .form(&[
            ("request_uri", request_uri),
            ("identity", user),
            ("decision", decision),
        ]);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.expect("decision")
}

#[tokio::test]
async fn qr_flow_from_ciba_to_tokens() {
    let sim = start(fast_options()).await;
    let (id, uri) = start_qr(
        &sim,
        r#"{"flow_type": "broker_oidc", "idp_values":"mitid" }"#,
    )
    .await;
    let info = sim.request(&id).expect("info");
    assert_eq!(
        (info.login_hint_kind, info.identity),
        (HintKind::BrokerOidc, None),
        "not bound before the page"
    );
    assert!(uri.starts_with(&format!("{}/connect/authorize?client_id={PP_DEMO_CLIENT_ID}&request_uri=urn:ietf:params:oauth:request_uri:", sim.authority())));

    let (_, body) = poll(&sim, &id).await;
    assert_eq!(error_of(&body), "authorization_pending");

    let page = http().get(&uri).send().await.expect("authorize page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Ileya Jensen") && html.contains("Søren Ærø Åberg"),
        "identities to pick from"
    );
    assert!(html.contains(r#"id="approve""#));

    let res = decide(&sim, &html, "mette", "approve", None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("set-cookie").is_some(),
        "a broker session starts"
    );
    let claims = signed_in_claims(&sim, &id).await;
    assert_eq!(claims["mitid.identity_name"], "Mette Kjær Østergaard");
    assert_eq!(sim.request(&id).expect("info").authorize_page_views, 1);

    let again = http().get(&uri).send().await.expect("page");
    assert!(
        again.text().await.expect("html").contains("afsluttet"),
        "the page says the request ended"
    );
}

#[tokio::test]
async fn sessions_skip_the_login_step_unless_prompt_login() {
    let sim = start(fast_options()).await;
    let (_, uri) = start_qr(&sim, r#"{"flow_type":"broker_oidc"}"#).await;
    let html = page(&uri, None).await;
    let res = decide(&sim, &html, "aase", "approve", None).await;
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();

    let (_, uri) = start_qr(&sim, r#"{"flow_type":"broker_oidc"}"#).await;
    let html = page(&uri, Some(&cookie)).await;
    assert!(
        html.contains(r#"id="confirm-form""#) && html.contains("Åse Bøgh Lærkesen"),
        "confirmation only"
    );

    let (id, uri) = start_qr(&sim, r#"{ "flow_type": "broker_oidc", "prompt": "login" }"#).await;
    assert!(sim.request(&id).expect("info").prompt_login);
    let html = page(&uri, Some(&cookie)).await;
    assert!(
        html.contains(r#"id="login-form""#),
        "prompt=login always shows the login step"
    );
    assert!(!html.contains(r#"id="confirm-form""#));
}

#[tokio::test]
async fn redirect_uri_gets_state_and_errors() {
    let sim = start(fast_options()).await;
    let (status, body) = ciba(&sim, "login_hint_token", r#"{"flow_type":"broker_oidc"}"#).await;
    assert_eq!(status, 200);
    let id = body["auth_req_id"].as_str().expect("id").to_owned();
    let (status, par) = init_auth(
        &sim,
        json!({"requestId": id, "redirectUri": "https://tv.example/done", "state": "s-1"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(par["expires_in"], 600);
    let html = page(par["authentication_uri"].as_str().expect("uri"), None).await;
    let res = decide(&sim, &html, "ileya", "reject", None).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with("https://tv.example/done?state=s-1&error=access_denied"),
        "{location}"
    );
    assert_eq!(
        sim.request(&id).expect("info").status,
        RequestStatus::Rejected
    );
    let (_, body) = poll(&sim, &id).await;
    assert_eq!(error_of(&body), "access_denied");
}

#[tokio::test]
async fn init_auth_refuses_what_it_cannot_serve() {
    let sim = start(fast_options()).await;
    let flex = start_flex(&sim, DOC_HINT_JSON).await;
    let (status, body) = init_auth(&sim, json!({"requestId": flex})).await;
    assert_eq!(
        (status, error_of(&body)),
        (400, "invalid_request"),
        "a Flex request has no browser step"
    );
    let (status, _) = init_auth(&sim, json!({"requestId": "nope-1"})).await;
    assert_eq!(status, 400);
    let (status, _) = init_auth(&sim, json!({"wrong": 1})).await;
    assert_eq!(status, 400);
    let page = http()
        .get(format!(
            "{}/connect/authorize?request_uri=urn:ietf:params:oauth:request_uri:nope",
            sim.authority()
        ))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 400);
}

#[tokio::test]
async fn reference_text_is_escaped_on_the_pages() {
    let sim = start(fast_options()).await;
    let evil = r#"{"flow_type":"broker_oidc","referenceTextBody":"<img src=x onerror=alert(1)>"}"#;
    let (_, uri) = start_qr(&sim, evil).await;
    let html = page(&uri, None).await;
    assert!(!html.contains("<img src=x"), "markup must be escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let phone = http().get(sim.phone_url()).send().await.expect("phone");
    assert_eq!(phone.status(), 200);
    let csp = phone.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("default-src 'none'"));
    let text = phone.text().await.expect("html");
    assert!(
        text.contains("textContent") && !text.contains("innerHTML"),
        "the phone page renders text, never markup"
    );
}
