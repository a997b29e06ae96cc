//! The UI's one controller: owns focus, the identifier field and the journey between screens,
//! and pushes state into the per-screen Slint adapters. It knows nothing of HTTP or tokio:
//! sign-ins, the viewer store and exiting go through [`Host`], so tests drive it with
//! synthetic [`Update`]s and a manual clock.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Timer};

use crate::ciba::Profile;
use crate::config::{BackOnStart, IdentifierKind};
use crate::session::{Update, Who};
use crate::viewers::{Viewer, ViewerKey};

use super::clock::Clock;
use super::focus::{Grid, Item};
use super::generated::{App, AppWindow, IdError, Nav, OutcomeKind, Screen};
use super::input::Dir;
use super::keyboard::{self, Field};

/// Display language. English is the `.slint` source; Danish is the bundled translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Da,
    En,
}

impl Lang {
    /// Config `language` first, then `LANG`; Danish unless one of them asks for English.
    pub fn pick(config: Option<&str>, env_lang: Option<&str>) -> Lang {
        match config.or(env_lang).map(str::to_ascii_lowercase) {
            Some(l) if l.starts_with("en") => Lang::En,
            _ => Lang::Da,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Da => "da",
            Lang::En => "en",
        }
    }
}

/// What the controller needs to know about the installation.
#[derive(Clone, Debug)]
pub struct Setup {
    pub kind: IdentifierKind,
    pub back_on_start: BackOnStart,
    pub idle_signout: Duration,
    pub qr_enabled: bool,
    /// Whether "Husk mig på dette TV" is offered (a store exists and `remember_max > 0`).
    pub remember: bool,
    /// Signaturgruppen: a remembered uuid can start a Flex request.
    pub flex_capable: bool,
    pub service_name: String,
    pub language: Lang,
    /// Embedded simulator: the simulated phone's URL.
    pub simulator_phone_url: Option<String>,
}

/// A change to the viewer store, carried out by the host off the UI thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewerOp {
    Remember { name: String, key: ViewerKey },
    Touch(ViewerKey),
    Forget(ViewerKey),
    ForgetAll,
}

/// Delivers a running session's updates; called from any thread.
pub type UpdateSink = Box<dyn FnMut(Update) + Send>;

/// Everything with side effects outside the window.
pub trait Host {
    /// Starts a sign-in. Its updates must reach [`Controller::apply_from`] on the UI thread
    /// through `sink` (see [`Controller::sink`]).
    fn start(&self, who: Who, sink: UpdateSink) -> Box<dyn Running>;
    /// A viewer signed in: hand the identity to the operator's middleware.
    fn signed_in(&self, profile: &Profile, reference_text: &str);
    /// Change the viewer store; the host answers with [`Controller::set_viewers`].
    fn viewers(&self, op: ViewerOp);
    /// Back on Start: leave the app.
    fn exit(&self);
}

pub trait Running {
    /// Idempotent: the session tells the OP once.
    fn cancel(&self);
}

/// Where Back from a pending request returns to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    Start,
    Identify,
}

pub(super) struct Journey {
    pub who: Who,
    pub origin: Origin,
    /// Set when the request came from a remembered viewer's tile.
    pub tile: Option<ViewerKey>,
}

pub(super) struct SignedIn {
    pub profile: Profile,
    pub key: Option<ViewerKey>,
    pub remembered: bool,
    pub details: bool,
}

pub(super) struct OutcomeView {
    pub kind: OutcomeKind,
    pub detail: String,
    pub details: bool,
    pub can_retry: bool,
    pub can_edit: bool,
}

pub(super) struct State {
    pub screen: Screen,
    pub focus: Item,
    pub lang: Lang,
    pub field: Field,
    pub shift: bool,
    pub id_error: IdError,
    pub generation: u64,
    pub running: Option<Box<dyn Running>>,
    pub journey: Option<Journey>,
    /// Deadline on the injected clock, and the request's whole lifetime.
    pub wait: Option<(Instant, Duration)>,
    pub reference_text: String,
    pub signed_in: Option<SignedIn>,
    pub outcome: Option<OutcomeView>,
    pub viewers: Vec<Viewer>,
    pub held: Option<(Dir, u32)>,
}

pub struct Controller {
    pub(super) app: AppWindow,
    pub(super) host: Rc<dyn Host>,
    pub(super) clock: Rc<dyn Clock>,
    pub(super) setup: Setup,
    pub(super) state: RefCell<State>,
    pub(super) me: Weak<Controller>,
    pub(super) countdown: Timer,
    pub(super) idle: Timer,
    pub(super) repeat: Timer,
}

impl Controller {
    pub fn new(
        app: &AppWindow,
        setup: Setup,
        host: Rc<dyn Host>,
        clock: Rc<dyn Clock>,
    ) -> Rc<Controller> {
        let ctl = Rc::new_cyclic(|me| Controller {
            app: app.clone_strong(),
            host,
            clock,
            state: RefCell::new(State {
                screen: Screen::Start,
                focus: Item::SignIn,
                lang: setup.language,
                field: Field::default(),
                shift: false,
                id_error: IdError::None,
                generation: 0,
                running: None,
                journey: None,
                wait: None,
                reference_text: String::new(),
                signed_in: None,
                outcome: None,
                viewers: Vec::new(),
                held: None,
            }),
            setup,
            me: me.clone(),
            countdown: Timer::default(),
            idle: Timer::default(),
            repeat: Timer::default(),
        });
        ctl.wire();
        let g = app.global::<App>();
        g.set_service_name(ctl.setup.service_name.as_str().into());
        if let Some(url) = ctl.setup.simulator_phone_url.clone() {
            ctl.set_simulator(&url);
        }
        ctl.set_language(ctl.setup.language);
        ctl.show(Screen::Start);
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
                c.activate(item);
            }
        });
    }

    pub fn screen(&self) -> Screen {
        self.state.borrow().screen
    }

    pub fn focused(&self) -> Item {
        self.state.borrow().focus
    }

    /// What the identifier field holds (CPR without its display dash).
    pub fn typed(&self) -> String {
        self.state.borrow().field.raw().to_string()
    }

    pub fn language(&self) -> Lang {
        self.state.borrow().lang
    }

    /// The focusable items of the screen being shown.
    pub fn grid(&self) -> Grid {
        let st = self.state.borrow();
        match st.screen {
            Screen::Start => {
                let n = st.viewers.len();
                let mut buttons = vec![Item::SignIn];
                if self.setup.qr_enabled {
                    buttons.push(Item::Qr);
                }
                let mut forget: Vec<Item> = (0..n).map(Item::Forget).collect();
                if n > 0 {
                    forget.push(Item::ForgetAll);
                }
                Grid::simple(vec![
                    vec![Item::Language],
                    buttons,
                    (0..n).map(Item::Tile).collect(),
                    forget,
                ])
            }
            Screen::Identify => keyboard::grid(self.setup.kind),
            Screen::Waiting | Screen::Qr => Grid::simple(vec![vec![Item::Cancel]]),
            Screen::SignedIn => {
                let mut row = vec![Item::Details];
                if st.signed_in.as_ref().is_some_and(|s| s.key.is_some()) && self.setup.remember {
                    row.push(Item::Remember);
                }
                row.push(Item::SignOut);
                Grid::simple(vec![row])
            }
            Screen::Outcome => {
                let mut row = Vec::new();
                if let Some(o) = &st.outcome {
                    if o.can_retry {
                        row.push(Item::Retry);
                    }
                    if o.can_edit {
                        row.push(Item::Edit);
                    }
                    row.push(Item::Home);
                    if !o.detail.is_empty() {
                        row.push(Item::Details);
                    }
                }
                Grid::simple(vec![row])
            }
        }
    }

    /// Where focus lands when a screen opens.
    fn default_focus(&self, screen: Screen) -> Item {
        match screen {
            Screen::Start => Item::SignIn,
            Screen::Waiting | Screen::Qr => Item::Cancel,
            Screen::SignedIn => Item::Details,
            _ => self.grid().first().unwrap_or(Item::SignIn),
        }
    }

    pub(super) fn show(&self, screen: Screen) {
        // One line per screen change: operators read the journey in journald, and the Xvfb
        // end-to-end test asserts on it.
        tracing::info!(screen = ?screen, "screen");
        self.repeat.stop();
        {
            let mut st = self.state.borrow_mut();
            st.screen = screen;
            st.held = None;
        }
        if screen != Screen::SignedIn {
            self.idle.stop();
        }
        self.push_screen();
        let focus = self.default_focus(screen);
        self.state.borrow_mut().focus = focus;
        self.app.global::<App>().set_screen(screen);
        self.push_focus();
    }

    pub(super) fn set_focus(&self, item: Item) {
        self.state.borrow_mut().focus = item;
        self.push_focus();
    }

    /// Keeps focus on an item that exists, e.g. after a tile was forgotten.
    pub(super) fn push_focus(&self) {
        let grid = self.grid();
        let focus = {
            let mut st = self.state.borrow_mut();
            if !grid.contains(st.focus) {
                // Stay in the same row, one to the left, when the item went away.
                st.focus = match st.focus {
                    Item::Tile(i) if i > 0 && grid.contains(Item::Tile(i - 1)) => Item::Tile(i - 1),
                    Item::Forget(i) if i > 0 && grid.contains(Item::Forget(i - 1)) => {
                        Item::Forget(i - 1)
                    }
                    Item::Tile(_) | Item::Forget(_) | Item::ForgetAll => Item::SignIn,
                    Item::Remember => Item::SignOut,
                    _ => grid.first().unwrap_or(st.focus),
                };
            }
            st.focus
        };
        let (target, row, col) = focus.to_slint();
        let nav = self.app.global::<Nav>();
        nav.set_target(target);
        nav.set_row(row);
        nav.set_col(col);
        self.app.invoke_refocus();
    }

    /// Shows the embedded simulator's phone page address (and a small QR of it).
    pub fn set_simulator(&self, phone_url: &str) {
        let g = self.app.global::<App>();
        g.set_simulator(true);
        g.set_phone_url(phone_url.into());
        match crate::qr::to_image(phone_url, 4) {
            Ok(img) => g.set_phone_qr(img),
            Err(e) => tracing::warn!(error = %e, "no QR for the simulator's phone page"),
        }
    }

    pub fn set_language(&self, lang: Lang) {
        self.state.borrow_mut().lang = lang;
        let code = match lang {
            Lang::Da => "da",
            Lang::En => "",
        };
        if let Err(e) = slint::select_bundled_translation(code) {
            tracing::warn!(error = %e, "cannot switch the UI language");
        }
        self.app.global::<App>().set_language(lang.code().into());
    }

    pub(super) fn activate(&self, item: Item) {
        match item {
            Item::Language => {
                let next = match self.language() {
                    Lang::Da => Lang::En,
                    Lang::En => Lang::Da,
                };
                self.set_language(next);
            }
            Item::SignIn => self.open_identify(true),
            Item::Qr => self.start(Who::Qr, Origin::Start, None),
            Item::Tile(i) => self.start_tile(i),
            Item::Forget(i) => {
                let key = self.state.borrow().viewers.get(i).map(|v| v.key.clone());
                if let Some(key) = key {
                    self.host.viewers(ViewerOp::Forget(key));
                }
            }
            Item::ForgetAll => self.host.viewers(ViewerOp::ForgetAll),
            Item::Key(r, c) => self.press_key(r, c),
            Item::Cancel => self.cancel(),
            Item::Details => self.toggle_details(),
            Item::Remember => self.toggle_remember(),
            Item::SignOut => self.sign_out(),
            Item::Retry => self.retry(),
            Item::Edit => self.open_identify(false),
            Item::Home => self.show(Screen::Start),
        }
    }

    pub(super) fn back(&self) {
        match self.screen() {
            Screen::Start => {
                if self.setup.back_on_start == BackOnStart::Exit {
                    self.host.exit();
                }
            }
            Screen::Identify => self.show(Screen::Start),
            Screen::Waiting | Screen::Qr => self.cancel(),
            Screen::SignedIn | Screen::Outcome if self.details_shown() => self.toggle_details(),
            Screen::SignedIn => self.sign_out(),
            Screen::Outcome => self.show(Screen::Start),
        }
    }
}
