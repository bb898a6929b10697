//! Benchmark: N random scenarios through the real engine against in-memory sandbox worlds, and
//! the proof that they never break resolution. Per scenario:
//!
//! - a random example (quickstart / Route 53 registrar / outside registrar / registrar-keys-only),
//!   random world seed, and random TTLs where the world has them — every record set (aliases
//!   aside), the SOA TTL and minimum, the delegation NS and DS TTLs of a Route 53 parent, the TLD
//!   DS/NS TTLs of registrar and outside parents — drawn log-uniformly from 60 s to 2 days; random
//!   registrar operation and outside-registrar delays; random desired-state knobs within what
//!   `validate` accepts (`ttl.max`, SOA, DS TTLs, soak, margin, key-deletion delay,
//!   `restore_ttls`). `sandbox init` has no TTL knobs, so the world is made by `init_world` and
//!   then edited; its resolvers' caches are refilled by simulating 3 days of lookups before the
//!   first apply, so they hold answers at the edited TTLs;
//! - a random interleaving of `apply` runs (without `--wait`, or with `--wait --max-wait` of 1 h
//!   to 30 d) and clock advances of 60 s to 4 days; then, half the time, `apply --wait` to the end
//!   of the onboarding; then the same random interleaving of `destroy` runs; then `destroy --wait`.
//!
//! It prints the number of scenarios, the total of bogus answers the simulated validating
//! resolvers saw (must be 0), how many onboardings and destroys converged, how many worlds came
//! back to their baseline (TTLs, SOA, no KSK, no DS), and the wall time. Journals are written
//! through the real store (atomic write + fsync) under /dev/shm when it exists.
//!
//! Run: `cargo run --release --example bench_scenarios -- --n 10000`
//! Options: `--n N` (default 10000), `--seed S` (first scenario seed, default 1), `--threads T`
//! (default 1), `--time-limit SECS` (stop starting scenarios after this; default none),
//! `--only SEED` (run one scenario and print its events: the reproduction of a failure).
//! Exits 1 when any scenario saw a bogus answer, failed, or did not converge.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dnssec_pilot::config::{self, Desired, Trust};
use dnssec_pilot::engine::{Engine, EngineOptions, Event, JournalStore, RunOutcome};
use dnssec_pilot::model::{Secs, Ttl};
use dnssec_pilot::plan::Mode;
use dnssec_pilot::provider::Provider;
use dnssec_pilot::provider::sandbox::{ParentKind, SandboxProvider, World, init_world};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const EXAMPLES: [&str; 4] = [
    "quickstart.yaml",
    "route53-registrar.yaml",
    "external-registrar.yaml",
    "registrar-keys-only.yaml",
];

struct Args {
    n: u64,
    seed: u64,
    threads: usize,
    time_limit: Option<Duration>,
    only: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        n: 10_000,
        seed: 1,
        threads: 1,
        time_limit: None,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse::<u64>()
                .map_err(|e| format!("{name}: {e}"))
        };
        match flag.as_str() {
            "--n" => a.n = value("--n")?,
            "--seed" => a.seed = value("--seed")?,
            "--threads" => a.threads = value("--threads")?.max(1) as usize,
            "--time-limit" => a.time_limit = Some(Duration::from_secs(value("--time-limit")?)),
            "--only" => a.only = Some(value("--only")?),
            other => {
                return Err(format!(
                    "unknown argument `{other}` (use --n, --seed, --threads, --time-limit, --only)"
                ));
            }
        }
    }
    Ok(a)
}

/// Log-uniform in [lo, hi].
fn log_uniform(rng: &mut ChaCha8Rng, lo: u64, hi: u64) -> u64 {
    let (l, h) = ((lo.max(1)) as f64, (hi.max(1)) as f64);
    let u: f64 = rng.random();
    ((l.ln() + u * (h.ln() - l.ln())).exp().round() as u64).clamp(lo, hi)
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, v: &[T]) -> T {
    v[rng.random_range(0..v.len())]
}

const TTL_LO: u64 = 60;
const TTL_HI: u64 = 2 * 86_400;

fn ttl(rng: &mut ChaCha8Rng) -> Ttl {
    Ttl(log_uniform(rng, TTL_LO, TTL_HI) as u32)
}

/// Random desired-state knobs, each within what `validate` accepts.
fn randomize_desired(d: &mut Desired, rng: &mut ChaCha8Rng) {
    for z in &mut d.zones {
        z.ttl_max = Ttl(pick(rng, &[300, 900, 3600, 14_400, 86_400]));
        z.soa_ttl = Ttl(pick(rng, &[60, 300, 900]).min(z.ttl_max.0));
        z.soa_minimum = Ttl(pick(rng, &[60, 300, 900, 3600]));
        if let Some(Trust::ParentZone { ds_ttl, .. }) = &mut z.trust {
            *ds_ttl = Ttl(pick(rng, &[60, 300, 3600]));
        }
        z.finally.ds_ttl = Ttl(pick(rng, &[300, 3600, 86_400]));
        z.finally.restore_ttls = rng.random_bool(0.7);
        z.safety.soak = Secs(pick(rng, &[3600, 86_400, 7 * 86_400, 14 * 86_400]));
        z.safety.propagation_margin = Secs(pick(rng, &[60, 600, 3600]));
        z.safety.registrar_key_deletion_delay = Secs(pick(rng, &[86_400, 3 * 86_400]));
    }
    for dom in &mut d.domains {
        dom.safety.soak = Secs(pick(rng, &[3600, 86_400, 14 * 86_400]));
        dom.safety.propagation_margin = Secs(pick(rng, &[60, 600, 3600]));
        dom.safety.registrar_key_deletion_delay = Secs(pick(rng, &[86_400, 3 * 86_400]));
    }
}

/// Random TTLs and delays in a fresh world, then what its servers serve recomputed and its
/// resolvers' caches emptied (they refill at the new TTLs during the warm-up).
fn randomize_world(w: &mut World, rng: &mut ChaCha8Rng) {
    for z in w.zones.values_mut() {
        for r in z.records.iter_mut().filter(|r| r.ttl.is_some()) {
            r.ttl = Some(ttl(rng));
        }
        z.soa.ttl = ttl(rng);
        z.soa.minimum = Ttl(log_uniform(rng, TTL_LO, 86_400) as u32);
    }
    for o in w.outside_dns.values_mut() {
        for r in o.records.iter_mut().filter(|r| r.ttl.is_some()) {
            r.ttl = Some(ttl(rng));
        }
        o.soa.ttl = ttl(rng);
        o.soa.minimum = Ttl(log_uniform(rng, TTL_LO, 86_400) as u32);
    }
    for p in w.parent_zones.values_mut() {
        for d in p.delegations.values_mut() {
            d.ns_ttl = ttl(rng);
            d.ds_ttl = ttl(rng);
        }
    }
    w.settings.tld_ds_ttl = ttl(rng);
    w.settings.tld_ns_ttl = ttl(rng);
    w.settings.parent_negative_ttl = Ttl(log_uniform(rng, TTL_LO, 86_400) as u32);
    let op_min = log_uniform(rng, 60, 4 * 3600);
    w.settings.registrar_op_min = Secs(op_min);
    w.settings.registrar_op_max = Secs(op_min + log_uniform(rng, 1, 8 * 3600));
    w.settings.external_publication_delay = Secs(log_uniform(rng, 600, 3 * 86_400));

    let now = w.now;
    for name in w.names() {
        if let Some(s) = w.zone_serve_now(&name, now) {
            w.served.insert(name.clone(), vec![s]);
        }
        if let Some(p) = w.parent_serve_now(&name, now) {
            w.parent_served.insert(name.clone(), vec![p]);
        }
    }
    for r in &mut w.resolvers {
        r.caches.clear();
    }
}

/// The parts of the world that onboarding changes and destroy must give back.
fn baseline_view(w: &World) -> String {
    let mut out = String::new();
    for (name, z) in &w.zones {
        let ttls: Vec<Option<u32>> = z.records.iter().map(|r| r.ttl.map(|t| t.0)).collect();
        out.push_str(&format!(
            "{name}: ttls {ttls:?} soa {}/{} signing {:?} ksks {}\n",
            z.soa.ttl.0,
            z.soa.minimum.0,
            z.signing,
            z.ksks.len()
        ));
        if let ParentKind::ParentZone { hosted_zone_id } = &z.parent
            && let Some(d) = w
                .parent_zones
                .get(hosted_zone_id)
                .and_then(|p| p.delegations.get(name))
        {
            // The DS TTL means nothing while there is no DS.
            if d.ds.is_empty() {
                out.push_str("  parent: no DS\n");
            } else {
                out.push_str(&format!("  parent ds {} ttl {}\n", d.ds.len(), d.ds_ttl.0));
            }
        }
    }
    for (name, d) in &w.registrar {
        out.push_str(&format!("{name}: registrar keys {}\n", d.keys.len()));
    }
    for (name, e) in &w.external {
        out.push_str(&format!(
            "{name}: outside registrar ds {}\n",
            e.published.len()
        ));
    }
    out
}

#[derive(Default)]
struct Tally {
    scenarios: u64,
    engine_runs: u64,
    bogus: u64,
    onboard_attempted: u64,
    onboard_converged: u64,
    destroy_converged: u64,
    restored: u64,
    failures: Vec<String>,
    simulated_days: f64,
}

enum Op {
    Run { wait: bool, max_wait: Secs },
    Advance(Secs),
}

fn random_ops(rng: &mut ChaCha8Rng) -> Vec<Op> {
    let n = rng.random_range(1..=20);
    (0..n)
        .map(|_| match rng.random_range(0..3) {
            0 => Op::Run {
                wait: false,
                max_wait: Secs(0),
            },
            1 => Op::Run {
                wait: true,
                max_wait: Secs(log_uniform(rng, 3600, 30 * 86_400)),
            },
            _ => Op::Advance(Secs(log_uniform(rng, 60, 4 * 86_400))),
        })
        .collect()
}

struct Scenario<'a> {
    p: &'a SandboxProvider,
    desired: &'a Desired,
    store: &'a JournalStore,
    verbose: bool,
    runs: u64,
}

impl Scenario<'_> {
    async fn run(
        &mut self,
        mode: Mode,
        wait: bool,
        max_wait: Option<Secs>,
    ) -> Result<RunOutcome, String> {
        self.runs += 1;
        let engine = Engine {
            provider: self.p,
            desired: self.desired,
            store: self.store,
            options: EngineOptions {
                mode,
                only: vec![],
                wait,
                max_wait,
                fresh_journal: true,
            },
            fault: None,
        };
        let verbose = self.verbose;
        if verbose {
            println!(
                "-- {} at {} (wait {wait}, max_wait {:?})",
                match mode {
                    Mode::Apply => "apply",
                    Mode::Destroy => "destroy",
                },
                self.p.now(),
                max_wait.map(Secs::human)
            );
        }
        let out = engine
            .run(&mut |_| true, &mut |ev| {
                if verbose {
                    match ev {
                        Event::Executed { step, at, result } => {
                            println!("   {at} {} -> {result:?}", step.id)
                        }
                        Event::Waiting {
                            from,
                            until,
                            reason,
                        } => {
                            println!("   wait {from} .. {until}: {reason}")
                        }
                        Event::Reconciled {
                            step_id,
                            effect_observed,
                        } => {
                            println!("   reconciled {step_id}: {effect_observed}")
                        }
                        _ => {}
                    }
                }
            })
            .await
            .map_err(|e| e.to_string())?;
        if verbose {
            println!("   => {out:?}; bogus so far {}", self.p.bogus_answers());
        }
        Ok(out)
    }

    async fn ops(&mut self, mode: Mode, ops: &[Op]) -> Result<(), String> {
        for op in ops {
            match op {
                Op::Run { wait, max_wait } => {
                    self.run(mode, *wait, wait.then_some(*max_wait)).await?;
                }
                Op::Advance(d) => {
                    if self.verbose {
                        println!("-- advance {}", d.human());
                    }
                    self.p
                        .wait_until(d.after(self.p.now()))
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }
}

struct Result1 {
    bogus: u64,
    runs: u64,
    onboard_attempted: bool,
    onboard_converged: bool,
    destroy_converged: bool,
    restored: bool,
    simulated_days: f64,
    failure: Option<String>,
}

async fn scenario(
    seed: u64,
    examples: &[(String, Desired)],
    journal_dir: &Path,
    verbose: bool,
) -> Result<Result1, BoxError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (name, base) = &examples[rng.random_range(0..examples.len())];
    let mut desired = base.clone();
    randomize_desired(&mut desired, &mut rng);
    let start: jiff::Timestamp = "2026-01-05T00:00:00Z".parse()?;
    let mut w = init_world(&desired, rng.random(), start);
    randomize_world(&mut w, &mut rng);
    let p = SandboxProvider::in_memory(w);
    // Warm-up: the resolvers fill their caches at the randomized TTLs.
    p.wait_until(Secs::days(3).after(p.now())).await?;
    let baseline = baseline_view(&p.world());
    if verbose {
        println!("scenario {seed}: {name}\n{baseline}");
        println!("desired: {desired:#?}");
    }
    let path: PathBuf = journal_dir.join(format!("scenario-{seed}.state.json"));
    let store = JournalStore::new(&path);
    let mut s = Scenario {
        p: &p,
        desired: &desired,
        store: &store,
        verbose,
        runs: 0,
    };
    let onboard_ops = random_ops(&mut rng);
    let finish_onboarding = rng.random_bool(0.5);
    let destroy_ops = random_ops(&mut rng);
    let mut r = Result1 {
        bogus: 0,
        runs: 0,
        onboard_attempted: finish_onboarding,
        onboard_converged: false,
        destroy_converged: false,
        restored: false,
        simulated_days: 0.0,
        failure: None,
    };
    let body = async {
        s.ops(Mode::Apply, &onboard_ops).await?;
        if finish_onboarding {
            let out = s.run(Mode::Apply, true, None).await?;
            r.onboard_converged = matches!(out, RunOutcome::Converged { .. });
            if !r.onboard_converged {
                return Err(format!("onboarding did not converge: {out:?}"));
            }
        }
        s.ops(Mode::Destroy, &destroy_ops).await?;
        let out = s.run(Mode::Destroy, true, None).await?;
        r.destroy_converged = matches!(out, RunOutcome::Converged { .. });
        if !r.destroy_converged {
            return Err(format!("destroy did not converge: {out:?}"));
        }
        Ok::<(), String>(())
    };
    if let Err(e) = body.await {
        r.failure = Some(format!("seed {seed} ({name}): {e}"));
    }
    r.runs = s.runs;
    let world = p.world();
    r.bogus = world.bogus.total;
    if r.bogus > 0 && r.failure.is_none() {
        let first = world
            .bogus
            .first
            .first()
            .map(|b| format!("{} resolver {} {}: {}", b.at, b.resolver, b.zone, b.reason))
            .unwrap_or_default();
        r.failure = Some(format!(
            "seed {seed} ({name}): {} bogus answers; first: {first}",
            r.bogus
        ));
    }
    if r.destroy_converged {
        let after = baseline_view(&world);
        r.restored = after == baseline;
        if !r.restored && r.failure.is_none() {
            r.failure = Some(format!(
                "seed {seed} ({name}): destroy converged but the world is not its baseline:\n{baseline}--- now:\n{after}"
            ));
        }
    }
    r.simulated_days = (world.now.as_second() - start.as_second()) as f64 / 86_400.0;
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("json.lock"));
    Ok(r)
}

fn main() -> Result<(), BoxError> {
    let args = parse_args().map_err(|e| -> BoxError { e.into() })?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples = Vec::new();
    for e in EXAMPLES {
        let loaded =
            config::load(&root.join(e)).map_err(|e| -> BoxError { format!("{e:?}").into() })?;
        examples.push((e.to_string(), loaded.desired));
    }
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)?
    } else {
        tempfile::tempdir()?
    };
    let rt = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };

    if let Some(seed) = args.only {
        let r = rt()?.block_on(scenario(seed, &examples, dir.path(), true))?;
        println!(
            "scenario {seed}: {} engine runs, bogus {}, onboard converged {}, destroy converged {}, restored {}, {:.1} simulated days{}",
            r.runs,
            r.bogus,
            r.onboard_converged,
            r.destroy_converged,
            r.restored,
            r.simulated_days,
            r.failure
                .map(|f| format!("\nFAILED: {f}"))
                .unwrap_or_default()
        );
        return Ok(());
    }

    println!(
        "bench_scenarios: {} random scenarios from seed {} on {} thread(s){}; journals under {}",
        args.n,
        args.seed,
        args.threads,
        args.time_limit
            .map(|d| format!(", time limit {} s", d.as_secs()))
            .unwrap_or_default(),
        dir.path().display()
    );
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let tally = Mutex::new(Tally::default());
    let started = Instant::now();
    let last_report = Mutex::new(Instant::now());
    std::thread::scope(|scope| {
        for _ in 0..args.threads {
            scope.spawn(|| {
                let Ok(rt) = rt() else {
                    stop.store(true, Ordering::SeqCst);
                    return;
                };
                loop {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if args.time_limit.is_some_and(|l| started.elapsed() >= l) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= args.n {
                        return;
                    }
                    let seed = args.seed + i;
                    let r = rt.block_on(scenario(seed, &examples, dir.path(), false));
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    t.scenarios += 1;
                    match r {
                        Ok(r) => {
                            t.engine_runs += r.runs;
                            t.bogus += r.bogus;
                            t.onboard_attempted += u64::from(r.onboard_attempted);
                            t.onboard_converged += u64::from(r.onboard_converged);
                            t.destroy_converged += u64::from(r.destroy_converged);
                            t.restored += u64::from(r.restored);
                            t.simulated_days += r.simulated_days;
                            if let Some(f) = r.failure {
                                t.failures.push(f);
                            }
                        }
                        Err(e) => t.failures.push(format!("seed {seed}: {e}")),
                    }
                    let mut lr = last_report.lock().unwrap_or_else(|e| e.into_inner());
                    if lr.elapsed() >= Duration::from_secs(10) {
                        *lr = Instant::now();
                        let el = started.elapsed().as_secs_f64();
                        eprintln!(
                            "  … {} scenarios in {el:.0} s ({:.1}/s), {} bogus, {} failures",
                            t.scenarios,
                            t.scenarios as f64 / el,
                            t.bogus,
                            t.failures.len()
                        );
                    }
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let t = tally.into_inner().unwrap_or_else(|e| e.into_inner());
    println!("scenarios run:        {}", t.scenarios);
    println!("engine runs:          {}", t.engine_runs);
    println!(
        "simulated time:       {:.0} days ({:.1} days per scenario)",
        t.simulated_days,
        t.simulated_days / t.scenarios.max(1) as f64
    );
    println!("bogus answers:        {} (must be 0)", t.bogus);
    println!(
        "onboardings run to the end: {} of {} converged",
        t.onboard_converged, t.onboard_attempted
    );
    println!(
        "destroys converged:   {} of {}; worlds back at their baseline: {}",
        t.destroy_converged, t.scenarios, t.restored
    );
    println!(
        "wall time:            {wall:.1} s ({:.1} scenarios/s, {:.2} ms per scenario)",
        t.scenarios as f64 / wall,
        wall * 1000.0 / t.scenarios.max(1) as f64
    );
    if t.scenarios < args.n {
        println!(
            "stopped by --time-limit after {} of {} scenarios",
            t.scenarios, args.n
        );
    }
    if !t.failures.is_empty() {
        println!(
            "FAILURES: {} (first 10; rerun one with --only SEED):",
            t.failures.len()
        );
        for f in t.failures.iter().take(10) {
            println!("  {f}");
        }
        std::process::exit(1);
    }
    Ok(())
}
