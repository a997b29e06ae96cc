//! Spoken guidance for viewers who cannot read the screen (opt-in: `[ui] speech = true`).
//!
//! Set-top boxes have no AT-SPI screen reader, so the app speaks for itself through a local
//! synthesiser: espeak-ng when installed, else speech-dispatcher's `spd-say`, else nothing
//! ([`Speech::detect`]). A kiosk without either stays silent and small.
//!
//! [`Speech::say`] never blocks: it replaces the one waiting utterance and wakes a worker
//! thread. Only the newest utterance matters (the focus moved on, the screen changed), so
//! anything older that is still waiting is dropped, and one that is being spoken is stopped.

mod phrases;
mod process;
mod speaker;

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

pub use phrases::{MAX_CHARS, clean, spell_digits, waiting_code};
pub use process::{EspeakNg, SpdSay, find_program};
pub use speaker::{Silent, Speaker};

/// The languages the app speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Danish,
    English,
}

impl Language {
    /// The voice/language name both espeak-ng (`-v`) and spd-say (`-l`) take.
    pub fn code(self) -> &'static str {
        match self {
            Self::Danish => "da",
            Self::English => "en",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("cannot start the speech synthesiser {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("the speech synthesiser {program} failed: {detail}")]
    Failed { program: String, detail: String },
}

/// A local speech synthesiser.
pub trait Backend: Send + 'static {
    /// Short name for logs ("espeak-ng", "spd-say").
    fn name(&self) -> &'static str;
    /// Starts speaking `text` and returns at once; the worker polls and may stop it.
    fn start(&self, text: &str, language: Language) -> Result<Box<dyn Playing>, SpeechError>;
}

/// An utterance being spoken.
pub trait Playing: Send {
    /// True once the utterance has finished (or failed).
    fn is_done(&mut self) -> bool;
    /// Stops it now; called when a newer utterance arrives.
    fn stop(&mut self);
}

/// How often the worker checks whether the utterance being spoken has ended; a newer one
/// wakes it at once through the condition variable.
const POLL: Duration = Duration::from_millis(25);

#[derive(Default)]
struct Queue {
    /// The newest utterance not yet started.
    next: Option<(String, Language)>,
    /// Bumped by every `say`, so the worker knows the utterance it speaks is stale.
    generation: u64,
    enabled: bool,
    shutdown: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic in the worker must not take the UI down with it: keep using the data.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The UI's handle. Cheap to call from the UI thread; a silent one does nothing.
pub struct Speech {
    shared: Option<Arc<Shared>>,
    worker: Option<JoinHandle<()>>,
    backend: &'static str,
}

impl Speech {
    /// No synthesiser: every call is a no-op.
    pub fn silent() -> Self {
        Self {
            shared: None,
            worker: None,
            backend: "none",
        }
    }

    /// The first installed synthesiser (espeak-ng, then spd-say) when `wanted`, else silent.
    pub fn detect(wanted: bool) -> Self {
        if !wanted {
            return Self::silent();
        }
        let backend: Option<Box<dyn Backend>> = match (EspeakNg::find(), SpdSay::find()) {
            (Some(e), _) => Some(Box::new(e)),
            (None, Some(s)) => Some(Box::new(s)),
            (None, None) => None,
        };
        match backend {
            Some(b) => Self::start(b),
            None => {
                tracing::info!(
                    backend = "none",
                    "speech is on but neither espeak-ng nor spd-say is installed: staying silent"
                );
                Self::silent()
            }
        }
    }

    /// Starts the worker thread for `backend`, enabled.
    pub fn start(backend: Box<dyn Backend>) -> Self {
        let name = backend.name();
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                enabled: true,
                ..Queue::default()
            }),
            wake: Condvar::new(),
        });
        let for_worker = shared.clone();
        let worker = std::thread::Builder::new()
            .name("mitid-speech".into())
            .spawn(move || work(&for_worker, backend.as_ref()));
        match worker {
            Ok(handle) => {
                tracing::info!(backend = name, "spoken guidance on");
                Self {
                    shared: Some(shared),
                    worker: Some(handle),
                    backend: name,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the speech thread: staying silent");
                Self::silent()
            }
        }
    }

    /// Which synthesiser speaks ("none" when silent).
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Whether there is a synthesiser at all (the toggle key means nothing otherwise).
    pub fn available(&self) -> bool {
        self.shared.is_some()
    }

    pub fn enabled(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.lock().enabled)
    }

    /// Turns speech on or off at run time (a key on Start); off stops what is being said.
    pub fn set_enabled(&self, on: bool) {
        if let Some(s) = &self.shared {
            let mut q = s.lock();
            q.enabled = on;
            if !on {
                q.next = None;
                q.generation = q.generation.wrapping_add(1);
            }
            s.wake.notify_all();
        }
    }

    /// Says `text` (replacing anything not yet finished), then turns speech off: the viewer
    /// hears "off" confirmed, and nothing after it. Returns at once.
    pub fn say_then_disable(&self, text: &str, language: Language) {
        let Some(s) = &self.shared else { return };
        let text = clean(text);
        let mut q = s.lock();
        q.enabled = false;
        q.next = (!text.is_empty()).then_some((text, language));
        q.generation = q.generation.wrapping_add(1);
        s.wake.notify_all();
    }

    /// Speaks `text` as soon as possible, replacing anything not yet finished. Returns at once.
    pub fn say(&self, text: &str, language: Language) {
        let Some(s) = &self.shared else { return };
        let text = clean(text);
        let mut q = s.lock();
        if !q.enabled || text.is_empty() {
            return;
        }
        q.next = Some((text, language));
        q.generation = q.generation.wrapping_add(1);
        s.wake.notify_all();
    }
}

impl Drop for Speech {
    fn drop(&mut self) {
        if let Some(s) = &self.shared {
            s.lock().shutdown = true;
            s.wake.notify_all();
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The worker: speak the newest utterance; stop it as soon as a newer one (or shutdown, or
/// "off") arrives.
fn work(shared: &Shared, backend: &dyn Backend) {
    loop {
        let (text, language, generation) = {
            let mut q = shared.lock();
            loop {
                if q.shutdown {
                    return;
                }
                if let Some((text, language)) = q.next.take() {
                    break (text, language, q.generation);
                }
                q = shared.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let mut playing = match backend.start(&text, language) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "speech failed");
                continue;
            }
        };
        loop {
            if stale(&shared.lock(), generation) {
                playing.stop();
                break;
            }
            if playing.is_done() {
                break;
            }
            let q = shared.lock();
            if !stale(&q, generation) {
                // Woken early by `say`, `set_enabled` or shutdown; the loop re-checks.
                let _ = shared.wake.wait_timeout(q, POLL);
            }
        }
    }
}

fn stale(q: &Queue, generation: u64) -> bool {
    q.shutdown || q.generation != generation
}

#[cfg(test)]
mod tests;
