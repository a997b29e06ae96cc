//! QR (`ui/screens/qr.slint`): the code the phone's camera opens, while a QR request waits.
//! Keys and session updates follow the Waiting screen's rules (`waiting.rs`).

use std::time::Instant;

use slint::{ComponentHandle, SharedString};

use super::super::generated::{AppWindow, QrAdapter};
use super::super::journey::Pending;

pub fn push(app: &AppWindow, p: &Pending, now: Instant) {
    let q = app.global::<QrAdapter>();
    q.set_connection_ok(p.connection_ok);
    match &p.qr {
        Some((img, side)) => {
            q.set_code(img.clone());
            q.set_side(*side as f32);
            q.set_ready(true);
        }
        None => q.set_ready(false),
    }
    super::waiting::push_countdown(app, p, now);
}

pub fn set_countdown(app: &AppWindow, text: SharedString, progress: f32) {
    let q = app.global::<QrAdapter>();
    q.set_remaining(text);
    q.set_progress(progress);
}
