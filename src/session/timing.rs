//! The wait rules of the poll loop, as pure data: every decision takes `now` from the
//! caller, so tests drive it with any clock (CIBA Core §7.3 and §11).

use std::time::Duration;

use tokio::time::Instant;

/// CIBA Core §7.3: without `interval` in the start response, poll every 5 s.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// CIBA Core §11: `slow_down` raises the interval by 5 s for this and all later polls.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Ceiling of the backoff after transport errors, 5xx and non-JSON answers.
    pub backoff_cap: Duration,
    /// `Retry-After` beyond this is not honoured: the viewer is watching a countdown.
    pub max_retry_after: Duration,
    /// An interval below this from the OP is raised to it (protects the OP and the box).
    pub min_interval: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        Self {
            backoff_cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            min_interval: Duration::from_secs(1),
        }
    }
}

/// What the caller must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Sleep until this instant, then ask again.
    WaitUntil(Instant),
    /// Send exactly one poll now, then report its answer.
    Poll,
    /// A poll is in flight: wait for its answer (never overlap polls).
    AwaitAnswer,
    /// The request's lifetime is over.
    Deadline,
}

/// How a poll answer affects the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A well-formed "keep waiting" (`authorization_pending`).
    Pending,
    /// `slow_down`.
    SlowDown,
    /// Transport error, 5xx, 429 or a body we could not read.
    Transient { retry_after: Option<Duration> },
}

#[derive(Clone, Debug)]
pub struct Schedule {
    policy: WaitPolicy,
    interval: Duration,
    deadline: Instant,
    next_poll: Instant,
    transient_streak: u32,
    in_flight: bool,
}

impl Schedule {
    /// `started` is when the start response arrived; the first poll waits one interval.
    pub fn new(
        started: Instant,
        expires_in: Duration,
        interval: Option<Duration>,
        policy: WaitPolicy,
    ) -> Self {
        let interval = interval
            .unwrap_or(DEFAULT_INTERVAL)
            .max(policy.min_interval);
        Self {
            policy,
            interval,
            deadline: started + expires_in,
            next_poll: started + interval,
            transient_streak: 0,
            in_flight: false,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True while the last answers were transport trouble (for a "no connection" hint).
    pub fn in_trouble(&self) -> bool {
        self.transient_streak > 0
    }

    pub fn next(&self, now: Instant) -> Step {
        if self.in_flight {
            Step::AwaitAnswer
        } else if now >= self.deadline {
            Step::Deadline
        } else if now >= self.next_poll {
            Step::Poll
        } else {
            Step::WaitUntil(self.next_poll.min(self.deadline))
        }
    }

    pub fn poll_sent(&mut self) {
        debug_assert!(!self.in_flight, "overlapping polls");
        self.in_flight = true;
    }

    /// Records an answer that keeps the request alive; terminal answers need no schedule.
    /// Returns the wait chosen, which is always at least the interval.
    pub fn answered(&mut self, now: Instant, answer: Answer) -> Duration {
        self.in_flight = false;
        let wait = match answer {
            Answer::Pending => {
                self.transient_streak = 0;
                self.interval
            }
            Answer::SlowDown => {
                self.transient_streak = 0;
                self.interval += SLOW_DOWN_STEP;
                self.interval
            }
            Answer::Transient { retry_after } => {
                self.transient_streak = self.transient_streak.saturating_add(1);
                let cap = self.policy.backoff_cap.max(self.interval);
                let factor = 1u32 << self.transient_streak.min(16);
                let backoff = self.interval.saturating_mul(factor).min(cap);
                let server = retry_after
                    .map(|r| {
                        r.clamp(
                            self.interval,
                            self.policy.max_retry_after.max(self.interval),
                        )
                    })
                    .unwrap_or_default();
                backoff.max(server)
            }
        };
        self.next_poll = now + wait;
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn sched(t0: Instant) -> Schedule {
        Schedule::new(t0, secs(300), Some(secs(3)), WaitPolicy::default())
    }

    #[test]
    fn first_poll_waits_one_interval() {
        let t0 = Instant::now();
        let s = sched(t0);
        assert_eq!(s.next(t0), Step::WaitUntil(t0 + secs(3)));
        assert_eq!(
            s.next(t0 + Duration::from_millis(2999)),
            Step::WaitUntil(t0 + secs(3))
        );
        assert_eq!(s.next(t0 + secs(3)), Step::Poll);
    }

    #[test]
    fn never_two_polls_in_flight() {
        let t0 = Instant::now();
        let mut s = sched(t0);
        s.poll_sent();
        assert_eq!(s.next(t0 + secs(100)), Step::AwaitAnswer);
    }

    #[test]
    fn slow_down_adds_five_seconds_for_good() {
        let t0 = Instant::now();
        let mut s = sched(t0);
        s.poll_sent();
        assert_eq!(s.answered(t0 + secs(3), Answer::SlowDown), secs(8));
        s.poll_sent();
        assert_eq!(s.answered(t0 + secs(11), Answer::Pending), secs(8));
        s.poll_sent();
        assert_eq!(s.answered(t0 + secs(19), Answer::SlowDown), secs(13));
    }

    #[test]
    fn transient_backoff_doubles_is_capped_and_resets() {
        let t0 = Instant::now();
        let mut s = sched(t0);
        let waits: Vec<u64> = (0..6)
            .map(|_| {
                s.poll_sent();
                s.answered(t0, Answer::Transient { retry_after: None })
                    .as_secs()
            })
            .collect();
        assert_eq!(waits, vec![6, 12, 24, 30, 30, 30]);
        assert!(s.in_trouble());
        s.poll_sent();
        assert_eq!(s.answered(t0, Answer::Pending), secs(3));
        assert!(!s.in_trouble());
    }

    #[test]
    fn backoff_is_never_shorter_than_a_long_interval() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, secs(300), Some(secs(45)), WaitPolicy::default());
        s.poll_sent();
        assert_eq!(
            s.answered(t0, Answer::Transient { retry_after: None }),
            secs(45)
        );
    }

    #[test]
    fn retry_after_is_clamped() {
        let t0 = Instant::now();
        let mut s = sched(t0);
        s.poll_sent();
        let huge = Some(secs(3600));
        assert_eq!(
            s.answered(t0, Answer::Transient { retry_after: huge }),
            secs(60)
        );
        s.poll_sent();
        // A Retry-After below the interval does not shorten the wait either.
        s.answered(t0, Answer::Pending);
        s.poll_sent();
        assert_eq!(
            s.answered(
                t0,
                Answer::Transient {
                    retry_after: Some(secs(0))
                }
            ),
            secs(6)
        );
    }

    #[test]
    fn deadline_is_start_plus_expires_in_and_caps_waits() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, secs(10), Some(secs(3)), WaitPolicy::default());
        s.poll_sent();
        s.answered(t0 + secs(9), Answer::Pending);
        assert_eq!(s.next(t0 + secs(9)), Step::WaitUntil(t0 + secs(10)));
        assert_eq!(s.next(t0 + secs(10)), Step::Deadline);
        assert_eq!(s.deadline(), t0 + secs(10));
    }

    #[test]
    fn missing_interval_means_five_seconds_and_tiny_ones_are_raised() {
        let t0 = Instant::now();
        let s = Schedule::new(t0, secs(60), None, WaitPolicy::default());
        assert_eq!(s.interval(), secs(5));
        let s = Schedule::new(t0, secs(60), Some(Duration::ZERO), WaitPolicy::default());
        assert_eq!(s.interval(), secs(1));
    }
}
