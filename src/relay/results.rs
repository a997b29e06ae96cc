//! Finished results kept for a short while in Redis, sealed to the box.
//!
//! The broker hands out tokens once (CIBA Core §11: later polls get `invalid_grant`). If the
//! instance that collected them dies before its answer reaches the box, the box polls
//! another instance, which gets `invalid_grant` from the broker; it then finds the result
//! here. Without Redis there is one instance and nothing to share.

use std::time::Duration;

use redis::AsyncCommands;

use super::seal::Sealer;
use crate::ciba::AuthReqId;
use crate::relay_client::wire::ResultBody;

/// Long enough for a box to retry after its relay died; short, since it holds tokens.
const KEEP: Duration = Duration::from_secs(120);

pub struct ResultCache {
    conn: redis::aio::ConnectionManager,
}

/// A stable, non-reversible id of one sign-in (128 bits of SHA-256 of the auth_req_id).
pub fn request_tag(id: &AuthReqId) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.expose().as_bytes());
    d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key(id: &AuthReqId) -> String {
    format!("mfr:res:{}", request_tag(id))
}

impl ResultCache {
    pub fn new(conn: redis::aio::ConnectionManager) -> Self {
        Self { conn }
    }

    /// Best effort: a failure only loses the fallback, never the answer being sent.
    pub async fn put(&self, sealer: &Sealer, box_id: &str, id: &AuthReqId, r: &ResultBody) {
        let Ok(json) = serde_json::to_vec(r) else {
            return;
        };
        let Ok(sealed) = sealer.seal_bytes(box_id, json) else {
            return;
        };
        let mut conn = self.conn.clone();
        let set: Result<(), _> = conn.set_ex(key(id), sealed, KEEP.as_secs()).await;
        if let Err(e) = set {
            tracing::warn!(req = %id.log_tag(), error = %e, "result not kept in redis");
        }
    }

    pub async fn get(&self, sealer: &Sealer, box_id: &str, id: &AuthReqId) -> Option<ResultBody> {
        let mut conn = self.conn.clone();
        let sealed: Option<String> = conn.get(key(id)).await.ok()?;
        let bytes = sealer.open_bytes(box_id, &sealed?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}
