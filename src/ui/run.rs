//! `mitid-flex-tv` without a subcommand: the TV app's window and event loop.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use slint::ComponentHandle;

use crate::config::{Settings, UiConfig};
use crate::viewers::ViewerStore;

use super::UiError;
use super::clock::SystemClock;
use super::controller::{Controller, Lang, Setup};
use super::generated::AppWindow;
use super::host::TokioHost;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub fullscreen: bool,
    /// Embedded simulator only: approve every request after this many seconds.
    pub sim_approve_after: Option<u64>,
}

/// Opens the app and returns when the viewer leaves it (Back on Start) or the window closes.
/// A pending request is cancelled at the OP before this returns.
pub fn run(settings: Settings, opts: RunOptions) -> Result<(), UiError> {
    if !fonts_present() {
        return Err(UiError::NoFonts);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mitid-io")
        .enable_all()
        .build()
        .map_err(UiError::Runtime)?;

    // SIGTERM (systemd stopping the kiosk) and SIGINT leave like the viewer would: the
    // pending request is cancelled at the OP, then `main` exits 130.
    let interrupted = Arc::new(AtomicBool::new(false));
    rt.spawn(quit_on_signal(Arc::clone(&interrupted)));

    let app = AppWindow::new().map_err(|e| UiError::Platform(e.to_string()))?;
    if opts.fullscreen {
        app.window().set_fullscreen(true);
    }
    let (store, problem) = open_store(&settings.ui);
    let setup = Setup {
        kind: settings.kind,
        back_on_start: settings.ui.back_on_start,
        idle_signout: std::time::Duration::from_secs(settings.ui.idle_signout_secs.max(30)),
        qr_enabled: settings.ui.qr && settings.dialect() == crate::ciba::Dialect::Signaturgruppen,
        remember: store.is_some() && settings.ui.remember_max > 0,
        flex_capable: settings.dialect() == crate::ciba::Dialect::Signaturgruppen,
        service_name: settings.service_name.clone(),
        language: Lang::pick(
            settings.language.as_deref(),
            std::env::var("LANG").ok().as_deref(),
        ),
        simulator_phone_url: None,
    };
    let viewers = store
        .as_ref()
        .map(|s| s.list().to_vec())
        .unwrap_or_default();
    let host = TokioHost::new(rt.handle().clone(), settings, opts.sim_approve_after, store);
    let ctl = Controller::new(&app, setup, host.clone(), Rc::new(SystemClock));
    ctl.install();
    ctl.set_viewers(viewers);
    ctl.set_store_problem(problem);

    let result = app.run().map_err(|e| UiError::Platform(e.to_string()));
    ctl.shutdown();
    host.shutdown();
    drop(ctl);
    // Requests left behind (a hanging start) are not waited for: leaving is immediate.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
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

/// The store is a few hundred bytes, read once before the window shows.
fn open_store(ui: &UiConfig) -> (Option<ViewerStore>, bool) {
    if ui.remember_max == 0 {
        return (None, false);
    }
    match crate::viewers::default_path() {
        Some(path) => {
            let (store, problem) = ViewerStore::open(path, ui.remember_max);
            (Some(store), problem.is_some())
        }
        None => {
            tracing::warn!("no data directory: viewers cannot be remembered");
            (None, false)
        }
    }
}

/// fontique asks fontconfig at start and panics when it finds no font at all, even though
/// the UI's own fonts are embedded. Look for any font file where fontconfig usually does.
fn fonts_present() -> bool {
    let mut dirs = vec![
        std::path::PathBuf::from("/usr/share/fonts"),
        std::path::PathBuf::from("/usr/local/share/fonts"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".local/share/fonts"));
        dirs.push(Path::new(&home).join(".fonts"));
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME") {
        dirs.push(Path::new(&data).join("fonts"));
    }
    dirs.iter().any(|d| has_font(d, 4))
}

fn has_font(dir: &Path, depth: u32) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if depth > 0 && has_font(&p, depth - 1) {
                return true;
            }
        } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
            let name = name.to_ascii_lowercase();
            if [".ttf", ".otf", ".ttc", ".pfb", ".pcf.gz", ".otb"]
                .iter()
                .any(|x| name.ends_with(x))
            {
                return true;
            }
        }
    }
    false
}
