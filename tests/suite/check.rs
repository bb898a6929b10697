//! Integration tests: check. `check` end to end through the CLI against the sandbox — a healthy
//! trusted zone exits 0, an onboarding stopped at a gate exits 2, every `sandbox tamper` event
//! on a trusted zone exits 1 naming the zone and the expected stable code, `--fail-on warning`,
//! snapshots of every format on a healthy and a failing world — plus the per-server report of a
//! wrong DS against real Knot DNS servers, and `iam-policy`.

// Its own copy of the fixture module (and its own Knot instance, so that switching DS here never
// races the dns tests).
#[allow(clippy::duplicate_mod)]
#[path = "../knot/fixture.rs"]
mod fixture;

use std::path::PathBuf;
use std::sync::OnceLock;

use assert_cmd::Command;
use dnssec_pilot::check;
use dnssec_pilot::config;
use dnssec_pilot::model::{Timestamp, ZoneName};
use dnssec_pilot::plan::{self, Mode, PlanInput};
use dnssec_pilot::provider::dns::{DnsObserver, ObserverConfig};
use dnssec_pilot::state::{DomainObs, Journal, Observed};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::cargo_bin("dnssec-pilot").unwrap();
    c.env("NO_COLOR", "1");
    // Relative config paths, so that GitHub annotations and snapshots are machine-independent.
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

struct Run {
    dir: tempfile::TempDir,
    /// Relative to the repository root.
    config: String,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
    fn snapshot(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    fn new(example_name: &str) -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
            config: format!("examples/{example_name}"),
        }
    }
    fn world(&self) -> PathBuf {
        self.dir.path().join("world.json")
    }
    fn state(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }
    fn run(&self, args: &[&str]) -> Out {
        let o = bin()
            .arg("--sandbox")
            .arg(self.world())
            .arg("-c")
            .arg(&self.config)
            .arg("--state")
            .arg(self.state())
            .args(args)
            .output()
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).to_string(),
            stderr: String::from_utf8_lossy(&o.stderr).to_string(),
        }
    }
    fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, 0, "{args:?}: {}\n{}", o.stdout, o.stderr);
        o
    }
    fn check_json(&self, extra: &[&str]) -> Out {
        let mut a = vec!["--format", "json", "check"];
        a.extend_from_slice(extra);
        self.run(&a)
    }
    /// Init and onboard to the end.
    fn trusted(example_name: &str) -> Run {
        let r = Run::new(example_name);
        r.ok(&["sandbox", "init"]);
        let o = r.ok(&["apply", "--auto-approve", "--wait"]);
        assert!(o.stderr.contains("Converged at"), "{}", o.stderr);
        r
    }
}

/// Codes of every finding of `zone` in a `check --format json` document.
fn codes(doc: &Value, zone: &str) -> Vec<String> {
    let z = doc["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["zone"] == zone)
        .unwrap_or_else(|| panic!("{zone} not in {doc:#}"));
    let mut v: Vec<String> = z["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn error_codes(doc: &Value, zone: &str) -> Vec<String> {
    let z = doc["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["zone"] == zone)
        .unwrap();
    let mut v: Vec<String> = z["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_healthy_trusted_zone_exits_0_for_every_trust_kind() {
    for (example, zone) in [
        ("quickstart.yaml", "shop.example.com"),
        ("route53-registrar.yaml", "example.org"),
        ("external-registrar.yaml", "example.net"),
    ] {
        let r = Run::trusted(example);
        let o = r.check_json(&[]);
        assert_eq!(o.code, 0, "{example}: {}", o.stdout);
        let doc = o.json();
        assert_eq!(doc["exit_code"], 0);
        assert!(codes(&doc, zone).is_empty(), "{example}: {doc:#}");
        assert_eq!(doc["zones"][0]["status"], "ok");
        // Human and --fail-on warning agree.
        assert_eq!(r.run(&["check"]).code, 0);
        assert_eq!(r.run(&["check", "--fail-on", "warning"]).code, 0);
    }
}

#[test]
fn an_onboarding_stopped_at_a_gate_exits_2_with_its_pending_steps() {
    let r = Run::new("quickstart.yaml");
    r.ok(&["sandbox", "init"]);
    // Before anything ran: every step is pending.
    let o = r.check_json(&[]);
    assert_eq!(o.code, 2, "{}", o.stdout);
    let o = r.run(&["apply", "--auto-approve", "--detailed-exitcode"]);
    assert_eq!(o.code, 2, "{}", o.stdout);
    let o = r.check_json(&[]);
    assert_eq!(o.code, 2, "{}", o.stdout);
    let doc = o.json();
    let z = &doc["zones"][0];
    assert_eq!(z["status"], "pending", "{doc:#}");
    assert!(
        z["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["status"] == "blocked" && p["waiting_for"].is_string()),
        "{doc:#}"
    );
    assert!(error_codes(&doc, "shop.example.com").is_empty(), "{doc:#}");
    // Half-way: signing on, DS not yet published (the soak gate) — still 2, never 1.
    for _ in 0..6 {
        r.run(&["apply", "--auto-approve"]);
        r.ok(&["sandbox", "advance", "1h"]);
        let o = r.check_json(&[]);
        assert_eq!(o.code, 2, "{}", o.stdout);
    }
    let show: Value =
        serde_json::from_str(&r.ok(&["--format", "json", "sandbox", "show"]).stdout).unwrap();
    assert_eq!(show["zones"][0]["signing_status"], "SIGNING", "{show:#}");
}

/// Each tamper event, how long to let the world run afterwards, the codes check must report
/// as errors (all of them), and whether the drift/pending part also shows.
struct Case {
    event: &'static str,
    advance: Option<&'static str>,
    must: &'static [&'static str],
}

const CASES: &[Case] = &[
    // Someone deletes the DS: the zone silently drops to insecure.
    Case {
        event: "remove-ds",
        advance: Some("1h"),
        must: &["CHK013"],
    },
    // Signing off under a published DS: the outage the seeds warn about.
    Case {
        event: "disable-signing",
        advance: Some("1h"),
        must: &["CHK001", "CHK005", "CHK006"],
    },
    // KMS key revoked: KSK ACTION_NEEDED at once …
    Case {
        event: "kms-revoke",
        advance: None,
        must: &["CHK007"],
    },
    // … and once the signatures expired, the DNSKEY RRset no longer verifies.
    Case {
        event: "kms-revoke",
        advance: Some("2d"),
        must: &["CHK002", "CHK003", "CHK007", "CHK011"],
    },
    // A record TTL raised by hand above anything the config or the original zone had.
    Case {
        event: "raise-ttl",
        advance: Some("1h"),
        must: &["CHK008"],
    },
    // A DS that matches no key: every validating resolver gets SERVFAIL.
    Case {
        event: "wrong-ds",
        advance: Some("1h"),
        must: &["CHK001", "CHK002"],
    },
];

fn tamper_cases(example: &str, zone: &str) {
    let base = Run::trusted(example);
    for c in CASES {
        // A copy of the trusted world and journal for each case.
        let r = Run {
            dir: tempfile::tempdir().unwrap(),
            config: base.config.clone(),
        };
        std::fs::copy(base.world(), r.world()).unwrap();
        std::fs::copy(base.state(), r.state()).unwrap();
        assert_eq!(r.check_json(&[]).code, 0);
        r.ok(&["sandbox", "tamper", c.event, "--zone", zone]);
        if let Some(d) = c.advance {
            r.ok(&["sandbox", "advance", d]);
        }
        let o = r.check_json(&[]);
        let doc = o.json();
        assert_eq!(
            o.code, 1,
            "{example} {} (+{:?}) not caught:\n{doc:#}",
            c.event, c.advance
        );
        assert_eq!(doc["exit_code"], 1);
        let errs = error_codes(&doc, zone);
        for m in c.must {
            assert!(
                errs.iter().any(|e| e == m),
                "{example} {} (+{:?}): expected {m} among {errs:?}\n{doc:#}",
                c.event,
                c.advance
            );
        }
        let z = doc["zones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|z| z["zone"] == zone)
            .unwrap();
        assert_eq!(z["status"], "error");
        // The human and GitHub forms name the zone and the code too.
        let h = r.run(&["check"]);
        assert_eq!(h.code, 1);
        assert!(
            h.stdout.contains(&format!("FAIL    {zone}")),
            "{}",
            h.stdout
        );
        assert!(h.stdout.contains(c.must[0]), "{}", h.stdout);
        let g = r.run(&["check", "--format", "github"]);
        assert_eq!(g.code, 1);
        assert!(
            g.stdout.contains(&format!(
                "::error file={},line=",
                base.config.replace(':', "%3A")
            )) && g.stdout.contains(&format!("title={} {zone}::", c.must[0])),
            "{}",
            g.stdout
        );
    }
}

#[test]
fn every_tamper_event_on_a_parent_zone_trusted_zone_fails_with_its_code() {
    tamper_cases("quickstart.yaml", "shop.example.com");
}

#[test]
fn every_tamper_event_on_a_registrar_trusted_zone_fails_with_its_code() {
    tamper_cases("route53-registrar.yaml", "example.org");
}

#[test]
fn every_tamper_event_on_an_external_registrar_zone_fails_with_its_code() {
    tamper_cases("external-registrar.yaml", "example.net");
}

/// Warnings alone exit with the drift/pending/healthy code unless `--fail-on warning`.
#[test]
fn fail_on_warning_turns_warnings_into_exit_1() {
    let r = Run::new("quickstart.yaml");
    r.ok(&["sandbox", "init"]);
    // Walk the onboarding gate by gate; after each apply, look at the next minute in 15 s steps
    // for the moment the servers disagree (a DNSKEY or DS set picked up by some servers only,
    // the sandbox's per-server lags are 3..52 s): a warning with no error.
    let now = |r: &Run| -> jiff::Timestamp {
        let show: Value =
            serde_json::from_str(&r.ok(&["--format", "json", "sandbox", "show"]).stdout).unwrap();
        show["now"].as_str().unwrap().parse().unwrap()
    };
    for _ in 0..200 {
        let a = r.run(&["--format", "json", "apply", "--auto-approve"]);
        assert_ne!(a.code, 1, "{}\n{}", a.stdout, a.stderr);
        for _ in 0..5 {
            let o = r.check_json(&[]);
            let doc = o.json();
            assert_ne!(o.code, 1, "an onboarding step failed a check: {doc:#}");
            if doc["zones"][0]["status"] == "warning" {
                assert_eq!(o.code, 2, "warnings alone keep the pending code: {doc:#}");
                assert!(codes(&doc, "shop.example.com").contains(&"CHK004".to_string()));
                assert!(error_codes(&doc, "shop.example.com").is_empty());
                assert_eq!(r.check_json(&["--fail-on", "error"]).code, 2);
                let f = r.check_json(&["--fail-on", "warning"]);
                assert_eq!(f.code, 1, "{}", f.stdout);
                assert_eq!(f.json()["exit_code"], 1);
                return;
            }
            r.ok(&["sandbox", "advance", "15s"]);
        }
        let doc = a.json();
        if doc["outcome"] == "converged" {
            break;
        }
        let wait = match doc["next_gate"].as_str() {
            Some(t) => t.parse::<jiff::Timestamp>().unwrap().as_second() - now(&r).as_second(),
            None => 60,
        };
        if wait > 0 {
            r.ok(&["sandbox", "advance", &format!("{wait}s")]);
        }
    }
    panic!("no moment with servers disagreeing was found");
}

// ------------------------------------------------------------------ snapshots of every format

fn snapshot_world(failing: bool) -> Run {
    let r = Run::trusted("quickstart.yaml");
    if failing {
        r.ok(&["sandbox", "tamper", "wrong-ds"]);
        r.ok(&["sandbox", "advance", "1h"]);
    }
    r
}

#[test]
fn every_format_is_snapshotted_on_a_healthy_and_a_failing_world() {
    for (label, failing) in [("healthy", false), ("failing", true)] {
        let r = snapshot_world(failing);
        for format in ["human", "json", "github", "junit"] {
            let o = r.run(&["--format", format, "check"]);
            assert_eq!(o.code, if failing { 1 } else { 0 });
            if format == "json" {
                let doc = o.json();
                assert_eq!(doc["format_version"], 1);
            }
            if format == "junit" {
                // Well-formed enough for a CI dashboard: one suite, balanced tags.
                assert_eq!(o.stdout.matches("<testsuite ").count(), 1);
                assert_eq!(
                    o.stdout.matches("<testcase ").count(),
                    o.stdout.matches("</testcase>").count()
                );
                assert_eq!(o.stdout.contains("<failure"), failing);
            }
            insta::assert_snapshot!(format!("check_{label}_{format}"), o.snapshot());
        }
    }
}

// ------------------------------------------------------------------ Knot: per-server DS report

fn knot() -> &'static fixture::Knot {
    static K: OnceLock<fixture::Knot> = OnceLock::new();
    // One extra listener on the parent primary: two addresses that serve the same wrong DS.
    K.get_or_init(|| fixture::Knot::start(1, 0))
}

async fn check_knot_domain(k: &fixture::Knot, zone: &ZoneName) -> check::CheckReport {
    let parents: Vec<String> = [k.parent, k.parent_extra[0], k.parent2]
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect();
    let yaml = format!(
        "version: 1\ndomains:\n  - name: {zone}\n    registrar_keys:\n      - from_dns: true\n    dns:\n      parent_servers: [{}]\n      zone_servers: [\"{}\"]\n",
        parents.join(", "),
        k.child
    );
    let desired = config::load_str(&yaml, "knot.yaml")
        .unwrap_or_else(|e| panic!("{}", e.render(false, false)))
        .desired;
    let spec = desired.domain(zone).unwrap();
    let obs = DnsObserver::new(ObserverConfig::default());
    let live = obs.observe_live(zone, &spec.dns).await;
    let mut observed = Observed::default();
    observed.domains.insert(
        zone.clone(),
        DomainObs {
            registrar: None,
            live,
        },
    );
    let journal = Journal::new("check-test");
    let now: Timestamp = obs.now();
    let p = plan::plan(PlanInput {
        desired: &desired,
        observed: &observed,
        journal: &journal,
        now,
        mode: Mode::Apply,
        only: &[],
    });
    check::check(&desired, &observed, &journal, &p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knot_a_wrong_ds_is_reported_per_server_with_its_address() {
    let k = knot();
    let zone = ZoneName::parse("sub.test").unwrap();
    k.set_ds("sub.test", "matching");
    k.refresh_secondary();
    let rep = check_knot_domain(k, &zone).await;
    let z = &rep.zones[0];
    assert!(
        z.findings().all(|f| f.code != "CHK001"),
        "{:#?}",
        z.findings().collect::<Vec<_>>()
    );

    // The primary (both its addresses) serves a wrong DS; the lagging secondary the old one.
    k.set_ds("sub.test", "wrong");
    let rep = check_knot_domain(k, &zone).await;
    let z = &rep.zones[0];
    let chk001: Vec<&check::Finding> = z.findings().filter(|f| f.code == "CHK001").collect();
    let subjects: Vec<String> = chk001.iter().map(|f| f.subject.clone()).collect();
    assert_eq!(
        subjects,
        vec![k.parent.to_string(), k.parent_extra[0].to_string()],
        "{chk001:#?}"
    );
    for f in &chk001 {
        assert_eq!(f.severity, check::CheckSeverity::Error);
        assert!(f.message.contains(&f.subject), "{}", f.message);
    }
    assert!(
        z.findings()
            .any(|f| f.code == "CHK004" && f.message.contains("different DS sets")),
        "the servers disagree: {:#?}",
        z.findings().collect::<Vec<_>>()
    );
    assert_eq!(rep.exit_code(false), 1);
    let text = check::report::human(&rep, 1);
    assert!(text.contains(&k.parent.to_string()), "{text}");

    // Once the secondary catches up, all three addresses are reported.
    k.refresh_secondary();
    let rep = check_knot_domain(k, &zone).await;
    let n = rep.zones[0]
        .findings()
        .filter(|f| f.code == "CHK001" && f.subject == k.parent2.to_string())
        .count();
    assert_eq!(n, 1);
    k.set_ds("sub.test", "matching");
    k.refresh_secondary();
}

// ------------------------------------------------------------------ iam-policy

fn iam(example_name: &str, extra: &[&str]) -> Out {
    let o = bin()
        .arg("-c")
        .arg(format!("examples/{example_name}"))
        .arg("iam-policy")
        .args(extra)
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).to_string(),
        stderr: String::from_utf8_lossy(&o.stderr).to_string(),
    }
}

fn actions(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn resources(doc: &Value) -> Vec<String> {
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Resource"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn iam_policy_is_scoped_to_the_configured_zones_and_keys() {
    let full = iam("quickstart.yaml", &[]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    let doc = full.json();
    assert_eq!(doc["Version"], "2012-10-17");
    let acts = actions(&doc);
    for a in [
        "route53:ChangeResourceRecordSets",
        "route53:CreateKeySigningKey",
        "route53:EnableHostedZoneDNSSEC",
        "route53:DisableHostedZoneDNSSEC",
        "kms:CreateGrant",
        "kms:Sign",
        "kms:GetPublicKey",
        "route53:GetChange",
    ] {
        assert!(acts.contains(&a.to_string()), "{a} missing: {acts:?}");
    }
    // No wildcard actions, no registrar actions for a parent-zone zone.
    assert!(acts.iter().all(|a| !a.contains('*')), "{acts:?}");
    assert!(acts.iter().all(|a| !a.starts_with("route53domains:")));
    let res = resources(&doc);
    assert!(res.contains(&"arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ".to_string()));
    assert!(res.contains(&"arn:aws:route53:::hostedzone/Z0987654321ZYXWVUTSRQ".to_string()));
    assert!(!res.contains(&"arn:aws:route53:::hostedzone/*".to_string()));
    // The parent zone only takes DS writes for the child.
    let parent_write = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["Resource"][0] == "arn:aws:route53:::hostedzone/Z0987654321ZYXWVUTSRQ"
                && s["Action"][0] == "route53:ChangeResourceRecordSets"
        })
        .unwrap();
    assert_eq!(
        parent_write["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"],
        serde_json::json!(["DS"])
    );
    // Every `*` resource is on an action that takes no resource scoping.
    for s in doc["Statement"].as_array().unwrap() {
        if s["Resource"][0] == "*" {
            for a in s["Action"].as_array().unwrap() {
                let a = a.as_str().unwrap();
                assert!(
                    a == "route53:ListHostedZonesByName" || a.starts_with("route53domains:"),
                    "{a} on *"
                );
            }
        }
    }
    assert!(full.stderr.is_empty(), "{}", full.stderr);

    let ro = iam("quickstart.yaml", &["--read-only"]);
    assert_eq!(ro.code, 0);
    let ro_acts = actions(&ro.json());
    for a in &ro_acts {
        assert!(
            a.contains(":Get") || a.contains(":List") || a.contains(":Describe"),
            "{a} is not read-only"
        );
    }
    assert!(ro_acts.iter().all(|a| acts.contains(a)));

    // Registrar zone with an alias key: registrar actions, alias condition, note on stderr.
    let reg = iam("route53-registrar.yaml", &[]);
    let doc = reg.json();
    let acts = actions(&doc);
    assert!(acts.contains(&"route53domains:AssociateDelegationSignerToDomain".to_string()));
    assert!(acts.contains(&"route53domains:DisassociateDelegationSignerFromDomain".to_string()));
    assert!(reg.stderr.contains("alias"), "{}", reg.stderr);
    let s = serde_json::to_string(&doc).unwrap();
    assert!(s.contains("kms:ResourceAliases") && s.contains("alias/dnssec-example-org"));

    insta::assert_snapshot!("iam_quickstart_full", full.snapshot());
    insta::assert_snapshot!("iam_quickstart_read_only", ro.snapshot());
    insta::assert_snapshot!("iam_route53_registrar_full", reg.snapshot());
}

#[test]
fn iam_policy_without_a_hosted_zone_id_falls_back_to_every_zone_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "version: 1\nzones:\n  - name: example.com\n    signing:\n      ksks:\n        - name: example_com_ksk_1\n          kms_key: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n    trust:\n      registrar: external\n",
    )
    .unwrap();
    let o = bin()
        .arg("-c")
        .arg(&cfg)
        .arg("iam-policy")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(resources(&doc).contains(&"arn:aws:route53:::hostedzone/*".to_string()));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("example.com") && err.contains("hosted_zone_id"),
        "{err}"
    );
}

// ------------------------------------------------------------------ chain of trust from the model

/// `check` over a zone observed as given, with a journal that holds it (no `PLAN017`).
fn check_observed(zo: dnssec_pilot::state::ZoneObs) -> check::CheckReport {
    use super::plan::{TrustKind, desired, observed_one, run, t0, zone_spec};
    let zone = "app.example.com";
    let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
    let o = observed_one(zone, zo);
    let mut j = Journal::new("check-test");
    j.start_afresh([&ZoneName::parse(zone).unwrap()], t0());
    let p = run(&d, &o, &j, t0(), Mode::Apply);
    check::check(&d, &o, &j, &p)
}

fn trusted_stage() -> super::plan::Stage {
    use super::plan::{Stage, TrustKind};
    use dnssec_pilot::state::{KskStatus, SigningStatus};
    let mut st = Stage::new("app.example.com", TrustKind::Parent);
    st.ttls_lowered = true;
    st.ksk = Some(KskStatus::Active);
    st.signing = SigningStatus::Signing;
    st.ds_api = true;
    st.ds_live = 4;
    st
}

#[test]
fn a_ds_rrset_that_does_not_verify_at_a_parent_server_fails_chk014() {
    let zo = trusted_stage().obs(super::plan::t0());
    let rep = check_observed(zo.clone());
    assert!(
        rep.zones[0].findings().all(|f| f.code != "CHK014"),
        "{:#?}",
        rep.zones[0].findings().collect::<Vec<_>>()
    );
    let mut bad = zo;
    let server = bad.live.parent_servers[1].server.clone();
    if let Ok(a) = &mut bad.live.parent_servers[1].result {
        a.ds_signed = Some(false);
    }
    let rep = check_observed(bad);
    let f: Vec<&check::Finding> = rep.zones[0]
        .findings()
        .filter(|f| f.code == "CHK014")
        .collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].subject, server);
    assert_eq!(f[0].severity, check::CheckSeverity::Error);
    assert_eq!(rep.exit_code(false), 1);
}

#[test]
fn a_ds_for_a_key_that_is_served_but_does_not_sign_fails_chk002() {
    let mut zo = trusted_stage().obs(super::plan::t0());
    for s in &mut zo.live.zone_servers {
        if let Ok(a) = &mut s.result {
            a.dnskey_signers = vec![1];
        }
    }
    let rep = check_observed(zo);
    let f: Vec<&check::Finding> = rep.zones[0]
        .findings()
        .filter(|f| f.code == "CHK002")
        .collect();
    assert_eq!(f.len(), 4, "{f:#?}");
    assert!(
        f[0].message.contains("not signed by it"),
        "{}",
        f[0].message
    );
}
