//! Outcome (`ui/screens/outcome.slint`): every way a sign-in can end without a viewer signed
//! in, with what the viewer can do next and the operator's detail behind "Detaljer".

use slint::ComponentHandle;

use crate::session::Outcome;

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, OutcomeAdapter, OutcomeKind};
use super::super::journey::{Identify, Journey, OutcomeView, Request, ScreenKey, Transition};

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
        // Trying the same request again cannot fix the configuration.
        Outcome::ConfigRefused { detail } => view(OutcomeKind::ConfigError, detail.clone(), false),
        Outcome::StartAgain => view(
            OutcomeKind::Failed,
            "invalid_grant: the result was lost; start again".into(),
            true,
        ),
        Outcome::TokenRejected { detail } => view(
            OutcomeKind::Failed,
            format!("ID token rejected: {detail}"),
            true,
        ),
        Outcome::MitIdError { status } => {
            view(OutcomeKind::Failed, format!("MitID status {status}"), true)
        }
        Outcome::Failed { detail } => view(OutcomeKind::Failed, detail.clone(), true),
        Outcome::RateLimited { wait_secs } => OutcomeView {
            wait_secs: *wait_secs,
            ..view(OutcomeKind::TooMany, String::new(), true)
        },
    })
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

pub fn push(app: &AppWindow, o: &OutcomeView) {
    let a = app.global::<OutcomeAdapter>();
    a.set_kind(o.kind);
    a.set_detail(o.detail.as_str().into());
    a.set_details_shown(o.details);
    a.set_can_retry(o.can_retry);
    a.set_can_edit(o.edit_field().is_some());
    a.set_wait_secs(i32::try_from(o.wait_secs).unwrap_or(i32::MAX));
}

pub fn grid(o: &OutcomeView) -> Grid {
    let mut row = Vec::new();
    if o.can_retry {
        row.push(Item::Retry);
    }
    if o.edit_field().is_some() {
        row.push(Item::Edit);
    }
    row.push(Item::Home);
    if !o.detail.is_empty() {
        row.push(Item::Details);
    }
    Grid::simple(vec![row])
}

pub fn on_key(o: &mut OutcomeView, key: ScreenKey) -> Transition {
    match key {
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

    #[test]
    fn every_failure_has_a_screen() {
        let all = [
            Outcome::Rejected,
            Outcome::Expired,
            Outcome::UnknownUser,
            Outcome::StartAgain,
            Outcome::NoConnection { detail: "x".into() },
            Outcome::ConfigRefused { detail: "x".into() },
            Outcome::TokenRejected { detail: "x".into() },
            Outcome::MitIdError { status: "x".into() },
            Outcome::Failed { detail: "x".into() },
        ];
        let request = Request {
            who: Who::Qr,
            origin: Origin::Start,
            tile: None,
        };
        for o in all {
            assert!(enter(&o, request.clone()).is_some(), "{o:?}");
        }
        assert!(enter(&Outcome::Cancelled, request).is_none());
    }
}
