//! Keys before any screen sees them: what a key event means on a screen that does or does not
//! take text, and the held-arrow repeat (linuxkms has no auto-repeat; winit's is dropped so
//! that every backend repeats alike).

use std::cell::Cell;
use std::time::Duration;

use slint::{Timer, TimerMode};

use super::input::{Dir, Input, classify};
use super::journey::ScreenKey;

/// Held arrows: first repeat after 5 ticks (500 ms), then one move per 100 ms tick. A missed
/// key release (the window lost focus) ends after `REPEAT_LIMIT` moves or at an edge.
const REPEAT_TICK: Duration = Duration::from_millis(100);
const REPEAT_DELAY_TICKS: u32 = 5;
const REPEAT_LIMIT: u32 = 80;

/// What a pressed key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Press {
    Move(Dir),
    /// OK on the focused item.
    Activate,
    Screen(ScreenKey),
    /// Used, with nothing to do (a platform repeat of OK, Back or an arrow).
    Swallowed,
    /// A key the app does not use.
    Unused,
}

/// `text`: the key event's text; `takes_text`: the screen has a field (Identify).
pub fn press(text: &str, repeat: bool, takes_text: bool) -> Press {
    let Some(input) = classify(text) else {
        return Press::Unused;
    };
    match input {
        // The platform's own repeats are dropped: held arrows repeat from our timer on every
        // backend alike, and a held OK or Back must not fire twice.
        Input::Move(_) | Input::Activate | Input::Back if repeat => Press::Swallowed,
        Input::Move(dir) => Press::Move(dir),
        Input::Activate => Press::Activate,
        Input::Back => Press::Screen(ScreenKey::Back),
        Input::Backspace | Input::Delete if takes_text => Press::Screen(ScreenKey::Delete),
        // Backspace is Back where no field takes text.
        Input::Backspace if !repeat => Press::Screen(ScreenKey::Back),
        // A held number key would race through its multi-tap letters: one press, one step.
        Input::Char(ch) if repeat && ch.is_ascii_digit() => Press::Swallowed,
        Input::Char(ch) if takes_text || !repeat => Press::Screen(ScreenKey::Char(ch)),
        _ => Press::Unused,
    }
}

/// Whether `key` came from a real keyboard: a remote has number keys but no letter keys, so a
/// letter means a desktop keyboard (or xdotool). Its user expects "2" to type 2, not "a": from
/// then on, for the rest of the app's life, number keys type digits instead of multi-tap
/// letters. It never switches back, so a key never changes meaning under a viewer's fingers.
pub fn from_keyboard(key: ScreenKey) -> bool {
    matches!(key, ScreenKey::Char(c) if c.is_alphabetic())
}

/// The held arrow and its repeat timer.
#[derive(Default)]
pub struct Repeat {
    timer: Timer,
    held: Cell<Option<(Dir, u32)>>,
}

impl Repeat {
    /// Starts repeating `dir`; `on_tick` runs every tick on the UI thread.
    pub fn hold(&self, dir: Dir, on_tick: impl FnMut() + 'static) {
        self.held.set(Some((dir, 0)));
        self.timer.start(TimerMode::Repeated, REPEAT_TICK, on_tick);
    }

    /// The arrow was let go.
    pub fn release(&self, dir: Dir) {
        if self.held.get().map(|h| h.0) == Some(dir) {
            self.stop();
        }
    }

    pub fn stop(&self) {
        self.held.set(None);
        self.timer.stop();
    }

    /// One tick of the held arrow: after the first delay, `step` moves focus and says
    /// whether it moved; at an edge, or after the limit, the repeat ends.
    pub fn tick(&self, step: impl FnOnce(Dir) -> bool) {
        let Some((dir, ticks)) = self.held.get() else {
            self.timer.stop();
            return;
        };
        let ticks = ticks.saturating_add(1);
        self.held.set(Some((dir, ticks)));
        if ticks < REPEAT_DELAY_TICKS {
            return;
        }
        if !step(dir) || ticks >= REPEAT_DELAY_TICKS + REPEAT_LIMIT {
            self.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backspace_deletes_in_a_field_and_is_back_elsewhere() {
        assert_eq!(
            press("\u{8}", false, true),
            Press::Screen(ScreenKey::Delete)
        );
        assert_eq!(press("\u{8}", false, false), Press::Screen(ScreenKey::Back));
        assert_eq!(press("\u{7f}", false, false), Press::Unused);
        assert_eq!(press("\n", true, false), Press::Swallowed);
        assert_eq!(press("a", true, false), Press::Unused);
        assert_eq!(press("a", true, true), Press::Screen(ScreenKey::Char('a')));
    }

    #[test]
    fn held_number_keys_do_not_repeat_and_letters_mean_a_keyboard() {
        assert_eq!(press("2", true, true), Press::Swallowed);
        assert_eq!(press("2", false, true), Press::Screen(ScreenKey::Char('2')));
        assert!(from_keyboard(ScreenKey::Char('a')));
        assert!(from_keyboard(ScreenKey::Char('Ø')));
        assert!(!from_keyboard(ScreenKey::Char('2')));
        assert!(!from_keyboard(ScreenKey::Char('.')));
        assert!(!from_keyboard(ScreenKey::Back));
    }
}
