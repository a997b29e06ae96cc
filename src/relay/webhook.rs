//! Tells the operator's backend who signed in: a signed JSON POST, retried with exponential
//! backoff in the background. The viewer's answer never waits for it; a delivery that fails
//! every attempt is logged and counted.
//!
//! Signature: `X-Relay-Signature: t=<unix seconds>,sha256=<hex HMAC-SHA256(key, "<t>." + body)>`
//! (the timestamp is signed too, so the backend can refuse replays of old deliveries).
//! `X-Relay-Delivery` is a UUID that stays the same across retries, for de-duplication.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use tokio::sync::Semaphore;

use super::metrics::Metrics;

pub const SIGNATURE_HEADER: &str = "x-relay-signature";
pub const DELIVERY_HEADER: &str = "x-relay-delivery";
/// Deliveries in flight (each with its retries) before new ones are dropped and counted.
const MAX_PENDING: usize = 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct Webhook {
    http: reqwest::Client,
    url: String,
    key: hmac::Key,
    max_attempts: u32,
    pending: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// The header value for `body` signed at unix time `t`.
pub fn signature(key: &hmac::Key, t: u64, body: &[u8]) -> String {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},sha256={hex}")
}

/// Wait before attempt `n + 1` (n ≥ 1): 0.5 s, 1 s, 2 s … at most 30 s.
pub fn backoff(n: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF)
}

impl Webhook {
    pub fn new(
        url: String,
        key: &[u8],
        max_attempts: u32,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("mitid-flex-relay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            url,
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
            max_attempts: max_attempts.clamp(1, 20),
            pending: Arc::new(Semaphore::new(MAX_PENDING)),
            metrics,
        })
    }

    /// Queues one delivery and returns at once.
    pub fn send(self: &Arc<Self>, body: Vec<u8>) {
        self.send_then(body, |_| async {});
    }

    /// Queues one delivery and returns at once; `then` runs when it is over (`true`:
    /// delivered), or at once with `false` if too many are pending.
    pub fn send_then<F, Fut>(self: &Arc<Self>, bytes: Vec<u8>, then: F)
    where
        F: FnOnce(bool) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            self.metrics.webhook_dropped.fetch_add(1, Relaxed);
            tracing::error!("webhook: {MAX_PENDING} deliveries pending; identity not sent");
            tokio::spawn(then(false));
            return;
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let delivered = this.deliver(bytes).await;
            then(delivered).await;
            drop(permit);
        });
    }

    /// Waits (at most `limit`) until no delivery is pending: at shutdown, so that a stopped
    /// instance does not drop identities it has not sent yet.
    pub async fn drain(&self, limit: Duration) -> bool {
        let all = u32::try_from(MAX_PENDING).unwrap_or(u32::MAX);
        tokio::time::timeout(limit, self.pending.acquire_many(all))
            .await
            .is_ok_and(|p| p.is_ok())
    }

    async fn deliver(&self, body: Vec<u8>) -> bool {
        let delivery = uuid::Uuid::new_v4().to_string();
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let result = self
                .http
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, signature(&self.key, t, &body))
                .header(DELIVERY_HEADER, &delivery)
                .body(body.clone())
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => {
                    self.metrics.webhook_delivered.fetch_add(1, Relaxed);
                    return true;
                }
                Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
                Err(e) => last = e.without_url().to_string(),
            }
            if attempt < self.max_attempts {
                self.metrics.webhook_retries.fetch_add(1, Relaxed);
                tracing::warn!(%delivery, attempt, error = %last, "webhook attempt failed; retrying");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        self.metrics.webhook_failures.fetch_add(1, Relaxed);
        tracing::error!(%delivery, attempts = self.max_attempts, error = %last, "webhook delivery failed; identity not received by the backend");
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(10), MAX_BACKOFF);
        assert_eq!(backoff(64), MAX_BACKOFF);
    }

    #[test]
    fn signature_covers_time_and_body() {
        let k = |raw: &[u8]| hmac::Key::new(hmac::HMAC_SHA256, raw);
        let a = signature(&k(b"k"), 1, b"{}");
        assert!(a.starts_with("t=1,sha256="));
        assert_eq!(a.len(), "t=1,sha256=".len() + 64);
        assert_ne!(a, signature(&k(b"k"), 2, b"{}"));
        assert_ne!(a, signature(&k(b"k"), 1, b"{ }"));
        assert_ne!(a, signature(&k(b"j"), 1, b"{}"));
    }
}
