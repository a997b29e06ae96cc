//! Prometheus counters and the broker latency histogram, in the text exposition format
//! (Prometheus "Exposition formats", version 0.0.4). Fixed label sets, so plain atomics do.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::limits::Scope;
use crate::relay_client::wire::WireOutcome;

/// What a start asked for (the `kind` label).
pub const KINDS: [&str; 4] = ["uuid", "cpr", "user_id", "qr"];
/// Upper bounds of the broker latency buckets, in seconds.
const BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
pub struct Metrics {
    starts: [AtomicU64; KINDS.len()],
    outcomes: [AtomicU64; WireOutcome::ALL.len()],
    cancelled: AtomicU64,
    limited: [AtomicU64; Scope::ALL.len()],
    broker_buckets: [AtomicU64; BOUNDS.len()],
    broker_count: AtomicU64,
    broker_sum_us: AtomicU64,
    pub webhook_failures: AtomicU64,
    pub webhook_retries: AtomicU64,
    pub webhook_dropped: AtomicU64,
    pub webhook_delivered: AtomicU64,
    pub redis_errors: AtomicU64,
    pub handshake_failures: AtomicU64,
    pub denied_boxes: AtomicU64,
    pub restarts: AtomicU64,
    pub orphans_delivered: AtomicU64,
}

impl Metrics {
    pub fn start(&self, kind: &str) {
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            self.starts[i].fetch_add(1, Relaxed);
        }
    }

    pub fn outcome(&self, o: WireOutcome) {
        if let Some(i) = WireOutcome::ALL.iter().position(|x| *x == o) {
            self.outcomes[i].fetch_add(1, Relaxed);
        }
    }

    pub fn cancelled(&self) {
        self.cancelled.fetch_add(1, Relaxed);
    }

    pub fn limited(&self, s: Scope) {
        if let Some(i) = Scope::ALL.iter().position(|x| *x == s) {
            self.limited[i].fetch_add(1, Relaxed);
        }
    }

    pub fn broker_latency(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, b) in BOUNDS.iter().enumerate() {
            if secs <= *b {
                self.broker_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.broker_count.fetch_add(1, Relaxed);
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.broker_sum_us.fetch_add(us, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut o = String::new();
        let counter = |o: &mut String, name: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        counter(
            &mut o,
            "relay_starts_total",
            "Sign-ins started at the broker.",
        );
        for (k, c) in KINDS.iter().zip(&self.starts) {
            let _ = writeln!(o, "relay_starts_total{{kind=\"{k}\"}} {}", c.load(Relaxed));
        }
        counter(
            &mut o,
            "relay_outcomes_total",
            "Sign-ins ended, by outcome.",
        );
        for (k, c) in WireOutcome::ALL.iter().zip(&self.outcomes) {
            let _ = writeln!(
                o,
                "relay_outcomes_total{{outcome=\"{}\"}} {}",
                k.as_str(),
                c.load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "relay_outcomes_total{{outcome=\"cancelled\"}} {}",
            self.cancelled.load(Relaxed)
        );
        counter(
            &mut o,
            "relay_rate_limited_total",
            "Starts refused with 429, by the limit that refused.",
        );
        for (s, c) in Scope::ALL.iter().zip(&self.limited) {
            let _ = writeln!(
                o,
                "relay_rate_limited_total{{scope=\"{}\"}} {}",
                s.as_str(),
                c.load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# HELP relay_broker_request_seconds Time of each broker call (start, poll, cancel, init-auth).\n# TYPE relay_broker_request_seconds histogram"
        );
        for (b, c) in BOUNDS.iter().zip(&self.broker_buckets) {
            let _ = writeln!(
                o,
                "relay_broker_request_seconds_bucket{{le=\"{b}\"}} {}",
                c.load(Relaxed)
            );
        }
        let count = self.broker_count.load(Relaxed);
        let _ = writeln!(
            o,
            "relay_broker_request_seconds_bucket{{le=\"+Inf\"}} {count}\nrelay_broker_request_seconds_sum {}\nrelay_broker_request_seconds_count {count}",
            self.broker_sum_us.load(Relaxed) as f64 / 1e6
        );
        for (name, help, v) in [
            (
                "relay_webhook_failures_total",
                "Identities the operator's backend never received (all attempts failed).",
                &self.webhook_failures,
            ),
            (
                "relay_webhook_retries_total",
                "Webhook attempts that failed and were retried.",
                &self.webhook_retries,
            ),
            (
                "relay_webhook_dropped_total",
                "Identities not sent because too many deliveries were pending.",
                &self.webhook_dropped,
            ),
            (
                "relay_webhook_delivered_total",
                "Identities the operator's backend accepted.",
                &self.webhook_delivered,
            ),
            (
                "relay_redis_errors_total",
                "Limit checks decided in memory because Redis failed.",
                &self.redis_errors,
            ),
            (
                "relay_tls_handshake_failures_total",
                "Connections refused in the TLS handshake (no or foreign certificate).",
                &self.handshake_failures,
            ),
            (
                "relay_denied_box_requests_total",
                "Requests refused because the box is on the deny list.",
                &self.denied_boxes,
            ),
            (
                "relay_restarts_total",
                "Sign-ins started again (one more push) after their answer was lost in a relay crash.",
                &self.restarts,
            ),
            (
                "relay_webhook_orphans_total",
                "Identities this instance delivered for an instance that died.",
                &self.orphans_delivered,
            ),
        ] {
            counter(&mut o, name, help);
            let _ = writeln!(o, "{name} {}", v.load(Relaxed));
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.broker_latency(Duration::from_millis(3));
        m.broker_latency(Duration::from_millis(30));
        m.start("cpr");
        m.limited(Scope::Identity);
        let text = m.render();
        assert!(text.contains("relay_broker_request_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("relay_broker_request_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("relay_broker_request_seconds_count 2\n"));
        assert!(text.contains("relay_starts_total{kind=\"cpr\"} 1\n"));
        assert!(text.contains("relay_rate_limited_total{scope=\"identity\"} 1\n"));
    }
}
