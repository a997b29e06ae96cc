//! The one path by which results from IO threads reach the UI thread: a typed channel whose
//! sender wakes the Slint event loop (`upgrade_in_event_loop`), where the controller drains it.

use std::sync::mpsc;

use slint::ComponentHandle;

use crate::session::Update;
use crate::viewers::Viewer;

use super::generated::{AppWindow, Nav};

#[derive(Debug)]
pub enum UiEvent {
    /// An update of the sign-in started with this generation; stale ones are dropped.
    Session { generation: u64, update: Update },
    /// The viewer store's list after a change (or once it was read at start).
    Viewers(Vec<Viewer>),
    /// The store was unreadable and was moved aside.
    StoreProblem,
    /// The operator's middleware did not take the identity.
    HandoffFailed,
    /// The operator's middleware took the identity (or no hand-off is configured).
    HandedOff,
    /// The embedded simulator listens; its phone page is here.
    SimulatorReady { phone_url: String },
    /// The installation cannot sign anyone in until its config is fixed: show why.
    ConfigProblem { detail: String },
}

/// Cloneable and `Send`: every IO task holds one.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<UiEvent>,
    window: slint::Weak<AppWindow>,
}

impl EventSender {
    /// Queues `event` and wakes the UI thread. Dropped silently once the window is gone.
    pub fn send(&self, event: UiEvent) {
        if self.tx.send(event).is_err() {
            return;
        }
        let woke = self
            .window
            .upgrade_in_event_loop(|app| app.global::<Nav>().invoke_events_pending());
        if let Err(e) = woke {
            tracing::debug!(error = %e, "UI gone; event left undelivered");
        }
    }
}

/// The sender for IO tasks and the receiver the controller drains.
pub fn channel(app: &AppWindow) -> (EventSender, mpsc::Receiver<UiEvent>) {
    let (tx, rx) = mpsc::channel();
    (
        EventSender {
            tx,
            window: app.as_weak(),
        },
        rx,
    )
}
