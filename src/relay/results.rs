//! What instances share in Redis so that killing one loses no sign-in.
//!
//! The broker hands out a final answer once (CIBA Core §11: later polls get `invalid_grant`).
//! Between the broker's answer and the box receiving it, the answer lives only in the
//! instance that asked. So:
//! - before asking the broker, an instance writes a *ticket* (it and the time) under the
//!   request;
//! - a final answer is written to Redis, sealed to the box, before anything else is done
//!   with it (webhook, audit, the reply), and its ticket is cleared in the same transaction;
//! - an instance whose broker poll gets `invalid_grant` looks here: a kept answer is
//!   replayed; a ticket of a live instance means the answer is on its way (the box polls
//!   again); a ticket of a dead instance (no heartbeat) means the answer died with it, and
//!   the box is told so, typed, and starts again.
//!
//! Without Redis there is one instance and nothing to share.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::seal::Sealer;
use crate::ciba::AuthReqId;
use crate::relay_client::wire::ResultBody;

/// Long enough for a box to retry after its relay died; short, since it holds tokens.
const KEEP: Duration = Duration::from_secs(120);
/// An instance renews its heartbeat this often; it counts as dead once it is `ALIVE_TTL` old.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
const ALIVE_TTL: Duration = Duration::from_secs(3);
/// A live instance's ticket older than this is a poll that will never store its answer
/// (longer than any broker call may take: the broker client's timeout is 10 s).
const STUCK: Duration = Duration::from_secs(30);

/// A stable, non-reversible id of one sign-in (128 bits of SHA-256 of the auth_req_id).
pub fn request_tag(id: &AuthReqId) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.expose().as_bytes());
    d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn result_key(tag: &str) -> String {
    format!("mfr:res:{tag}")
}

pub fn tickets_key(tag: &str) -> String {
    format!("mfr:fly:{tag}")
}

pub fn alive_key(instance: &str) -> String {
    format!("mfr:alive:{instance}")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The tickets of one request: `<instance>/<sequence>` and the unix milliseconds written.
type Tickets = Vec<(String, u64)>;

/// One broker poll in flight: `<instance>/<sequence>`.
pub struct Ticket {
    tag: String,
    field: String,
}

/// What became of an answer the broker will not give again. No `Debug`: it can hold tokens.
pub enum Recovery {
    /// Kept by the instance that collected it: replay it.
    Kept(ResultBody),
    /// A live instance is collecting it right now: poll again.
    Collecting,
    /// Collected by an instance that died before keeping it: start again.
    Lost,
    /// No instance of ours asked for it: the broker's own `invalid_grant`.
    Unknown,
}

pub struct ResultCache {
    conn: redis::aio::ConnectionManager,
    instance: String,
    seq: AtomicU64,
}

impl ResultCache {
    pub fn new(conn: redis::aio::ConnectionManager) -> Self {
        Self {
            conn,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            seq: AtomicU64::new(0),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn conn(&self) -> redis::aio::ConnectionManager {
        self.conn.clone()
    }

    /// Marks this instance alive for `ALIVE_TTL`; called every `HEARTBEAT`.
    pub async fn heartbeat(&self) -> redis::RedisResult<()> {
        let ttl = u64::try_from(ALIVE_TTL.as_millis()).unwrap_or(u64::MAX);
        redis::cmd("SET")
            .arg(alive_key(&self.instance))
            .arg(1)
            .arg("PX")
            .arg(ttl)
            .query_async(&mut self.conn())
            .await
    }

    /// At an orderly stop, after the last request finished: nothing of ours is in flight.
    pub async fn retire(&self) {
        let _: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(alive_key(&self.instance))
            .query_async(&mut self.conn())
            .await;
    }

    /// Before asking the broker: a ticket says this instance may be holding the answer.
    /// `None` if Redis failed (the poll goes on; only the crash fallback is lost).
    pub async fn begin(&self, id: &AuthReqId) -> Option<Ticket> {
        let tag = request_tag(id);
        let field = format!("{}/{}", self.instance, self.seq.fetch_add(1, Relaxed));
        let keep = KEEP.as_secs();
        let set: redis::RedisResult<()> = redis::pipe()
            .atomic()
            .hset(tickets_key(&tag), &field, now_ms())
            .ignore()
            .expire(tickets_key(&tag), i64::try_from(keep).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut self.conn())
            .await;
        match set {
            Ok(()) => Some(Ticket { tag, field }),
            Err(e) => {
                tracing::warn!(req = %id.log_tag(), error = %e, "poll ticket not written to redis");
                None
            }
        }
    }

    /// The broker's answer was not final: nothing to keep. In the background: the box's
    /// answer does not wait for it.
    pub fn end(&self, ticket: Ticket) {
        let mut conn = self.conn();
        tokio::spawn(async move {
            let _: redis::RedisResult<()> = redis::cmd("HDEL")
                .arg(tickets_key(&ticket.tag))
                .arg(&ticket.field)
                .query_async(&mut conn)
                .await;
        });
    }

    /// Keeps a final answer, sealed to the box, clears the ticket and, with `identity`,
    /// queues the webhook delivery in the outbox: one transaction. Returns whether it is kept
    /// (a failure loses only the crash fallback).
    pub async fn keep(
        &self,
        sealer: &Sealer,
        box_id: &str,
        id: &AuthReqId,
        ticket: Option<Ticket>,
        r: &ResultBody,
        identity: Option<&[u8]>,
    ) -> bool {
        let Ok(json) = serde_json::to_vec(r) else {
            return false;
        };
        let Ok(sealed) = sealer.seal_bytes(box_id, json) else {
            return false;
        };
        let tag = request_tag(id);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set_ex(result_key(&tag), sealed, KEEP.as_secs())
            .ignore();
        if let Some(t) = &ticket {
            pipe.hdel(tickets_key(&t.tag), &t.field).ignore();
        }
        if let Some(body) = identity
            && !super::outbox::add(&mut pipe, sealer, &self.instance, &tag, body)
        {
            return false;
        }
        let set: redis::RedisResult<()> = pipe.query_async(&mut self.conn()).await;
        if let Err(e) = &set {
            tracing::warn!(req = %id.log_tag(), error = %e, "result not kept in redis");
        }
        set.is_ok()
    }

    /// After the broker answered `invalid_grant` to the poll holding `own`.
    pub async fn recover(
        &self,
        sealer: &Sealer,
        box_id: &str,
        id: &AuthReqId,
        own: Option<Ticket>,
    ) -> Recovery {
        let tag = request_tag(id);
        let read: redis::RedisResult<(Option<String>, Tickets)> = redis::pipe()
            .get(result_key(&tag))
            .hgetall(tickets_key(&tag))
            .query_async(&mut self.conn())
            .await;
        let own_field = own.as_ref().map(|t| t.field.clone()).unwrap_or_default();
        if let Some(t) = own {
            self.end(t);
        }
        let (kept, tickets) = match read {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(req = %id.log_tag(), error = %e, "redis unreachable: cannot tell a lost answer");
                return Recovery::Unknown;
            }
        };
        if let Some(sealed) = kept {
            return match sealer
                .open_bytes(box_id, &sealed)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                Some(body) => Recovery::Kept(body),
                None => Recovery::Unknown,
            };
        }
        // Every ticket but this poll's own; one of this instance's earlier polls (still
        // waiting for the broker) counts like any other live instance's.
        let others: Vec<(&str, u64)> = tickets
            .iter()
            .filter(|(field, _)| *field != own_field)
            .filter_map(|(field, at)| Some((field.split_once('/')?.0, *at)))
            .collect();
        if others.is_empty() {
            return Recovery::Unknown;
        }
        let stuck_before = now_ms().saturating_sub(u64::try_from(STUCK.as_millis()).unwrap_or(0));
        let recent: Vec<&str> = others
            .iter()
            .filter(|(_, at)| *at >= stuck_before)
            .map(|(instance, _)| *instance)
            .collect();
        if !recent.is_empty() && self.any_alive(&recent).await {
            return Recovery::Collecting;
        }
        Recovery::Lost
    }

    /// Whether any of these instances renewed its heartbeat within `ALIVE_TTL`. A Redis
    /// failure counts as alive: the box polls again rather than starting over.
    pub async fn any_alive(&self, instances: &[&str]) -> bool {
        let keys: Vec<String> = instances.iter().map(|i| alive_key(i)).collect();
        let alive: redis::RedisResult<Vec<Option<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.conn())
            .await;
        alive.map_or(true, |v| v.iter().any(Option::is_some))
    }
}
