//! The TV app's user interface: Slint screens (`ui/*.slint`) driven from Rust.
//!
//! - [`journey::Journey`] is the whole UI state, one variant per screen; `screens/<name>.rs`
//!   sits beside `ui/screens/<name>.slint` and says what that screen shows and what a key
//!   means there.
//! - [`Controller`] hands keys to the screen that is up and carries out the
//!   [`journey::Transition`] it returns. Results of IO come back only as [`UiEvent`]s on one
//!   channel ([`events`]), drained on the UI thread.
//! - [`Host`] is everything with side effects outside the window; the production host lives in
//!   `crate::wiring`, so nothing here touches tokio or the network.
//! - `render` draws one screen with sample data to a PNG without any display (cargo feature
//!   `render`, on for the desktop, off for the kiosk: a box has no use for PNG files).
//!
//! Focus is explicit ([`focus`]): Slint has no arrow navigation, so one `FocusScope` takes
//! every key and the controller decides. Viewer-facing text lives in the `.slint` files
//! (English source, Danish bundled from `ui/translations/da`), Danish by default.

mod clock;
#[cfg(feature = "desktop")]
pub mod compose;
mod controller;
#[cfg(feature = "desktop")]
mod desktop;
pub mod events;
pub mod focus;
mod host;
mod input;
pub mod journey;
mod keyboard;
mod keys;
pub mod multitap;
pub mod present;
#[cfg(feature = "render")]
mod render;
mod requests;
mod run;
#[cfg(feature = "render")]
mod sample;
pub mod scale;
mod screens;
mod speak;
mod tap;

/// The compiled `ui/app.slint`: `AppWindow` and its global adapters. Slint's generated code
/// unwraps its own invariants; the lints hold for ours.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub mod generated {
    slint::include_modules!();
}

pub use crate::lang::Lang;
pub use crate::speech::{Silent, Speaker};
pub use clock::{Clock, ManualClock, SystemClock};
pub use controller::Controller;
pub use events::{EventSender, UiEvent};
pub use focus::Item;
pub use host::{Host, Running, ViewerOp};
pub use journey::{ScreenKey, Setup};
#[cfg(feature = "render")]
pub use render::{RenderArgs, Renderer, render};
pub use run::{Window, fonts_present};
#[cfg(feature = "render")]
pub use sample::SAMPLE_AUTHENTICATION_URI;
/// For tests that set the waiting screen's countdown as the controller does.
pub use screens::waiting::show_countdown;
pub use speak::TOGGLE_KEY;

/// Screens `render` knows, in journey order.
pub const SCREENS: &[&str] = &[
    "start",
    "start-viewers",
    "start-broker",
    "start-broker-expired",
    "start-broker-six",
    "start-edit",
    "start-confirm",
    "identify",
    "identify-long",
    "identify-cpr",
    "waiting",
    "waiting-tile",
    "qr",
    "signed-in",
    "rejected",
    "expired",
    "unknown-user",
    "offline",
    "too-many",
    "config-error",
    "service-setup",
    "mitid-error",
    "failed",
];

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("unknown screen {0:?}; one of: {list}", list = SCREENS.join(", "))]
    UnknownScreen(String),
    #[error("unknown language {0:?}; da or en")]
    UnknownLanguage(String),
    #[error("the UI platform: {0}")]
    Platform(String),
    #[error("cannot write {path}: {message}")]
    Write {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// SIGTERM or SIGINT; the pending request was cancelled (exit 130).
    #[error("interrupted")]
    Interrupted,
    #[error(
        "no usable font: fontconfig finds no font at all; install fontconfig and one font package (e.g. fonts-dejavu-core)"
    )]
    NoFonts,
}
