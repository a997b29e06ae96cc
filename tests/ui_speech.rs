//! Spoken guidance, asserted exactly: the real window and controller on Slint's testing backend
//! with a recording speaker (tests/ui_support) in place of espeak-ng. What a viewer would hear
//! on each screen change, focus move, waiting code and outcome, in Danish and English, and the
//! INFO key (F5) that turns it off and on on Start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

use mitid_flex_tv::config::IdentifierKind;
use mitid_flex_tv::session::{Outcome, Update};
use mitid_flex_tv::ui::generated::Screen;
use mitid_flex_tv::ui::{Item, Lang, TOGGLE_KEY};
use slint::platform::Key;
use ui_support::*;

const REFERENCE: &str = "Log på Stue-TV · kode 4821";

/// From Start to Waiting by the user-ID keyboard, with what was said on the way forgotten.
fn to_waiting(ui: &Ui) {
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
}

#[test]
fn start_is_announced_and_focus_moves_say_the_label() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    // The heading and the focused button are the same words: said once.
    assert_eq!(ui.host.speaker.take(), ["Log på med MitID"]);

    ui.key(Key::RightArrow);
    assert_eq!(ui.host.speaker.take(), ["Scan QR-kode med din telefon"]);
    // At an edge focus stays: nothing new is said.
    ui.key(Key::RightArrow);
    assert!(ui.host.speaker.take().is_empty());

    // The language button names English in English, so it is said in English.
    ui.key(Key::UpArrow);
    assert_eq!(
        ui.host.speaker.said.take(),
        [(Lang::En, "Language: English".to_string())]
    );

    // The viewer list arrives: focus moves to the last-used viewer only if the viewer has not
    // moved yet; here they have, so the tile row is reached by arrows.
    ui.set_viewers(viewers());
    ui.key(Key::DownArrow);
    ui.key(Key::DownArrow);
    ui.key(Key::DownArrow);
    assert_eq!(
        ui.host.speaker.take(),
        [
            "Log på med MitID",
            "Rediger huskede personer",
            "Log på som Ileya Jensen"
        ]
    );
    ui.key(Key::RightArrow);
    assert_eq!(ui.host.speaker.take(), ["Log på som Søren Østergaard"]);
}

#[test]
fn editing_the_remembered_viewers_asks_aloud_before_forgetting() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.set_viewers(viewers());
    ui.key(Key::UpArrow);
    assert_eq!(ui.ctl.focused(), Item::EditViewers);
    ui.host.speaker.take();
    ui.ok();
    assert_eq!(
        ui.host.speaker.take(),
        ["Vælg, hvem TV'et skal glemme. Glem Ileya Jensen"]
    );
    ui.ok();
    assert_eq!(ui.ctl.focused(), Item::ConfirmNo);
    assert_eq!(
        ui.host.speaker.take(),
        ["Glem Ileya Jensen på dette TV? Nej, behold"]
    );
    ui.key(Key::RightArrow);
    assert_eq!(ui.host.speaker.take(), ["Ja, glem"]);
    ui.back();
    assert_eq!(ui.ctl.focused(), Item::Forget(0));
    assert_eq!(ui.host.speaker.take(), ["Glem Ileya Jensen"]);
    ui.key(Key::UpArrow);
    ui.key(Key::RightArrow);
    assert_eq!(ui.ctl.focused(), Item::ForgetAll);
    ui.host.speaker.take();
    ui.ok();
    ui.key(Key::RightArrow);
    assert_eq!(
        ui.host.speaker.take(),
        ["Glem alle på dette TV? Nej, behold", "Ja, glem alle"]
    );
    ui.key(Key::LeftArrow);
    ui.ok();
    ui.key(Key::LeftArrow);
    assert_eq!(ui.ctl.focused(), Item::EditViewers);
    assert_eq!(ui.host.speaker.take().last().unwrap(), "Færdig");
    assert!(ui.host.ops.borrow().is_empty(), "nobody was forgotten");
}

#[test]
fn the_last_used_viewer_is_announced_when_the_list_arrives() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.host.speaker.take();
    ui.set_viewers(viewers());
    assert_eq!(ui.ctl.focused(), Item::Tile(0));
    assert_eq!(ui.host.speaker.take(), ["Log på som Ileya Jensen"]);
}

/// After each move: the spoken label names what the focused widget shows (its accessible
/// label), so the Rust table cannot drift from the screens: the same words, or the same words
/// plus a state ("Husk mig på dette TV, fra").
fn moves_say_the_widget_labels(ui: &Ui, keys: &[Key]) {
    ui.host.speaker.take();
    let mut checked = 0;
    for &k in keys {
        let before = ui.ctl.focused();
        ui.key(k);
        let said = ui.host.speaker.take();
        if ui.ctl.focused() == before {
            assert!(said.is_empty(), "focus stayed, yet {said:?} was said");
            continue;
        }
        let shown = ui.focused_label();
        let said = said.last().expect("a focus move is spoken");
        assert!(
            said == &shown || said.starts_with(&format!("{shown}, ")),
            "said {said:?} for the widget {shown:?}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} moves were checked");
}

#[test]
fn spoken_labels_match_the_widgets_on_start() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.set_viewers(viewers());
    use Key::*;
    let keys = [
        RightArrow, DownArrow, RightArrow, RightArrow, UpArrow, UpArrow,
    ];
    moves_say_the_widget_labels(&ui, &keys);
    moves_say_the_widget_labels(&ui, &[LeftArrow, UpArrow, DownArrow, RightArrow]);
}

#[test]
fn spoken_labels_match_the_widgets_on_the_keyboard() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    use Key::*;
    let keys = [
        DownArrow, RightArrow, RightArrow, UpArrow, LeftArrow, DownArrow,
    ];
    moves_say_the_widget_labels(&ui, &keys);
}

#[test]
fn spoken_labels_match_the_widgets_on_the_number_pad() {
    use Key::*;
    let cpr = start_ui(setup(IdentifierKind::Cpr));
    cpr.ok();
    assert_eq!(cpr.ctl.screen(), Screen::Identify);
    moves_say_the_widget_labels(
        &cpr,
        &[
            DownArrow, RightArrow, DownArrow, DownArrow, LeftArrow, UpArrow,
        ],
    );
}

#[test]
fn spoken_labels_match_the_widgets_on_signed_in_and_outcome() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    to_waiting(&ui);
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    use Key::*;
    moves_say_the_widget_labels(&ui, &[RightArrow, RightArrow, LeftArrow, LeftArrow]);
    ui.go_to("Log ud", RightArrow);
    ui.ok();
    to_waiting(&ui);
    ui.ctl.apply(Update::Finished(Outcome::Rejected));
    assert_eq!(ui.ctl.screen(), Screen::Outcome);
    moves_say_the_widget_labels(&ui, &[RightArrow, RightArrow, LeftArrow, LeftArrow]);
}

#[test]
fn waiting_says_the_reference_text_and_code_once_per_request() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    to_waiting(&ui);
    assert_eq!(
        ui.host.speaker.last().unwrap(),
        "Godkend i MitID-appen. Sender anmodningen til MitID. Annuller"
    );
    ui.host.speaker.take();
    ui.ctl.apply(Update::Starting);
    assert!(ui.host.speaker.take().is_empty());
    ui.ctl.apply(waiting(REFERENCE, 300, None));
    assert_eq!(
        ui.host.speaker.take(),
        ["Godkend i MitID-appen. Tekst i MitID-appen: Log på Stue-TV kode 4 8 2 1. Kode 4 8 2 1"]
    );
    // A repeated update or a connection change of the same request says nothing new.
    ui.ctl.apply(waiting(REFERENCE, 290, None));
    ui.ctl.apply(Update::Connection { ok: false });
    ui.advance_secs(3);
    assert!(ui.host.speaker.take().is_empty());

    // A new request (Annuller, then again) is spoken again.
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    ui.go_to("Fortsæt", Key::DownArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    ui.host.speaker.take();
    ui.ctl.apply(waiting(REFERENCE, 300, None));
    assert_eq!(ui.host.speaker.take().len(), 1);
    // A stale request's update is dropped before it could be spoken.
    ui.events.send(mitid_flex_tv::ui::UiEvent::Session {
        generation: ui.ctl.generation() - 1,
        update: waiting("Log på · kode 1111", 300, None),
    });
    ui.ctl.drain_events();
    assert!(ui.host.speaker.take().is_empty());
}

#[test]
fn outcomes_are_announced() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    to_waiting(&ui);
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    assert_eq!(
        ui.host.speaker.take().last().unwrap(),
        "Velkommen, Ileya. Du er logget på med MitID. Fortsæt"
    );
    ui.key(Key::RightArrow);
    ui.key(Key::RightArrow);
    ui.key(Key::RightArrow);
    assert_eq!(
        ui.host.speaker.take(),
        ["Husk mig på dette TV, fra", "Log ud", "Vis detaljer"]
    );
    ui.ok();
    ui.key(Key::LeftArrow);
    ui.key(Key::RightArrow);
    assert_eq!(ui.host.speaker.take(), ["Log ud", "Skjul detaljer"]);

    for (outcome, said) in [
        (
            Outcome::Rejected,
            "Besked fra MitID. Login blev afvist i MitID. Anmodningen blev afvist i MitID-appen. \
             Ingen blev logget på. Prøv igen",
        ),
        (
            Outcome::Expired,
            "Besked fra MitID. Tiden løb ud. Anmodningen blev ikke godkendt i tide. Prøv igen",
        ),
        (
            Outcome::RateLimited { wait_secs: 30 },
            "Problem hos tjenesten. For mange login-forsøg. Der blev ikke sendt noget til din \
             telefon. Vent 30 sekunder, og prøv så igen. Prøv igen",
        ),
    ] {
        ui.back();
        if ui.ctl.screen() != Screen::Start {
            ui.back();
        }
        assert_eq!(ui.ctl.screen(), Screen::Start);
        to_waiting(&ui);
        ui.host.speaker.take();
        ui.ctl.apply(Update::Finished(outcome));
        assert_eq!(ui.ctl.screen(), Screen::Outcome);
        assert_eq!(ui.host.speaker.take(), [said]);
    }
}

#[test]
fn english_follows_the_runtime_language_switch() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.key(Key::UpArrow);
    ui.host.speaker.take();
    ui.ok();
    assert_eq!(ui.ctl.language(), Lang::En);
    assert_eq!(
        ui.host.speaker.said.take(),
        [(Lang::En, "English".to_string())]
    );
    // The button now offers Danish, named and said in Danish.
    ui.key(Key::DownArrow);
    ui.key(Key::UpArrow);
    assert_eq!(
        ui.host.speaker.said.take(),
        [
            (Lang::En, "Sign in with MitID".to_string()),
            (Lang::Da, "Sprog: dansk".to_string())
        ]
    );
    ui.key(Key::DownArrow);
    to_waiting(&ui);
    ui.host.speaker.take();
    ui.ctl
        .apply(waiting("Sign in to Stue-TV · code 4821", 300, None));
    assert_eq!(
        ui.host.speaker.said.take(),
        [(
            Lang::En,
            "Approve in the MitID app. Text in the MitID app: Sign in to Stue-TV code 4 8 2 1. Code 4 8 2 1"
                .to_string()
        )]
    );
    ui.ctl.apply(Update::Finished(Outcome::Expired));
    assert_eq!(
        ui.host.speaker.take(),
        ["Message from MitID. The time ran out. The request was not approved in time. Try again"]
    );
}

#[test]
fn info_key_turns_speech_off_and_on_on_start_only() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.host.speaker.take();
    ui.key(TOGGLE_KEY);
    assert_eq!(ui.host.speaker.take(), ["Oplæsning fra"]);
    assert!(!ui.host.speaker.on.get());
    // Off: focus moves and screens say nothing.
    ui.key(Key::RightArrow);
    ui.ok();
    ui.back();
    assert!(ui.host.speaker.take().is_empty());
    assert_eq!(ui.ctl.screen(), Screen::Start);
    ui.key(TOGGLE_KEY);
    assert_eq!(ui.host.speaker.take(), ["Oplæsning til. Log på med MitID"]);
    assert!(ui.host.speaker.on.get());
    // A held key's platform repeats do not flip it back and forth.
    let f5 = char::from(TOGGLE_KEY).to_string();
    assert!(ui.ctl.key_pressed(&f5, false));
    assert!(ui.ctl.key_pressed(&f5, true));
    assert!(ui.ctl.key_pressed(&f5, true));
    assert!(!ui.host.speaker.on.get());
    ui.key(TOGGLE_KEY);
    assert!(ui.host.speaker.on.get());

    // Elsewhere the key means nothing.
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    ui.host.speaker.take();
    ui.key(TOGGLE_KEY);
    assert!(ui.host.speaker.on.get());
    assert!(ui.host.speaker.take().is_empty());
    assert_eq!(ui.ctl.typed(), "");
}

#[test]
fn without_a_synthesiser_the_key_does_nothing() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.host.speaker.available.set(false);
    ui.host.speaker.take();
    ui.key(TOGGLE_KEY);
    ui.key(Key::RightArrow);
    assert!(ui.host.speaker.take().is_empty());
    assert!(
        !ui.ctl
            .key_pressed(&char::from(TOGGLE_KEY).to_string(), false)
    );
}
