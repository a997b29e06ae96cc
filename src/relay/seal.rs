//! Request handles: the broker's `auth_req_id` and what a poll needs, sealed with
//! AES-256-GCM under a key all instances share. No instance keeps state per request, so any
//! instance serves any poll or cancel, and one can die without losing a sign-in.
//!
//! The box ID is the additional authenticated data (RFC 5116 §2.1): a handle opens only for
//! the box whose certificate started it, so a leaked handle is worthless to anyone else.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::ciba::AuthReqId;
use crate::relay_client::wire::MAX_HANDLE_LEN;

const AAD_PREFIX: &[u8] = b"mitid-flex-relay/v1 box=";

/// What a handle carries. Short field names keep handles short.
#[derive(Serialize, Deserialize)]
pub struct Sealed {
    /// The broker's auth_req_id.
    #[serde(rename = "a")]
    pub auth_req_id: String,
    /// The `ciba_nonce` the ID token must echo.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Unix seconds after which the request is over.
    #[serde(rename = "d")]
    pub deadline: u64,
    /// Keyed hash of the viewer (empty for QR), for the audit line.
    #[serde(rename = "s")]
    pub subject: String,
    /// Unix milliseconds of the start, for the outcome's latency.
    #[serde(rename = "t")]
    pub started_ms: u64,
    /// The reference text the viewer approved, for the webhook.
    #[serde(rename = "r", default)]
    pub reference_text: String,
    /// The verification code inside `reference_text`: a restart after a relay crash shows the
    /// viewer the same one.
    #[serde(rename = "c", default)]
    pub code: String,
}

impl Sealed {
    pub fn auth_req_id(&self) -> AuthReqId {
        AuthReqId::new(self.auth_req_id.clone())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the system random generator failed")]
    Rng,
    #[error("handle does not open for this box")]
    Open,
}

pub struct Sealer {
    key: LessSafeKey,
    subject: hmac::Key,
    rng: SystemRandom,
}

/// Separate keys for separate purposes, derived from the one configured secret
/// (HMAC-SHA256 as the PRF, as in RFC 5869's expand step with a fixed label).
fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master), label);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

impl Sealer {
    pub fn new(master: &[u8; 32]) -> Result<Self, SealError> {
        let aead = derive(master, b"mitid-flex-relay handle key");
        let key = UnboundKey::new(&AES_256_GCM, &aead).map_err(|_| SealError::Rng)?;
        Ok(Self {
            key: LessSafeKey::new(key),
            subject: hmac::Key::new(
                hmac::HMAC_SHA256,
                &derive(master, b"mitid-flex-relay subject key"),
            ),
            rng: SystemRandom::new(),
        })
    }

    fn aad(box_id: &str) -> Vec<u8> {
        [AAD_PREFIX, box_id.as_bytes()].concat()
    }

    pub fn seal(&self, box_id: &str, s: &Sealed) -> Result<String, SealError> {
        self.seal_bytes(box_id, serde_json::to_vec(s).map_err(|_| SealError::Open)?)
    }

    pub fn open(&self, box_id: &str, handle: &str) -> Result<Sealed, SealError> {
        if handle.len() > MAX_HANDLE_LEN {
            return Err(SealError::Open);
        }
        serde_json::from_slice(&self.open_bytes(box_id, handle)?).map_err(|_| SealError::Open)
    }

    /// Any bytes, sealed the same way (a finished result kept for a lost answer).
    pub fn seal_bytes(&self, box_id: &str, mut data: Vec<u8>) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Rng)?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(Self::aad(box_id).as_slice()),
                &mut data,
            )
            .map_err(|_| SealError::Open)?;
        let mut out = nonce.to_vec();
        out.extend(data);
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open_bytes(&self, box_id: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Open)?;
        if raw.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let mut data = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).map_err(|_| SealError::Open)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(Self::aad(box_id).as_slice()), &mut data)
            .map_err(|_| SealError::Open)?;
        let n = plain.len();
        data.truncate(n);
        Ok(data)
    }

    /// A keyed hash of a viewer identifier: the same viewer gives the same key on every
    /// instance, and a log reader cannot try all 10^10 CPR numbers without the key.
    pub fn subject_tag(&self, kind: &str, id: &str) -> String {
        let tag = hmac::sign(&self.subject, format!("{kind}:{id}").as_bytes());
        tag.as_ref()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sealed {
        Sealed {
            auth_req_id: "0A2179A15B686CB-1".into(),
            nonce: Some("n".into()),
            deadline: 1_800_000_000,
            subject: "abc".into(),
            started_ms: 1,
            reference_text: "Log på TV · kode 1234".into(),
            code: "1234".into(),
        }
    }

    #[test]
    fn a_handle_opens_only_for_its_box_and_key() {
        let a = Sealer::new(&[7; 32]).unwrap();
        let h = a.seal("box-1", &sample()).unwrap();
        assert!(!h.contains("0A2179"));
        let back = a.open("box-1", &h).unwrap();
        assert_eq!(back.auth_req_id, "0A2179A15B686CB-1");
        assert_eq!(back.reference_text, "Log på TV · kode 1234");
        assert_eq!(a.open("box-2", &h).err(), Some(SealError::Open));
        let other = Sealer::new(&[8; 32]).unwrap();
        assert_eq!(other.open("box-1", &h).err(), Some(SealError::Open));
        // Another instance with the same key opens it.
        assert!(Sealer::new(&[7; 32]).unwrap().open("box-1", &h).is_ok());
    }

    #[test]
    fn tampered_short_or_huge_handles_are_refused() {
        let a = Sealer::new(&[7; 32]).unwrap();
        let h = a.seal("b", &sample()).unwrap();
        let mut bytes = h.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(a.open("b", &tampered).is_err());
        assert!(a.open("b", "").is_err());
        assert!(a.open("b", "!!").is_err());
        assert!(a.open("b", &"A".repeat(5000)).is_err());
    }

    #[test]
    fn subject_tags_are_stable_and_keyed() {
        let a = Sealer::new(&[7; 32]).unwrap();
        let b = Sealer::new(&[9; 32]).unwrap();
        assert_eq!(
            a.subject_tag("cpr", "0804361234"),
            a.subject_tag("cpr", "0804361234")
        );
        assert_ne!(
            a.subject_tag("cpr", "0804361234"),
            b.subject_tag("cpr", "0804361234")
        );
        assert!(!a.subject_tag("cpr", "0804361234").contains("0804"));
        assert_eq!(a.subject_tag("uuid", "x").len(), 24);
    }
}
