//! Waiting (`ui/screens/waiting.slint`): the code and the reference text to compare with the
//! phone, whose phone it went to (a remembered tile), the countdown and Annuller. The QR screen shares this state and these rules (see `qr.rs`).

use std::time::{Duration, Instant};

use slint::ComponentHandle;

use crate::session::{Update, Waiting};

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, WaitingAdapter};
use super::super::journey::{Countdown, Ctx, Pending, ScreenKey, Transition};
use super::super::present;

/// The QR code's box on the QR screen, in px at 1080p.
pub const QR_BOX_PX: u32 = 600;

pub fn push(app: &AppWindow, p: &Pending, ctx: &Ctx, now: Instant) {
    let w = app.global::<WaitingAdapter>();
    w.set_reference_text(p.reference_text.as_str().into());
    w.set_code(p.code.as_str().into());
    w.set_sent_to(sent_to(p, ctx).into());
    w.set_starting(p.countdown.is_none());
    w.set_connection_ok(p.connection_ok);
    push_countdown(app, p, now);
}

/// The remembered viewer whose phone the request went to; empty for a typed ID. The name is
/// the store's, which a rooted box could have edited: sanitized like any outside text.
pub fn sent_to(p: &Pending, ctx: &Ctx) -> String {
    p.request
        .tile
        .as_ref()
        .and_then(|k| ctx.viewers.iter().find(|v| &v.key == k))
        .map(|v| crate::sanitize::clean(&v.name))
        .unwrap_or_default()
}

/// Redraws mm:ss and the bar on whichever screen is up; returns the time left.
pub fn push_countdown(app: &AppWindow, p: &Pending, now: Instant) -> Duration {
    let Some(c) = p.countdown else {
        return Duration::ZERO;
    };
    let left = c.deadline.saturating_duration_since(now);
    let shown = present::Countdown::at(left, c.total);
    if p.is_qr() {
        super::qr::set_countdown(app, &shown);
    } else {
        show_countdown(app, &shown);
    }
    left
}

/// The waiting screen's countdown. Slint marks nothing dirty when a value is set unchanged:
/// each second only the seconds digits that changed, the text and the bar.
pub fn show_countdown(app: &AppWindow, shown: &present::Countdown) {
    let w = app.global::<WaitingAdapter>();
    w.set_remaining(shown.text.as_str().into());
    w.set_minutes(shown.minutes);
    w.set_second_tens(shown.seconds / 10);
    w.set_second_ones(shown.seconds % 10);
    w.set_progress(shown.progress);
    w.set_urgent(shown.urgent);
}

pub fn grid() -> Grid {
    Grid::simple(vec![vec![Item::Cancel]])
}

pub fn on_key(key: ScreenKey) -> Transition {
    match key {
        ScreenKey::Activate(Item::Cancel) | ScreenKey::Back => Transition::Cancel,
        ScreenKey::Activate(_) => Transition::Stay,
        ScreenKey::Delete | ScreenKey::Char(_) => Transition::Unused,
    }
}

/// A session update for this request. `Finished` is the controller's: it leaves the screen.
/// `qr_box`: the QR code's box in px at 1080p on the screen that shows it.
pub fn on_update(p: &mut Pending, update: Update, now: Instant, qr_box: u32) -> Transition {
    match update {
        Update::Starting | Update::Finished(_) => Transition::Stay,
        Update::Waiting(w) => {
            // Not secret: the same text is on the TV and the phone, for anyone to compare.
            tracing::info!(reference_text = %w.reference_text, "waiting for approval");
            accept(p, w, now, qr_box);
            Transition::Redraw
        }
        Update::Connection { ok } => {
            p.connection_ok = ok;
            Transition::Redraw
        }
    }
}

fn accept(p: &mut Pending, w: Waiting, now: Instant, qr_box: u32) {
    p.countdown = Some(Countdown {
        deadline: now + w.left,
        total: w.expires_in,
    });
    p.reference_text = w.reference_text;
    p.code = w.code;
    if let Some(uri) = w.authentication_uri {
        p.qr = qr_image(&uri, qr_box);
        if p.qr.is_none() {
            tracing::error!("cannot draw the QR code for the authentication_uri");
        }
    }
}

/// The largest whole number of px per module that fits the QR box.
fn qr_image(uri: &str, qr_box: u32) -> Option<(slint::Image, u32)> {
    let m = crate::qr::matrix(uri).ok()?;
    let ppm = match crate::qr::px_per_module_for(&m, qr_box) {
        Ok(p) => p,
        // A very long URL: a smaller code beats none.
        Err(crate::qr::QrError::TooSmall { fits, .. }) => fits.max(2),
        Err(_) => return None,
    };
    let buffer = crate::qr::to_pixel_buffer(&m, ppm, crate::qr::QUIET_ZONE_MODULES);
    let side = buffer.width();
    Some((slint::Image::from_rgb8(buffer), side))
}
