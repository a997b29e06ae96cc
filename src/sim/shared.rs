//! State shared by all handlers of one simulator run.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use super::faults::Faults;
use super::identities::{Identity, SimClient};
use super::keys::SigningKey;
use super::options::{SimOptions, TokenShape};
use super::state::{DecisionError, Requests};
use super::tokens::KeyRing;
use super::{SimError, run_blocking};

pub(crate) struct Shared {
    pub base_url: String,
    pub issuer: String,
    pub public_authority: String,
    pub phone_url: String,
    pub interval: Duration,
    pub expires_in: Duration,
    pub auto_decision: Option<(Duration, bool)>,
    pub identities: Vec<Identity>,
    pub clients: Vec<SimClient>,
    pub shape: TokenShape,
    requests: Mutex<Requests>,
    faults: Mutex<Faults>,
    keys: Mutex<KeyRing>,
    /// Access token → (exp, userinfo claims).
    access_tokens: Mutex<HashMap<String, (u64, Value)>>,
    /// Authorize-page browser sessions: cookie value → user ID.
    sessions: Mutex<HashMap<String, String>>,
}

/// A poisoned lock only means another handler panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(addr: SocketAddr, options: SimOptions, key: Arc<SigningKey>) -> Self {
        let host = if addr.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        let base_url = format!("http://{host}");
        let public_base = options
            .public_base_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| base_url.clone());
        Self {
            issuer: format!("{base_url}/op"),
            public_authority: format!("{public_base}/op"),
            phone_url: format!("{public_base}/phone"),
            base_url,
            interval: options.interval,
            expires_in: options.expires_in,
            auto_decision: options.auto_decision(),
            identities: options.identities,
            clients: options.clients,
            shape: options.shape,
            requests: Mutex::new(Requests::default()),
            faults: Mutex::new(options.faults),
            keys: Mutex::new(KeyRing::new(key)),
            access_tokens: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub fn requests(&self) -> MutexGuard<'_, Requests> {
        lock(&self.requests)
    }
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
    pub fn keys(&self) -> MutexGuard<'_, KeyRing> {
        lock(&self.keys)
    }
    pub fn active_kid(&self) -> String {
        self.keys().active.kid().to_owned()
    }

    pub fn identity(&self, user_id: &str) -> Option<&Identity> {
        self.identities.iter().find(|i| i.user_id == user_id)
    }

    pub fn default_identity(&self) -> Option<&Identity> {
        self.identities.first()
    }

    pub fn decide(
        &self,
        id: &str,
        approve: bool,
        user_id: Option<&str>,
    ) -> Result<(), DecisionError> {
        let identity = match user_id {
            Some(u) => Some(
                self.identity(u)
                    .cloned()
                    .ok_or(DecisionError::UnknownIdentity)?,
            ),
            None => None,
        };
        self.requests().decide(id, approve, identity)
    }

    pub fn set_request_faults(&self, id: &str, faults: Faults) -> Result<(), DecisionError> {
        let mut requests = self.requests();
        let r = requests.get_mut(id).ok_or(DecisionError::NotFound)?;
        r.faults = Some(faults);
        Ok(())
    }

    /// The faults that apply to a response concerning `req_id` (or none): the request's own
    /// while they last, else the run-wide ones. The first element says whose they are.
    pub fn effective_faults(&self, req_id: Option<&str>) -> Option<(Option<String>, Faults)> {
        if let Some(id) = req_id
            && let Some(f) = self.requests().get_mut(id).and_then(|r| r.faults.clone())
            && !f.is_empty()
        {
            return Some((Some(id.to_owned()), f));
        }
        let global = self.faults().clone();
        (!global.is_empty()).then_some((None, global))
    }

    /// Counts one response affected by the faults of `source`.
    pub fn consume_faults(&self, source: &Option<String>) {
        match source {
            Some(id) => {
                if let Some(f) = self.requests().get_mut(id).and_then(|r| r.faults.as_mut()) {
                    f.consume();
                }
            }
            None => self.faults().consume(),
        }
    }

    /// Makes sure the keys a fault needs exist before tokens are minted.
    pub async fn prepare_keys(&self, faults: &Faults) -> Result<(), SimError> {
        if faults.rotated_key {
            self.rotate_key().await?;
        }
        if faults.wrong_signature && self.keys().rogue.is_none() {
            let rogue = Arc::new(run_blocking(SigningKey::generate).await?);
            self.keys().rogue.get_or_insert(rogue);
        }
        Ok(())
    }

    pub async fn rotate_key(&self) -> Result<String, SimError> {
        let key = Arc::new(run_blocking(SigningKey::generate).await?);
        let kid = key.kid().to_owned();
        self.keys().rotate_to(key);
        tracing::info!(kid = %kid, "simulator rotated its signing key");
        Ok(kid)
    }

    /// Keeps a token for `/connect/userinfo` until it expires. Expired tokens are dropped on
    /// every store, and at most `KEPT_ACCESS_TOKENS` (the newest) are kept, so that a
    /// long-running simulator, or the app embedding it, does not grow with every sign-in.
    pub fn store_access_token(&self, token: String, exp: u64, userinfo: Value) {
        const KEPT_ACCESS_TOKENS: usize = 100;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut tokens = lock(&self.access_tokens);
        tokens.retain(|_, (e, _)| *e > now);
        if tokens.len() >= KEPT_ACCESS_TOKENS {
            let mut by_exp: Vec<(u64, String)> =
                tokens.iter().map(|(t, (e, _))| (*e, t.clone())).collect();
            by_exp.sort_unstable();
            for (_, t) in by_exp.iter().take(tokens.len() + 1 - KEPT_ACCESS_TOKENS) {
                tokens.remove(t);
            }
        }
        tokens.insert(token, (exp, userinfo));
    }

    pub fn userinfo(&self, token: &str) -> Option<(u64, Value)> {
        lock(&self.access_tokens).get(token).cloned()
    }

    pub fn session_user(&self, cookie: &str) -> Option<String> {
        lock(&self.sessions).get(cookie).cloned()
    }

    pub fn new_session(&self, user_id: &str) -> String {
        let value = super::keys::random_hex(16);
        lock(&self.sessions).insert(value.clone(), user_id.to_owned());
        value
    }
}
