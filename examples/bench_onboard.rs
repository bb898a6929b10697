//! Benchmark: the simulated onboarding (then destroy) of `examples/quickstart.yaml` in the sandbox,
//! driven by the real engine with `apply --auto-approve --wait` semantics. Prints, per direction:
//!
//! - the **minimum safe time**: from the first plan's `plan::timeline` (every gate opening at
//!   the earliest its rule allows), step by step with the rule that decided each instant;
//! - the **simulated duration** the engine took, and the rule-by-rule breakdown of its waits
//!   (the engine's `Event::Waiting`, grouped by the gate that held them: time gates are slept
//!   through in one jump, observable gates are polled at the provider's interval);
//! - the **difference**, which must not exceed one polling interval per observable wait (an
//!   observable condition — a change INSYNC, the DS at every parent server — becomes true up to
//!   one poll before the engine sees it, and the time gates after it count from when it was seen);
//! - the **wall time** of the whole simulated run, journal writes (fsync'd) included (target < 1 s).
//!
//! Run: `cargo run --release --example bench_onboard [-- CONFIG.yaml]`. Exits 1 when a check fails
//! (difference above its bound, a bogus answer, no convergence).

use std::path::PathBuf;
use std::time::Instant;

use dnssec_pilot::config;
use dnssec_pilot::engine::{Engine, EngineOptions, Event, JournalStore, RunOutcome};
use dnssec_pilot::model::{Secs, Timestamp};
use dnssec_pilot::plan::{self, GateKind, Mode, Plan, PlanInput, StepStatus};
use dnssec_pilot::provider::Provider;
use dnssec_pilot::provider::sandbox::{SandboxProvider, default_start, init_world};

type BoxError = Box<dyn std::error::Error>;

fn t(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `3d 4h 5m 6s`, or `0s`.
fn dur(s: Secs) -> String {
    let mut v = s.0;
    let mut parts = Vec::new();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if v >= n {
            parts.push(format!("{}{unit}", v / n));
            v %= n;
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

/// One stretch of waiting held by one gate.
struct WaitSegment {
    from: Timestamp,
    until: Timestamp,
    polls: usize,
    step: String,
    kind: Option<GateKind>,
    rule: String,
}

/// What holds `plan` (the first pending step of each zone and its holding gate).
fn holder(plan: &Plan) -> (String, Option<GateKind>, String) {
    let mut steps = Vec::new();
    let mut kinds = Vec::new();
    let mut rules = Vec::new();
    for z in &plan.zones {
        if let Some(s) = z.pending().next() {
            steps.push(s.id.clone());
            match s.holding_gate() {
                Some(g) => {
                    kinds.push(g.kind);
                    rules.push(g.rule.to_string());
                }
                None => rules.push("the previous step".into()),
            }
        }
    }
    // With several zones, a wait is observable when any of them polls.
    let kind = if kinds.contains(&GateKind::Observable) {
        Some(GateKind::Observable)
    } else {
        kinds.first().copied()
    };
    (steps.join(", "), kind, rules.join(", "))
}

struct Report {
    ok: bool,
}

async fn run_direction(
    provider: &SandboxProvider,
    desired: &config::Desired,
    store: &JournalStore,
    mode: Mode,
    report: &mut Report,
) -> Result<f64, BoxError> {
    let label = match mode {
        Mode::Apply => "onboarding (apply --auto-approve --wait)",
        Mode::Destroy => "destroy (destroy --auto-approve --wait)",
    };
    let poll = provider.poll_interval();
    let start = provider.now();

    // The minimum safe time, from the plan the engine is about to make.
    let journal = store.load_or_new()?;
    let observed = provider
        .observe(&dnssec_pilot::plan::scope(desired, &journal, &[]))
        .await?;
    let first = plan::plan(PlanInput {
        desired,
        observed: &observed,
        journal: &journal,
        now: start,
        mode,
        only: &[],
    });
    let timeline = plan::timeline(&first, &journal);
    let min_end = timeline.iter().map(|e| e.earliest).max().unwrap_or(start);
    let min_total = Secs::between(start, min_end);

    // The engine run, collecting its events.
    let mut reached: Vec<(String, Timestamp)> = Vec::new();
    let mut segments: Vec<WaitSegment> = Vec::new();
    let mut last_plan: Option<Plan> = None;
    let mut executed = 0usize;
    let mut failed = Vec::new();
    let wall = Instant::now();
    let engine = Engine {
        provider,
        desired,
        store,
        options: EngineOptions {
            mode,
            only: vec![],
            wait: true,
            max_wait: None,
            fresh_journal: false,
        },
        fault: None,
    };
    let outcome = engine
        .run(&mut |_| true, &mut |ev| match ev {
            Event::Planned { plan, .. } => {
                for s in plan.zones.iter().flat_map(|z| z.steps.iter()) {
                    if s.status != StepStatus::Blocked && !reached.iter().any(|(id, _)| id == &s.id)
                    {
                        reached.push((s.id.clone(), plan.created_at));
                    }
                }
                last_plan = Some(plan.clone());
            }
            Event::Executed { step, result, .. } => {
                executed += 1;
                if let Err(e) = result {
                    failed.push(format!("{}: {e}", step.id));
                }
            }
            Event::Waiting { from, until, .. } => {
                let (step, kind, rule) = last_plan
                    .as_ref()
                    .map_or_else(|| (String::new(), None, String::new()), holder);
                match segments.last_mut() {
                    Some(seg) if seg.step == step && seg.rule == rule && seg.until == from => {
                        seg.until = until;
                        seg.polls += 1;
                    }
                    _ => segments.push(WaitSegment {
                        from,
                        until,
                        polls: 1,
                        step,
                        kind,
                        rule,
                    }),
                }
            }
            _ => {}
        })
        .await?;
    let wall_ms = wall.elapsed().as_secs_f64() * 1000.0;
    let end = match &outcome {
        RunOutcome::Converged { at } => *at,
        other => {
            println!("  did not converge: {other:?}");
            report.ok = false;
            provider.now()
        }
    };
    let total = Secs::between(start, end);

    println!("== {label}");
    println!("  start {}", t(start));
    println!();
    println!(
        "  minimum safe time (plan --timeline at the start: every gate at the earliest its rule allows)"
    );
    println!(
        "  {:<52} {:<20} {:>12} {:>12}  {:<34} rule",
        "step", "earliest", "+ this step", "actual", "late by"
    );
    let mut prev = start;
    for e in &timeline {
        let actual = reached
            .iter()
            .find(|(id, _)| id == &e.step)
            .map(|(_, a)| *a);
        let late = actual.map(|a| {
            if a >= e.earliest {
                dur(Secs::between(e.earliest, a))
            } else {
                format!("-{}", dur(Secs::between(a, e.earliest)))
            }
        });
        println!(
            "  {:<52} {:<20} {:>12} {:>12}  {:<34} {}",
            e.step,
            t(e.earliest),
            dur(Secs::between(prev, e.earliest)),
            actual.map_or("-".into(), |a| dur(Secs::between(start, a))),
            late.unwrap_or_else(|| "never reached".into()),
            e.rule,
        );
        prev = prev.max(e.earliest);
    }
    println!(
        "  minimum safe time: {} ({} s)",
        dur(min_total),
        min_total.0
    );
    println!();
    println!("  simulated run: the engine's waits, by the gate that held them");
    println!(
        "  {:<12} {:>12} {:>6}  {:<11} {:<40} rule",
        "from", "waited", "polls", "gate", "step"
    );
    let mut observable_waits = 0u64;
    for s in &segments {
        let kind = match s.kind {
            Some(GateKind::Observable) => {
                observable_waits += 1;
                "observable"
            }
            Some(GateKind::Time) => "time",
            None => "-",
        };
        println!(
            "  +{:<11} {:>12} {:>6}  {:<11} {:<40} {}",
            dur(Secs::between(start, s.from)),
            dur(Secs::between(s.from, s.until)),
            s.polls,
            kind,
            s.step,
            s.rule
        );
    }
    let waited: u64 = segments
        .iter()
        .map(|s| Secs::between(s.from, s.until).0)
        .sum();
    println!(
        "  {} steps executed{}; {} waited in {} stretches ({} held by observable gates, polled every {})",
        executed,
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({} failed: {})", failed.len(), failed.join("; "))
        },
        dur(Secs(waited)),
        segments.len(),
        observable_waits,
        dur(poll)
    );
    println!(
        "  simulated duration: {} ({} s), converged at {}",
        dur(total),
        total.0,
        t(end)
    );
    let diff = total.0 as i64 - min_total.0 as i64;
    let bound = poll.0 * observable_waits;
    let within = diff >= 0 && diff as u64 <= bound;
    println!(
        "  difference: {diff:+} s (bound: {} observable waits x {} s poll = {bound} s) -> {}",
        observable_waits,
        poll.0,
        if within { "OK" } else { "OUT OF BOUND" }
    );
    if !within {
        report.ok = false;
    }
    let bogus = provider.bogus_answers();
    println!("  bogus answers so far: {bogus}");
    if bogus != 0 {
        report.ok = false;
    }
    println!("  wall time: {wall_ms:.1} ms");
    println!();
    Ok(wall_ms)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let config_path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml")
        });
    let loaded = config::load(&config_path).map_err(|e| format!("{e:?}"))?;
    let desired = loaded.desired;
    let mut provider = SandboxProvider::in_memory(init_world(&desired, 1, default_start()));
    provider.set_save_waits(false);
    let dir = tempfile::tempdir()?;
    let store = JournalStore::new(dir.path().join("dnssec-pilot.state.json"));
    println!(
        "bench_onboard: {} in the sandbox (seed 1, {} resolvers, change propagation {} = poll interval)",
        config_path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().to_string()),
        provider.world().settings.resolver_count,
        dur(provider.poll_interval())
    );
    println!();
    let mut report = Report { ok: true };
    let whole = Instant::now();
    let a = run_direction(&provider, &desired, &store, Mode::Apply, &mut report).await?;
    let d = run_direction(&provider, &desired, &store, Mode::Destroy, &mut report).await?;
    let whole_ms = whole.elapsed().as_secs_f64() * 1000.0;
    println!(
        "wall time of the whole simulated run (onboard {a:.1} ms + destroy {d:.1} ms, with planning for the timelines): {whole_ms:.1} ms (target < 1000 ms)"
    );
    if !report.ok {
        println!("FAILED: see above");
        std::process::exit(1);
    }
    Ok(())
}
