//! Remote input details on Slint's testing backend: digits, CPR validation, the countdown
//! under mock time, held arrows, idle sign-out and the runtime language switch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

use mitid_flex_tv::ciba::FlexSubject;
use mitid_flex_tv::config::IdentifierKind;
use mitid_flex_tv::session::{Outcome, Update, Who};
use mitid_flex_tv::ui::generated::{
    App, IdError, IdentifyAdapter, QrAdapter, Screen, WaitingAdapter,
};
use mitid_flex_tv::ui::{Item, Lang};
use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};
use ui_support::*;

#[test]
fn remote_digits_type_into_the_cpr_field() {
    let ui = start_ui(setup(IdentifierKind::Cpr));
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    let a = ui.app.global::<IdentifyAdapter>();
    assert_eq!(a.get_template_rest(), "DDMMÅÅ-XXXX");
    ui.type_text("0804");
    assert_eq!(a.get_value(), "0804");
    assert_eq!(a.get_template_rest(), "ÅÅ-XXXX");
    // Letters from a keyboard do not go into a CPR number.
    ui.type_text("ab");
    ui.type_text("361234");
    assert_eq!(a.get_value(), "080436-1234");
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
    assert_eq!(ui.ctl.focused(), Item::Key(0, 0));
    let right = char::from(Key::RightArrow).to_string();
    ui.app.window().dispatch_event(WindowEvent::KeyPressed {
        text: right.clone().into(),
    });
    assert_eq!(ui.ctl.focused(), Item::Key(0, 1));
    // winit's own repeat events would double the speed: they are ignored.
    ui.app
        .window()
        .dispatch_event(WindowEvent::KeyPressRepeated {
            text: right.clone().into(),
        });
    assert_eq!(ui.ctl.focused(), Item::Key(0, 1));
    // No repeat before the delay, then one move per 100 ms.
    // (Mock time fires a timer at most once per call: advance in timer-sized steps.)
    for _ in 0..4 {
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.focused(), Item::Key(0, 1));
    for _ in 0..2 {
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.focused(), Item::Key(0, 3));
    ui.app
        .window()
        .dispatch_event(WindowEvent::KeyReleased { text: right.into() });
    for _ in 0..5 {
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(100));
    }
    assert_eq!(ui.ctl.focused(), Item::Key(0, 3));
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
