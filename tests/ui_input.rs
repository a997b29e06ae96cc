//! Remote input details on Slint's testing backend: multi-tap letters on the number keys
//! (mock time and the manual clock together), digits, CPR validation and masking, the field
//! scrolling to its caret, the countdown under mock time, held and wrapping arrows, idle
//! sign-out and the runtime language switch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

use i_slint_backend_testing::ElementHandle;
use mitid_flex_tv::ciba::FlexSubject;
use mitid_flex_tv::config::IdentifierKind;
use mitid_flex_tv::session::{Outcome, Update, Who};
use mitid_flex_tv::ui::generated::{
    App, IdError, IdentifyAdapter, QrAdapter, Screen, WaitingAdapter,
};
use mitid_flex_tv::ui::multitap::{self, DEFAULT_TIMEOUT, Step};
use mitid_flex_tv::ui::{Item, Lang, ScreenKey};
use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};
use std::time::Duration;
use ui_support::*;

/// Moves the controller's clock and Slint's mock time together by `d` (one timer firing).
fn wait(ui: &Ui, d: Duration) {
    ui.clock.advance(d);
    i_slint_backend_testing::mock_elapsed_time(d);
}

fn field(ui: &Ui) -> (String, String) {
    let a = ui.app.global::<IdentifyAdapter>();
    (a.get_value().to_string(), a.get_pending().to_string())
}

fn user_id(s: &str) -> Who {
    Who::UserId(s.into())
}

#[test]
fn ileya_by_multi_tap_from_a_cold_start_takes_thirteen_presses() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    let mut presses = 0;
    // Each letter is on another key than the one before, so no press waits for a timeout:
    // the next key commits the letter before it. The first digit on Start opens the field.
    for step in multitap::plan("ileya").unwrap() {
        let Step::Press(key) = step else {
            panic!("ileya needs no wait")
        };
        ui.press(&key.to_string());
        presses += 1;
        // 100 ms between presses, well inside the timeout.
        wait(&ui, Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    assert_eq!(field(&ui), ("iley".into(), "a".into()));
    assert_eq!(ui.focused_label(), "Fortsæt");
    ui.ok(); // commits the pending "a", then Fortsæt sends
    presses += 1;
    assert_eq!(*ui.host.started.borrow(), vec![user_id("ileya")]);
    assert_eq!(presses, 13);
    assert!(presses <= 15);
}

#[test]
fn a_pending_letter_commits_at_its_timeout_on_the_tap_timer() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.press("2");
    ui.press("2");
    assert_eq!(field(&ui), (String::new(), "b".into()));
    wait(&ui, DEFAULT_TIMEOUT - Duration::from_millis(1));
    assert_eq!(field(&ui), (String::new(), "b".into()));
    wait(&ui, Duration::from_millis(1));
    assert_eq!(field(&ui), ("b".into(), String::new()));
    // The same key again starts a new letter instead of cycling on.
    ui.press("2");
    assert_eq!(field(&ui), ("b".into(), "a".into()));
    // 0 has no letters: it commits the pending one and types itself at once.
    ui.press("0");
    assert_eq!(field(&ui), ("ba0".into(), String::new()));
    // Nothing pending: the timer has nothing left to do.
    wait(&ui, DEFAULT_TIMEOUT);
    assert_eq!(field(&ui), ("ba0".into(), String::new()));
}

#[test]
fn arrows_grid_keys_and_ok_commit_first_and_delete_drops_the_pending_letter() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.press("4");
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    assert_eq!(field(&ui), (String::new(), "g".into()));
    // An arrow commits, then moves (from Fortsæt up onto the bottom letter row).
    ui.key(Key::UpArrow);
    assert_eq!(field(&ui), ("g".into(), String::new()));
    assert_ne!(ui.focused_label(), "Fortsæt");
    // A grid key commits the pending letter, then types its own.
    ui.press("5");
    ui.ctl.key(ScreenKey::Activate(Item::Key(3, 1))); // "z"
    assert_eq!(field(&ui), ("gjz".into(), String::new()));
    // Delete (Backspace) drops a pending letter first, then deletes typed ones.
    ui.press("6");
    ui.press("6");
    assert_eq!(field(&ui), ("gjz".into(), "n".into()));
    ui.press("\u{8}");
    assert_eq!(field(&ui), ("gjz".into(), String::new()));
    ui.press("\u{8}");
    assert_eq!(field(&ui), ("gj".into(), String::new()));
    // The on-screen Slet does the same.
    ui.press("7");
    ui.key(Key::UpArrow);
    assert_eq!(
        field(&ui),
        ("gjp".into(), String::new()),
        "the arrow committed p"
    );
    ui.press("8");
    ui.ctl.key(ScreenKey::Activate(Item::Key(0, 10))); // Slet
    assert_eq!(field(&ui), ("gjp".into(), String::new()));
    // Nothing is left pending for the timer after Delete.
    wait(&ui, DEFAULT_TIMEOUT);
    assert_eq!(field(&ui), ("gjp".into(), String::new()));
}

#[test]
fn shift_applies_to_the_multi_tap_letter_once() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.go_to("Store", Key::DownArrow);
    ui.ok();
    assert!(ui.app.global::<IdentifyAdapter>().get_shift());
    ui.press("4");
    ui.press("4");
    ui.press("4");
    assert_eq!(field(&ui), (String::new(), "I".into()));
    ui.press("5");
    assert_eq!(field(&ui), ("I".into(), "j".into()));
    assert!(!ui.app.global::<IdentifyAdapter>().get_shift());
}

#[test]
fn a_real_keyboard_letter_makes_number_keys_type_digits_for_good() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.press("4");
    assert_eq!(field(&ui), (String::new(), "g".into()));
    // A letter from a keyboard commits the pending letter and is typed as it came.
    ui.press("A");
    assert_eq!(field(&ui), ("gA".into(), String::new()));
    ui.press("2");
    ui.press("2");
    assert_eq!(field(&ui), ("gA22".into(), String::new()));
    // The keypad's letter hints go too: the number keys no longer type them.
    let a = ui.app.global::<IdentifyAdapter>();
    assert!(a.get_digits_only());
    // For the rest of the app's life, also on Start.
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    ui.press("7");
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    assert_eq!(field(&ui), ("7".into(), String::new()));
}

#[test]
fn uuid_number_keys_cycle_hex_letters_only() {
    let ui = start_ui(setup(IdentifierKind::Uuid));
    ui.press("3");
    ui.press("3");
    ui.press("3");
    assert_eq!(field(&ui), (String::new(), "f".into()));
    ui.press("5"); // no hex letter on 5: typed at once
    ui.press("1"); // "-" is 1's only symbol in a uuid
    assert_eq!(field(&ui), ("f5".into(), "-".into()));
    ui.ok();
    assert_eq!(ui.ctl.typed(), "f5-");
}

#[test]
fn focus_starts_on_the_letters_and_rows_wrap() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    assert_eq!(ui.focused_label(), "q");
    ui.key(Key::LeftArrow);
    assert_eq!(ui.focused_label(), "-");
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "q");
    ui.key(Key::DownArrow);
    ui.key(Key::LeftArrow);
    assert_eq!(ui.focused_label(), "_");
}

#[test]
fn a_long_id_scrolls_and_the_caret_stays_in_the_field() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    let find = |id: &str| {
        let e = ElementHandle::find_by_element_id(&ui.app, id)
            .next()
            .unwrap_or_else(|| panic!("no {id}"));
        (e.absolute_position().x, e.size().width)
    };
    let (left, width) = find("IdentifyScreen::viewport");
    let right = left + width;
    let (x0, _) = find("IdentifyScreen::caret");
    // 63 characters (one short of the longest ID), typed as grid keys would, then a pending
    // multi-tap letter after them: the caret follows both.
    for ch in "ileya.testperson-jensen.aarhus_kommune.borgerservice@example.dk".chars() {
        ui.ctl.key(ScreenKey::Char(ch));
    }
    assert_eq!(ui.ctl.typed().chars().count(), 63);
    let (typed_x, w) = find("IdentifyScreen::caret");
    assert!(
        typed_x > x0 && typed_x >= left && typed_x + w <= right,
        "caret at {typed_x}+{w}, field {left}..{right}"
    );
    ui.press("9");
    assert_eq!(field(&ui).1, "w");
    let (x, w) = find("IdentifyScreen::caret");
    assert!(
        x >= left && x + w <= right,
        "caret at {x}+{w} with a pending letter, field {left}..{right}"
    );
    // Committed by an arrow: the 64th character, still in view.
    ui.key(Key::UpArrow);
    assert_eq!(ui.ctl.typed().chars().count(), 64);
    let (x, w) = find("IdentifyScreen::caret");
    assert!(x >= left && x + w <= right);
}

#[test]
fn qr_instead_of_typing_is_offered_on_identify() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.press("4"); // pending "g": kept for Back
    ui.go_to("Brug QR-kode i stedet", Key::UpArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Qr);
    assert_eq!(*ui.host.started.borrow(), vec![Who::Qr]);
}

#[test]
fn with_start_qr_one_press_makes_the_code_and_identify_returns_to_it() {
    // Where Start shows its own code, the button goes there and makes one.
    let mut s = setup(IdentifierKind::UserId);
    s.qr_on_start = true;
    let ui = start_ui(s);
    ui.ok(); // one press: focus starts on "Vis QR-kode" (no viewers)
    assert_eq!(*ui.host.started.borrow(), vec![Who::Qr]);
    assert_eq!(ui.ctl.screen(), Screen::Start);
    ui.press("4");
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    ui.go_to("Brug QR-kode i stedet", Key::UpArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(*ui.host.started.borrow(), vec![Who::Qr, Who::Qr]);
}

#[test]
fn without_the_qr_sign_in_identify_offers_no_qr() {
    let mut s = setup(IdentifierKind::UserId);
    s.qr_enabled = false;
    let ui = start_ui(s);
    ui.ok();
    assert!(!ui.has_label("Brug QR-kode i stedet"));
}

#[test]
fn remote_digits_type_into_the_cpr_field() {
    let ui = start_ui(setup(IdentifierKind::Cpr));
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    let a = ui.app.global::<IdentifyAdapter>();
    assert_eq!(a.get_template_rest(), "DDMMÅÅ-XXXX");
    ui.type_text("0804");
    assert_eq!(a.get_value(), "0804");
    assert_eq!(a.get_pending(), "", "digits only: nothing pending");
    assert_eq!(a.get_template_rest(), "ÅÅ-XXXX");
    // Letters from a keyboard do not go into a CPR number.
    ui.type_text("ab");
    ui.type_text("361234");
    // Masked after the sixth digit as it is typed: the screen is shared.
    assert_eq!(a.get_value(), "080436-••••");
    assert_eq!(a.get_template_rest(), "");
    // An 11th digit is refused, Backspace deletes.
    ui.press("5");
    assert_eq!(ui.ctl.typed(), "0804361234");
    ui.press("\u{8}");
    assert_eq!(ui.ctl.typed(), "080436123");
    assert_eq!(ui.ctl.screen(), Screen::Identify);
}

#[test]
fn digits_on_start_open_the_field() {
    let ui = start_ui(setup(IdentifierKind::Cpr));
    ui.press("0");
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    assert_eq!(ui.ctl.typed(), "0");
    assert_eq!(ui.focused_label(), "Fortsæt");
}

#[test]
fn cpr_is_validated_and_nothing_is_sent() {
    let ui = start_ui(setup(IdentifierKind::Cpr));
    let a = ui.app.global::<IdentifyAdapter>();
    ui.type_text("0804");
    ui.ok();
    assert_eq!(a.get_error(), IdError::CprLength);
    assert!(
        ui.has_label("Et CPR-nummer har 10 cifre: DDMMÅÅ-XXXX.")
            || a.get_error() == IdError::CprLength
    );
    assert!(ui.host.started.borrow().is_empty());

    // Typing clears the message; 32 January is not a date.
    ui.press("\u{8}");
    assert_eq!(a.get_error(), IdError::None);
    ui.ok(); // focus stayed on Fortsæt
    ui.key(Key::UpArrow); // onto the pad
    for _ in 0..4 {
        ui.press("\u{8}");
    }
    ui.type_text("3201361234");
    ui.ok();
    assert_eq!(a.get_error(), IdError::CprDate);
    assert!(ui.host.started.borrow().is_empty());
    assert_eq!(ui.ctl.screen(), Screen::Identify);

    // The on-screen pad's Ryd key clears; a valid number is sent as a Flex CPR subject.
    ui.key(Key::UpArrow);
    ui.go_to("Ryd", Key::LeftArrow);
    ui.ok();
    assert_eq!(ui.ctl.typed(), "");
    ui.type_text("2902041234");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    let started = ui.host.started.borrow();
    assert!(
        matches!(started.as_slice(), [Who::Flex(FlexSubject::Cpr(_))]),
        "{started:?}"
    );
}

#[test]
fn uuid_kind_takes_hex_and_dashes_only() {
    let ui = start_ui(setup(IdentifierKind::Uuid));
    ui.type_text("EEE4B272-xyz6a33-40da-ab0b-5ce2abd42e78");
    assert_eq!(ui.ctl.typed(), "eee4b272-6a33-40da-ab0b-5ce2abd42e78");
    ui.ok();
    assert_eq!(
        *ui.host.started.borrow(),
        vec![Who::Flex(FlexSubject::Uuid(
            "eee4b272-6a33-40da-ab0b-5ce2abd42e78".into()
        ))]
    );
}

#[test]
fn countdown_ticks_once_a_second_under_mock_time() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.type_text("ileya");
    ui.ok();
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    let w = ui.app.global::<WaitingAdapter>();
    assert_eq!(w.get_remaining(), "05:00");
    assert!((w.get_progress() - 1.0).abs() < 1e-3);
    ui.advance_secs(1);
    assert_eq!(w.get_remaining(), "04:59");
    ui.advance_secs(60);
    assert_eq!(w.get_remaining(), "03:59");
    assert!((w.get_progress() - 239.0 / 300.0).abs() < 1e-3);
    ui.advance_secs(239);
    assert_eq!(w.get_remaining(), "00:00");
    assert_eq!(w.get_progress(), 0.0);
}

#[test]
fn qr_screen_shows_code_countdown_and_retries_on_request() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.key(Key::RightArrow);
    ui.ok();
    let q = ui.app.global::<QrAdapter>();
    assert_eq!(ui.ctl.screen(), Screen::Qr);
    assert!(!q.get_ready());
    ui.ctl.apply(waiting(
        "",
        120,
        Some("https://pp.netseidbroker.dk/op/connect/authorize?request_uri=urn:x"),
    ));
    assert!(q.get_ready());
    assert!(
        q.get_code().size().width >= 25 * 8,
        "at least 8 px per module"
    );
    assert_eq!(q.get_remaining(), "02:00");
    ui.advance_secs(2);
    assert_eq!(q.get_remaining(), "01:58");
    ui.ctl.apply(Update::Finished(Outcome::Expired));
    assert_eq!(ui.ctl.screen(), Screen::Outcome);
    ui.ok(); // Prøv igen
    assert_eq!(*ui.host.started.borrow(), vec![Who::Qr, Who::Qr]);
    assert_eq!(ui.ctl.screen(), Screen::Qr);
    assert!(
        !q.get_ready(),
        "the old code is not shown for the new request"
    );
}

#[test]
fn held_arrow_repeats_from_a_timer_and_platform_repeats_are_dropped() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    assert_eq!(ui.ctl.focused(), Item::Key(1, 0));
    let right = char::from(Key::RightArrow).to_string();
    ui.app.window().dispatch_event(WindowEvent::KeyPressed {
        text: right.clone().into(),
    });
    assert_eq!(ui.ctl.focused(), Item::Key(1, 1));
    // winit's own repeat events would double the speed: they are ignored.
    ui.app
        .window()
        .dispatch_event(WindowEvent::KeyPressRepeated {
            text: right.clone().into(),
        });
    assert_eq!(ui.ctl.focused(), Item::Key(1, 1));
    // No repeat before the delay, then one move per 100 ms.
    // (Mock time fires a timer at most once per call: advance in timer-sized steps.)
    for _ in 0..4 {
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.focused(), Item::Key(1, 1));
    for _ in 0..2 {
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.focused(), Item::Key(1, 3));
    ui.app
        .window()
        .dispatch_event(WindowEvent::KeyReleased { text: right.into() });
    for _ in 0..5 {
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.focused(), Item::Key(1, 3));
    ui.assert_focus_ok();
}

#[test]
fn idle_viewer_is_signed_out() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.type_text("ileya");
    ui.ok();
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    ui.advance_secs(50);
    ui.key(Key::RightArrow); // a key press restarts the 60 s
    ui.advance_secs(50);
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    ui.advance_secs(11);
    assert_eq!(ui.ctl.screen(), Screen::Start);
}

#[test]
fn language_switches_at_runtime_from_start() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    assert_eq!(ui.focused_label(), "Log på med MitID");
    ui.key(Key::UpArrow);
    assert_eq!(ui.ctl.focused(), Item::Language);
    ui.ok();
    assert_eq!(ui.ctl.language(), Lang::En);
    assert_eq!(ui.app.global::<App>().get_language(), "en");
    ui.key(Key::DownArrow);
    assert_eq!(ui.focused_label(), "Sign in with MitID");
    assert!(ui.has_label("Scan QR code with your phone"));
    ui.key(Key::UpArrow);
    ui.ok();
    ui.key(Key::DownArrow);
    assert_eq!(ui.focused_label(), "Log på med MitID");
}

#[test]
fn language_comes_from_config_then_lang() {
    assert_eq!(Lang::pick(None, None), Lang::Da);
    assert_eq!(Lang::pick(None, Some("en_GB.UTF-8")), Lang::En);
    assert_eq!(Lang::pick(Some("da"), Some("en_US.UTF-8")), Lang::Da);
    assert_eq!(Lang::pick(Some("en"), None), Lang::En);
    assert_eq!(Lang::pick(None, Some("C.UTF-8")), Lang::Da);
}

#[test]
fn every_source_string_has_a_danish_translation() {
    let po =
        std::fs::read_to_string("ui/translations/da/LC_MESSAGES/mitid-flex-tv.po").expect("da .po");
    let mut missing = Vec::new();
    for entry in walk("ui") {
        let text = std::fs::read_to_string(&entry).expect("slint source");
        for part in text.split("@tr(\"").skip(1) {
            let Some(end) = part.find('"') else { continue };
            let id = &part[..end];
            let needle = format!("msgid \"{id}\"\nmsgstr \"");
            match po.find(&needle) {
                Some(i) if !po[i + needle.len()..].starts_with('"') => {}
                _ => missing.push(id.to_string()),
            }
        }
    }
    assert!(missing.is_empty(), "untranslated: {missing:?}");
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "slint") {
                out.push(p);
            }
        }
    }
    out
}
