//! Partial repaint: the software renderer redraws only what changed. Both live backends hand it
//! their buffer's age (winit through softbuffer, linuxkms through its DRM dumb buffers), so a
//! reused buffer gets only the dirty region; this test renders the real waiting screen headless
//! with a reused buffer and measures that region.
//!
//! - A countdown tick (mm:ss and the bar, as the controller sets them once a second) repaints
//!   mm:ss's own box and the bar: about 1 % of the frame, not the frame.
//! - Idle, nothing is drawn at all and nothing animates, on every screen.
//! - After the window is resized and the UI rescales to it (`ui::scale`), the partly repainted
//!   buffer is pixel for pixel what a full repaint draws: no part is left at the old scale.
//!
//! One test function: a Slint platform is installed once per process and lives on one thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use mitid_flex_tv::ui::generated::{App, AppWindow, Screen, WaitingAdapter};
use mitid_flex_tv::ui::scale;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, PlatformError, Rgb8Pixel};

struct Headless(Rc<MinimalSoftwareWindow>);

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.0.clone())
    }
}

/// Draws if anything is dirty; returns the repainted rectangles (x, y, w, h), or `None` when
/// nothing needed drawing.
fn draw(
    window: &MinimalSoftwareWindow,
    buffer: &mut [Rgb8Pixel],
    width: u32,
) -> Option<Vec<(i32, i32, u32, u32)>> {
    slint::platform::update_timers_and_animations();
    let mut rects = None;
    window.draw_if_needed(|renderer| {
        let region = renderer.render(buffer, width as usize);
        rects = Some(
            region
                .iter()
                .map(|(p, s)| (p.x, p.y, s.width, s.height))
                .collect(),
        );
    });
    rects
}

fn area(rects: &[(i32, i32, u32, u32)]) -> u64 {
    rects.iter().map(|r| u64::from(r.2) * u64::from(r.3)).sum()
}

/// Everything, drawn from scratch.
fn full_frame(window: &MinimalSoftwareWindow, width: u32, height: u32) -> Vec<Rgb8Pixel> {
    let mut fresh = vec![Rgb8Pixel::default(); width as usize * height as usize];
    window.request_redraw();
    window.draw_if_needed(|renderer| {
        renderer.set_repaint_buffer_type(RepaintBufferType::NewBuffer);
        renderer.render(&mut fresh, width as usize);
        renderer.set_repaint_buffer_type(RepaintBufferType::ReusedBuffer);
    });
    fresh
}

#[test]
fn partial_repaint_is_exact_and_small() {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::ReusedBuffer);
    slint::platform::set_platform(Box::new(Headless(window.clone()))).unwrap();
    let app = AppWindow::new().unwrap();
    rescale_leaves_nothing_at_the_old_scale(&window, &app);
    countdown_tick_repaints_only_its_strip_and_idle_draws_nothing(&window, &app);
}

fn rescale_leaves_nothing_at_the_old_scale(window: &MinimalSoftwareWindow, app: &AppWindow) {
    scale::install(app);
    window.set_size(PhysicalSize::new(1920, 1080));
    app.show().unwrap();
    let mut buffer = vec![Rgb8Pixel::default(); 1920 * 1080];
    while draw(window, &mut buffer, 1920).is_some() {}
    assert_eq!(app.window().scale_factor(), 1.0);
    // As a window manager would: the window becomes 1280×720, the UI follows.
    let (width, height) = (1280u32, 720u32);
    window.set_size(PhysicalSize::new(width, height));
    let mut buffer = full_frame(window, width, height);
    let mut frames = 0;
    while draw(window, &mut buffer, width).is_some() {
        frames += 1;
        assert!(frames < 10, "the rescale never settles");
    }
    assert!((app.window().scale_factor() - 2.0 / 3.0).abs() < 1e-6);
    let fresh = full_frame(window, width, height);
    let differing = buffer.iter().zip(&fresh).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing, 0,
        "{differing} pixels differ from a full repaint"
    );
    app.hide().unwrap();
}

fn countdown_tick_repaints_only_its_strip_and_idle_draws_nothing(
    window: &MinimalSoftwareWindow,
    app: &AppWindow,
) {
    let waiting = app.global::<WaitingAdapter>();
    waiting.set_reference_text("Log på Stue-TV · kode 4821".into());
    waiting.set_remaining("05:00".into());
    waiting.set_progress(1.0);

    for (width, height, scale) in [(1920u32, 1080u32, 1.0f32), (3840, 2160, 2.0)] {
        window.set_size(PhysicalSize::new(width, height));
        let frame = u64::from(width) * u64::from(height);
        let mut buffer = vec![Rgb8Pixel::default(); frame as usize];
        app.show().unwrap();
        while draw(window, &mut buffer, width).is_some() {}
        // `scale::install` above follows the size.
        assert_eq!(app.window().scale_factor(), scale);

        for screen in [
            Screen::Start,
            Screen::Identify,
            Screen::Qr,
            Screen::SignedIn,
            Screen::Outcome,
            Screen::Waiting,
        ] {
            app.global::<App>().set_screen(screen);
            app.show().unwrap();
            window.request_redraw();
            assert!(draw(window, &mut buffer, width).is_some());
            // Idle: no animation runs and a second pass finds nothing to draw.
            assert!(
                !app.window().has_active_animations(),
                "{screen:?} animates while idle"
            );
            assert_eq!(
                draw(window, &mut buffer, width),
                None,
                "{screen:?} redraws while idle"
            );
        }

        // The waiting screen is up: one countdown tick.
        for (second, remaining) in [(1, "04:59"), (2, "04:58"), (60, "03:59")] {
            waiting.set_remaining(remaining.into());
            waiting.set_progress(1.0 - second as f32 / 300.0);
            let rects = draw(window, &mut buffer, width).expect("a tick draws");
            let share = area(&rects) as f64 / frame as f64;
            let top = rects.iter().map(|r| r.1).min().unwrap();
            let bottom = rects.iter().map(|r| r.1 + r.3 as i32).max().unwrap();
            println!(
                "{width}x{height} tick {remaining}: {:.2} % of the frame, rows {top}..{bottom}, {rects:?}",
                share * 100.0
            );
            // mm:ss in its fixed 140 × 57 box plus the bar: 1.1 %. When mm:ss sat in a layout
            // cell as wide as the row, its strip alone was 2 % of the frame.
            assert!(
                share < 0.015,
                "a tick repaints {:.1} % of the frame",
                share * 100.0
            );
            // mm:ss (40 px text) above a 16 px bar: one strip about 80 logical pixels tall.
            assert!(
                (bottom - top) as f32 <= 100.0 * scale,
                "tick repaints rows {top}..{bottom}"
            );
            assert_eq!(draw(window, &mut buffer, width), None);
        }
        app.hide().unwrap();
    }
}
