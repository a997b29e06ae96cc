//! Drives one sign-in with tokio's clock: the only place that sleeps, polls and cancels.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::code::{render, verification_code};
use super::timing::{Answer, Schedule, Step};
use super::{Backend, Outcome, SessionSettings, Update, Waiting, Who};
use crate::ciba::{AuthReqId, CibaError, PollOutcome};

/// A running sign-in. Dropping it cancels the request (once) if it is still pending.
pub struct SessionHandle {
    cancel: watch::Sender<bool>,
    join: JoinHandle<Outcome>,
}

impl SessionHandle {
    /// Asks the session to stop. Safe to call any number of times: the OP is told once.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Waits for the outcome (after `cancel`, that includes the cancel call to the OP).
    pub async fn finished(self) -> Outcome {
        let SessionHandle { cancel, join } = self;
        let out = join.await;
        drop(cancel);
        out.unwrap_or_else(|e| Outcome::Failed {
            detail: format!("session task ended abnormally: {e}"),
        })
    }
}

/// Starts a sign-in on the current tokio runtime. `on_update` is called from that task for
/// every state change, ending with `Update::Finished`; the UI forwards it to its own thread.
pub fn spawn<B: Backend>(
    backend: Arc<B>,
    who: Who,
    settings: SessionSettings,
    mut on_update: impl FnMut(Update) + Send + 'static,
) -> SessionHandle {
    let (cancel, cancel_rx) = watch::channel(false);
    let join = tokio::spawn(async move {
        let outcome = run(&*backend, who, &settings, cancel_rx, &mut on_update).await;
        on_update(Update::Finished(outcome.clone()));
        outcome
    });
    SessionHandle { cancel, join }
}

/// True once cancel was asked for, or the handle is gone (app exit).
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn cancel_at_op<B: Backend>(backend: &B, id: &AuthReqId) -> Outcome {
    if backend.can_cancel() {
        match backend.cancel(id).await {
            Ok(()) => tracing::info!(req = %id.log_tag(), "request cancelled at the OP"),
            Err(e) => tracing::warn!(req = %id.log_tag(), error = %e, "cancel call failed"),
        }
    } else {
        tracing::info!(req = %id.log_tag(), "OP has no cancel endpoint; request left to expire");
    }
    Outcome::Cancelled
}

pub async fn run<B: Backend>(
    backend: &B,
    who: Who,
    s: &SessionSettings,
    mut cancel: watch::Receiver<bool>,
    on_update: &mut impl FnMut(Update),
) -> Outcome {
    let code = match verification_code() {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Failed {
                detail: e.to_string(),
            };
        }
    };
    let reference_text = render(&s.reference_template, &s.service_name, &code);
    let is_qr = matches!(who, Who::Qr);
    let hint = super::login_hint(who, s, &reference_text, &code);
    // Only the Flex hint carries ciba_nonce; expect back exactly what was sent.
    let nonce = hint.ciba_nonce().map(str::to_string);
    on_update(Update::Starting);

    // The start call is not interrupted: if it reached the OP we need its id to cancel.
    let start = match backend.start(&hint).await {
        Ok(r) => r,
        Err(e) => return start_failure(e),
    };
    let started = Instant::now();
    // A relay writes the reference text itself; the viewer must see what the phone shows.
    let (reference_text, code) = match start.shown {
        Some(shown) => (shown.reference_text, shown.code),
        None => (reference_text, code),
    };
    let id = start.auth_req_id;
    tracing::info!(req = %id.log_tag(), expires_in = start.expires_in, interval = ?start.interval, "CIBA request started");
    if *cancel.borrow_and_update() {
        return cancel_at_op(backend, &id).await;
    }

    let mut expires_in = Duration::from_secs(start.expires_in);
    let mut authentication_uri = None;
    if is_qr {
        let par = match start.par {
            Some(p) => Ok(p),
            None => tokio::select! {
                r = backend.init_auth(&id) => r,
                _ = cancelled(&mut cancel) => return cancel_at_op(backend, &id).await,
            },
        };
        match par {
            Ok(p) => {
                // Two clocks run: request_uri (600 s) and auth_req_id (300 s); the shorter wins.
                expires_in = expires_in.min(Duration::from_secs(p.expires_in));
                authentication_uri = Some(p.authentication_uri);
            }
            Err(e) => {
                let _ = cancel_at_op(backend, &id).await;
                return start_failure(e);
            }
        }
    }

    let mut sched = Schedule::new(
        started,
        expires_in,
        start.interval.map(Duration::from_secs),
        s.policy,
    );
    on_update(Update::Waiting(Waiting {
        reference_text: if is_qr { String::new() } else { reference_text },
        code: if is_qr { String::new() } else { code },
        left: sched.deadline().saturating_duration_since(Instant::now()),
        expires_in,
        authentication_uri,
    }));

    let mut last_trouble = String::new();
    loop {
        match sched.next(Instant::now()) {
            Step::WaitUntil(t) => tokio::select! {
                _ = sleep_until(t) => {}
                _ = cancelled(&mut cancel) => return cancel_at_op(backend, &id).await,
            },
            Step::Deadline => {
                tracing::info!(req = %id.log_tag(), "request lifetime over");
                return if sched.in_trouble() {
                    Outcome::NoConnection {
                        detail: last_trouble,
                    }
                } else {
                    Outcome::Expired
                };
            }
            // Unreachable in this loop, which awaits each poll before asking again.
            Step::AwaitAnswer => {
                return Outcome::Failed {
                    detail: "poll overlap".into(),
                };
            }
            Step::Poll => {
                sched.poll_sent();
                let answer = tokio::select! {
                    a = backend.poll(&id) => a,
                    _ = cancelled(&mut cancel) => return cancel_at_op(backend, &id).await,
                };
                let now = Instant::now();
                let was_in_trouble = sched.in_trouble();
                let keep = match answer {
                    Err(e) => {
                        last_trouble = e.to_string();
                        Some(Answer::Transient { retry_after: None })
                    }
                    Ok(PollOutcome::Pending) => Some(Answer::Pending),
                    Ok(PollOutcome::SlowDown) => {
                        tracing::warn!(req = %id.log_tag(), "OP asked us to slow down");
                        Some(Answer::SlowDown)
                    }
                    Ok(PollOutcome::Unavailable {
                        status,
                        retry_after,
                    }) => {
                        last_trouble = format!("HTTP {status} from the token endpoint");
                        Some(Answer::Transient { retry_after })
                    }
                    Ok(PollOutcome::Malformed { status }) => {
                        last_trouble =
                            format!("unreadable answer (HTTP {status}) from the token endpoint");
                        Some(Answer::Transient { retry_after: None })
                    }
                    Ok(done) => return finish(backend, &id, done, nonce.as_deref()).await,
                };
                if let Some(answer) = keep {
                    let wait = sched.answered(now, answer);
                    tracing::debug!(req = %id.log_tag(), ?answer, ?wait, "waiting");
                    if sched.in_trouble() != was_in_trouble {
                        if sched.in_trouble() {
                            tracing::warn!(req = %id.log_tag(), detail = %last_trouble, "polling trouble; retrying with backoff");
                        }
                        on_update(Update::Connection {
                            ok: !sched.in_trouble(),
                        });
                    }
                }
            }
        }
    }
}

async fn finish<B: Backend>(
    backend: &B,
    id: &AuthReqId,
    done: PollOutcome,
    nonce: Option<&str>,
) -> Outcome {
    let tag = id.log_tag();
    let outcome = match done {
        PollOutcome::Tokens(tokens) => match backend.validate(&tokens, nonce).await {
            Ok(profile) => Outcome::SignedIn(profile),
            Err(e) => {
                tracing::error!(req = %tag, error = %e, "ID token rejected");
                Outcome::TokenRejected {
                    detail: e.to_string(),
                }
            }
        },
        PollOutcome::Denied => Outcome::Rejected,
        PollOutcome::Expired => Outcome::Expired,
        PollOutcome::InvalidGrant => Outcome::StartAgain,
        PollOutcome::Refused { code, description } => Outcome::ConfigRefused {
            detail: with_description(code, description),
        },
        PollOutcome::MitId { status } => Outcome::MitIdError { status },
        PollOutcome::TransactionFailed => Outcome::Failed {
            detail: "transaction_failed".into(),
        },
        PollOutcome::Unknown { code, description } => Outcome::Failed {
            detail: with_description(code, description),
        },
        transient => Outcome::Failed {
            detail: format!("unexpected transient answer {transient:?}"),
        },
    };
    if !matches!(outcome, Outcome::SignedIn(_)) {
        tracing::info!(req = %tag, outcome = ?outcome, "sign-in ended");
    } else {
        tracing::info!(req = %tag, "signed in");
    }
    outcome
}

fn with_description(code: String, description: Option<String>) -> String {
    match description {
        Some(d) => format!("{code}: {d}"),
        None => code,
    }
}

fn start_failure(e: CibaError) -> Outcome {
    tracing::warn!(error = %e, "could not start the CIBA request");
    match &e {
        CibaError::Oauth { code, .. } if code == "unknown_user_id" => Outcome::UnknownUser,
        CibaError::RateLimited {
            retry_after_secs, ..
        } => Outcome::RateLimited {
            wait_secs: *retry_after_secs,
        },
        CibaError::Transport { .. } => Outcome::NoConnection {
            detail: e.to_string(),
        },
        CibaError::Protocol { status, .. } if *status >= 500 => Outcome::NoConnection {
            detail: e.to_string(),
        },
        _ => Outcome::ConfigRefused {
            detail: e.to_string(),
        },
    }
}
