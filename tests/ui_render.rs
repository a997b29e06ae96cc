//! `render` draws every screen headlessly (software renderer, no display) in both languages,
//! and the QR screen's code decodes back to the exact sample `authentication_uri`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mitid_flex_tv::ui::{RenderArgs, SAMPLE_AUTHENTICATION_URI, SCREENS, render};

fn draw(screen: &str, lang: &str, dir: &std::path::Path) -> image::RgbImage {
    let out = dir.join(format!("{screen}-{lang}.png"));
    render(RenderArgs {
        screen: screen.into(),
        lang: lang.into(),
        out: out.clone(),
        width: 1920,
        height: 1080,
    })
    .expect("render");
    image::open(&out).expect("png").to_rgb8()
}

// One test: a process installs the headless platform once.
#[test]
fn every_screen_renders_and_the_qr_decodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for lang in ["da", "en"] {
        for screen in SCREENS {
            let img = draw(screen, lang, dir.path());
            assert_eq!(img.dimensions(), (1920, 1080));
            // The focused widget is filled white: focus is visible on every screen.
            let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
            assert!(
                white > 2_000,
                "{screen}/{lang}: no visible focus fill ({white} px)"
            );
            // Nothing is drawn in the safe-area margins (96 px left/right, 54 px top/bottom)
            // except the focus ring, which may reach 12 px into it.
            let bg = *img.get_pixel(0, 0);
            for (x, y, p) in img.enumerate_pixels() {
                let margin = !(84..1920 - 84).contains(&x) || !(42..1080 - 42).contains(&y);
                assert!(
                    !margin || *p == bg,
                    "{screen}/{lang}: drawn in the safe area at {x},{y}"
                );
            }
        }
    }
    let qr = draw("qr", "da", dir.path());
    let luma = image::DynamicImage::ImageRgb8(qr).to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(luma);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the QR screen");
    let (_, content) = grids[0].decode().expect("decode");
    assert_eq!(content, SAMPLE_AUTHENTICATION_URI);

    assert!(
        render(RenderArgs {
            screen: "nope".into(),
            lang: "da".into(),
            out: dir.path().join("x.png"),
            width: 1920,
            height: 1080
        })
        .is_err()
    );
}
