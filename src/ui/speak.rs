//! Spoken guidance from the UI (`[ui] speech = true`): what a viewer who cannot read the screen
//! hears. Each screen's heading when it changes, the focused item's label when focus moves, the
//! reference text and code on Waiting (once per request) and how a request ended, in the UI's
//! current language.
//!
//! The controller only hands text to a [`Speaker`] (the Host supplies it); the production one
//! ([`crate::speech::Speech`]) queues it for a worker thread, so nothing here waits for a
//! synthesiser. The words are Rust strings in both languages (a synthesiser needs whole
//! sentences, not the `.slint` files' fragments); they say what the screen says.

use std::cell::Cell;

use slint::platform::Key;

use crate::config::IdentifierKind;
use crate::lang::Lang;
use crate::session::Update;
use crate::speech::{Language, Speaker, clean, spell_digits, waiting_code};

use super::controller::Controller;
use super::focus::Item;
use super::generated::{OutcomeKind, Screen};
use super::journey::{Forget, Journey, StartQr};
use super::keyboard;
use super::screens::waiting;

mod words;

use words::{key, other, outcome, sentences};

/// The remote's INFO key: the packaged XKB option `tv:remote` maps KEY_INFO to F5, which
/// Slint delivers as its F5 key on linuxkms, as winit does for a keyboard's F5.
pub const TOGGLE_KEY: Key = Key::F5;

/// The controller's speaker and what it already said.
pub struct Voice {
    speaker: std::rc::Rc<dyn Speaker>,
    /// The request whose code was spoken: once per request, not on every update.
    code_said: Cell<Option<u64>>,
    /// The item last announced: a focus change is spoken once, whoever moved it.
    focus_said: Cell<Option<Item>>,
}

impl Voice {
    pub fn new(speaker: std::rc::Rc<dyn Speaker>) -> Self {
        Self {
            speaker,
            code_said: Cell::new(None),
            focus_said: Cell::new(None),
        }
    }
}

impl Controller {
    fn speaking(&self) -> bool {
        self.voice.speaker.enabled()
    }

    fn say(&self, text: &str) {
        self.voice.speaker.say(text, self.language());
    }

    /// A new screen: its heading (and for an end, what happened), then the focused item.
    pub(super) fn announce_screen(&self) {
        if !self.speaking() {
            return;
        }
        self.voice.focus_said.set(Some(self.focused()));
        let heading = self.heading();
        let label = self.label(self.focused());
        // Start's heading and its first button are the same words.
        let label = if label == heading {
            String::new()
        } else {
            label
        };
        self.say(&sentences(&[&heading, &label]));
    }

    /// Focus moved: the new item's label. Nothing when it is the item last announced.
    pub(super) fn announce_focus(&self) {
        let to = self.focused();
        let from = self.voice.focus_said.replace(Some(to));
        if from == Some(to) || !self.speaking() {
            return;
        }
        let text = match (from, to) {
            // The language button names the other language in that language, for a viewer
            // who cannot follow the current one: say it in that language too.
            (_, Item::Language) => {
                let text = self.label(to);
                self.voice.speaker.say(&text, other(self.language()));
                return;
            }
            // "Glem …?" has just been asked: the question, then the focused answer.
            (Some(Item::ConfirmNo | Item::ConfirmYes), _) => self.label(to),
            (_, Item::ConfirmNo | Item::ConfirmYes) => {
                sentences(&[&self.heading(), &self.label(to)])
            }
            _ => self.label(to),
        };
        self.say(&text);
    }

    /// After a language switch: the new language, named in itself.
    pub(super) fn announce_language(&self) {
        if self.speaking() {
            self.say(self.language().text("Dansk", "English"));
        }
    }

    /// A session update of the request `generation` on Waiting: the first one with the
    /// reference text speaks it and the code, so the viewer can compare with the phone.
    pub(super) fn announce_update(&self, generation: u64, update: &Update) {
        let Update::Waiting(w) = update else { return };
        if self.screen() != Screen::Waiting
            || self.voice.code_said.get() == Some(generation)
            || !self.speaking()
        {
            return;
        }
        self.voice.code_said.set(Some(generation));
        let lang = self.language();
        let sent_to = match &*self.journey.borrow() {
            Journey::Waiting(p) => waiting::sent_to(p, &self.ctx(&self.viewers.borrow())),
            _ => String::new(),
        };
        let sent_to = match sent_to.as_str() {
            "" => String::new(),
            name => format!("{} {name}", lang.text("Sendt til", "Sent to")),
        };
        let shown = lang.text("Tekst i MitID-appen", "Text in the MitID app");
        // Symbols ("·") would be read out by name: only words and punctuation are spoken,
        // digits one by one, as in the code.
        let reference: String = crate::sanitize::clean(&w.reference_text)
            .chars()
            .map(|c| match c {
                c if c.is_alphanumeric() || " ,.:;!?'-".contains(c) => c,
                _ => ' ',
            })
            .collect();
        let reference = spell_digits(&clean(&reference));
        let code = waiting_code(Language::from(lang), &w.code);
        let text = sentences(&[
            lang.text("Godkend i MitID-appen", "Approve in the MitID app"),
            &sent_to,
            &format!("{shown}: {reference}"),
            &code,
        ]);
        self.say(&text);
    }

    /// The INFO key on Start turns speech on or off (only where `speech = true` found a
    /// synthesiser). Whether the key was used.
    pub(super) fn speech_key(&self, text: &str, repeat: bool) -> bool {
        if text != char::from(TOGGLE_KEY).to_string()
            || self.screen() != Screen::Start
            || !self.voice.speaker.available()
        {
            return false;
        }
        if repeat {
            return true;
        }
        let on = !self.voice.speaker.enabled();
        let lang = self.language();
        let confirm = if on {
            sentences(&[
                lang.text("Oplæsning til", "Speech on"),
                &self.label(self.focused()),
            ])
        } else {
            lang.text("Oplæsning fra", "Speech off").to_string()
        };
        tracing::info!(on, "spoken guidance toggled");
        self.voice.speaker.set_enabled(on, &confirm, lang);
        true
    }

    /// The screen's heading, and for Signed in and the outcomes what happened.
    fn heading(&self) -> String {
        let l = self.language();
        match &*self.journey.borrow() {
            Journey::Start(_) => l.text("Log på med MitID", "Sign in with MitID").into(),
            Journey::EditViewers(e) => match &e.confirm {
                Some(Forget::One(key)) => {
                    let viewers = self.viewers.borrow();
                    let name = viewers.iter().find(|v| &v.key == key).map(|v| &v.name);
                    let name = crate::sanitize::clean(name.map_or("", |n| n.as_str()));
                    match l {
                        Lang::Da => format!("Glem {name} på dette TV?"),
                        Lang::En => format!("Forget {name} on this TV?"),
                    }
                }
                Some(Forget::All) => l
                    .text("Glem alle på dette TV?", "Forget everyone on this TV?")
                    .into(),
                None if self.viewers.borrow().is_empty() => l
                    .text(
                        "Ingen er husket på dette TV",
                        "Nobody is remembered on this TV",
                    )
                    .into(),
                None => l
                    .text(
                        "Vælg, hvem TV'et skal glemme",
                        "Choose whom this TV should forget",
                    )
                    .into(),
            },
            Journey::Identify(_) => match self.setup.kind {
                IdentifierKind::Cpr => l.text("Indtast dit CPR-nummer", "Enter your CPR number"),
                IdentifierKind::Uuid => l.text("Indtast dit MitID UUID", "Enter your MitID UUID"),
                IdentifierKind::UserId => {
                    l.text("Indtast dit MitID bruger-ID", "Enter your MitID user ID")
                }
            }
            .into(),
            Journey::Waiting(p) if p.is_qr() => sentences(&[
                l.text(
                    "Scan QR-koden med din telefon",
                    "Scan the QR code with your phone",
                ),
                l.text(
                    "Ret telefonens kamera mod koden, og godkend i MitID-appen",
                    "Point your phone's camera at the code and approve in the MitID app",
                ),
            ]),
            Journey::Waiting(_) => sentences(&[
                l.text("Godkend i MitID-appen", "Approve in the MitID app"),
                l.text(
                    "Sender anmodningen til MitID",
                    "Sending the request to MitID",
                ),
            ]),
            Journey::SignedIn(s) => {
                let first = s
                    .profile
                    .name
                    .as_deref()
                    .map(crate::sanitize::clean)
                    .and_then(|n| n.split_whitespace().next().map(str::to_string));
                let welcome = match first {
                    Some(name) => format!("{} {name}", l.text("Velkommen,", "Welcome,")),
                    None => l.text("Velkommen", "Welcome").into(),
                };
                sentences(&[
                    &welcome,
                    l.text("Du er logget på med MitID", "You are signed in with MitID"),
                ])
            }
            Journey::Outcome(o) => {
                let qr = o.kind == OutcomeKind::UnknownUser && self.setup.qr_enabled;
                outcome(l, o.kind, o.wait_secs, qr)
            }
        }
    }

    /// What the focused item is, in words.
    fn label(&self, item: Item) -> String {
        let l = self.language();
        let journey = self.journey.borrow();
        let viewers = self.viewers.borrow();
        let name = |i: usize| {
            viewers
                .get(i)
                .map(|v| crate::sanitize::clean(&v.name))
                .unwrap_or_default()
        };
        let details = match &*journey {
            Journey::SignedIn(s) => s.details,
            Journey::Outcome(o) => o.details,
            _ => false,
        };
        match item {
            Item::Language => l.text("Language: English", "Sprog: dansk").into(),
            Item::SignIn if self.setup.kind == IdentifierKind::Cpr => l
                .text("Log på med CPR-nummer", "Sign in with CPR number")
                .into(),
            Item::SignIn => l.text("Log på med MitID", "Sign in with MitID").into(),
            Item::Qr => match &*journey {
                Journey::Outcome(_) => l.text("Brug QR-kode i stedet", "Use QR code instead"),
                Journey::Start(StartQr::Expired) if self.setup.qr_on_start => {
                    l.text("Vis ny QR-kode", "Show new QR code")
                }
                _ if self.setup.qr_on_start => l.text("Vis QR-kode", "Show QR code"),
                _ => l.text(
                    "Scan QR-kode med din telefon",
                    "Scan QR code with your phone",
                ),
            }
            .into(),
            Item::Tile(i) => format!("{} {}", l.text("Log på som", "Sign in as"), name(i)),
            Item::Forget(i) => format!("{} {}", l.text("Glem", "Forget"), name(i)),
            Item::ForgetAll => l.text("Glem alle", "Forget all").into(),
            Item::EditViewers if matches!(&*journey, Journey::EditViewers(_)) => {
                l.text("Færdig", "Done").into()
            }
            Item::EditViewers => l
                .text("Rediger huskede personer", "Edit remembered viewers")
                .into(),
            Item::ConfirmYes => match &*journey {
                Journey::EditViewers(e) if e.confirm == Some(Forget::All) => {
                    l.text("Ja, glem alle", "Yes, forget everyone")
                }
                _ => l.text("Ja, glem", "Yes, forget"),
            }
            .into(),
            Item::ConfirmNo => l.text("Nej, behold", "No, keep").into(),
            Item::Continue => l.text("Fortsæt", "Continue").into(),
            Item::Key(row, col) => {
                let shift = matches!(&*journey, Journey::Identify(st) if st.shift);
                key(l, keyboard::cap_at(self.setup.kind, row, col), shift)
            }
            Item::Cancel => l.text("Annuller", "Cancel").into(),
            Item::Details if details => l.text("Skjul detaljer", "Hide details").into(),
            Item::Details if matches!(&*journey, Journey::SignedIn(_)) => {
                l.text("Vis detaljer", "Show details").into()
            }
            Item::Details => l.text("Detaljer", "Details").into(),
            Item::Remember => {
                let on = matches!(&*journey, Journey::SignedIn(s) if s.remembered);
                let state = if on {
                    l.text("til", "on")
                } else {
                    l.text("fra", "off")
                };
                format!(
                    "{}, {state}",
                    l.text("Husk mig på dette TV", "Remember me on this TV")
                )
            }
            Item::SignOut => l.text("Log ud", "Sign out").into(),
            Item::Retry => l.text("Prøv igen", "Try again").into(),
            Item::Edit => l.text("Ret ID", "Change ID").into(),
            Item::Home => l.text("Til start", "Back to start").into(),
        }
    }
}
