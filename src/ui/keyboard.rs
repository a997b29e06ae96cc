//! The on-screen keyboard's layouts and the identifier field's editing rules, per identifier
//! kind. Validation itself is `crate::identifier` (shared with `signin`).

use crate::config::IdentifierKind;
use crate::identifier::{self, IdentifierError};
use crate::session::Who;

use super::focus::Item;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    Char(char),
    Shift,
    Delete,
    Clear,
    Submit,
}

/// A key and its width in half-key units.
pub type KeyDef = (Cap, u8);

const fn c(ch: char) -> KeyDef {
    (Cap::Char(ch), 2)
}

/// The top row of the letters and the hex layouts: digits, then delete.
const DIGITS: &[KeyDef] = &[
    c('1'),
    c('2'),
    c('3'),
    c('4'),
    c('5'),
    c('6'),
    c('7'),
    c('8'),
    c('9'),
    c('0'),
    (Cap::Delete, 4),
];

/// Letters: QWERTY with æ ø å where a Danish keyboard has them; every row is 24 units.
const LETTERS: &[&[KeyDef]] = &[
    DIGITS,
    &[
        c('q'),
        c('w'),
        c('e'),
        c('r'),
        c('t'),
        c('y'),
        c('u'),
        c('i'),
        c('o'),
        c('p'),
        c('å'),
        c('-'),
    ],
    &[
        c('a'),
        c('s'),
        c('d'),
        c('f'),
        c('g'),
        c('h'),
        c('j'),
        c('k'),
        c('l'),
        c('æ'),
        c('ø'),
        c('_'),
    ],
    &[
        (Cap::Shift, 4),
        c('z'),
        c('x'),
        c('c'),
        c('v'),
        c('b'),
        c('n'),
        c('m'),
        c('.'),
        (Cap::Clear, 4),
    ],
    &[(Cap::Submit, 24)],
];

/// Hexadecimal for a MitID uuid.
const HEX: &[&[KeyDef]] = &[
    DIGITS,
    &[
        c('a'),
        c('b'),
        c('c'),
        c('d'),
        c('e'),
        c('f'),
        c('-'),
        (Cap::Clear, 4),
    ],
    &[(Cap::Submit, 24)],
];

/// A phone-style numeric pad for CPR.
const NUMERIC: &[&[KeyDef]] = &[
    &[
        (Cap::Char('1'), 3),
        (Cap::Char('2'), 3),
        (Cap::Char('3'), 3),
    ],
    &[
        (Cap::Char('4'), 3),
        (Cap::Char('5'), 3),
        (Cap::Char('6'), 3),
    ],
    &[
        (Cap::Char('7'), 3),
        (Cap::Char('8'), 3),
        (Cap::Char('9'), 3),
    ],
    &[(Cap::Clear, 3), (Cap::Char('0'), 3), (Cap::Delete, 3)],
    &[(Cap::Submit, 9)],
];

pub fn layout(kind: IdentifierKind) -> &'static [&'static [KeyDef]] {
    match kind {
        IdentifierKind::UserId => LETTERS,
        IdentifierKind::Uuid => HEX,
        IdentifierKind::Cpr => NUMERIC,
    }
}

pub fn cap_at(kind: IdentifierKind, row: usize, col: usize) -> Option<Cap> {
    layout(kind).get(row).and_then(|r| r.get(col)).map(|k| k.0)
}

/// The Fortsæt key: the last row's first key in every layout.
pub fn submit_item(kind: IdentifierKind) -> Item {
    Item::Key(layout(kind).len().saturating_sub(1), 0)
}

/// Where focus starts: on the letters (the first letter row), where a viewer who types with
/// the on-screen keys begins; the CPR pad on its "1".
pub fn default_focus(kind: IdentifierKind) -> Item {
    match kind {
        IdentifierKind::UserId | IdentifierKind::Uuid => Item::Key(1, 0),
        IdentifierKind::Cpr => Item::Key(0, 0),
    }
}

/// The width of every layout's rows, in half-key units.
pub fn width_units(kind: IdentifierKind) -> f32 {
    layout(kind)
        .first()
        .map_or(0.0, |row| row.iter().map(|k| f32::from(k.1)).sum())
}

/// The focus rows of a layout, with key centres in half-key units.
pub fn rows(kind: IdentifierKind) -> Vec<Vec<(Item, f32)>> {
    layout(kind)
        .iter()
        .enumerate()
        .map(|(r, keys)| {
            let mut x = 0.0;
            keys.iter()
                .enumerate()
                .map(|(col, (_, units))| {
                    let w = f32::from(*units);
                    let centre = x + w / 2.0;
                    x += w;
                    (Item::Key(r, col), centre)
                })
                .collect()
        })
        .collect()
}

/// Longest input per kind; keys beyond it are ignored, not truncated silently later.
fn max_len(kind: IdentifierKind) -> usize {
    match kind {
        IdentifierKind::Cpr => 10,
        IdentifierKind::Uuid => 36,
        IdentifierKind::UserId => 64,
    }
}

/// What the field holds: raw digits for CPR (the dash is display only), the text otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Field {
    text: String,
}

impl Field {
    pub fn raw(&self) -> &str {
        &self.text
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }

    pub fn delete(&mut self) {
        self.text.pop();
    }

    /// Whether the field holds the longest input of its kind.
    pub fn is_full(&self, kind: IdentifierKind) -> bool {
        self.text.chars().count() >= max_len(kind)
    }

    /// Types `ch` if the kind takes it; returns whether it was taken.
    pub fn type_char(&mut self, kind: IdentifierKind, ch: char) -> bool {
        let ok = match kind {
            IdentifierKind::Cpr => ch.is_ascii_digit(),
            IdentifierKind::Uuid => ch.is_ascii_hexdigit() || ch == '-',
            IdentifierKind::UserId => ch.is_alphanumeric() || "-._@".contains(ch),
        };
        if !ok || self.is_full(kind) {
            return false;
        }
        let ch = if kind == IdentifierKind::Uuid {
            ch.to_ascii_lowercase()
        } else {
            ch
        };
        self.text.push(ch);
        true
    }

    /// The field as shown, and (CPR only) the greyed rest of the `DDMMÅÅ-XXXX` template.
    /// A CPR number's last four digits are masked as they are typed ("080436-••••"): the
    /// screen is shared with the room, and the birth date alone is what the viewer checks.
    pub fn display(&self, kind: IdentifierKind) -> (String, String) {
        if kind != IdentifierKind::Cpr {
            return (self.text.clone(), String::new());
        }
        let shown: String = identifier::format_cpr(&self.text)
            .chars()
            .enumerate()
            .map(|(i, c)| if i > 6 { '•' } else { c })
            .collect();
        let template: Vec<char> = "DDMMÅÅ-XXXX".chars().collect();
        let rest: String = template.iter().skip(shown.chars().count()).collect();
        (shown, rest)
    }

    pub fn parse(&self, kind: IdentifierKind) -> Result<Who, IdentifierError> {
        identifier::parse(kind, &self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letters_row_is_24_units_and_has_all_keys() {
        for row in LETTERS {
            assert_eq!(row.iter().map(|k| u32::from(k.1)).sum::<u32>(), 24);
        }
        let chars: String = LETTERS
            .iter()
            .flat_map(|r| r.iter())
            .filter_map(|k| match k.0 {
                Cap::Char(c) => Some(c),
                _ => None,
            })
            .collect();
        for want in "abcdefghijklmnopqrstuvwxyzæøå0123456789-._".chars() {
            assert!(chars.contains(want), "missing {want}");
        }
    }

    #[test]
    fn cpr_field_shows_template() {
        let mut f = Field::default();
        for ch in "0804361".chars() {
            assert!(f.type_char(IdentifierKind::Cpr, ch));
        }
        assert!(!f.type_char(IdentifierKind::Cpr, 'a'));
        assert_eq!(
            f.display(IdentifierKind::Cpr),
            ("080436-•".into(), "XXX".into())
        );
        for ch in "234".chars() {
            assert!(f.type_char(IdentifierKind::Cpr, ch));
        }
        assert!(f.is_full(IdentifierKind::Cpr));
        assert_eq!(
            f.display(IdentifierKind::Cpr),
            ("080436-••••".into(), String::new())
        );
        // The digits themselves are kept: only the display hides them.
        assert_eq!(f.raw(), "0804361234");
    }

    #[test]
    fn focus_starts_on_the_letters() {
        for (kind, want) in [(IdentifierKind::UserId, 'q'), (IdentifierKind::Uuid, 'a')] {
            let Item::Key(r, c) = default_focus(kind) else {
                panic!("{kind:?}: focus off the keys");
            };
            assert_eq!(cap_at(kind, r, c), Some(Cap::Char(want)));
        }
        assert_eq!(width_units(IdentifierKind::UserId), 24.0);
    }
}
