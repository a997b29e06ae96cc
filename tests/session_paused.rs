//! The poll loop's waits, asserted exactly on tokio's paused clock against a scripted
//! backend (CIBA Core §7.3, §11).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mitid_flex_tv::ciba::{
    AuthReqId, CibaError, FlexSubject, IdToken, LoginHint, ParResponse, PollOutcome, Profile,
    StartResponse, TokenResponse,
};
use mitid_flex_tv::session::{self, Backend, Outcome, SessionSettings, Update, WaitPolicy, Who};
use tokio::time::Instant;

/// One scripted poll answer, or a transport failure, after an optional delay.
enum Reply {
    Ok(fn() -> PollOutcome),
    Transport,
    Slow(Duration, fn() -> PollOutcome),
}

#[derive(Default)]
struct Log {
    polls: Vec<Instant>,
    cancels: u32,
    in_flight: u32,
    max_in_flight: u32,
    hints: Vec<LoginHint>,
}

struct Fake {
    t0: Instant,
    expires_in: u64,
    interval: Option<u64>,
    start_error: Option<fn() -> CibaError>,
    replies: Mutex<VecDeque<Reply>>,
    log: Mutex<Log>,
}

impl Fake {
    fn new(expires_in: u64, interval: Option<u64>, replies: Vec<Reply>) -> Arc<Self> {
        Arc::new(Self {
            t0: Instant::now(),
            expires_in,
            interval,
            start_error: None,
            replies: Mutex::new(replies.into()),
            log: Mutex::new(Log::default()),
        })
    }

    /// Seconds after start of each poll.
    fn poll_times(&self) -> Vec<f64> {
        let log = self.log.lock().unwrap();
        log.polls
            .iter()
            .map(|t| (*t - self.t0).as_secs_f64())
            .collect()
    }
}

fn pending() -> PollOutcome {
    PollOutcome::Pending
}
fn slow_down() -> PollOutcome {
    PollOutcome::SlowDown
}
fn denied() -> PollOutcome {
    PollOutcome::Denied
}
fn invalid_grant() -> PollOutcome {
    PollOutcome::InvalidGrant
}
fn unavailable() -> PollOutcome {
    PollOutcome::Unavailable {
        status: 503,
        retry_after: None,
    }
}
fn unavailable_retry_after_20() -> PollOutcome {
    PollOutcome::Unavailable {
        status: 503,
        retry_after: Some(Duration::from_secs(20)),
    }
}
fn malformed() -> PollOutcome {
    PollOutcome::Malformed { status: 200 }
}
fn tokens() -> PollOutcome {
    PollOutcome::Tokens(TokenResponse {
        id_token: IdToken::new("h.p.s"),
        access_token: None,
        expires_in: Some(3600),
        scope: None,
    })
}

impl Backend for Fake {
    async fn start(&self, hint: &LoginHint) -> Result<session::Started, CibaError> {
        self.log.lock().unwrap().hints.push(hint.clone());
        if let Some(e) = self.start_error {
            return Err(e());
        }
        Ok(StartResponse {
            auth_req_id: AuthReqId::new("req-1"),
            expires_in: self.expires_in,
            interval: self.interval,
        }
        .into())
    }

    async fn poll(&self, _id: &AuthReqId) -> Result<PollOutcome, CibaError> {
        {
            let mut log = self.log.lock().unwrap();
            log.polls.push(Instant::now());
            log.in_flight += 1;
            log.max_in_flight = log.max_in_flight.max(log.in_flight);
        }
        let reply = self.replies.lock().unwrap().pop_front();
        let out = match reply {
            Some(Reply::Ok(f)) => Ok(f()),
            Some(Reply::Slow(d, f)) => {
                tokio::time::sleep(d).await;
                Ok(f())
            }
            Some(Reply::Transport) => Err(CibaError::Transport {
                endpoint: "token",
                detail: "connection refused".into(),
            }),
            None => Ok(PollOutcome::Pending),
        };
        self.log.lock().unwrap().in_flight -= 1;
        out
    }

    async fn cancel(&self, _id: &AuthReqId) -> Result<(), CibaError> {
        self.log.lock().unwrap().cancels += 1;
        Ok(())
    }

    async fn init_auth(&self, _id: &AuthReqId) -> Result<ParResponse, CibaError> {
        Ok(ParResponse {
            authentication_uri: "https://op.example/op/connect/authorize?request_uri=x".into(),
            expires_in: 600,
        })
    }

    async fn validate(
        &self,
        _t: &TokenResponse,
        _nonce: Option<&str>,
    ) -> Result<Profile, CibaError> {
        Ok(Profile {
            sub: "sub-1".into(),
            name: Some("Ileya Jensen".into()),
            uuid: None,
            date_of_birth: None,
            age: None,
            issuer: "https://op.example/op".into(),
            reference_text: None,
        })
    }

    fn can_cancel(&self) -> bool {
        true
    }
}

fn settings() -> SessionSettings {
    SessionSettings {
        service_name: "Stue-TV".into(),
        reference_template: "Log på {service} · kode {code}".into(),
        action: None,
        client_ip: "192.0.2.10".parse().unwrap(),
        ciba_nonce: true,
        binding_message_is_code: true,
        policy: WaitPolicy::default(),
    }
}

fn uuid_subject() -> Who {
    Who::Flex(FlexSubject::Uuid(
        "8a9856e0-f12d-4217-b320-c8a076be9320".into(),
    ))
}

async fn run(fake: &Arc<Fake>, who: Who) -> (Outcome, Vec<Update>) {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let sink = updates.clone();
    let handle = session::spawn(fake.clone(), who, settings(), move |u| {
        sink.lock().unwrap().push(u)
    });
    let outcome = handle.finished().await;
    let updates = updates.lock().unwrap().clone();
    (outcome, updates)
}

#[tokio::test(start_paused = true)]
async fn first_poll_waits_the_interval_and_then_every_interval() {
    let fake = Fake::new(
        300,
        Some(3),
        vec![Reply::Ok(pending), Reply::Ok(pending), Reply::Ok(tokens)],
    );
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert!(
        matches!(outcome, Outcome::SignedIn(ref p) if p.name.as_deref() == Some("Ileya Jensen"))
    );
    assert_eq!(fake.poll_times(), vec![3.0, 6.0, 9.0]);
}

#[tokio::test(start_paused = true)]
async fn slow_down_adds_five_seconds_and_it_persists() {
    let replies = vec![
        Reply::Ok(slow_down),
        Reply::Ok(pending),
        Reply::Ok(slow_down),
        Reply::Ok(denied),
    ];
    let fake = Fake::new(300, Some(3), replies);
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert_eq!(outcome, Outcome::Rejected);
    // 3, then +8, +8, then +13.
    assert_eq!(fake.poll_times(), vec![3.0, 11.0, 19.0, 32.0]);
}

#[tokio::test(start_paused = true)]
async fn missing_interval_means_five_seconds() {
    let fake = Fake::new(300, None, vec![Reply::Ok(pending), Reply::Ok(denied)]);
    run(&fake, uuid_subject()).await;
    assert_eq!(fake.poll_times(), vec![5.0, 10.0]);
}

#[tokio::test(start_paused = true)]
async fn transport_5xx_and_non_json_back_off_then_reset_on_a_good_answer() {
    let replies = vec![
        Reply::Transport,
        Reply::Ok(unavailable),
        Reply::Ok(malformed),
        Reply::Ok(pending),
        Reply::Ok(tokens),
    ];
    let fake = Fake::new(300, Some(3), replies);
    let (outcome, updates) = run(&fake, uuid_subject()).await;
    assert!(matches!(outcome, Outcome::SignedIn(_)));
    // Waits: 3 (first), 6, 12, 24 (backoff), then 3 again after the pending answer.
    assert_eq!(fake.poll_times(), vec![3.0, 9.0, 21.0, 45.0, 48.0]);
    let conn: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Connection { ok } => Some(*ok),
            _ => None,
        })
        .collect();
    assert_eq!(
        conn,
        vec![false, true],
        "one 'trouble' and one 'recovered' notice"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_clamped() {
    let fake = Fake::new(
        300,
        Some(3),
        vec![Reply::Ok(unavailable_retry_after_20), Reply::Ok(denied)],
    );
    run(&fake, uuid_subject()).await;
    assert_eq!(fake.poll_times(), vec![3.0, 23.0]);
}

#[tokio::test(start_paused = true)]
async fn deadline_ends_the_wait_without_a_new_request() {
    let fake = Fake::new(10, Some(3), vec![]);
    let started = Instant::now();
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert_eq!(outcome, Outcome::Expired);
    assert_eq!(fake.poll_times(), vec![3.0, 6.0, 9.0]);
    assert_eq!(Instant::now() - started, Duration::from_secs(10));
    assert_eq!(
        fake.log.lock().unwrap().hints.len(),
        1,
        "never re-pushes by itself"
    );
    assert_eq!(
        fake.log.lock().unwrap().cancels,
        0,
        "an expired request needs no cancel"
    );
}

#[tokio::test(start_paused = true)]
async fn connection_trouble_until_the_deadline_is_no_connection() {
    let fake = Fake::new(20, Some(3), (0..10).map(|_| Reply::Transport).collect());
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert!(
        matches!(outcome, Outcome::NoConnection { ref detail } if detail.contains("connection refused"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_poll_is_never_overlapped() {
    let replies = vec![
        Reply::Slow(Duration::from_secs(10), pending),
        Reply::Slow(Duration::from_secs(10), pending),
        Reply::Ok(tokens),
    ];
    let fake = Fake::new(300, Some(3), replies);
    run(&fake, uuid_subject()).await;
    assert_eq!(fake.log.lock().unwrap().max_in_flight, 1);
    // The interval counts from each answer, not from each request.
    assert_eq!(fake.poll_times(), vec![3.0, 16.0, 29.0]);
}

#[tokio::test(start_paused = true)]
async fn lost_success_means_start_again() {
    let fake = Fake::new(
        300,
        Some(3),
        vec![Reply::Ok(pending), Reply::Ok(invalid_grant)],
    );
    let (outcome, _) = run(&fake, uuid_subject()).await;
    // Its exit status (6) is asserted with `signin`'s exit codes in src/cli/mod.rs.
    assert_eq!(outcome, Outcome::StartAgain);
}

#[tokio::test(start_paused = true)]
async fn cancel_while_waiting_calls_the_op_exactly_once() {
    let fake = Fake::new(300, Some(3), vec![]);
    let handle = session::spawn(fake.clone(), uuid_subject(), settings(), |_| {});
    tokio::time::sleep(Duration::from_millis(7500)).await;
    handle.cancel();
    handle.cancel();
    let outcome = handle.finished().await;
    assert_eq!(outcome, Outcome::Cancelled);
    assert_eq!(fake.log.lock().unwrap().cancels, 1);
    assert_eq!(
        fake.poll_times(),
        vec![3.0, 6.0],
        "no poll after the cancel"
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(fake.poll_times().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn cancel_during_an_in_flight_poll_stops_it_and_cancels_once() {
    let fake = Fake::new(
        300,
        Some(3),
        vec![Reply::Slow(Duration::from_secs(30), pending)],
    );
    let handle = session::spawn(fake.clone(), uuid_subject(), settings(), |_| {});
    tokio::time::sleep(Duration::from_secs(4)).await;
    handle.cancel();
    assert_eq!(handle.finished().await, Outcome::Cancelled);
    assert_eq!(fake.log.lock().unwrap().cancels, 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_cancels_too() {
    let fake = Fake::new(300, Some(3), vec![]);
    let handle = session::spawn(fake.clone(), uuid_subject(), settings(), |_| {});
    tokio::time::sleep(Duration::from_secs(4)).await;
    drop(handle);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.log.lock().unwrap().cancels, 1);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(fake.poll_times().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_cancel_after_a_final_answer() {
    let fake = Fake::new(300, Some(3), vec![Reply::Ok(denied)]);
    let handle = session::spawn(fake.clone(), uuid_subject(), settings(), |_| {});
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(handle.is_finished());
    handle.cancel();
    assert_eq!(handle.finished().await, Outcome::Rejected);
    assert_eq!(fake.log.lock().unwrap().cancels, 0);
}

#[tokio::test(start_paused = true)]
async fn waiting_update_carries_the_reference_text_sent_to_the_phone() {
    let fake = Fake::new(300, Some(3), vec![Reply::Ok(denied)]);
    let (_, updates) = run(&fake, uuid_subject()).await;
    let waiting = updates
        .iter()
        .find_map(|u| match u {
            Update::Waiting(w) => Some(w.clone()),
            _ => None,
        })
        .expect("a Waiting update");
    assert_eq!(
        waiting.reference_text,
        format!("Log på Stue-TV · kode {}", waiting.code)
    );
    assert_eq!(waiting.expires_in, Duration::from_secs(300));
    let hints = &fake.log.lock().unwrap().hints;
    let LoginHint::Flex(flex) = &hints[0] else {
        panic!("{hints:?}")
    };
    assert_eq!(flex.reference_text, waiting.reference_text);
    assert!(flex.ciba_nonce.is_some());
    assert!(matches!(
        updates.last(),
        Some(Update::Finished(Outcome::Rejected))
    ));
}

#[tokio::test(start_paused = true)]
async fn user_id_sends_the_code_as_binding_message() {
    let fake = Fake::new(300, Some(3), vec![Reply::Ok(denied)]);
    let (_, updates) = run(&fake, Who::UserId("ileya".into())).await;
    let code = updates
        .iter()
        .find_map(|u| match u {
            Update::Waiting(w) => Some(w.code.clone()),
            _ => None,
        })
        .unwrap();
    let hints = &fake.log.lock().unwrap().hints;
    assert_eq!(
        hints[0],
        LoginHint::Standard {
            user_id: "ileya".into(),
            binding_message: Some(code)
        }
    );
}

#[tokio::test(start_paused = true)]
async fn qr_flow_shows_the_uri_and_uses_the_shorter_lifetime() {
    let fake = Fake::new(300, Some(3), vec![Reply::Ok(denied)]);
    let (_, updates) = run(&fake, Who::Qr).await;
    let w = updates
        .iter()
        .find_map(|u| match u {
            Update::Waiting(w) => Some(w.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        w.authentication_uri.as_deref(),
        Some("https://op.example/op/connect/authorize?request_uri=x")
    );
    assert_eq!(w.expires_in, Duration::from_secs(300));
    assert!(w.reference_text.is_empty());
    let hints = &fake.log.lock().unwrap().hints;
    assert_eq!(
        hints[0],
        LoginHint::BrokerOidc {
            idp_values: "mitid".into(),
            prompt_login: true
        }
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_user_at_start_is_its_own_outcome() {
    let mut fake = Fake::new(300, Some(3), vec![]);
    Arc::get_mut(&mut fake).unwrap().start_error = Some(|| CibaError::Oauth {
        endpoint: "ciba",
        status: 400,
        code: "unknown_user_id".into(),
        description: None,
    });
    let (outcome, _) = run(&fake, uuid_subject()).await;
    // Its exit status (5) is asserted with `signin`'s exit codes in src/cli/mod.rs.
    assert_eq!(outcome, Outcome::UnknownUser);
    assert!(fake.poll_times().is_empty());
}
