//! QR (`ui/screens/qr.slint`): the code the phone's camera opens, while a QR request waits.
//! Keys and session updates follow the Waiting screen's rules (`waiting.rs`).

use std::time::Instant;

use slint::ComponentHandle;

use super::super::generated::{AppWindow, QrAdapter};
use super::super::journey::Pending;
use super::super::present;

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

pub fn set_countdown(app: &AppWindow, shown: &present::Countdown) {
    let q = app.global::<QrAdapter>();
    q.set_remaining(shown.text.as_str().into());
    q.set_minutes(shown.minutes);
    q.set_second_tens(shown.seconds / 10);
    q.set_second_ones(shown.seconds % 10);
    q.set_progress(shown.progress);
    q.set_urgent(shown.urgent);
}
