//! A scripted backend for the session's paused-clock tests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mitid_flex_tv::ciba::{
    AuthReqId, CibaError, FlexSubject, IdToken, LoginHint, NonceMode, ParResponse, PollOutcome,
    Profile, StartResponse, TokenResponse,
};
use mitid_flex_tv::session::{
    self, Backend, Outcome, SessionSettings, Started, Update, WaitPolicy, Who,
};
use tokio::time::Instant;

/// One scripted poll answer, or a transport failure, after an optional delay.
pub enum Reply {
    Ok(fn() -> PollOutcome),
    Transport,
    Err(fn() -> CibaError),
    Slow(Duration, fn() -> PollOutcome),
}

#[derive(Default)]
pub struct Log {
    pub polls: Vec<Instant>,
    pub cancels: u32,
    /// When each cancel call came.
    pub cancel_times: Vec<Instant>,
    pub in_flight: u32,
    pub max_in_flight: u32,
    pub hints: Vec<LoginHint>,
}

pub struct Fake {
    pub t0: Instant,
    pub expires_in: u64,
    pub interval: Option<u64>,
    pub start_error: Option<fn() -> CibaError>,
    /// The start answer takes this long.
    pub start_delay: Duration,
    /// Validation fails with this (e.g. a JWKS outage).
    pub validate_error: Option<fn() -> CibaError>,
    pub replies: Mutex<VecDeque<Reply>>,
    pub log: Mutex<Log>,
}

impl Fake {
    pub fn plain(expires_in: u64, interval: Option<u64>, replies: Vec<Reply>) -> Self {
        Self {
            t0: Instant::now(),
            expires_in,
            interval,
            start_error: None,
            start_delay: Duration::ZERO,
            validate_error: None,
            replies: Mutex::new(replies.into()),
            log: Mutex::new(Log::default()),
        }
    }

    pub fn new(expires_in: u64, interval: Option<u64>, replies: Vec<Reply>) -> Arc<Self> {
        Arc::new(Self::plain(expires_in, interval, replies))
    }

    /// Seconds after start of each poll.
    pub fn poll_times(&self) -> Vec<f64> {
        let log = self.log.lock().unwrap();
        log.polls
            .iter()
            .map(|t| (*t - self.t0).as_secs_f64())
            .collect()
    }
}

pub fn pending() -> PollOutcome {
    PollOutcome::Pending
}
pub fn slow_down() -> PollOutcome {
    PollOutcome::SlowDown
}
pub fn denied() -> PollOutcome {
    PollOutcome::Denied
}
pub fn invalid_grant() -> PollOutcome {
    PollOutcome::InvalidGrant
}
pub fn unavailable() -> PollOutcome {
    PollOutcome::Unavailable {
        status: 503,
        retry_after: None,
    }
}
pub fn unavailable_retry_after_20() -> PollOutcome {
    PollOutcome::Unavailable {
        status: 503,
        retry_after: Some(Duration::from_secs(20)),
    }
}
pub fn malformed() -> PollOutcome {
    PollOutcome::Malformed { status: 200 }
}
pub fn tokens() -> PollOutcome {
    PollOutcome::Tokens(TokenResponse {
        id_token: IdToken::new("h.p.s"),
        access_token: None,
        ciba_nonce: None,
    })
}

impl Backend for Fake {
    async fn start(&self, hint: &LoginHint) -> Result<Started, CibaError> {
        self.log.lock().unwrap().hints.push(hint.clone());
        tokio::time::sleep(self.start_delay).await;
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
            Some(Reply::Err(e)) => Err(e()),
            None => Ok(PollOutcome::Pending),
        };
        self.log.lock().unwrap().in_flight -= 1;
        out
    }

    async fn cancel(&self, _id: &AuthReqId) -> Result<(), CibaError> {
        let mut log = self.log.lock().unwrap();
        log.cancels += 1;
        log.cancel_times.push(Instant::now());
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
        _mode: NonceMode,
    ) -> Result<Profile, CibaError> {
        if let Some(e) = self.validate_error {
            return Err(e());
        }
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

pub fn settings() -> SessionSettings {
    SessionSettings {
        service_name: "Stue-TV".into(),
        reference_template: "Log på {service} · kode {code}".into(),
        action: None,
        client_ip: "192.0.2.10".parse().unwrap(),
        ciba_nonce: NonceMode::Verify,
        binding_message_is_code: true,
        policy: WaitPolicy::default(),
    }
}

pub fn uuid_subject() -> Who {
    Who::Flex(FlexSubject::Uuid(
        "8a9856e0-f12d-4217-b320-c8a076be9320".into(),
    ))
}

pub async fn run(fake: &Arc<Fake>, who: Who) -> (Outcome, Vec<Update>) {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let sink = updates.clone();
    let handle = session::spawn(fake.clone(), who, settings(), move |u| {
        sink.lock().unwrap().push(u)
    });
    let outcome = handle.finished().await;
    let updates = updates.lock().unwrap().clone();
    (outcome, updates)
}
