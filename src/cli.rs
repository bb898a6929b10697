//! Command-line definitions (clap derive) — the raw arguments of DESIGN.md §7 — and their turning
//! into validated [`Settings`] once, before any command runs.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::Secs;

const AFTER_HELP: &str = "\
Examples:
  dnssec-pilot validate -c dnssec.yaml
  dnssec-pilot --sandbox /tmp/w.json -c examples/quickstart.yaml sandbox init
  dnssec-pilot --sandbox /tmp/w.json -c examples/quickstart.yaml apply --auto-approve --wait";

/// Take Route 53 domains onto DNSSEC, and off it again, without ever making them unresolvable.
#[derive(Debug, Parser)]
#[command(name = "dnssec-pilot", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Desired-state file.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        value_name = "FILE",
        default_value = "dnssec.yaml"
    )]
    pub config: PathBuf,
    /// Journal (state) file [default: dnssec-pilot.state.json beside the config].
    #[arg(long, global = true, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Use the sandbox world in FILE instead of AWS and the live DNS.
    #[arg(long, global = true, value_name = "WORLD")]
    pub sandbox: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Never colour the output (NO_COLOR is respected too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// AWS profile (credentials and configuration).
    #[arg(long, global = true, value_name = "P")]
    pub profile: Option<String>,
    /// AWS region for calls that are not pinned to us-east-1.
    #[arg(long, global = true, value_name = "R")]
    pub region: Option<String>,
    /// Route 53 requests per second for the whole run [default: 10, Route 53's per-account rate].
    /// Lower it when other tools share the account; throttling answers slow it down further.
    #[arg(long, global = true, value_name = "N", env = "DNSSEC_PILOT_MAX_RPS", value_parser = parse_rps)]
    pub max_rps: Option<f64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// GitHub Actions workflow commands (`check` only).
    Github,
    /// JUnit XML (`check` only).
    Junit,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check the YAML; exit 0 when valid, 1 when not.
    #[command(after_help = "Example:\n  dnssec-pilot validate -c dnssec.yaml --format json")]
    Validate,
    /// Show the ordered, safety-gated steps that would bring reality to the desired state.
    #[command(
        after_help = "Examples:\n  dnssec-pilot plan\n  dnssec-pilot plan --destroy --zone example.com -o destroy.plan\n  dnssec-pilot plan --timeline"
    )]
    Plan(PlanArgs),
    /// Run every step whose gates are open, in order; stop at the first closed gate.
    #[command(
        after_help = "Examples:\n  dnssec-pilot apply\n  dnssec-pilot apply --auto-approve --wait --max-wait 3d\n  dnssec-pilot apply saved.plan"
    )]
    Apply(ApplyArgs),
    /// Take zones off DNSSEC safely: DS out first, wait, only then stop signing.
    #[command(
        after_help = "Example:\n  dnssec-pilot destroy --zone example.com --auto-approve --wait"
    )]
    Destroy(DestroyArgs),
    /// For CI: validate, observe, report drift, pending steps and chain-of-trust health.
    #[command(
        after_help = "Exit codes: 0 healthy and in sync, 2 drift or pending steps, 1 error.\nExample:\n  dnssec-pilot check --format github"
    )]
    Check(CheckArgs),
    /// Show a saved plan, or the journal.
    #[command(
        after_help = "Examples:\n  dnssec-pilot show\n  dnssec-pilot show saved.plan --format json"
    )]
    Show(ShowArgs),
    /// Read-only chain-of-trust view of one zone, server by server.
    #[command(
        after_help = "Example:\n  dnssec-pilot probe example.com --parent-server 127.0.0.1:5301"
    )]
    Probe(ProbeArgs),
    /// Print a JSON Schema (config, plan, world or check).
    #[command(after_help = "Example:\n  dnssec-pilot schema config > dnssec.schema.json")]
    Schema(SchemaArgs),
    /// Print a least-privilege IAM policy for the zones in the config.
    #[command(
        name = "iam-policy",
        after_help = "Example:\n  dnssec-pilot iam-policy --read-only"
    )]
    IamPolicy(IamPolicyArgs),
    /// The embedded sandbox world and its virtual clock.
    #[command(
        after_help = "Examples:\n  dnssec-pilot --sandbox w.json sandbox init\n  dnssec-pilot --sandbox w.json sandbox advance 1d\n  dnssec-pilot --sandbox w.json sandbox tamper remove-ds --zone example.com"
    )]
    Sandbox(SandboxArgs),
    /// Print shell completions.
    #[command(
        after_help = "Example:\n  dnssec-pilot completions bash > /etc/bash_completion.d/dnssec-pilot"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan (with a fingerprint of what it observed) to FILE.
    #[arg(short = 'o', long = "out", value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Plan the safe way off DNSSEC instead.
    #[arg(long)]
    pub destroy: bool,
    /// Only these zones or domains (repeatable).
    #[arg(long = "zone", value_name = "NAME")]
    pub zones: Vec<String>,
    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// List the earliest time each remaining step can run.
    #[arg(long)]
    pub timeline: bool,
    /// Plan zones the journal holds nothing for, although they show DNSSEC work (a lost
    /// journal, or a zone set up by hand), with every unknown assumed at its worst, instead of
    /// refusing them (PLAN017).
    #[arg(long)]
    pub fresh_journal: bool,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Keep going through closed gates, sleeping (or, in the sandbox, advancing time) until they open.
    #[arg(long)]
    pub wait: bool,
    /// Stop waiting after this long (e.g. `3d`).
    #[arg(long, value_name = "DUR", requires = "wait")]
    pub max_wait: Option<Secs>,
    /// While waiting against AWS, re-check the closed observable gates (APIs and live DNS) this
    /// often [default: 15s]. The sandbox re-checks every `change_propagation` of its world.
    #[arg(long, value_name = "DUR", requires = "wait", value_parser = parse_poll_interval)]
    pub poll_interval: Option<Secs>,
}

/// `--poll-interval`: a duration of at least one second.
fn parse_poll_interval(text: &str) -> Result<Secs, String> {
    let d: Secs = text.parse().map_err(|e| format!("{e}"))?;
    if d.0 == 0 {
        return Err(
            "a poll interval of 0 would re-check without pause; use at least `1s`".to_string(),
        );
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan -o`; refused when stale.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for approval.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Only these zones or domains (repeatable).
    #[arg(long = "zone", value_name = "NAME")]
    pub zones: Vec<String>,
    /// Exit 0 when converged, 2 when stopped at a closed gate, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan zones the journal holds nothing for, although they show DNSSEC work (a lost
    /// journal, or a zone set up by hand), with every unknown assumed at its worst, instead of
    /// refusing them (PLAN017).
    #[arg(long)]
    pub fresh_journal: bool,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Do not ask for approval.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Only these zones or domains (repeatable).
    #[arg(long = "zone", value_name = "NAME")]
    pub zones: Vec<String>,
    /// Plan zones the journal holds nothing for, although they show DNSSEC work (a lost
    /// journal, or a zone set up by hand), with every unknown assumed at its worst, instead of
    /// refusing them (PLAN017).
    #[arg(long)]
    pub fresh_journal: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also fail (exit 1) on warnings.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Only these zones or domains (repeatable).
    #[arg(long = "zone", value_name = "NAME")]
    pub zones: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Warning,
    Error,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan; without it, the journal.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The zone to probe.
    pub zone: String,
    /// Query this parent server instead of discovering them (repeatable, `ADDR[:PORT]`).
    #[arg(long = "parent-server", value_name = "ADDR")]
    pub parent_servers: Vec<String>,
    /// Query this zone server instead of discovering them (repeatable, `ADDR[:PORT]`).
    #[arg(long = "zone-server", value_name = "ADDR")]
    pub zone_servers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(value_enum, default_value_t = SchemaKind::Config)]
    pub kind: SchemaKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Config,
    Plan,
    World,
    Check,
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Only the permissions `check` and `plan` need.
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Create the world from the config: every zone unsigned, with realistic records and a parent.
    Init {
        /// Seed for the simulated resolvers.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Replace an existing world file.
        #[arg(long)]
        force: bool,
    },
    /// Move the virtual clock forward (e.g. `1d`, `90m`).
    Advance {
        #[arg(value_name = "DUR")]
        duration: Secs,
    },
    /// Show the world: virtual now, zones, KSKs, DS, TTLs, bogus answers.
    Show,
    /// Inject a fault or drift an operator could cause by hand.
    Tamper {
        #[arg(value_enum)]
        event: TamperEvent,
        /// The zone or domain to tamper with [default: the first in the world].
        #[arg(long, value_name = "NAME")]
        zone: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TamperEvent {
    /// Delete the DS from the parent by hand.
    RemoveDs,
    /// Disable signing by hand (with the DS still published: an outage).
    DisableSigning,
    /// Revoke the KMS key's grant: the KSK goes ACTION_NEEDED.
    KmsRevoke,
    /// Raise a record's TTL above the cap by hand.
    RaiseTtl,
    /// Publish a DS that matches no key.
    WrongDs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Global settings, validated once.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: PathBuf,
    pub state: PathBuf,
    pub sandbox: Option<PathBuf>,
    pub format: Format,
    pub color: bool,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// `--max-rps` (or `DNSSEC_PILOT_MAX_RPS`): Route 53 requests per second.
    pub max_rps: Option<f64>,
    /// The global flags the user gave that a hint must repeat (`--sandbox W -c FILE …`).
    pub repeat_flags: String,
}

/// `--max-rps`: a request rate in (0, 1000] per second.
fn parse_rps(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of requests per second"))?;
    if v.is_finite() && v > 0.0 && v <= 1000.0 {
        Ok(v)
    } else {
        Err(format!(
            "`{s}` is out of range: give a rate above 0 and at most 1000 requests per second"
        ))
    }
}

/// `s` as one shell word: bare when it is plain, else in single quotes.
pub(crate) fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Settings {
    /// A command line to suggest in a hint: `dnssec-pilot`, the global flags the user gave
    /// (sandbox, config, state, profile, region), then `rest` — so that following the hint acts
    /// on the same world, config and journal.
    pub fn command(&self, rest: &str) -> String {
        format!("dnssec-pilot{} {rest}", self.repeat_flags)
    }

    /// Turns raw global arguments into settings: the state file defaults to
    /// `dnssec-pilot.state.json` beside the config; colour is off with `--no-color`, `NO_COLOR`
    /// or a non-terminal stderr.
    pub fn from_cli(cli: &Cli) -> Settings {
        let state = cli.state.clone().unwrap_or_else(|| {
            let dir = cli.config.parent().unwrap_or_else(|| Path::new(""));
            dir.join("dnssec-pilot.state.json")
        });
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let mut repeat_flags = String::new();
        let mut flag = |name: &str, value: &str| {
            repeat_flags.push_str(&format!(" {name} {}", shell_word(value)));
        };
        if let Some(w) = &cli.sandbox {
            flag("--sandbox", &w.to_string_lossy());
        }
        if cli.config != Path::new("dnssec.yaml") {
            flag("-c", &cli.config.to_string_lossy());
        }
        if let Some(s) = &cli.state {
            flag("--state", &s.to_string_lossy());
        }
        if let Some(p) = &cli.profile {
            flag("--profile", p);
        }
        if let Some(r) = &cli.region {
            flag("--region", r);
        }
        if let Some(rps) = cli.max_rps {
            flag("--max-rps", &rps.to_string());
        }
        Settings {
            config: cli.config.clone(),
            state,
            sandbox: cli.sandbox.clone(),
            format: cli.format,
            color: !cli.no_color && !no_color_env && tty,
            profile: cli.profile.clone(),
            region: cli.region.clone(),
            max_rps: cli.max_rps,
            repeat_flags,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Format as ValueEnum>::from_str(s, true)
    }
}
