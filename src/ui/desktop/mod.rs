//! The desktop window's platform: winit (X11, Wayland) and Slint's software renderer, run by
//! an event loop of our own.
//!
//! Why not Slint's winit backend: on X11 it paces each redraw with a timer of one refresh
//! interval, and when that timer fires it asks winit for one more redraw before it stops. The
//! waiting screen's 1 Hz countdown then woke the UI thread five times a second and rendered
//! twice, the second time to find nothing; a key's frame waited 16.7 ms for the timer. Here
//! each pass of the loop runs Slint's timers, hands winit's events to Slint, and then draws
//! whatever is dirty before it sleeps until the next timer is due. A countdown tick is one
//! wake-up and one partial render; a key's frame is drawn in the pass that read the key.
//!
//! Installed by `ui::run::Window::open`; the kiosk's linuxkms backend draws the same way.

mod keymap;
mod window;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::{EventLoopProxy, Platform, WindowAdapter};
use slint::{EventLoopError, PlatformError};
use winit::application::ApplicationHandler;
use winit::event::{StartCause, WindowEvent as WinitEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::WindowId;

use window::DesktopWindow;

/// One frame at 60 Hz: the pace of an animation, when one runs.
const FRAME: Duration = Duration::from_micros(16_667);

/// Installs the desktop platform, unless one is already installed (tests install Slint's
/// testing backend first); then `None`.
pub fn install() -> Option<FirstFrame> {
    let first_frame = FirstFrame::default();
    let desktop = Desktop {
        first_frame: first_frame.clone(),
        ..Desktop::default()
    };
    match slint::platform::set_platform(Box::new(desktop)) {
        Ok(()) => Some(first_frame),
        Err(_) => {
            tracing::debug!("a Slint platform is already installed; keeping it");
            None
        }
    }
}

/// What runs once the window's first frame has been presented, at the start of the next pass.
#[derive(Clone, Default)]
pub struct FirstFrame(Rc<RefCell<Option<Deferred>>>);

type Deferred = Box<dyn FnOnce()>;

impl FirstFrame {
    pub fn set(&self, f: Box<dyn FnOnce()>) {
        *self.0.borrow_mut() = Some(f);
    }

    fn presented(&self) {
        let f = self.0.borrow_mut().take();
        if let Some(f) = f {
            slint::Timer::single_shot(Duration::ZERO, f);
        }
    }
}

enum UserEvent {
    Invoke(Box<dyn FnOnce() + Send>),
    Quit,
}

#[derive(Default)]
struct Desktop {
    /// Built on first use, on the UI thread: winit allows one per process.
    event_loop: RefCell<Option<EventLoop<UserEvent>>>,
    window: RefCell<Option<Rc<DesktopWindow>>>,
    first_frame: FirstFrame,
}

impl Desktop {
    fn with_loop<T>(&self, f: impl FnOnce(&EventLoop<UserEvent>) -> T) -> Result<T, PlatformError> {
        let mut slot = self.event_loop.borrow_mut();
        if slot.is_none() {
            let built = EventLoop::<UserEvent>::with_user_event()
                .build()
                .map_err(|e| PlatformError::from(format!("no window system: {e}")))?;
            *slot = Some(built);
        }
        match slot.as_ref() {
            Some(event_loop) => Ok(f(event_loop)),
            None => Err(PlatformError::NoEventLoopProvider),
        }
    }
}

impl Platform for Desktop {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        self.with_loop(|_| ())?;
        let window = DesktopWindow::new();
        // `SLINT_SCALE_FACTOR` fixes the scale, as with Slint's own backends (`ui::scale`
        // then leaves it alone).
        if let Some(f) = super::scale::env_override() {
            window
                .window()
                .dispatch_event(slint::platform::WindowEvent::ScaleFactorChanged {
                    scale_factor: f,
                });
        }
        *self.window.borrow_mut() = Some(window.clone());
        Ok(window)
    }

    fn run_event_loop(&self) -> Result<(), PlatformError> {
        let event_loop = self
            .event_loop
            .borrow_mut()
            .take()
            .ok_or(PlatformError::NoEventLoopProvider)?;
        let mut state = Loop {
            window: self.window.borrow().clone(),
            first_frame: self.first_frame.clone(),
            error: None,
        };
        event_loop
            .run_app(&mut state)
            .map_err(|e| PlatformError::from(format!("the window's event loop failed: {e}")))?;
        state.error.map_or(Ok(()), Err)
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        self.with_loop(|l| Box::new(Proxy(l.create_proxy())) as Box<dyn EventLoopProxy>)
            .ok()
    }
}

struct Proxy(winit::event_loop::EventLoopProxy<UserEvent>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), EventLoopError> {
        self.0
            .send_event(UserEvent::Quit)
            .map_err(|_| EventLoopError::EventLoopTerminated)
    }

    fn invoke_from_event_loop(
        &self,
        event: Box<dyn FnOnce() + Send>,
    ) -> Result<(), EventLoopError> {
        self.0
            .send_event(UserEvent::Invoke(event))
            .map_err(|_| EventLoopError::EventLoopTerminated)
    }
}

struct Loop {
    window: Option<Rc<DesktopWindow>>,
    first_frame: FirstFrame,
    error: Option<PlatformError>,
}

impl Loop {
    fn fail(&mut self, event_loop: &ActiveEventLoop, e: PlatformError) {
        tracing::error!(error = %e, "the window failed");
        self.error = Some(e);
        event_loop.exit();
    }
}

impl ApplicationHandler<UserEvent> for Loop {
    fn new_events(&mut self, _: &ActiveEventLoop, _: StartCause) {
        slint::platform::update_timers_and_animations();
    }

    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if let Some(window) = &self.window
            && let Err(e) = window.create(event_loop)
        {
            self.fail(event_loop, e);
        }
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: UserEvent) {
        match event {
            UserEvent::Invoke(f) => f(),
            UserEvent::Quit => event_loop.exit(),
        }
    }

    fn window_event(&mut self, _: &ActiveEventLoop, _: WindowId, event: WinitEvent) {
        if let Some(window) = &self.window {
            window.handle(event);
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let Some(window) = self.window.clone() else {
            return;
        };
        if window.closed() {
            event_loop.exit();
            return;
        }
        match window.draw_if_needed() {
            Ok(true) => self.first_frame.presented(),
            Ok(false) => {}
            Err(e) => {
                self.fail(event_loop, e);
                return;
            }
        }
        let now = Instant::now();
        let next_timer = slint::platform::duration_until_next_timer_update().map(|d| now + d);
        let next_frame = window.window().has_active_animations().then(|| {
            window.request_redraw();
            now + FRAME
        });
        event_loop.set_control_flow(match next_timer.into_iter().chain(next_frame).min() {
            Some(at) => ControlFlow::WaitUntil(at),
            None => ControlFlow::Wait,
        });
    }
}
