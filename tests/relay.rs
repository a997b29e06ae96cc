//! The relay as operators run it: the real `mitid-flex-relay` binary with certificates made
//! here, the simulator as the broker, a throw-away redis-server, and boxes using the
//! `RelayBackend` the TV uses. Checked from outside: what a box gets, what the broker saw.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod relay_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use mitid_flex_tv::ciba::{CibaError, FlexSubject, LoginHint};
use mitid_flex_tv::relay::webhook;
use mitid_flex_tv::session::{self, Backend, Outcome, SessionSettings, Update, WaitPolicy, Who};
use mitid_flex_tv::sim::{self, SimHandle, SimOptions};
use relay_support::{Pki, Redis, RelayOptions, RelayProc, box_backend, box_backend_with};

const RELAY: &str = env!("CARGO_BIN_EXE_mitid-flex-relay");
const CPR: &str = "0804361234";

fn ileya() -> sim::Identity {
    SimOptions::default().identities.remove(0)
}

async fn sim_with(auto_approve_after: Option<Duration>) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let opts = SimOptions {
        auto_approve_after,
        ..SimOptions::with_timings(Duration::from_millis(200), Duration::from_secs(60))
    };
    sim::serve(listener, opts).await.unwrap()
}

async fn sim_approving() -> SimHandle {
    sim_with(Some(Duration::ZERO)).await
}

fn relay(pki: &Pki, sim: &SimHandle, extra: impl FnOnce(&mut RelayOptions)) -> RelayProc {
    let mut o = RelayOptions {
        issuer: sim.authority(),
        redis_url: None,
        deny_list: None,
        webhook_url: None,
        limits: String::new(),
        binary: RELAY.into(),
    };
    extra(&mut o);
    RelayProc::start(pki, &o)
}

fn settings() -> SessionSettings {
    SessionSettings {
        service_name: "Box-chosen text".into(),
        reference_template: "Anything the box likes {code}".into(),
        action: None,
        client_ip: "127.0.0.1".parse().unwrap(),
        ciba_nonce: mitid_flex_tv::ciba::NonceMode::Verify,
        binding_message_is_code: false,
        policy: WaitPolicy::default(),
    }
}

async fn sign_in<B: Backend>(backend: B, who: Who) -> (Outcome, Vec<Update>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = session::spawn(Arc::new(backend), who, settings(), move |u| {
        let _ = tx.send(u);
    });
    let outcome = tokio::time::timeout(Duration::from_secs(30), handle.finished())
        .await
        .expect("sign-in within 30 s");
    let mut updates = Vec::new();
    while let Ok(u) = rx.try_recv() {
        updates.push(u);
    }
    (outcome, updates)
}

fn cpr_hint() -> LoginHint {
    session::login_hint(
        Who::Flex(FlexSubject::Cpr(mitid_flex_tv::ciba::Cpr::new(CPR))),
        &settings(),
        "x 0000",
        "0000",
    )
}

async fn metrics(relay: &RelayProc) -> String {
    reqwest::get(format!("{}/metrics", relay.metrics_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// One unlabelled-or-labelled sample of the relay's /metrics, by its full name.
fn sample(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A webhook receiver on loopback that keeps every delivery (headers and body).
async fn webhook_sink() -> (String, Arc<Mutex<Vec<(HeaderMap, Bytes)>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    let app = axum::Router::new().route(
        "/identity",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/identity", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_signs_in_through_the_relay_and_the_backend_is_told_signed() {
    let sim = sim_approving().await;
    let pki = Pki::new();
    let (hook, deliveries) = webhook_sink().await;
    let relay = relay(&pki, &sim, |o| o.webhook_url = Some(hook.clone()));
    let backend = box_backend(&pki, "box-0001", &[&relay.url], &sim.authority());

    let (outcome, updates) = sign_in(
        backend,
        Who::Flex(FlexSubject::Cpr(mitid_flex_tv::ciba::Cpr::new(CPR))),
    )
    .await;
    let Outcome::SignedIn(profile) = outcome else {
        panic!("{outcome:?}\nrelay log:\n{}", relay.log());
    };
    assert_eq!(profile.name.as_deref(), Some(ileya().name.as_str()));

    // The relay wrote the reference text, not the box: the TV shows what the phone showed.
    let waiting = updates
        .iter()
        .find_map(|u| match u {
            Update::Waiting(w) => Some(w.clone()),
            _ => None,
        })
        .expect("waiting update");
    let at_broker = sim.requests().pop().expect("one request");
    assert_eq!(waiting.reference_text, at_broker.reference_text);
    assert!(waiting.reference_text.starts_with("Log på Relay-TV"));
    assert!(waiting.reference_text.ends_with(&waiting.code));
    assert!(!waiting.reference_text.contains("Anything the box likes"));

    // The webhook got the identity, signed over timestamp and body.
    let mut tries = 0;
    while deliveries.lock().unwrap().is_empty() && tries < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        tries += 1;
    }
    let (headers, body) = deliveries
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("webhook delivery");
    let sig = headers[webhook::SIGNATURE_HEADER].to_str().unwrap();
    let t: u64 = sig
        .strip_prefix("t=")
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .expect("t=");
    let key = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        relay_support::WEBHOOK_KEY.as_bytes(),
    );
    assert_eq!(sig, webhook::signature(&key, t, &body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["name"], ileya().name.as_str());
    assert_eq!(v["box_id"], "box-0001");
    assert_eq!(v["reference_text"], waiting.reference_text.as_str());

    // Audit lines for start and outcome; no CPR, no auth_req_id anywhere in the relay's log.
    let log = relay.log();
    assert!(
        log.contains("event=\"start\"") || log.contains("event=start"),
        "{log}"
    );
    assert!(log.contains("signed_in"), "{log}");
    assert!(log.contains("box-0001"), "{log}");
    assert!(!log.contains(CPR) && !log.contains("080436-1234"), "{log}");
    assert!(!log.contains(&at_broker.auth_req_id), "{log}");

    let metrics = metrics(&relay).await;
    assert!(
        metrics.contains("relay_starts_total{kind=\"cpr\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("relay_outcomes_total{outcome=\"signed_in\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("relay_webhook_delivered_total 1"),
        "{metrics}"
    );
    let health = reqwest::get(format!("{}/healthz", relay.metrics_url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn qr_through_the_relay_gets_the_brokers_url() {
    // Nobody approves: the request must still be pending for CIBA + PAR.
    let sim = sim_with(None).await;
    let pki = Pki::new();
    let relay = relay(&pki, &sim, |_| {});
    let backend = box_backend(&pki, "box-qr", &[&relay.url], &sim.authority());
    let hint = session::login_hint(Who::Qr, &settings(), "", "");
    let started = backend.start(&hint).await.expect("start");
    let par = started.par.expect("authentication_uri with the start");
    assert!(
        par.authentication_uri
            .starts_with(&sim.authority().replace("/op", "")),
        "{}",
        par.authentication_uri
    );
    assert!(started.shown.is_none());
    backend.cancel(&started.auth_req_id).await.expect("cancel");
    let r = sim.requests().pop().unwrap();
    assert!(r.cancelled, "{r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_certificate_or_a_foreign_ca_is_refused_in_the_handshake() {
    let sim = sim_approving().await;
    let pki = Pki::new();
    let relay = relay(&pki, &sim, |_| {});

    // No client certificate at all.
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(&pki.servers.cert_path).unwrap()).unwrap();
    let anonymous = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let err = anonymous
        .post(format!("{}/v1/signins", relay.url))
        .json(&serde_json::json!({"who": "qr"}))
        .send()
        .await
        .expect_err("no certificate must not get an answer");
    assert!(!err.is_status(), "{err:?}");

    // A certificate from another CA, with a valid-looking box ID.
    let other = relay_support::Ca::new(pki.dir.path(), "other-ca");
    let (cert, key) = other.box_cert("box-intruder");
    let intruder = box_backend_with(&pki, cert, key, &[&relay.url], &sim.authority());
    let err = intruder.start(&cpr_hint()).await.expect_err("foreign CA");
    assert!(matches!(err, CibaError::Transport { .. }), "{err:?}");

    assert!(sim.pushes().is_empty(), "nothing reached the broker");
    let metrics = metrics(&relay).await;
    let refused = sample(&metrics, "relay_tls_handshake_failures_total");
    // At least one per client (a client may try the handshake again by itself).
    assert!(refused >= 2, "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_box_is_refused_after_sighup_and_a_handle_opens_only_for_its_box() {
    let sim = sim_approving().await;
    let pki = Pki::new();
    let deny = pki.dir.path().join("denied-boxes");
    std::fs::write(&deny, "# none yet\n").unwrap();
    let relay = relay(&pki, &sim, |o| o.deny_list = Some(deny.clone()));
    let good = box_backend(&pki, "box-good", &[&relay.url], &sim.authority());
    let stolen = box_backend(&pki, "box-stolen", &[&relay.url], &sim.authority());

    let started = stolen
        .start(&cpr_hint())
        .await
        .expect("allowed before the deny list");
    // Another box cannot use this box's handle.
    let other = good.poll(&started.auth_req_id).await.unwrap();
    assert!(
        matches!(other, mitid_flex_tv::ciba::PollOutcome::InvalidGrant),
        "{other:?}"
    );

    std::fs::write(&deny, "box-stolen  # reported stolen\n").unwrap();
    relay.signal(libc::SIGHUP);
    let mut refused = None;
    for _ in 0..100 {
        match stolen.start(&cpr_hint()).await {
            Err(e) if e.oauth_code() == Some("box_denied") => {
                refused = Some(e);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    assert!(
        refused.is_some(),
        "box-stolen still served after SIGHUP:\n{}",
        relay.log()
    );
    // Its pending request cannot be collected either.
    let poll = stolen.poll(&started.auth_req_id).await.unwrap();
    assert!(
        matches!(poll, mitid_flex_tv::ciba::PollOutcome::Refused { ref code, .. } if code == "box_denied"),
        "{poll:?}"
    );
    // Other boxes go on.
    assert!(good.start(&cpr_hint()).await.is_ok());
    assert!(relay.logs("deny list reloaded").await);
}

/// Ten boxes push the same viewer at once, through two relay instances that share Redis:
/// the broker sees exactly the per-identity burst, the rest get 429 with the wait.
#[tokio::test(flavor = "multi_thread")]
async fn ten_boxes_pushing_one_viewer_reach_the_broker_only_as_often_as_the_limit_allows() {
    let sim = sim_approving().await;
    let pki = Pki::new();
    let redis = Redis::start();
    let limits = "per_identity = { burst = 3, refill_secs = 600 }\n\
                  per_box = { burst = 5, refill_secs = 60 }\n\
                  global = { burst = 1000, refill_secs = 0.01 }";
    let a = relay(&pki, &sim, |o| {
        o.redis_url = Some(redis.url.clone());
        o.limits = limits.into();
    });
    let b = relay(&pki, &sim, |o| {
        o.redis_url = Some(redis.url.clone());
        o.limits = limits.into();
    });
    let issuer = sim.authority();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let url = if i % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let backend = box_backend(&pki, &format!("box-{i:02}"), &[&url], &issuer);
        tasks.push(tokio::spawn(
            async move { backend.start(&cpr_hint()).await },
        ));
    }
    let mut allowed = 0;
    let mut waits = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => allowed += 1,
            Err(CibaError::RateLimited {
                retry_after_secs, ..
            }) => waits.push(retry_after_secs),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(allowed, 3, "per-identity burst");
    assert_eq!(waits.len(), 7);
    // One token per 600 s: the wait is at most that, and more than a few seconds.
    assert!(waits.iter().all(|w| (100..=601).contains(w)), "{waits:?}");
    let pushes = sim.pushes();
    assert_eq!(pushes.get("ileya"), Some(&3), "{pushes:?}");
    assert_eq!(pushes.len(), 1);

    // The refusal reaches the viewer as a typed outcome with the wait.
    let backend = box_backend(&pki, "box-10", &[&a.url], &issuer);
    let (outcome, _) = sign_in(
        backend,
        Who::Flex(FlexSubject::Cpr(mitid_flex_tv::ciba::Cpr::new(CPR))),
    )
    .await;
    match outcome {
        Outcome::RateLimited { wait_secs } => assert!((100..=601).contains(&wait_secs)),
        other => panic!("{other:?}"),
    }
    let identity = "relay_rate_limited_total{scope=\"identity\"}";
    let limited = sample(&metrics(&a).await, identity) + sample(&metrics(&b).await, identity);
    assert_eq!(limited, 8);
}

/// A box in relay mode: its config, environment and files hold no broker secret, and a
/// secret put there by mistake is refused.
#[test]
fn the_box_holds_no_broker_secret() {
    use mitid_flex_tv::config::{FileConfig, Overrides, ProfileName, Settings};
    let box_config = r#"
profile = "relay"
issuer = "https://pp.netseidbroker.dk/op"
client_id = "62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9"
identifier_kind = "cpr"

[relay]
urls = ["https://relay-1.example:8443", "https://relay-2.example:8443"]
cert = "relay_cert"
key = "relay_key"
ca = "/etc/mitid-flex-tv/relay-ca.crt"
"#;
    let f: FileConfig = toml::from_str(box_config).unwrap();
    let s = Settings::resolve(None, f.clone(), &Overrides::default(), None).unwrap();
    assert_eq!(s.profile, ProfileName::Relay);
    assert_eq!(s.client_secret.expose(), "", "the box has no secret");
    let relay = s.relay.expect("relay settings");
    assert_eq!(relay.urls.len(), 2);
    assert!(!box_config.contains(mitid_flex_tv::config::PP_DEMO_CLIENT_SECRET));

    // A secret in the environment or the file is a mistake the box refuses to run with.
    let err = Settings::resolve(
        None,
        f.clone(),
        &Overrides::default(),
        Some("s3cret".into()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("belongs on the relay"), "{err}");
    let with_secret = format!("client_secret = \"s3cret\"\n{box_config}");
    let f2: FileConfig = toml::from_str(&with_secret).unwrap();
    assert!(Settings::resolve(None, f2, &Overrides::default(), None).is_err());

    // The packaged example of a box's config holds no secret and resolves as it is.
    let text = std::fs::read_to_string("packaging/relay/box-config.toml").unwrap();
    assert!(!text.contains("client_secret"));
    assert!(!text.contains(mitid_flex_tv::config::PP_DEMO_CLIENT_SECRET));
    let f: FileConfig = toml::from_str(&text).unwrap();
    assert!(Settings::resolve(None, f, &Overrides::default(), None).is_ok());
}

/// The operator's script: certificates made with openssl work with the relay as they are.
#[tokio::test(flavor = "multi_thread")]
async fn certificates_from_make_certs_sh_sign_a_box_in() {
    let sim = sim_approving().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let script = "packaging/relay/make-certs.sh";
    for args in [
        vec!["ca", d],
        vec!["server", d, "127.0.0.1", "localhost"],
        vec!["box", d, "box-openssl"],
    ] {
        let out = std::process::Command::new(script)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut pki = Pki::new();
    // The relay runs with the script's files instead of rcgen's.
    pki.server_cert = dir.path().join("tls.crt");
    pki.server_key = dir.path().join("tls.key");
    pki.boxes.cert_path = dir.path().join("box-ca.crt");
    pki.servers.cert_path = dir.path().join("relay-ca.crt");
    let relay = relay(&pki, &sim, |_| {});
    let backend = box_backend_with(
        &pki,
        dir.path().join("boxes/box-openssl.crt"),
        dir.path().join("boxes/box-openssl.key"),
        &[&relay.url],
        &sim.authority(),
    );
    let (outcome, _) = sign_in(backend, Who::UserId("ileya".into())).await;
    assert!(
        matches!(outcome, Outcome::SignedIn(_)),
        "{outcome:?}\n{}",
        relay.log()
    );
    assert!(relay.logs("box-openssl").await);
}

/// `mitid-flex-tv signin` with profile relay, as a box runs it: the real binary, a config file
/// with the relay's URLs, the box's certificate and key as systemd credentials, and nothing
/// secret anywhere on the box's side.
#[tokio::test(flavor = "multi_thread")]
async fn signin_profile_relay_signs_in_with_no_broker_secret_on_the_box() {
    let sim = sim_approving().await;
    let pki = Pki::new();
    let relay = relay(&pki, &sim, |_| {});
    let (cert, key) = pki.boxes.box_cert("box-cli");
    let box_dir = tempfile::tempdir().unwrap();
    let creds = box_dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::copy(&cert, creds.join("relay_cert")).unwrap();
    std::fs::copy(&key, creds.join("relay_key")).unwrap();
    let config = box_dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "profile = \"relay\"\nissuer = {:?}\nclient_id = {:?}\nidentifier_kind = \"uuid\"\n\
             [relay]\nurls = [\"https://127.0.0.1:1\", {:?}]\nca = {:?}\n",
            sim.authority(),
            sim::PP_DEMO_CLIENT_ID,
            relay.url,
            pki.servers.cert_path
        ),
    )
    .unwrap();
    let env = [
        ("MITID_FLEX_TV_CONFIG", config.display().to_string()),
        ("CREDENTIALS_DIRECTORY", creds.display().to_string()),
        ("RUST_LOG", "info".to_string()),
    ];
    // Nothing the box holds is the broker secret: its files and its environment.
    let secret = sim::PP_DEMO_CLIENT_SECRET;
    for file in [
        config.clone(),
        creds.join("relay_cert"),
        creds.join("relay_key"),
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(secret), "{}", file.display());
    }
    assert!(env.iter().all(|(_, v)| !v.contains(secret)));

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mitid-flex-tv"))
        .args(["signin", "--identifier", &ileya().uuid, "--json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {stderr}\nrelay:\n{}",
        relay.log()
    );
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(identity["name"], ileya().name.as_str());
    // The first URL does not answer: the box went on to the next instance.
    assert!(relay.logs("box-cli").await);
    // The viewer saw the text the relay wrote, which is what the phone showed.
    let at_broker = sim.requests().pop().unwrap();
    assert!(stderr.contains(&at_broker.reference_text), "{stderr}");
}

/// Sign-ins whose broker answer died with a relay instance (and its webhook deliveries).
#[path = "relay_support/crash.rs"]
mod crash;
