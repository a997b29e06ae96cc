//! The per-request verification code and the reference text that carries it.
//!
//! The same text goes to the MitID app (`referenceTextBody`) and onto the TV, so the viewer
//! can see that the request on their phone is the one started on this screen.

use crate::ciba::hint::MAX_REFERENCE_TEXT_CHARS;

pub const DEFAULT_TEMPLATE: &str = "Log på {service} · kode {code}";
/// The same in English, for viewers who chose English (`reference_template_en`).
pub const DEFAULT_TEMPLATE_EN: &str = "Sign in to {service} · code {code}";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("the template must contain {{code}}")]
    NoCode,
    #[error(
        "the reference text would be {0} characters; the broker allows {MAX_REFERENCE_TEXT_CHARS}"
    )]
    TooLong(usize),
    #[error("the system random generator failed")]
    Rng,
}

/// A 4-digit code from the OS CSPRNG, uniformly distributed (rejection sampling, so
/// 0000–5535 are not favoured by a plain `% 10000`).
pub fn verification_code() -> Result<String, TemplateError> {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let rng = SystemRandom::new();
    loop {
        let mut b = [0u8; 2];
        rng.fill(&mut b).map_err(|_| TemplateError::Rng)?;
        let n = u16::from_be_bytes(b);
        if n < 60_000 {
            return Ok(format!("{:04}", n % 10_000));
        }
    }
}

/// Checks a template once, at configuration time, with the longest possible code.
pub fn check_template(template: &str, service: &str) -> Result<(), TemplateError> {
    if !template.contains("{code}") {
        return Err(TemplateError::NoCode);
    }
    let len = render(template, service, "0000").chars().count();
    if len > MAX_REFERENCE_TEXT_CHARS {
        return Err(TemplateError::TooLong(len));
    }
    Ok(())
}

pub fn render(template: &str, service: &str, code: &str) -> String {
    template
        .replace("{service}", service)
        .replace("{code}", code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_default_renders_as_designed() {
        assert_eq!(
            render(DEFAULT_TEMPLATE, "Stue-TV", "4821"),
            "Log på Stue-TV · kode 4821"
        );
    }

    #[test]
    fn codes_are_four_digits_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..200).map(|_| verification_code().unwrap()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        // 200 draws from 10,000 values: fewer than 150 distinct would mean a broken source.
        assert!(codes.len() > 150, "only {} distinct codes", codes.len());
    }

    #[test]
    fn template_rules() {
        assert_eq!(
            check_template("Log på {service}", "TV"),
            Err(TemplateError::NoCode)
        );
        let long = format!("{} {{code}}", "x".repeat(130));
        assert!(matches!(
            check_template(&long, "TV"),
            Err(TemplateError::TooLong(_))
        ));
        assert!(check_template(DEFAULT_TEMPLATE, "Stue-TV").is_ok());
    }
}
