//! The TV app: the window first, then everything that can wait, on the runtime's workers.
//! [`TvHost`] is the UI's production [`Host`]: sessions, the viewer store, the hand-off and
//! the embedded simulator, whose results reach the UI only as [`UiEvent`]s.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use crate::ciba::Profile;
use crate::config::{BackOnStart, IdentifierKind, ProfileName, Settings};
use crate::handoff::Identity;
use crate::lang::Lang;
use crate::session::{self, SessionHandle, Who};
use crate::speech::Speech;
use crate::ui::{EventSender, Host, Running, Setup, Speaker, UiError, UiEvent, ViewerOp, Window};
use crate::viewers::ViewerStore;

use super::{ConfigProblem, Wired, connect, language, runtime};

#[derive(Clone, Debug, Default)]
pub struct TvOptions {
    pub fullscreen: bool,
    /// Embedded simulator only: approve every request after this long.
    pub sim_approve_after: Option<Duration>,
}

/// Opens the app and returns when the viewer leaves it (Back on Start, where allowed) or the
/// window closes. With a config that cannot work, the app shows why and stays up.
pub fn run(loaded: Result<Settings, ConfigProblem>, opts: TvOptions) -> Result<(), UiError> {
    let fullscreen = opts.fullscreen || loaded.as_ref().is_ok_and(|s| s.ui.fullscreen);
    let window = Window::open(fullscreen)?;
    let events = window.events();
    let rt = runtime().map_err(UiError::Runtime)?;
    // SIGTERM (systemd stopping the kiosk) and SIGINT leave as the viewer would: the pending
    // request is cancelled at the OP, then `main` exits 130.
    let interrupted = Arc::new(AtomicBool::new(false));
    rt.spawn(quit_on_signal(Arc::clone(&interrupted)));
    let (setup, host) = match loaded {
        Ok(settings) => {
            let setup = setup(&settings);
            (
                setup,
                TvHost::new(rt.handle().clone(), Some(settings), events),
            )
        }
        Err(problem) => {
            tracing::error!("{}", problem.detail());
            events.send(UiEvent::ConfigProblem {
                detail: problem.detail(),
            });
            (
                broken_setup(),
                TvHost::broken(rt.handle().clone(), &problem, events),
            )
        }
    };
    let h = host.clone();
    let approve_after = opts.sim_approve_after;
    let result = window.run(setup, host.clone(), move || h.begin(approve_after));
    host.shutdown();
    rt.shutdown_timeout(Duration::from_millis(100));
    if interrupted.load(Ordering::SeqCst) {
        return Err(UiError::Interrupted);
    }
    result
}

async fn quit_on_signal(interrupted: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    interrupted.store(true, Ordering::SeqCst);
    let _ = slint::invoke_from_event_loop(|| {
        let _ = slint::quit_event_loop();
    });
}

fn setup(settings: &Settings) -> Setup {
    let signaturgruppen = settings.dialect() == crate::ciba::Dialect::Signaturgruppen;
    let broker_profile = matches!(
        settings.profile,
        ProfileName::SignaturgruppenPp | ProfileName::SignaturgruppenProd
    );
    let qr_enabled = settings.ui.qr && signaturgruppen;
    Setup {
        kind: settings.kind,
        back_on_start: settings.ui.back_on_start,
        idle_signout: Duration::from_secs(settings.ui.idle_signout_secs.max(30)),
        qr_enabled,
        // By default the broker profiles only: the simulator keeps Start's classic layout, with
        // the user-ID keyboard first, so a developer's offline journey starts with typing.
        // `[ui] start_qr` overrides it (the end-to-end test runs the simulator with it on).
        qr_on_start: qr_enabled && settings.ui.start_qr.unwrap_or(broker_profile),
        // The broker takes only a uuid or a CPR number. No viewer knows their MitID uuid (the
        // QR code and the tiles supply it), so Signaturgruppen has a typing path only where
        // the operator chose CPR; generic OPs and the simulator keep the user ID.
        typing: !broker_profile || settings.kind == IdentifierKind::Cpr,
        remember: settings.ui.remember_max > 0 && crate::viewers::default_path().is_some(),
        flex_capable: signaturgruppen,
        service_name: settings.service_name.clone(),
        language: language(settings),
    }
}

/// Nothing from the broken file is trusted: defaults, in the language of the environment.
fn broken_setup() -> Setup {
    Setup {
        kind: IdentifierKind::UserId,
        back_on_start: BackOnStart::default(),
        idle_signout: Duration::from_secs(900),
        qr_enabled: false,
        qr_on_start: false,
        typing: true,
        remember: false,
        flex_capable: false,
        service_name: "TV".into(),
        language: Lang::from_env(None),
    }
}

/// `Err`: this box's own setup cannot work (config, TLS roots, relay certificate, simulator),
/// which the UI shows as this TV's problem, never the service's or MitID's.
type Ready = Arc<OnceCell<Result<Arc<Wired>, String>>>;

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

pub struct TvHost {
    rt: Handle,
    /// `None` when the config cannot work: then every sign-in ends on the config-error screen.
    settings: Option<Arc<Settings>>,
    events: EventSender,
    ready: Ready,
    store: Arc<OnceLock<Option<Mutex<ViewerStore>>>>,
    sessions: RefCell<Vec<Arc<Mutex<Slot>>>>,
    /// Spoken guidance: espeak-ng or spd-say when `[ui] speech = true` finds one, else silent.
    speech: Rc<Speech>,
}

impl TvHost {
    fn new(rt: Handle, settings: Option<Settings>, events: EventSender) -> Rc<Self> {
        // A PATH lookup and one idle thread: cheap enough before the first frame, so the
        // Start screen is spoken as it appears.
        let speech = Speech::detect(settings.as_ref().is_some_and(|s| s.ui.speech));
        Rc::new(Self {
            rt,
            settings: settings.map(Arc::new),
            events,
            ready: Arc::new(OnceCell::new()),
            store: Arc::new(OnceLock::new()),
            sessions: RefCell::new(Vec::new()),
            speech: Rc::new(speech),
        })
    }

    /// Every sign-in ends on the config-error screen; no store, no hand-off.
    fn broken(rt: Handle, problem: &ConfigProblem, events: EventSender) -> Rc<Self> {
        let host = Self::new(rt, None, events);
        let _ = host.ready.set(Err(problem.detail()));
        host
    }

    /// After the first frame: the viewer store, then the simulator, the client (TLS roots),
    /// the name lookup and discovery, all on the workers.
    fn begin(&self, approve_after: Option<Duration>) {
        let Some(settings) = self.settings.clone() else {
            return;
        };
        let (store, s, events) = (self.store.clone(), settings.clone(), self.events.clone());
        self.rt.spawn_blocking(move || {
            if let Some(store) = open_store(&store, &s, &events)
                && let Ok(s) = store.lock()
            {
                events.send(UiEvent::Viewers(s.list().to_vec()));
            }
        });
        let (ready, events) = (self.ready.clone(), self.events.clone());
        self.rt.spawn(async move {
            let wired = ready.get_or_init(|| wire(settings, approve_after)).await;
            let Ok(w) = wired else { return };
            if let Some(phone_url) = w.phone_url() {
                tracing::info!(phone = %phone_url, "embedded simulator: approve on the simulated phone");
                events.send(UiEvent::SimulatorReady { phone_url });
            }
            // Warm the discovery document so the first sign-in is one request shorter.
            if let Some(c) = w.backend.direct()
                && let Err(e) = c.discover().await
            {
                tracing::warn!(error = %e, "discovery failed; will retry at sign-in");
            }
        });
    }

    /// Cancels what is pending and waits (bounded) for the OP to be told.
    fn shutdown(&self) {
        let handles: Vec<SessionHandle> = self
            .sessions
            .borrow_mut()
            .drain(..)
            .filter_map(|slot| slot.lock().ok().and_then(|mut s| s.handle.take()))
            .filter(|h| !h.is_finished())
            .collect();
        for h in handles {
            h.cancel();
            // The timeout is made inside the runtime: `tokio::time::timeout` needs the time
            // driver of the current context, and this thread (the UI's) has none.
            let finished = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(3), h.finished()).await
            });
            if finished.is_err() {
                tracing::warn!("cancel did not finish in time at exit");
            }
        }
    }
}

/// Everything that fails here is this box's own setup: nothing was asked of the broker yet.
async fn wire(
    settings: Arc<Settings>,
    approve_after: Option<Duration>,
) -> Result<Arc<Wired>, String> {
    connect(&settings, approve_after)
        .await
        .map(Arc::new)
        .map_err(|e| {
            tracing::error!(error = %e, "this TV cannot sign anyone in");
            e.to_string()
        })
}

/// The store is a few hundred bytes; opened once, on the blocking pool, by whichever task
/// needs it first (the others wait for it).
fn open_store<'a>(
    cell: &'a OnceLock<Option<Mutex<ViewerStore>>>,
    settings: &Settings,
    events: &EventSender,
) -> Option<&'a Mutex<ViewerStore>> {
    cell.get_or_init(|| {
        if settings.ui.remember_max == 0 {
            return None;
        }
        let Some(path) = crate::viewers::default_path() else {
            tracing::warn!("no data directory: viewers cannot be remembered");
            return None;
        };
        let (store, problem) = ViewerStore::open(path, settings.ui.remember_max);
        if problem.is_some() {
            events.send(UiEvent::StoreProblem);
        }
        Some(Mutex::new(store))
    })
    .as_ref()
}

impl Host for TvHost {
    fn start(&self, generation: u64, who: Who) -> Box<dyn Running> {
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
        let events = self.events.clone();
        let sink = {
            let events = events.clone();
            move |update| events.send(UiEvent::Session { generation, update })
        };
        self.rt.spawn(async move {
            let wired = match (ready.get(), settings) {
                (Some(r), _) => r,
                (None, Some(s)) => ready.get_or_init(|| wire(s, None)).await,
                (None, None) => return,
            };
            match wired {
                Err(detail) => events.send(UiEvent::ConfigProblem {
                    detail: detail.clone(),
                }),
                Ok(w) => {
                    let Ok(mut slot) = s2.lock() else { return };
                    // Cancelled before anything was sent: nothing to tell the OP.
                    if !slot.cancelled {
                        slot.handle = Some(session::spawn(
                            w.backend.clone(),
                            who,
                            w.session.clone(),
                            sink,
                        ));
                    }
                }
            }
        });
        Box::new(SessionRunning(slot))
    }

    fn signed_in(&self, profile: &Profile, reference_text: &str) {
        let Some(settings) = &self.settings else {
            return;
        };
        let identity = Identity::new(profile, reference_text, SystemTime::now());
        let cfg = settings.handoff.clone();
        let events = self.events.clone();
        self.rt.spawn(async move {
            match crate::handoff::deliver(&cfg, &identity).await {
                Ok(()) => events.send(UiEvent::HandedOff),
                Err(e) => {
                    tracing::error!(error = %e, "hand-off of the signed-in identity failed");
                    events.send(UiEvent::HandoffFailed);
                }
            }
        });
    }

    fn viewers(&self, op: ViewerOp) {
        let Some(settings) = self.settings.clone() else {
            return;
        };
        let (store, events) = (self.store.clone(), self.events.clone());
        self.rt.spawn_blocking(move || {
            let Some(store) = open_store(&store, &settings, &events) else {
                return;
            };
            let Ok(mut store) = store.lock() else { return };
            let now = crate::fsutil::unix_now();
            let result = match &op {
                ViewerOp::Remember { name, key } => store.remember(name, key.clone(), now),
                ViewerOp::Touch(key) => store.touch(key, now).map(|_| ()),
                ViewerOp::Forget(key) => store.forget(key).map(|_| ()),
                ViewerOp::ForgetAll => store.forget_all(),
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "viewer store");
            }
            events.send(UiEvent::Viewers(store.list().to_vec()));
        });
    }

    fn exit(&self) {
        if let Err(e) = slint::quit_event_loop() {
            tracing::error!(error = %e, "cannot leave the event loop");
        }
    }

    fn speaker(&self) -> Rc<dyn Speaker> {
        self.speech.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileConfig, Overrides};

    fn setup_of(toml_text: &str) -> Setup {
        let file: FileConfig = toml::from_str(toml_text).expect("toml");
        let settings =
            Settings::resolve(None, file, &Overrides::default(), None).expect("settings");
        setup(&settings)
    }

    #[test]
    fn start_qr_defaults_to_the_broker_profiles_and_can_be_set() {
        let sim = setup_of("");
        assert!(sim.qr_enabled && !sim.qr_on_start && sim.typing);
        let sim_qr = setup_of("[ui]\nstart_qr = true");
        assert!(sim_qr.qr_on_start && sim_qr.typing);
        let pp = setup_of(r#"profile = "signaturgruppen-pp""#);
        assert!(pp.qr_on_start && !pp.typing);
        let pp_off = setup_of("profile = \"signaturgruppen-pp\"\n[ui]\nstart_qr = false");
        assert!(!pp_off.qr_on_start);
        // Without the QR sign-in there is no code to show on Start.
        assert!(!setup_of("[ui]\nqr = false\nstart_qr = true").qr_on_start);
    }
}
