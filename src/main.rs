//! The `ecs-pull-doctor` command line: parses the arguments and runs one command (each in its
//! own module under `cli/`), reading files, wiring the library's steps and printing.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::UsageError;
use cli::output::{is_closed_pipe, say, CLOSED_PIPE_STATUS};
use cli::{Cli, Command};

fn main() -> ExitCode {
    // Set but empty means unset, as in the Lambda (a template's empty parameter).
    for name in ["DIAGNOSIS_LANG", "IP_RANGES_FILE"] {
        if std::env::var_os(name).is_some_and(|v| v.is_empty()) {
            std::env::remove_var(name);
        }
    }
    let cli = Cli::parse();
    // An audit's 1 means "blocked", so its own failures exit 2, as usage errors do.
    let (result, failure) = if let Command::Audit { .. } = cli.command {
        (cli::audit::run(cli.command), ExitCode::from(2))
    } else {
        (
            cli::run(cli.command).map(|()| ExitCode::SUCCESS),
            ExitCode::FAILURE,
        )
    };
    match result {
        Ok(code) => code,
        Err(error) if is_closed_pipe(&error) => ExitCode::from(CLOSED_PIPE_STATUS),
        Err(error) => {
            say(&format!("error: {error:#}"));
            if error.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                failure
            }
        }
    }
}
