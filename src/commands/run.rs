//! `plan`, `apply`, `destroy`, `show`, `check` and `sandbox`: the commands that observe the world
//! through a provider. Provider selection (the sandbox with `--sandbox WORLD`, AWS otherwise)
//! happens here, once; the engine and planner never know which one they drive.
//!
//! `apply` and `destroy` print the plan on stdout, then stream their progress (one line per step,
//! stamped with the provider's time — virtual in the sandbox) and the closing summary on stderr;
//! everything else returns an [`Outcome`].

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use miette::{IntoDiagnostic as _, Result, miette};
use serde::{Deserialize, Serialize};

use super::Outcome;
use crate::check;
use crate::cli::{Format, SandboxCommand, Settings, TamperEvent};
use crate::config::{self, Desired};
use crate::engine::{Engine, EngineError, EngineOptions, Event, JournalStore, RunOutcome};
use crate::model::{ActionResult, Secs, Timestamp, ZoneName};
use crate::plan::{self, Mode, Plan, PlanInput};
use crate::provider::sandbox::{self as sb, SandboxProvider, Tamper};
use crate::provider::{Provider, ProviderError};
use crate::render::{Output, PlanOutput, fmt_time};
use crate::state::{Journal, Observed};

/// Every provider the CLI can drive, behind one type (the trait is not object-safe: async fns).
pub enum AnyProvider {
    Sandbox(Box<SandboxProvider>),
    Aws(Box<crate::provider::live::LiveAws>),
}

impl Provider for AnyProvider {
    async fn observe(&self, scope: &crate::state::Scope) -> Result<Observed, ProviderError> {
        match self {
            AnyProvider::Sandbox(p) => p.observe(scope).await,
            AnyProvider::Aws(p) => p.observe(scope).await,
        }
    }
    async fn execute(
        &self,
        req: &crate::model::ActionRequest,
    ) -> Result<ActionResult, ProviderError> {
        match self {
            AnyProvider::Sandbox(p) => p.execute(req).await,
            AnyProvider::Aws(p) => p.execute(req).await,
        }
    }
    fn now(&self) -> Timestamp {
        match self {
            AnyProvider::Sandbox(p) => p.now(),
            AnyProvider::Aws(p) => p.now(),
        }
    }
    async fn wait_until(&self, t: Timestamp) -> Result<(), ProviderError> {
        match self {
            AnyProvider::Sandbox(p) => p.wait_until(t).await,
            AnyProvider::Aws(p) => p.wait_until(t).await,
        }
    }
    fn poll_interval(&self) -> Secs {
        match self {
            AnyProvider::Sandbox(p) => p.poll_interval(),
            AnyProvider::Aws(p) => p.poll_interval(),
        }
    }
}

/// Loads the config, printing its diagnostics the way `validate` does when it is invalid.
pub fn load_desired(settings: &Settings) -> Result<Desired> {
    match config::load(&settings.config) {
        Ok(l) => {
            if !l.warnings.items.is_empty() {
                crate::render::stdio::err(&l.warnings.render_human(settings.color));
            }
            Ok(l.desired)
        }
        Err(e) => {
            crate::render::stdio::err(&e.render(false, settings.color));
            Err(miette!(
                help =
                    "run `dnssec-pilot validate` for the full list, fix the file, then try again",
                "the config `{}` is not valid; nothing was observed or changed",
                settings.config.display()
            ))
        }
    }
}

/// Opens the provider the settings name.
pub fn provider(settings: &Settings) -> Result<AnyProvider> {
    provider_polling(settings, None)
}

/// [`provider`], with the AWS provider re-checking closed gates every `poll_interval` when given
/// (`--poll-interval`; [`AwsOptions::DEFAULT_POLL_INTERVAL`] otherwise). The sandbox ignores it:
/// its world's `change_propagation` is the pace at which anything there can change.
///
/// [`AwsOptions::DEFAULT_POLL_INTERVAL`]: crate::provider::aws::AwsOptions::DEFAULT_POLL_INTERVAL
pub fn provider_polling(settings: &Settings, poll_interval: Option<Secs>) -> Result<AnyProvider> {
    match &settings.sandbox {
        Some(path) => {
            if !path.exists() {
                return Err(miette!(
                    help = format!(
                        "create it first: `dnssec-pilot --sandbox {} -c {} sandbox init`",
                        path.display(),
                        settings.config.display()
                    ),
                    "the sandbox world `{}` does not exist",
                    path.display()
                ));
            }
            Ok(AnyProvider::Sandbox(Box::new(
                SandboxProvider::open(path).into_diagnostic()?,
            )))
        }
        None => {
            let opts = crate::provider::aws::AwsOptions {
                profile: settings.profile.clone(),
                region: settings.region.clone(),
                route53_rate: settings
                    .max_rps
                    .unwrap_or(crate::provider::aws::AwsOptions::DEFAULT_MAX_RPS),
                burst: crate::provider::aws::AwsOptions::burst_for(
                    settings
                        .max_rps
                        .unwrap_or(crate::provider::aws::AwsOptions::DEFAULT_MAX_RPS),
                ),
                poll_interval: poll_interval
                    .unwrap_or(crate::provider::aws::AwsOptions::DEFAULT_POLL_INTERVAL),
                ..Default::default()
            };
            let aws = runtime()?
                .block_on(crate::provider::aws::AwsProvider::from_env(opts))
                .map_err(miette::Report::new)?;
            Ok(AnyProvider::Aws(Box::new(
                crate::provider::live::LiveAws::new(aws),
            )))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .into_diagnostic()
}

/// `--zone` names, validated against the config and the journal.
fn zone_filter(names: &[String], desired: &Desired, journal: &Journal) -> Result<Vec<ZoneName>> {
    let mut out = Vec::new();
    for n in names {
        let z = ZoneName::parse(n).map_err(|e| miette!("`--zone {n}` is not a valid name: {e}"))?;
        let known = desired.zone(&z).is_some()
            || desired.domain(&z).is_some()
            || journal.zones.contains_key(&z)
            || journal.domains.contains_key(&z);
        if !known {
            return Err(miette!(
                help = "`--zone` takes a zone or domain listed in the config (or remembered by the journal)",
                "`{z}` is neither in the config nor in the journal"
            ));
        }
        out.push(z);
    }
    Ok(out)
}

/// A plan saved with `plan -o`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    pub zones_filter: Vec<ZoneName>,
    /// Made with `--fresh-journal`: applying it starts the same zones afresh.
    #[serde(default)]
    pub fresh_journal: bool,
    pub plan: Plan,
}

const SAVED_PLAN_VERSION: u32 = 1;

fn read_journal(settings: &Settings) -> Result<Journal> {
    JournalStore::new(&settings.state)
        .load_or_new()
        .map_err(miette::Report::new)
}

/// Read-only: the journal, one observation, and the plan made from them.
fn observe_and_plan(
    settings: &Settings,
    desired: &Desired,
    zones: &[String],
    mode: Mode,
    fresh_journal: bool,
) -> Result<(Journal, Observed, Plan, Vec<ZoneName>)> {
    let provider = provider(settings)?;
    let mut journal = read_journal(settings)?;
    let only = zone_filter(zones, desired, &journal)?;
    if fresh_journal {
        let scope = desired
            .zones
            .iter()
            .map(|z| &z.name)
            .filter(|n| only.is_empty() || only.contains(n));
        journal.start_afresh(scope, provider.now());
    }
    let observed = runtime()?
        .block_on(provider.observe(&plan::scope(desired, &journal, &only)))
        .map_err(miette::Report::new)?;
    let p = plan::plan(PlanInput {
        desired,
        observed: &observed,
        journal: &journal,
        now: provider.now(),
        mode,
        only: &only,
    });
    Ok((journal, observed, p, only))
}

/// `plan`.
pub fn plan_cmd(settings: &Settings, args: &crate::cli::PlanArgs) -> Result<Outcome> {
    let desired = load_desired(settings)?;
    let mode = if args.destroy {
        Mode::Destroy
    } else {
        Mode::Apply
    };
    let (journal, _, p, only) =
        observe_and_plan(settings, &desired, &args.zones, mode, args.fresh_journal)?;
    let tl = args.timeline.then(|| plan::timeline(&p, &journal));
    let out = PlanOutput {
        plan: &p,
        timeline: tl.as_deref(),
    };
    let mut stderr = String::new();
    if let Some(path) = &args.out {
        let saved = SavedPlan {
            format_version: SAVED_PLAN_VERSION,
            zones_filter: only.clone(),
            fresh_journal: args.fresh_journal,
            plan: p.clone(),
        };
        let text = serde_json::to_string_pretty(&saved).into_diagnostic()?;
        crate::engine::store::write_atomic(path, text.as_bytes()).into_diagnostic()?;
        stderr.push_str(&format!(
            "Saved the {} plan to `{}`; run `{}` to carry it out.\n",
            if args.destroy { "destroy" } else { "apply" },
            path.display(),
            settings.command(&format!(
                "apply {}",
                crate::cli::shell_word(&path.to_string_lossy())
            ))
        ));
    }
    let stdout = match settings.format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&out.json()).into_diagnostic()?
        ),
        _ => out.human(),
    };
    // A zone error (a plan issue a person must decide) is an error of `plan` too, as in
    // Terraform: exit 1, with or without `--detailed-exitcode`.
    let code = if p.has_errors() {
        1
    } else if !args.detailed_exitcode {
        0
    } else if p.has_changes() {
        2
    } else {
        0
    };
    Ok(Outcome {
        stdout,
        stderr,
        code,
    })
}

/// What the operator is asked to approve: every step that runs now, by name; and with `--wait`,
/// that the approval covers every later step as its gates open, until the walk converges or
/// `--max-wait` ends (with the instant it ends).
pub fn approval_prompt(plan: &Plan, verb: &str, wait: Option<Secs>) -> String {
    let ready: Vec<&crate::plan::Step> = plan.ready_steps().collect();
    let mut s = format!("\n{verb} will run {} step(s) now:\n", ready.len());
    for st in &ready {
        s.push_str(&format!("  - {} ({})\n", st.id, st.kind()));
    }
    if let Some(max) = wait {
        let later: usize = plan
            .zones
            .iter()
            .map(|z| z.pending().count())
            .sum::<usize>()
            - ready.len();
        s.push_str(&format!(
            "With `--wait`, approving also lets it run the {later} later step(s) (and any the walk adds) as their gates open, without asking again, until it converges or `--max-wait` {} ends at {}.\n",
            max.human(),
            fmt_time(max.after(plan.created_at))
        ));
    }
    s.push_str(&format!("Do you want to {verb}? Only `yes` is accepted: "));
    s
}

/// Asks the operator on the terminal; refuses when there is none.
fn ask_approval(plan: &Plan, verb: &str, wait: Option<Secs>) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        crate::render::stdio::err(&format!(
            "error: refusing to {verb} without approval: standard input is not a terminal\n  help: review the plan, then pass `--auto-approve`\n"
        ));
        return false;
    }
    crate::render::stdio::err(&approval_prompt(plan, verb, wait));
    let mut line = String::new();
    if stdin.lock().read_line(&mut line).is_err() {
        return false;
    }
    line.trim() == "yes"
}

/// What `apply`/`destroy` share.
pub struct RunArgs<'a> {
    pub mode: Mode,
    pub plan_file: Option<&'a Path>,
    pub auto_approve: bool,
    pub wait: bool,
    pub max_wait: Option<Secs>,
    /// `--poll-interval`: how often the AWS provider re-checks closed observable gates while
    /// waiting (the sandbox keeps its world's `change_propagation`).
    pub poll_interval: Option<Secs>,
    pub zones: &'a [String],
    pub detailed_exitcode: bool,
    /// `--fresh-journal` (see [`EngineOptions::fresh_journal`]).
    pub fresh_journal: bool,
}

/// `apply` and `destroy`: the plan on stdout, progress and the summary on stderr; return the exit code.
pub fn apply_cmd(settings: &Settings, args: RunArgs<'_>) -> Result<u8> {
    let desired = load_desired(settings)?;
    let provider = provider_polling(settings, args.poll_interval)?;
    let store = JournalStore::new(&settings.state);
    let journal = store.load_or_new().map_err(miette::Report::new)?;
    let saved = match args.plan_file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| miette!("cannot read the plan file `{}`: {e}", p.display()))?;
            let s: SavedPlan = serde_json::from_str(&text).map_err(|e| {
                miette!(
                    help = "make one with `dnssec-pilot plan -o FILE`",
                    "`{}` is not a saved plan: {e}",
                    p.display()
                )
            })?;
            if s.format_version != SAVED_PLAN_VERSION {
                return Err(miette!(
                    "`{}` was saved by another dnssec-pilot release (format {})",
                    p.display(),
                    s.format_version
                ));
            }
            Some(s)
        }
        None => None,
    };
    let only = match &saved {
        Some(s) => s.zones_filter.clone(),
        None => zone_filter(args.zones, &desired, &journal)?,
    };
    drop(journal);
    let json = settings.format == Format::Json;
    let verb = if args.mode == Mode::Destroy {
        "destroy"
    } else {
        "apply"
    };
    let engine = Engine {
        provider: &provider,
        desired: &desired,
        store: &store,
        options: EngineOptions {
            mode: args.mode,
            only,
            wait: args.wait,
            max_wait: args.max_wait,
            fresh_journal: args.fresh_journal || saved.as_ref().is_some_and(|s| s.fresh_journal),
        },
        fault: None,
    };
    let mut log: Vec<serde_json::Value> = Vec::new();
    // The plan is data (stdout); progress lines and the closing summary are messages (stderr),
    // so `apply > plan.txt` keeps the plan and a closed stdout never stops the progress.
    let mut on_event = |ev: Event<'_>| {
        let mut out = std::io::stderr().lock();
        match ev {
            Event::Planned { plan, first } => {
                if first && !json {
                    crate::render::stdio::out(&format!(
                        "{}\n",
                        PlanOutput {
                            plan,
                            timeline: None
                        }
                        .human()
                    ));
                }
            }
            Event::Executing { .. } => {}
            Event::Executed { step, at, result } => {
                let what = match result {
                    Ok(r) => {
                        let mut s = "ok".to_string();
                        if let Some(c) = &r.change_id {
                            s.push_str(&format!(" (change {c})"));
                        }
                        if let Some(o) = &r.operation_id {
                            s.push_str(&format!(" (operation {o})"));
                        }
                        s
                    }
                    Err(e) => format!("failed: {e}"),
                };
                if json {
                    log.push(serde_json::json!({
                        "event": "executed", "at": fmt_time(at), "step": step.id, "action": step.kind(),
                        "ok": result.is_ok(), "result": match result { Ok(r) => serde_json::to_value(r).unwrap_or_default(), Err(e) => serde_json::Value::String(e.clone()) },
                    }));
                } else {
                    let _ = writeln!(
                        out,
                        "[{}] {} {} … {what}",
                        fmt_time(at),
                        step.id,
                        step.kind()
                    );
                    if let crate::model::Action::Manual { instruction } = &step.action {
                        let _ = writeln!(out, "    instruction: {instruction}");
                    }
                }
            }
            Event::Reconciled {
                step_id,
                effect_observed,
            } => {
                if json {
                    log.push(serde_json::json!({"event": "reconciled", "step": step_id, "effect_observed": effect_observed}));
                } else {
                    let _ = writeln!(
                        out,
                        "reconciled interrupted step {step_id}: effect {}",
                        if effect_observed {
                            "observed"
                        } else {
                            "not observed; it runs again with the same token"
                        }
                    );
                }
            }
            Event::Waiting {
                from,
                until,
                reason,
            } => {
                if json {
                    log.push(serde_json::json!({"event": "waiting", "from": fmt_time(from), "until": fmt_time(until), "reason": reason}));
                } else {
                    let _ = writeln!(
                        out,
                        "[{}] waiting until {} — {reason}",
                        fmt_time(from),
                        fmt_time(until)
                    );
                }
            }
        }
    };
    let auto = args.auto_approve;
    let wait_scope = args
        .wait
        .then(|| args.max_wait.unwrap_or(crate::engine::DEFAULT_MAX_WAIT));
    let mut approve = |p: &Plan| auto || ask_approval(p, verb, wait_scope);
    let rt = runtime()?;
    let result = match &saved {
        Some(s) => rt.block_on(engine.run_saved(&s.plan, &mut on_event)),
        None => rt.block_on(engine.run(&mut approve, &mut on_event)),
    };
    let outcome = match result {
        Ok(o) => o,
        Err(EngineError::NotApproved) => {
            return Err(miette!(
                help = "nothing was changed",
                "{verb} was not approved"
            ));
        }
        Err(e) => return Err(miette::Report::new(e)),
    };
    let zone_flags: String = args.zones.iter().map(|z| format!(" --zone {z}")).collect();
    let again = settings.command(&format!("{verb}{zone_flags}"));
    let (code, summary) = match &outcome {
        RunOutcome::Converged { at } => (
            0,
            format!("Converged at {}: nothing left to do.", fmt_time(*at)),
        ),
        RunOutcome::Stopped {
            at,
            next_gate,
            reason,
        } => (
            if args.detailed_exitcode { 2 } else { 0 },
            match next_gate {
                Some(t) => format!(
                    "Stopped at {} at a closed gate ({reason}).\nThe next gate opens at {}: run `{again}` again then (or add `--wait`).",
                    fmt_time(*at),
                    fmt_time(*t)
                ),
                None => format!(
                    "Stopped at {} ({reason}).\nRun `{again}` again later (or add `--wait`).",
                    fmt_time(*at)
                ),
            },
        ),
        RunOutcome::NeedsAttention { at, zones } => (
            1,
            format!(
                "Stopped at {}: {} need(s) a person's decision; see the errors above.",
                fmt_time(*at),
                zones
                    .iter()
                    .map(|z| format!("`{z}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    if json {
        let doc = serde_json::json!({
            "format_version": 1,
            "command": verb,
            "outcome": match &outcome { RunOutcome::Converged { .. } => "converged", RunOutcome::Stopped { .. } => "stopped", RunOutcome::NeedsAttention { .. } => "needs_attention" },
            "next_gate": match &outcome { RunOutcome::Stopped { next_gate: Some(t), .. } => serde_json::Value::String(fmt_time(*t)), _ => serde_json::Value::Null },
            "events": log,
            "exit_code": code,
        });
        crate::render::stdio::out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).into_diagnostic()?
        ));
    } else {
        crate::render::stdio::err(&format!("{summary}\n"));
    }
    Ok(code)
}

/// `show`: a saved plan, or the journal.
pub fn show_cmd(settings: &Settings, plan_file: Option<&PathBuf>) -> Result<Outcome> {
    let json = settings.format == Format::Json;
    if let Some(p) = plan_file {
        let text = std::fs::read_to_string(p)
            .map_err(|e| miette!("cannot read `{}`: {e}", p.display()))?;
        let s: SavedPlan = serde_json::from_str(&text)
            .map_err(|e| miette!("`{}` is not a saved plan: {e}", p.display()))?;
        let out = PlanOutput {
            plan: &s.plan,
            timeline: None,
        };
        let stdout = if json {
            format!(
                "{}\n",
                serde_json::to_string_pretty(&out.json()).into_diagnostic()?
            )
        } else {
            out.human()
        };
        return Ok(Outcome {
            stdout,
            ..Outcome::default()
        });
    }
    let store = JournalStore::new(&settings.state);
    let Some(j) = store.load().map_err(miette::Report::new)? else {
        return Err(miette!(
            help = "the journal is written by the first `apply`",
            "there is no journal at `{}`",
            settings.state.display()
        ));
    };
    let stdout = if json {
        format!("{}\n", serde_json::to_string_pretty(&j).into_diagnostic()?)
    } else {
        crate::render::journal_human(&j)
    };
    Ok(Outcome {
        stdout,
        ..Outcome::default()
    })
}

/// `check`.
pub fn check_cmd(settings: &Settings, args: &crate::cli::CheckArgs) -> Result<Outcome> {
    let json = settings.format == Format::Json;
    let desired = match config::load(&settings.config) {
        Ok(l) => l.desired,
        Err(e) => {
            return Ok(Outcome {
                stdout: if json {
                    e.render(true, false)
                } else {
                    String::new()
                },
                stderr: if json {
                    String::new()
                } else {
                    e.render(false, settings.color)
                },
                code: 1,
            });
        }
    };
    let (journal, observed, p, _) =
        observe_and_plan(settings, &desired, &args.zones, Mode::Apply, false)?;
    let report = check::check(&desired, &observed, &journal, &p);
    let code = report.exit_code(args.fail_on == Some(crate::cli::FailOn::Warning));
    let stdout = match settings.format {
        Format::Human => check::report::human(&report, code),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&check::report::json(&report, code)).into_diagnostic()?
        ),
        Format::Github => check::report::github(&report, &settings.config.display().to_string()),
        Format::Junit => check::report::junit(&report),
    };
    Ok(Outcome {
        stdout,
        stderr: String::new(),
        code,
    })
}

/// `sandbox …`.
pub fn sandbox_cmd(settings: &Settings, cmd: &SandboxCommand) -> Result<Outcome> {
    let Some(path) = &settings.sandbox else {
        return Err(miette!(
            help = "e.g. `dnssec-pilot --sandbox /tmp/w.json -c examples/quickstart.yaml sandbox init`",
            "`sandbox` needs `--sandbox WORLD`: the file that holds the simulated world"
        ));
    };
    let json = settings.format == Format::Json;
    let render = |r: &sb::WorldReport| -> Result<String> {
        let mut text = if json {
            format!("{}\n", serde_json::to_string_pretty(r).into_diagnostic()?)
        } else {
            r.render_human()
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    };
    match cmd {
        SandboxCommand::Init { seed, force } => {
            let desired = load_desired(settings)?;
            let r = sb::sandbox_init(&desired, path, *seed, *force).map_err(miette::Report::new)?;
            let stderr = format!(
                "Created the sandbox world `{}` at virtual time {}.\n",
                path.display(),
                fmt_time(r.now)
            );
            Ok(Outcome {
                stdout: render(&r)?,
                stderr,
                code: 0,
            })
        }
        SandboxCommand::Advance { duration } => {
            let r = sb::sandbox_advance(path, *duration).map_err(miette::Report::new)?;
            Ok(Outcome {
                stdout: render(&r)?,
                ..Outcome::default()
            })
        }
        SandboxCommand::Show => {
            let r = sb::sandbox_show(path).map_err(miette::Report::new)?;
            Ok(Outcome {
                stdout: render(&r)?,
                ..Outcome::default()
            })
        }
        SandboxCommand::Tamper { event, zone } => {
            let ev = match event {
                TamperEvent::RemoveDs => Tamper::RemoveDs,
                TamperEvent::DisableSigning => Tamper::DisableSigning,
                TamperEvent::KmsRevoke => Tamper::KmsRevoke,
                TamperEvent::RaiseTtl => Tamper::RaiseTtl,
                TamperEvent::WrongDs => Tamper::WrongDs,
            };
            let msg = sb::sandbox_tamper(path, ev, zone.as_deref()).map_err(miette::Report::new)?;
            Ok(Outcome {
                stdout: String::new(),
                stderr: format!("{msg}\n"),
                code: 0,
            })
        }
    }
}
