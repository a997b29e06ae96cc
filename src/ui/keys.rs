//! Keys: remote and keyboard input, held-arrow repeat, and editing the identifier field.

use std::time::Duration;

use slint::TimerMode;

use crate::config::IdentifierKind;

use super::controller::{Controller, Origin};
use super::generated::{IdError, Screen};
use super::input::{Dir, Input, classify};
use super::keyboard::{self, Cap, Field};

/// Held arrows: first repeat after 5 ticks (500 ms), then one move per 100 ms tick. A missed
/// key release (the window lost focus) ends after `REPEAT_LIMIT` moves or at an edge.
const REPEAT_TICK: Duration = Duration::from_millis(100);
const REPEAT_DELAY_TICKS: u32 = 5;
const REPEAT_LIMIT: u32 = 80;

impl Controller {
    pub fn key_pressed(&self, text: &str, repeat: bool) -> bool {
        let Some(input) = classify(text) else {
            return false;
        };
        if self.screen() == Screen::SignedIn {
            self.idle.restart();
        }
        let screen = self.screen();
        match input {
            // The platform's own repeats are dropped: held arrows repeat from our timer on
            // every backend alike, and a held OK or Back must not fire twice.
            Input::Move(_) | Input::Activate | Input::Back if repeat => true,
            Input::Move(dir) => {
                self.move_focus(dir);
                self.hold(dir);
                true
            }
            Input::Activate => {
                let item = self.focused();
                self.activate(item);
                true
            }
            Input::Back => {
                self.back();
                true
            }
            Input::Backspace | Input::Delete if screen == Screen::Identify => {
                self.edit(|f, _| f.delete());
                true
            }
            Input::Backspace if !repeat => {
                self.back();
                true
            }
            // Typed straight into the field (remote digits, a keyboard): focus moves to
            // Fortsæt, so the next OK or Return submits instead of pressing a grid key.
            Input::Char(ch) if screen == Screen::Identify => {
                self.type_char(ch);
                self.set_focus(keyboard::submit_item(self.setup.kind));
                true
            }
            // Typing on Start opens the identifier field with that first character.
            Input::Char(ch) if screen == Screen::Start && !repeat => {
                self.open_identify(true);
                self.type_char(ch);
                self.set_focus(keyboard::submit_item(self.setup.kind));
                true
            }
            _ => false,
        }
    }

    pub fn key_released(&self, text: &str) -> bool {
        match classify(text) {
            Some(Input::Move(dir)) => {
                let held = self.state.borrow().held.map(|h| h.0);
                if held == Some(dir) {
                    self.state.borrow_mut().held = None;
                    self.repeat.stop();
                }
                true
            }
            _ => false,
        }
    }

    pub(super) fn move_focus(&self, dir: Dir) -> bool {
        let from = self.focused();
        let to = self.grid().step(from, dir);
        self.set_focus(to);
        to != from
    }

    fn hold(&self, dir: Dir) {
        self.state.borrow_mut().held = Some((dir, 0));
        let me = self.me.clone();
        self.repeat
            .start(TimerMode::Repeated, REPEAT_TICK, move || {
                if let Some(c) = me.upgrade() {
                    c.repeat_tick();
                }
            });
    }

    fn repeat_tick(&self) {
        let Some((dir, ticks)) = self.state.borrow().held else {
            self.repeat.stop();
            return;
        };
        self.state.borrow_mut().held = Some((dir, ticks + 1));
        if ticks + 1 < REPEAT_DELAY_TICKS {
            return;
        }
        if !self.move_focus(dir) || ticks + 1 >= REPEAT_DELAY_TICKS + REPEAT_LIMIT {
            self.state.borrow_mut().held = None;
            self.repeat.stop();
        }
    }

    pub(super) fn open_identify(&self, fresh: bool) {
        {
            let mut st = self.state.borrow_mut();
            if fresh {
                st.field.clear();
            }
            st.shift = false;
            st.id_error = IdError::None;
        }
        self.show(Screen::Identify);
    }

    pub(super) fn type_char(&self, ch: char) {
        self.edit(|f, kind| {
            f.type_char(kind, ch);
        });
    }

    fn edit(&self, f: impl FnOnce(&mut Field, IdentifierKind)) {
        {
            let mut st = self.state.borrow_mut();
            f(&mut st.field, self.setup.kind);
            st.id_error = IdError::None;
        }
        self.push_identify(false);
    }

    pub(super) fn press_key(&self, row: usize, col: usize) {
        match keyboard::cap_at(self.setup.kind, row, col) {
            Some(Cap::Char(ch)) => {
                let shifted = std::mem::take(&mut self.state.borrow_mut().shift);
                let ch = if shifted {
                    ch.to_uppercase().next().unwrap_or(ch)
                } else {
                    ch
                };
                self.type_char(ch);
                if shifted {
                    self.push_identify(true);
                }
            }
            Some(Cap::Shift) => {
                let mut st = self.state.borrow_mut();
                st.shift = !st.shift;
                drop(st);
                self.push_identify(true);
            }
            Some(Cap::Delete) => self.edit(|f, _| f.delete()),
            Some(Cap::Clear) => self.edit(|f, _| f.clear()),
            Some(Cap::Submit) => self.submit(),
            None => {}
        }
    }

    /// Validates the field; only a valid identifier starts a request.
    pub(super) fn submit(&self) {
        let parsed = self.state.borrow().field.parse(self.setup.kind);
        match parsed {
            Ok(who) => self.start(who, Origin::Identify, None),
            Err(e) => {
                self.state.borrow_mut().id_error = super::flow::id_error(&e);
                self.push_identify(false);
            }
        }
    }
}
