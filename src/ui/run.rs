//! The TV app's window and event loop. The caller (`crate::wiring`) brings the [`Host`]; the
//! window is up before anything that can wait is started.

use std::cell::RefCell;
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
    /// The desktop platform's hook after its first presented frame (`None` when another
    /// platform, such as a test's, was installed first).
    #[cfg(feature = "desktop")]
    first_frame: Option<super::desktop::FirstFrame>,
}

impl Window {
    pub fn open(fullscreen: bool) -> Result<Window, UiError> {
        if !fonts_present() {
            return Err(UiError::NoFonts);
        }
        #[cfg(feature = "desktop")]
        let first_frame = super::desktop::install();
        let app = AppWindow::new().map_err(|e| UiError::Platform(e.to_string()))?;
        super::scale::install(&app);
        if fullscreen {
            app.window().set_fullscreen(true);
        }
        let (events, receiver) = events::channel(&app);
        Ok(Window {
            app,
            events,
            receiver,
            #[cfg(feature = "desktop")]
            first_frame,
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
        self.after_first_drawing(after_first_frame);
        let ctl = Controller::new(&self.app, setup, host, Rc::new(SystemClock), self.receiver);
        let result = self.app.run().map_err(|e| UiError::Platform(e.to_string()));
        ctl.shutdown();
        result
    }
}

impl Window {
    /// Runs `f` on the UI thread once the window has been drawn for the first time.
    ///
    /// The desktop platform says when its first frame is presented (the X server shows the
    /// window a pass or two after it is created). On linuxkms each event-loop pass runs timers
    /// and then draws, so a zero timer set from a zero timer runs after the first frame. After
    /// 1 s `f` runs regardless, so a window shown late is only slower to wire, never stuck.
    fn after_first_drawing(&self, f: impl FnOnce() + 'static) {
        type Once = Rc<RefCell<Option<Box<dyn FnOnce()>>>>;
        let once: Once = Rc::new(RefCell::new(Some(Box::new(f))));
        let run = |once: &Once| {
            let once = once.clone();
            move || {
                let f = once.borrow_mut().take();
                if let Some(f) = f {
                    f();
                }
            }
        };
        slint::Timer::single_shot(Duration::from_secs(1), run(&once));
        #[cfg(feature = "desktop")]
        if let Some(hook) = &self.first_frame {
            hook.set(Box::new(run(&once)));
            return;
        }
        let second_pass = run(&once);
        slint::Timer::single_shot(Duration::ZERO, move || {
            slint::Timer::single_shot(Duration::ZERO, second_pass);
        });
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
