//! mitid-flex-tv: the TV app and its headless commands.

mod cli;

use clap::Parser;
use cli::{Cli, Command, EXIT_CONFIG, RenderCmd};
use mitid_flex_tv::config::Settings;
use mitid_flex_tv::{logging, ui};

fn main() {
    let cli = Cli::parse();
    std::process::exit(run(cli));
}

fn run(cli: Cli) -> i32 {
    // Render needs no config and no broker: it draws sample data.
    if let Some(Command::Render(r)) = &cli.command {
        return render(r);
    }
    let settings = match Settings::load(&cli.common.overrides()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("config: {e}");
            return EXIT_CONFIG;
        }
    };
    if let Err(e) = logging::init(settings.log_level.as_deref()) {
        eprintln!("logging: {e}");
    }
    match &cli.command {
        Some(Command::Signin(args)) => cli::signin::run(&cli.common, args, settings),
        Some(Command::Check) => cli::check::run(&cli.common, settings),
        Some(Command::Render(r)) => render(r),
        None => {
            let opts = ui::RunOptions {
                fullscreen: cli.fullscreen || settings.ui.fullscreen,
                sim_approve_after: cli.common.sim_approve_after,
            };
            match ui::run(settings, opts) {
                Ok(()) => 0,
                Err(ui::UiError::Interrupted) => 130,
                Err(e) => {
                    tracing::error!(error = %e, "the TV app stopped");
                    eprintln!("{e}");
                    1
                }
            }
        }
    }
}

fn render(r: &RenderCmd) -> i32 {
    let args = ui::RenderArgs {
        screen: r.screen.clone(),
        lang: r.lang.clone(),
        out: r.out.clone(),
        width: r.size.0,
        height: r.size.1,
    };
    match ui::render(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("render: {e}");
            EXIT_CONFIG
        }
    }
}
