//! What the viewer typed, checked before anything is sent: shared by the TV's keyboard
//! screen and the headless `signin` command.

use crate::ciba::{Cpr, FlexSubject};
use crate::config::IdentifierKind;
use crate::cpr::CprError;
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

/// CPR input, checked by the one CPR parser.
pub fn parse_cpr(input: &str) -> Result<Cpr, IdentifierError> {
    crate::cpr::parse(input).map_err(|e| match e {
        CprError::Length => IdentifierError::CprLength,
        CprError::Date => IdentifierError::CprDate,
    })
}

/// The keyboard screen formats with the one CPR formatter.
pub use crate::cpr::format as format_cpr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_errors_keep_their_meaning() {
        assert!(parse_cpr("080436-1234").is_ok());
        assert_eq!(parse_cpr("080436-123"), Err(IdentifierError::CprLength));
        assert_eq!(parse_cpr("320136-1234"), Err(IdentifierError::CprDate));
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
