//! The sign-in journey: starting, cancelling and retrying requests, turning session updates
//! into screens, the 1 Hz countdown, and what happens after a sign-in.

use std::cell::RefCell;
use std::rc::Weak;
use std::time::Duration;

use slint::{ComponentHandle, TimerMode};

use crate::ciba::FlexSubject;
use crate::identifier::IdentifierError;
use crate::session::{Outcome, Update, Who};
use crate::viewers::{Viewer, ViewerKey};

use super::controller::{Controller, Journey, Origin, OutcomeView, SignedIn, UpdateSink, ViewerOp};
use super::generated::{IdError, OutcomeKind, Screen};

thread_local! {
    /// The controller that session updates are delivered to (one window per UI thread).
    static ACTIVE: RefCell<Weak<Controller>> = const { RefCell::new(Weak::new()) };
}

pub(super) fn id_error(e: &IdentifierError) -> IdError {
    match e {
        IdentifierError::Empty => IdError::Empty,
        IdentifierError::CprLength => IdError::CprLength,
        IdentifierError::CprDate => IdError::CprDate,
        IdentifierError::Uuid => IdError::Uuid,
        IdentifierError::UserId => IdError::UserId,
    }
}

/// The screen and operator detail for a finished session (the viewer-facing words are in
/// the .slint files).
fn outcome_view(outcome: &Outcome, origin: Origin) -> Option<OutcomeView> {
    let view = |kind, detail: String, can_retry| OutcomeView {
        kind,
        detail: crate::sanitize::clean(&detail),
        details: false,
        can_retry,
        can_edit: origin == Origin::Identify,
    };
    Some(match outcome {
        Outcome::SignedIn(_) | Outcome::Cancelled => return None,
        Outcome::Rejected => view(OutcomeKind::Rejected, String::new(), true),
        Outcome::Expired => view(OutcomeKind::Expired, String::new(), true),
        Outcome::UnknownUser => view(OutcomeKind::UnknownUser, String::new(), false),
        Outcome::NoConnection { detail } => view(OutcomeKind::Offline, detail.clone(), true),
        // Trying the same request again cannot fix the configuration.
        Outcome::ConfigRefused { detail } => OutcomeView {
            can_edit: false,
            ..view(OutcomeKind::ConfigError, detail.clone(), false)
        },
        Outcome::StartAgain => view(
            OutcomeKind::Failed,
            "invalid_grant: the result was lost; start again".into(),
            true,
        ),
        Outcome::TokenRejected { detail } => view(
            OutcomeKind::Failed,
            format!("ID token rejected: {detail}"),
            true,
        ),
        Outcome::MitIdError { status } => {
            view(OutcomeKind::Failed, format!("MitID status {status}"), true)
        }
        Outcome::Failed { detail } => view(OutcomeKind::Failed, detail.clone(), true),
    })
}

impl Controller {
    /// Makes this controller the receiver of [`Controller::sink`] deliveries on this thread.
    pub fn install(&self) {
        ACTIVE.with(|a| *a.borrow_mut() = self.me.clone());
    }

    /// Runs `f` on the installed controller, if any (on the UI thread).
    pub(super) fn with_active(f: impl FnOnce(&Controller)) {
        if let Some(c) = ACTIVE.with(|a| a.borrow().upgrade()) {
            f(&c);
        }
    }

    /// A sink that hops to the UI thread and applies updates for generation `generation`.
    pub fn sink(generation: u64) -> UpdateSink {
        Box::new(move |update| {
            let delivered = slint::invoke_from_event_loop(move || {
                if let Some(c) = ACTIVE.with(|a| a.borrow().upgrade()) {
                    c.apply_from(generation, update);
                }
            });
            if let Err(e) = delivered {
                tracing::debug!(error = %e, "UI gone; session update dropped");
            }
        })
    }

    /// The generation of the request now running (or last run).
    pub fn generation(&self) -> u64 {
        self.state.borrow().generation
    }

    /// Applies an update from the current request (tests call this directly).
    pub fn apply(&self, update: Update) {
        let g = self.generation();
        self.apply_from(g, update);
    }

    /// Applies an update if it belongs to the current request; updates of a request the
    /// viewer already left (cancelled, retried) are dropped.
    pub fn apply_from(&self, generation: u64, update: Update) {
        if generation != self.generation() {
            return;
        }
        match update {
            Update::Starting => {}
            Update::Waiting(w) => {
                // Not secret: the same text is on the TV and the phone, for anyone to compare.
                tracing::info!(reference_text = %w.reference_text, "waiting for approval");
                let left = w
                    .deadline
                    .saturating_duration_since(tokio::time::Instant::now());
                {
                    let mut st = self.state.borrow_mut();
                    st.wait = Some((self.clock.now() + left, w.expires_in));
                    st.reference_text = w.reference_text.clone();
                }
                self.push_waiting(w.authentication_uri.as_deref());
                let me = self.me.clone();
                self.countdown
                    .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                        if let Some(c) = me.upgrade() {
                            c.tick();
                        }
                    });
            }
            Update::Connection { ok } => self.push_connection(ok),
            Update::Finished(outcome) => self.finished(outcome),
        }
    }

    fn tick(&self) {
        let left = self.push_countdown();
        if left.is_zero() {
            // The session reports the expiry itself; nothing left to redraw until then.
            self.countdown.stop();
        }
    }

    pub(super) fn start(&self, who: Who, origin: Origin, tile: Option<ViewerKey>) {
        if let Some(old) = self.state.borrow_mut().running.take() {
            old.cancel();
        }
        self.countdown.stop();
        let generation = {
            let mut st = self.state.borrow_mut();
            st.generation += 1;
            st.wait = None;
            st.reference_text.clear();
            st.outcome = None;
            st.journey = Some(Journey {
                who: who.clone(),
                origin,
                tile,
            });
            st.generation
        };
        let screen = if who == Who::Qr {
            Screen::Qr
        } else {
            Screen::Waiting
        };
        self.show(screen);
        let running = self.host.start(who, Self::sink(generation));
        self.state.borrow_mut().running = Some(running);
    }

    pub(super) fn start_tile(&self, index: usize) {
        let Some(viewer) = self.state.borrow().viewers.get(index).cloned() else {
            return;
        };
        let who = match &viewer.key {
            ViewerKey::Uuid(u) if self.setup.flex_capable => {
                Who::Flex(FlexSubject::Uuid(u.clone()))
            }
            ViewerKey::Uuid(u) | ViewerKey::UserId(u) => Who::UserId(u.clone()),
        };
        self.start(who, Origin::Start, Some(viewer.key));
    }

    /// At exit: cancel what is pending (the host waits for the OP to be told).
    pub fn shutdown(&self) {
        self.countdown.stop();
        self.idle.stop();
        let mut st = self.state.borrow_mut();
        st.generation += 1;
        if let Some(r) = st.running.take() {
            r.cancel();
        }
    }

    /// The viewer's Annuller or Back while a request is pending.
    pub(super) fn cancel(&self) {
        let origin = {
            let mut st = self.state.borrow_mut();
            if let Some(r) = st.running.take() {
                r.cancel();
            }
            // Late updates of the cancelled request are ignored from here on.
            st.generation += 1;
            st.wait = None;
            st.journey
                .as_ref()
                .map(|j| j.origin)
                .unwrap_or(Origin::Start)
        };
        self.countdown.stop();
        match origin {
            Origin::Identify => self.open_identify(false),
            Origin::Start => self.show(Screen::Start),
        }
    }

    /// "Prøv igen": a new request, only ever on the viewer's press.
    pub(super) fn retry(&self) {
        let again = self
            .state
            .borrow()
            .journey
            .as_ref()
            .map(|j| (j.who.clone(), j.origin, j.tile.clone()));
        match again {
            Some((who, origin, tile)) => self.start(who, origin, tile),
            None => self.show(Screen::Start),
        }
    }

    fn finished(&self, outcome: Outcome) {
        self.countdown.stop();
        let (origin, tile) = {
            let mut st = self.state.borrow_mut();
            st.running = None;
            st.wait = None;
            let j = st.journey.as_ref();
            (
                j.map(|j| j.origin).unwrap_or(Origin::Start),
                j.and_then(|j| j.tile.clone()),
            )
        };
        match outcome {
            Outcome::SignedIn(profile) => {
                let key = self.viewer_key(&profile);
                let remembered = key
                    .as_ref()
                    .is_some_and(|k| self.state.borrow().viewers.iter().any(|v| &v.key == k));
                let reference_text = self.state.borrow().reference_text.clone();
                self.host.signed_in(&profile, &reference_text);
                if let Some(k) = tile {
                    self.host.viewers(ViewerOp::Touch(k));
                }
                self.state.borrow_mut().signed_in = Some(SignedIn {
                    profile,
                    key,
                    remembered,
                    details: false,
                });
                self.show(Screen::SignedIn);
                let me = self.me.clone();
                self.idle
                    .start(TimerMode::SingleShot, self.setup.idle_signout, move || {
                        if let Some(c) = me.upgrade() {
                            tracing::info!("idle: signing the viewer out");
                            c.sign_out();
                        }
                    });
            }
            Outcome::Cancelled => self.show(Screen::Start),
            other => {
                self.state.borrow_mut().outcome = outcome_view(&other, origin);
                self.show(Screen::Outcome);
            }
        }
    }

    /// What a remembered tile would sign in with. Never a CPR number.
    fn viewer_key(&self, profile: &crate::ciba::Profile) -> Option<ViewerKey> {
        let who = self.state.borrow().journey.as_ref().map(|j| j.who.clone());
        match (&profile.uuid, who) {
            (Some(uuid), _) if self.setup.flex_capable => {
                Some(ViewerKey::Uuid(uuid.to_ascii_lowercase()))
            }
            (_, Some(Who::UserId(u))) => Some(ViewerKey::UserId(u)),
            (_, Some(Who::Flex(FlexSubject::Uuid(u)))) => Some(ViewerKey::Uuid(u)),
            _ => None,
        }
    }

    pub(super) fn details_shown(&self) -> bool {
        let st = self.state.borrow();
        match st.screen {
            Screen::SignedIn => st.signed_in.as_ref().is_some_and(|s| s.details),
            Screen::Outcome => st.outcome.as_ref().is_some_and(|o| o.details),
            _ => false,
        }
    }

    pub(super) fn toggle_details(&self) {
        {
            let mut st = self.state.borrow_mut();
            if let Some(s) = st.signed_in.as_mut() {
                s.details = !s.details;
            } else if let Some(o) = st.outcome.as_mut() {
                o.details = !o.details;
            }
        }
        self.push_screen();
    }

    pub(super) fn toggle_remember(&self) {
        let op = {
            let mut st = self.state.borrow_mut();
            let Some(s) = st.signed_in.as_mut() else {
                return;
            };
            let Some(key) = s.key.clone() else { return };
            s.remembered = !s.remembered;
            if s.remembered {
                ViewerOp::Remember {
                    name: s
                        .profile
                        .name
                        .clone()
                        .unwrap_or_else(|| key.id().to_string()),
                    key,
                }
            } else {
                ViewerOp::Forget(key)
            }
        };
        self.host.viewers(op);
        self.push_screen();
    }

    /// The operator's hand-off failed after a sign-in (the host reports it off the UI thread).
    pub fn set_handoff_failed(&self, failed: bool) {
        self.app
            .global::<super::generated::SignedInAdapter>()
            .set_handoff_failed(failed);
    }

    pub(super) fn sign_out(&self) {
        self.set_handoff_failed(false);
        self.idle.stop();
        self.state.borrow_mut().signed_in = None;
        self.show(Screen::Start);
    }

    /// The viewer store's current list (from the host, after every change).
    pub fn set_viewers(&self, viewers: Vec<Viewer>) {
        self.state.borrow_mut().viewers = viewers;
        self.push_viewers();
        self.push_focus();
    }

    /// Shows that the store was unreadable and moved aside.
    pub fn set_store_problem(&self, problem: bool) {
        self.app
            .global::<super::generated::StartAdapter>()
            .set_store_problem(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_a_screen() {
        let all = [
            Outcome::Rejected,
            Outcome::Expired,
            Outcome::UnknownUser,
            Outcome::StartAgain,
            Outcome::NoConnection { detail: "x".into() },
            Outcome::ConfigRefused { detail: "x".into() },
            Outcome::TokenRejected { detail: "x".into() },
            Outcome::MitIdError { status: "x".into() },
            Outcome::Failed { detail: "x".into() },
        ];
        for o in all {
            assert!(outcome_view(&o, Origin::Start).is_some(), "{o:?}");
        }
        assert!(outcome_view(&Outcome::Cancelled, Origin::Start).is_none());
    }
}
