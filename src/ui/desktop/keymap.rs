//! winit's key events as the text Slint's key events carry (`slint::platform::Key` codes for
//! the named keys, the typed text otherwise), so that `ui::input` sees the same text from the
//! desktop window as from linuxkms.

use slint::SharedString;
use slint::platform::Key;
use winit::keyboard::{Key as WinitKey, NamedKey};

/// The Slint text for a key, or `None` for a key the UI has no code for.
pub fn text(logical: &WinitKey, typed: Option<&str>) -> Option<SharedString> {
    match logical {
        WinitKey::Named(named) => named_key(*named).map(SharedString::from),
        // The typed text carries the layout's shift level and dead keys; the logical key is
        // the fallback when winit has none (a key released, or a modifier held).
        WinitKey::Character(c) => Some(typed.unwrap_or(c.as_str()).into()),
        WinitKey::Unidentified(_) | WinitKey::Dead(_) => typed.map(SharedString::from),
    }
}

fn named_key(named: NamedKey) -> Option<Key> {
    use NamedKey as N;
    Some(match named {
        // A remote's OK and Back, as the kiosk's XKB option maps them on linuxkms.
        N::Enter | N::Select => Key::Return,
        N::Escape | N::BrowserBack | N::GoBack => Key::Escape,
        N::Backspace => Key::Backspace,
        N::Delete => Key::Delete,
        N::Tab => Key::Tab,
        N::Space => Key::Space,
        N::ArrowUp => Key::UpArrow,
        N::ArrowDown => Key::DownArrow,
        N::ArrowLeft => Key::LeftArrow,
        N::ArrowRight => Key::RightArrow,
        N::Home => Key::Home,
        N::End => Key::End,
        N::PageUp => Key::PageUp,
        N::PageDown => Key::PageDown,
        N::Insert => Key::Insert,
        N::ContextMenu => Key::Menu,
        N::Shift => Key::Shift,
        N::Control => Key::Control,
        N::Alt => Key::Alt,
        N::AltGraph => Key::AltGr,
        N::Super | N::Meta => Key::Meta,
        N::CapsLock => Key::CapsLock,
        N::F1 => Key::F1,
        N::F2 => Key::F2,
        N::F3 => Key::F3,
        N::F4 => Key::F4,
        N::F5 => Key::F5,
        N::F6 => Key::F6,
        N::F7 => Key::F7,
        N::F8 => Key::F8,
        N::F9 => Key::F9,
        N::F10 => Key::F10,
        N::F11 => Key::F11,
        N::F12 => Key::F12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::input::{Dir, Input, classify};

    fn named(n: NamedKey) -> Option<Input> {
        classify(&text(&WinitKey::Named(n), None)?)
    }

    #[test]
    fn remote_keys_mean_what_they_mean_on_the_kiosk() {
        assert_eq!(named(NamedKey::Enter), Some(Input::Activate));
        assert_eq!(named(NamedKey::Select), Some(Input::Activate));
        assert_eq!(named(NamedKey::Escape), Some(Input::Back));
        assert_eq!(named(NamedKey::BrowserBack), Some(Input::Back));
        assert_eq!(named(NamedKey::Backspace), Some(Input::Backspace));
        assert_eq!(named(NamedKey::Delete), Some(Input::Delete));
        assert_eq!(named(NamedKey::ArrowUp), Some(Input::Move(Dir::Up)));
        assert_eq!(named(NamedKey::ArrowDown), Some(Input::Move(Dir::Down)));
        assert_eq!(named(NamedKey::ArrowLeft), Some(Input::Move(Dir::Left)));
        assert_eq!(named(NamedKey::ArrowRight), Some(Input::Move(Dir::Right)));
        // F5 is INFO, which toggles speech on Start (`ui::speak`).
        assert_eq!(
            text(&WinitKey::Named(NamedKey::F5), None),
            Some(SharedString::from(Key::F5))
        );
        // Modifiers reach Slint but mean nothing to the journey.
        assert_eq!(named(NamedKey::Shift), None);
        assert_eq!(text(&WinitKey::Named(NamedKey::MediaPlay), None), None);
    }

    #[test]
    fn typed_text_wins_over_the_logical_key() {
        let digit = WinitKey::Character("7".into());
        assert_eq!(
            classify(&text(&digit, Some("7")).unwrap()),
            Some(Input::Char('7'))
        );
        let shifted = WinitKey::Character("a".into());
        assert_eq!(text(&shifted, Some("A")).unwrap().as_str(), "A");
        assert_eq!(text(&shifted, None).unwrap().as_str(), "a");
    }
}
