//! Scaling the UI to the output: the screens are laid out for 1920×1080 logical pixels, and
//! the window's scale factor is min(width / 1920, height / 1080) of its physical size, so a
//! 1280×720 output shows the same layout at two thirds and a 3840×2160 one at double size
//! (sharp, not upscaled: the renderer draws at the physical resolution).
//!
//! Slint takes the scale factor from the windowing system (winit) or from
//! `SLINT_SCALE_FACTOR` (winit and linuxkms), never from the output's size. [`fit`] therefore
//! sets it at run time the way a backend does: `WindowEvent::ScaleFactorChanged`, then
//! `WindowEvent::Resized` with the logical size at the new factor, so the window item and the
//! renderer agree. `AppWindow` calls back on every change of its size (winit resizes, the
//! linuxkms output's mode at start), and [`install`] refits then. An operator's
//! `SLINT_SCALE_FACTOR` wins: it is left alone.
//!
//! For tests from outside, [`install`] also logs where the focus ring is, at debug level:
//! `focus bounds x=… y=… width=… height=… window_width=… window_height=… scale=…` in logical
//! pixels, with `in_safe_area` saying whether it lies inside the 5 % safe area.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use slint::platform::WindowEvent;
use slint::{ComponentHandle, PhysicalSize};

use super::generated::{AppWindow, Diag};

/// The logical size every screen is designed for.
pub const DESIGN_WIDTH: f32 = 1920.0;
pub const DESIGN_HEIGHT: f32 = 1080.0;
/// An operator's fixed scale factor, which [`fit`] respects.
pub const OVERRIDE_ENV: &str = "SLINT_SCALE_FACTOR";
/// The share of each edge a TV may overscan (EBU R 95 "action safe" area).
pub const SAFE_MARGIN: f32 = 0.05;
/// Below this the text would be unreadable and above it something is wrong with the size.
const MIN_FACTOR: f32 = 0.25;
const MAX_FACTOR: f32 = 8.0;

/// The scale factor for a physical size, `None` for an empty one.
pub fn factor(size: PhysicalSize) -> Option<f32> {
    if size.width == 0 || size.height == 0 {
        return None;
    }
    // u32 → f32 is exact up to 2^24, far beyond any screen.
    let f = (size.width as f32 / DESIGN_WIDTH).min(size.height as f32 / DESIGN_HEIGHT);
    Some(f.clamp(MIN_FACTOR, MAX_FACTOR))
}

/// The operator's fixed factor from [`OVERRIDE_ENV`], within the same bounds as [`factor`];
/// `None` when unset or not a positive number.
pub fn env_override() -> Option<f32> {
    std::env::var(OVERRIDE_ENV)
        .ok()?
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|f| f.is_finite() && *f > 0.0)
        .map(|f| f.clamp(MIN_FACTOR, MAX_FACTOR))
}

/// Sets the window's scale factor for its current physical size. Returns the new factor when
/// it changed, `None` when nothing was to do (same factor, empty size, operator override).
pub fn fit(window: &slint::Window) -> Option<f32> {
    if std::env::var_os(OVERRIDE_ENV).is_some() {
        return None;
    }
    let size = window.size();
    let f = factor(size)?;
    if (f - window.scale_factor()).abs() < 1e-4 {
        return None;
    }
    let resized = window
        .dispatch_event_with_result(WindowEvent::ScaleFactorChanged { scale_factor: f })
        .and_then(|_| {
            window.dispatch_event_with_result(WindowEvent::Resized {
                size: size.to_logical(f),
            })
        });
    match resized {
        Ok(_) => {
            tracing::info!(
                width = size.width,
                height = size.height,
                scale = f,
                "scaled to the output"
            );
            Some(f)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot rescale the window");
            None
        }
    }
}

/// A rectangle in logical pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl Bounds {
    /// Whether it lies within the window less [`SAFE_MARGIN`] on each edge.
    pub fn in_safe_area(&self, window_width: f32, window_height: f32) -> bool {
        let (mx, my) = (window_width * SAFE_MARGIN, window_height * SAFE_MARGIN);
        self.x >= mx
            && self.y >= my
            && self.x + self.width <= window_width - mx
            && self.y + self.height <= window_height - my
    }
}

/// Refits on every size change of `app`'s window, now once, and logs the focus ring's bounds
/// whenever they or the scale change.
pub fn install(app: &AppWindow) {
    let last_focus: Rc<Cell<Option<Bounds>>> = Rc::default();
    let weak = app.as_weak();
    let focus = last_focus.clone();
    app.on_size_changed(move || {
        let (weak, focus) = (weak.clone(), focus.clone());
        // Not inside this change handler: Slint runs it while it draws a frame, and a scale
        // changed mid-frame leaves parts of that frame drawn at the old scale.
        slint::Timer::single_shot(Duration::ZERO, move || {
            if let Some(app) = weak.upgrade()
                && fit(app.window()).is_some()
                && let Some(b) = focus.get()
            {
                log_focus(app.window(), b);
            }
        });
    });
    let weak = app.as_weak();
    app.global::<Diag>()
        .on_focus_bounds(move |x, y, width, height| {
            let b = Bounds {
                x,
                y,
                width,
                height,
            };
            last_focus.set(Some(b));
            if let Some(app) = weak.upgrade() {
                log_focus(app.window(), b);
            }
        });
    fit(app.window());
}

fn log_focus(window: &slint::Window, b: Bounds) {
    let scale = window.scale_factor();
    let logical = window.size().to_logical(scale);
    tracing::debug!(
        x = b.x,
        y = b.y,
        width = b.width,
        height = b.height,
        window_width = logical.width,
        window_height = logical.height,
        scale,
        in_safe_area = b.in_safe_area(logical.width, logical.height),
        "focus bounds"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_fits_the_design_into_the_output() {
        let f = |w, h| factor(PhysicalSize::new(w, h));
        assert_eq!(f(1920, 1080), Some(1.0));
        assert_eq!(f(3840, 2160), Some(2.0));
        assert_eq!(f(1280, 720), Some(1280.0 / 1920.0));
        // 4:3 and 21:9: the narrower dimension decides, so nothing is cut off.
        assert_eq!(f(1024, 768), Some(1024.0 / 1920.0));
        assert_eq!(f(2560, 1080), Some(1.0));
        assert_eq!(f(0, 1080), None);
        assert_eq!(f(1920, 0), None);
        assert_eq!(f(10, 10), Some(MIN_FACTOR));
        assert_eq!(f(u32::MAX, u32::MAX), Some(MAX_FACTOR));
    }

    #[test]
    fn safe_area_is_five_percent_of_each_edge() {
        let b = |x, y, width, height| Bounds {
            x,
            y,
            width,
            height,
        };
        assert!(b(96.0, 54.0, 1728.0, 972.0).in_safe_area(1920.0, 1080.0));
        assert!(!b(95.0, 54.0, 10.0, 10.0).in_safe_area(1920.0, 1080.0));
        assert!(!b(96.0, 53.0, 10.0, 10.0).in_safe_area(1920.0, 1080.0));
        assert!(!b(1800.0, 500.0, 25.0, 10.0).in_safe_area(1920.0, 1080.0));
        assert!(!b(500.0, 1000.0, 10.0, 27.0).in_safe_area(1920.0, 1080.0));
    }
}
