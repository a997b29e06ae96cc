//! Start on a Signaturgruppen profile: the QR code on Start itself, made only after a key and
//! never renewed by itself; no typing path unless the operator chose CPR; focus on the
//! last-used remembered viewer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

use mitid_flex_tv::ciba::FlexSubject;
use mitid_flex_tv::config::IdentifierKind;
use mitid_flex_tv::session::{Outcome, Update, Who};
use mitid_flex_tv::ui::generated::{QrAdapter, Screen, StartAdapter, StartQrState};
use mitid_flex_tv::ui::{Item, SAMPLE_AUTHENTICATION_URI, Setup};
use slint::ComponentHandle;
use slint::platform::Key;
use ui_support::*;

fn broker(kind: IdentifierKind) -> Setup {
    let mut s = setup(kind);
    s.qr_on_start = true;
    s.typing = kind == IdentifierKind::Cpr;
    s
}

#[test]
fn broker_start_offers_qr_and_no_uuid_keypad() {
    let ui = start_ui(broker(IdentifierKind::Uuid));
    assert_eq!(ui.ctl.screen(), Screen::Start);
    // An idle box asks the broker for nothing.
    assert!(ui.host.started.borrow().is_empty());
    assert!(!ui.ctl.grid().contains(Item::SignIn));
    assert_eq!(ui.focused_label(), "Vis QR-kode");
    // Typing has nowhere to go: no uuid keypad.
    ui.type_text("3a");
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert!(ui.host.started.borrow().is_empty());

    // One press: the code, on Start itself.
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(*ui.host.started.borrow(), vec![Who::Qr]);
    assert_eq!(ui.app.global::<StartAdapter>().get_qr(), StartQrState::Live);
    ui.ctl
        .apply(waiting("", 600, Some(SAMPLE_AUTHENTICATION_URI)));
    assert!(ui.app.global::<QrAdapter>().get_ready());
    assert!(ui.app.global::<QrAdapter>().get_side() <= 440.0);

    // It runs out: "Vis ny QR-kode", and no new request while the TV idles.
    ui.ctl.apply(Update::Finished(Outcome::Expired));
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Vis ny QR-kode");
    ui.advance_secs(30);
    assert_eq!(ui.host.started.borrow().len(), 1);
    ui.ok();
    assert_eq!(*ui.host.started.borrow(), vec![Who::Qr, Who::Qr]);

    // Approved on the phone: signed in from Start.
    ui.ctl
        .apply(waiting("", 600, Some(SAMPLE_AUTHENTICATION_URI)));
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
}

#[test]
fn start_shown_after_a_key_makes_a_code_and_a_tile_ends_it() {
    let ui = start_ui(broker(IdentifierKind::Uuid));
    ui.set_viewers(viewers());
    // The last-used viewer (the store's first) has focus: one OK pushes to their phone.
    assert_eq!(ui.ctl.focused(), Item::Tile(0));
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    let first = ui.host.started.borrow()[0].clone();
    assert!(matches!(first, Who::Flex(FlexSubject::Uuid(_))));

    // Annuller (a key) brings Start back with a fresh code.
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.host.started.borrow().last(), Some(&Who::Qr));
    let cancels = ui.host.cancels.get();
    // Leaving Start for a tile ends Start's code at the broker.
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    assert_eq!(ui.host.cancels.get(), cancels + 1);
    // A late answer for the abandoned code changes nothing.
    let gen_before = ui.ctl.generation();
    ui.ctl
        .apply_from(gen_before - 1, Update::Finished(Outcome::Expired));
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
}

#[test]
fn cpr_is_the_only_typing_path_and_only_when_chosen() {
    let ui = start_ui(broker(IdentifierKind::Cpr));
    assert!(ui.has_label("Log på med CPR-nummer"));
    assert_eq!(ui.focused_label(), "Log på med CPR-nummer");
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Vis QR-kode");
}

/// Six remembered viewers with long names, the last-used first.
fn six() -> Vec<mitid_flex_tv::viewers::Viewer> {
    let names = [
        "Ileya Jensen",
        "Søren Østergaard",
        "Christoffer Mølgaard-Rasmussen",
        "Ileya Testperson-Andersen Kristiansen",
        "Åse Bække",
        "Bo Li",
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, n)| mitid_flex_tv::viewers::Viewer {
            name: (*n).into(),
            key: mitid_flex_tv::viewers::ViewerKey::Uuid(format!(
                "0000000{i}-6a33-40da-ab0b-5ce2abd42e78"
            )),
            last_used: 10 - i as u64,
        })
        .collect()
}

/// The boxes (x, y, w, h in logical px) of the elements whose label starts with `prefix`.
fn boxes(ui: &Ui, prefix: &str) -> Vec<(f32, f32, f32, f32)> {
    use i_slint_backend_testing::ElementRoot;
    let prefix = prefix.to_string();
    ui.app
        .root_element()
        .query_descendants()
        .match_predicate(move |e| {
            e.accessible_label()
                .is_some_and(|l| l.starts_with(prefix.as_str()) && l != "Glem alle")
        })
        .find_all()
        .iter()
        .map(|e| {
            let (p, s) = (e.absolute_position(), e.size());
            (p.x, p.y, s.width, s.height)
        })
        .collect()
}

/// Inside the 5 % safe area of the 1920×1080 layout (which scale.rs scales to any output),
/// with room for the 12 px focus ring around each, in one row, none overlapping.
fn assert_row_in_safe_area(b: &[(f32, f32, f32, f32)], what: &str) {
    assert_eq!(b.len(), 6, "{what}: {b:?}");
    let ring = 12.0;
    for (i, &(x, y, w, h)) in b.iter().enumerate() {
        assert!(
            x - ring >= 96.0 && x + w + ring <= 1920.0 - 96.0,
            "{what} {i}: x {x} w {w}"
        );
        assert!(
            y - ring >= 54.0 && y + h + ring <= 1080.0 - 54.0,
            "{what} {i}: y {y} h {h}"
        );
        assert!(w >= 150.0, "{what} {i} is {w} px wide");
        assert_eq!(y, b[0].1, "{what}: one row");
        if i > 0 {
            assert!(
                b[i - 1].0 + b[i - 1].2 < x,
                "{what} {i} overlaps its neighbour"
            );
        }
    }
}

#[test]
fn six_tiles_and_their_glem_fit_the_safe_area_beside_the_qr_code() {
    let ui = start_ui(broker(IdentifierKind::Cpr));
    ui.app
        .window()
        .set_size(slint::LogicalSize::new(1920.0, 1080.0));
    ui.set_viewers(six());
    // The last-used viewer keeps the default focus.
    assert_eq!(ui.ctl.focused(), Item::Tile(0));
    ui.ok();
    ui.back();
    // Start again, with its own code (a press made it) beside the row.
    ui.ctl
        .apply(waiting("", 600, Some(SAMPLE_AUTHENTICATION_URI)));
    assert_eq!(ui.app.global::<StartAdapter>().get_qr(), StartQrState::Live);
    assert_row_in_safe_area(&boxes(&ui, "Log på som "), "tile");

    ui.go_to("Rediger huskede personer", Key::UpArrow);
    ui.ok();
    assert_row_in_safe_area(&boxes(&ui, "Glem "), "Glem");
    assert_row_in_safe_area(&boxes(&ui, "Log på som "), "tile in Rediger");
}
