//! What a key event means to the TV app, whatever backend delivered it.
//!
//! Measured on this project (docs/ARCHITECTURE.md): the desktop platform and xdotool deliver
//! Return/KP_Enter as `"\n"`, Escape as `"\u{1b}"`, BackSpace as `"\u{8}"`, arrows as Slint's
//! private-use key codes and digits as themselves, and a remote's Back and Select as Escape
//! and Return (`ui::desktop::keymap`). On linuxkms the packaging's XKB option maps BACK to
//! Escape and OK/SELECT to Return, and every other remote key arrives as `"\0"`, which is
//! ignored here.

use slint::platform::Key;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Move(Dir),
    Activate,
    Back,
    /// Deletes in the identifier field; means Back on every other screen.
    Backspace,
    /// Forward delete: deletes in the identifier field only.
    Delete,
    /// A printable character (digits included) from the remote or a keyboard.
    Char(char),
}

fn is(c: char, key: Key) -> bool {
    c == char::from(key)
}

/// Classifies a key event's text; `None` for keys the app does not use.
pub fn classify(text: &str) -> Option<Input> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        // Composed input (an IME, a paste): only the identifier field could use it, and
        // it is typed one key at a time there.
        return None;
    }
    Some(match c {
        '\n' | '\r' => Input::Activate,
        '\u{1b}' => Input::Back,
        '\u{8}' => Input::Backspace,
        '\u{7f}' => Input::Delete,
        _ if is(c, Key::UpArrow) => Input::Move(Dir::Up),
        _ if is(c, Key::DownArrow) => Input::Move(Dir::Down),
        _ if is(c, Key::LeftArrow) => Input::Move(Dir::Left),
        _ if is(c, Key::RightArrow) => Input::Move(Dir::Right),
        // Slint's other special keys live in the private-use area (Menu, Home, F-keys…).
        c if ('\u{e000}'..='\u{f8ff}').contains(&c) => return None,
        c if c.is_control() => return None,
        c => Input::Char(c),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_keys() {
        assert_eq!(classify("\n"), Some(Input::Activate));
        assert_eq!(classify("\u{1b}"), Some(Input::Back));
        assert_eq!(classify("\u{8}"), Some(Input::Backspace));
        assert_eq!(
            classify(&char::from(Key::LeftArrow).to_string()),
            Some(Input::Move(Dir::Left))
        );
        assert_eq!(classify("7"), Some(Input::Char('7')));
        assert_eq!(classify("ø"), Some(Input::Char('ø')));
        assert_eq!(classify("\0"), None);
        assert_eq!(classify(&char::from(Key::Menu).to_string()), None);
        assert_eq!(classify(""), None);
    }
}
