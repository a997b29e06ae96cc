//! What is handed to a synthesiser: cleaned, capped text, and codes spoken digit by digit.

use super::Language;

/// The longest text spoken at once: a heading plus a reference text fit easily, and the pipe
/// to espeak-ng takes it without blocking.
pub const MAX_CHARS: usize = 400;

/// Control characters become spaces, runs of whitespace one space, and the text is cut at
/// [`MAX_CHARS`]: a synthesiser gets plain words, never escape sequences or an endless string.
pub fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for c in text.chars().take(MAX_CHARS) {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Puts a space between adjacent digits, so "kode 4821" is read "kode 4 8 2 1" (four digits
/// to type or compare), not "four thousand eight hundred and twenty-one".
pub fn spell_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut prev_digit = false;
    for c in text.chars() {
        let digit = c.is_ascii_digit();
        if digit && prev_digit {
            out.push(' ');
        }
        out.push(c);
        prev_digit = digit;
    }
    out
}

/// The waiting screen's code, e.g. "Kode 4 8 2 1" / "Code 4 8 2 1". Only the code's digits are
/// kept.
pub fn waiting_code(language: Language, code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let word = match language {
        Language::Danish => "Kode",
        Language::English => "Code",
    };
    format!("{word} {}", spell_digits(&digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_flattens_controls_and_caps() {
        assert_eq!(clean("  Log\tpå\n\x1b[31mTV\u{7}  "), "Log på [31mTV");
        assert_eq!(clean(""), "");
        let long = "a".repeat(MAX_CHARS + 50);
        assert_eq!(clean(&long).chars().count(), MAX_CHARS);
    }

    #[test]
    fn digits_are_spelled_one_by_one() {
        assert_eq!(spell_digits("kode 4821"), "kode 4 8 2 1");
        assert_eq!(spell_digits("1 2"), "1 2");
        assert_eq!(spell_digits("ab"), "ab");
    }

    #[test]
    fn waiting_code_in_both_languages() {
        assert_eq!(waiting_code(Language::Danish, "4821"), "Kode 4 8 2 1");
        assert_eq!(waiting_code(Language::English, "0042"), "Code 0 0 4 2");
        assert_eq!(waiting_code(Language::English, "4x8\u{1b}2"), "Code 4 8 2");
    }
}
