//! mitid-flex-tv: the TV app and its headless commands.

mod cli;

use std::time::Duration;

use clap::Parser;
use cli::{Cli, Command, EXIT_CONFIG};
use mitid_flex_tv::logging;
use mitid_flex_tv::wiring::{self, tv};

fn main() {
    let cli = Cli::parse();
    // Before any thread exists (it sets an environment variable); the TV window only.
    #[cfg(feature = "desktop")]
    if cli.command.is_none() {
        mitid_flex_tv::ui::compose::skip_compose_table();
    }
    std::process::exit(run(cli));
}

fn run(cli: Cli) -> i32 {
    // Render needs no config and no broker: it draws sample data.
    #[cfg(feature = "render")]
    if let Some(Command::Render(r)) = &cli.command {
        return render(r);
    }
    let loaded = wiring::load(&cli.common.overrides());
    let log_level = loaded.as_ref().ok().and_then(|s| s.log_level.clone());
    if let Err(e) = logging::init(log_level.as_deref()) {
        eprintln!("logging: {e}");
    }
    let settings = match (&cli.command, loaded) {
        (_, Ok(s)) => s,
        // The TV app shows a broken config on screen and stays up: a kiosk never goes dark.
        (None, Err(problem)) => return tv_app(&cli, Err(problem)),
        (Some(_), Err(problem)) => {
            eprintln!("{problem}");
            return EXIT_CONFIG;
        }
    };
    match &cli.command {
        Some(Command::Signin(args)) => cli::signin::run(&cli.common, args, settings),
        Some(Command::Check) => cli::check::run(&cli.common, settings),
        #[cfg(feature = "render")]
        Some(Command::Render(r)) => render(r),
        None => tv_app(&cli, Ok(settings)),
    }
}

fn tv_app(
    cli: &Cli,
    loaded: Result<mitid_flex_tv::config::Settings, wiring::ConfigProblem>,
) -> i32 {
    let opts = tv::TvOptions {
        fullscreen: cli.fullscreen,
        sim_approve_after: cli.common.sim_approve_after.map(Duration::from_secs),
    };
    match tv::run(loaded, opts) {
        Ok(()) => 0,
        Err(mitid_flex_tv::ui::UiError::Interrupted) => {
            cli::exit_code(&mitid_flex_tv::session::Outcome::Cancelled)
        }
        Err(e) => {
            tracing::error!(error = %e, "the TV app stopped");
            eprintln!("{e}");
            1
        }
    }
}

/// `render` is a developer's tool (screenshots for review, docs); the kiosk is built without
/// it, which keeps the PNG and JPEG encoders out of its binary.
#[cfg(feature = "render")]
fn render(r: &cli::RenderCmd) -> i32 {
    let args = mitid_flex_tv::ui::RenderArgs {
        screen: r.screen.clone(),
        lang: r.lang.clone(),
        out: r.out.clone(),
        width: r.size.0,
        height: r.size.1,
    };
    match mitid_flex_tv::ui::render(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("render: {e}");
            EXIT_CONFIG
        }
    }
}
