//! `mitid-flex-tv signin`: the UI-less MitID experience for help desks, terminals and SSH.

use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime};

use clap::Args;
use mitid_flex_tv::ciba::Dialect;
use mitid_flex_tv::config::Settings;
use mitid_flex_tv::handoff::{self, Identity};
use mitid_flex_tv::lang::Lang;
use mitid_flex_tv::sanitize::clean;
use mitid_flex_tv::session::{self, Outcome, Update, Who};
use mitid_flex_tv::ui::present;
use mitid_flex_tv::{identifier, qr, wiring};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use super::{Common, EXIT_BROKER, EXIT_CONFIG};

#[derive(Args, Debug)]
pub struct SigninArgs {
    /// The viewer: a user ID, a MitID uuid or a CPR number (DDMMÅÅ-XXXX), per --kind.
    #[arg(long, required_unless_present = "qr")]
    pub identifier: Option<String>,
    /// Print exactly one JSON object with the identity on stdout.
    #[arg(long)]
    pub json: bool,
    /// Sign in with a QR code (CIBA + PAR) printed in the terminal instead of an identifier.
    #[arg(long, conflicts_with = "identifier")]
    pub qr: bool,
}

pub fn run(common: &Common, args: &SigninArgs, settings: Settings) -> i32 {
    let lang = wiring::language(&settings);
    let who = if args.qr {
        if settings.dialect() != Dialect::Signaturgruppen {
            eprintln!(
                "{}",
                lang.text(
                    "QR-login kræver en Signaturgruppen-profil.",
                    "QR sign-in needs a Signaturgruppen profile."
                )
            );
            return EXIT_CONFIG;
        }
        Who::Qr
    } else {
        match identifier::parse(
            settings.kind,
            args.identifier.as_deref().unwrap_or_default(),
        ) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("{}: {e}", lang.text("Ugyldigt ID", "Invalid identifier"));
                return EXIT_CONFIG;
            }
        }
    };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let code = rt.block_on(signin(common, args, settings, who, lang));
    // Do not wait for requests left behind (a hanging start, a DNS lookup): leaving is
    // immediate, and the OP lets them expire.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn signin(
    common: &Common,
    args: &SigninArgs,
    settings: Settings,
    who: Who,
    lang: Lang,
) -> i32 {
    // Before anything is sent, so that SIGINT/SIGTERM always end in a cancelled request
    // and exit 130, never in the default action.
    let (mut sigint, mut sigterm) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        _ => return EXIT_BROKER,
    };
    // Starting the embedded simulator and resolving the OP's name may hang: leave at once.
    let wired = tokio::select! {
        w = super::connect(common, &settings) => match w {
            Ok(w) => w,
            Err(code) => return code,
        },
        _ = sigint.recv() => return super::exit_code(&Outcome::Cancelled),
        _ = sigterm.recv() => return super::exit_code(&Outcome::Cancelled),
    };
    if let Some(phone) = wired.phone_url() {
        eprintln!(
            "{} {phone}",
            lang.text(
                "Offline simulator. Godkend på den simulerede telefon:",
                "Offline simulator. Approve on the simulated phone:"
            ),
        );
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = session::spawn(
        wired.backend.clone(),
        who,
        wired.session.clone(),
        move |u| {
            let _ = tx.send(u);
        },
    );
    let tty = std::io::stderr().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut deadline = None;
    let mut reference_text = String::new();
    let outcome = loop {
        tokio::select! {
            u = rx.recv() => match u {
                Some(Update::Waiting(w)) => {
                    reference_text = w.reference_text.clone();
                    deadline = Some(Instant::now() + w.left);
                    print_waiting(&w, lang);
                }
                Some(Update::Connection { ok }) => eprintln!("\r{}", if ok {
                    lang.text("Forbindelsen er tilbage.", "Connection restored.")
                } else {
                    lang.text("Ingen forbindelse til MitID-broker – prøver igen …", "No connection to the MitID broker - retrying …")
                }),
                Some(Update::Finished(o)) => break o,
                Some(Update::Starting) => {}
                None => break Outcome::Failed { detail: "session ended without an outcome".into() },
            },
            _ = tick.tick(), if tty && deadline.is_some() => {
                if let Some(d) = deadline {
                    let left = present::mm_ss(d.saturating_duration_since(Instant::now()));
                    eprint!("\r  {} {left} ", lang.text("Tid tilbage", "Time left"));
                    let _ = std::io::stderr().flush();
                }
            }
            _ = sigint.recv() => handle.cancel(),
            _ = sigterm.recv() => handle.cancel(),
        }
    };
    if tty && deadline.is_some() {
        eprintln!();
    }
    let code = report(&outcome, lang);
    let Outcome::SignedIn(profile) = outcome else {
        return code;
    };
    let identity = Identity::new(&profile, &reference_text, SystemTime::now());
    if args.json {
        println!(
            "{}",
            mitid_flex_tv::sanitize::json_for_terminal(&identity.to_json_line())
        );
    } else {
        // Claims come from the OP: sanitized for the terminal (the JSON form is escaped).
        let p = &identity.profile;
        let s = |v: &Option<String>| clean(v.as_deref().unwrap_or("-"));
        println!(
            "name: {}\nuuid: {}\ndate_of_birth: {}\nage: {}\nsub: {}\nissuer: {}",
            s(&p.name),
            s(&p.uuid),
            s(&p.date_of_birth),
            s(&p.age.map(|a| a.to_string())),
            clean(&p.sub),
            clean(&p.issuer)
        );
    }
    if let Err(e) = handoff::deliver(&settings.handoff, &identity).await {
        tracing::error!(error = %e, "hand-off failed");
        eprintln!(
            "{}: {e}",
            lang.text(
                "Logget ind, men overdragelsen fejlede",
                "Signed in, but the hand-off failed"
            )
        );
        return EXIT_BROKER;
    }
    drop(wired);
    0
}

fn print_waiting(w: &session::Waiting, lang: Lang) {
    let mins = w.expires_in.as_secs() / 60;
    if let Some(uri) = &w.authentication_uri {
        eprintln!(
            "{}",
            lang.text(
                "Scan QR-koden med din telefon og log på med MitID:",
                "Scan the QR code with your phone and sign in with MitID:"
            )
        );
        match qr::matrix(uri) {
            Ok(m) => eprintln!("{}", qr::to_terminal(&m)),
            Err(e) => eprintln!("(QR: {e})"),
        }
        eprintln!("{}", clean(uri));
    } else {
        eprintln!(
            "{}\n\n    {}\n",
            lang.text(
                "Godkend i MitID-appen. Tjek at den viser:",
                "Approve in the MitID app. Check that it shows:"
            ),
            w.reference_text
        );
    }
    eprintln!(
        "{} {mins} min.",
        lang.text("Anmodningen udløber om", "The request expires in")
    );
}

fn report(outcome: &Outcome, lang: Lang) -> i32 {
    let text = match outcome {
        Outcome::SignedIn(_) => lang
            .text("Du er logget ind.", "You are signed in.")
            .to_string(),
        Outcome::Rejected => lang
            .text("Afvist i MitID-appen.", "Rejected in the MitID app.")
            .to_string(),
        Outcome::Expired => lang
            .text("Tiden løb ud. Start igen.", "Time ran out. Start again.")
            .to_string(),
        Outcome::UnknownUser => lang
            .text(
                "MitID kender ikke denne bruger.",
                "MitID does not know this user.",
            )
            .to_string(),
        Outcome::StartAgain => lang
            .text(
                "Svaret gik tabt. Start igen.",
                "The answer was lost. Start again.",
            )
            .to_string(),
        Outcome::Cancelled => lang.text("Annulleret.", "Cancelled.").to_string(),
        Outcome::RateLimited { wait_secs } => format!(
            "{} {wait_secs} s.",
            lang.text(
                "For mange login-forsøg. Prøv igen om",
                "Too many sign-in attempts. Try again in"
            )
        ),
        Outcome::NoConnection { detail } => format!(
            "{} ({detail})",
            lang.text(
                "Ingen forbindelse til MitID-broker.",
                "No connection to the MitID broker."
            )
        ),
        Outcome::ConfigRefused { detail } => format!(
            "{} ({detail})",
            lang.text(
                "Brokeren afviste konfigurationen.",
                "The broker refused the configuration."
            )
        ),
        Outcome::TokenRejected { detail } => format!(
            "{} ({detail})",
            lang.text(
                "ID-token afvist; ingen er logget ind.",
                "ID token rejected; nobody is signed in."
            )
        ),
        Outcome::MitIdError { status } => format!(
            "{} {status}.",
            lang.text(
                "MitID stoppede login med kode",
                "MitID stopped the sign-in with code"
            )
        ),
        Outcome::Failed { detail } => format!(
            "{} ({detail})",
            lang.text("Login mislykkedes.", "Sign-in failed.")
        ),
    };
    eprintln!("{}", clean(&text));
    super::exit_code(outcome)
}
