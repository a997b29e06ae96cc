//! The theme's colours meet WCAG 2.x contrast: text at least 4.5:1 on what it is drawn on
//! (SC 1.4.3) and the edges of unfocused components at least 3:1 against what surrounds them
//! (SC 1.4.11). The colours are read from ui/theme.slint itself, so a bad edit there fails here.
//!
//! Every pair below names where the UI draws it. Every colour token must appear in some pair,
//! so a new colour cannot slip in unchecked; and no other .slint file may hold a literal colour,
//! so the theme stays the only place colours come from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

const TEXT: f64 = 4.5;
const COMPONENT: f64 = 3.0;

/// (foreground, background, minimum, where)
const PAIRS: &[(&str, &str, f64, &str)] = &[
    ("text", "background", TEXT, "headings and body text"),
    ("text", "surface", TEXT, "text on cards and the ID field"),
    (
        "text",
        "surface-raised",
        TEXT,
        "unfocused button and tile labels",
    ),
    (
        "text",
        "primary",
        TEXT,
        "primary button label, tile initials",
    ),
    ("text", "border", TEXT, "label on a latched key (Shift)"),
    ("text-muted", "background", TEXT, "secondary text"),
    ("text-muted", "surface", TEXT, "secondary text on cards"),
    ("text-muted", "surface-raised", TEXT, "countdown caption"),
    (
        "text-placeholder",
        "surface",
        TEXT,
        "the ID field's template rest",
    ),
    ("text-on-focus", "focus", TEXT, "focused button label"),
    (
        "warning",
        "background",
        TEXT,
        "warnings, the countdown's last 20 %",
    ),
    ("warning", "surface", TEXT, "simulator panel"),
    ("success", "background", TEXT, "signed-in tick"),
    ("danger", "background", TEXT, "input error"),
    ("danger", "danger-surface", TEXT, "signed-in problem banner"),
    ("focus-ring", "surface-raised", TEXT, "outcome icon"),
    (
        "border",
        "background",
        COMPONENT,
        "unfocused button, tile, key edge",
    ),
    (
        "border",
        "surface",
        COMPONENT,
        "card edge, keys on the field's card",
    ),
    ("primary", "background", COMPONENT, "primary button edge"),
    ("focus", "background", COMPONENT, "focused button fill"),
    ("focus-ring", "background", COMPONENT, "focus ring"),
    ("focus-ring", "surface", COMPONENT, "the ID field's edge"),
    (
        "focus-ring",
        "surface-raised",
        COMPONENT,
        "countdown bar on its track",
    ),
    (
        "warning",
        "surface-raised",
        COMPONENT,
        "countdown bar, last 20 %",
    ),
    (
        "danger",
        "surface",
        COMPONENT,
        "the ID field's edge on error",
    ),
    (
        "danger",
        "danger-surface",
        COMPONENT,
        "outcome problem edge",
    ),
];

fn ui_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ui"))
}

/// `out property <color> name: #rrggbb;` lines of the Theme global.
fn theme_colours(source: &str) -> BTreeMap<String, [u8; 3]> {
    let mut out = BTreeMap::new();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix("out property <color> ") else {
            continue;
        };
        let (name, value) = rest.split_once(':').expect("name: value");
        let hex = value
            .trim()
            .strip_suffix(';')
            .and_then(|v| v.strip_prefix('#'))
            .unwrap_or_else(|| panic!("{name}: only #rrggbb literals are checked, got {value}"));
        assert_eq!(hex.len(), 6, "{name}: #rrggbb expected, got #{hex}");
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits");
        out.insert(name.trim().to_string(), [byte(0), byte(2), byte(4)]);
    }
    out
}

/// WCAG 2.x relative luminance of an sRGB colour.
fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn wcag_formula_matches_known_values() {
    assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
    assert!((contrast([10, 10, 10], [10, 10, 10]) - 1.0).abs() < 1e-9);
    // #767676 on white is the classic "just passes 4.5:1" grey (4.54:1).
    let grey = contrast([0x76, 0x76, 0x76], [255, 255, 255]);
    assert!((grey - 4.54).abs() < 0.01, "{grey}");
}

#[test]
fn theme_colours_meet_wcag_contrast() {
    let source = std::fs::read_to_string(ui_dir().join("theme.slint")).expect("ui/theme.slint");
    let colours = theme_colours(&source);
    assert!(colours.len() >= 10, "parsed only {colours:?}");
    let mut failures = Vec::new();
    for (fg, bg, min, place) in PAIRS {
        let (Some(f), Some(b)) = (colours.get(*fg), colours.get(*bg)) else {
            panic!("{fg} on {bg}: not a Theme colour");
        };
        let ratio = contrast(*f, *b);
        println!("{ratio:6.2}:1 (min {min}) {fg} on {bg}: {place}");
        if ratio < *min {
            failures.push(format!("{fg} on {bg} ({place}): {ratio:.2}:1 < {min}:1"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let unchecked: Vec<_> = colours
        .keys()
        .filter(|name| !PAIRS.iter().any(|(f, b, ..)| f == name || b == name))
        .collect();
    assert!(
        unchecked.is_empty(),
        "theme colours in no contrast pair: {unchecked:?}"
    );
}

#[test]
fn no_literal_colours_outside_the_theme() {
    fn walk(dir: &Path, hits: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("ui dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, hits);
            } else if path.extension().is_some_and(|e| e == "slint")
                && path.file_name().is_some_and(|n| n != "theme.slint")
            {
                let text = std::fs::read_to_string(&path).expect("slint file");
                for (i, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    let hex = code.find('#').is_some_and(|at| {
                        code[at + 1..]
                            .chars()
                            .take_while(|c| c.is_ascii_hexdigit())
                            .count()
                            >= 3
                    });
                    if hex || code.contains("rgb(") || code.contains("rgba(") {
                        hits.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
    }
    let mut hits = Vec::new();
    walk(ui_dir(), &mut hits);
    assert!(
        hits.is_empty(),
        "colours belong in ui/theme.slint:\n{}",
        hits.join("\n")
    );
}
