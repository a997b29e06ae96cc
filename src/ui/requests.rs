//! A sign-in from the viewer's press to its end: starting and cancelling requests, the
//! session's updates (and every other [`UiEvent`]), the countdown and the idle sign-out.

use slint::{ComponentHandle, TimerMode};

use crate::config::BackOnStart;
use crate::session::{Outcome, Update};

use super::controller::Controller;
use super::events::UiEvent;
use super::generated::StartAdapter;
use super::host::ViewerOp;
use super::journey::{HandOff, Identify, Journey, Origin, Pending, Request, StartQr, Transition};
use super::screens::{outcome, signed_in, start, waiting};

impl Controller {
    /// The countdown runs while a request waits; the idle sign-out while a viewer is signed in.
    pub(super) fn sync_timers(&self) {
        let (waiting, signed_in) = match &*self.journey.borrow() {
            Journey::SignedIn(_) => (false, true),
            j => (j.pending().is_some_and(|p| p.countdown.is_some()), false),
        };
        if !waiting {
            self.countdown.stop();
        } else if !self.countdown.running() {
            let me = self.me.clone();
            self.countdown.start(
                TimerMode::Repeated,
                std::time::Duration::from_secs(1),
                move || {
                    if let Some(c) = me.upgrade() {
                        c.tick();
                    }
                },
            );
        }
        if !signed_in {
            self.idle.stop();
        } else if !self.idle.running() {
            let me = self.me.clone();
            self.idle
                .start(TimerMode::SingleShot, self.setup.idle_signout, move || {
                    if let Some(c) = me.upgrade() {
                        tracing::info!("idle: signing the viewer out");
                        c.show(Journey::Start(StartQr::Idle), None);
                    }
                });
        }
    }

    fn tick(&self) {
        let left = match self.journey.borrow().pending() {
            Some(p) => waiting::push_countdown(&self.app, p, self.clock.now()),
            None => std::time::Duration::ZERO,
        };
        if left.is_zero() {
            // The session reports the expiry itself; nothing left to redraw until then.
            self.countdown.stop();
        }
    }

    // ---- requests ----------------------------------------------------------------------

    /// Ends the pending request, if any, without an outcome: the OP is told once, and late
    /// updates of it are ignored from here on.
    fn abandon(&self) {
        let mut journey = self.journey.borrow_mut();
        if let Some(p) = journey.pending() {
            p.running.cancel();
        }
        if let Journey::Start(q @ StartQr::Live(_)) = &mut *journey {
            *q = StartQr::Idle;
        }
        drop(journey);
        self.generation.set(self.generation.get() + 1);
    }

    /// A new QR code on Start: one request at the broker, made only after a viewer's key.
    pub(super) fn start_qr(&self) {
        self.abandon();
        let request = Request {
            who: crate::session::Who::Qr,
            origin: Origin::Start,
            tile: None,
        };
        let pending = self.request(request);
        *self.journey.borrow_mut() = Journey::Start(StartQr::Live(Box::new(pending)));
    }

    pub(super) fn sign_in(&self, request: Request) {
        self.abandon();
        let pending = self.request(request);
        self.show(Journey::Waiting(pending), None);
    }

    /// Asks the host to start `request` under the current generation.
    fn request(&self, request: Request) -> Pending {
        let running = self.host.start(self.generation(), request.who.clone());
        Pending {
            request,
            running,
            countdown: None,
            reference_text: String::new(),
            code: String::new(),
            connection_ok: true,
            qr: None,
        }
    }

    /// The viewer's Annuller or Back while a request is pending: back where it came from.
    pub(super) fn cancel(&self) {
        let origin = match &*self.journey.borrow() {
            Journey::Waiting(p) => p.request.origin.clone(),
            _ => return,
        };
        self.abandon();
        self.show(
            match origin {
                Origin::Identify(field) => Journey::Identify(Identify::with(field)),
                Origin::Start => Journey::start(),
            },
            None,
        );
    }

    fn finished(&self, outcome: Outcome) {
        let (p, on_start) = match self.journey.replace(Journey::Start(StartQr::Idle)) {
            Journey::Waiting(p) => (p, false),
            Journey::Start(StartQr::Live(p)) => (*p, true),
            other => {
                // A late answer to a request this screen no longer shows.
                *self.journey.borrow_mut() = other;
                return;
            }
        };
        let next = match outcome {
            Outcome::SignedIn(profile) => {
                if let Some(k) = &p.request.tile {
                    self.host.viewers(ViewerOp::Touch(k.clone()));
                }
                let viewers = self.viewers.borrow();
                Journey::SignedIn(signed_in::enter(
                    profile,
                    &p.request,
                    p.reference_text.clone(),
                    &self.ctx(&viewers),
                ))
            }
            Outcome::Cancelled => Journey::Start(StartQr::Idle),
            // Start's code ran out: "Vis ny QR-kode" makes the next one, never a loop.
            Outcome::Expired if on_start => Journey::Start(StartQr::Expired),
            other => match outcome::enter(&other, p.request) {
                Some(view) => Journey::Outcome(view),
                None => Journey::Start(StartQr::Idle),
            },
        };
        self.show(next, None);
    }

    // ---- events ------------------------------------------------------------------------

    /// Applies every queued event (the channel's wake-up lands here).
    pub fn drain_events(&self) {
        while let Ok(event) = self.events.try_recv() {
            self.handle(event);
        }
    }

    pub fn handle(&self, event: UiEvent) {
        match event {
            UiEvent::Session { generation, update } => self.apply_from(generation, update),
            UiEvent::Viewers(list) => {
                let first = self.viewers.borrow().is_empty() && !list.is_empty();
                *self.viewers.borrow_mut() = list;
                self.push_screen();
                // The list arrives after Start is up: focus the last-used viewer, unless the
                // viewer already moved.
                if first && self.screen() == super::generated::Screen::Start {
                    let to = match &*self.journey.borrow() {
                        Journey::Start(q) => {
                            let viewers = self.viewers.borrow();
                            let ctx = self.ctx(&viewers);
                            (self.focused() == start::default_focus(q, &ctx.without_viewers()))
                                .then(|| start::default_focus(q, &ctx))
                        }
                        _ => None,
                    };
                    if let Some(item) = to {
                        self.set_focus(item);
                    }
                }
            }
            UiEvent::StoreProblem => self.app.global::<StartAdapter>().set_store_problem(true),
            UiEvent::HandoffFailed => self.handed_off(HandOff::Failed),
            UiEvent::HandedOff => self.handed_off(HandOff::Done),
            UiEvent::SimulatorReady { phone_url } => self.set_simulator(&phone_url),
            UiEvent::ConfigProblem { detail } => {
                self.abandon();
                self.show(Journey::Outcome(outcome::config_problem(detail)), None);
            }
        }
    }

    /// "Fortsæt": the identity goes to the box's middleware (the host answers with
    /// `HandedOff` or `HandoffFailed`).
    pub(super) fn hand_off(&self) {
        if let Journey::SignedIn(s) = &*self.journey.borrow() {
            self.host.signed_in(&s.profile, &s.reference_text);
        }
        self.push_screen();
    }

    /// The middleware has the identity (or could not take it). Where something is behind the
    /// app (`back_on_start = "exit"`: it was launched by the box's launcher) the app leaves,
    /// and the launcher is back; a kiosk has nothing behind it and stays.
    fn handed_off(&self, result: HandOff) {
        let leave = match &mut *self.journey.borrow_mut() {
            Journey::SignedIn(s) => {
                s.handoff = result;
                result == HandOff::Done && self.setup.back_on_start == BackOnStart::Exit
            }
            _ => false,
        };
        if leave {
            self.host.exit();
        } else {
            self.push_screen();
        }
    }

    /// Applies an update of the current request (tests call this directly).
    pub fn apply(&self, update: Update) {
        self.apply_from(self.generation(), update);
    }

    /// Applies an update if it belongs to the current request; updates of a request the
    /// viewer already left (cancelled, retried) are dropped.
    pub fn apply_from(&self, generation: u64, update: Update) {
        if generation != self.generation() {
            return;
        }
        self.announce_update(generation, &update);
        if let Update::Finished(outcome) = update {
            self.finished(outcome);
            return;
        }
        let now = self.clock.now();
        let t = match &mut *self.journey.borrow_mut() {
            Journey::Waiting(p) => waiting::on_update(p, update, now, waiting::QR_BOX_PX),
            Journey::Start(StartQr::Live(p)) => {
                waiting::on_update(p, update, now, start::QR_BOX_PX)
            }
            _ => Transition::Stay,
        };
        self.transition(t);
        self.sync_timers();
    }

    /// At exit: cancel what is pending (the host waits for the OP to be told).
    pub fn shutdown(&self) {
        self.countdown.stop();
        self.idle.stop();
        self.repeat.stop();
        self.abandon();
    }
}
