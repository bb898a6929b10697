//! Entry point: parse arguments, run the command, map the outcome to the exit codes of
//! DESIGN.md §7 (0 success, 1 error, 2 changes/pending where a command says so).

use std::process::ExitCode;

use clap::Parser;
use dnssec_pilot::cli::{Cli, Command, Settings};
use dnssec_pilot::commands::{Outcome, schema, validate};

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

fn run(cli: Cli, settings: &Settings) -> miette::Result<u8> {
    let json = settings.format == dnssec_pilot::cli::Format::Json;
    match cli.command {
        Command::Validate => Ok(emit(validate::run(&settings.config, json, settings.color))),
        Command::Schema(args) => Ok(emit(schema::run(args.kind))),
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

/// Writes a command's outcome (stdout first, then stderr) and returns its exit code.
fn emit(o: Outcome) -> u8 {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(o.stdout.as_bytes());
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(o.stderr.as_bytes());
    let _ = err.flush();
    o.code
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
