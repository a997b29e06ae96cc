//! What the viewer typed, checked before anything is sent: shared by the TV's keyboard
//! screen and the headless `signin` command.

use crate::ciba::{Cpr, FlexSubject};
use crate::config::IdentifierKind;
use crate::session::Who;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("empty identifier")]
    Empty,
    #[error("a CPR number has 10 digits (DDMMÅÅ-XXXX)")]
    CprLength,
    #[error("the first six digits of a CPR number are a date (DDMMÅÅ)")]
    CprDate,
    #[error("not a MitID uuid (8-4-4-4-12 hex digits)")]
    Uuid,
    #[error("a user ID has letters, digits and - . _ only")]
    UserId,
}

/// Parses input for `kind` into the session's `Who`.
pub fn parse(kind: IdentifierKind, input: &str) -> Result<Who, IdentifierError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(IdentifierError::Empty);
    }
    match kind {
        IdentifierKind::Cpr => parse_cpr(input).map(|c| Who::Flex(FlexSubject::Cpr(c))),
        IdentifierKind::Uuid => uuid::Uuid::parse_str(input)
            .map(|u| Who::Flex(FlexSubject::Uuid(u.hyphenated().to_string())))
            .map_err(|_| IdentifierError::Uuid),
        IdentifierKind::UserId => {
            let ok = input
                .chars()
                .all(|c| c.is_alphanumeric() || "-._@".contains(c))
                && input.chars().count() <= 64;
            if ok {
                Ok(Who::UserId(input.to_string()))
            } else {
                Err(IdentifierError::UserId)
            }
        }
    }
}

/// `DDMMÅÅ-XXXX` or ten digits. The date part must be a real day in some century
/// (the century digit rules in the serial are not checked: CPR numbers without
/// modulus-11 exist since 2007).
pub fn parse_cpr(input: &str) -> Result<Cpr, IdentifierError> {
    let digits: String = input.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentifierError::CprLength);
    }
    let n = |i: usize| {
        u32::from(digits.as_bytes()[i] - b'0') * 10 + u32::from(digits.as_bytes()[i + 1] - b'0')
    };
    let (day, month, yy) = (n(0), n(2), n(4));
    if !(1..=12).contains(&month) || day == 0 {
        return Err(IdentifierError::CprDate);
    }
    // Feb 29 is valid if any century makes yy a leap year: 00 only for 2000.
    let leap = yy % 4 == 0;
    let max = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > max {
        return Err(IdentifierError::CprDate);
    }
    Ok(Cpr::new(digits))
}

/// `DDMMÅÅ-XXXX` for display while typing (digits only in, dash after the sixth).
pub fn format_cpr(digits: &str) -> String {
    let d: String = digits
        .chars()
        .filter(char::is_ascii_digit)
        .take(10)
        .collect();
    if d.len() > 6 {
        format!("{}-{}", &d[..6], &d[6..])
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_forms_and_dates() {
        assert!(parse_cpr("080436-1234").is_ok());
        assert!(parse_cpr("0804361234").is_ok());
        assert_eq!(parse_cpr("080436-123"), Err(IdentifierError::CprLength));
        assert_eq!(parse_cpr("320136-1234"), Err(IdentifierError::CprDate));
        assert_eq!(parse_cpr("311136-1234"), Err(IdentifierError::CprDate));
        assert_eq!(parse_cpr("081336-1234"), Err(IdentifierError::CprDate));
        assert!(parse_cpr("290204-1234").is_ok());
        assert_eq!(parse_cpr("290203-1234"), Err(IdentifierError::CprDate));
    }

    #[test]
    fn cpr_display() {
        assert_eq!(format_cpr("080436"), "080436");
        assert_eq!(format_cpr("08043612"), "080436-12");
        assert_eq!(format_cpr("0804361234999"), "080436-1234");
    }

    #[test]
    fn kinds() {
        assert_eq!(
            parse(IdentifierKind::UserId, " ileya "),
            Ok(Who::UserId("ileya".into()))
        );
        assert_eq!(
            parse(IdentifierKind::UserId, "a b"),
            Err(IdentifierError::UserId)
        );
        assert!(matches!(
            parse(IdentifierKind::Uuid, "8A9856E0-F12D-4217-B320-C8A076BE9320"),
            Ok(Who::Flex(FlexSubject::Uuid(u))) if u == "8a9856e0-f12d-4217-b320-c8a076be9320"
        ));
        assert_eq!(
            parse(IdentifierKind::Uuid, "8a98"),
            Err(IdentifierError::Uuid)
        );
        assert_eq!(parse(IdentifierKind::Cpr, ""), Err(IdentifierError::Empty));
    }
}
