//! Entry point: parse arguments, run the command, map the outcome to the exit codes of
//! DESIGN.md §7 (0 success, 1 error, 2 changes/pending where a command says so).

use std::process::ExitCode;

use clap::Parser;
use dnssec_pilot::cli::{Cli, Command, Settings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = Settings::from_cli(&cli);
    match run(cli, &settings) {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli, _settings: &Settings) -> miette::Result<u8> {
    match cli.command {
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "dnssec-pilot", &mut std::io::stdout());
            Ok(0)
        }
        other => Err(miette::miette!(
            help = "this command arrives with a later release; `validate` works today",
            "`{}` is not available yet",
            command_name(&other)
        )),
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Validate => "validate",
        Command::Plan(_) => "plan",
        Command::Apply(_) => "apply",
        Command::Destroy(_) => "destroy",
        Command::Check(_) => "check",
        Command::Show(_) => "show",
        Command::Probe(_) => "probe",
        Command::Schema(_) => "schema",
        Command::IamPolicy(_) => "iam-policy",
        Command::Sandbox(_) => "sandbox",
        Command::Completions(_) => "completions",
    }
}
