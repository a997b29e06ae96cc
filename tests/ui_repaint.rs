//! Partial repaint: the software renderer redraws only what changed. Both live backends hand it
//! their buffer's age (winit through softbuffer, linuxkms through its DRM dumb buffers), so a
//! reused buffer gets only the dirty region; this test renders the real waiting screen headless
//! with a reused buffer and measures that region.
//!
//! - A countdown tick (mm:ss and the bar, as the controller sets them once a second) repaints
//!   the digits that changed and the bar's time gone: 0.09 % of the frame 2 s in.
//! - Idle, nothing is drawn at all and nothing animates, on every screen.
//! - After the window is resized and the UI rescales to it (`ui::scale`), the partly repainted
//!   buffer is pixel for pixel what a full repaint draws: no part is left at the old scale.
//!
//! One test function: a Slint platform is installed once per process and lives on one thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;
use std::time::Duration;

use mitid_flex_tv::ui::generated::{App, AppWindow, Screen, WaitingAdapter};
use mitid_flex_tv::ui::present::Countdown;
use mitid_flex_tv::ui::scale;
use mitid_flex_tv::ui::show_countdown;
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
    let full = Duration::from_secs(300);
    show_countdown(app, &Countdown::at(full, full));

    for (width, height, scale) in [(1920u32, 1080u32, 1.0f32), (3840, 2160, 2.0)] {
        window.set_size(PhysicalSize::new(width, height));
        let frame = u64::from(width) * u64::from(height);
        let mut buffer = vec![Rgb8Pixel::default(); frame as usize];
        app.show().unwrap();
        while draw(window, &mut buffer, width).is_some() {}
        // `scale::install` above follows the size.
        assert_eq!(app.window().scale_factor(), scale);
        // The buffer is new to the renderer: draw it whole once (a full frame, and then the
        // whole frame the renderer draws after its record of the buffer was reset).
        buffer = full_frame(window, width, height);
        window.request_redraw();
        draw(window, &mut buffer, width);

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

        // The waiting screen is up: countdown ticks. Within a minute a tick repaints the
        // seconds digits that changed and the bar's time gone (0.09 % at 1080p after 2 s);
        // when the minute changes too, the renderer's few dirty rectangles merge into strips
        // of the row (up to 3 %).
        for (second, most) in [
            (1, 0.035),
            (2, 0.005),
            (60, 0.005),
            (61, 0.035),
            (62, 0.005),
        ] {
            // As the controller sets them.
            let shown = Countdown::at(Duration::from_secs(300 - second), full);
            let remaining = shown.text.clone();
            show_countdown(app, &shown);
            let rects = draw(window, &mut buffer, width).expect("a tick draws");
            let share = area(&rects) as f64 / frame as f64;
            let top = rects.iter().map(|r| r.1).min().unwrap();
            let bottom = rects.iter().map(|r| r.1 + r.3 as i32).max().unwrap();
            println!(
                "{width}x{height} tick {remaining}: {:.2} % of the frame, rows {top}..{bottom}, {rects:?}",
                share * 100.0
            );
            // Before each digit had its own cell, every tick repainted mm:ss and the whole
            // fill: 1.1 %, and 2 % more while mm:ss sat in a layout cell as wide as the row.
            assert!(
                share < most,
                "a tick repaints {:.1} % of the frame",
                share * 100.0
            );
            // mm:ss (40 px text) above a 16 px bar: one strip about 80 logical pixels tall.
            assert!(
                (bottom - top) as f32 <= 100.0 * scale,
                "tick repaints rows {top}..{bottom}"
            );
            // What was repainted is all that changed: no digit is left stale.
            let fresh = full_frame(window, width, height);
            let differing = buffer.iter().zip(&fresh).filter(|(a, b)| a != b).count();
            assert_eq!(differing, 0, "tick {remaining}: {differing} pixels stale");
            // The full frame reset the renderer's record of the buffer: draw once whole, so the
            // next tick is measured against this one.
            window.request_redraw();
            draw(window, &mut buffer, width);
            assert_eq!(draw(window, &mut buffer, width), None);
        }
        app.hide().unwrap();
    }
}
