//! Backchannel authentication requests and their life cycle (CIBA Core poll mode).
//!
//! Time-driven transitions (automatic decisions, expiry) are applied lazily whenever a request
//! is read, so no timer tasks outlive the server.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::faults::Faults;
use super::identities::Identity;
use super::keys::random_hex;

/// CIBA Core §11: each `slow_down` raises the required interval by five seconds.
pub(crate) const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Lifetime of a PAR `request_uri` (broker docs, "CIBA PAR OIDC integration": `expires_in: 600`).
pub(crate) const REQUEST_URI_LIFETIME: Duration = Duration::from_secs(600);

pub use super::info::{HintKind, RequestInfo, RequestStatus};

pub(crate) struct NewRequest {
    pub client_id: String,
    pub scope: String,
    pub kind: HintKind,
    pub identity: Option<Identity>,
    pub reference_text: String,
    pub action: Option<String>,
    pub ciba_nonce: Option<String>,
    pub prompt_login: bool,
    pub interval: Duration,
    pub expires_in: Duration,
    pub auto_decision: Option<(Duration, bool)>,
    pub default_identity: Option<Identity>,
}

pub(crate) struct AuthRequest {
    new: NewRequest,
    created: Instant,
    created_unix_ms: u64,
    status: RequestStatus,
    delivered: bool,
    auth_time: Option<u64>,
    transaction_id: String,
    polls: u32,
    slow_downs: u32,
    last_poll: Option<Instant>,
    first_poll_after: Option<Duration>,
    min_gap: Option<Duration>,
    cancels: u32,
    request_uri: Option<(String, Instant)>,
    pub(crate) redirect: Option<(String, Option<String>)>,
    authorize_page_views: u32,
    pub(crate) faults: Option<Faults>,
}

/// What a successful poll hands to the token minting.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub identity: Identity,
    pub client_id: String,
    pub scope: String,
    pub ciba_nonce: Option<String>,
    pub reference_text: String,
    pub transaction_id: String,
    pub auth_time: u64,
}

#[derive(Debug)]
pub(crate) enum PollOutcome {
    Pending,
    SlowDown { storm: bool },
    Denied,
    Expired,
    InvalidGrant(&'static str),
    MitIdError(String),
    Success(Box<Grant>),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecisionError {
    #[error("unknown auth_req_id")]
    NotFound,
    #[error("the request is no longer pending")]
    NotPending,
    #[error("unknown identity")]
    UnknownIdentity,
    #[error("the request belongs to another identity")]
    OtherIdentity,
    #[error("the request is not a broker_oidc (QR) request")]
    NotBrokerOidc,
}

pub(crate) use crate::fsutil::unix_now;

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Only the start of an id goes to logs: the id is the poll credential.
/// A log tag for an auth_req_id: 8 hex digits of its SHA-256, never a piece of the id itself
/// (the embedded simulator logs into the app's journal, where no auth_req_id may appear).
pub(crate) fn short_id(id: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
    d.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Finished requests kept for `/_sim/requests`. Older ones are forgotten so that a long-running
/// simulator (and the app that embeds it) does not grow without bound; a forgotten id answers
/// `invalid_grant`, exactly as a finished one does.
pub(crate) const KEPT_FINISHED: usize = 100;

#[derive(Default)]
pub(crate) struct Requests {
    by_id: HashMap<String, AuthRequest>,
    order: Vec<String>,
    by_request_uri: HashMap<String, String>,
    /// Requests pushed to each identity's app since the start, by user ID; kept after the
    /// requests themselves are pruned. Bounded by the configured identities.
    pushes: std::collections::BTreeMap<String, u64>,
}

impl Requests {
    /// Forgets the oldest finished requests beyond `KEPT_FINISHED`; pending ones always stay.
    fn prune(&mut self, now: Instant) {
        let Self {
            by_id,
            order,
            by_request_uri,
            ..
        } = self;
        let finished = |r: &AuthRequest| {
            r.status != RequestStatus::Pending || r.created + r.new.expires_in <= now
        };
        let done = order
            .iter()
            .filter(|id| by_id.get(*id).is_some_and(finished))
            .count();
        let mut excess = done.saturating_sub(KEPT_FINISHED);
        if excess == 0 {
            return;
        }
        order.retain(|id| {
            if excess == 0 || !by_id.get(id).is_some_and(finished) {
                return true;
            }
            excess -= 1;
            if let Some((uri, _)) = by_id.remove(id).and_then(|r| r.request_uri) {
                by_request_uri.remove(&uri);
            }
            false
        });
    }
}

impl AuthRequest {
    fn refresh(&mut self, now: Instant) {
        let expires_at = self.created + self.new.expires_in;
        if self.status == RequestStatus::Pending
            && let Some((after, reject)) = self.new.auto_decision
        {
            let decide_at = self.created + after;
            if decide_at <= now && decide_at < expires_at {
                if self.new.identity.is_none() {
                    self.new.identity = self.new.default_identity.clone();
                }
                self.decide(!reject);
            }
        }
        let open = matches!(
            self.status,
            RequestStatus::Pending | RequestStatus::Approved | RequestStatus::Rejected
        );
        if open && !self.delivered && now >= expires_at {
            self.status = RequestStatus::Expired;
        }
    }

    fn decide(&mut self, approve: bool) {
        self.status = if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Rejected
        };
        self.auth_time = Some(unix_now());
    }

    fn info(&self, id: &str, now: Instant) -> RequestInfo {
        RequestInfo {
            auth_req_id: id.to_owned(),
            status: self.status,
            client_id: self.new.client_id.clone(),
            login_hint_kind: self.new.kind,
            identity: self.new.identity.as_ref().map(|i| i.user_id.clone()),
            identity_name: self.new.identity.as_ref().map(|i| i.name.clone()),
            reference_text: self.new.reference_text.clone(),
            action: self.new.action.clone(),
            polls: self.polls,
            slow_downs: self.slow_downs,
            min_poll_gap_ms: self.min_gap.map(ms),
            first_poll_after_ms: self.first_poll_after.map(ms),
            interval_ms: ms(self.new.interval),
            cancelled: self.status == RequestStatus::Cancelled,
            cancels: self.cancels,
            delivered: self.delivered,
            prompt_login: self.new.prompt_login,
            authorize_page_views: self.authorize_page_views,
            created_at_unix_ms: self.created_unix_ms,
            expires_in_ms: ms((self.created + self.new.expires_in).saturating_duration_since(now)),
        }
    }
}

impl Requests {
    pub fn create(&mut self, new: NewRequest) -> String {
        // Shaped like the broker's ids: 64 uppercase hex digits and a "-1" suffix.
        let id = format!("{}-1", random_hex(32));
        let now = Instant::now();
        if let Some(identity) = &new.identity {
            let n = self.pushes.entry(identity.user_id.clone()).or_default();
            *n = n.saturating_add(1);
        }
        let created_unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, ms);
        let request = AuthRequest {
            new,
            created: now,
            created_unix_ms,
            status: RequestStatus::Pending,
            delivered: false,
            auth_time: None,
            transaction_id: uuid::Uuid::new_v4().to_string(),
            polls: 0,
            slow_downs: 0,
            last_poll: None,
            first_poll_after: None,
            min_gap: None,
            cancels: 0,
            request_uri: None,
            redirect: None,
            authorize_page_views: 0,
            faults: None,
        };
        self.by_id.insert(id.clone(), request);
        self.order.push(id.clone());
        self.prune(now);
        id
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut AuthRequest> {
        let now = Instant::now();
        let r = self.by_id.get_mut(id)?;
        r.refresh(now);
        Some(r)
    }

    pub fn list(&mut self) -> Vec<RequestInfo> {
        let now = Instant::now();
        let Self { by_id, order, .. } = self;
        order
            .iter()
            .filter_map(|id| {
                let r = by_id.get_mut(id)?;
                r.refresh(now);
                Some(r.info(id, now))
            })
            .collect()
    }

    pub fn pushes(&self) -> std::collections::BTreeMap<String, u64> {
        self.pushes.clone()
    }

    pub fn info(&mut self, id: &str) -> Option<RequestInfo> {
        let now = Instant::now();
        self.get_mut(id).map(|r| r.info(id, now))
    }

    /// `storm`: the slow_down-storm fault is active for this poll.
    pub fn poll(
        &mut self,
        id: &str,
        client_id: &str,
        storm: bool,
        mitid_error: Option<&str>,
    ) -> PollOutcome {
        let now = Instant::now();
        let Some(r) = self.get_mut(id) else {
            return PollOutcome::InvalidGrant("unknown auth_req_id");
        };
        if r.new.client_id != client_id {
            return PollOutcome::InvalidGrant("auth_req_id was issued to another client");
        }
        let gap = r.note_poll(now);
        if r.delivered {
            return PollOutcome::InvalidGrant("the result of this request was already delivered");
        }
        // Order as in Duende IdentityServer's CIBA token validation, which the broker runs on:
        // finished and expired requests first, then throttling, then the decision.
        match r.status {
            RequestStatus::Collected => {
                return PollOutcome::InvalidGrant(
                    "the result of this request was already delivered",
                );
            }
            // The broker's poll table ("Ciba integration"): invalid_grant is "Invalid request id or flow no
            // longer valid"; a cancelled flow is no longer valid, so it answers invalid_grant.
            RequestStatus::Cancelled => {
                return PollOutcome::InvalidGrant("the request was cancelled");
            }
            RequestStatus::Expired => {
                r.delivered = true;
                return PollOutcome::Expired;
            }
            _ => {}
        }
        let too_soon = gap.is_some_and(|g| g < r.new.interval);
        let storm = storm && r.status == RequestStatus::Pending;
        if storm || too_soon {
            r.slow_downs += 1;
            r.new.interval += SLOW_DOWN_STEP;
            return PollOutcome::SlowDown {
                storm: storm && !too_soon,
            };
        }
        if let (Some(code), RequestStatus::Pending) = (mitid_error, r.status) {
            r.delivered = true;
            r.status = RequestStatus::Rejected;
            return PollOutcome::MitIdError(code.to_string());
        }
        match r.status {
            RequestStatus::Collected | RequestStatus::Cancelled | RequestStatus::Expired => {
                PollOutcome::InvalidGrant("the request is no longer valid")
            }
            RequestStatus::Pending => PollOutcome::Pending,
            RequestStatus::Rejected => {
                r.delivered = true;
                PollOutcome::Denied
            }
            RequestStatus::Approved => {
                let Some(identity) = r.new.identity.clone() else {
                    return PollOutcome::InvalidGrant("approved request has no identity");
                };
                r.delivered = true;
                r.status = RequestStatus::Collected;
                PollOutcome::Success(Box::new(Grant {
                    identity,
                    client_id: r.new.client_id.clone(),
                    scope: r.new.scope.clone(),
                    ciba_nonce: r.new.ciba_nonce.clone(),
                    reference_text: r.new.reference_text.clone(),
                    transaction_id: r.transaction_id.clone(),
                    auth_time: r.auth_time.unwrap_or_else(unix_now),
                }))
            }
        }
    }

    /// A poll answered by an injected transport fault still counts as a poll (and its
    /// timing still counts for the interval), so tests see what the client really did.
    pub fn note_faulted_poll(&mut self, id: &str, client_id: &str) {
        if let Some(r) = self.get_mut(id).filter(|r| r.new.client_id == client_id) {
            r.note_poll(Instant::now());
        }
    }

    /// Approve or reject. `identity` binds an unbound (QR) request; for a bound request it
    /// must name the bound identity, if given.
    pub fn decide(
        &mut self,
        id: &str,
        approve: bool,
        identity: Option<Identity>,
    ) -> Result<(), DecisionError> {
        let r = self.get_mut(id).ok_or(DecisionError::NotFound)?;
        if r.status != RequestStatus::Pending {
            return Err(DecisionError::NotPending);
        }
        match (&r.new.identity, identity) {
            (Some(bound), Some(given)) if bound.user_id != given.user_id => {
                return Err(DecisionError::OtherIdentity);
            }
            (None, Some(given)) => r.new.identity = Some(given),
            (None, None) => r.new.identity = r.new.default_identity.clone(),
            _ => {}
        }
        if r.new.identity.is_none() {
            return Err(DecisionError::UnknownIdentity);
        }
        r.decide(approve);
        Ok(())
    }

    /// DELETE: ends a request that has not delivered its result. Returns false if unknown.
    pub fn cancel(&mut self, id: &str) -> bool {
        let Some(r) = self.get_mut(id) else {
            return false;
        };
        r.cancels += 1;
        if !r.delivered
            && matches!(
                r.status,
                RequestStatus::Pending | RequestStatus::Approved | RequestStatus::Rejected
            )
        {
            r.status = RequestStatus::Cancelled;
        }
        true
    }

    /// The PAR step of the QR flow: a fresh `request_uri` for a pending broker_oidc request.
    pub fn init_auth(
        &mut self,
        id: &str,
        redirect: Option<(String, Option<String>)>,
    ) -> Result<(String, String), DecisionError> {
        let r = self.get_mut(id).ok_or(DecisionError::NotFound)?;
        if r.new.kind != HintKind::BrokerOidc {
            return Err(DecisionError::NotBrokerOidc);
        }
        if r.status != RequestStatus::Pending {
            return Err(DecisionError::NotPending);
        }
        let uri = format!("urn:ietf:params:oauth:request_uri:{}", random_hex(32));
        r.request_uri = Some((uri.clone(), Instant::now() + REQUEST_URI_LIFETIME));
        r.redirect = redirect;
        let client_id = r.new.client_id.clone();
        self.by_request_uri.insert(uri.clone(), id.to_owned());
        Ok((uri, client_id))
    }

    /// Finds the request behind a live `request_uri` (the authorize page).
    pub fn by_request_uri(&mut self, uri: &str) -> Option<(String, &mut AuthRequest)> {
        let id = self.by_request_uri.get(uri)?.clone();
        let r = self.get_mut(&id)?;
        let live = r
            .request_uri
            .as_ref()
            .is_some_and(|(u, until)| u == uri && Instant::now() < *until);
        live.then_some((id, r))
    }
}

impl AuthRequest {
    /// Counts a poll and returns the gap since the previous one.
    fn note_poll(&mut self, now: Instant) -> Option<Duration> {
        let gap = self.last_poll.map(|t| now.saturating_duration_since(t));
        if self.polls == 0 {
            self.first_poll_after = Some(now.saturating_duration_since(self.created));
        }
        self.polls += 1;
        if let Some(g) = gap {
            self.min_gap = Some(self.min_gap.map_or(g, |m| m.min(g)));
        }
        self.last_poll = Some(now);
        gap
    }

    pub fn client_id(&self) -> &str {
        &self.new.client_id
    }
    pub fn reference_text(&self) -> &str {
        &self.new.reference_text
    }
    pub fn action(&self) -> Option<&str> {
        self.new.action.as_deref()
    }
    pub fn prompt_login(&self) -> bool {
        self.new.prompt_login
    }
    pub fn status(&self) -> RequestStatus {
        self.status
    }
    pub fn count_authorize_view(&mut self) {
        self.authorize_page_views += 1;
    }
}

#[cfg(test)]
mod prune_tests {
    use super::*;

    fn new_request() -> NewRequest {
        NewRequest {
            client_id: "c".into(),
            scope: "openid".into(),
            kind: HintKind::LoginHint,
            identity: None,
            reference_text: "t".into(),
            action: None,
            ciba_nonce: None,
            prompt_login: false,
            interval: Duration::from_secs(1),
            expires_in: Duration::from_secs(300),
            auto_decision: None,
            default_identity: None,
        }
    }

    #[test]
    fn finished_requests_are_bounded_and_pending_ones_kept() {
        let mut r = Requests::default();
        let pending = r.create(new_request());
        for _ in 0..(KEPT_FINISHED + 50) {
            let id = r.create(new_request());
            if let Some(req) = r.by_id.get_mut(&id) {
                req.status = RequestStatus::Collected;
            }
        }
        assert!(r.by_id.len() <= KEPT_FINISHED + 2, "{} kept", r.by_id.len());
        assert_eq!(r.by_id.len(), r.order.len());
        assert!(
            r.by_id.contains_key(&pending),
            "a pending request is never forgotten"
        );
    }
}
