//! `mitid-flex-tv render`: one screen with sample data to a PNG, with the software renderer
//! and no display (a custom platform around a `MinimalSoftwareWindow`).

use std::path::PathBuf;
use std::rc::Rc;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, PhysicalSize, PlatformError, Rgb8Pixel};

use super::clock::ManualClock;
use super::controller::Controller;
use super::events;
use super::generated::AppWindow;
use super::{Lang, SCREENS, UiError, sample};

#[derive(Clone, Debug)]
pub struct RenderArgs {
    /// One of [`SCREENS`].
    pub screen: String,
    /// `da` or `en`.
    pub lang: String,
    pub out: PathBuf,
    pub width: u32,
    pub height: u32,
}

struct Headless(Rc<MinimalSoftwareWindow>);

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.0.clone())
    }
}

/// The headless platform and its one window. Slint takes one platform per process, so a
/// process makes one `Renderer` and draws every screen with it.
pub struct Renderer {
    window: Rc<MinimalSoftwareWindow>,
}

impl Renderer {
    /// Installs the headless platform; fails where a platform is already installed.
    pub fn install() -> Result<Renderer, UiError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(Headless(window.clone())))
            .map_err(|e| UiError::Platform(format!("{e} (render needs its own process)")))?;
        Ok(Renderer { window })
    }

    /// Renders `args.screen` in `args.lang` to `args.out` (PNG).
    pub fn render(&self, args: RenderArgs) -> Result<(), UiError> {
        render_with(&self.window, args)
    }
}

/// Renders `args.screen` in `args.lang` to `args.out` (PNG): one screen, in a process that
/// has no platform yet (`mitid-flex-tv render`).
pub fn render(args: RenderArgs) -> Result<(), UiError> {
    Renderer::install()?.render(args)
}

fn render_with(window: &MinimalSoftwareWindow, args: RenderArgs) -> Result<(), UiError> {
    if !SCREENS.contains(&args.screen.as_str()) {
        return Err(UiError::UnknownScreen(args.screen));
    }
    let lang = match args.lang.as_str() {
        "da" => Lang::Da,
        "en" => Lang::En,
        other => return Err(UiError::UnknownLanguage(other.to_string())),
    };
    let pixels = draw(window, &args.screen, lang, args.width, args.height)?;
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    image::save_buffer_with_format(
        &args.out,
        &bytes,
        args.width,
        args.height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| UiError::Write {
        path: args.out.clone(),
        message: e.to_string(),
    })
}

/// One frame of `screen` as RGB pixels, row-major.
fn draw(
    window: &MinimalSoftwareWindow,
    screen: &str,
    lang: Lang,
    width: u32,
    height: u32,
) -> Result<Vec<Rgb8Pixel>, UiError> {
    window.set_size(PhysicalSize::new(width, height));
    // The layout is designed at 1920×1080; other sizes scale it uniformly, as the live app does.
    let scale_factor = super::scale::factor(PhysicalSize::new(width, height)).unwrap_or(1.0);
    window.dispatch_event(WindowEvent::ScaleFactorChanged { scale_factor });

    let app = AppWindow::new().map_err(|e| UiError::Platform(e.to_string()))?;
    let (_, receiver) = events::channel(&app);
    let ctl = Controller::new(
        &app,
        sample::setup_for(screen, lang),
        Rc::new(sample::SampleHost),
        Rc::new(ManualClock::new()),
        receiver,
    );
    sample::drive(&ctl, screen);
    app.show().map_err(|e| UiError::Platform(e.to_string()))?;
    slint::platform::update_timers_and_animations();

    let mut buffer = vec![Rgb8Pixel::default(); width as usize * height as usize];
    window.request_redraw();
    window.draw_if_needed(|renderer| {
        renderer.render(&mut buffer, width as usize);
    });
    app.hide().map_err(|e| UiError::Platform(e.to_string()))?;
    ctl.shutdown();
    Ok(buffer)
}
