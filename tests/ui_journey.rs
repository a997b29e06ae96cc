//! The TV journey driven by keys alone on Slint's testing backend: every screen is reachable,
//! focus is never lost (checked after every key by the harness), Back works everywhere, and
//! every session outcome leads to its screen.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

use i_slint_backend_testing::ElementHandle;
use mitid_flex_tv::ciba::FlexSubject;
use mitid_flex_tv::config::{BackOnStart, IdentifierKind};
use mitid_flex_tv::session::{Outcome, Update, Who};
use mitid_flex_tv::ui::generated::{
    OutcomeAdapter, OutcomeKind, Screen, SignedInAdapter, WaitingAdapter,
};
use mitid_flex_tv::ui::{Item, UiEvent, ViewerOp};
use slint::ComponentHandle;
use slint::platform::Key;
use ui_support::*;

#[test]
fn whole_journey_by_keys_alone() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Log på med MitID");

    // Start → Identify, type on the on-screen keyboard: i is row 1.
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    assert_eq!(ui.focused_label(), "q", "focus starts on the letters");
    ui.go_to("i", Key::RightArrow);
    ui.ok();
    assert_eq!(ui.ctl.typed(), "i");
    // The rest from the keyboard, straight into the field; focus jumps to Fortsæt.
    ui.type_text("leya");
    assert_eq!(ui.ctl.typed(), "ileya");
    assert_eq!(ui.focused_label(), "Fortsæt");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    assert_eq!(*ui.host.started.borrow(), vec![Who::UserId("ileya".into())]);
    assert_eq!(ui.focused_label(), "Annuller");

    ui.ctl.apply(Update::Starting);
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    assert_eq!(
        ui.app.global::<WaitingAdapter>().get_reference_text(),
        "Log på Stue-TV · kode 4821"
    );
    assert_eq!(ui.app.global::<WaitingAdapter>().get_remaining(), "05:00");

    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    // Nothing reaches the middleware before the viewer says "Fortsæt".
    assert_eq!(ui.host.signed_in.get(), 0);
    assert!(
        ui.has_label("Velkommen, Ileya Jensen")
            || ui.app.global::<SignedInAdapter>().get_name() == "Ileya Jensen"
    );
    assert_eq!(ui.focused_label(), "Fortsæt");
    ui.go_to("Vis detaljer", Key::RightArrow);
    ui.ok();
    assert!(ui.app.global::<SignedInAdapter>().get_details_shown());
    assert_eq!(
        ui.app.global::<SignedInAdapter>().get_uuid_masked(),
        "eee4b272-••••-••••-••••-••••••••2e78"
    );

    // Opt in to being remembered, then sign out.
    ui.go_to("Husk mig på dette TV", Key::LeftArrow);
    ui.ok();
    assert_eq!(
        *ui.host.ops.borrow(),
        vec![ViewerOp::Remember {
            name: "Ileya Jensen".into(),
            key: mitid_flex_tv::viewers::ViewerKey::Uuid(
                "eee4b272-6a33-40da-ab0b-5ce2abd42e78".into()
            )
        }]
    );
    ui.go_to("Log ud", Key::RightArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Log på med MitID");

    // The QR route.
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Scan QR-kode med din telefon");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Qr);
    assert_eq!(ui.host.started.borrow().last(), Some(&Who::Qr));
}

#[test]
fn back_works_on_every_screen() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    // Identify → Start.
    ui.ok();
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);

    // Waiting → cancels once and returns to the field with the text kept.
    ui.type_text("ileya");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    ui.back();
    assert_eq!(ui.host.cancels.get(), 1);
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    assert_eq!(ui.ctl.typed(), "ileya");
    // A late update from the cancelled request changes nothing.
    let stale = ui.ctl.generation() - 1;
    ui.ctl
        .apply_from(stale, Update::Finished(Outcome::Cancelled));
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    ui.back();

    // QR → cancels, back to Start.
    ui.key(Key::RightArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Qr);
    ui.back();
    assert_eq!(ui.host.cancels.get(), 2);
    assert_eq!(ui.ctl.screen(), Screen::Start);

    // Outcome → Start (Backspace is Back where no field takes text).
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    ui.ctl.apply(Update::Finished(Outcome::Rejected));
    assert_eq!(ui.ctl.screen(), Screen::Outcome);
    ui.press("\u{8}");
    assert_eq!(ui.ctl.screen(), Screen::Start);

    // Signed in: Back closes the details first, then signs out.
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    ui.go_to("Vis detaljer", Key::RightArrow);
    ui.ok();
    assert!(ui.app.global::<SignedInAdapter>().get_details_shown());
    ui.back();
    assert!(!ui.app.global::<SignedInAdapter>().get_details_shown());
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);

    // Start → exit.
    assert_eq!(ui.host.exits.get(), 0);
    ui.back();
    assert_eq!(ui.host.exits.get(), 1);
}

#[test]
fn back_on_start_can_be_ignored() {
    let mut s = setup(IdentifierKind::UserId);
    s.back_on_start = BackOnStart::Ignore;
    let ui = start_ui(s);
    ui.back();
    ui.press("\u{8}");
    assert_eq!(ui.host.exits.get(), 0);
    assert_eq!(ui.ctl.screen(), Screen::Start);
}

#[test]
fn each_outcome_leads_to_its_screen() {
    let cases = [
        (Outcome::Rejected, OutcomeKind::Rejected, "Prøv igen"),
        (Outcome::Expired, OutcomeKind::Expired, "Prøv igen"),
        (Outcome::UnknownUser, OutcomeKind::UnknownUser, "Ret ID"),
        (
            Outcome::NoConnection {
                detail: "refused".into(),
            },
            OutcomeKind::Offline,
            "Prøv igen",
        ),
        (
            Outcome::ConfigRefused {
                detail: "invalid_client".into(),
            },
            OutcomeKind::ServiceSetup,
            "Til start",
        ),
        (Outcome::StartAgain, OutcomeKind::MitidError, "Prøv igen"),
        (
            Outcome::TokenRejected {
                detail: "aud".into(),
            },
            OutcomeKind::Failed,
            "Prøv igen",
        ),
        (
            Outcome::MitIdError { status: "x".into() },
            OutcomeKind::MitidError,
            "Prøv igen",
        ),
        (
            Outcome::Failed {
                detail: "transaction_failed".into(),
            },
            OutcomeKind::Failed,
            "Prøv igen",
        ),
    ];
    let ui = start_ui(setup(IdentifierKind::UserId));
    for (outcome, kind, first_button) in cases {
        ui.ok();
        ui.type_text("ileya");
        ui.ok();
        ui.ctl
            .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
        let detail = !matches!(
            outcome,
            Outcome::Rejected | Outcome::Expired | Outcome::UnknownUser
        );
        ui.ctl.apply(Update::Finished(outcome.clone()));
        assert_eq!(ui.ctl.screen(), Screen::Outcome, "{outcome:?}");
        let a = ui.app.global::<OutcomeAdapter>();
        assert_eq!(a.get_kind(), kind, "{outcome:?}");
        assert_eq!(ui.focused_label(), first_button, "{outcome:?}");
        // The operator detail is there, behind "Detaljer" only.
        assert_eq!(a.get_detail().is_empty(), !detail, "{outcome:?}");
        if detail {
            assert!(!a.get_details_shown());
            ui.go_to("Detaljer", Key::RightArrow);
            ui.ok();
            assert!(a.get_details_shown());
        }
        ui.back();
        if detail {
            ui.back();
        }
        assert_eq!(ui.ctl.screen(), Screen::Start, "{outcome:?}");
    }
    // Cancelled (e.g. at exit) goes home; SignedIn was covered by the journey.
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    ui.ctl.apply(Update::Finished(Outcome::Cancelled));
    assert_eq!(ui.ctl.screen(), Screen::Start);
}

#[test]
fn try_again_makes_a_new_request_only_when_pressed() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    ui.ctl.apply(waiting("x", 300, None));
    ui.ctl.apply(Update::Finished(Outcome::Expired));
    assert_eq!(ui.host.started.borrow().len(), 1);
    ui.advance_secs(5);
    assert_eq!(
        ui.host.started.borrow().len(),
        1,
        "no request without a press"
    );
    assert_eq!(ui.focused_label(), "Prøv igen");
    ui.ok();
    assert_eq!(ui.host.started.borrow().len(), 2);
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
}

#[test]
fn remembered_viewer_signs_in_with_one_press() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.set_viewers(viewers());
    // The last-used viewer has focus when the list arrives: one OK.
    assert_eq!(ui.ctl.focused(), Item::Tile(0));
    assert_eq!(ui.focused_label(), "Log på som Ileya Jensen");
    ui.ok();
    assert_eq!(
        *ui.host.started.borrow(),
        vec![Who::Flex(FlexSubject::Uuid(
            "eee4b272-6a33-40da-ab0b-5ce2abd42e78".into()
        ))]
    );
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.ctl.focused(), Item::Tile(0));
    // Outside "Rediger", nothing on Start forgets anyone.
    let grid = ui.ctl.grid();
    assert!(!grid.contains(Item::Forget(0)) && !grid.contains(Item::ForgetAll));
}

#[test]
fn forgetting_takes_rediger_and_a_yes_and_stray_presses_forget_nobody() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    let viewers = viewers();
    ui.set_viewers(viewers.clone());
    ui.key(Key::UpArrow);
    assert_eq!(ui.focused_label(), "Rediger huskede personer");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Glem Ileya Jensen");
    // Tiles do not sign anyone in while editing.
    assert!(!ui.ctl.grid().contains(Item::Tile(0)));

    // Glem → the question, "Nej" focused: a stray second OK keeps the viewer.
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Glem Søren Østergaard");
    ui.ok();
    assert!(ui.has_label("Glem Søren Østergaard på dette TV?"));
    assert_eq!(ui.focused_label(), "Nej, behold");
    ui.ok();
    assert!(ui.host.ops.borrow().is_empty());
    assert_eq!(ui.focused_label(), "Glem Søren Østergaard");
    // Back answers "Nej" too.
    ui.ok();
    ui.back();
    assert!(ui.host.ops.borrow().is_empty());
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Glem Søren Østergaard");
    // Glem, then "Ja".
    ui.ok();
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Ja, glem");
    ui.ok();
    assert_eq!(
        *ui.host.ops.borrow(),
        vec![ViewerOp::Forget(viewers[1].key.clone())]
    );
    // The store answers with the new list; focus stays on something that exists.
    ui.set_viewers(vec![viewers[0].clone()]);
    ui.assert_focus_ok();

    // Glem alle asks too; three stray OKs forget nobody.
    ui.go_to("Færdig", Key::UpArrow);
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Glem alle");
    for _ in 0..3 {
        ui.ok();
    }
    assert_eq!(ui.host.ops.borrow().len(), 1);
    assert_eq!(ui.focused_label(), "Nej, behold");
    assert!(ui.has_label("Glem alle på dette TV?"));
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Ja, glem alle");
    ui.ok();
    assert_eq!(ui.host.ops.borrow().last(), Some(&ViewerOp::ForgetAll));
    ui.set_viewers(Vec::new());
    ui.assert_focus_ok();
    assert_eq!(ui.focused_label(), "Færdig");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Log på med MitID");
}

#[test]
fn rediger_ends_with_faerdig_or_back_on_the_rediger_button() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.set_viewers(viewers());
    ui.key(Key::UpArrow);
    ui.ok();
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.focused_label(), "Rediger huskede personer");
    assert_eq!(ui.host.exits.get(), 0, "Back leaves the mode, not the app");
    ui.ok();
    ui.go_to("Færdig", Key::UpArrow);
    ui.ok();
    assert_eq!(ui.focused_label(), "Rediger huskede personer");
    // And the tile still signs in with one press from there.
    ui.key(Key::DownArrow);
    assert_eq!(ui.focused_label(), "Log på som Ileya Jensen");
}

fn signed_in_ui(back_on_start: BackOnStart) -> Ui {
    let mut s = setup(IdentifierKind::UserId);
    s.back_on_start = back_on_start;
    let ui = start_ui(s);
    ui.ok();
    ui.type_text("ileya");
    ui.press("\n");
    ui.ctl.apply(Update::Starting);
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    ui
}

/// Where an element is on screen (logical px), by its accessible label.
fn place(ui: &Ui, label: &str) -> (f32, f32) {
    let e = ElementHandle::find_by_accessible_label(&ui.app, label)
        .next()
        .unwrap_or_else(|| panic!("no {label:?}"));
    let p = e.absolute_position();
    (p.x, p.y)
}

#[test]
fn fortsaet_is_focused_hands_off_once_and_returns_to_the_launcher() {
    let ui = signed_in_ui(BackOnStart::Exit);
    assert_eq!(ui.focused_label(), "Fortsæt");
    assert_eq!(ui.host.signed_in.get(), 0);
    ui.ok();
    assert_eq!(ui.host.signed_in.get(), 1, "the hand-off hook runs");
    assert!(ui.app.global::<SignedInAdapter>().get_handoff_sending());
    assert!(ui.has_label("Sender dit login videre til Stue-TV …"));
    // A second press while the hook runs sends nothing twice.
    ui.ok();
    assert_eq!(ui.host.signed_in.get(), 1);
    assert_eq!(ui.host.exits.get(), 0, "the app waits for the middleware");
    // The middleware has it: the app leaves, and the box's launcher is back.
    ui.send(UiEvent::HandedOff);
    assert_eq!(ui.host.exits.get(), 1);
}

#[test]
fn fortsaet_in_a_kiosk_hands_off_and_stays() {
    let ui = signed_in_ui(BackOnStart::Ignore);
    ui.ok();
    ui.send(UiEvent::HandedOff);
    assert_eq!(ui.host.exits.get(), 0);
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    assert!(ui.app.global::<SignedInAdapter>().get_handed_off());
    assert!(ui.has_label("Stue-TV har fået dit login."));
    ui.ok();
    assert_eq!(ui.host.signed_in.get(), 1, "handed off once");
    ui.assert_focus_ok();
}

#[test]
fn log_ud_is_secondary_and_details_move_no_button() {
    let ui = signed_in_ui(BackOnStart::Exit);
    let buttons = ["Fortsæt", "Husk mig på dette TV", "Log ud", "Vis detaljer"];
    let before: Vec<_> = buttons.iter().map(|b| place(&ui, b)).collect();
    ui.go_to("Vis detaljer", Key::RightArrow);
    ui.ok();
    assert!(ui.app.global::<SignedInAdapter>().get_details_shown());
    assert_eq!(ui.focused_label(), "Skjul detaljer");
    let mut after: Vec<_> = buttons[..3].iter().map(|b| place(&ui, b)).collect();
    after.push(place(&ui, "Skjul detaljer"));
    assert_eq!(before, after, "opening the details moved a button");
    // A message appearing moves none either.
    ui.send(UiEvent::HandoffFailed);
    let mut failed: Vec<_> = buttons[..3].iter().map(|b| place(&ui, b)).collect();
    failed.push(place(&ui, "Skjul detaljer"));
    assert_eq!(before, failed);
    // The idle sign-out note is calm: no warning, just what happens.
    assert!(
        ui.has_label("Efter 1 minutter uden tryk på fjernbetjeningen logger TV'et dig selv ud.")
    );
}

#[test]
fn a_failed_hand_off_is_shown_and_fortsaet_tries_again() {
    let ui = signed_in_ui(BackOnStart::Ignore);
    let banner = "TV'et kunne ikke give tjenesten besked om dit login. Tryk på Fortsæt for at prøve igen; sker det igen, så kontakt din TV-udbyder.";
    assert!(!ui.has_label(banner));
    ui.ok();
    ui.send(UiEvent::HandoffFailed);
    assert!(ui.app.global::<SignedInAdapter>().get_handoff_failed());
    assert!(ui.has_label(banner), "the Danish message is on screen");
    ui.assert_focus_ok();
    assert_eq!(ui.focused_label(), "Fortsæt");
    ui.ok();
    assert_eq!(ui.host.signed_in.get(), 2, "Fortsæt tries again");
    assert!(!ui.app.global::<SignedInAdapter>().get_handoff_failed());
    ui.go_to("Log ud", Key::RightArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert!(!ui.app.global::<SignedInAdapter>().get_handoff_sending());
}

#[test]
fn a_config_problem_shows_what_to_edit_and_the_app_stays_up() {
    let mut s = setup(IdentifierKind::UserId);
    s.back_on_start = BackOnStart::Ignore;
    let ui = start_ui(s);
    let detail = "config: no client secret\nEdit /etc/mitid-flex-tv/config.toml: client_secret";
    ui.send(UiEvent::ConfigProblem {
        detail: detail.into(),
    });
    assert_eq!(ui.ctl.screen(), Screen::Outcome);
    let a = ui.app.global::<OutcomeAdapter>();
    assert_eq!(a.get_kind(), OutcomeKind::ConfigError);
    assert_eq!(a.get_detail(), detail);
    assert!(
        a.get_details_shown(),
        "the file and key are on screen at once"
    );
    assert_eq!(ui.focused_label(), "Til start");
    // Back closes the details, then goes to Start, where it does nothing in a kiosk.
    ui.back();
    assert!(!a.get_details_shown());
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.host.exits.get(), 0);
}

#[test]
fn a_late_update_of_a_cancelled_request_arrives_through_the_channel_and_is_dropped() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    let first = ui.ctl.generation();
    ui.back();
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    ui.send(UiEvent::Session {
        generation: first,
        update: waiting("Log på Stue-TV · kode 4821", 300, None),
    });
    assert_eq!(ui.ctl.screen(), Screen::Identify);
    ui.go_to("Fortsæt", Key::DownArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    ui.send(UiEvent::Session {
        generation: ui.ctl.generation(),
        update: waiting("Log på Stue-TV · kode 4821", 300, None),
    });
    assert_eq!(
        ui.app.global::<WaitingAdapter>().get_reference_text(),
        "Log på Stue-TV · kode 4821"
    );
}

fn unknown_user(setup: mitid_flex_tv::ui::Setup) -> Ui {
    let id = match setup.kind {
        IdentifierKind::Cpr => "0804361234",
        _ => "ileya",
    };
    let ui = start_ui(setup);
    ui.ok();
    ui.type_text(id);
    ui.ok();
    ui.ctl.apply(Update::Finished(Outcome::UnknownUser));
    assert_eq!(ui.ctl.screen(), Screen::Outcome);
    ui
}

#[test]
fn unknown_user_offers_the_qr_code_where_the_profile_has_one() {
    let ui = unknown_user(setup(IdentifierKind::UserId));
    assert_eq!(ui.focused_label(), "Ret ID");
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Brug QR-kode i stedet");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Qr);
    assert_eq!(ui.host.started.borrow().last(), Some(&Who::Qr));
}

#[test]
fn unknown_user_on_a_broker_profile_goes_to_starts_own_code() {
    // On the broker profiles the code is on Start itself: Start, with a fresh one.
    let mut broker = setup(IdentifierKind::Cpr);
    broker.qr_on_start = true;
    let ui = unknown_user(broker);
    ui.go_to("Brug QR-kode i stedet", Key::RightArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert_eq!(ui.host.started.borrow().last(), Some(&Who::Qr));
}

#[test]
fn unknown_user_without_qr_offers_no_qr() {
    // Without the QR sign-in there is nothing to offer.
    let mut none = setup(IdentifierKind::UserId);
    none.qr_enabled = false;
    let ui = unknown_user(none);
    assert!(!ui.ctl.grid().contains(Item::Qr));
    assert!(!ui.has_label("Brug QR-kode i stedet"));
}

#[test]
fn each_error_says_whose_problem_it_is_in_words() {
    use mitid_flex_tv::ui::generated::Whose;
    let ui = start_ui(setup(IdentifierKind::UserId));
    let cases = [
        (
            Outcome::ConfigRefused {
                detail: "invalid_client: client authentication failed".into(),
            },
            Whose::Service,
            "Problem hos tjenesten",
            "Tjenesten er ikke sat korrekt op",
        ),
        (
            Outcome::NoConnection {
                detail: "refused".into(),
            },
            Whose::Network,
            "Problem med netværket",
            "Ingen forbindelse til MitID",
        ),
        (
            Outcome::Rejected,
            Whose::Mitid,
            "Besked fra MitID",
            "Login blev afvist i MitID",
        ),
    ];
    for (outcome, whose, eyebrow, heading) in cases {
        ui.ok();
        ui.type_text("ileya");
        ui.ok();
        ui.ctl.apply(Update::Finished(outcome.clone()));
        let a = ui.app.global::<OutcomeAdapter>();
        assert_eq!(a.get_whose(), whose, "{outcome:?}");
        assert!(ui.has_label(eyebrow), "{outcome:?}: {eyebrow}");
        assert!(ui.has_label(heading), "{outcome:?}: {heading}");
        // A setup problem is never blamed on MitID.
        assert!(!ui.has_label("TV'et er ikke sat korrekt op") || whose == Whose::ThisTv);
        ui.go_to("Til start", Key::RightArrow);
        ui.ok();
        assert_eq!(ui.ctl.screen(), Screen::Start);
    }
    // This TV's own config.
    ui.send(UiEvent::ConfigProblem {
        detail: "config: no client secret".into(),
    });
    let a = ui.app.global::<OutcomeAdapter>();
    assert_eq!(a.get_whose(), Whose::ThisTv);
    assert!(ui.has_label("Problem med dette TV"));
    assert!(ui.has_label("TV'et er ikke sat korrekt op"));
}

#[test]
fn waiting_shows_the_code_on_its_own_line_and_whose_phone_for_a_tile() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    let w = ui.app.global::<WaitingAdapter>();
    assert_eq!(w.get_code(), "4821");
    // One line: its height is one line of its 88 px text, however narrow the window.
    let code = ElementHandle::find_by_accessible_label(&ui.app, "Kode 4821")
        .next()
        .expect("the code on screen");
    assert!(code.size().height < 88.0 * 1.6, "{:?}", code.size());
    assert!(code.size().width > 88.0 * 3.0, "{:?}", code.size());
    // A typed ID: nobody's name to show.
    assert_eq!(w.get_sent_to(), "");
    assert_eq!(ui.focused_label(), "Annuller");
    ui.back();
    ui.back();

    // From a remembered tile: "Sendt til …".
    ui.set_viewers(viewers());
    ui.ok();
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    assert_eq!(w.get_sent_to(), "Ileya Jensen");
    assert!(ui.has_label("Sendt til Ileya Jensen"));
    assert_eq!(ui.focused_label(), "Annuller");
}
