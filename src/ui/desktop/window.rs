//! The desktop window's adapter: a winit window, its softbuffer surface and Slint's software
//! renderer, which repaints only the dirty region of a buffer it got back (the buffer's age).

use std::cell::{Cell, RefCell};
use std::num::NonZeroU32;
use std::rc::{Rc, Weak};

use slint::platform::software_renderer::{
    PremultipliedRgbaColor, RepaintBufferType, SoftwareRenderer, TargetPixel,
};
use slint::platform::{PointerEventButton, Renderer, WindowAdapter, WindowEvent, WindowProperties};
use slint::{LogicalPosition, PhysicalSize, PlatformError, WindowSize};
use winit::event::{ElementState, MouseButton, MouseScrollDelta, WindowEvent as WinitEvent};
use winit::event_loop::ActiveEventLoop;
use winit::window::{Fullscreen, Window as WinitWindow};

use super::keymap;

/// One pixel as softbuffer takes it: 0x00RRGGBB.
#[repr(transparent)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Xrgb(u32);

impl Xrgb {
    fn channel(self, shift: u32) -> u32 {
        (self.0 >> shift) & 0xff
    }
}

impl TargetPixel for Xrgb {
    fn blend(&mut self, c: PremultipliedRgbaColor) {
        // Premultiplied "over": the colour plus what shows through its transparency.
        let keep = 255 - u32::from(c.alpha);
        let mix =
            |shift: u32, src: u8| (u32::from(src) + self.channel(shift) * keep / 255).min(255);
        *self = Xrgb(mix(16, c.red) << 16 | mix(8, c.green) << 8 | mix(0, c.blue));
    }

    fn from_rgb(r: u8, g: u8, b: u8) -> Self {
        Xrgb(u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b))
    }
}

struct Surface {
    window: Rc<WinitWindow>,
    buffer: softbuffer::Surface<Rc<WinitWindow>, Rc<WinitWindow>>,
}

/// What Slint asked of the window before winit could create it.
#[derive(Default)]
struct Wanted {
    title: String,
    fullscreen: bool,
    /// Logical pixels.
    preferred: Option<(f32, f32)>,
}

pub struct DesktopWindow {
    slint: slint::Window,
    renderer: SoftwareRenderer,
    size: Cell<PhysicalSize>,
    dirty: Cell<bool>,
    /// The next frame is drawn whole: the window was exposed or resized.
    whole: Cell<bool>,
    /// The server has shown the window once; drawing earlier is thrown away by X11.
    exposed: Cell<bool>,
    /// Slint hid the window (it closed): the event loop ends.
    closed: Cell<bool>,
    pointer: Cell<LogicalPosition>,
    wanted: RefCell<Wanted>,
    surface: RefCell<Option<Surface>>,
}

impl DesktopWindow {
    pub fn new() -> Rc<Self> {
        Rc::new_cyclic(|me: &Weak<Self>| DesktopWindow {
            slint: slint::Window::new(me.clone()),
            renderer: SoftwareRenderer::new(),
            size: Cell::new(PhysicalSize::new(0, 0)),
            dirty: Cell::new(true),
            whole: Cell::new(true),
            exposed: Cell::new(false),
            closed: Cell::new(false),
            pointer: Cell::new(LogicalPosition::new(0.0, 0.0)),
            wanted: RefCell::default(),
            surface: RefCell::new(None),
        })
    }

    pub fn closed(&self) -> bool {
        self.closed.get()
    }

    /// Creates the winit window and its surface, once (winit creates windows only while its
    /// loop runs).
    pub fn create(&self, event_loop: &ActiveEventLoop) -> Result<(), PlatformError> {
        if self.surface.borrow().is_some() {
            return Ok(());
        }
        let wanted = self.wanted.borrow();
        let mut attributes = WinitWindow::default_attributes().with_title(wanted.title.clone());
        if let Some((w, h)) = wanted.preferred {
            let scale = self.slint.scale_factor();
            attributes =
                attributes.with_inner_size(winit::dpi::PhysicalSize::new(w * scale, h * scale));
        }
        if wanted.fullscreen {
            attributes = attributes.with_fullscreen(Some(Fullscreen::Borderless(None)));
        }
        drop(wanted);
        let window = Rc::new(
            event_loop
                .create_window(attributes)
                .map_err(|e| PlatformError::from(format!("cannot open a window: {e}")))?,
        );
        let context = softbuffer::Context::new(window.clone())
            .map_err(|e| PlatformError::from(format!("no software surface: {e}")))?;
        let buffer = softbuffer::Surface::new(&context, window.clone())
            .map_err(|e| PlatformError::from(format!("no software surface: {e}")))?;
        let inner = window.inner_size();
        *self.surface.borrow_mut() = Some(Surface { window, buffer });
        self.resized(PhysicalSize::new(inner.width, inner.height));
        Ok(())
    }

    fn resized(&self, size: PhysicalSize) {
        if size == self.size.get() {
            return;
        }
        self.size.set(size);
        self.whole.set(true);
        self.dirty.set(true);
        self.slint.dispatch_event(WindowEvent::Resized {
            size: size.to_logical(self.slint.scale_factor()),
        });
    }

    /// Draws what changed since the last frame, if anything did; true when it showed a frame.
    pub fn draw_if_needed(&self) -> Result<bool, PlatformError> {
        if !self.dirty.get() || !self.exposed.get() {
            return Ok(false);
        }
        let mut surface = self.surface.borrow_mut();
        let Some(surface) = surface.as_mut() else {
            return Ok(false);
        };
        let size = self.size.get();
        let (Some(width), Some(height)) =
            (NonZeroU32::new(size.width), NonZeroU32::new(size.height))
        else {
            return Ok(false);
        };
        self.dirty.set(false);
        let failed =
            |e: softbuffer::SoftBufferError| PlatformError::from(format!("cannot draw: {e}"));
        surface.buffer.resize(width, height).map_err(failed)?;
        let mut buffer = surface.buffer.buffer_mut().map_err(failed)?;
        // Age 1: the buffer shown last, so only the dirty region needs drawing.
        let kind = match (self.whole.replace(false), buffer.age()) {
            (false, 1) => RepaintBufferType::ReusedBuffer,
            (false, 2) => RepaintBufferType::SwappedBuffers,
            _ => RepaintBufferType::NewBuffer,
        };
        self.renderer.set_repaint_buffer_type(kind);
        let pixels: &mut [Xrgb] = bytemuck::cast_slice_mut(&mut buffer);
        let region = self.renderer.render(pixels, size.width as usize);
        let damage: Vec<softbuffer::Rect> = region
            .iter()
            .filter_map(|(at, size)| {
                Some(softbuffer::Rect {
                    x: u32::try_from(at.x).ok()?,
                    y: u32::try_from(at.y).ok()?,
                    width: NonZeroU32::new(size.width)?,
                    height: NonZeroU32::new(size.height)?,
                })
            })
            .collect();
        if damage.is_empty() {
            return Ok(false);
        }
        surface.window.pre_present_notify();
        buffer.present_with_damage(&damage).map_err(failed)?;
        Ok(true)
    }

    /// One winit event for this window, as Slint's.
    pub fn handle(&self, event: WinitEvent) {
        let scale = self.slint.scale_factor();
        let dispatch = |e: WindowEvent| self.slint.dispatch_event(e);
        match event {
            WinitEvent::Resized(size) => {
                self.exposed.set(true);
                self.resized(PhysicalSize::new(size.width, size.height));
            }
            // The windowing system asks for the picture (an expose): it may hold nothing.
            WinitEvent::RedrawRequested => {
                self.exposed.set(true);
                self.whole.set(true);
                self.dirty.set(true);
            }
            WinitEvent::Occluded(false) => {
                self.whole.set(true);
                self.dirty.set(true);
            }
            WinitEvent::CloseRequested => dispatch(WindowEvent::CloseRequested),
            WinitEvent::Focused(active) => dispatch(WindowEvent::WindowActiveChanged(active)),
            WinitEvent::KeyboardInput { event, .. } => {
                let Some(text) = keymap::text(&event.logical_key, event.text.as_deref()) else {
                    return;
                };
                dispatch(match (event.state, event.repeat) {
                    (ElementState::Released, _) => WindowEvent::KeyReleased { text },
                    (ElementState::Pressed, true) => WindowEvent::KeyPressRepeated { text },
                    (ElementState::Pressed, false) => WindowEvent::KeyPressed { text },
                });
            }
            // A developer's mouse; the TV itself has none.
            WinitEvent::CursorMoved { position, .. } => {
                let p = position.to_logical::<f32>(f64::from(scale));
                let position = LogicalPosition::new(p.x, p.y);
                self.pointer.set(position);
                dispatch(WindowEvent::PointerMoved { position });
            }
            WinitEvent::CursorLeft { .. } => dispatch(WindowEvent::PointerExited),
            WinitEvent::MouseInput { state, button, .. } => {
                let button = match button {
                    MouseButton::Left => PointerEventButton::Left,
                    MouseButton::Right => PointerEventButton::Right,
                    MouseButton::Middle => PointerEventButton::Middle,
                    _ => PointerEventButton::Other,
                };
                let position = self.pointer.get();
                dispatch(match state {
                    ElementState::Pressed => WindowEvent::PointerPressed { position, button },
                    ElementState::Released => WindowEvent::PointerReleased { position, button },
                });
            }
            WinitEvent::MouseWheel { delta, .. } => {
                let (delta_x, delta_y) = match delta {
                    MouseScrollDelta::LineDelta(x, y) => (x * 60.0, y * 60.0),
                    MouseScrollDelta::PixelDelta(p) => {
                        let p = p.to_logical::<f32>(f64::from(scale));
                        (p.x, p.y)
                    }
                };
                dispatch(WindowEvent::PointerScrolled {
                    position: self.pointer.get(),
                    delta_x,
                    delta_y,
                });
            }
            // The scale follows the window's size (`ui::scale`), not the desktop's DPI.
            _ => {}
        }
    }
}

impl WindowAdapter for DesktopWindow {
    fn window(&self) -> &slint::Window {
        &self.slint
    }

    fn size(&self) -> PhysicalSize {
        self.size.get()
    }

    fn set_size(&self, size: WindowSize) {
        let size = size.to_physical(self.slint.scale_factor());
        if let Some(s) = self.surface.borrow().as_ref() {
            let _ = s
                .window
                .request_inner_size(winit::dpi::PhysicalSize::new(size.width, size.height));
        }
    }

    fn set_visible(&self, visible: bool) -> Result<(), PlatformError> {
        if !visible {
            self.closed.set(true);
        }
        Ok(())
    }

    fn renderer(&self) -> &dyn Renderer {
        &self.renderer
    }

    fn request_redraw(&self) {
        // Drawn before the event loop next sleeps (`desktop::Loop::about_to_wait`).
        self.dirty.set(true);
    }

    fn update_window_properties(&self, properties: WindowProperties<'_>) {
        let preferred = properties.layout_constraints().preferred;
        let title = properties.title().to_string();
        let fullscreen = properties.is_fullscreen();
        let mut wanted = self.wanted.borrow_mut();
        if let Some(s) = self.surface.borrow().as_ref() {
            if wanted.title != title {
                s.window.set_title(&title);
            }
            if wanted.fullscreen != fullscreen {
                s.window
                    .set_fullscreen(fullscreen.then_some(Fullscreen::Borderless(None)));
            }
        }
        *wanted = Wanted {
            title,
            fullscreen,
            preferred: (preferred.width > 0.0 && preferred.height > 0.0)
                .then_some((preferred.width, preferred.height)),
        };
    }
}
