//! The UI's controller: holds the [`Journey`], hands each key to the screen that is up, carries
//! out the [`Transition`] it returns, and applies [`UiEvent`]s from the IO threads. It knows
//! nothing of HTTP or tokio: sign-ins, the viewer store and exiting go through [`Host`], so
//! tests drive it with synthetic events and a manual clock.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::mpsc;

use slint::{ComponentHandle, Timer};

use crate::lang::Lang;
use crate::viewers::Viewer;

use super::clock::Clock;
use super::events::UiEvent;
use super::focus::{Grid, Item};
use super::generated::{App, AppWindow, Nav, Screen};
use super::host::Host;
use super::input::Dir;
use super::journey::{Ctx, Journey, ScreenKey, Setup, StartQr, Transition};
use super::keys::{self, Press, Repeat};
use super::screens::{identify, outcome, qr, signed_in, start, waiting};
use super::speak::Voice;

pub struct Controller {
    pub(super) app: AppWindow,
    pub(super) host: Rc<dyn Host>,
    pub(super) clock: Rc<dyn Clock>,
    pub(super) setup: Setup,
    pub(super) journey: RefCell<Journey>,
    pub(super) viewers: RefCell<Vec<Viewer>>,
    pub(super) focus: Cell<Item>,
    pub(super) lang: Cell<Lang>,
    /// Bumped by every request and every cancel: updates of older requests are dropped.
    pub(super) generation: Cell<u64>,
    pub(super) events: mpsc::Receiver<UiEvent>,
    pub(super) me: Weak<Controller>,
    pub(super) repeat: Repeat,
    pub(super) countdown: Timer,
    pub(super) idle: Timer,
    /// Commits Identify's pending multi-tap letter when it times out (`ui/tap.rs`).
    pub(super) tap: Timer,
    /// A real keyboard typed a letter: number keys type digits from now on (`keys::from_keyboard`).
    keyboard: Cell<bool>,
    pub(super) voice: Voice,
}

impl Controller {
    pub fn new(
        app: &AppWindow,
        setup: Setup,
        host: Rc<dyn Host>,
        clock: Rc<dyn Clock>,
        events: mpsc::Receiver<UiEvent>,
    ) -> Rc<Controller> {
        let voice = Voice::new(host.speaker());
        let ctl = Rc::new_cyclic(|me| Controller {
            app: app.clone_strong(),
            host,
            clock,
            journey: RefCell::new(Journey::Start(StartQr::Idle)),
            viewers: RefCell::new(Vec::new()),
            focus: Cell::new(Item::SignIn),
            lang: Cell::new(setup.language),
            generation: Cell::new(0),
            setup,
            events,
            me: me.clone(),
            repeat: Repeat::default(),
            countdown: Timer::default(),
            idle: Timer::default(),
            tap: Timer::default(),
            keyboard: Cell::new(false),
            voice,
        });
        ctl.wire();
        app.global::<App>()
            .set_service_name(ctl.setup.service_name.as_str().into());
        ctl.set_language(ctl.setup.language);
        // No QR code before a viewer presses a key: an idle box makes no requests.
        ctl.show(Journey::Start(StartQr::Idle), None);
        ctl
    }

    fn wire(&self) {
        let nav = self.app.global::<Nav>();
        let me = self.me.clone();
        nav.on_key_pressed(move |text, repeat| {
            me.upgrade().is_some_and(|c| c.key_pressed(&text, repeat))
        });
        let me = self.me.clone();
        nav.on_key_released(move |text| me.upgrade().is_some_and(|c| c.key_released(&text)));
        let me = self.me.clone();
        nav.on_activate(move |target, row, col| {
            if let (Some(c), Some(item)) = (me.upgrade(), Item::from_slint(target, row, col)) {
                c.set_focus(item);
                c.key(ScreenKey::Activate(item));
            }
        });
        let me = self.me.clone();
        nav.on_events_pending(move || {
            if let Some(c) = me.upgrade() {
                c.drain_events();
            }
        });
    }

    pub fn screen(&self) -> Screen {
        self.journey.borrow().screen()
    }

    pub fn focused(&self) -> Item {
        self.focus.get()
    }

    /// What the identifier field holds (CPR without its display dash); empty off Identify.
    pub fn typed(&self) -> String {
        match &*self.journey.borrow() {
            Journey::Identify(st) => st.field.raw().to_string(),
            _ => String::new(),
        }
    }

    pub fn language(&self) -> Lang {
        self.lang.get()
    }

    /// The generation of the request now running (or last run).
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    pub(super) fn ctx<'a>(&'a self, viewers: &'a [Viewer]) -> Ctx<'a> {
        Ctx {
            setup: &self.setup,
            viewers,
            now: self.clock.now(),
            keyboard: self.keyboard.get(),
        }
    }

    /// The focusable items of the screen being shown.
    pub fn grid(&self) -> Grid {
        let viewers = self.viewers.borrow();
        let ctx = self.ctx(&viewers);
        match &*self.journey.borrow() {
            Journey::Start(q) => start::grid(q, &ctx),
            Journey::EditViewers(e) => start::edit_grid(e, &ctx),
            Journey::Identify(_) => identify::grid(&ctx),
            Journey::Waiting(_) => waiting::grid(),
            Journey::SignedIn(s) => signed_in::grid(s, &ctx),
            Journey::Outcome(o) => outcome::grid(o, &ctx),
        }
    }

    // ---- keys --------------------------------------------------------------------------

    pub fn key_pressed(&self, text: &str, repeat: bool) -> bool {
        if self.speech_key(text, repeat) {
            return true;
        }
        if self.screen() == Screen::SignedIn {
            self.idle.restart();
        }
        let takes_text = self.screen() == Screen::Identify;
        match keys::press(text, repeat, takes_text) {
            Press::Unused => false,
            Press::Swallowed => true,
            Press::Move(dir) => {
                self.commit_typing();
                self.move_focus(dir, false);
                let me = self.me.clone();
                self.repeat.hold(dir, move || {
                    if let Some(c) = me.upgrade() {
                        c.repeat.tick(|d| c.move_focus(d, true));
                    }
                });
                true
            }
            Press::Activate => self.key(ScreenKey::Activate(self.focused())),
            Press::Screen(key) => {
                if keys::from_keyboard(key) {
                    self.keyboard.set(true);
                }
                self.key(key)
            }
        }
    }

    pub fn key_released(&self, text: &str) -> bool {
        match keys::press(text, false, false) {
            Press::Move(dir) => {
                self.repeat.release(dir);
                true
            }
            _ => false,
        }
    }

    fn move_focus(&self, dir: Dir, held: bool) -> bool {
        let from = self.focused();
        let grid = self.grid();
        let to = if held {
            grid.step_held(from, dir)
        } else {
            grid.step(from, dir)
        };
        self.set_focus(to);
        to != from
    }

    /// Hands `key` to the screen that is up and carries out what it asks; whether it was used.
    pub fn key(&self, key: ScreenKey) -> bool {
        let t = {
            let viewers = self.viewers.borrow();
            let ctx = self.ctx(&viewers);
            match &mut *self.journey.borrow_mut() {
                Journey::Start(_) => start::on_key(&ctx, key),
                Journey::EditViewers(e) => start::on_edit_key(e, &ctx, key),
                Journey::Identify(st) => identify::on_key(st, &ctx, key),
                Journey::Waiting(_) => waiting::on_key(key),
                Journey::SignedIn(s) => signed_in::on_key(s, key),
                Journey::Outcome(o) => outcome::on_key(o, &ctx, key),
            }
        };
        if matches!(t, Transition::Unused) {
            return false;
        }
        self.transition(t);
        self.sync_tap();
        true
    }

    pub(super) fn transition(&self, t: Transition) {
        match t {
            Transition::Unused | Transition::Stay => {}
            Transition::Redraw => self.push_screen(),
            Transition::Focus(item) => {
                self.push_screen();
                self.set_focus(item);
            }
            Transition::To(j) => self.show(j, None),
            Transition::ToFocused(j, item) => self.show(j, Some(item)),
            Transition::StartQr => {
                self.start_qr();
                self.push_screen();
                self.sync_timers();
            }
            Transition::SignIn(request) => self.sign_in(request),
            Transition::Cancel => self.cancel(),
            Transition::Viewers(op) => {
                self.host.viewers(op);
                self.push_screen();
            }
            Transition::HandOff => self.hand_off(),
            Transition::ToggleLanguage => {
                self.set_language(match self.language() {
                    Lang::Da => Lang::En,
                    Lang::En => Lang::Da,
                });
                self.announce_language();
            }
            Transition::Exit => self.host.exit(),
        }
    }

    // ---- screens -----------------------------------------------------------------------

    pub(super) fn show(&self, journey: Journey, focus: Option<Item>) {
        let make_qr = matches!(journey, Journey::Start(StartQr::Make));
        let leaving = self.journey.replace(journey);
        match &leaving {
            Journey::SignedIn(_) => signed_in::clear(&self.app),
            // Leaving Start ends its QR request (idempotent when a sign-in already did).
            Journey::Start(StartQr::Live(p)) => p.running.cancel(),
            _ => {}
        }
        if make_qr {
            if self.setup.qr_on_start {
                self.start_qr();
            } else {
                *self.journey.borrow_mut() = Journey::Start(StartQr::Idle);
            }
        }
        let screen = self.screen();
        // One line per screen change: operators read the journey in journald, and the Xvfb
        // end-to-end test asserts on it.
        tracing::info!(screen = ?screen, "screen");
        self.repeat.stop();
        self.push_screen_new();
        let focus = focus.or(match &*self.journey.borrow() {
            Journey::Start(q) => {
                let viewers = self.viewers.borrow();
                Some(start::default_focus(q, &self.ctx(&viewers)))
            }
            Journey::Identify(_) => Some(identify::default_focus(&self.setup)),
            _ => None,
        });
        let focus = focus.or(match screen {
            Screen::Waiting | Screen::Qr => Some(Item::Cancel),
            Screen::SignedIn => Some(Item::Continue),
            _ => None,
        });
        self.focus.set(
            focus
                .or_else(|| self.grid().first())
                .unwrap_or(Item::SignIn),
        );
        self.app.global::<App>().set_screen(screen);
        self.push_focus();
        self.sync_timers();
        self.announce_screen();
    }

    fn push_screen_new(&self) {
        if let Journey::Identify(st) = &*self.journey.borrow() {
            identify::push(&self.app, st, &self.ctx(&[]), true);
            return;
        }
        self.push_screen();
    }

    pub(super) fn push_screen(&self) {
        let viewers = self.viewers.borrow();
        let ctx = self.ctx(&viewers);
        let now = self.clock.now();
        match &*self.journey.borrow() {
            Journey::Start(q) => start::push(&self.app, q, &ctx, now),
            Journey::EditViewers(e) => start::push_edit(&self.app, e, &ctx),
            Journey::Identify(st) => identify::push(&self.app, st, &ctx, false),
            Journey::Waiting(p) if p.is_qr() => qr::push(&self.app, p, now),
            Journey::Waiting(p) => waiting::push(&self.app, p, &ctx, now),
            Journey::SignedIn(s) => signed_in::push(&self.app, s, &ctx),
            Journey::Outcome(o) => outcome::push(&self.app, o, &ctx),
        }
        drop(viewers);
        self.push_focus();
    }

    pub fn set_focus(&self, item: Item) {
        self.focus.set(item);
        self.push_focus();
        self.announce_focus();
    }

    /// Keeps focus on an item that exists, e.g. after a tile was forgotten.
    fn push_focus(&self) {
        let grid = self.grid();
        let mut focus = self.focus.get();
        if !grid.contains(focus) {
            // Stay in the same row, one to the left, when the item went away.
            focus = match focus {
                Item::Tile(i) if i > 0 && grid.contains(Item::Tile(i - 1)) => Item::Tile(i - 1),
                Item::Forget(i) if i > 0 && grid.contains(Item::Forget(i - 1)) => {
                    Item::Forget(i - 1)
                }
                Item::Tile(_) | Item::Forget(_) | Item::ForgetAll | Item::Qr
                    if self.screen() == Screen::Start =>
                {
                    match &*self.journey.borrow() {
                        Journey::Start(q) => {
                            let viewers = self.viewers.borrow();
                            start::default_focus(q, &self.ctx(&viewers))
                        }
                        _ => grid.first().unwrap_or(focus),
                    }
                }
                Item::Remember => Item::SignOut,
                _ => grid.first().unwrap_or(focus),
            };
            self.focus.set(focus);
        }
        let (target, row, col) = focus.to_slint();
        let nav = self.app.global::<Nav>();
        nav.set_target(target);
        nav.set_row(row);
        nav.set_col(col);
        self.app.invoke_refocus();
    }

    pub fn set_language(&self, lang: Lang) {
        self.lang.set(lang);
        let code = match lang {
            Lang::Da => "da",
            Lang::En => "",
        };
        if let Err(e) = slint::select_bundled_translation(code) {
            tracing::warn!(error = %e, "cannot switch the UI language");
        }
        self.app.global::<App>().set_language(lang.code().into());
    }

    /// Shows the embedded simulator's phone page address (and a small QR of it).
    pub(super) fn set_simulator(&self, phone_url: &str) {
        let g = self.app.global::<App>();
        g.set_simulator(true);
        g.set_phone_url(phone_url.into());
        match crate::qr::to_image(phone_url, 4) {
            Ok(img) => g.set_phone_qr(img),
            Err(e) => tracing::warn!(error = %e, "no QR for the simulator's phone page"),
        }
    }
}
