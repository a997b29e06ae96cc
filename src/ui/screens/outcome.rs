//! Outcome (`ui/screens/outcome.slint`): every way a sign-in can end without a viewer signed
//! in, whose problem it is (this TV, the service, the network or the viewer's MitID), what
//! the viewer can do next, and the operator's detail behind "Detaljer".

use slint::ComponentHandle;

use crate::session::Outcome;

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, OutcomeAdapter, OutcomeKind, Whose};
use super::super::journey::{Ctx, Identify, Journey, OutcomeView, Request, ScreenKey, Transition};

/// The screen for a finished request; `None` for the ends that have their own
/// (signed in, cancelled).
pub fn enter(outcome: &Outcome, request: Request) -> Option<OutcomeView> {
    // The detail carries OP text (error_description and the like): sanitized for the screen.
    let view = |kind, detail: String, can_retry| OutcomeView {
        kind,
        detail: crate::sanitize::clean(&detail),
        details: false,
        can_retry,
        request: Some(request.clone()),
        wait_secs: 0,
    };
    Some(match outcome {
        Outcome::SignedIn(_) | Outcome::Cancelled => return None,
        Outcome::Rejected => view(OutcomeKind::Rejected, String::new(), true),
        Outcome::Expired => view(OutcomeKind::Expired, String::new(), true),
        Outcome::UnknownUser => view(OutcomeKind::UnknownUser, String::new(), false),
        Outcome::NoConnection { detail } => view(OutcomeKind::Offline, detail.clone(), true),
        // The broker refused the operator's client (`invalid_client`, a scope, a parameter):
        // the service's setup. Trying the same request again cannot fix it. This box's own
        // setup never arrives here: it is `UiEvent::ConfigProblem` (see `config_problem`).
        Outcome::ConfigRefused { detail } => view(OutcomeKind::ServiceSetup, detail.clone(), false),
        // `invalid_grant` while polling: MitID's answer was lost or already taken.
        Outcome::StartAgain => view(
            OutcomeKind::MitidError,
            "invalid_grant: the result was lost; start again".into(),
            true,
        ),
        // The broker's token did not validate (OIDC Core §3.1.3.7): the service's answer.
        Outcome::TokenRejected { detail } => view(
            OutcomeKind::Failed,
            format!("ID token rejected: {detail}"),
            true,
        ),
        Outcome::MitIdError { status } => view(
            OutcomeKind::MitidError,
            format!("MitID status {status}"),
            true,
        ),
        // `transaction_failed`, an error code no spec defines, or a broker answer that made
        // no sense: the service's side.
        Outcome::Failed { detail } => view(OutcomeKind::Failed, detail.clone(), true),
        // The operator's relay limits sign-ins per TV and per viewer.
        Outcome::RateLimited { wait_secs } => OutcomeView {
            wait_secs: *wait_secs,
            ..view(OutcomeKind::TooMany, String::new(), true)
        },
    })
}

/// Whose problem an outcome is: it decides the heading's first line and what the viewer is
/// told to do (nothing to fix on their side unless it is their MitID).
pub fn whose(kind: OutcomeKind) -> Whose {
    match kind {
        OutcomeKind::ConfigError => Whose::ThisTv,
        OutcomeKind::ServiceSetup | OutcomeKind::Failed | OutcomeKind::TooMany => Whose::Service,
        OutcomeKind::Offline => Whose::Network,
        OutcomeKind::Rejected
        | OutcomeKind::Expired
        | OutcomeKind::UnknownUser
        | OutcomeKind::MitidError => Whose::Mitid,
    }
}

/// The installation cannot sign anyone in: the config error with what to edit, shown open.
pub fn config_problem(detail: String) -> OutcomeView {
    OutcomeView {
        kind: OutcomeKind::ConfigError,
        // The problem and the line saying what to edit stay on their own lines; each is
        // sanitized (a TOML error quotes the file's own text).
        detail: detail
            .lines()
            .map(crate::sanitize::clean)
            .collect::<Vec<_>>()
            .join("\n"),
        details: true,
        can_retry: false,
        request: None,
        wait_secs: 0,
    }
}

pub fn push(app: &AppWindow, o: &OutcomeView, ctx: &Ctx) {
    let a = app.global::<OutcomeAdapter>();
    a.set_kind(o.kind);
    a.set_whose(whose(o.kind));
    a.set_can_qr(offers_qr(o, ctx));
    a.set_detail(o.detail.as_str().into());
    a.set_details_shown(o.details);
    a.set_can_retry(o.can_retry);
    a.set_can_edit(o.edit_field().is_some());
    a.set_wait_secs(i32::try_from(o.wait_secs).unwrap_or(i32::MAX));
}

/// MitID does not know the ID: the QR code needs none, where the profile has one.
fn offers_qr(o: &OutcomeView, ctx: &Ctx) -> bool {
    o.kind == OutcomeKind::UnknownUser && ctx.setup.qr_enabled
}

pub fn grid(o: &OutcomeView, ctx: &Ctx) -> Grid {
    let mut row = Vec::new();
    if o.can_retry {
        row.push(Item::Retry);
    }
    if o.edit_field().is_some() {
        row.push(Item::Edit);
    }
    if offers_qr(o, ctx) {
        row.push(Item::Qr);
    }
    row.push(Item::Home);
    if !o.detail.is_empty() {
        row.push(Item::Details);
    }
    Grid::simple(vec![row])
}

pub fn on_key(o: &mut OutcomeView, ctx: &Ctx, key: ScreenKey) -> Transition {
    match key {
        ScreenKey::Activate(Item::Qr) if offers_qr(o, ctx) => super::start::qr_instead(ctx),
        // "Prøv igen": a new request, only ever on the viewer's press.
        ScreenKey::Activate(Item::Retry) => match &o.request {
            Some(r) => Transition::SignIn(r.clone()),
            None => Transition::To(Journey::start()),
        },
        ScreenKey::Activate(Item::Edit) => match o.edit_field() {
            Some(f) => Transition::To(Journey::Identify(Identify::with(f.clone()))),
            None => Transition::Stay,
        },
        ScreenKey::Activate(Item::Home) => Transition::To(Journey::start()),
        ScreenKey::Activate(Item::Details) => {
            o.details = !o.details;
            Transition::Redraw
        }
        ScreenKey::Activate(_) => Transition::Stay,
        ScreenKey::Back if o.details && !o.detail.is_empty() => {
            o.details = false;
            Transition::Redraw
        }
        ScreenKey::Back => Transition::To(Journey::start()),
        ScreenKey::Delete | ScreenKey::Char(_) => Transition::Unused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Who;
    use crate::ui::journey::Origin;

    /// Every outcome with a screen, and whose problem the viewer is told it is.
    fn cases() -> Vec<(Outcome, Whose)> {
        let x = || String::from("x");
        vec![
            (Outcome::Rejected, Whose::Mitid),
            (Outcome::Expired, Whose::Mitid),
            (Outcome::UnknownUser, Whose::Mitid),
            (Outcome::StartAgain, Whose::Mitid),
            (Outcome::MitIdError { status: x() }, Whose::Mitid),
            (Outcome::NoConnection { detail: x() }, Whose::Network),
            (
                Outcome::ConfigRefused {
                    detail: "invalid_client: client authentication failed".into(),
                },
                Whose::Service,
            ),
            (Outcome::TokenRejected { detail: x() }, Whose::Service),
            (Outcome::Failed { detail: x() }, Whose::Service),
            (Outcome::RateLimited { wait_secs: 30 }, Whose::Service),
        ]
    }

    /// Fails to compile when `Outcome` gains a variant: add it to `cases` with its owner.
    fn listed(o: &Outcome) -> bool {
        match o {
            Outcome::Rejected
            | Outcome::Expired
            | Outcome::UnknownUser
            | Outcome::StartAgain
            | Outcome::MitIdError { .. }
            | Outcome::NoConnection { .. }
            | Outcome::ConfigRefused { .. }
            | Outcome::TokenRejected { .. }
            | Outcome::Failed { .. }
            | Outcome::RateLimited { .. } => true,
            Outcome::SignedIn(_) | Outcome::Cancelled => false,
        }
    }

    fn request() -> Request {
        Request {
            who: Who::Qr,
            origin: Origin::Start,
            tile: None,
        }
    }

    #[test]
    fn every_failure_says_whose_problem_it_is() {
        for (o, expected) in cases() {
            assert!(listed(&o));
            let view = enter(&o, request()).unwrap_or_else(|| panic!("no screen for {o:?}"));
            assert_eq!(whose(view.kind), expected, "{o:?}");
        }
        assert!(enter(&Outcome::Cancelled, request()).is_none());
        // This box's own config is this TV's problem, never the service's or MitID's.
        let own = config_problem("config: no client secret".into());
        assert_eq!(whose(own.kind), Whose::ThisTv);
    }

    #[test]
    fn a_refused_client_is_the_services_setup_not_mitid() {
        let o = Outcome::ConfigRefused {
            detail: "invalid_client: client authentication failed".into(),
        };
        let view = enter(&o, request()).unwrap_or_else(|| panic!("no screen"));
        assert_eq!(view.kind, OutcomeKind::ServiceSetup);
        assert!(!view.can_retry, "the same request cannot fix a setup");
        assert_eq!(view.detail, "invalid_client: client authentication failed");
    }
}
