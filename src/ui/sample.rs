//! Sample data for `render`: the controller is driven through its real code paths with
//! synthetic session updates, so a render shows what a viewer would see.

use std::time::Duration;

use crate::ciba::Profile;
use crate::config::{BackOnStart, IdentifierKind};
use crate::session::{Outcome, Update, Waiting, Who, code};
use crate::viewers::{Viewer, ViewerKey};

use super::Lang;
use super::controller::Controller;
use super::events::UiEvent;
use super::focus::Item;
use super::host::{Host, Running, ViewerOp};
use super::journey::{ScreenKey, Setup};

pub struct SampleHost;

struct Idle;

impl Running for Idle {
    fn cancel(&self) {}
}

impl Host for SampleHost {
    fn start(&self, _generation: u64, _who: Who) -> Box<dyn Running> {
        Box::new(Idle)
    }
    fn signed_in(&self, _profile: &Profile, _reference_text: &str) {}
    fn viewers(&self, _op: ViewerOp) {}
    fn exit(&self) {}
}

pub fn setup(language: Lang) -> Setup {
    Setup {
        kind: IdentifierKind::UserId,
        back_on_start: BackOnStart::Exit,
        idle_signout: Duration::from_secs(900),
        qr_enabled: true,
        qr_on_start: false,
        typing: true,
        remember: true,
        flex_capable: true,
        service_name: "Stue-TV".into(),
        language,
    }
}

/// The installation a sample screen belongs to: the `start-broker*` screens are a
/// Signaturgruppen profile (QR code on Start, no typing path).
pub fn setup_for(screen: &str, language: Lang) -> Setup {
    let mut s = setup(language);
    if screen.starts_with("start-broker") || screen == "waiting-tile" {
        s.kind = IdentifierKind::Uuid;
        s.qr_on_start = true;
        s.typing = false;
    }
    if screen == "identify-cpr" {
        s.kind = IdentifierKind::Cpr;
    }
    s
}

/// A realistic broker `authentication_uri` (about 170 bytes, like the PP broker's).
pub const SAMPLE_AUTHENTICATION_URI: &str = "https://pp.netseidbroker.dk/op/connect/authorize?client_id=62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A7F3C2B9E41D84A0C9B5E6F1A2D3C4B5A";

pub fn viewers() -> Vec<Viewer> {
    let v = |name: &str, uuid: &str, last_used| Viewer {
        name: name.into(),
        key: ViewerKey::Uuid(uuid.into()),
        last_used,
    };
    vec![
        v(
            "Ileya Jensen",
            "eee4b272-6a33-40da-ab0b-5ce2abd42e78",
            1_700_000_300,
        ),
        v(
            "Søren Østergaard",
            "8a9856e0-f12d-4217-b320-c8a076be9320",
            1_700_000_200,
        ),
        v(
            "Åse Bække",
            "3b0f7c1e-5d2a-4c8e-9f61-2a7b4d9e0c15",
            1_700_000_100,
        ),
    ]
}

/// A full row: six viewers, with the long names a real household has.
pub fn six_viewers() -> Vec<Viewer> {
    let mut all = viewers();
    let more = [
        (
            "Christoffer Mølgaard-Rasmussen",
            "5c2e8f0a-9b1d-4e7c-a3f6-0d8b2c4e6a10",
        ),
        (
            "Ileya Testperson-Andersen Kristiansen",
            "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
        ),
        ("Bo Li", "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"),
    ];
    for (i, (name, uuid)) in more.into_iter().enumerate() {
        all.push(Viewer {
            name: name.into(),
            key: ViewerKey::Uuid(uuid.into()),
            last_used: 1_700_000_000 - i as u64,
        });
    }
    all
}

pub fn profile() -> Profile {
    Profile {
        sub: "7c9484f5-44bf-4e29-a683-84548951d3b8".into(),
        name: Some("Ileya Jensen".into()),
        uuid: Some("eee4b272-6a33-40da-ab0b-5ce2abd42e78".into()),
        date_of_birth: Some("1936-04-08".into()),
        age: Some(88),
        issuer: "https://pp.netseidbroker.dk/op".into(),
        reference_text: Some("Log på Stue-TV · kode 4821".into()),
    }
}

fn waiting(reference_text: &str, uri: Option<&str>) -> Update {
    let expires_in = Duration::from_secs(300);
    Update::Waiting(Waiting {
        reference_text: reference_text.into(),
        code: "4821".into(),
        // 4:12 left: a countdown part-way through reads better than a full bar.
        left: Duration::from_millis(252_000),
        expires_in,
        authentication_uri: uri.map(str::to_string),
    })
}

fn type_id(ctl: &Controller, text: &str) {
    ctl.key(ScreenKey::Activate(Item::SignIn));
    for ch in text.chars() {
        ctl.key(ScreenKey::Char(ch));
    }
}

fn submit(ctl: &Controller) {
    ctl.key(ScreenKey::Activate(ctl.focused()));
}

/// Brings the controller to `screen` the way a viewer would get there.
pub fn drive(ctl: &Controller, screen: &str) {
    // The reference text in the UI's language, as `[broker] reference_template_en` makes it.
    let template = match ctl.language() {
        Lang::Da => code::DEFAULT_TEMPLATE,
        Lang::En => code::DEFAULT_TEMPLATE_EN,
    };
    let reference = code::render(template, "Stue-TV", "4821");
    let reference = reference.as_str();
    let fail = |outcome: Outcome| {
        type_id(ctl, "ileya");
        submit(ctl);
        ctl.apply(waiting(reference, None));
        ctl.apply(Update::Finished(outcome));
    };
    match screen {
        "start-viewers" => {
            ctl.handle(UiEvent::Viewers(viewers()));
            ctl.set_focus(Item::Tile(0));
        }
        // Six tiles beside Start's own QR code: the narrowest the row gets.
        "start-broker-six" => {
            ctl.handle(UiEvent::Viewers(six_viewers()));
            ctl.key(ScreenKey::Activate(Item::Qr));
            ctl.apply(waiting("", Some(SAMPLE_AUTHENTICATION_URI)));
            ctl.set_focus(Item::Tile(0));
        }
        // "Rediger": Glem under each tile; then "Glem alle" asks first, "Nej" focused.
        "start-edit" | "start-confirm" => {
            ctl.handle(UiEvent::Viewers(six_viewers()));
            ctl.key(ScreenKey::Activate(Item::EditViewers));
            if screen == "start-confirm" {
                ctl.key(ScreenKey::Activate(Item::ForgetAll));
            }
        }
        // "Vis QR-kode": one press makes Start's code.
        "start-broker" => {
            ctl.handle(UiEvent::Viewers(viewers()));
            ctl.key(ScreenKey::Activate(Item::Qr));
            ctl.apply(waiting("", Some(SAMPLE_AUTHENTICATION_URI)));
            ctl.set_focus(Item::Tile(0));
        }
        "start-broker-expired" => {
            ctl.handle(UiEvent::Viewers(viewers()));
            ctl.key(ScreenKey::Activate(Item::Qr));
            ctl.apply(Update::Finished(Outcome::Expired));
        }
        // "ile" typed and "y" pending, by the remote's number keys (multi-tap).
        "identify" => {
            ctl.key(ScreenKey::Activate(Item::SignIn));
            for step in super::multitap::plan("iley").unwrap_or_default() {
                if let super::multitap::Step::Press(key) = step
                    && let Some(ch) = char::from_digit(u32::from(key), 10)
                {
                    ctl.key(ScreenKey::Char(ch));
                }
            }
            ctl.set_focus(Item::Key(0, 8));
        }
        // The longest user ID the field takes: it scrolls to keep the caret in view.
        "identify-long" => {
            type_id(
                ctl,
                "wilhelmina.mommsen-wormwood.hammerschmidt_markmann@mmwwmail.com",
            );
        }
        // A CPR number is masked after its sixth digit.
        "identify-cpr" => {
            type_id(ctl, "0804361234");
        }
        "waiting" => {
            type_id(ctl, "ileya");
            submit(ctl);
            ctl.apply(Update::Starting);
            ctl.apply(waiting(reference, None));
        }
        // Pushed from a remembered tile: "Sendt til …".
        "waiting-tile" => {
            ctl.handle(UiEvent::Viewers(viewers()));
            ctl.key(ScreenKey::Activate(Item::Tile(0)));
            ctl.apply(Update::Starting);
            ctl.apply(waiting(reference, None));
        }
        "qr" => {
            ctl.key(ScreenKey::Activate(Item::Qr));
            ctl.apply(waiting("", Some(SAMPLE_AUTHENTICATION_URI)));
        }
        "signed-in" => {
            type_id(ctl, "ileya");
            submit(ctl);
            ctl.apply(waiting(reference, None));
            ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
            ctl.key(ScreenKey::Activate(Item::Details));
        }
        "rejected" => fail(Outcome::Rejected),
        "expired" => fail(Outcome::Expired),
        "unknown-user" => fail(Outcome::UnknownUser),
        "too-many" => fail(Outcome::RateLimited { wait_secs: 95 }),
        "offline" => fail(Outcome::NoConnection { detail: "error sending request for url (https://pp.netseidbroker.dk/op/connect/token): connection refused".into() }),
        // This TV's own config: shown open, with the file and key to edit.
        "config-error" => ctl.handle(UiEvent::ConfigProblem {
            detail: "config: no client secret\nEdit /etc/mitid-flex-tv/config.toml: client_secret".into(),
        }),
        // The broker refused the operator's client: the service's setup, not MitID.
        "service-setup" => {
            fail(Outcome::ConfigRefused { detail: "invalid_client: client authentication failed (client_id 62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9)".into() });
            ctl.key(ScreenKey::Activate(Item::Details));
        }
        "mitid-error" => fail(Outcome::MitIdError { status: "internal_error".into() }),
        "failed" => fail(Outcome::Failed { detail: "unexpected answer from the token endpoint".into() }),
        _ => {}
    }
}
