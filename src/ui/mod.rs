//! The TV app's user interface: Slint screens (`ui/*.slint`) driven by a Rust controller.
//!
//! - [`run`] opens the window and runs the whole journey against the configured broker, or
//!   the embedded simulator when none is configured. It builds its own multi-thread tokio
//!   runtime (two workers) for HTTP, the simulator and the viewer store; the Slint event loop
//!   runs on the calling (main) thread, which never blocks on IO.
//! - [`render`] draws one screen with sample data to a PNG without any display.
//!
//! Focus is explicit ([`focus`]): Slint has no arrow navigation, so one `FocusScope` takes
//! every key and the [`Controller`] decides. Viewer-facing text lives in the `.slint` files
//! (English source, Danish bundled from `ui/translations/da`), Danish by default.

mod clock;
mod controller;
mod flow;
pub mod focus;
mod host;
mod input;
mod keyboard;
mod keys;
mod present;
mod render;
mod run;
mod sample;
mod view;

/// The compiled `ui/app.slint`: `AppWindow` and its global adapters.
pub mod generated {
    slint::include_modules!();
}

pub use clock::{Clock, ManualClock, SystemClock};
pub use controller::{Controller, Host, Lang, Running, Setup, UpdateSink, ViewerOp};
pub use focus::Item;
pub use render::{RenderArgs, render};
pub use run::{RunOptions, run};
pub use sample::SAMPLE_AUTHENTICATION_URI;

/// Screens `render` knows, in journey order.
pub const SCREENS: &[&str] = &[
    "start",
    "start-viewers",
    "identify",
    "waiting",
    "qr",
    "signed-in",
    "rejected",
    "expired",
    "unknown-user",
    "offline",
    "config-error",
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
    #[error("{0}")]
    Broker(String),
    #[error(
        "no usable font: fontconfig finds no font at all; install fontconfig and one font package (e.g. fonts-dejavu-core)"
    )]
    NoFonts,
}
