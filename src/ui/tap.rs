//! The controller's side of multi-tap typing on Identify (`screens/identify.rs` holds the
//! letters): a single-shot Slint timer to the pending letter's deadline on the injected clock,
//! so tests move Slint's mock time and a manual clock together, and the commit an arrow makes
//! before focus moves.

use slint::TimerMode;

use super::controller::Controller;
use super::journey::Journey;
use super::screens::identify;

impl Controller {
    /// An arrow commits Identify's pending multi-tap letter before focus moves.
    pub(super) fn commit_typing(&self) {
        let committed = match &mut *self.journey.borrow_mut() {
            Journey::Identify(st) => identify::commit(st, self.setup.kind),
            _ => false,
        };
        if committed {
            self.push_screen();
            self.sync_tap();
        }
    }

    /// Runs the tap timer to the pending letter's deadline on the injected clock.
    pub(super) fn sync_tap(&self) {
        let deadline = match &*self.journey.borrow() {
            Journey::Identify(st) => identify::deadline(st),
            _ => None,
        };
        let Some(deadline) = deadline else {
            self.tap.stop();
            return;
        };
        let me = self.me.clone();
        let wait = deadline.saturating_duration_since(self.clock.now());
        self.tap.start(TimerMode::SingleShot, wait, move || {
            let Some(c) = me.upgrade() else { return };
            let now = c.clock.now();
            let committed = match &mut *c.journey.borrow_mut() {
                Journey::Identify(st) => identify::tick(st, c.setup.kind, now),
                _ => false,
            };
            if committed {
                c.push_screen();
            }
            c.sync_tap();
        });
    }
}
