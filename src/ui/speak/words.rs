//! The words of spoken guidance that need no screen state: outcomes, keyboard keys, and how
//! parts are joined into sentences. Both languages, as the screens say them.

use crate::lang::Lang;

use super::super::generated::{OutcomeKind, Whose};
use super::super::keyboard::Cap;
use super::super::screens::outcome::whose;

/// Joins the non-empty parts into sentences: "Heading. Label", "Glem Ileya? Nej, behold".
pub(super) fn sentences(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts.iter().map(|p| p.trim().trim_end_matches('.')) {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if out.ends_with(['?', '!']) { " " } else { ". " });
        }
        out.push_str(part);
    }
    out
}

pub(super) fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Da => Lang::En,
        Lang::En => Lang::Da,
    }
}

/// An on-screen key: a letter as itself (capital with shift), signs and commands by name.
pub(super) fn key(l: Lang, cap: Option<Cap>, shift: bool) -> String {
    match cap {
        None => String::new(),
        Some(Cap::Char('-')) => l.text("bindestreg", "hyphen").into(),
        Some(Cap::Char('_')) => l.text("understreg", "underscore").into(),
        Some(Cap::Char('.')) => l.text("punktum", "full stop").into(),
        Some(Cap::Char(c)) if shift && c.is_alphabetic() => {
            format!("{} {}", l.text("stort", "capital"), c.to_uppercase())
        }
        Some(Cap::Char(c)) => c.to_string(),
        Some(Cap::Shift) => l.text("Store bogstaver", "Shift").into(),
        Some(Cap::Delete) => l.text("Slet", "Delete").into(),
        Some(Cap::Clear) => l.text("Ryd", "Clear").into(),
        Some(Cap::Submit) => l.text("Fortsæt", "Continue").into(),
    }
}

/// How a request ended without a viewer signed in: whose problem it is, what happened and
/// what to do, as the Outcome screen says it. `qr`: "Brug QR-kode i stedet" is offered.
pub(super) fn outcome(l: Lang, kind: OutcomeKind, wait_secs: u64, qr: bool) -> String {
    let whose = match whose(kind) {
        Whose::ThisTv => l.text("Problem med dette TV", "Problem with this TV"),
        Whose::Service => l.text("Problem hos tjenesten", "Problem with the service"),
        Whose::Network => l.text("Problem med netværket", "Problem with the network"),
        Whose::Mitid => l.text("Besked fra MitID", "Message from MitID"),
    };
    let wait = match l {
        Lang::Da => format!(
            "Der blev ikke sendt noget til din telefon. Vent {wait_secs} sekunder, og prøv så igen"
        ),
        Lang::En => {
            format!("Nothing was sent to your phone. Wait {wait_secs} seconds, then try again")
        }
    };
    let (what, next) = match kind {
        OutcomeKind::Rejected => (
            l.text("Login blev afvist i MitID", "The sign-in was rejected in MitID"),
            l.text(
                "Anmodningen blev afvist i MitID-appen. Ingen blev logget på",
                "The request was rejected in the MitID app. Nobody was signed in",
            ),
        ),
        OutcomeKind::Expired => (
            l.text("Tiden løb ud", "The time ran out"),
            l.text(
                "Anmodningen blev ikke godkendt i tide",
                "The request was not approved in time",
            ),
        ),
        OutcomeKind::UnknownUser if qr => (
            l.text("MitID kender ikke dette ID", "MitID does not know this ID"),
            l.text(
                "Tjek det ID, du har skrevet, eller brug QR-koden i stedet",
                "Check the ID you typed, or use the QR code instead",
            ),
        ),
        OutcomeKind::UnknownUser => (
            l.text("MitID kender ikke dette ID", "MitID does not know this ID"),
            l.text(
                "Tjek det ID, du skrev, og prøv igen",
                "Check the ID you typed and try again",
            ),
        ),
        OutcomeKind::Offline => (
            l.text("Ingen forbindelse til MitID", "No connection to MitID"),
            l.text(
                "TV'et kunne ikke nå MitID. Tjek TV'ets internetforbindelse, og prøv igen",
                "The TV could not reach MitID. Check the TV's internet connection and try again",
            ),
        ),
        OutcomeKind::ConfigError => (
            l.text("TV'et er ikke sat korrekt op", "The TV is not set up correctly"),
            l.text(
                "Fejlen er i dette TV's indstillinger, ikke i dit MitID. Bed TV-udbyderen om hjælp",
                "The problem is in this TV's settings, not in your MitID. Ask the TV provider for help",
            ),
        ),
        OutcomeKind::ServiceSetup => (
            l.text("Tjenesten er ikke sat korrekt op", "The service is not set up correctly"),
            l.text(
                "Det er ikke dit MitID. Bed TV-udbyderen om hjælp",
                "It is not your MitID. Ask the TV provider for help",
            ),
        ),
        OutcomeKind::TooMany => (
            l.text("For mange login-forsøg", "Too many sign-in attempts"),
            wait.as_str(),
        ),
        OutcomeKind::MitidError => (
            l.text("MitID kunne ikke gøre login færdigt", "MitID could not finish the sign-in"),
            l.text(
                "Ingen blev logget på. Der er ikke noget galt med dit MitID; prøv igen",
                "Nobody was signed in. Your MitID is fine; please try again",
            ),
        ),
        OutcomeKind::Failed => (
            l.text(
                "Tjenesten kunne ikke gøre login færdigt",
                "The service could not finish the sign-in",
            ),
            l.text(
                "Ingen blev logget på. Det er ikke dit MitID. Prøv igen",
                "Nobody was signed in. It is not your MitID. Try again",
            ),
        ),
    };
    sentences(&[whose, what, next])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_skip_empty_parts_and_double_stops() {
        assert_eq!(
            sentences(&["Tiden løb ud.", "", " Prøv igen "]),
            "Tiden løb ud. Prøv igen"
        );
        assert_eq!(sentences(&["", ""]), "");
        assert_eq!(sentences(&["Glem Ileya?", "Nej"]), "Glem Ileya? Nej");
    }

    #[test]
    fn keys_are_named() {
        assert_eq!(key(Lang::Da, Some(Cap::Char('a')), true), "stort A");
        assert_eq!(key(Lang::En, Some(Cap::Char('7')), true), "7");
        assert_eq!(key(Lang::Da, Some(Cap::Char('-')), false), "bindestreg");
        assert_eq!(key(Lang::Da, Some(Cap::Submit), false), "Fortsæt");
        assert_eq!(key(Lang::En, None, false), "");
    }

    #[test]
    fn too_many_says_how_long_to_wait() {
        assert_eq!(
            outcome(Lang::Da, OutcomeKind::TooMany, 30, false),
            "Problem hos tjenesten. For mange login-forsøg. Der blev ikke sendt noget til din \
             telefon. Vent 30 sekunder, og prøv så igen"
        );
    }
}
