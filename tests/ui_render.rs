//! `render` draws every screen headlessly (software renderer, no display) in both languages,
//! and the QR screen's code decodes back to the exact sample `authentication_uri`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mitid_flex_tv::ui::{RenderArgs, Renderer, SAMPLE_AUTHENTICATION_URI, SCREENS};

fn draw(r: &Renderer, screen: &str, lang: &str, dir: &std::path::Path) -> image::RgbImage {
    draw_at(r, screen, lang, dir, (1920, 1080))
}

fn draw_at(
    r: &Renderer,
    screen: &str,
    lang: &str,
    dir: &std::path::Path,
    size: (u32, u32),
) -> image::RgbImage {
    let out = dir.join(format!("{screen}-{lang}-{}x{}.png", size.0, size.1));
    r.render(RenderArgs {
        screen: screen.into(),
        lang: lang.into(),
        out: out.clone(),
        width: size.0,
        height: size.1,
    })
    .expect("render");
    image::open(&out).expect("png").to_rgb8()
}

/// Nothing is drawn in the 5 % safe-area margins except the focus ring, which may reach
/// 12 px (at 1080p, scaled with the UI) into them.
fn assert_inside_safe_area(img: &image::RgbImage, what: &str) {
    let (w, h) = img.dimensions();
    let s = (w as f32 / 1920.0).min(h as f32 / 1080.0);
    let mx = ((96.0 - 12.0) * s).floor() as u32;
    let my = ((54.0 - 12.0) * s).floor() as u32;
    let bg = *img.get_pixel(0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        let margin = !(mx..w - mx).contains(&x) || !(my..h - my).contains(&y);
        assert!(
            !margin || *p == bg,
            "{what}: drawn in the safe area at {x},{y}"
        );
    }
}

// One test: a process installs the headless platform once.
#[test]
fn every_screen_renders_and_the_qr_decodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Renderer::install().expect("the headless platform");
    for lang in ["da", "en"] {
        for screen in SCREENS {
            let img = draw(&r, screen, lang, dir.path());
            assert_eq!(img.dimensions(), (1920, 1080));
            // The focused widget is filled white: focus is visible on every screen.
            let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
            assert!(
                white > 2_000,
                "{screen}/{lang}: no visible focus fill ({white} px)"
            );
            assert_inside_safe_area(&img, &format!("{screen}/{lang}"));
        }
    }
    // The screens with the most on them, at 720p and 4K: the whole UI scales, so they stay
    // inside the safe area there too.
    for size in [(1280, 720), (3840, 2160)] {
        for screen in [
            "start-broker-six",
            "start-edit",
            "start-confirm",
            "waiting-tile",
            "signed-in",
            "unknown-user",
            "service-setup",
        ] {
            let img = draw_at(&r, screen, "da", dir.path(), size);
            assert_eq!(img.dimensions(), size);
            assert_inside_safe_area(&img, &format!("{screen} at {size:?}"));
        }
    }
    let qr = draw(&r, "qr", "da", dir.path());
    let luma = image::DynamicImage::ImageRgb8(qr).to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(luma);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the QR screen");
    let (_, content) = grids[0].decode().expect("decode");
    assert_eq!(content, SAMPLE_AUTHENTICATION_URI);

    assert!(
        r.render(RenderArgs {
            screen: "nope".into(),
            lang: "da".into(),
            out: dir.path().join("x.png"),
            width: 1920,
            height: 1080
        })
        .is_err()
    );
}
