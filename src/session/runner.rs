//! Drives one sign-in with tokio's clock: the only place that sleeps, polls and cancels.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use super::code::{render, verification_code};
use super::finish::{failure, terminal};
use super::timing::{Answer, Schedule, Step};
use super::{Backend, Outcome, SessionSettings, Started, Update, Waiting, Who};
use crate::ciba::{AuthReqId, CibaError, NonceMode, PollOutcome};

/// How long leaving may wait for the OP to hear about it: Back, SIGINT and SIGTERM end the
/// sign-in within a second, whatever is in flight.
pub const CANCEL_BUDGET: Duration = Duration::from_millis(500);

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
        let outcome = run(backend, who, &settings, cancel_rx, &mut on_update).await;
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

/// Tells the OP (within `CANCEL_BUDGET`) that the request is over, where it has a cancel
/// endpoint. The request expires at the OP anyway; this only spares the viewer's phone.
async fn cancel_at_op<B: Backend>(backend: &B, id: &AuthReqId) {
    if !backend.can_cancel() {
        tracing::info!(req = %id.log_tag(), "OP has no cancel endpoint; request left to expire");
        return;
    }
    match tokio::time::timeout(CANCEL_BUDGET, backend.cancel(id)).await {
        Ok(Ok(())) => tracing::info!(req = %id.log_tag(), "request cancelled at the OP"),
        Ok(Err(e)) => tracing::warn!(req = %id.log_tag(), error = %e, "cancel call failed"),
        Err(_) => tracing::warn!(req = %id.log_tag(), "cancel call timed out"),
    }
}

async fn cancelled_at_op<B: Backend>(backend: &B, id: &AuthReqId) -> Outcome {
    cancel_at_op(backend, id).await;
    Outcome::Cancelled
}

/// The viewer left while the start request was in flight. If its answer comes within the
/// budget, that request is cancelled now; otherwise a detached task cancels it whenever it
/// comes (as long as the runtime lives, i.e. in the TV app).
async fn abandon_start<B: Backend>(
    backend: Arc<B>,
    mut start: JoinHandle<Result<Started, CibaError>>,
) -> Outcome {
    let now = Instant::now();
    let give_up = now.checked_add(CANCEL_BUDGET).unwrap_or(now);
    match tokio::time::timeout_at(give_up, &mut start).await {
        Ok(Ok(Ok(r))) => {
            let _ = tokio::time::timeout_at(give_up, cancel_at_op(&*backend, &r.auth_req_id)).await;
        }
        Ok(_) => {}
        Err(_) => {
            tokio::spawn(async move {
                if let Ok(Ok(r)) = start.await {
                    cancel_at_op(&*backend, &r.auth_req_id).await;
                }
            });
        }
    }
    Outcome::Cancelled
}

pub async fn run<B: Backend>(
    backend: Arc<B>,
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

    // The start request runs as its own task: leaving aborts the wait at once, and an answer
    // that still comes is cancelled at the OP (`abandon_start`).
    let mut start_task = tokio::spawn({
        let backend = Arc::clone(&backend);
        async move { backend.start(&hint).await }
    });
    let start = tokio::select! {
        r = &mut start_task => match r {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return start_failure(&*backend, e).await,
            Err(e) => return Outcome::Failed { detail: format!("start task ended abnormally: {e}") },
        },
        _ = cancelled(&mut cancel) => return abandon_start(backend, start_task).await,
    };
    let backend = &*backend;
    let started = Instant::now();
    // A relay writes the reference text itself; the viewer must see what the phone shows.
    let (reference_text, code) = match start.shown {
        Some(shown) => (shown.reference_text, shown.code),
        None => (reference_text, code),
    };
    let id = start.auth_req_id;
    tracing::info!(req = %id.log_tag(), expires_in = start.expires_in, interval = ?start.interval, "CIBA request started");
    if *cancel.borrow_and_update() {
        return cancelled_at_op(backend, &id).await;
    }

    let mut expires_in = Duration::from_secs(start.expires_in);
    let mut authentication_uri = None;
    if is_qr {
        let par = match start.par {
            Some(p) => Ok(p),
            None => tokio::select! {
                r = backend.init_auth(&id) => r,
                _ = cancelled(&mut cancel) => return cancelled_at_op(backend, &id).await,
            },
        };
        match par {
            Ok(p) => {
                // Two clocks run: request_uri (600 s) and auth_req_id (300 s); the shorter wins.
                expires_in = expires_in.min(Duration::from_secs(p.expires_in));
                authentication_uri = Some(p.authentication_uri);
            }
            Err(e) => {
                cancel_at_op(backend, &id).await;
                return failure(&e);
            }
        }
    }

    let mut sched = Schedule::new(
        started,
        expires_in,
        start.interval.map(Duration::from_secs),
        s.policy,
    );
    // Cut short by our cap or by the QR link's shorter life: alive at the OP past our end.
    let cut_short = sched.lifetime() < Duration::from_secs(start.expires_in);
    on_update(Update::Waiting(Waiting {
        reference_text: if is_qr { String::new() } else { reference_text },
        code: if is_qr { String::new() } else { code },
        left: sched.deadline().saturating_duration_since(Instant::now()),
        expires_in: sched.lifetime(),
        authentication_uri,
    }));

    let mut last_trouble = String::new();
    loop {
        match sched.next(Instant::now()) {
            Step::WaitUntil(t) => tokio::select! {
                _ = sleep_until(t) => {}
                _ = cancelled(&mut cancel) => return cancelled_at_op(backend, &id).await,
            },
            Step::Deadline => {
                tracing::info!(req = %id.log_tag(), "request lifetime over");
                if cut_short {
                    cancel_at_op(backend, &id).await;
                }
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
                    _ = cancelled(&mut cancel) => return cancelled_at_op(backend, &id).await,
                    // A poll in flight at the deadline is dropped: the viewer's countdown is over.
                    _ = sleep_until(sched.deadline()) => {
                        sched.poll_dropped();
                        continue;
                    }
                };
                let now = Instant::now();
                let was_in_trouble = sched.in_trouble();
                let keep = match answer {
                    Err(e @ CibaError::TooLarge { .. }) => {
                        cancel_at_op(backend, &id).await;
                        return failure(&e);
                    }
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
                    Ok(done) => {
                        return finish(
                            backend,
                            &id,
                            done,
                            nonce.as_deref(),
                            s.ciba_nonce,
                            &mut cancel,
                        )
                        .await;
                    }
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
    nonce_mode: NonceMode,
    cancel: &mut watch::Receiver<bool>,
) -> Outcome {
    let tag = id.log_tag();
    let outcome = match done {
        // Validation may fetch the JWKS and userinfo: leaving aborts that too.
        PollOutcome::Tokens(tokens) => tokio::select! {
            r = backend.validate(&tokens, nonce, nonce_mode) => match r {
                Ok(profile) => Outcome::SignedIn(profile),
                Err(e) => {
                    tracing::error!(req = %tag, error = %e, "sign-in not completed");
                    failure(&e)
                }
            },
            _ = cancelled(cancel) => Outcome::Cancelled,
        },
        other => terminal(other),
    };
    if matches!(outcome, Outcome::SignedIn(_)) {
        tracing::info!(req = %tag, "signed in");
    } else {
        tracing::info!(req = %tag, outcome = ?outcome, "sign-in ended");
    }
    outcome
}

/// The start request failed. A malformed answer that still named a request is cancelled at
/// the OP: the phone may already show it.
async fn start_failure<B: Backend>(backend: &B, e: CibaError) -> Outcome {
    tracing::warn!(error = %e, "could not start the CIBA request");
    if let CibaError::BadStart {
        auth_req_id: Some(id),
        ..
    } = &e
    {
        cancel_at_op(backend, id).await;
    }
    failure(&e)
}
