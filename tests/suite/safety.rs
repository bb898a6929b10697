//! Regression tests: safety off the happy path (issue 11). Each is named after the outage it
//! guards against and reproduces it with pure planner inputs (desired, observed, journal, now), or
//! through the engine against the sandbox: a DS that may still be cached or published keeps
//! signing on; a failing step ends the run; a zone with an error runs no step.

use dnssec_pilot::config::KskSpec;
use dnssec_pilot::engine::{
    DEFAULT_MAX_WAIT, Engine, EngineError, EngineOptions, JournalStore, MAX_TRIES, RunOutcome,
};
use dnssec_pilot::model::{Action, ActionKind, ActionResult, Dnskey, Secs, Timestamp};
use dnssec_pilot::plan::{Mode, Plan, StepStatus};
use dnssec_pilot::provider::Provider;
use dnssec_pilot::provider::sandbox::{KmsKey, SandboxProvider, init_world};
use dnssec_pilot::state::{
    Journal, KskStatus, ProbeError, ProbeErrorKind, SigningStatus, StepOutcome, StepRecord,
};

use super::engine::rt;
use super::plan::scenarios::{domain_obs, domain_observed, domain_spec};
use super::plan::{
    KEY_A, Stage, TrustKind, apply_updates, desired, observed_one, record_step, run, t0, zn,
    zone_spec,
};

const ZONE: &str = "app.example.com";

fn day(n: u64) -> Timestamp {
    Secs::days(n).after(t0())
}

fn ready(p: &Plan) -> Vec<ActionKind> {
    p.ready_steps().map(|s| s.action.kind()).collect()
}

/// Plans, records the plan's journal updates as the engine would, and returns the plan.
fn step(
    d: &dnssec_pilot::config::Desired,
    st: &Stage,
    j: &mut Journal,
    now: Timestamp,
    mode: Mode,
) -> Plan {
    let p = run(d, &observed_one(ZONE, st.obs(now)), j, now, mode);
    apply_updates(j, &p);
    p
}

/// A zone this tool onboarded: the journal saw it unsigned first (its baseline).
fn onboarded_journal(d: &dnssec_pilot::config::Desired, trust: TrustKind) -> Journal {
    let mut j = Journal::new("lineage-test");
    step(d, &Stage::new(ZONE, trust), &mut j, t0(), Mode::Apply);
    j
}

fn signed_stage(trust: TrustKind) -> Stage {
    let mut st = Stage::new(ZONE, trust);
    st.ttls_lowered = true;
    st.ksk = Some(KskStatus::Active);
    st.signing = SigningStatus::Signing;
    st
}

fn assert_signing_held(p: &Plan, when: &str) {
    assert!(
        !ready(p).contains(&ActionKind::DisableSigning),
        "signing must stay on {when}; ready: {:?}",
        ready(p)
    );
}

#[test]
fn destroy_holds_signing_while_a_registrar_add_is_in_flight() {
    let d = desired(vec![zone_spec(ZONE, TrustKind::Registrar)], vec![]);
    let mut j = onboarded_journal(&d, TrustKind::Registrar);
    record_step(
        &mut j,
        ZONE,
        &format!("{ZONE}/add_registrar_key/1"),
        Action::AddRegistrarKey {
            domain: zn(ZONE),
            key: Dnskey::new(257, 13, KEY_A),
        },
        day(30),
        None,
    );
    // The registry is slow: the ADD is still running, the DS is nowhere yet.
    let mut st = signed_stage(TrustKind::Registrar);
    st.reg_op_in_flight = true;
    let p = step(&d, &st, &mut j, day(31), Mode::Destroy);
    assert_signing_held(&p, "while the ADD runs");
    let gate = p.zones[0]
        .steps
        .iter()
        .find(|s| s.id.ends_with("await_ds_gone"))
        .and_then(|s| s.gates.iter().find(|g| g.rule == "ds-gone-everywhere"))
        .expect("the DS wait");
    assert!(!gate.satisfied, "{gate:?}");
    assert!(gate.detail.contains("still running"), "{}", gate.detail);
    for n in [34, 37, 45] {
        let p = step(&d, &st, &mut j, day(n), Mode::Destroy);
        assert_signing_held(&p, &format!("on day {n} while the ADD runs"));
    }
}

#[test]
fn lost_journal_mid_destroy_waits_the_worst_ds_ttl_before_unsigning() {
    let d = desired(vec![zone_spec(ZONE, TrustKind::Parent)], vec![]);
    // The journal is gone; the DS was already taken out (by the lost run), signing is on.
    let mut j = Journal::new("lineage-test");
    let st = signed_stage(TrustKind::Parent);
    let p = step(&d, &st, &mut j, t0(), Mode::Destroy);
    assert_signing_held(&p, "at once with no DS history");
    let p = step(&d, &st, &mut j, Secs::days(1).after(t0()), Mode::Destroy);
    assert_signing_held(&p, "a day later (a TLD DS TTL is up to two days)");
    let p = step(&d, &st, &mut j, Secs::days(3).after(t0()), Mode::Destroy);
    assert_eq!(ready(&p), vec![ActionKind::DisableSigning]);
}

#[test]
fn lost_journal_mid_destroy_with_a_registrar_adds_the_registrar_delay() {
    let d = desired(vec![zone_spec(ZONE, TrustKind::Registrar)], vec![]);
    let mut j = Journal::new("lineage-test");
    let st = signed_stage(TrustKind::Registrar);
    step(&d, &st, &mut j, t0(), Mode::Destroy);
    // Two days of unseen DS TTL plus three days of registrar delay.
    let p = step(
        &d,
        &st,
        &mut j,
        Secs::hours(4 * 24 + 23).after(t0()),
        Mode::Destroy,
    );
    assert_signing_held(&p, "before the DS TTL and the registrar delay add up");
    let p = step(&d, &st, &mut j, Secs::days(6).after(t0()), Mode::Destroy);
    assert_eq!(ready(&p), vec![ActionKind::DisableSigning]);
}

#[test]
fn a_parent_server_that_did_not_answer_keeps_signing_on() {
    let d = desired(vec![zone_spec(ZONE, TrustKind::Parent)], vec![]);
    let mut j = Journal::new("lineage-test");
    let st = signed_stage(TrustKind::Parent);
    for n in [0, 3, 10, 40] {
        let now = day(n);
        let mut o = st.obs(now);
        o.live.parent_servers[2].result = Err(ProbeError {
            kind: ProbeErrorKind::Timeout,
            message: "no answer within 2 s".into(),
        });
        let p = run(&d, &observed_one(ZONE, o), &j, now, Mode::Destroy);
        apply_updates(&mut j, &p);
        assert_signing_held(&p, &format!("on day {n} while a parent server is silent"));
    }
    // No parent server observed at all proves nothing either.
    let mut o = st.obs(day(50));
    o.live.parent_servers.clear();
    let p = run(&d, &observed_one(ZONE, o), &j, day(50), Mode::Destroy);
    assert_signing_held(&p, "with no parent server observed");
}

#[test]
fn destroy_after_re_enable_does_not_reuse_the_old_ds_gone_instant() {
    let d = desired(vec![zone_spec(ZONE, TrustKind::Parent)], vec![]);
    let mut j = onboarded_journal(&d, TrustKind::Parent);
    let mut st = signed_stage(TrustKind::Parent);
    st.ds_ttl = 86_400;
    // Trusted: the DS (TTL 1 day) at every parent server.
    st.ds_api = true;
    st.ds_live = 4;
    step(&d, &st, &mut j, day(30), Mode::Apply);
    // First destroy: the DS goes out and is seen gone on day 40.
    st.ds_api = false;
    st.ds_live = 0;
    step(&d, &st, &mut j, day(40), Mode::Destroy);
    // Re-enabled on day 45: the DS goes back (not observed by this run), then is removed by hand.
    step(&d, &st, &mut j, day(45), Mode::Apply);
    // Destroy again on day 46: the DS gone instant of day 40 must not count.
    let p = step(&d, &st, &mut j, day(46), Mode::Destroy);
    assert_signing_held(&p, "right after the second destroy starts");
    let p = step(
        &d,
        &st,
        &mut j,
        Secs::hours(46 * 24 + 12).after(t0()),
        Mode::Destroy,
    );
    assert_signing_held(&p, "half a DS TTL into the second destroy");
    let p = step(&d, &st, &mut j, day(48), Mode::Destroy);
    assert_eq!(ready(&p), vec![ActionKind::DisableSigning]);
}

#[test]
fn a_zone_with_an_error_issue_runs_no_step() {
    let mut spec = zone_spec(ZONE, TrustKind::Parent);
    for i in 2..=3 {
        spec.signing.ksks.push(KskSpec {
            name: format!("ksk_{i}"),
            kms_key: format!(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-12345678900{i}"
            ),
        });
    }
    let d = desired(vec![spec], vec![]);
    let j = Journal::new("lineage-test");
    let p = run(
        &d,
        &observed_one(ZONE, Stage::new(ZONE, TrustKind::Parent).obs(t0())),
        &j,
        t0(),
        Mode::Apply,
    );
    assert!(
        p.zones[0].issues.iter().any(|i| i.code == "PLAN006"),
        "{:?}",
        p.zones[0].issues
    );
    assert!(ready(&p).is_empty(), "ready: {:?}", ready(&p));
    let first = p.zones[0].pending().next().expect("a pending step");
    assert_eq!(first.status, StepStatus::Blocked);
    let held = first
        .gates
        .iter()
        .find(|g| g.rule == "zone-without-errors")
        .expect("held by the error");
    assert!(held.detail.contains("PLAN006"), "{}", held.detail);
}

#[test]
fn registrar_only_domain_destroy_waits_while_a_registrar_add_is_in_flight() {
    let d = desired(
        vec![],
        vec![domain_spec(
            "example.net",
            vec![dnssec_pilot::config::RegistrarKeySpec::FromDns],
        )],
    );
    let mut j = Journal::new("lineage-test");
    j.domains
        .entry(zn("example.net"))
        .or_default()
        .steps
        .push(StepRecord {
            step_id: "example.net/add_registrar_key/1".into(),
            action: Action::AddRegistrarKey {
                domain: zn("example.net"),
                key: Dnskey::new(257, 13, KEY_A),
            },
            token: "tok".into(),
            intent_at: t0(),
            outcome: Some(StepOutcome {
                at: t0(),
                result: Ok(ActionResult::default()),
                reconciled: false,
            }),
        });
    for n in [0, 4, 8] {
        let now = day(n);
        let o = domain_observed("example.net", domain_obs(&[KEY_A], &[], true, now));
        let p = run(&d, &o, &j, now, Mode::Destroy);
        apply_updates(&mut j, &p);
        assert!(
            ready(&p).is_empty(),
            "day {n}: nothing may tell the operator to stop signing while the ADD runs: {:?}",
            ready(&p)
        );
    }
    // The ADD finished and published a key: it goes first, then the 3-day wait starts afresh.
    let o = domain_observed("example.net", domain_obs(&[KEY_A], &[KEY_A], false, day(9)));
    let p = run(&d, &o, &j, day(9), Mode::Destroy);
    apply_updates(&mut j, &p);
    assert_eq!(ready(&p), vec![ActionKind::RemoveRegistrarKey]);
}

/// The quickstart's KMS key disabled before the first apply: `create_ksk` fails every time.
fn failing_world() -> (dnssec_pilot::config::Desired, SandboxProvider) {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml");
    let desired = dnssec_pilot::config::load(&config).unwrap().desired;
    let mut w = init_world(&desired, 7, "2026-01-05T00:00:00Z".parse().unwrap());
    let arn = desired.zones[0].signing.ksks[0].kms_key.clone();
    w.kms_keys.insert(
        arn.clone(),
        KmsKey {
            arn,
            enabled: false,
        },
    );
    (desired, SandboxProvider::in_memory(w))
}

fn failed_create_ksk(store: &JournalStore) -> usize {
    let j = store.load().unwrap().unwrap();
    j.zones
        .values()
        .flat_map(|z| z.steps.iter())
        .filter(|s| matches!(s.action, Action::CreateKsk { .. }))
        .filter(|s| matches!(&s.outcome, Some(o) if o.result.is_err()))
        .count()
}

#[test]
fn a_step_that_keeps_failing_ends_the_run_instead_of_a_hot_loop() {
    let (desired, p) = failing_world();
    let dir = tempfile::tempdir().unwrap();
    let store = JournalStore::new(dir.path().join("state.json"));
    // --wait: bounded tries with backoff, then the run ends with the error.
    let err = engine(&p, &desired, &store, Mode::Apply, Some(DEFAULT_MAX_WAIT))
        .expect_err("the run must fail");
    match &err {
        EngineError::StepFailed {
            step,
            tries,
            message,
        } => {
            assert!(
                step.ends_with("create_ksk/ksk_1") || step.contains("create_ksk"),
                "{step}"
            );
            assert_eq!(*tries, MAX_TRIES);
            assert!(message.contains("InvalidKMSArn"), "{message}");
        }
        other => panic!("expected StepFailed, got {other:?}"),
    }
    assert_eq!(failed_create_ksk(&store), MAX_TRIES as usize);
    // Without --wait: one try, then the run ends.
    let err = engine(&p, &desired, &store, Mode::Apply, None).expect_err("the run must fail");
    assert!(
        matches!(err, EngineError::StepFailed { tries: 1, .. }),
        "{err:?}"
    );
    assert_eq!(failed_create_ksk(&store), MAX_TRIES as usize + 1);
}

#[test]
fn a_ksk_rollover_is_refused_before_any_call() {
    let mut spec = zone_spec(ZONE, TrustKind::Parent);
    spec.signing.ksks = vec![KskSpec {
        name: "ksk_2".into(),
        kms_key: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-123456789002"
            .into(),
    }];
    let d = desired(vec![spec], vec![]);
    let mut j = onboarded_journal(&d, TrustKind::Parent);
    let mut st = signed_stage(TrustKind::Parent);
    st.ds_api = true;
    st.ds_live = 4;
    for n in [30, 31, 60] {
        let p = step(&d, &st, &mut j, day(n), Mode::Apply);
        assert!(
            p.zones[0].issues.iter().any(|i| i.code == "PLAN015"),
            "{:?}",
            p.zones[0].issues
        );
        assert!(ready(&p).is_empty(), "day {n}: {:?}", ready(&p));
    }
}

/// One engine run against the sandbox, approving everything; `max_wait` implies `--wait`.
fn engine(
    p: &SandboxProvider,
    desired: &dnssec_pilot::config::Desired,
    store: &JournalStore,
    mode: Mode,
    max_wait: Option<Secs>,
) -> Result<RunOutcome, EngineError> {
    let engine = Engine {
        provider: p,
        desired,
        store,
        options: EngineOptions {
            mode,
            only: vec![],
            wait: max_wait.is_some(),
            max_wait,
        },
        fault: None,
    };
    rt().block_on(engine.run(&mut |_| true, &mut |_| {}))
}

/// Bogus answers of the whole run, after the world has gone on for `after` more: a DS published
/// late, or cached, shows only after the engine converged.
fn bogus(p: &SandboxProvider, after: Secs) -> serde_json::Value {
    rt().block_on(p.wait_until(after.after(p.now()))).unwrap();
    serde_json::to_value(p.report()).unwrap()["bogus_answers"].clone()
}

/// End to end in the sandbox: the registry takes 9 days for every operation (longer than the 5-day
/// hold for a DS never seen); apply stops while
/// the ADD of the registrar key is still running, then destroy walks back. Before the fix the
/// KSK went while the ADD still published a DS (21,259 bogus answers).
#[test]
fn sandbox_destroy_during_a_slow_registrar_add_gives_no_bogus_answer() {
    let config =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/route53-registrar.yaml");
    let desired = dnssec_pilot::config::load(&config).unwrap().desired;
    let mut w = init_world(&desired, 11, "2026-01-05T00:00:00Z".parse().unwrap());
    w.settings.registrar_op_min = Secs::days(9);
    w.settings.registrar_op_max = Secs::days(9);
    let p = SandboxProvider::in_memory(w);
    let dir = tempfile::tempdir().unwrap();
    let store = JournalStore::new(dir.path().join("state.json"));
    // The 14-day soak, then the ADD is submitted; stop two days into it.
    let out = engine(&p, &desired, &store, Mode::Apply, Some(Secs::days(17))).unwrap();
    assert!(matches!(out, RunOutcome::Stopped { .. }), "{out:?}");
    let report = serde_json::to_value(p.report()).unwrap();
    assert!(
        report.to_string().contains("ADD_DNSSEC"),
        "the ADD must still be running: {report:#}"
    );
    let out = engine(&p, &desired, &store, Mode::Destroy, Some(Secs::days(60))).unwrap();
    assert!(matches!(out, RunOutcome::Converged { .. }), "{out:?}");
    assert_eq!(bogus(&p, Secs::days(14)), 0);
}

/// End to end in the sandbox: the journal is lost while destroy waits out the DS caches (the
/// README's CI-cache recipe makes a cache miss likely). Before the fix the next run unsigned at
/// once (3 bogus answers for the quickstart, 7,620 for the registrar example).
#[test]
fn sandbox_destroy_with_the_journal_lost_mid_walk_gives_no_bogus_answer() {
    for (example, seed) in [
        ("quickstart.yaml", 5),
        ("quickstart.yaml", 6),
        ("quickstart.yaml", 7),
        ("route53-registrar.yaml", 5),
        ("route53-registrar.yaml", 6),
    ] {
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example);
        let desired = dnssec_pilot::config::load(&config).unwrap().desired;
        let p = SandboxProvider::in_memory(init_world(
            &desired,
            seed,
            "2026-01-05T00:00:00Z".parse().unwrap(),
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = JournalStore::new(&path);
        let out = engine(&p, &desired, &store, Mode::Apply, Some(Secs::days(90))).unwrap();
        assert!(
            matches!(out, RunOutcome::Converged { .. }),
            "{example}: {out:?}"
        );
        // Destroy until the DS is out and the wait has begun, then lose the journal.
        let out = engine(&p, &desired, &store, Mode::Destroy, Some(Secs::hours(1))).unwrap();
        assert!(
            matches!(out, RunOutcome::Stopped { .. }),
            "{example}: {out:?}"
        );
        std::fs::remove_file(&path).unwrap();
        let out = engine(&p, &desired, &store, Mode::Destroy, Some(Secs::days(60))).unwrap();
        assert!(
            matches!(out, RunOutcome::Converged { .. }),
            "{example}: {out:?}"
        );
        assert_eq!(bogus(&p, Secs::days(7)), 0, "{example} seed {seed}");
    }
}
