//! Signed in (`ui/screens/signed-in.slint`): the viewer's name, "Fortsæt" (the hand-off to the
//! box's middleware), "Husk mig", Log ud and details on request. An idle timer signs the
//! viewer out (the controller runs it).

use slint::ComponentHandle;

use crate::ciba::{FlexSubject, Profile};
use crate::session::Who;
use crate::viewers::{Viewer, ViewerKey};

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, SignedInAdapter};
use super::super::host::ViewerOp;
use super::super::journey::{Ctx, HandOff, Journey, Request, ScreenKey, SignedIn, Transition};
use super::super::present;

/// The state a successful request leads to.
pub fn enter(profile: Profile, request: &Request, reference_text: String, ctx: &Ctx) -> SignedIn {
    let key = viewer_key(&profile, &request.who, ctx.setup.flex_capable);
    let remembered = key.as_ref().is_some_and(|k| known(ctx.viewers, k));
    SignedIn {
        profile,
        reference_text,
        key,
        remembered,
        details: false,
        handoff: HandOff::NotYet,
    }
}

fn known(viewers: &[Viewer], key: &ViewerKey) -> bool {
    viewers.iter().any(|v| &v.key == key)
}

/// What a remembered tile would sign in with. Never a CPR number.
fn viewer_key(profile: &Profile, who: &Who, flex_capable: bool) -> Option<ViewerKey> {
    match (&profile.uuid, who) {
        (Some(uuid), _) if flex_capable => Some(ViewerKey::Uuid(uuid.to_ascii_lowercase())),
        (_, Who::UserId(u)) => Some(ViewerKey::UserId(u.clone())),
        (_, Who::Flex(FlexSubject::Uuid(u))) => Some(ViewerKey::Uuid(u.clone())),
        _ => None,
    }
}

pub fn push(app: &AppWindow, s: &SignedIn, ctx: &Ctx) {
    let a = app.global::<SignedInAdapter>();
    let p = &s.profile;
    // Claims come from the OP: sanitized before they reach the screen.
    let clean = crate::sanitize::clean;
    a.set_name(p.name.as_deref().map(clean).unwrap_or_default().into());
    a.set_details_shown(s.details);
    let dob = p.date_of_birth.as_deref().map(|d| clean(&present::date(d)));
    a.set_date_of_birth(dob.unwrap_or_default().into());
    a.set_age(p.age.map(|a| a.to_string()).unwrap_or_default().into());
    let uuid = p.uuid.as_deref().map(present::mask_uuid);
    a.set_uuid_masked(uuid.unwrap_or_default().into());
    a.set_can_remember(ctx.setup.remember && s.key.is_some());
    a.set_remembered(s.remembered);
    let minutes = ctx.setup.idle_signout.as_secs().div_ceil(60);
    a.set_idle_minutes(i32::try_from(minutes).unwrap_or(i32::MAX));
    a.set_handoff_failed(s.handoff == HandOff::Failed);
    a.set_handoff_sending(s.handoff == HandOff::Sending);
    a.set_handed_off(s.handoff == HandOff::Done);
}

/// Leaving the screen: nothing of this viewer stays in the adapter.
pub fn clear(app: &AppWindow) {
    let a = app.global::<SignedInAdapter>();
    a.set_name("".into());
    a.set_date_of_birth("".into());
    a.set_age("".into());
    a.set_uuid_masked("".into());
    a.set_details_shown(false);
    a.set_handoff_failed(false);
    a.set_handoff_sending(false);
    a.set_handed_off(false);
}

/// Fortsæt first (the way on), Details last: its label changes when pressed, and nothing to
/// its right may move under the viewer's eyes.
pub fn grid(s: &SignedIn, ctx: &Ctx) -> Grid {
    let mut row = vec![Item::Continue];
    if s.key.is_some() && ctx.setup.remember {
        row.push(Item::Remember);
    }
    row.push(Item::SignOut);
    row.push(Item::Details);
    Grid::simple(vec![row])
}

pub fn on_key(s: &mut SignedIn, key: ScreenKey) -> Transition {
    match key {
        ScreenKey::Activate(Item::Details) => {
            s.details = !s.details;
            Transition::Redraw
        }
        // Once under way or done, a second press sends nothing twice; after a failure it tries
        // again.
        ScreenKey::Activate(Item::Continue) => match s.handoff {
            HandOff::NotYet | HandOff::Failed => {
                s.handoff = HandOff::Sending;
                Transition::HandOff
            }
            HandOff::Sending | HandOff::Done => Transition::Stay,
        },
        ScreenKey::Activate(Item::Remember) => remember(s),
        ScreenKey::Activate(Item::SignOut) => Transition::To(Journey::start()),
        ScreenKey::Activate(_) => Transition::Stay,
        // Back closes the details first, then signs out.
        ScreenKey::Back if s.details => {
            s.details = false;
            Transition::Redraw
        }
        ScreenKey::Back => Transition::To(Journey::start()),
        ScreenKey::Delete | ScreenKey::Char(_) => Transition::Unused,
    }
}

fn remember(s: &mut SignedIn) -> Transition {
    let Some(key) = s.key.clone() else {
        return Transition::Stay;
    };
    s.remembered = !s.remembered;
    Transition::Viewers(if s.remembered {
        ViewerOp::Remember {
            name: s
                .profile
                .name
                .clone()
                .unwrap_or_else(|| key.id().to_string()),
            key,
        }
    } else {
        ViewerOp::Forget(key)
    })
}
