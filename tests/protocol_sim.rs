//! The client and the session against the offline broker simulator, over real HTTP on an
//! ephemeral loopback port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use mitid_flex_tv::ciba::{
    AuthReqId, CibaClient, ClientAuth, ClientConfig, ClientSecret, Cpr, Dialect, FlexSubject,
    HintEncoding, PollOutcome,
};
use mitid_flex_tv::config::{PP_DEMO_CLIENT_ID, PP_DEMO_CLIENT_SECRET};
use mitid_flex_tv::session::{
    self, Outcome, SessionHandle, SessionSettings, Update, WaitPolicy, Who,
};
use mitid_flex_tv::sim::{self, Faults, SimHandle, SimOptions};
use tokio::sync::mpsc::UnboundedReceiver;

const ILEYA_UUID: &str = "8a9856e0-f12d-4217-b320-c8a076be9320";

async fn sim_with(interval_s: u64, expires_s: u64) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let opts = SimOptions::with_timings(
        Duration::from_secs(interval_s),
        Duration::from_secs(expires_s),
    );
    sim::serve(listener, opts).await.unwrap()
}

fn client(
    sim: &SimHandle,
    auth: ClientAuth,
    encoding: HintEncoding,
    secret: &str,
) -> Arc<CibaClient> {
    Arc::new(
        CibaClient::new(ClientConfig {
            issuer: sim.authority(),
            client_id: PP_DEMO_CLIENT_ID.into(),
            client_secret: ClientSecret::new(secret),
            auth,
            scope: "openid mitid".into(),
            dialect: Dialect::Signaturgruppen,
            hint_encoding: encoding,
            request_timeout: Duration::from_secs(10),
        })
        .unwrap(),
    )
}

fn demo_client(sim: &SimHandle) -> Arc<CibaClient> {
    client(
        sim,
        ClientAuth::ClientSecretPost,
        HintEncoding::Json,
        PP_DEMO_CLIENT_SECRET,
    )
}

fn settings() -> SessionSettings {
    SessionSettings {
        service_name: "Stue-TV".into(),
        reference_template: "Log på {service} · kode {code}".into(),
        action: Some(mitid_flex_tv::ciba::Action::LogOn),
        client_ip: "127.0.0.1".parse().unwrap(),
        ciba_nonce: true,
        binding_message_is_code: false,
        policy: WaitPolicy::default(),
    }
}

struct Running {
    handle: SessionHandle,
    updates: UnboundedReceiver<Update>,
}

fn start(client: Arc<CibaClient>, who: Who) -> Running {
    let (tx, updates) = tokio::sync::mpsc::unbounded_channel();
    let handle = session::spawn(client, who, settings(), move |u| {
        let _ = tx.send(u);
    });
    Running { handle, updates }
}

impl Running {
    /// The Waiting update, plus the auth_req_id the simulator holds for it.
    async fn waiting(&mut self, sim: &SimHandle) -> (session::Waiting, String) {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.updates.recv()).await {
                Ok(Some(Update::Waiting(w))) => {
                    let newest = sim
                        .requests()
                        .into_iter()
                        .max_by_key(|r| r.created_at_unix_ms)
                        .unwrap();
                    return (w, newest.auth_req_id);
                }
                Ok(Some(Update::Finished(o))) => panic!("finished before waiting: {o:?}"),
                Ok(Some(_)) => {}
                other => panic!("no Waiting update: {other:?}"),
            }
        }
    }

    async fn outcome(self) -> Outcome {
        tokio::time::timeout(Duration::from_secs(60), self.handle.finished())
            .await
            .unwrap()
    }
}

/// The simulator's view of request `id` once it was polled `polls` times (at most 30 s).
async fn until_polled(sim: &SimHandle, id: &str, polls: u32) -> sim::RequestInfo {
    for _ in 0..300 {
        let r = sim.request(id).unwrap();
        if r.polls >= polls {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("request {id} was not polled {polls} times within 30 s");
}

async fn approve_and_finish(
    sim: &SimHandle,
    client: Arc<CibaClient>,
    who: Who,
) -> (Outcome, session::Waiting, String) {
    let mut run = start(client, who);
    let (w, id) = run.waiting(sim).await;
    sim.approve(&id, None).unwrap();
    (run.outcome().await, w, id)
}

fn signed_in(o: &Outcome) -> &mitid_flex_tv::ciba::Profile {
    match o {
        Outcome::SignedIn(p) => p,
        other => panic!("not signed in: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_by_uuid_shows_the_same_reference_text_as_the_phone() {
    let sim = sim_with(1, 300).await;
    let who = Who::Flex(FlexSubject::Uuid(ILEYA_UUID.into()));
    let (o, w, id) = approve_and_finish(&sim, demo_client(&sim), who).await;
    let p = signed_in(&o);
    assert_eq!(p.name.as_deref(), Some("Ileya Jensen"));
    assert_eq!(p.date_of_birth.as_deref(), Some("1936-04-08"));
    assert_eq!(p.uuid.as_deref(), Some(ILEYA_UUID));
    assert_eq!(p.issuer, sim.authority());
    let at_sim = sim.request(&id).unwrap();
    assert_eq!(at_sim.reference_text, w.reference_text);
    assert_eq!(p.reference_text.as_deref(), Some(w.reference_text.as_str()));
    assert_eq!(at_sim.action.as_deref(), Some("LOG_ON"));
    assert_eq!(at_sim.slow_downs, 0);
    assert!(
        at_sim.first_poll_after_ms.unwrap() >= 1000,
        "first poll before the interval"
    );
    assert!(at_sim.min_poll_gap_ms.is_none_or(|g| g >= 1000));
}

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_by_cpr() {
    let sim = sim_with(1, 300).await;
    let who = Who::Flex(FlexSubject::Cpr(Cpr::new("0804361234")));
    let (o, _, _) = approve_and_finish(&sim, demo_client(&sim), who).await;
    assert_eq!(signed_in(&o).name.as_deref(), Some("Ileya Jensen"));
}

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_by_user_id_with_standard_login_hint() {
    let sim = sim_with(1, 300).await;
    let (o, _, id) =
        approve_and_finish(&sim, demo_client(&sim), Who::UserId("soeren".into())).await;
    assert_eq!(signed_in(&o).name.as_deref(), Some("Søren Ærø Åberg"));
    assert_eq!(
        sim.request(&id).unwrap().identity.as_deref(),
        Some("soeren")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn base64_hint_and_client_secret_basic() {
    let sim = sim_with(1, 300).await;
    let c = client(
        &sim,
        ClientAuth::ClientSecretBasic,
        HintEncoding::Base64,
        PP_DEMO_CLIENT_SECRET,
    );
    let (o, _, _) =
        approve_and_finish(&sim, c, Who::Flex(FlexSubject::Uuid(ILEYA_UUID.into()))).await;
    signed_in(&o);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_a_refused_configuration_both_ways() {
    let sim = sim_with(1, 300).await;
    for auth in [ClientAuth::ClientSecretPost, ClientAuth::ClientSecretBasic] {
        let c = client(&sim, auth, HintEncoding::Json, "wrong");
        let o = start(c, Who::UserId("ileya".into())).outcome().await;
        assert!(
            matches!(o, Outcome::ConfigRefused { ref detail } if detail.contains("invalid_client")),
            "{o:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deny() {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    sim.reject(&id).unwrap();
    assert_eq!(run.outcome().await, Outcome::Rejected);
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry() {
    let sim = sim_with(1, 3).await;
    let o = start(demo_client(&sim), Who::UserId("ileya".into()))
        .outcome()
        .await;
    assert_eq!(o, Outcome::Expired);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_user() {
    let sim = sim_with(1, 300).await;
    let o = start(demo_client(&sim), Who::UserId("nobody".into()))
        .outcome()
        .await;
    assert_eq!(o, Outcome::UnknownUser);
    let o = start(
        demo_client(&sim),
        Who::Flex(FlexSubject::Uuid(uuid::Uuid::new_v4().to_string())),
    )
    .outcome()
    .await;
    assert_eq!(o, Outcome::UnknownUser);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_reaches_the_broker_once_and_the_request_is_dead() {
    let sim = sim_with(1, 300).await;
    let c = demo_client(&sim);
    let mut run = start(c.clone(), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    run.handle.cancel();
    run.handle.cancel();
    assert_eq!(run.outcome().await, Outcome::Cancelled);
    let r = sim.request(&id).unwrap();
    assert!(r.cancelled);
    assert_eq!(r.cancels, 1);
    // Polling a cancelled request never yields tokens.
    let after = c.poll(&AuthReqId::new(id.clone())).await.unwrap();
    assert!(
        matches!(
            after,
            PollOutcome::InvalidGrant | PollOutcome::Denied | PollOutcome::Expired
        ),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_down_makes_the_next_wait_at_least_interval_plus_five() {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    sim.set_request_faults(&id, Faults::default().slow_down_storm().times(1))
        .unwrap();
    // Poll 1 gets slow_down at ≈1 s; the next must wait ≥ interval + 5 s = 6 s. The simulator
    // measures the gap itself, so a busy machine can only make it longer, never fail it.
    let r = until_polled(&sim, &id, 2).await;
    assert_eq!(r.slow_downs, 1);
    assert!(
        r.min_poll_gap_ms.unwrap() >= 6000,
        "polled again before interval + 5 s: gap {:?}",
        r.min_poll_gap_ms
    );
    sim.approve(&id, None).unwrap();
    signed_in(&run.outcome().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_and_non_json_are_transient() {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    sim.set_request_faults(&id, Faults::default().http_status(503).times(1))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sim.set_request_faults(&id, Faults::default().non_json().times(1))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    sim.approve(&id, None).unwrap();
    signed_in(&run.outcome().await);
    assert!(sim.request(&id).unwrap().polls >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_token_endpoint_never_gets_overlapping_polls() {
    let sim = sim_with(1, 300).await;
    sim.set_faults(
        Faults::default()
            .delay_ms(1500)
            .on(&[sim::faults::Endpoint::Token]),
    );
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    tokio::time::sleep(Duration::from_millis(5500)).await;
    sim.approve(&id, None).unwrap();
    signed_in(&run.outcome().await);
    let r = sim.request(&id).unwrap();
    assert_eq!(r.slow_downs, 0);
    // Each poll is sent one interval after the previous answer: gap ≥ delay + interval.
    assert!(
        r.min_poll_gap_ms.unwrap() >= 2400,
        "gap {:?}",
        r.min_poll_gap_ms
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_success_means_start_again() {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    sim.set_request_faults(&id, Faults::default().drop_success())
        .unwrap();
    sim.approve(&id, None).unwrap();
    assert_eq!(run.outcome().await, Outcome::StartAgain);
}

async fn token_fault(f: Faults) -> Outcome {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    sim.set_request_faults(&id, f).unwrap();
    sim.approve(&id, None).unwrap();
    run.outcome().await
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_or_misaddressed_tokens_sign_nobody_in() {
    for (name, f, step) in [
        (
            "wrong signature",
            Faults::default().wrong_signature(),
            "step 4",
        ),
        ("wrong iss", Faults::default().wrong_iss(), "step 5"),
        ("wrong aud", Faults::default().wrong_aud(), "step 6"),
        ("expired", Faults::default().expired_id_token(), "step 7"),
    ] {
        match token_fault(f).await {
            Outcome::TokenRejected { detail } => assert!(detail.contains(step), "{name}: {detail}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rotated_signing_key_is_picked_up_from_the_jwks() {
    signed_in(&token_fault(Faults::default().rotated_key()).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn qr_flow_through_par_and_the_authorize_page() {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::Qr);
    let (w, id) = run.waiting(&sim).await;
    let uri = w.authentication_uri.clone().unwrap();
    assert!(
        uri.starts_with(&format!("{}/connect/authorize?", sim.authority())),
        "{uri}"
    );
    assert!(
        uri.contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A")
            || uri.contains("request_uri=urn:ietf:params:oauth:request_uri:")
    );
    let page = reqwest::get(&uri).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(sim.request(&id).unwrap().prompt_login);
    sim.approve(&id, Some("mette")).unwrap();
    assert_eq!(
        signed_in(&run.outcome().await).name.as_deref(),
        Some("Mette Kjær Østergaard")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mitid_error_code_reaches_the_session_as_its_own_outcome() {
    let sim = sim_with(1, 300).await;
    let mut run = start(demo_client(&sim), Who::UserId("ileya".into()));
    let (_, id) = run.waiting(&sim).await;
    sim.set_request_faults(&id, Faults::default().mitid_error("4001"))
        .unwrap();
    assert_eq!(
        run.outcome().await,
        Outcome::MitIdError {
            status: "4001".into()
        }
    );
}
