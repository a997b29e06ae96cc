//! QR codes for the CIBA + PAR sign-in: the broker's `authentication_uri` is shown on the TV
//! (as a `slint::Image`) and by `signin --qr` (as Unicode half-blocks in a terminal).
//!
//! API:
//! - [`matrix`]`(url) -> Result<QrMatrix, QrError>` — encode with error correction level M.
//! - [`px_per_module_for`]`(&m, max_side_px) -> Result<u32, QrError>` — sizing rule, below.
//! - [`to_pixel_buffer`]`(&m, px_per_module, quiet_zone_modules) -> SharedPixelBuffer<Rgb8Pixel>`
//! - [`to_image`]`(url, px_per_module) -> Result<slint::Image, QrError>`
//! - [`to_terminal`]`(&m) -> String` (dark terminals), [`to_terminal_on`] to pick the background.
//! - `to_png(url, px_per_module, path) -> Result<(), QrError>` (cargo feature `render`)
//!
//! Sizing rule: every module is an integer number of pixels (no resampling blur, and the UI
//! shows the image with `image-rendering: pixelated` so Slint does not smooth it either), the
//! quiet zone is at least [`QUIET_ZONE_MODULES`] wide on every side, and at 1080p a module is at
//! least [`MIN_PX_PER_MODULE`] px so that a phone across the room still resolves it. A typical
//! broker `authentication_uri` (~170 bytes) is version 9 (53 modules): 61 modules with the quiet
//! zone, 488 px at 8 px/module, which fits the QR screen's box with room to spare.

use qrcode::{Color, EcLevel, QrCode};
use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

/// Smallest module size the TV accepts at 1080p: a phone camera at sofa distance needs 8 px modules.
pub const MIN_PX_PER_MODULE: u32 = 8;
/// Quiet zone required by ISO/IEC 18004 around a QR code, in modules.
pub const QUIET_ZONE_MODULES: u32 = 4;
/// Upper bound on the rendered side: a caller's mistake (say, a scale of 10 000) must not turn
/// into a multi-gigabyte allocation. 8192 px is well above any TV's height.
pub const MAX_SIDE_PX: u32 = 8192;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("cannot encode the URL as a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    /// The box is too small for [`MIN_PX_PER_MODULE`]. `fits` is the largest scale that does
    /// fit (possibly 0), for a caller that prefers a smaller code over none.
    #[error(
        "QR code needs {needed_px} px at {MIN_PX_PER_MODULE} px/module but the box is {max_side_px} px"
    )]
    TooSmall {
        fits: u32,
        needed_px: u32,
        max_side_px: u32,
    },
    #[cfg(feature = "render")]
    #[error("cannot write the PNG: {0}")]
    Png(#[from] image::ImageError),
}

/// The code's modules, row by row, without a quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    /// Modules per side.
    pub width: usize,
    /// `width * width` entries, row-major; `true` is a dark module.
    pub dark: Vec<bool>,
}

impl QrMatrix {
    /// Whether the module at (`x`, `y`) is dark; anything outside the code is light (quiet zone).
    pub fn is_dark(&self, x: i64, y: i64) -> bool {
        let w = self.width as i64;
        if x < 0 || y < 0 || x >= w || y >= w {
            return false;
        }
        self.dark[(y * w + x) as usize]
    }
}

/// Encodes `url` (as bytes, so any URL works) with error correction level M: 15 % of the code
/// may be unreadable (glare on a TV screen, a finger on the phone) and it stays readable,
/// without growing the code as much as Q or H would.
pub fn matrix(url: &str) -> Result<QrMatrix, QrError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let dark = code
        .into_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok(QrMatrix { width, dark })
}

/// Side in modules including the quiet zone on both sides.
fn side_modules(m: &QrMatrix, quiet: u32) -> u32 {
    u32::try_from(m.width)
        .unwrap_or(u32::MAX)
        .saturating_add(quiet.saturating_mul(2))
}

/// The largest integer scale at which the code plus a [`QUIET_ZONE_MODULES`] quiet zone fits a
/// square box of `max_side_px`. Errors with [`QrError::TooSmall`] when that is below
/// [`MIN_PX_PER_MODULE`]; the error carries the scale that does fit.
pub fn px_per_module_for(m: &QrMatrix, max_side_px: u32) -> Result<u32, QrError> {
    let side = side_modules(m, QUIET_ZONE_MODULES).max(1);
    let fits = max_side_px.min(MAX_SIDE_PX) / side;
    if fits < MIN_PX_PER_MODULE {
        return Err(QrError::TooSmall {
            fits,
            needed_px: side.saturating_mul(MIN_PX_PER_MODULE),
            max_side_px,
        });
    }
    Ok(fits)
}

/// Clamps the caller's scale and quiet zone to what we render: quiet zone at least
/// [`QUIET_ZONE_MODULES`] (a code without one does not scan reliably), scale at least 1 and
/// small enough that the side stays within [`MAX_SIDE_PX`].
fn geometry(m: &QrMatrix, px_per_module: u32, quiet_zone_modules: u32) -> (u32, u32, u32) {
    let quiet = quiet_zone_modules.clamp(QUIET_ZONE_MODULES, 64);
    let side_modules = side_modules(m, quiet).max(1);
    let scale = px_per_module.clamp(1, (MAX_SIDE_PX / side_modules).max(1));
    (quiet, scale, side_modules * scale)
}

/// Calls `put(index, dark)` for every pixel of the rendered square, row-major.
fn for_each_pixel(
    m: &QrMatrix,
    px_per_module: u32,
    quiet_zone_modules: u32,
    mut put: impl FnMut(usize, bool),
) {
    let (quiet, scale, side) = geometry(m, px_per_module, quiet_zone_modules);
    let (quiet, scale) = (i64::from(quiet), i64::from(scale));
    for py in 0..i64::from(side) {
        for px in 0..i64::from(side) {
            let dark = m.is_dark(px / scale - quiet, py / scale - quiet);
            put((py * i64::from(side) + px) as usize, dark);
        }
    }
}

/// Black modules on white, `px_per_module` pixels per module, with a white quiet zone of
/// `quiet_zone_modules` (raised to at least [`QUIET_ZONE_MODULES`]).
pub fn to_pixel_buffer(
    m: &QrMatrix,
    px_per_module: u32,
    quiet_zone_modules: u32,
) -> SharedPixelBuffer<Rgb8Pixel> {
    let (_, _, side) = geometry(m, px_per_module, quiet_zone_modules);
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side, side);
    let pixels = buffer.make_mut_slice();
    for_each_pixel(m, px_per_module, quiet_zone_modules, |i, dark| {
        let v = if dark { 0 } else { 255 };
        pixels[i] = Rgb8Pixel { r: v, g: v, b: v };
    });
    buffer
}

/// `url` as a `slint::Image` with the standard quiet zone. Show it with
/// `image-rendering: pixelated` and at its natural size (or an integer multiple).
pub fn to_image(url: &str, px_per_module: u32) -> Result<Image, QrError> {
    let m = matrix(url)?;
    Ok(Image::from_rgb8(to_pixel_buffer(
        &m,
        px_per_module,
        QUIET_ZONE_MODULES,
    )))
}

/// `url` as a greyscale PNG at `path` (for docs, review renders and tests).
#[cfg(feature = "render")]
pub fn to_png(url: &str, px_per_module: u32, path: &std::path::Path) -> Result<(), QrError> {
    let m = matrix(url)?;
    let (_, _, side) = geometry(&m, px_per_module, QUIET_ZONE_MODULES);
    let mut luma = vec![255u8; side as usize * side as usize];
    for_each_pixel(&m, px_per_module, QUIET_ZONE_MODULES, |i, dark| {
        if dark {
            luma[i] = 0;
        }
    });
    image::save_buffer_with_format(
        path,
        &luma,
        side,
        side,
        image::ExtendedColorType::L8,
        image::ImageFormat::Png,
    )?;
    Ok(())
}

/// Which colour the terminal draws *behind* the text; the glyphs are drawn in the other one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TerminalBackground {
    /// Light text on a dark background (most terminal themes, the Linux console, SSH from
    /// a laptop). Light modules are printed as block glyphs, dark modules as spaces.
    #[default]
    Dark,
    /// Dark text on a light background. Dark modules are printed as block glyphs.
    Light,
}

/// The code for a terminal with a dark background (the usual case), see [`to_terminal_on`].
pub fn to_terminal(m: &QrMatrix) -> String {
    to_terminal_on(m, TerminalBackground::Dark)
}

/// Unicode half-blocks, two module rows per text line (a terminal cell is about twice as tall
/// as wide, so modules come out roughly square), with a [`QUIET_ZONE_MODULES`] quiet zone.
///
/// The result always reads as dark modules on a light field, as scanners expect: on a dark
/// background the *light* modules and the quiet zone are the drawn glyphs (the quiet zone is
/// what separates the code from the dark terminal around it); on a light background the dark
/// modules are. Printing the wrong variant yields an inverted code that many phone cameras
/// still read but some scanners do not. Lines end in `\n`, no ANSI colours are used (they
/// would be lost in logs and when piped), and there is no trailing newline after the last line.
pub fn to_terminal_on(m: &QrMatrix, background: TerminalBackground) -> String {
    let quiet = i64::from(QUIET_ZONE_MODULES);
    let w = m.width as i64;
    // The glyph is drawn in the terminal's foreground colour: light on a dark theme.
    let drawn = |x: i64, y: i64| match background {
        TerminalBackground::Dark => !m.is_dark(x, y),
        TerminalBackground::Light => m.is_dark(x, y),
    };
    let rows = w + 2 * quiet;
    let mut out = String::with_capacity(((rows + 1) / 2 * (rows + 1) * 3) as usize);
    let mut y = -quiet;
    while y < w + quiet {
        if y > -quiet {
            out.push('\n');
        }
        for x in -quiet..w + quiet {
            // The odd last row's lower half lies outside the code: it is quiet zone (light).
            let lower = if y + 1 < w + quiet {
                drawn(x, y + 1)
            } else {
                background == TerminalBackground::Dark
            };
            out.push(match (drawn(x, y), lower) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        y += 2;
    }
    out
}
