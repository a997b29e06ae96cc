//! The QR code the TV and `signin --qr` show must decode back to the exact
//! `authentication_uri`; decoded here with an independent reader (rqrr).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mitid_flex_tv::qr::{
    self, MIN_PX_PER_MODULE, QUIET_ZONE_MODULES, QrError, QrMatrix, TerminalBackground, matrix,
    px_per_module_for, to_pixel_buffer, to_terminal, to_terminal_on,
};

const BROKER_URL: &str = "https://pp.netseidbroker.dk/op/connect/authorize?client_id=62b8cc03-aa73-4d6a-922c-7c8fb0a4a1d9&request_uri=urn:ietf:params:oauth:request_uri:4BEE3FBF81FBD52F997575BDBBC9459881E924E6535433D0427A7E46E8D7DB52";

/// rqrr reports the format bits' raw error-correction value: M is 0b00.
const ECC_M: u16 = 0;

/// Decodes a greyscale image; exactly one code must be found.
fn decode(w: usize, h: usize, luma: impl Fn(usize, usize) -> u8) -> (rqrr::MetaData, String) {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "expected one QR code in the image");
    grids[0].decode().expect("QR code decodes")
}

fn decode_buffer(buf: &slint::SharedPixelBuffer<slint::Rgb8Pixel>) -> (rqrr::MetaData, String) {
    let w = buf.width() as usize;
    let px = buf.as_slice();
    decode(w, buf.height() as usize, |x, y| {
        let p = px[y * w + x];
        assert!(
            p.r == p.g && p.g == p.b && (p.r == 0 || p.r == 255),
            "only pure black and white"
        );
        p.r
    })
}

#[test]
fn pixel_buffer_decodes_to_the_exact_url_at_8_px_per_module() {
    let m = matrix(BROKER_URL).expect("encodes");
    let buf = to_pixel_buffer(&m, MIN_PX_PER_MODULE, QUIET_ZONE_MODULES);
    let side = (m.width as u32 + 2 * QUIET_ZONE_MODULES) * MIN_PX_PER_MODULE;
    assert_eq!((buf.width(), buf.height()), (side, side));
    let (meta, text) = decode_buffer(&buf);
    assert_eq!(text, BROKER_URL);
    assert_eq!(meta.ecc_level, ECC_M, "error correction level M");
}

#[test]
fn pixel_buffer_decodes_at_other_scales() {
    let m = matrix(BROKER_URL).expect("encodes");
    for scale in [2, 3, 5, 12] {
        let (_, text) = decode_buffer(&to_pixel_buffer(&m, scale, QUIET_ZONE_MODULES));
        assert_eq!(text, BROKER_URL, "at {scale} px/module");
    }
}

#[test]
fn quiet_zone_is_white_and_at_least_four_modules() {
    let m = matrix(BROKER_URL).expect("encodes");
    // Asking for less than the standard's four modules still gets four.
    for requested in [0, 4] {
        let scale = 8;
        let buf = to_pixel_buffer(&m, scale, requested);
        let w = buf.width() as usize;
        let quiet = (QUIET_ZONE_MODULES * scale) as usize;
        assert_eq!(w, m.width * scale as usize + 2 * quiet);
        let px = buf.as_slice();
        for y in 0..w {
            for x in 0..w {
                if x < quiet || y < quiet || x >= w - quiet || y >= w - quiet {
                    assert_eq!(px[y * w + x].r, 255, "quiet zone pixel ({x}, {y}) is white");
                }
            }
        }
        // The top-left finder pattern starts right after the quiet zone.
        assert_eq!(px[quiet * w + quiet].r, 0);
    }
    // A wider quiet zone is honoured.
    let buf = to_pixel_buffer(&m, 1, 10);
    assert_eq!(buf.width() as usize, m.width + 20);
}

#[test]
fn matrix_is_square_and_matches_the_pixels() {
    let m = matrix(BROKER_URL).expect("encodes");
    assert_eq!(m.dark.len(), m.width * m.width);
    assert_eq!((m.width - 17) % 4, 0, "a QR version's width is 17 + 4v");
    let buf = to_pixel_buffer(&m, 1, QUIET_ZONE_MODULES);
    let w = buf.width() as usize;
    let q = QUIET_ZONE_MODULES as usize;
    for y in 0..m.width {
        for x in 0..m.width {
            assert_eq!(
                buf.as_slice()[(y + q) * w + x + q].r == 0,
                m.dark[y * m.width + x]
            );
        }
    }
}

#[test]
fn image_has_the_buffer_size() {
    let m = matrix(BROKER_URL).expect("encodes");
    let img = qr::to_image(BROKER_URL, 8).expect("image");
    let side = (m.width as u32 + 2 * QUIET_ZONE_MODULES) * 8;
    assert_eq!((img.size().width, img.size().height), (side, side));
}

#[test]
fn px_per_module_rule() {
    let m = matrix(BROKER_URL).expect("encodes");
    let side = m.width as u32 + 2 * QUIET_ZONE_MODULES;
    // The largest integer scale that fits, quiet zone included.
    assert_eq!(px_per_module_for(&m, 600).expect("fits"), 600 / side);
    assert_eq!(px_per_module_for(&m, side * 8).expect("fits"), 8);
    assert_eq!(px_per_module_for(&m, side * 11 - 1).expect("fits"), 10);
    // Below 8 px/module it is an error carrying the scale that does fit.
    match px_per_module_for(&m, side * 8 - 1) {
        Err(QrError::TooSmall {
            fits,
            needed_px,
            max_side_px,
        }) => {
            assert_eq!(fits, 7);
            assert_eq!(needed_px, side * 8);
            assert_eq!(max_side_px, side * 8 - 1);
        }
        other => panic!("expected TooSmall, got {other:?}"),
    }
    assert!(matches!(
        px_per_module_for(&m, 0),
        Err(QrError::TooSmall { fits: 0, .. })
    ));
    // The QR screen at 1080p: a box of two thirds of the height is plenty.
    assert!(px_per_module_for(&m, 720).expect("fits") >= MIN_PX_PER_MODULE);
}

/// Turns half-block text back into modules: `lit(upper, lower)` per glyph.
fn terminal_modules(text: &str) -> (usize, Vec<Vec<bool>>) {
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let cols = lines[0].len();
    assert!(lines.iter().all(|l| l.len() == cols), "rectangular");
    let mut rows = Vec::new();
    for line in &lines {
        let (mut upper, mut lower) = (Vec::new(), Vec::new());
        for ch in line {
            let (u, l) = match ch {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                ' ' => (false, false),
                other => panic!("unexpected glyph {other:?}"),
            };
            upper.push(u);
            lower.push(l);
        }
        rows.push(upper);
        rows.push(lower);
    }
    (cols, rows)
}

/// Paints the text as a terminal would (glyphs in `fg`, the rest and a wide margin in `bg`),
/// 4 px per module, and decodes it.
fn decode_terminal(text: &str, fg: u8, bg: u8) -> String {
    let (cols, rows) = terminal_modules(text);
    let (scale, margin) = (4, 10);
    let w = (cols + 2 * margin) * scale;
    let h = (rows.len() + 2 * margin) * scale;
    let (_, decoded) = decode(w, h, |x, y| {
        let (mx, my) = (
            (x / scale).wrapping_sub(margin),
            (y / scale).wrapping_sub(margin),
        );
        match rows.get(my).and_then(|r| r.get(mx)) {
            Some(true) => fg,
            _ => bg,
        }
    });
    decoded
}

#[test]
fn terminal_rendering_scans_on_a_dark_terminal() {
    let m = matrix(BROKER_URL).expect("encodes");
    let text = to_terminal(&m);
    let q = QUIET_ZONE_MODULES as usize;
    assert_eq!(
        text.lines().count(),
        (m.width + 2 * q).div_ceil(2),
        "two module rows per line"
    );
    assert!(text.lines().all(|l| l.chars().count() == m.width + 2 * q));
    // Light text (the glyphs) on a dark background.
    assert_eq!(decode_terminal(&text, 230, 20), BROKER_URL);
    // The quiet zone is drawn: the first line is solid blocks.
    assert!(
        text.lines()
            .next()
            .expect("a line")
            .chars()
            .all(|c| c == '█')
    );
}

#[test]
fn terminal_rendering_for_light_background_scans_there() {
    let m = matrix(BROKER_URL).expect("encodes");
    let text = to_terminal_on(&m, TerminalBackground::Light);
    assert_eq!(decode_terminal(&text, 20, 240), BROKER_URL);
    // And the two variants are exact inverses of each other.
    let dark = to_terminal_on(&m, TerminalBackground::Dark);
    let inverse = |c| match c {
        '█' => ' ',
        ' ' => '█',
        '▀' => '▄',
        '▄' => '▀',
        c => c,
    };
    assert_eq!(text.chars().map(inverse).collect::<String>(), dark);
}

#[test]
#[cfg(feature = "render")]
fn png_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    qr::to_png(BROKER_URL, 8, &path).expect("png written");
    let img = image::open(&path).expect("png reads").to_luma8();
    let (w, h) = img.dimensions();
    let (_, text) = decode(w as usize, h as usize, |x, y| {
        img.get_pixel(x as u32, y as u32).0[0]
    });
    assert_eq!(text, BROKER_URL);
}

#[test]
fn too_much_data_is_an_error_not_a_panic() {
    let long = "x".repeat(5000);
    assert!(matches!(matrix(&long), Err(QrError::Encode(_))));
    assert!(qr::to_image(&long, 8).is_err());
}

#[test]
fn absurd_scales_are_clamped() {
    let m = QrMatrix {
        width: 21,
        dark: vec![false; 21 * 21],
    };
    let buf = to_pixel_buffer(&m, u32::MAX, QUIET_ZONE_MODULES);
    assert!(buf.width() <= qr::MAX_SIDE_PX);
    assert_eq!(to_pixel_buffer(&m, 0, QUIET_ZONE_MODULES).width(), 29);
}
