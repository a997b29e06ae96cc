//! The waiting screen's code, spoken: espeak-ng records it to a WAV file through the app's own
//! backend, and sox measures that the recording holds speech of a plausible length. The
//! utterance is the one the real UI hands its speaker on Waiting (Slint's testing backend).
//!
//! Needs espeak-ng and sox (`.ci/system-deps test` installs them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ui_support;

use std::path::Path;
use std::process::Command;

use mitid_flex_tv::config::IdentifierKind;
use mitid_flex_tv::speech::{EspeakNg, Language, waiting_code};
use mitid_flex_tv::ui::generated::Screen;
use ui_support::{setup, start_ui, waiting};

/// `sox FILE -n stat` prints its figures on stderr, one "Name:   value" per line.
fn sox_stat(wav: &Path) -> (f64, f64, f64) {
    let out = Command::new("sox")
        .arg(wav)
        .args(["-n", "stat"])
        .output()
        .expect("sox is installed (.ci/system-deps test)");
    assert!(out.status.success(), "sox failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim_start_matches(':').trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name:?} in sox output:\n{text}"))
    };
    (
        field("Length (seconds)"),
        field("RMS     amplitude"),
        field("Maximum amplitude"),
    )
}

fn record(text: &str, language: Language, wav: &Path) -> (f64, f64, f64) {
    let espeak = EspeakNg::find().expect("espeak-ng is installed (.ci/system-deps test)");
    espeak
        .record(text, language, wav)
        .expect("espeak-ng writes the WAV");
    sox_stat(wav)
}

#[test]
fn waiting_code_is_spoken_in_danish_and_english() {
    let dir = tempfile::tempdir().unwrap();
    for (language, expected) in [
        (Language::Danish, "Kode 4 8 2 1"),
        (Language::English, "Code 4 8 2 1"),
    ] {
        let text = waiting_code(language, "4821");
        assert_eq!(text, expected);
        let (secs, rms, peak) = record(&text, language, &dir.path().join("code.wav"));
        println!("{text:?} ({language:?}): {secs:.2} s, RMS {rms:.3}, peak {peak:.3}");
        // Five words at 150 words a minute take about 2 s; silence has an RMS near 0.
        assert!((1.0..=4.0).contains(&secs), "{text:?}: {secs} s");
        assert!(rms > 0.02, "{text:?}: RMS {rms} (silent?)");
        assert!(peak > 0.2, "{text:?}: peak {peak} (silent?)");
        // Each digit is spoken on its own: the code takes much longer than the word alone.
        let word = text.split(' ').next().unwrap();
        let (word_secs, ..) = record(word, language, &dir.path().join("word.wav"));
        assert!(
            secs > 1.5 * word_secs,
            "{text:?} {secs} s vs {word:?} {word_secs} s"
        );
    }
}

#[test]
fn the_waiting_screen_speaks_its_code() {
    let ui = start_ui(setup(IdentifierKind::UserId));
    ui.ok();
    ui.type_text("ileya");
    ui.ok();
    assert_eq!(ui.ctl.screen(), Screen::Waiting);
    ui.host.speaker.take();
    ui.ctl
        .apply(waiting("Log på Stue-TV · kode 4821", 300, None));
    let said = ui.host.speaker.take();
    assert_eq!(said.len(), 1, "{said:?}");
    let text = &said[0];
    assert!(text.ends_with(". Kode 4 8 2 1"), "{text:?}");

    let dir = tempfile::tempdir().unwrap();
    let (secs, rms, peak) = record(text, Language::Danish, &dir.path().join("waiting.wav"));
    let words = text.split_whitespace().count();
    println!("{text:?}: {words} words, {secs:.2} s, RMS {rms:.3}, peak {peak:.3}");
    // Asked for at 150 words a minute; digits and short words vary, so 80..300 is plausible.
    let (lo, hi) = (words as f64 * 60.0 / 300.0, words as f64 * 60.0 / 80.0);
    assert!((lo..=hi).contains(&secs), "{secs} s for {words} words");
    assert!(rms > 0.02 && peak > 0.2, "RMS {rms}, peak {peak} (silent?)");
    let (code_secs, ..) = record(
        &waiting_code(Language::Danish, "4821"),
        Language::Danish,
        &dir.path().join("code.wav"),
    );
    assert!(secs > code_secs, "{secs} s vs the code alone {code_secs} s");
}
