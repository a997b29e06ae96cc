//! mitid-flex-tv: sign a viewer in on a TV with the MitID app (Signaturgruppen MitID Flex app, CIBA).
//!
//! Layering (one direction of flow): `ui` → `session` → `ciba` → HTTP. `sim` is the offline
//! broker and shares no code with the client side, so that the client is tested against an
//! independent implementation of the broker's contract.

pub mod ciba;
pub mod config;
pub mod cpr;
pub mod fsutil;
pub mod handoff;
pub mod identifier;
pub mod lang;
pub mod logging;
pub mod qr;
#[cfg(feature = "relay")]
pub mod relay;
pub mod relay_client;
pub mod sanitize;
pub mod session;
/// The offline broker simulator: in the desktop build and `mitid-flex-sim`, never in the kiosk.
#[cfg(feature = "sim")]
pub mod sim;
pub mod speech;
pub mod ui;
pub mod viewers;
pub mod wiring;
