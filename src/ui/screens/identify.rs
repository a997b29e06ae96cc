//! Identify (`ui/screens/identify.slint`): the identifier field and the on-screen keyboard.
//!
//! The remote's number keys type letters by multi-tap (`ui::multitap`); the pending letter is
//! shown in the field but is not part of it until committed: by its timeout (the controller's
//! timer calls [`tick`]), by the next number key, or by any other key, which commits first and
//! then acts. Delete drops a pending letter before it deletes a typed one.

use std::time::Instant;

use slint::ComponentHandle;

use crate::config::IdentifierKind;
use crate::identifier::IdentifierError;

use super::super::focus::{Grid, Item};
use super::super::generated::{
    AppWindow, IdError, IdKind, IdentifyAdapter, KeyCap, KeyKind, KeyRow,
};
use super::super::journey::{
    Ctx, Identify, Journey, Origin, Request, ScreenKey, Setup, Transition,
};
use super::super::keyboard::{self, Cap};
use super::super::multitap::{self, Mode};

/// `keys`: rebuild the key grid too (new screen, shift changed).
pub fn push(app: &AppWindow, st: &Identify, ctx: &Ctx, keys: bool) {
    let kind = ctx.setup.kind;
    let mode = mode(ctx);
    let a = app.global::<IdentifyAdapter>();
    a.set_kind(match kind {
        IdentifierKind::UserId => IdKind::UserId,
        IdentifierKind::Uuid => IdKind::Uuid,
        IdentifierKind::Cpr => IdKind::Cpr,
    });
    let (shown, rest) = st.field.display(kind);
    a.set_value(shown.into());
    a.set_pending(
        st.tap
            .pending_char()
            .map(|c| shifted(st.shift, c).to_string())
            .unwrap_or_default()
            .into(),
    );
    a.set_template_rest(rest.into());
    a.set_error(st.error);
    a.set_qr(ctx.setup.qr_enabled);
    // The caps change with shift (and their letters once a keyboard typed); otherwise a key
    // press redraws the field only.
    let rebuild = keys || a.get_shift() != st.shift || a.get_digits_only() != ctx.keyboard;
    a.set_digits_only(ctx.keyboard);
    a.set_shift(st.shift);
    if rebuild {
        let rows: Vec<KeyRow> = keyboard::layout(kind)
            .iter()
            .map(|row| KeyRow {
                keys: super::model(
                    row.iter()
                        .map(|(cap, units)| key_cap(*cap, *units, st.shift, mode))
                        .collect(),
                ),
            })
            .collect();
        a.set_rows(super::model(rows));
    }
}

/// A digit key also shows the letters its remote key types by multi-tap, as a phone's keypad
/// does, so that a viewer learns them from the screen.
fn key_cap(cap: Cap, units: u8, shift: bool, mode: Mode) -> KeyCap {
    let key = match cap {
        Cap::Char(c) if mode != Mode::Digits => c.to_digit(10).and_then(|d| u8::try_from(d).ok()),
        _ => None,
    };
    let hint = key
        .map(|key| multitap::letters_on(mode, key))
        .map(|h| if shift { h.to_uppercase() } else { h })
        .unwrap_or_default();
    let (kind, text) = match cap {
        Cap::Char(c) => (KeyKind::Char, shifted(shift, c).to_string()),
        Cap::Shift => (KeyKind::Shift, String::new()),
        Cap::Delete => (KeyKind::Delete, String::new()),
        Cap::Clear => (KeyKind::Clear, String::new()),
        Cap::Submit => (KeyKind::Submit, String::new()),
    };
    KeyCap {
        kind,
        text: text.into(),
        hint: hint.into(),
        keypad: key.is_some(),
        units: i32::from(units),
    }
}

fn shifted(shift: bool, c: char) -> char {
    if shift {
        c.to_uppercase().next().unwrap_or(c)
    } else {
        c
    }
}

/// The keyboard, its rows going round, and "Brug QR-kode i stedet" above it (top right,
/// beside the heading) where the QR sign-in is offered.
pub fn grid(ctx: &Ctx) -> Grid {
    let kind = ctx.setup.kind;
    let mut rows = keyboard::rows(kind);
    if ctx.setup.qr_enabled {
        rows.insert(0, vec![(Item::Qr, keyboard::width_units(kind))]);
    }
    Grid::with_centres(rows).wrapping()
}

pub fn default_focus(setup: &Setup) -> Item {
    keyboard::default_focus(setup.kind)
}

pub fn on_key(st: &mut Identify, ctx: &Ctx, key: ScreenKey) -> Transition {
    let kind = ctx.setup.kind;
    match key {
        ScreenKey::Back => Transition::To(Journey::start()),
        ScreenKey::Delete => edit(st, delete),
        // Typed straight into the field (remote digits, a keyboard): focus moves to Fortsæt,
        // so the next OK or Return commits and submits instead of pressing a grid key.
        ScreenKey::Char(ch) => {
            type_key(st, ctx, ch);
            Transition::Focus(keyboard::submit_item(kind))
        }
        ScreenKey::Activate(Item::Qr) if ctx.setup.qr_enabled => super::start::qr_instead(ctx),
        ScreenKey::Activate(Item::Key(row, col)) => match keyboard::cap_at(kind, row, col) {
            Some(Cap::Delete) => edit(st, delete),
            Some(Cap::Clear) => edit(st, |st| {
                st.tap.cancel();
                st.field.clear();
            }),
            Some(cap) => {
                commit(st, kind);
                match cap {
                    Cap::Char(ch) => edit(st, |st| insert(st, kind, ch)),
                    Cap::Shift => {
                        st.shift = !st.shift;
                        Transition::Redraw
                    }
                    _ => submit(st, kind),
                }
            }
            None => Transition::Stay,
        },
        ScreenKey::Activate(_) => Transition::Stay,
    }
}

/// What the number keys do here: multi-tap letters for a user ID (hex letters for a uuid),
/// digits for a CPR number or once a real keyboard has typed a letter.
fn mode(ctx: &Ctx) -> Mode {
    match ctx.setup.kind {
        _ if ctx.keyboard => Mode::Digits,
        IdentifierKind::UserId => Mode::Letters,
        IdentifierKind::Uuid => Mode::Hex,
        IdentifierKind::Cpr => Mode::Digits,
    }
}

/// A character from the remote or a keyboard: a number key goes through multi-tap, anything
/// else commits the pending letter and is typed as it came (a keyboard gives its own case).
pub fn type_key(st: &mut Identify, ctx: &Ctx, ch: char) {
    let kind = ctx.setup.kind;
    st.error = IdError::None;
    let mode = mode(ctx);
    if st.tap.mode() != mode
        && let Some(c) = st.tap.set_mode(mode)
    {
        insert(st, kind, c);
    }
    match ch.to_digit(10).and_then(|d| u8::try_from(d).ok()) {
        Some(key) => {
            let typed = st.tap.press(key, ctx.now);
            for c in typed.chars() {
                insert(st, kind, c);
            }
            // A letter the field could not take is not shown as pending either.
            if st.field.is_full(kind) {
                st.tap.cancel();
            }
        }
        None => {
            commit(st, kind);
            st.field.type_char(kind, ch);
        }
    }
}

/// Commits the pending letter if its timeout passed at `now`; whether the field changed.
pub fn tick(st: &mut Identify, kind: IdentifierKind, now: Instant) -> bool {
    let Some(c) = st.tap.tick(now) else {
        return false;
    };
    insert(st, kind, c);
    true
}

/// Commits the pending letter (before an arrow moves focus); whether there was one.
pub fn commit(st: &mut Identify, kind: IdentifierKind) -> bool {
    let Some(c) = st.tap.commit() else {
        return false;
    };
    insert(st, kind, c);
    true
}

/// When the pending letter times out, if one is pending.
pub fn deadline(st: &Identify) -> Option<Instant> {
    st.tap.deadline()
}

/// Types `ch` into the field; a latched Shift makes it upper case and is used up.
fn insert(st: &mut Identify, kind: IdentifierKind, ch: char) {
    let ch = shifted(std::mem::take(&mut st.shift), ch);
    st.field.type_char(kind, ch);
}

/// A pending letter goes first; then the last typed character.
fn delete(st: &mut Identify) {
    if !st.tap.cancel() {
        st.field.delete();
    }
}

fn edit(st: &mut Identify, f: impl FnOnce(&mut Identify)) -> Transition {
    f(st);
    st.error = IdError::None;
    Transition::Redraw
}

/// Validates the field; only a valid identifier starts a request.
fn submit(st: &mut Identify, kind: IdentifierKind) -> Transition {
    match st.field.parse(kind) {
        Ok(who) => Transition::SignIn(Request {
            who,
            origin: Origin::Identify(st.field.clone()),
            tile: None,
        }),
        Err(e) => {
            st.error = id_error(&e);
            Transition::Redraw
        }
    }
}

fn id_error(e: &IdentifierError) -> IdError {
    match e {
        IdentifierError::Empty => IdError::Empty,
        IdentifierError::CprLength => IdError::CprLength,
        IdentifierError::CprDate => IdError::CprDate,
        IdentifierError::Uuid => IdError::Uuid,
        IdentifierError::UserId => IdError::UserId,
    }
}
