//! Shared harness for the headless UI tests: the real window and controller on Slint's
//! testing backend, a fake host that records what the UI asked for, and key helpers.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use i_slint_backend_testing::{ElementHandle, ElementRoot};
use mitid_flex_tv::ciba::Profile;
use mitid_flex_tv::config::{BackOnStart, IdentifierKind};
use mitid_flex_tv::session::{Update, Waiting, Who};
use mitid_flex_tv::ui::generated::AppWindow;
use mitid_flex_tv::ui::{
    Controller, EventSender, Host, Lang, ManualClock, Running, Setup, Speaker, UiEvent, ViewerOp,
};
use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};

#[derive(Default)]
pub struct FakeHost {
    pub started: RefCell<Vec<Who>>,
    pub cancels: Rc<Cell<u32>>,
    pub signed_in: Cell<u32>,
    pub ops: RefCell<Vec<ViewerOp>>,
    pub exits: Cell<u32>,
    pub speaker: Rc<FakeSpeaker>,
}

/// Records what the UI would say, as the real queue would speak it: nothing while off, and
/// the confirmation of "off" still said.
pub struct FakeSpeaker {
    pub said: RefCell<Vec<(Lang, String)>>,
    /// `speech = true` and a synthesiser found.
    pub available: Cell<bool>,
    pub on: Cell<bool>,
}

impl Default for FakeSpeaker {
    /// On, so every UI test also runs the spoken-guidance hooks.
    fn default() -> Self {
        Self {
            said: RefCell::default(),
            available: Cell::new(true),
            on: Cell::new(true),
        }
    }
}

impl FakeSpeaker {
    /// Everything said so far, and forget it.
    pub fn take(&self) -> Vec<String> {
        self.said.take().into_iter().map(|(_, t)| t).collect()
    }

    pub fn last(&self) -> Option<String> {
        self.said.borrow().last().map(|(_, t)| t.clone())
    }
}

impl Speaker for FakeSpeaker {
    fn say(&self, text: &str, lang: Lang) {
        if self.enabled() {
            self.said.borrow_mut().push((lang, text.to_string()));
        }
    }
    fn available(&self) -> bool {
        self.available.get()
    }
    fn enabled(&self) -> bool {
        self.available.get() && self.on.get()
    }
    fn set_enabled(&self, on: bool, confirm: &str, lang: Lang) {
        self.on.set(on);
        self.said.borrow_mut().push((lang, confirm.to_string()));
    }
}

struct FakeRunning(Rc<Cell<u32>>);

impl Running for FakeRunning {
    fn cancel(&self) {
        self.0.set(self.0.get() + 1);
    }
}

impl Host for FakeHost {
    fn start(&self, _generation: u64, who: Who) -> Box<dyn Running> {
        self.started.borrow_mut().push(who);
        Box::new(FakeRunning(self.cancels.clone()))
    }
    fn signed_in(&self, _profile: &Profile, _reference_text: &str) {
        self.signed_in.set(self.signed_in.get() + 1);
    }
    fn viewers(&self, op: ViewerOp) {
        self.ops.borrow_mut().push(op);
    }
    fn exit(&self) {
        self.exits.set(self.exits.get() + 1);
    }
    fn speaker(&self) -> Rc<dyn Speaker> {
        self.speaker.clone()
    }
}

pub struct Ui {
    pub app: AppWindow,
    pub ctl: Rc<Controller>,
    pub host: Rc<FakeHost>,
    pub clock: Rc<ManualClock>,
    /// The same channel the production host sends on.
    pub events: EventSender,
}

pub fn setup(kind: IdentifierKind) -> Setup {
    Setup {
        kind,
        back_on_start: BackOnStart::Exit,
        idle_signout: Duration::from_secs(60),
        qr_enabled: true,
        qr_on_start: false,
        typing: true,
        remember: true,
        flex_capable: true,
        service_name: "Stue-TV".into(),
        language: Lang::Da,
    }
}

pub fn start_ui(setup: Setup) -> Ui {
    i_slint_backend_testing::init_no_event_loop();
    let app = AppWindow::new().expect("window");
    let host = Rc::new(FakeHost::default());
    let clock = Rc::new(ManualClock::new());
    let (events, receiver) = mitid_flex_tv::ui::events::channel(&app);
    let ctl = Controller::new(&app, setup, host.clone(), clock.clone(), receiver);
    app.show().expect("show");
    // The testing backend ignores keys until the window is active (docs/ARCHITECTURE.md).
    app.window()
        .dispatch_event(WindowEvent::WindowActiveChanged(true));
    Ui {
        app,
        ctl,
        host,
        clock,
        events,
    }
}

impl Ui {
    /// Delivers `event` the way an IO thread does: through the channel, then the drain the
    /// wake-up triggers (the testing backend runs no event loop to wake).
    pub fn send(&self, event: UiEvent) {
        self.events.send(event);
        self.ctl.drain_events();
    }

    pub fn set_viewers(&self, viewers: Vec<mitid_flex_tv::viewers::Viewer>) {
        self.send(UiEvent::Viewers(viewers));
    }

    pub fn press(&self, text: &str) {
        self.app
            .window()
            .dispatch_event(WindowEvent::KeyPressed { text: text.into() });
        self.app
            .window()
            .dispatch_event(WindowEvent::KeyReleased { text: text.into() });
        self.assert_focus_ok();
    }

    pub fn key(&self, key: Key) {
        self.press(&char::from(key).to_string());
    }

    pub fn ok(&self) {
        self.press("\n");
    }

    pub fn back(&self) {
        self.press("\u{1b}");
    }

    pub fn type_text(&self, text: &str) {
        for ch in text.chars() {
            self.press(&ch.to_string());
        }
    }

    /// The widgets that draw the focus effect: exactly one, and the window keeps Slint's
    /// keyboard focus, after every key.
    pub fn focused_labels(&self) -> Vec<String> {
        self.app
            .root_element()
            .query_descendants()
            .match_predicate(|e| e.accessible_item_selected() == Some(true))
            .find_all()
            .iter()
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .collect()
    }

    pub fn focused_label(&self) -> String {
        let labels = self.focused_labels();
        assert_eq!(
            labels.len(),
            1,
            "exactly one focused widget, got {labels:?}"
        );
        labels[0].clone()
    }

    pub fn assert_focus_ok(&self) {
        assert!(
            self.app.get_keys_focused(),
            "the key FocusScope lost Slint focus"
        );
        let labels = self.focused_labels();
        assert_eq!(
            labels.len(),
            1,
            "exactly one focused widget on {:?}, got {labels:?}",
            self.ctl.screen()
        );
    }

    /// Moves with arrows until the focused widget has `label` (at most 40 presses).
    pub fn go_to(&self, label: &str, dir: Key) {
        for _ in 0..40 {
            if self.focused_label() == label {
                return;
            }
            self.key(dir);
        }
        panic!("never reached {label:?}; at {:?}", self.focused_label());
    }

    pub fn has_label(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(&self.app, label)
            .next()
            .is_some()
    }

    /// Advances Slint's mock time and the controller's clock together, in 1 s steps.
    pub fn advance_secs(&self, secs: u64) {
        for _ in 0..secs {
            self.clock.advance(Duration::from_secs(1));
            i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
        }
    }
}

pub fn waiting(reference: &str, secs: u64, uri: Option<&str>) -> Update {
    Update::Waiting(Waiting {
        reference_text: reference.into(),
        code: "4821".into(),
        left: Duration::from_secs(secs),
        expires_in: Duration::from_secs(secs),
        authentication_uri: uri.map(str::to_string),
    })
}

/// Two remembered viewers, the last-used first (as the store keeps them).
pub fn viewers() -> Vec<mitid_flex_tv::viewers::Viewer> {
    vec![
        mitid_flex_tv::viewers::Viewer {
            name: "Ileya Jensen".into(),
            key: mitid_flex_tv::viewers::ViewerKey::Uuid(
                "eee4b272-6a33-40da-ab0b-5ce2abd42e78".into(),
            ),
            last_used: 2,
        },
        mitid_flex_tv::viewers::Viewer {
            name: "Søren Østergaard".into(),
            key: mitid_flex_tv::viewers::ViewerKey::UserId("soeren".into()),
            last_used: 1,
        },
    ]
}

pub fn profile() -> Profile {
    Profile {
        sub: "s".into(),
        name: Some("Ileya Jensen".into()),
        uuid: Some("eee4b272-6a33-40da-ab0b-5ce2abd42e78".into()),
        date_of_birth: Some("1936-04-08".into()),
        age: Some(88),
        issuer: "http://127.0.0.1/op".into(),
        reference_text: None,
    }
}
