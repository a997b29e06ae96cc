//! `mitid-flex-tv signin`: the UI-less MitID experience for help desks, terminals and SSH.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use mitid_flex_tv::ciba::{CibaClient, Dialect};
use mitid_flex_tv::config::Settings;
use mitid_flex_tv::sanitize::clean;
use mitid_flex_tv::session::{self, Outcome, Update, Who};
use mitid_flex_tv::{handoff, identifier, qr};
use tokio::signal::unix::{SignalKind, signal};

use super::{Common, EXIT_BROKER, EXIT_CONFIG, embedded};

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

struct Lang {
    danish: bool,
}

impl Lang {
    fn pick<'a>(&self, da: &'a str, en: &'a str) -> &'a str {
        if self.danish { da } else { en }
    }
}

pub fn run(common: &Common, args: &SigninArgs, settings: Settings) -> i32 {
    let lang = Lang {
        danish: settings
            .language
            .clone()
            .or_else(|| std::env::var("LANG").ok())
            .is_none_or(|l| l.starts_with("da") || l == "C" || l.starts_with("C.")),
    };
    let who = if args.qr {
        if settings.dialect() != Dialect::Signaturgruppen {
            eprintln!(
                "{}",
                lang.pick(
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
                eprintln!("{}: {e}", lang.pick("Ugyldigt ID", "Invalid identifier"));
                return EXIT_CONFIG;
            }
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio: {e}");
            return EXIT_BROKER;
        }
    };
    let code = rt.block_on(signin(common, args, settings, who, &lang));
    // Do not wait for requests left behind (a hanging start, a DNS lookup): leaving is
    // immediate, and the OP lets them expire.
    rt.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn signin(
    common: &Common,
    args: &SigninArgs,
    settings: Settings,
    who: Who,
    lang: &Lang,
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
    let (issuer, sim) = match embedded::issuer_for(&settings, common.sim_approve_after).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BROKER;
        }
    };
    if let Some(sim) = &sim {
        eprintln!(
            "{} {}",
            lang.pick(
                "Offline simulator. Godkend på den simulerede telefon:",
                "Offline simulator. Approve on the simulated phone:"
            ),
            sim.phone_url()
        );
    }
    let client = match CibaClient::new(settings.client_config(&issuer)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_CONFIG;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = session::spawn(
        Arc::new(client),
        who,
        settings.session_settings(&issuer),
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
                    deadline = Some(w.deadline);
                    print_waiting(&w, lang);
                }
                Some(Update::Connection { ok }) => eprintln!("\r{}", if ok {
                    lang.pick("Forbindelsen er tilbage.", "Connection restored.")
                } else {
                    lang.pick("Ingen forbindelse til MitID-broker – prøver igen …", "No connection to the MitID broker - retrying …")
                }),
                Some(Update::Finished(o)) => break o,
                Some(Update::Starting) => {}
                None => break Outcome::Failed { detail: "session ended without an outcome".into() },
            },
            _ = tick.tick(), if tty && deadline.is_some() => {
                if let Some(d) = deadline {
                    let left = d.saturating_duration_since(tokio::time::Instant::now()).as_secs();
                    eprint!("\r  {} {}:{:02} ", lang.pick("Tid tilbage", "Time left"), left / 60, left % 60);
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
    let identity = session::identity_json(&profile, &reference_text, SystemTime::now());
    if args.json {
        println!(
            "{}",
            mitid_flex_tv::sanitize::json_for_terminal(&identity.to_string())
        );
    } else {
        // Claims come from the OP: sanitized for the terminal (the JSON form is escaped).
        let s = |k: &str| clean(identity[k].as_str().unwrap_or("-"));
        println!(
            "name: {}\nuuid: {}\ndate_of_birth: {}\nage: {}\nsub: {}\nissuer: {}",
            s("name"),
            s("uuid"),
            s("date_of_birth"),
            identity["age"],
            s("sub"),
            s("issuer")
        );
    }
    if let Err(e) = handoff::deliver(&settings.handoff, &identity).await {
        tracing::error!(error = %e, "hand-off failed");
        eprintln!(
            "{}: {e}",
            lang.pick(
                "Logget ind, men overdragelsen fejlede",
                "Signed in, but the hand-off failed"
            )
        );
        return EXIT_BROKER;
    }
    drop(sim);
    0
}

fn print_waiting(w: &session::Waiting, lang: &Lang) {
    let mins = w.expires_in.as_secs() / 60;
    if let Some(uri) = &w.authentication_uri {
        eprintln!(
            "{}",
            lang.pick(
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
            lang.pick(
                "Godkend i MitID-appen. Tjek at den viser:",
                "Approve in the MitID app. Check that it shows:"
            ),
            w.reference_text
        );
    }
    eprintln!(
        "{} {mins} min.",
        lang.pick("Anmodningen udløber om", "The request expires in")
    );
}

fn report(outcome: &Outcome, lang: &Lang) -> i32 {
    let text = match outcome {
        Outcome::SignedIn(_) => lang
            .pick("Du er logget ind.", "You are signed in.")
            .to_string(),
        Outcome::Rejected => lang
            .pick("Afvist i MitID-appen.", "Rejected in the MitID app.")
            .to_string(),
        Outcome::Expired => lang
            .pick("Tiden løb ud. Start igen.", "Time ran out. Start again.")
            .to_string(),
        Outcome::UnknownUser => lang
            .pick(
                "MitID kender ikke denne bruger.",
                "MitID does not know this user.",
            )
            .to_string(),
        Outcome::StartAgain => lang
            .pick(
                "Svaret gik tabt. Start igen.",
                "The answer was lost. Start again.",
            )
            .to_string(),
        Outcome::Cancelled => lang.pick("Annulleret.", "Cancelled.").to_string(),
        Outcome::NoConnection { detail } => format!(
            "{} ({detail})",
            lang.pick(
                "Ingen forbindelse til MitID-broker.",
                "No connection to the MitID broker."
            )
        ),
        Outcome::ConfigRefused { detail } => format!(
            "{} ({detail})",
            lang.pick(
                "Brokeren afviste konfigurationen.",
                "The broker refused the configuration."
            )
        ),
        Outcome::TokenRejected { detail } => format!(
            "{} ({detail})",
            lang.pick(
                "ID-token afvist; ingen er logget ind.",
                "ID token rejected; nobody is signed in."
            )
        ),
        Outcome::MitIdError { status } => format!(
            "{} {status}.",
            lang.pick(
                "MitID stoppede login med kode",
                "MitID stopped the sign-in with code"
            )
        ),
        Outcome::Failed { detail } => format!(
            "{} ({detail})",
            lang.pick("Login mislykkedes.", "Sign-in failed.")
        ),
    };
    eprintln!("{}", clean(&text));
    outcome.exit_code()
}
