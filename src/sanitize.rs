//! The one sanitizer for text from outside (OP answers, claims, simulator input) before it
//! reaches a terminal, the journal or the screen.
//!
//! * C0 and C1 control characters and DEL go: they carry terminal escape sequences (a
//!   window-title change, clear screen, colours) and carriage returns that overwrite a line
//!   (ECMA-48 §5).
//! * The bidi embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069 go: they
//!   reorder what the reader sees (Unicode UAX #9 §2, the "Trojan Source" trick).
//! * CPR numbers are redacted.
//! * The result is at most [`MAX_CHARS`] characters, the last one "…" when cut.

use std::fmt;

/// Longest text shown or logged from outside, in characters.
pub const MAX_CHARS: usize = 300;

/// `text`, safe to print.
pub fn clean(text: &str) -> String {
    let stripped: String = text.chars().filter(|c| !is_unsafe(*c)).collect();
    let redacted = crate::cpr::redact(&stripped);
    cut(&redacted)
}

/// A `Display` wrapper that sanitizes while formatting, for log fields:
/// `tracing::warn!(detail = %Clean(&text))`.
pub struct Clean<'a>(pub &'a str);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&clean(self.0))
    }
}

/// Serialized JSON with every character [`clean`] would strip written as a `\uXXXX`
/// escape: serde_json escapes only U+0000–U+001F (RFC 8259 §7), which leaves DEL, C1 controls
/// and bidi overrides raw on a terminal. The JSON value is unchanged.
pub fn json_for_terminal(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_unsafe(c: char) -> bool {
    // `char::is_control` is exactly Unicode Cc: C0, DEL and C1.
    c.is_control()
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_CHARS) {
        None => s.to_string(),
        Some(_) => {
            let mut out: String = s.chars().take(MAX_CHARS.saturating_sub(1)).collect();
            out.push('…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_carriage_returns() {
        let evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\r\nsigned in as admin\u{7f}\u{9b}1m";
        let out = clean(evil);
        assert_eq!(out, "]0;pwned[2J[31mredsigned in as admin1m");
        assert!(!out.chars().any(char::is_control));
    }

    #[test]
    fn strips_bidi_overrides_and_isolates() {
        let out = clean(
            "a\u{202A}b\u{202B}c\u{202C}d\u{202D}e\u{202E}f\u{2066}g\u{2067}h\u{2068}i\u{2069}j",
        );
        assert_eq!(out, "abcdefghij");
        // Letters of right-to-left scripts stay.
        assert_eq!(clean("שלום"), "שלום");
    }

    #[test]
    fn redacts_cpr_even_when_controls_split_it() {
        assert_eq!(clean("cpr 010190-\x1b1234"), "cpr ******-****");
    }

    #[test]
    fn cuts_to_300_characters_with_an_ellipsis() {
        let long = "ø".repeat(10_000);
        let out = clean(&long);
        assert_eq!(out.chars().count(), MAX_CHARS);
        assert!(out.ends_with('…'));
        let exact = "x".repeat(MAX_CHARS);
        assert_eq!(clean(&exact), exact);
    }

    #[test]
    fn json_for_terminal_keeps_the_value() {
        let v = serde_json::json!({"name": "a\u{202E}b\u{9b}c\u{7f}\u{1b}"});
        let shown = json_for_terminal(&v.to_string());
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn display_wrapper_sanitizes() {
        assert_eq!(format!("{}", Clean("a\x1b[2Jb")), "a[2Jb");
    }
}
