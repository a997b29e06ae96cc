//! Danish CPR numbers: the one place that parses, formats, finds and redacts them.
//!
//! A CPR number is `DDMMÅÅ-SSSS`: six date digits and a four-digit serial. Parsing (what a
//! viewer types) is strict about the date; finding (in text from outside, before it is
//! logged or shown) errs on the side of redacting.

use crate::ciba::Cpr;

/// What replaces a CPR number in text that is logged or displayed.
pub const REDACTED: &str = "******-****";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CprError {
    #[error("a CPR number has 10 digits (DDMMÅÅ-XXXX)")]
    Length,
    #[error("the first six digits of a CPR number are a date (DDMMÅÅ)")]
    Date,
}

/// `DDMMÅÅ-XXXX`, `DDMMÅÅ XXXX` or ten digits. The date part must be a real day in some
/// century (the century digit rules in the serial are not checked: CPR numbers without
/// modulus-11 exist since 2007).
pub fn parse(input: &str) -> Result<Cpr, CprError> {
    let digits: String = input.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if !is_ten_digits(&digits) {
        return Err(CprError::Length);
    }
    let b = digits.as_bytes();
    let (day, month, yy) = (pair(b, 0), pair(b, 2), pair(b, 4));
    if !(1..=12).contains(&month) || day == 0 {
        return Err(CprError::Date);
    }
    // Feb 29 is valid if any century makes yy a leap year: 00 only for 2000.
    let max = match month {
        2 if yy % 4 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > max {
        return Err(CprError::Date);
    }
    Ok(Cpr::new(digits))
}

/// Exactly ten ASCII digits: the wire form of a CPR number.
pub fn is_ten_digits(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `DDMMÅÅ-XXXX` for display while typing (digits only in, dash after the sixth).
pub fn format(digits: &str) -> String {
    let d: String = digits
        .chars()
        .filter(char::is_ascii_digit)
        .take(10)
        .collect();
    match (d.get(..6), d.get(6..)) {
        (Some(date), Some(serial)) if !serial.is_empty() => format!("{date}-{serial}"),
        _ => d,
    }
}

/// Byte ranges of everything in `s` that looks like a CPR number: `DDMMYY-SSSS`,
/// `DDMMYYSSSS` or `DDMMYY SSSS`, day 01–31, month 01–12, not part of a longer number.
pub fn find(s: &str) -> Vec<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match len_at(b, i) {
            Some(len) => {
                found.push(i..i + len);
                i += len;
            }
            None => i += 1,
        }
    }
    found
}

/// Whether `s` holds anything [`find`] would redact.
pub fn contains(s: &str) -> bool {
    !find(s).is_empty()
}

/// `s` with every CPR-looking number replaced by [`REDACTED`].
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for r in find(s) {
        // Ranges start and end on ASCII digits, so they are char boundaries.
        out.push_str(s.get(copied..r.start).unwrap_or_default());
        out.push_str(REDACTED);
        copied = r.end;
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    out
}

fn pair(b: &[u8], i: usize) -> u8 {
    let d = |k: usize| b.get(k).map_or(0, |c| c.wrapping_sub(b'0'));
    d(i).saturating_mul(10).saturating_add(d(i + 1))
}

/// Length of a CPR-looking match starting at `i`, if any.
fn len_at(b: &[u8], i: usize) -> Option<usize> {
    let digit = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    if i > 0 && digit(i - 1) {
        return None;
    }
    if !(i..i + 6).all(digit) {
        return None;
    }
    let (day, month) = (pair(b, i), pair(b, i + 2));
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    let serial = match b.get(i + 6) {
        Some(b'-' | b' ') => i + 7,
        _ => i + 6,
    };
    ((serial..serial + 4).all(digit) && !digit(serial + 4)).then_some(serial + 4 - i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms_and_dates() {
        assert!(parse("080436-1234").is_ok());
        assert!(parse("0804361234").is_ok());
        assert_eq!(parse("080436-123"), Err(CprError::Length));
        assert_eq!(parse("320136-1234"), Err(CprError::Date));
        assert_eq!(parse("311136-1234"), Err(CprError::Date));
        assert_eq!(parse("081336-1234"), Err(CprError::Date));
        assert!(parse("290204-1234").is_ok());
        assert_eq!(parse("290203-1234"), Err(CprError::Date));
        assert_eq!(parse("０８０４３６１２３４"), Err(CprError::Length));
    }

    #[test]
    fn format_while_typing() {
        assert_eq!(format("080436"), "080436");
        assert_eq!(format("08043612"), "080436-12");
        assert_eq!(format("0804361234999"), "080436-1234");
    }

    #[test]
    fn redacts_all_spellings() {
        assert_eq!(redact("cpr 010190-1234 ok"), "cpr ******-**** ok");
        assert_eq!(redact("0101901234"), "******-****");
        assert_eq!(redact("x=311299 9999;"), "x=******-****;");
        assert_eq!(
            redact("a 010190-1234 b 020280-5678"),
            "a ******-**** b ******-****"
        );
        assert_eq!(redact("æøå 010190-1234"), "æøå ******-****");
        assert!(contains("name 010190-1234"));
    }

    #[test]
    fn leaves_other_numbers_alone() {
        // Unix time (month 00), longer digit runs, impossible dates, short numbers.
        for s in [
            "1700000000",
            "at 1715000000 s",
            "01019012345",
            "9010190-1234",
            "320190-1234",
            "011390-1234",
            "010190-123",
            "status 500",
            "",
        ] {
            assert_eq!(redact(s), s, "{s}");
            assert!(!contains(s), "{s}");
        }
    }
}
