//! Identify (`ui/screens/identify.slint`): the identifier field and the on-screen keyboard.

use slint::ComponentHandle;

use crate::config::IdentifierKind;
use crate::identifier::IdentifierError;

use super::super::focus::{Grid, Item};
use super::super::generated::{
    AppWindow, IdError, IdKind, IdentifyAdapter, KeyCap, KeyKind, KeyRow,
};
use super::super::journey::{Ctx, Identify, Journey, Origin, Request, ScreenKey, Transition};
use super::super::keyboard::{self, Cap};

/// `keys`: rebuild the key grid too (new screen, shift changed).
pub fn push(app: &AppWindow, st: &Identify, kind: IdentifierKind, keys: bool) {
    let a = app.global::<IdentifyAdapter>();
    a.set_kind(match kind {
        IdentifierKind::UserId => IdKind::UserId,
        IdentifierKind::Uuid => IdKind::Uuid,
        IdentifierKind::Cpr => IdKind::Cpr,
    });
    let (shown, rest) = st.field.display(kind);
    a.set_value(shown.into());
    a.set_template_rest(rest.into());
    a.set_error(st.error);
    // The caps change with shift; otherwise a key press redraws the field only.
    let rebuild = keys || a.get_shift() != st.shift;
    a.set_shift(st.shift);
    if rebuild {
        let rows: Vec<KeyRow> = keyboard::layout(kind)
            .iter()
            .map(|row| KeyRow {
                keys: super::model(
                    row.iter()
                        .map(|(cap, units)| key_cap(*cap, *units, st.shift))
                        .collect(),
                ),
            })
            .collect();
        a.set_rows(super::model(rows));
    }
}

fn key_cap(cap: Cap, units: u8, shift: bool) -> KeyCap {
    let (kind, text) = match cap {
        Cap::Char(c) if shift => (KeyKind::Char, c.to_uppercase().collect::<String>()),
        Cap::Char(c) => (KeyKind::Char, c.to_string()),
        Cap::Shift => (KeyKind::Shift, String::new()),
        Cap::Delete => (KeyKind::Delete, String::new()),
        Cap::Clear => (KeyKind::Clear, String::new()),
        Cap::Submit => (KeyKind::Submit, String::new()),
    };
    KeyCap {
        kind,
        text: text.into(),
        units: i32::from(units),
    }
}

pub fn grid(ctx: &Ctx) -> Grid {
    keyboard::grid(ctx.setup.kind)
}

pub fn on_key(st: &mut Identify, ctx: &Ctx, key: ScreenKey) -> Transition {
    let kind = ctx.setup.kind;
    match key {
        ScreenKey::Back => Transition::To(Journey::start()),
        ScreenKey::Delete => edit(st, |f| f.delete()),
        // Typed straight into the field (remote digits, a keyboard): focus moves to Fortsæt,
        // so the next OK or Return submits instead of pressing a grid key.
        ScreenKey::Char(ch) => {
            st.field.type_char(kind, ch);
            st.error = IdError::None;
            Transition::Focus(keyboard::submit_item(kind))
        }
        ScreenKey::Activate(Item::Key(row, col)) => match keyboard::cap_at(kind, row, col) {
            Some(Cap::Char(ch)) => {
                let shifted = std::mem::take(&mut st.shift);
                let ch = if shifted {
                    ch.to_uppercase().next().unwrap_or(ch)
                } else {
                    ch
                };
                edit(st, |f| {
                    f.type_char(kind, ch);
                })
            }
            Some(Cap::Shift) => {
                st.shift = !st.shift;
                Transition::Redraw
            }
            Some(Cap::Delete) => edit(st, |f| f.delete()),
            Some(Cap::Clear) => edit(st, |f| f.clear()),
            Some(Cap::Submit) => submit(st, kind),
            None => Transition::Stay,
        },
        ScreenKey::Activate(_) => Transition::Stay,
    }
}

fn edit(st: &mut Identify, f: impl FnOnce(&mut keyboard::Field)) -> Transition {
    f(&mut st.field);
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
