//! The session against a backend that answers at the limits, on tokio's paused clock: exact
//! waits for capped lifetimes, dropped polls at the deadline, leaving during the start
//! request, malformed start answers and outages while validating.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod session_support;

use std::sync::Arc;
use std::time::Duration;

use mitid_flex_tv::ciba::{AuthReqId, CibaError};
use mitid_flex_tv::session::runner::CANCEL_BUDGET;
use mitid_flex_tv::session::timing::MAX_LIFETIME;
use mitid_flex_tv::session::{self, Outcome, Update};
use session_support::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_lifetime_beyond_the_cap_ends_at_the_cap_and_is_cancelled() {
    let fake = Fake::new(u64::MAX, Some(u64::MAX), vec![]);
    let started = Instant::now();
    let (outcome, updates) = run(&fake, uuid_subject()).await;
    assert_eq!(outcome, Outcome::Expired);
    assert_eq!(Instant::now() - started, MAX_LIFETIME);
    // An interval longer than the lifetime: no poll at all.
    assert!(fake.poll_times().is_empty());
    let log = fake.log.lock().unwrap();
    assert_eq!(
        log.cancels, 1,
        "the request cut short is cancelled at the OP"
    );
    assert_eq!(log.cancel_times, vec![started + MAX_LIFETIME]);
    let waiting = updates.iter().find_map(|u| match u {
        Update::Waiting(w) => Some(w.clone()),
        _ => None,
    });
    assert_eq!(waiting.map(|w| w.expires_in), Some(MAX_LIFETIME));
}

#[tokio::test(start_paused = true)]
async fn interval_zero_polls_every_second() {
    let fake = Fake::new(
        u64::MAX,
        Some(0),
        vec![Reply::Ok(pending), Reply::Ok(denied)],
    );
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert_eq!(outcome, Outcome::Rejected);
    assert_eq!(fake.poll_times(), vec![1.0, 2.0]);
}

/// Starts a sign-in whose start answer takes `start_delay`, leaves 1 ms in, and returns how
/// long the session took to end after that.
async fn leave_during_start(start_delay: Duration) -> (Arc<Fake>, Duration) {
    let fake = Arc::new(Fake {
        start_delay,
        ..Fake::plain(300, Some(3), vec![])
    });
    let handle = session::spawn(fake.clone(), uuid_subject(), settings(), |_| {});
    tokio::time::sleep(Duration::from_millis(1)).await;
    let left = Instant::now();
    handle.cancel();
    assert_eq!(handle.finished().await, Outcome::Cancelled);
    (fake, Instant::now() - left)
}

#[tokio::test(start_paused = true)]
async fn leaving_during_a_hanging_start_ends_at_once_and_cancels_a_late_answer() {
    // The answer comes within the cancel budget: that request is cancelled before the end.
    let (fake, took) = leave_during_start(CANCEL_BUDGET / 2).await;
    assert_eq!(took, CANCEL_BUDGET / 2 - Duration::from_millis(1));
    assert_eq!(fake.log.lock().unwrap().cancels, 1);

    // The answer comes much later: the session ends after the budget; the request is still
    // cancelled when its answer arrives.
    let (fake, took) = leave_during_start(Duration::from_secs(30)).await;
    assert_eq!(took, CANCEL_BUDGET);
    assert_eq!(fake.log.lock().unwrap().cancels, 0);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(fake.log.lock().unwrap().cancels, 1);
    assert!(fake.poll_times().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_malformed_start_answer_fails_and_is_cancelled() {
    let fake = Arc::new(Fake {
        start_error: Some(|| CibaError::BadStart {
            status: 200,
            detail: "interval is not a whole number".into(),
            auth_req_id: Some(AuthReqId::new("req-1")),
        }),
        ..Fake::plain(300, Some(3), vec![])
    });
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(fake.log.lock().unwrap().cancels, 1);
}

#[tokio::test(start_paused = true)]
async fn a_jwks_outage_while_validating_is_a_network_failure() {
    let fake = Arc::new(Fake {
        validate_error: Some(|| CibaError::Transport {
            endpoint: "jwks",
            detail: "connection refused".into(),
        }),
        ..Fake::plain(300, Some(3), vec![Reply::Ok(tokens)])
    });
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert!(
        matches!(outcome, Outcome::NoConnection { .. }),
        "{outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_oversized_poll_answer_fails_and_is_cancelled() {
    fn too_large() -> CibaError {
        CibaError::TooLarge {
            endpoint: "token",
            cap: 65_536,
        }
    }
    let fake = Fake::new(300, Some(3), vec![Reply::Err(too_large)]);
    let (outcome, _) = run(&fake, uuid_subject()).await;
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(fake.log.lock().unwrap().cancels, 1);
    assert_eq!(fake.poll_times(), vec![3.0]);
}
