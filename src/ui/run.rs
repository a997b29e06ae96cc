//! The TV app's window and event loop. The caller (`crate::wiring`) brings the [`Host`]; the
//! window is up before anything that can wait is started.

use std::path::Path;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use slint::ComponentHandle;

use super::UiError;
use super::clock::SystemClock;
use super::controller::Controller;
use super::events::{self, EventSender, UiEvent};
use super::generated::AppWindow;
use super::host::Host;
use super::journey::Setup;

/// The window before its event loop runs.
pub struct Window {
    app: AppWindow,
    events: EventSender,
    receiver: mpsc::Receiver<UiEvent>,
}

impl Window {
    pub fn open(fullscreen: bool) -> Result<Window, UiError> {
        if !fonts_present() {
            return Err(UiError::NoFonts);
        }
        let app = AppWindow::new().map_err(|e| UiError::Platform(e.to_string()))?;
        if fullscreen {
            app.window().set_fullscreen(true);
        }
        let (events, receiver) = events::channel(&app);
        Ok(Window {
            app,
            events,
            receiver,
        })
    }

    /// Where IO tasks send their results.
    pub fn events(&self) -> EventSender {
        self.events.clone()
    }

    /// Runs the journey until the viewer leaves (Back on Start, where allowed) or the window
    /// closes. `after_first_frame` runs on the UI thread once the event loop has drawn its
    /// first frame, for work that must not delay it. A pending request is cancelled through
    /// the host before this returns.
    pub fn run(
        self,
        setup: Setup,
        host: Rc<dyn Host>,
        after_first_frame: impl FnOnce() + 'static,
    ) -> Result<(), UiError> {
        let ctl = Controller::new(&self.app, setup, host, Rc::new(SystemClock), self.receiver);
        // Timers are served after the loop's first pass, which draws the window.
        slint::Timer::single_shot(Duration::ZERO, after_first_frame);
        let result = self.app.run().map_err(|e| UiError::Platform(e.to_string()));
        ctl.shutdown();
        result
    }
}

/// fontique asks fontconfig at start and panics when it finds no font at all, even though
/// the UI's own fonts are embedded. Look for any font file where fontconfig usually does.
pub fn fonts_present() -> bool {
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
