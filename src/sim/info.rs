//! What `GET /_sim/requests` (and `SimHandle::requests`) reports about each request.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
    Collected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// MitID Flex app: `login_hint_token` with `uuid`/`cpr`.
    LoginHintToken,
    /// Standard CIBA `login_hint` (user ID).
    LoginHint,
    /// CIBA + PAR (`flow_type: broker_oidc`), the QR flow.
    BrokerOidc,
}

/// One request as `GET /_sim/requests` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestInfo {
    pub auth_req_id: String,
    pub status: RequestStatus,
    pub client_id: String,
    pub login_hint_kind: HintKind,
    /// User ID of the identity, once known (QR requests: after the authorize page).
    pub identity: Option<String>,
    pub identity_name: Option<String>,
    pub reference_text: String,
    pub action: Option<String>,
    pub polls: u32,
    pub slow_downs: u32,
    /// Smallest gap between two polls of this request.
    pub min_poll_gap_ms: Option<u64>,
    /// Gap between the ciba response and the first poll.
    pub first_poll_after_ms: Option<u64>,
    /// The currently required poll interval (grows with each `slow_down`).
    pub interval_ms: u64,
    pub cancelled: bool,
    /// Number of DELETE calls for this request.
    pub cancels: u32,
    /// A final answer (tokens or an error) was returned once; later polls get `invalid_grant`.
    pub delivered: bool,
    pub prompt_login: bool,
    pub authorize_page_views: u32,
    pub created_at_unix_ms: u64,
    pub expires_in_ms: u64,
}
