//! The production [`Host`]: sessions, the embedded simulator, the viewer store and the
//! hand-off, all on the tokio runtime, so the UI thread never waits for IO.
//!
//! The window opens before the broker is ready (the simulator may still be loading its key):
//! setup runs in the background and a sign-in started meanwhile waits for it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use crate::ciba::{CibaClient, Profile};
use crate::config::Settings;
use crate::session::{self, Outcome, SessionHandle, SessionSettings, Update, Who};
use crate::sim::{self, SimHandle};
use crate::viewers::ViewerStore;

use super::controller::{Controller, Host, Running, UpdateSink, ViewerOp};

/// What a sign-in needs once setup is done. The simulator lives as long as this does.
struct Backing {
    backend: Arc<CibaClient>,
    session: SessionSettings,
    _sim: Option<SimHandle>,
}

type Ready = Arc<OnceCell<Result<Backing, Outcome>>>;

#[derive(Default)]
struct Slot {
    cancelled: bool,
    handle: Option<SessionHandle>,
}

struct SessionRunning(Arc<Mutex<Slot>>);

impl Running for SessionRunning {
    fn cancel(&self) {
        if let Ok(mut slot) = self.0.lock() {
            slot.cancelled = true;
            if let Some(h) = &slot.handle {
                h.cancel();
            }
        }
    }
}

pub(super) struct TokioHost {
    rt: Handle,
    settings: Arc<Settings>,
    ready: Ready,
    store: Option<Arc<Mutex<ViewerStore>>>,
    sessions: RefCell<Vec<Arc<Mutex<Slot>>>>,
}

impl TokioHost {
    pub fn new(
        rt: Handle,
        settings: Settings,
        approve_after: Option<u64>,
        store: Option<ViewerStore>,
    ) -> Rc<Self> {
        let settings = Arc::new(settings);
        let ready: Ready = Arc::new(OnceCell::new());
        let (r, s) = (ready.clone(), settings.clone());
        rt.spawn(async move {
            let backing = r.get_or_init(|| setup(s, approve_after)).await;
            if let Ok(b) = backing {
                // Warm the discovery document so the first sign-in is one request shorter.
                if let Err(e) = b.backend.discover().await {
                    tracing::warn!(error = %e, "discovery failed; will retry at sign-in");
                }
            }
        });
        Rc::new(Self {
            rt,
            settings,
            ready,
            store: store.map(|s| Arc::new(Mutex::new(s))),
            sessions: RefCell::new(Vec::new()),
        })
    }

    /// Cancels what is pending and waits (bounded) for the OP to be told.
    pub fn shutdown(&self) {
        let handles: Vec<SessionHandle> = self
            .sessions
            .borrow_mut()
            .drain(..)
            .filter_map(|slot| slot.lock().ok().and_then(|mut s| s.handle.take()))
            .filter(|h| !h.is_finished())
            .collect();
        for h in handles {
            h.cancel();
            let finished = self
                .rt
                .block_on(tokio::time::timeout(Duration::from_secs(3), h.finished()));
            if finished.is_err() {
                tracing::warn!("cancel did not finish in time at exit");
            }
        }
    }
}

async fn setup(settings: Arc<Settings>, approve_after: Option<u64>) -> Result<Backing, Outcome> {
    let (issuer, sim) = match &settings.issuer {
        Some(i) => (i.clone(), None),
        None => {
            let handle = sim::start_embedded(approve_after.map(Duration::from_secs))
                .await
                .map_err(|e| Outcome::Failed {
                    detail: format!("embedded simulator: {e}"),
                })?;
            let phone = handle.phone_url();
            tracing::info!(phone = %phone, "embedded simulator: approve on the simulated phone");
            let _ = slint::invoke_from_event_loop(move || {
                Controller::with_active(|c| c.set_simulator(&phone))
            });
            (handle.authority(), Some(handle))
        }
    };
    let backend =
        CibaClient::new(settings.client_config(&issuer)).map_err(|e| Outcome::ConfigRefused {
            detail: e.to_string(),
        })?;
    // Picking the local address may resolve the issuer's name: keep it off the runtime's
    // async workers as well as off the UI thread.
    let s = settings.clone();
    let session = tokio::task::spawn_blocking(move || s.session_settings(&issuer))
        .await
        .map_err(|e| Outcome::Failed {
            detail: e.to_string(),
        })?;
    Ok(Backing {
        backend: Arc::new(backend),
        session,
        _sim: sim,
    })
}

impl Host for TokioHost {
    fn start(&self, who: Who, mut sink: UpdateSink) -> Box<dyn Running> {
        let slot = Arc::new(Mutex::new(Slot::default()));
        {
            let mut sessions = self.sessions.borrow_mut();
            sessions.retain(|s| {
                s.lock()
                    .is_ok_and(|s| s.handle.as_ref().is_some_and(|h| !h.is_finished()))
            });
            sessions.push(slot.clone());
        }
        let (ready, settings, s2) = (self.ready.clone(), self.settings.clone(), slot.clone());
        self.rt.spawn(async move {
            let backing = ready.get_or_init(|| setup(settings, None)).await;
            match backing {
                Err(outcome) => sink(Update::Finished(outcome.clone())),
                Ok(b) => {
                    let Ok(mut slot) = s2.lock() else { return };
                    // Cancelled before anything was sent: nothing to tell the OP.
                    if !slot.cancelled {
                        slot.handle = Some(session::spawn(
                            b.backend.clone(),
                            who,
                            b.session.clone(),
                            sink,
                        ));
                    }
                }
            }
        });
        Box::new(SessionRunning(slot))
    }

    fn signed_in(&self, profile: &Profile, reference_text: &str) {
        let identity =
            session::identity_json(profile, reference_text, std::time::SystemTime::now());
        let cfg = self.settings.handoff.clone();
        self.rt.spawn(async move {
            if let Err(e) = crate::handoff::deliver(&cfg, &identity).await {
                tracing::error!(error = %e, "hand-off of the signed-in identity failed");
                let _ = slint::invoke_from_event_loop(|| {
                    Controller::with_active(|c| c.set_handoff_failed(true))
                });
            }
        });
    }

    fn viewers(&self, op: ViewerOp) {
        let Some(store) = self.store.clone() else {
            return;
        };
        self.rt.spawn_blocking(move || {
            let Ok(mut store) = store.lock() else { return };
            let now = crate::viewers::unix_now();
            let result = match &op {
                ViewerOp::Remember { name, key } => store.remember(name, key.clone(), now),
                ViewerOp::Touch(key) => store.touch(key, now).map(|_| ()),
                ViewerOp::Forget(key) => store.forget(key).map(|_| ()),
                ViewerOp::ForgetAll => store.forget_all(),
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "viewer store");
            }
            let list = store.list().to_vec();
            let _ = slint::invoke_from_event_loop(move || {
                Controller::with_active(|c| c.set_viewers(list))
            });
        });
    }

    fn exit(&self) {
        if let Err(e) = slint::quit_event_loop() {
            tracing::error!(error = %e, "cannot leave the event loop");
        }
    }
}
