//! Integration tests: the apply/destroy engine driving the sandbox world — whole onboardings and
//! teardowns through the CLI for every trust kind and a registrar-only domain, negative controls
//! that prove the resolver model can fail, crash injection at every fault point, the lock and
//! stale saved plans, and random interleavings of apply runs.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use dnssec_pilot::config;
use dnssec_pilot::engine::{Engine, EngineError, EngineOptions, JournalStore, RunOutcome};
use dnssec_pilot::model::Secs;
use dnssec_pilot::plan::Mode;
use dnssec_pilot::provider::Provider;
use dnssec_pilot::provider::sandbox::{SandboxProvider, World, init_world};
use dnssec_pilot::state::Journal;
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::cargo_bin("dnssec-pilot").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// What a run printed on stdout then stderr: the plan, the progress and the summary.
fn both_streams(out: &assert_cmd::assert::Assert) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    )
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

struct Run {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Run {
    fn new(example_name: &str) -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
            config: example(example_name),
        }
    }
    fn world(&self) -> PathBuf {
        self.dir.path().join("world.json")
    }
    fn state(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }
    /// The journal, and every kept version of it, is lost (a CI cache miss).
    fn lose_journal(&self) {
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("state.json") {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
    }
    fn cmd(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        bin()
            .arg("--sandbox")
            .arg(self.world())
            .arg("-c")
            .arg(&self.config)
            .arg("--state")
            .arg(self.state())
            .args(args)
            .assert()
    }
    fn show(&self) -> Value {
        let out = self.cmd(&["--format", "json", "sandbox", "show"]).success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    }
}

/// The parts of a zone that onboarding changes and destroy must give back.
fn baseline_view(show: &Value) -> Value {
    let mut zones = show["zones"].clone();
    if let Some(arr) = zones.as_array_mut() {
        for z in arr {
            if let Some(o) = z.as_object_mut() {
                o.remove("bogus_answers");
                o.remove("chain");
            }
        }
    }
    serde_json::json!({ "zones": zones, "domains": show.get("domains").cloned().unwrap_or(Value::Null) })
}

fn full_cycle(example_name: &str) {
    let r = Run::new(example_name);
    r.cmd(&["sandbox", "init"]).success();
    let before = r.show();
    let out = r.cmd(&["apply", "--auto-approve", "--wait"]).success();
    let text = both_streams(&out);
    assert!(text.contains("Converged at"), "{text}");
    let mid = r.show();
    assert_eq!(
        mid["bogus_answers"], 0,
        "bogus answers during onboarding:\n{text}"
    );
    for z in mid["zones"].as_array().unwrap() {
        assert_eq!(z["signing_status"], "SIGNING", "{z}");
        assert_eq!(z["chain"], "secure", "{z}");
    }
    let out = r.cmd(&["destroy", "--auto-approve", "--wait"]).success();
    let text = both_streams(&out);
    assert!(text.contains("Converged at"), "{text}");
    let after = r.show();
    assert_eq!(
        after["bogus_answers"], 0,
        "bogus answers during destroy:\n{text}"
    );
    assert_eq!(
        baseline_view(&before),
        baseline_view(&after),
        "destroy did not give the baseline back"
    );
}

#[test]
fn quickstart_onboards_and_destroys_with_no_bogus_answer() {
    full_cycle("quickstart.yaml");
}

#[test]
fn route53_registrar_zone_onboards_and_destroys_with_no_bogus_answer() {
    full_cycle("route53-registrar.yaml");
}

#[test]
fn external_registrar_zone_onboards_and_destroys_with_no_bogus_answer() {
    full_cycle("external-registrar.yaml");
}

/// Regression (bench_scenarios seed 1513): a destroy started an hour after the onboarding asked
/// the outside registrar for the DS, with a registrar that acts after 2 d 12 h — within the
/// configured `registrar_key_deletion_delay` of 3 d. The DS comes (and goes) while the engine
/// sleeps through a time gate, and resolvers cache it for its TTL: signing must be held for the
/// registrar delay plus a DS TTL, not the larger of the two.
#[test]
fn outside_registrar_destroy_holds_signing_past_a_late_publication_of_the_requested_ds() {
    let r = Run::new("external-registrar.yaml");
    r.cmd(&["sandbox", "init"]).success();
    let mut w: Value = serde_json::from_str(&std::fs::read_to_string(r.world()).unwrap()).unwrap();
    w["settings"]["external_publication_delay"] = Value::from("60h");
    std::fs::write(r.world(), serde_json::to_string_pretty(&w).unwrap()).unwrap();

    // Onboard until the DS has been asked for (the manual `publish_ds` instruction shown).
    let mut asked = false;
    for _ in 0..40 {
        let out = r.cmd(&["--format", "json", "apply", "--auto-approve"]);
        let doc: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let journal = std::fs::read_to_string(r.state()).unwrap_or_default();
        if journal.contains("/publish_ds\"") {
            asked = true;
            break;
        }
        let wait = doc["next_gate"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .zip(
                r.show()["now"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok()),
            )
            .map(|(gate, now)| (gate.as_second() - now.as_second()).max(60))
            .unwrap_or(60);
        r.cmd(&["sandbox", "advance", &format!("{wait}s")])
            .success();
    }
    assert!(asked, "the onboarding never asked for the DS");
    assert_eq!(r.show()["bogus_answers"], 0);

    // The removal is asked an hour later: resolvers that fetch the DS in the hour it is served
    // keep it for its TTL (1 d) after the registrar removes it.
    r.cmd(&["sandbox", "advance", "1h"]).success();
    let out = r.cmd(&["destroy", "--auto-approve", "--wait"]).success();
    let text = both_streams(&out);
    assert!(text.contains("Converged at"), "{text}");
    assert!(
        text.contains("never seen"),
        "the hold names its reason:\n{text}"
    );
    // Long after: every cached DS has expired; none was ever served without a signed zone.
    r.cmd(&["sandbox", "advance", "10d"]).success();
    let show = r.show();
    assert_eq!(show["bogus_answers"], 0, "{show:#}\n{text}");
}

/// `--poll-interval` needs `--wait` and at least a second; the sandbox accepts and ignores it.
#[test]
fn poll_interval_needs_wait_and_refuses_zero() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    for verb in ["apply", "destroy"] {
        let out = r
            .cmd(&[verb, "--auto-approve", "--poll-interval", "5s"])
            .failure();
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            err.contains("--poll-interval") && err.contains("--wait"),
            "{verb}: {err}"
        );
        for zero in ["0", "0s", "0m"] {
            let out = r
                .cmd(&[verb, "--auto-approve", "--wait", "--poll-interval", zero])
                .failure();
            let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
            assert!(
                err.contains("a poll interval of 0") && err.contains("`1s`"),
                "{verb} {zero}: {err}"
            );
        }
        let out = r
            .cmd(&[verb, "--auto-approve", "--wait", "--poll-interval", "soon"])
            .failure();
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains("`soon` is not a duration"), "{verb}: {err}");
    }
    // Nothing ran: the journal was never written.
    assert!(!r.state().exists());
    let out = r
        .cmd(&["apply", "--auto-approve", "--wait", "--poll-interval", "1m"])
        .success();
    let text = both_streams(&out);
    assert!(text.contains("Converged at"), "{text}");
}

#[test]
fn registrar_keys_only_domain_onboards_and_destroys_with_no_bogus_answer() {
    full_cycle("registrar-keys-only.yaml");
}

#[test]
fn fleet_onboards_and_destroys_with_no_bogus_answer() {
    full_cycle("fleet.yaml");
}

/// Negative control: the same world, with signing disabled by hand under a cached DS, counts
/// bogus answers — so the zeros above mean something.
#[test]
fn control_disabling_signing_by_hand_under_a_cached_ds_is_counted_bogus() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    r.cmd(&["apply", "--auto-approve", "--wait"]).success();
    assert_eq!(r.show()["bogus_answers"], 0);
    r.cmd(&["sandbox", "tamper", "disable-signing"]).success();
    r.cmd(&["sandbox", "advance", "2h"]).success();
    let bogus = r.show()["bogus_answers"].as_u64().unwrap();
    assert!(bogus > 0, "the resolver model missed an outage");
}

#[test]
fn apply_without_wait_stops_at_the_first_closed_gate_with_detailed_exit_code_2() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    let out = r
        .cmd(&["apply", "--auto-approve", "--detailed-exitcode"])
        .code(2);
    let text = both_streams(&out);
    assert!(text.contains("Stopped at"), "{text}");
    assert!(text.contains("lower_ttls"), "{text}");
}

#[test]
fn apply_refuses_without_a_terminal_or_auto_approve() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    let out = r.cmd(&["apply"]).code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("--auto-approve"), "{err}");
    assert!(
        !r.state().exists()
            || std::fs::read_to_string(r.state())
                .unwrap()
                .contains("\"steps\": []")
            || !std::fs::read_to_string(r.state())
                .unwrap()
                .contains("intent_at")
    );
}

#[test]
fn a_stale_saved_plan_is_refused() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    let plan = r.dir.path().join("p.plan");
    r.cmd(&["plan", "-o", plan.to_str().unwrap()]).success();
    // The world changes under the plan.
    r.cmd(&["sandbox", "tamper", "raise-ttl"]).success();
    let out = r.cmd(&["apply", plan.to_str().unwrap()]).code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("stale"), "{err}");
}

#[test]
fn a_fresh_saved_plan_runs_its_ready_steps() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    let plan = r.dir.path().join("p.plan");
    r.cmd(&["plan", "-o", plan.to_str().unwrap()]).success();
    let out = r.cmd(&["apply", plan.to_str().unwrap()]).success();
    let text = both_streams(&out);
    assert!(text.contains("lower_ttls … ok"), "{text}");
    // Applied once, the same plan is stale now.
    r.cmd(&["apply", plan.to_str().unwrap()]).code(1);
}

#[test]
fn a_second_apply_is_refused_while_the_lock_is_held() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    let store = JournalStore::new(r.state());
    let _held = store.lock().unwrap();
    let out = r.cmd(&["apply", "--auto-approve"]).code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("holds the lock"), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "the holder is named: {err}"
    );
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn desired_of(example_name: &str) -> config::Desired {
    config::load(&example(example_name)).unwrap().desired
}

fn start_world(desired: &config::Desired, seed: u64) -> World {
    init_world(desired, seed, "2026-01-05T00:00:00Z".parse().unwrap())
}

async fn run_engine(
    p: &SandboxProvider,
    desired: &config::Desired,
    store: &JournalStore,
    mode: Mode,
    wait: bool,
    fault: Option<&dyn Fn(usize, &'static str) -> bool>,
) -> Result<RunOutcome, EngineError> {
    let engine = Engine {
        provider: p,
        desired,
        store,
        options: EngineOptions {
            mode,
            only: vec![],
            wait,
            max_wait: None,
            fresh_journal: false,
        },
        fault,
    };
    engine.run(&mut |_| true, &mut |_| {}).await
}

/// Counts every KSK, DS and registrar key the world holds: after a crash and a re-run there is
/// never a duplicate.
fn assert_no_duplicates(p: &SandboxProvider) {
    let report = serde_json::to_value(p.report()).unwrap();
    for z in report["zones"].as_array().unwrap() {
        let ksks = z["ksks"].as_array().map_or(0, Vec::len);
        assert!(ksks <= 1, "duplicate KSK: {z}");
        let ds = z["parent"]["ds"].as_array().map_or(0, Vec::len);
        assert!(ds <= 1, "duplicate DS: {z}");
        let keys = z["parent"]["keys"].as_array().map_or(0, Vec::len);
        assert!(keys <= 1, "duplicate registrar key: {z}");
    }
}

/// Crash injection: for every fault point of a whole onboarding (enumerated, not sampled),
/// kill the apply there, run apply again, and check it converges with no duplicate KSK, DS or
/// registrar key, no lost baseline and no bogus answer.
fn crash_at_every_point(example_name: &str) {
    let desired = desired_of(example_name);
    let rt = rt();
    let mut k = 0usize;
    loop {
        let dir = tempfile::tempdir().unwrap();
        let store = JournalStore::new(dir.path().join("state.json"));
        let p = SandboxProvider::in_memory(start_world(&desired, 7));
        let hook = move |i: usize, _label: &'static str| i == k;
        let first = rt.block_on(run_engine(
            &p,
            &desired,
            &store,
            Mode::Apply,
            true,
            Some(&hook),
        ));
        let crashed = matches!(first, Err(EngineError::InjectedCrash(..)));
        let second = rt
            .block_on(run_engine(&p, &desired, &store, Mode::Apply, true, None))
            .unwrap();
        assert!(
            matches!(second, RunOutcome::Converged { .. }),
            "point {k}: {second:?}"
        );
        assert_no_duplicates(&p);
        let j: Journal = store.load().unwrap().unwrap();
        for (zone, zj) in &j.zones {
            assert!(zj.baseline.is_some(), "point {k}: baseline of {zone} lost");
            let b = zj.baseline.as_ref().unwrap();
            assert!(
                b.max_ttl.0 >= 86400,
                "point {k}: baseline of {zone} was captured after lowering: {b:?}"
            );
        }
        assert_eq!(p.bogus_answers(), 0, "point {k}");
        if !crashed {
            // The run finished without reaching point k: every point was covered.
            assert!(k > 10, "too few fault points: {k}");
            break;
        }
        k += 1;
    }
}

#[test]
fn crash_at_every_fault_point_converges_route53_parent() {
    crash_at_every_point("quickstart.yaml");
}

#[test]
fn crash_at_every_fault_point_converges_route53_registrar() {
    crash_at_every_point("route53-registrar.yaml");
}

#[test]
fn crash_at_every_fault_point_converges_registrar_keys_only() {
    crash_at_every_point("registrar-keys-only.yaml");
}

mod random_interleavings {
    //! Random apply runs at random virtual times (with and without `--wait`), for random
    //! worlds of every trust kind: no bogus answer ever, and the onboarding always converges.

    use super::*;
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(24, |n: u32| n.min(2000))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
        #[test]
        fn random_apply_times_never_break_resolution(
            example_idx in 0usize..4,
            seed in 0u64..1_000_000,
            gaps in proptest::collection::vec(60u64..(4 * 86400), 1..40),
        ) {
            let name = ["quickstart.yaml", "route53-registrar.yaml", "external-registrar.yaml", "registrar-keys-only.yaml"][example_idx];
            let desired = desired_of(name);
            let rt = rt();
            let dir = tempfile::tempdir().unwrap();
            let store = JournalStore::new(dir.path().join("state.json"));
            let p = SandboxProvider::in_memory(start_world(&desired, seed));
            for (i, gap) in gaps.iter().enumerate() {
                let mode = if i * 2 < gaps.len() { Mode::Apply } else { Mode::Destroy };
                rt.block_on(run_engine(&p, &desired, &store, mode, false, None)).unwrap();
                rt.block_on(p.wait_until(Secs(*gap).after(p.now()))).unwrap();
            }
            // Finish the destroy.
            let end = rt.block_on(run_engine(&p, &desired, &store, Mode::Destroy, true, None)).unwrap();
            prop_assert!(matches!(end, RunOutcome::Converged { .. }), "{end:?}");
            prop_assert_eq!(p.bogus_answers(), 0);
        }
    }
}

#[test]
fn a_lost_journal_is_refused_until_fresh_journal_then_destroy_is_safe() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    r.cmd(&["apply", "--auto-approve", "--wait"]).success();
    r.lose_journal();
    let out = r.cmd(&["destroy", "--auto-approve"]).code(1);
    let all = both_streams(&out);
    assert!(
        all.contains("PLAN017") && all.contains("--fresh-journal"),
        "{all}"
    );
    assert_eq!(r.show()["zones"][0]["signing_status"], "SIGNING");
    let out = r
        .cmd(&["destroy", "--auto-approve", "--wait", "--fresh-journal"])
        .success();
    let text = both_streams(&out);
    assert!(text.contains("Converged at"), "{text}");
    let after = r.show();
    assert_eq!(after["bogus_answers"], 0, "{text}");
    assert_eq!(after["zones"][0]["signing_status"], "NOT_SIGNING");
}

/// A plan saved with `--fresh-journal` is applied over the same zones started afresh: the
/// journal records when (`afresh_at`), and the destroy that follows without the flag still
/// assumes the worst for the unknown history (0 bogus answers).
#[test]
fn a_saved_fresh_journal_plan_applies_afresh() {
    let r = Run::new("quickstart.yaml");
    r.cmd(&["sandbox", "init"]).success();
    r.cmd(&["apply", "--auto-approve", "--wait"]).success();
    r.lose_journal();
    let plan = r.dir.path().join("d.plan");
    r.cmd(&[
        "plan",
        "--destroy",
        "--fresh-journal",
        "-o",
        plan.to_str().unwrap(),
    ])
    .success();
    let out = r.cmd(&["apply", plan.to_str().unwrap()]).success();
    let text = both_streams(&out);
    assert!(text.contains("remove_ds … ok"), "{text}");
    let journal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.state()).unwrap()).unwrap();
    assert!(
        journal["zones"]["shop.example.com"]["afresh_at"].is_string(),
        "{journal:#}"
    );
    let out = r.cmd(&["destroy", "--auto-approve", "--wait"]).success();
    let text = both_streams(&out);
    assert!(text.contains("Converged at"), "{text}");
    let after = r.show();
    assert_eq!(after["bogus_answers"], 0, "{text}");
    assert_eq!(after["zones"][0]["signing_status"], "NOT_SIGNING");
}
