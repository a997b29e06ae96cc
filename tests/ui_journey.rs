//! The TV journey driven by keys alone on Slint's testing backend: every screen is reachable,
//! focus is never lost (checked after every key by the harness), Back works everywhere, and
//! every session outcome leads to its screen.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

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
    assert_eq!(ui.host.signed_in.get(), 1);
    assert!(
        ui.has_label("Velkommen, Ileya Jensen")
            || ui.app.global::<SignedInAdapter>().get_name() == "Ileya Jensen"
    );
    assert_eq!(ui.focused_label(), "Vis detaljer");
    ui.ok();
    assert!(ui.app.global::<SignedInAdapter>().get_details_shown());
    assert_eq!(
        ui.app.global::<SignedInAdapter>().get_uuid_masked(),
        "eee4b272-••••-••••-••••-••••••••2e78"
    );

    // Opt in to being remembered, then sign out.
    ui.key(Key::RightArrow);
    assert_eq!(ui.focused_label(), "Husk mig på dette TV");
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
            OutcomeKind::ConfigError,
            "Til start",
        ),
        (Outcome::StartAgain, OutcomeKind::Failed, "Prøv igen"),
        (
            Outcome::TokenRejected {
                detail: "aud".into(),
            },
            OutcomeKind::Failed,
            "Prøv igen",
        ),
        (
            Outcome::MitIdError { status: "x".into() },
            OutcomeKind::Failed,
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
fn remembered_viewer_signs_in_with_one_press_and_can_be_forgotten() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    let viewers = viewers();
    ui.set_viewers(viewers.clone());
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

    // Forget the second viewer from its tile, then everyone.
    ui.key(Key::RightArrow);
    ui.key(Key::DownArrow);
    assert_eq!(ui.focused_label(), "Glem Søren Østergaard");
    ui.ok();
    assert_eq!(
        ui.host.ops.borrow().last(),
        Some(&ViewerOp::Forget(viewers[1].key.clone()))
    );
    // The store answers with the new list; focus stays on something that exists.
    ui.set_viewers(vec![viewers[0].clone()]);
    ui.assert_focus_ok();
    ui.go_to("Glem alle", Key::RightArrow);
    ui.ok();
    assert_eq!(ui.host.ops.borrow().last(), Some(&ViewerOp::ForgetAll));
    ui.set_viewers(Vec::new());
    ui.assert_focus_ok();
}

#[test]
fn a_failed_hand_off_is_shown_to_the_viewer_until_sign_out() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.type_text("ileya");
    ui.press("\n");
    ui.ctl.apply(Update::Starting);
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    ui.ctl.apply(Update::Finished(Outcome::SignedIn(profile())));
    assert_eq!(ui.ctl.screen(), Screen::SignedIn);
    let banner = "TV'et kunne ikke give tjenesten besked om dit login. Log ud og prøv igen; sker det igen, så kontakt din TV-udbyder.";
    assert!(!ui.has_label(banner));
    ui.send(UiEvent::HandoffFailed);
    assert!(ui.app.global::<SignedInAdapter>().get_handoff_failed());
    assert!(ui.has_label(banner), "the Danish message is on screen");
    ui.assert_focus_ok();
    ui.go_to("Log ud", Key::RightArrow);
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Start);
    assert!(!ui.app.global::<SignedInAdapter>().get_handoff_failed());
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
