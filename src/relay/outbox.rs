//! Webhook deliveries that outlive their instance (a transactional outbox in Redis).
//!
//! The identity to deliver is written with the sign-in's result, in the same transaction
//! (`ResultCache::keep`), under the instance that owns it. The owner delivers it and then
//! removes it. Every instance sweeps the outbox: an entry whose owner stopped its heartbeat
//! is claimed (`SET NX`, so by one instance only) and delivered again. The backend hears of
//! every sign-in at least once, and twice only if an instance dies between the backend's
//! `2xx` and removing the entry; the `request` field lets it drop that duplicate.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::atomic::Ordering::Relaxed;

use super::metrics::Metrics;
use super::results::{ResultCache, alive_key};
use super::seal::Sealer;
use super::webhook::Webhook;

const OUTBOX: &str = "mfr:outbox";
/// How long an identity waits in Redis for delivery at most (then it is dropped, counted
/// as a failure by nobody: the instance that could count it is gone).
const KEEP: Duration = Duration::from_secs(3600);
/// How often each instance looks for deliveries orphaned by a dead instance.
pub const SWEEP: Duration = Duration::from_secs(2);
/// How long a claim on an orphan lasts (longer than all attempts of one delivery).
const CLAIM: Duration = Duration::from_secs(300);
/// Orphans taken per sweep.
const BATCH: isize = 100;
/// Not a valid box ID (`tls::box_id` allows no space): an outbox entry opens for no box.
const AAD: &str = "webhook outbox";

fn body_key(tag: &str) -> String {
    format!("mfr:out:{tag}")
}

fn member(instance: &str, tag: &str) -> String {
    format!("{instance}|{tag}")
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

/// Adds the entry to a transaction that keeps the result.
pub fn add(
    pipe: &mut redis::Pipeline,
    sealer: &Sealer,
    instance: &str,
    tag: &str,
    body: &[u8],
) -> bool {
    let Ok(sealed) = sealer.seal_bytes(AAD, body.to_vec()) else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    pipe.set_ex(body_key(tag), sealed, secs(KEEP))
        .ignore()
        .zadd(OUTBOX, member(instance, tag), now)
        .ignore();
    true
}

/// Delivered (or given up on): the entry goes.
async fn done(mut conn: redis::aio::ConnectionManager, member: String, tag: String) {
    let _: redis::RedisResult<()> = redis::pipe()
        .zrem(OUTBOX, member)
        .ignore()
        .del(body_key(&tag))
        .ignore()
        .query_async(&mut conn)
        .await;
}

/// Sends the owner's own delivery, removing its entry when it is over.
pub fn deliver(cache: &ResultCache, webhook: &Arc<Webhook>, tag: String, body: Vec<u8>) {
    let conn = cache.conn();
    let m = member(cache.instance(), &tag);
    webhook.send_then(body, move |_| done(conn, m, tag));
}

/// One sweep: claims and sends the entries of instances that are no longer alive.
pub async fn sweep(
    cache: &ResultCache,
    sealer: &Sealer,
    webhook: &Arc<Webhook>,
    metrics: &Metrics,
) -> usize {
    let mut conn = cache.conn();
    let oldest = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_sub(secs(KEEP));
    let entries: redis::RedisResult<Vec<String>> = redis::pipe()
        .zrembyscore(OUTBOX, "-inf", oldest)
        .ignore()
        .zrange(OUTBOX, 0, BATCH - 1)
        .query_async::<(Vec<String>,)>(&mut conn)
        .await
        .map(|(v,)| v);
    let Ok(entries) = entries else {
        return 0;
    };
    let owners: HashSet<&str> = entries
        .iter()
        .filter_map(|m| m.split_once('|').map(|(i, _)| i))
        .filter(|i| *i != cache.instance())
        .collect();
    let owners: Vec<&str> = owners.into_iter().collect();
    if owners.is_empty() {
        return 0;
    }
    let keys: Vec<String> = owners.iter().map(|i| alive_key(i)).collect();
    let alive: redis::RedisResult<Vec<Option<u8>>> =
        redis::cmd("MGET").arg(&keys).query_async(&mut conn).await;
    let Ok(alive) = alive else {
        return 0;
    };
    let dead: HashSet<&str> = owners
        .iter()
        .zip(alive)
        .filter(|(_, a)| a.is_none())
        .map(|(i, _)| *i)
        .collect();
    let mut taken = 0;
    for m in &entries {
        let Some((owner, tag)) = m.split_once('|') else {
            continue;
        };
        if !dead.contains(owner) {
            continue;
        }
        let claimed: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(format!("mfr:claim:{tag}"))
            .arg(cache.instance())
            .arg("NX")
            .arg("EX")
            .arg(secs(CLAIM))
            .query_async(&mut conn)
            .await;
        if !matches!(claimed, Ok(Some(_))) {
            continue;
        }
        let body: redis::RedisResult<Option<String>> = redis::cmd("GET")
            .arg(body_key(tag))
            .query_async(&mut conn)
            .await;
        let (m, tag) = (m.clone(), tag.to_string());
        match body.ok().flatten().map(|b| sealer.open_bytes(AAD, &b)) {
            Some(Ok(bytes)) => {
                tracing::warn!(
                    request = %tag,
                    "delivering an identity to the backend for an instance that died"
                );
                let conn = conn.clone();
                webhook.send_then(bytes, move |_| done(conn, m, tag));
                metrics.orphans_delivered.fetch_add(1, Relaxed);
                taken += 1;
            }
            _ => done(conn.clone(), m, tag).await,
        }
    }
    taken
}
