//! Entry point: parse arguments, run the command, map the outcome to the exit codes of
//! DESIGN.md §7 (0 success, 1 error, 2 changes/pending where a command says so).

use std::process::ExitCode;

use clap::Parser;
use dnssec_pilot::cli::{Cli, Command, Settings};
use dnssec_pilot::commands::{Outcome, iam, run, schema, validate};
use dnssec_pilot::plan::Mode;
use dnssec_pilot::render::stdio;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    let settings = Settings::from_cli(&cli);
    match run(cli, &settings) {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            stdio::err(&format!("{report:?}\n"));
            ExitCode::from(1)
        }
    }
}

/// `--help` and `--version` print to stdout and exit 0; a usage error (an unknown flag, a bad
/// value, a missing argument) exits 1 as Terraform's do — never 2, which `check` and
/// `--detailed-exitcode` keep for "changes pending", so a typo cannot pass a CI gate.
fn usage(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    use std::io::IsTerminal as _;
    let styled = e.render();
    let to_stdout = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let terminal = if to_stdout {
        std::io::stdout().is_terminal()
    } else {
        std::io::stderr().is_terminal()
    };
    let text = if terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if to_stdout {
        stdio::out(&text);
        ExitCode::SUCCESS
    } else {
        stdio::err(&text);
        ExitCode::from(1)
    }
}

fn run(cli: Cli, settings: &Settings) -> miette::Result<u8> {
    let json = settings.format == dnssec_pilot::cli::Format::Json;
    match cli.command {
        Command::Validate => Ok(emit(validate::run(&settings.config, json, settings.color))),
        Command::Schema(args) => Ok(emit(schema::run(args.kind))),
        Command::Plan(args) => Ok(emit(run::plan_cmd(settings, &args)?)),
        Command::Apply(args) => run::apply_cmd(
            settings,
            run::RunArgs {
                mode: Mode::Apply,
                plan_file: args.plan_file.as_deref(),
                auto_approve: args.auto_approve,
                wait: args.wait.wait,
                max_wait: args.wait.max_wait,
                poll_interval: args.wait.poll_interval,
                zones: &args.zones,
                detailed_exitcode: args.detailed_exitcode,
                fresh_journal: args.fresh_journal,
            },
        ),
        Command::Destroy(args) => run::apply_cmd(
            settings,
            run::RunArgs {
                mode: Mode::Destroy,
                plan_file: None,
                auto_approve: args.auto_approve,
                wait: args.wait.wait,
                max_wait: args.wait.max_wait,
                poll_interval: args.wait.poll_interval,
                zones: &args.zones,
                detailed_exitcode: false,
                fresh_journal: args.fresh_journal,
            },
        ),
        Command::Show(args) => Ok(emit(run::show_cmd(settings, args.plan_file.as_ref())?)),
        Command::Check(args) => Ok(emit(run::check_cmd(settings, &args)?)),
        Command::Sandbox(args) => Ok(emit(run::sandbox_cmd(settings, &args.command)?)),
        Command::IamPolicy(args) => Ok(emit(iam::iam_policy_cmd(settings, &args)?)),
        Command::Probe(args) => {
            let (stdout, code) =
                dnssec_pilot::provider::dns::probe::run_probe_command(&args, settings.format)
                    .map_err(miette::Report::new)?;
            stdio::out(&stdout);
            Ok(code)
        }
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "dnssec-pilot", &mut buf);
            let mut text = String::from_utf8_lossy(&buf).into_owned();
            if args.shell == clap_complete::Shell::Bash {
                // clap_complete 4.6 mangles a hyphenated binary name two ways in bash: the
                // words it assigns (`dnssec__pilot__subcmd__plan`) never match its case labels
                // (`dnssec__subcmd__pilot__subcmd__plan`), so nothing after the subcommand
                // completes. One spelling for both.
                text = text.replace("dnssec__subcmd__pilot", "dnssec__pilot");
            }
            stdio::out(&text);
            Ok(0)
        }
    }
}

/// Writes a command's outcome (stdout first, then stderr) and returns its exit code.
fn emit(o: Outcome) -> u8 {
    stdio::out(&o.stdout);
    stdio::err(&o.stderr);
    o.code
}
