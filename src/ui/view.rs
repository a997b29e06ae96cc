//! Pushes the controller's state into the per-screen Slint adapters. Each push touches only
//! its own screen's properties, so a countdown tick redraws the countdown and nothing else.

use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::config::IdentifierKind;

use super::controller::Controller;
use super::generated::{
    IdKind, IdentifyAdapter, KeyCap, KeyKind, KeyRow, OutcomeAdapter, QrAdapter, Screen,
    SignedInAdapter, StartAdapter, ViewerItem, WaitingAdapter,
};
use super::keyboard::{self, Cap};
use super::present;

/// The QR code's box on the QR screen, in px at 1080p.
const QR_BOX_PX: u32 = 600;

impl Controller {
    pub(super) fn push_screen(&self) {
        match self.screen() {
            Screen::Start => self.push_viewers(),
            Screen::Identify => self.push_identify(true),
            Screen::Waiting | Screen::Qr => {
                self.push_waiting(None);
            }
            Screen::SignedIn => self.push_signed_in(),
            Screen::Outcome => self.push_outcome(),
        }
    }

    pub(super) fn push_viewers(&self) {
        let items: Vec<ViewerItem> = self
            .state
            .borrow()
            .viewers
            .iter()
            .map(|v| ViewerItem {
                name: v.name.as_str().into(),
                initials: present::initials(&v.name).into(),
            })
            .collect();
        let start = self.app.global::<StartAdapter>();
        start.set_viewers(ModelRc::from(Rc::new(VecModel::from(items))));
        start.set_qr_enabled(self.setup.qr_enabled);
    }

    /// `keys`: rebuild the key grid too (new screen, shift changed).
    pub(super) fn push_identify(&self, keys: bool) {
        let st = self.state.borrow();
        let kind = self.setup.kind;
        let a = self.app.global::<IdentifyAdapter>();
        a.set_kind(match kind {
            IdentifierKind::UserId => IdKind::UserId,
            IdentifierKind::Uuid => IdKind::Uuid,
            IdentifierKind::Cpr => IdKind::Cpr,
        });
        let (shown, rest) = st.field.display(kind);
        a.set_value(shown.into());
        a.set_template_rest(rest.into());
        a.set_error(st.id_error);
        a.set_shift(st.shift);
        if keys {
            let rows: Vec<KeyRow> = keyboard::layout(kind)
                .iter()
                .map(|row| {
                    let caps: Vec<KeyCap> = row
                        .iter()
                        .map(|(cap, units)| {
                            let (kind, text) = match cap {
                                Cap::Char(c) if st.shift => {
                                    (KeyKind::Char, c.to_uppercase().collect::<String>())
                                }
                                Cap::Char(c) => (KeyKind::Char, c.to_string()),
                                Cap::Shift => (KeyKind::Shift, String::new()),
                                Cap::Delete => (KeyKind::Delete, String::new()),
                                Cap::Clear => (KeyKind::Clear, String::new()),
                                Cap::Submit => (KeyKind::Submit, String::new()),
                            };
                            KeyCap {
                                kind,
                                text: text.into(),
                                units: i32::from(*units),
                            }
                        })
                        .collect();
                    KeyRow {
                        keys: ModelRc::from(Rc::new(VecModel::from(caps))),
                    }
                })
                .collect();
            a.set_rows(ModelRc::from(Rc::new(VecModel::from(rows))));
        }
    }

    /// Sets up Waiting or QR; `uri` is the QR flow's authentication_uri once known.
    pub(super) fn push_waiting(&self, uri: Option<&str>) {
        let (reference, waiting) = {
            let st = self.state.borrow();
            (st.reference_text.clone(), st.wait.is_some())
        };
        let w = self.app.global::<WaitingAdapter>();
        w.set_reference_text(reference.into());
        w.set_starting(!waiting);
        w.set_connection_ok(true);
        let q = self.app.global::<QrAdapter>();
        q.set_connection_ok(true);
        match uri.map(qr_image) {
            Some(Some((img, side))) => {
                q.set_code(img);
                q.set_side(side as f32);
                q.set_ready(true);
            }
            Some(None) => tracing::error!("cannot draw the QR code for the authentication_uri"),
            None if !waiting => q.set_ready(false),
            None => {}
        }
        self.push_countdown();
    }

    pub(super) fn push_connection(&self, ok: bool) {
        self.app.global::<WaitingAdapter>().set_connection_ok(ok);
        self.app.global::<QrAdapter>().set_connection_ok(ok);
    }

    /// Redraws mm:ss and the bar; returns the time left.
    pub(super) fn push_countdown(&self) -> Duration {
        let Some((deadline, total)) = self.state.borrow().wait else {
            return Duration::ZERO;
        };
        let left = deadline.saturating_duration_since(self.clock.now());
        let text: SharedString = present::mm_ss(left).into();
        let progress = present::progress(left, total);
        match self.screen() {
            Screen::Qr => {
                let q = self.app.global::<QrAdapter>();
                q.set_remaining(text);
                q.set_progress(progress);
            }
            _ => {
                let w = self.app.global::<WaitingAdapter>();
                w.set_remaining(text);
                w.set_progress(progress);
            }
        }
        left
    }

    pub(super) fn push_signed_in(&self) {
        let st = self.state.borrow();
        let Some(s) = &st.signed_in else { return };
        let a = self.app.global::<SignedInAdapter>();
        let clean = crate::sanitize::clean;
        a.set_name(
            s.profile
                .name
                .as_deref()
                .map(clean)
                .unwrap_or_default()
                .into(),
        );
        a.set_details_shown(s.details);
        a.set_date_of_birth(
            s.profile
                .date_of_birth
                .as_deref()
                .map(|d| clean(&present::date(d)))
                .unwrap_or_default()
                .into(),
        );
        a.set_age(
            s.profile
                .age
                .map(|a| a.to_string())
                .unwrap_or_default()
                .into(),
        );
        a.set_uuid_masked(
            s.profile
                .uuid
                .as_deref()
                .map(present::mask_uuid)
                .unwrap_or_default()
                .into(),
        );
        a.set_can_remember(self.setup.remember && s.key.is_some());
        a.set_remembered(s.remembered);
        let minutes = self.setup.idle_signout.as_secs().div_ceil(60);
        a.set_idle_minutes(i32::try_from(minutes).unwrap_or(i32::MAX));
    }

    pub(super) fn push_outcome(&self) {
        let st = self.state.borrow();
        let Some(o) = &st.outcome else { return };
        let a = self.app.global::<OutcomeAdapter>();
        a.set_kind(o.kind);
        a.set_detail(o.detail.as_str().into());
        a.set_details_shown(o.details);
        a.set_can_retry(o.can_retry);
        a.set_can_edit(o.can_edit);
    }
}

/// The largest whole number of px per module that fits the QR box (at least 8 at 1080p).
fn qr_image(uri: &str) -> Option<(slint::Image, u32)> {
    let m = crate::qr::matrix(uri).ok()?;
    let ppm = match crate::qr::px_per_module_for(&m, QR_BOX_PX) {
        Ok(p) => p,
        // A very long URL: a smaller code beats none.
        Err(crate::qr::QrError::TooSmall { fits, .. }) => fits.max(2),
        Err(_) => return None,
    };
    let buffer = crate::qr::to_pixel_buffer(&m, ppm, crate::qr::QUIET_ZONE_MODULES);
    let side = buffer.width();
    Some((slint::Image::from_rgb8(buffer), side))
}
