//! The journey as one value: which screen is up and exactly the state that screen needs.
//! A state that belongs to one screen lives in that screen's variant, so a countdown without a
//! request, or a profile outside "Signed in", cannot be represented.

use std::time::{Duration, Instant};

use crate::ciba::Profile;
use crate::config::{BackOnStart, IdentifierKind};
use crate::lang::Lang;
use crate::session::Who;
use crate::viewers::{Viewer, ViewerKey};

use super::focus::Item;
use super::generated::{IdError, OutcomeKind, Screen};
use super::host::{Running, ViewerOp};
use super::keyboard::Field;
use super::multitap::MultiTap;

/// What the UI needs to know about the installation.
#[derive(Clone, Debug)]
pub struct Setup {
    pub kind: IdentifierKind,
    pub back_on_start: BackOnStart,
    pub idle_signout: Duration,
    pub qr_enabled: bool,
    /// Signaturgruppen: Start itself shows the QR code (CIBA + PAR) beside the remembered
    /// viewers, instead of a separate QR screen.
    pub qr_on_start: bool,
    /// Whether Start offers a typing path at all (generic OPs and the simulator: the user ID;
    /// Signaturgruppen: only a CPR number, and only when the operator chose it).
    pub typing: bool,
    /// Whether "Husk mig på dette TV" is offered (a store exists and `remember_max > 0`).
    pub remember: bool,
    /// Signaturgruppen: a remembered uuid can start a Flex request.
    pub flex_capable: bool,
    pub service_name: String,
    pub language: Lang,
}

/// Where Back from a pending request returns to; from the field, with what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Start,
    Identify(Field),
}

/// One sign-in as the viewer asked for it; "Prøv igen" asks again with the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub who: Who,
    pub origin: Origin,
    /// Set when the request came from a remembered viewer's tile.
    pub tile: Option<ViewerKey>,
}

/// The identifier field and its keyboard.
#[derive(Clone, Debug, Default)]
pub struct Identify {
    pub field: Field,
    /// The next character typed is upper case (on-screen Shift; a multi-tap letter too).
    pub shift: bool,
    pub error: IdError,
    /// The remote's number keys typing letters; its pending letter is not in `field` yet.
    pub tap: MultiTap,
}

impl Identify {
    pub fn with(field: Field) -> Self {
        Self {
            field,
            ..Self::default()
        }
    }
}

/// The request's end on the injected clock, and its whole lifetime (for the bar).
#[derive(Clone, Copy, Debug)]
pub struct Countdown {
    pub deadline: Instant,
    pub total: Duration,
}

/// A request in flight: the Waiting or the QR screen.
pub struct Pending {
    pub request: Request,
    pub running: Box<dyn Running>,
    /// `None` until the broker accepted the request.
    pub countdown: Option<Countdown>,
    pub reference_text: String,
    /// The 4-digit code inside the reference text, shown on its own (empty for QR).
    pub code: String,
    pub connection_ok: bool,
    /// QR flow: the code to show once the broker gave its `authentication_uri`.
    pub qr: Option<(slint::Image, u32)>,
}

impl Pending {
    pub fn is_qr(&self) -> bool {
        self.request.who == Who::Qr
    }
}

pub struct SignedIn {
    pub profile: Profile,
    /// The text the viewer approved: part of the identity handed to the middleware.
    pub reference_text: String,
    /// What a remembered tile would sign in with; never a CPR number.
    pub key: Option<ViewerKey>,
    pub remembered: bool,
    pub details: bool,
    pub handoff: HandOff,
}

/// The hand-off to the box's middleware, made when the viewer presses "Fortsæt".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HandOff {
    #[default]
    NotYet,
    Sending,
    /// The middleware took the identity; the app stays (a kiosk) or has left.
    Done,
    Failed,
}

pub struct OutcomeView {
    pub kind: OutcomeKind,
    /// For the operator, behind "Detaljer".
    pub detail: String,
    pub details: bool,
    pub can_retry: bool,
    /// The request to retry or edit; `None` when the app could not start at all.
    pub request: Option<Request>,
    /// `TooMany`: seconds the viewer has to wait before trying again.
    pub wait_secs: u64,
}

impl OutcomeView {
    /// The field to reopen with "Ret ID", when the request came from it.
    pub fn edit_field(&self) -> Option<&Field> {
        match self.request.as_ref().map(|r| &r.origin) {
            // A setup problem (this TV's or the service's) is not fixed by another ID.
            Some(Origin::Identify(f))
                if !matches!(
                    self.kind,
                    OutcomeKind::ConfigError | OutcomeKind::ServiceSetup
                ) =>
            {
                Some(f)
            }
            _ => None,
        }
    }
}

/// The QR code on Start (Signaturgruppen profiles). Each code is a request at the broker, so
/// one is made only after a viewer's key press; an expired one waits for "Vis ny QR-kode".
pub enum StartQr {
    /// None asked for yet (the app just started, or the idle sign-out): one press makes one.
    Idle,
    /// Make one when this Start is shown (it was shown after a key press).
    Make,
    Live(Box<Pending>),
    Expired,
}

impl StartQr {
    pub fn pending(&self) -> Option<&Pending> {
        match self {
            StartQr::Live(p) => Some(p.as_ref()),
            _ => None,
        }
    }
}

/// Start's "Rediger" mode: Glem under each remembered viewer, and Glem alle. Nothing is
/// forgotten on one press: each asks "Ja" or "Nej" first, with "Nej" focused.
#[derive(Clone, Debug, Default)]
pub struct EditViewers {
    pub confirm: Option<Forget>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forget {
    One(ViewerKey),
    All,
}

pub enum Journey {
    Start(StartQr),
    /// Start with the remembered viewers in "Rediger" mode.
    EditViewers(EditViewers),
    Identify(Identify),
    Waiting(Pending),
    SignedIn(SignedIn),
    Outcome(OutcomeView),
}

impl Journey {
    /// Start as shown after a key press: with a fresh QR code where the profile shows one.
    pub fn start() -> Journey {
        Journey::Start(StartQr::Make)
    }

    /// The request in flight, on Waiting, QR or Start's own QR code.
    pub fn pending(&self) -> Option<&Pending> {
        match self {
            Journey::Waiting(p) => Some(p),
            Journey::Start(q) => q.pending(),
            _ => None,
        }
    }

    pub fn screen(&self) -> Screen {
        match self {
            Journey::Start(_) | Journey::EditViewers(_) => Screen::Start,
            Journey::Identify(_) => Screen::Identify,
            Journey::Waiting(p) if p.is_qr() => Screen::Qr,
            Journey::Waiting(_) => Screen::Waiting,
            Journey::SignedIn(_) => Screen::SignedIn,
            Journey::Outcome(_) => Screen::Outcome,
        }
    }
}

/// A key as a screen sees it: arrows and held keys are handled before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenKey {
    /// OK on (or a click of) this item.
    Activate(Item),
    Back,
    /// Backspace or Delete.
    Delete,
    Char(char),
}

/// What a screen asks the controller to do after a key.
pub enum Transition {
    /// The key means nothing here.
    Unused,
    /// Used; nothing changed.
    Stay,
    /// This screen's state changed: draw it again.
    Redraw,
    /// Redraw and move focus.
    Focus(Item),
    /// Another screen, with focus on its default item.
    To(Journey),
    /// Another screen, with focus on this item.
    ToFocused(Journey, Item),
    /// Make a QR code on Start itself (Signaturgruppen profiles).
    StartQr,
    /// Start a sign-in (a running one is cancelled first).
    SignIn(Request),
    /// Cancel the pending request and go back where it came from.
    Cancel,
    /// Change the viewer store; redraw (the store answers with the new list).
    Viewers(ViewerOp),
    /// "Fortsæt" on Signed in: hand the identity to the box's middleware.
    HandOff,
    /// Switch between Danish and English.
    ToggleLanguage,
    /// Leave the app.
    Exit,
}

/// What every screen may read besides its own state.
pub struct Ctx<'a> {
    pub setup: &'a Setup,
    pub viewers: &'a [Viewer],
    /// The UI's injected clock at this key (multi-tap timing).
    pub now: Instant,
    /// A real keyboard has typed a letter in this app: number keys type digits
    /// ([`super::keys::from_keyboard`]).
    pub keyboard: bool,
}

impl Ctx<'_> {
    /// The same installation with no remembered viewers.
    pub fn without_viewers(&self) -> Ctx<'_> {
        Ctx {
            setup: self.setup,
            viewers: &[],
            now: self.now,
            keyboard: self.keyboard,
        }
    }
}
