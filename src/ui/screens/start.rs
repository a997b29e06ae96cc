//! Start (`ui/screens/start.slint`): "Log på med MitID", the QR code (on Signaturgruppen
//! profiles shown on Start itself) and remembered viewers, with their "Rediger" mode (Glem,
//! Glem alle, each confirmed).

use std::time::Instant;

use slint::ComponentHandle;

use crate::config::BackOnStart;
use crate::session::Who;
use crate::viewers::ViewerKey;

use super::super::focus::{Grid, Item};
use super::super::generated::{AppWindow, StartAdapter, StartConfirm, StartQrState, ViewerItem};
use super::super::host::ViewerOp;
use super::super::journey::{
    Ctx, EditViewers, Forget, Identify, Journey, Origin, Request, ScreenKey, StartQr, Transition,
};
use super::super::keyboard;
use super::super::present;

/// The QR code's box on Start, in px at 1080p: beside the viewers, smaller than the QR screen's.
pub const QR_BOX_PX: u32 = 440;

/// Start's content width at 1080p (the safe area less the focus ring's room), and the part
/// left beside Start's own QR code (its 480 px column and the 64 px gap): the tile row's
/// width, as `ui/screens/start.slint` lays it out.
const ROW_PX: f32 = 1920.0 - 2.0 * 108.0;
const ROW_BESIDE_QR_PX: f32 = ROW_PX - 480.0 - 64.0;
const TILE_GAP_PX: f32 = 24.0;
const TILE_MAX_PX: f32 = 248.0;
const TILE_PADDING_PX: f32 = 10.0;
/// IBM Plex Sans (the tiles' names are Bold) averages a little under 0.5 em a character in
/// names; 0.5 keeps a long first name whole, and the render test checks the tiles fit.
const EM_PER_CHAR: f32 = 0.5;

/// The first name's size on a tile: 40 px, or less until the whole name fits (never below
/// 20 px); it is the rest of the name that elides.
pub fn first_name_px(first: &str, tiles: usize, row_px: f32) -> f32 {
    let n = tiles.max(1) as f32;
    let tile = ((row_px - TILE_GAP_PX * (n - 1.0)) / n).min(TILE_MAX_PX);
    let chars = first.chars().count().max(1) as f32;
    ((tile - 2.0 * TILE_PADDING_PX) / (chars * EM_PER_CHAR)).clamp(20.0, 40.0)
}

/// The tiles: the first name large, the rest on a line of its own (which elides first). The
/// names are the store's, which a rooted box could have edited: sanitized.
fn push_viewers(app: &AppWindow, ctx: &Ctx, row_px: f32) {
    let items: Vec<ViewerItem> = ctx
        .viewers
        .iter()
        .map(|v| {
            let name = crate::sanitize::clean(&v.name);
            let (first, rest) = present::split_name(&name);
            ViewerItem {
                initials: present::initials(&name).into(),
                first_size: first_name_px(&first, ctx.viewers.len(), row_px),
                first: first.into(),
                rest: rest.into(),
                name: name.as_str().into(),
            }
        })
        .collect();
    app.global::<StartAdapter>()
        .set_viewers(super::model(items));
}

pub fn push(app: &AppWindow, qr: &StartQr, ctx: &Ctx, now: Instant) {
    let row = if ctx.setup.qr_on_start {
        ROW_BESIDE_QR_PX
    } else {
        ROW_PX
    };
    push_viewers(app, ctx, row);
    let start = app.global::<StartAdapter>();
    start.set_editing(false);
    start.set_confirm(StartConfirm::None);
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
    // "Rediger" sits above the tiles: forgetting is never one press away from signing in.
    let edit = if n > 0 {
        vec![Item::EditViewers]
    } else {
        Vec::new()
    };
    Grid::simple(vec![
        vec![Item::Language],
        buttons,
        edit,
        (0..n).map(Item::Tile).collect(),
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
        ScreenKey::Activate(Item::EditViewers) if !ctx.viewers.is_empty() => Transition::ToFocused(
            Journey::EditViewers(EditViewers::default()),
            Item::Forget(0),
        ),
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

/// "Brug QR-kode i stedet" from another screen: Start's own code where the profile shows one
/// there (Start shown after this press makes one), else the QR screen.
pub fn qr_instead(ctx: &Ctx) -> Transition {
    if ctx.setup.qr_on_start {
        Transition::To(Journey::start())
    } else {
        Transition::SignIn(Request {
            who: Who::Qr,
            origin: Origin::Start,
            tile: None,
        })
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

// ---- "Rediger" mode -----------------------------------------------------------------------

pub fn push_edit(app: &AppWindow, e: &EditViewers, ctx: &Ctx) {
    push_viewers(app, ctx, ROW_PX);
    let start = app.global::<StartAdapter>();
    start.set_editing(true);
    // No QR code while editing: leaving Start ended it, and "Færdig" makes a fresh one.
    start.set_qr(StartQrState::None);
    let (confirm, name) = match &e.confirm {
        None => (StartConfirm::None, String::new()),
        Some(Forget::All) => (StartConfirm::All, String::new()),
        Some(Forget::One(k)) => (
            StartConfirm::One,
            ctx.viewers
                .iter()
                .find(|v| &v.key == k)
                .map(|v| crate::sanitize::clean(&v.name))
                .unwrap_or_default(),
        ),
    };
    start.set_confirm(confirm);
    start.set_confirm_name(name.into());
}

/// While a forget waits for "Ja", only "Nej" and "Ja" take focus.
pub fn edit_grid(e: &EditViewers, ctx: &Ctx) -> Grid {
    if e.confirm.is_some() {
        return Grid::simple(vec![vec![Item::ConfirmNo, Item::ConfirmYes]]);
    }
    let n = ctx.viewers.len();
    let mut top = vec![Item::EditViewers];
    if n > 0 {
        top.push(Item::ForgetAll);
    }
    Grid::simple(vec![top, (0..n).map(Item::Forget).collect()])
}

pub fn on_edit_key(e: &mut EditViewers, ctx: &Ctx, key: ScreenKey) -> Transition {
    match key {
        ScreenKey::Activate(Item::Forget(i)) => match ctx.viewers.get(i) {
            Some(v) => ask(e, Forget::One(v.key.clone())),
            None => Transition::Stay,
        },
        ScreenKey::Activate(Item::ForgetAll) if !ctx.viewers.is_empty() => ask(e, Forget::All),
        ScreenKey::Activate(Item::ConfirmYes) => match e.confirm.take() {
            Some(Forget::One(key)) => Transition::Viewers(ViewerOp::Forget(key)),
            Some(Forget::All) => Transition::Viewers(ViewerOp::ForgetAll),
            None => Transition::Stay,
        },
        ScreenKey::Activate(Item::ConfirmNo) => keep(e, ctx),
        ScreenKey::Back if e.confirm.is_some() => keep(e, ctx),
        ScreenKey::Activate(Item::EditViewers) | ScreenKey::Back => leave_edit(ctx),
        ScreenKey::Activate(_) => Transition::Stay,
        ScreenKey::Delete | ScreenKey::Char(_) => Transition::Unused,
    }
}

/// "Glem …?": focus on "Nej", so a stray second press forgets nobody.
fn ask(e: &mut EditViewers, what: Forget) -> Transition {
    e.confirm = Some(what);
    Transition::Focus(Item::ConfirmNo)
}

/// "Nej": nothing forgotten, focus back on the button that asked.
fn keep(e: &mut EditViewers, ctx: &Ctx) -> Transition {
    let back = match e.confirm.take() {
        Some(Forget::One(k)) => ctx
            .viewers
            .iter()
            .position(|v| v.key == k)
            .map_or(Item::EditViewers, Item::Forget),
        _ => Item::ForgetAll,
    };
    Transition::Focus(back)
}

/// "Færdig": Start again, shown after a key press (so with a fresh QR code where it has one).
fn leave_edit(ctx: &Ctx) -> Transition {
    if ctx.viewers.is_empty() {
        Transition::To(Journey::start())
    } else {
        Transition::ToFocused(Journey::start(), Item::EditViewers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_name_is_large_and_only_a_long_one_is_smaller() {
        // Six tiles beside the QR code are the narrowest: a usual first name keeps 40 px.
        assert_eq!(first_name_px("Ileya", 6, ROW_BESIDE_QR_PX), 40.0);
        assert_eq!(first_name_px("Søren", 6, ROW_BESIDE_QR_PX), 40.0);
        // A long one is drawn smaller, to fit whole: at most the tile's inner width.
        let px = first_name_px("Christoffer", 6, ROW_BESIDE_QR_PX);
        assert!((20.0..40.0).contains(&px), "{px}");
        let tile = (ROW_BESIDE_QR_PX - 5.0 * TILE_GAP_PX) / 6.0;
        assert!(11.0 * EM_PER_CHAR * px <= tile - 2.0 * TILE_PADDING_PX);
        // With room (three tiles across the full width) the same name is larger.
        assert!(first_name_px("Christoffer", 3, ROW_PX) > px);
        // Nothing shrinks it below 20 px, and an empty name is no division by zero.
        assert_eq!(first_name_px(&"x".repeat(80), 6, ROW_BESIDE_QR_PX), 20.0);
        assert_eq!(first_name_px("", 0, ROW_PX), 40.0);
    }
}
