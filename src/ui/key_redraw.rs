//! Presenting the frame that answers a key press at once, on winit (X11).
//!
//! Slint 1.18's winit backend paces redraws on X11 with a timer of one refresh interval: a
//! redraw that a key press asks for is drawn about 16.7 ms later at 60 Hz, before any
//! rendering time, which alone misses a 16 ms key-to-frame budget. A key press is rare and
//! the viewer waits for its answer, so as a key arrives this asks winit itself for a redraw:
//! winit delivers `RedrawRequested` right after the current batch of events, Slint draws what
//! the key changed then, and the pacing timer's own redraw finds nothing left to draw.
//! Nothing else changes: the countdown and any animation keep the paced redraws.
//!
//! The linuxkms backend draws as soon as its event loop wakes, so the kiosk needs nothing here.

/// Called from the window's one winit event filter (`run.rs`) for every winit event.
#[cfg(feature = "desktop")]
pub fn on_event(window: &slint::Window, event: &slint::winit_030::winit::event::WindowEvent) {
    use slint::winit_030::{WinitWindowAccessor, winit::event::WindowEvent};
    if matches!(event, WindowEvent::KeyboardInput { .. }) {
        window.with_winit_window(|w| w.request_redraw());
    }
}
