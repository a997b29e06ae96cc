//! Start (`ui/screens/start.slint`): "Log på med MitID", the QR code (on Signaturgruppen
//! profiles shown on Start itself) and remembered viewers.

use std::time::Instant;

use slint::ComponentHandle;

use crate::config::BackOnStart;
use crate::session::Who;
use crate::viewers::ViewerKey;

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, StartAdapter, StartQrState, ViewerItem};
use super::super::host::ViewerOp;
use super::super::journey::{
    Ctx, Identify, Journey, Origin, Request, ScreenKey, StartQr, Transition,
};
use super::super::keyboard;
use super::super::present;

/// The QR code's box on Start, in px at 1080p: beside the viewers, smaller than the QR screen's.
pub const QR_BOX_PX: u32 = 440;

pub fn push(app: &AppWindow, qr: &StartQr, ctx: &Ctx, now: Instant) {
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
    start.set_qr_enabled(ctx.setup.qr_enabled && !ctx.setup.qr_on_start);
    start.set_typing(ctx.setup.typing);
    start.set_cpr(ctx.setup.kind == crate::config::IdentifierKind::Cpr);
    start.set_qr(match qr {
        _ if !ctx.setup.qr_on_start => StartQrState::None,
        StartQr::Idle | StartQr::Make => StartQrState::Offer,
        StartQr::Live(_) => StartQrState::Live,
        StartQr::Expired => StartQrState::Expired,
    });
    if let StartQr::Live(p) = qr {
        super::qr::push(app, p, now);
    }
}

pub fn grid(qr: &StartQr, ctx: &Ctx) -> Grid {
    let n = ctx.viewers.len();
    let mut buttons = Vec::new();
    if ctx.setup.typing {
        buttons.push(Item::SignIn);
    }
    if qr_button(qr, ctx) {
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

/// A separate QR screen, or (on Start's own code) "Vis QR-kode" / "Vis ny QR-kode".
fn qr_button(qr: &StartQr, ctx: &Ctx) -> bool {
    if ctx.setup.qr_on_start {
        !matches!(qr, StartQr::Live(_))
    } else {
        ctx.setup.qr_enabled
    }
}

/// The last-used viewer (the store keeps them most recent first): one OK signs them in.
pub fn default_focus(qr: &StartQr, ctx: &Ctx) -> Item {
    if !ctx.viewers.is_empty() {
        Item::Tile(0)
    } else if ctx.setup.qr_on_start
        && ctx.setup.kind != crate::config::IdentifierKind::Cpr
        && qr_button(qr, ctx)
    {
        // Start's own QR code is the way in without typing: one press makes it. An operator
        // who chose CPR made the number pad the primary path instead.
        Item::Qr
    } else if ctx.setup.typing {
        Item::SignIn
    } else if qr_button(qr, ctx) {
        Item::Qr
    } else {
        Item::Language
    }
}

pub fn on_key(ctx: &Ctx, key: ScreenKey) -> Transition {
    match key {
        ScreenKey::Activate(Item::Language) => Transition::ToggleLanguage,
        ScreenKey::Activate(Item::SignIn) if ctx.setup.typing => {
            Transition::To(Journey::Identify(Identify::default()))
        }
        ScreenKey::Activate(Item::Qr) if ctx.setup.qr_on_start => Transition::StartQr,
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
        // Typing on Start opens the field with that first key typed as Identify types it (a
        // number key starts a multi-tap letter), focus on Fortsæt; only where Start has a
        // typing path at all.
        ScreenKey::Char(ch) if ctx.setup.typing => {
            let mut st = Identify::default();
            super::identify::type_key(&mut st, ctx, ch);
            Transition::ToFocused(Journey::Identify(st), keyboard::submit_item(ctx.setup.kind))
        }
        ScreenKey::Char(_) => Transition::Unused,
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
