//! Token buckets against push-bombing (draft-ietf-oauth-cross-device-security §6.1.6):
//! per box, per viewer and global. A start takes one token from each of its buckets, or
//! from none: all are checked first, then all are charged, atomically.
//!
//! With Redis the buckets are shared by all instances (one Lua script per start, atomic by
//! Redis' script semantics). Without it, or while Redis is unreachable, each instance keeps
//! them in memory: the limits then hold per instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Bucket, Limits};

/// Which limit refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Box,
    Identity,
    Global,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Box, Scope::Identity, Scope::Global];
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Box => "box",
            Scope::Identity => "identity",
            Scope::Global => "global",
        }
    }
}

/// A refusal: the first scope that is empty, and how long until every bucket has a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub scope: Scope,
    pub wait: Duration,
}

/// Buckets of one start: (scope, key, rule).
pub type Want = Vec<(Scope, String, Bucket)>;

/// Memory buckets beyond this many are pruned of full ones (bounds memory under a flood of
/// distinct identities).
const MAX_MEMORY_BUCKETS: usize = 100_000;

#[derive(Default)]
pub struct MemoryBuckets {
    map: Mutex<HashMap<String, (f64, Instant)>>,
}

fn per_ms(b: &Bucket) -> f64 {
    1.0 / (b.refill_secs * 1000.0)
}

impl MemoryBuckets {
    pub fn take(&self, want: &Want) -> Result<(), Refused> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > MAX_MEMORY_BUCKETS {
            // A full bucket is the same as no bucket.
            map.retain(|_, (tokens, at)| {
                *tokens < 1.0 || now.duration_since(*at).as_secs_f64() < 3600.0
            });
        }
        let mut refused: Option<Refused> = None;
        let mut levels = Vec::with_capacity(want.len());
        for (scope, key, rule) in want {
            let cap = f64::from(rule.burst);
            let level = match map.get(key) {
                Some((tokens, at)) => {
                    let ms = now.duration_since(*at).as_secs_f64() * 1000.0;
                    (tokens + ms * per_ms(rule)).min(cap)
                }
                None => cap,
            };
            levels.push(level);
            if level < 1.0 {
                let wait = Duration::from_secs_f64(((1.0 - level) / per_ms(rule)) / 1000.0);
                refused = Some(match refused {
                    None => Refused {
                        scope: *scope,
                        wait,
                    },
                    Some(r) => Refused {
                        scope: r.scope,
                        wait: r.wait.max(wait),
                    },
                });
            }
        }
        if let Some(r) = refused {
            return Err(r);
        }
        for ((_, key, _), level) in want.iter().zip(levels) {
            map.insert(key.clone(), (level - 1.0, now));
        }
        Ok(())
    }
}

/// KEYS: the buckets. ARGV: per bucket, capacity and refill per millisecond. Returns
/// `{0, 0}` when every bucket had a token (all are charged), else `{index, wait_ms}` of the
/// first empty bucket (1-based) and the longest wait; nothing is charged then.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local levels = {}
local first = 0
local wait = 0
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local v = redis.call('HMGET', key, 'tok', 'ts')
  local tok = tonumber(v[1]) or cap
  local ts = tonumber(v[2]) or now
  if now > ts then tok = math.min(cap, tok + (now - ts) * rate) end
  levels[i] = tok
  if tok < 1 then
    if first == 0 then first = i end
    local w = math.ceil((1 - tok) / rate)
    if w > wait then wait = w end
  end
end
if first > 0 then return {first, wait} end
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tok', tostring(levels[i] - 1), 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(cap / rate) + 1000)
end
return {0, 0}
";

pub struct RedisBuckets {
    conn: redis::aio::ConnectionManager,
    script: redis::Script,
    prefix: String,
}

/// One multiplexed connection per instance, reconnected by itself after a failure.
pub async fn connect(url: &str) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let cfg = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(2))
        .set_response_timeout(Duration::from_secs(1))
        .set_number_of_retries(1);
    redis::aio::ConnectionManager::new_with_config(client, cfg).await
}

impl RedisBuckets {
    pub fn new(conn: redis::aio::ConnectionManager) -> Self {
        Self {
            conn,
            script: redis::Script::new(SCRIPT),
            prefix: "mfr:lim:".into(),
        }
    }

    pub async fn take(&self, want: &Want) -> Result<Result<(), Refused>, redis::RedisError> {
        let mut inv = self.script.prepare_invoke();
        for (_, key, rule) in want {
            inv.key(format!("{}{key}", self.prefix));
            inv.arg(rule.burst).arg(per_ms(rule));
        }
        let mut conn = self.conn.clone();
        let (first, wait_ms): (usize, u64) = inv.invoke_async(&mut conn).await?;
        if first == 0 {
            return Ok(Ok(()));
        }
        let scope = want.get(first - 1).map_or(Scope::Global, |w| w.0);
        Ok(Err(Refused {
            scope,
            wait: Duration::from_millis(wait_ms),
        }))
    }
}

/// The limiter an instance runs with.
pub struct Limiter {
    pub rules: Limits,
    redis: Option<RedisBuckets>,
    memory: MemoryBuckets,
}

impl Limiter {
    pub fn new(rules: Limits, redis: Option<RedisBuckets>) -> Self {
        Self {
            rules,
            redis,
            memory: MemoryBuckets::default(),
        }
    }

    /// The buckets of a start by `box_id` for `subject` (a keyed hash; `None` for QR, which
    /// pushes to nobody).
    pub fn want(&self, box_id: &str, subject: Option<&str>) -> Want {
        let mut w = vec![(Scope::Box, format!("box:{box_id}"), self.rules.per_box)];
        if let Some(s) = subject {
            w.push((Scope::Identity, format!("sub:{s}"), self.rules.per_identity));
        }
        w.push((Scope::Global, "global".into(), self.rules.global));
        w
    }

    /// Takes one token from every bucket in `want`, or refuses. `redis_failed` is told when
    /// the shared store failed and memory decided instead.
    pub async fn take(&self, want: &Want, redis_failed: impl FnOnce()) -> Result<(), Refused> {
        if let Some(r) = &self.redis {
            match r.take(want).await {
                Ok(answer) => return answer,
                Err(e) => {
                    tracing::error!(error = %e, "redis unreachable: limits held per instance");
                    redis_failed();
                }
            }
        }
        self.memory.take(want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Limits {
        Limits {
            per_box: Bucket {
                burst: 10,
                refill_secs: 1.0,
            },
            per_identity: Bucket {
                burst: 2,
                refill_secs: 60.0,
            },
            global: Bucket {
                burst: 100,
                refill_secs: 0.1,
            },
        }
    }

    #[tokio::test(start_paused = true)]
    async fn identity_bucket_refuses_the_third_push_and_refills_on_time() {
        let l = Limiter::new(rules(), None);
        let w = l.want("box-1", Some("viewer"));
        assert!(l.take(&w, || {}).await.is_ok());
        let w2 = l.want("box-2", Some("viewer"));
        assert!(l.take(&w2, || {}).await.is_ok());
        let r = l.take(&l.want("box-3", Some("viewer")), || {}).await;
        assert_eq!(
            r,
            Err(Refused {
                scope: Scope::Identity,
                wait: Duration::from_secs(60)
            })
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        let r = l.take(&l.want("box-3", Some("viewer")), || {}).await;
        assert_eq!(r.map_err(|r| r.wait), Err(Duration::from_secs(30)));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(
            l.take(&l.want("box-3", Some("viewer")), || {})
                .await
                .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_charges_no_bucket() {
        let l = Limiter::new(rules(), None);
        for _ in 0..2 {
            assert!(l.take(&l.want("b", Some("v")), || {}).await.is_ok());
        }
        // The box still has 8 tokens: refusals for the viewer did not spend them.
        for _ in 0..5 {
            assert!(l.take(&l.want("b", Some("v")), || {}).await.is_err());
        }
        for i in 0..8 {
            assert!(
                l.take(&l.want("b", Some(&format!("o{i}"))), || {})
                    .await
                    .is_ok()
            );
        }
        let r = l.take(&l.want("b", Some("other")), || {}).await;
        assert_eq!(r.map_err(|r| r.scope), Err(Scope::Box));
    }
}
