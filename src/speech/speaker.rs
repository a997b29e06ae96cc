//! The seam between the UI and a synthesiser: the UI hands text to a [`Speaker`] and never
//! waits. [`Speech`] is the production one; tests record what would be said.

use crate::lang::Lang;

use super::{Language, Speech};

/// Where spoken text goes. The UI thread calls it; it must return at once.
pub trait Speaker {
    /// Speaks `text` now, cutting off whatever is still being said. Nothing when off.
    fn say(&self, text: &str, lang: Lang);
    /// A synthesiser is there (`speech = true` and one is installed): the toggle key works.
    fn available(&self) -> bool;
    /// Speaking now (the viewer can turn it off and on again on Start).
    fn enabled(&self) -> bool;
    /// Turns speaking on or off; `confirm` is said either way, also when turning off.
    fn set_enabled(&self, on: bool, confirm: &str, lang: Lang);
}

/// No synthesiser (`speech = false`, the `render` command).
pub struct Silent;

impl Speaker for Silent {
    fn say(&self, _text: &str, _lang: Lang) {}
    fn available(&self) -> bool {
        false
    }
    fn enabled(&self) -> bool {
        false
    }
    fn set_enabled(&self, _on: bool, _confirm: &str, _lang: Lang) {}
}

impl From<Lang> for Language {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::Da => Language::Danish,
            Lang::En => Language::English,
        }
    }
}

impl Speaker for Speech {
    fn say(&self, text: &str, lang: Lang) {
        Speech::say(self, text, lang.into());
    }
    fn available(&self) -> bool {
        Speech::available(self)
    }
    fn enabled(&self) -> bool {
        Speech::enabled(self)
    }
    fn set_enabled(&self, on: bool, confirm: &str, lang: Lang) {
        if on {
            Speech::set_enabled(self, true);
            Speech::say(self, confirm, lang.into());
        } else {
            self.say_then_disable(confirm, lang.into());
        }
    }
}
