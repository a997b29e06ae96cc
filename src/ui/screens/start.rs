//! Start (`ui/screens/start.slint`): "Log på med MitID", the QR route and remembered viewers.

use slint::ComponentHandle;

use crate::config::BackOnStart;
use crate::session::Who;
use crate::viewers::ViewerKey;

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, StartAdapter, ViewerItem};
use super::super::host::ViewerOp;
use super::super::journey::{Ctx, Identify, Journey, Origin, Request, ScreenKey, Transition};
use super::super::keyboard::{self, Field};
use super::super::present;

pub fn push(app: &AppWindow, ctx: &Ctx) {
    let items: Vec<ViewerItem> = ctx
        .viewers
        .iter()
        .map(|v| ViewerItem {
            name: v.name.as_str().into(),
            initials: present::initials(&v.name).into(),
        })
        .collect();
    let start = app.global::<StartAdapter>();
    start.set_viewers(super::model(items));
    start.set_qr_enabled(ctx.setup.qr_enabled);
}

pub fn grid(ctx: &Ctx) -> Grid {
    let n = ctx.viewers.len();
    let mut buttons = vec![Item::SignIn];
    if ctx.setup.qr_enabled {
        buttons.push(Item::Qr);
    }
    let mut forget: Vec<Item> = (0..n).map(Item::Forget).collect();
    if n > 0 {
        forget.push(Item::ForgetAll);
    }
    Grid::simple(vec![
        vec![Item::Language],
        buttons,
        (0..n).map(Item::Tile).collect(),
        forget,
    ])
}

pub fn on_key(ctx: &Ctx, key: ScreenKey) -> Transition {
    match key {
        ScreenKey::Activate(Item::Language) => Transition::ToggleLanguage,
        ScreenKey::Activate(Item::SignIn) => Transition::To(Journey::Identify(Identify::default())),
        ScreenKey::Activate(Item::Qr) => Transition::SignIn(Request {
            who: Who::Qr,
            origin: Origin::Start,
            tile: None,
        }),
        ScreenKey::Activate(Item::Tile(i)) => {
            tile(ctx, i).map_or(Transition::Stay, Transition::SignIn)
        }
        ScreenKey::Activate(Item::Forget(i)) => match ctx.viewers.get(i) {
            Some(v) => Transition::Viewers(ViewerOp::Forget(v.key.clone())),
            None => Transition::Stay,
        },
        ScreenKey::Activate(Item::ForgetAll) => Transition::Viewers(ViewerOp::ForgetAll),
        ScreenKey::Activate(_) => Transition::Stay,
        // A kiosk has nothing behind the app: Back there must never leave the TV dark.
        ScreenKey::Back => match ctx.setup.back_on_start {
            BackOnStart::Exit => Transition::Exit,
            BackOnStart::Ignore => Transition::Stay,
        },
        ScreenKey::Delete => Transition::Unused,
        // Typing on Start opens the field with that first character, focus on Fortsæt.
        ScreenKey::Char(ch) => {
            let mut field = Field::default();
            field.type_char(ctx.setup.kind, ch);
            Transition::ToFocused(
                Journey::Identify(Identify::with(field)),
                keyboard::submit_item(ctx.setup.kind),
            )
        }
    }
}

/// A remembered viewer's request: by uuid through Flex where the broker takes it.
fn tile(ctx: &Ctx, index: usize) -> Option<Request> {
    let viewer = ctx.viewers.get(index)?;
    let who = match &viewer.key {
        ViewerKey::Uuid(u) if ctx.setup.flex_capable => {
            Who::Flex(crate::ciba::FlexSubject::Uuid(u.clone()))
        }
        ViewerKey::Uuid(u) | ViewerKey::UserId(u) => Who::UserId(u.clone()),
    };
    Some(Request {
        who,
        origin: Origin::Start,
        tile: Some(viewer.key.clone()),
    })
}
