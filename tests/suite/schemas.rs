//! Integration tests of the JSON Schemas: `dnssec-pilot schema config|plan|world|check` prints
//! exactly the committed files under `schemas/` (regenerate them with
//! `UPDATE_SCHEMAS=1 cargo test --test cli suite::schemas`), each is a valid draft 2020-12
//! schema, and real documents the tool produces validate against the schema that claims to
//! describe them: `plan --format json` (with and without `--timeline`, onboard and destroy)
//! against plan.schema.json, the sandbox world *file* (what `--sandbox WORLD` reads and writes;
//! not the `sandbox show` report) against world.schema.json, and `check --format json` against
//! check.schema.json. Negative controls prove the validation can fail.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("dnssec-pilot").unwrap();
    c.env("NO_COLOR", "1");
    c
}

const KINDS: [&str; 4] = ["config", "plan", "world", "check"];

fn schema_path(kind: &str) -> PathBuf {
    root().join("schemas").join(format!("{kind}.schema.json"))
}

/// What `dnssec-pilot schema KIND` prints.
fn printed(kind: &str) -> String {
    let out = bin().args(["schema", kind]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "schema {kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "schema {kind} wrote to stderr");
    String::from_utf8(out.stdout).unwrap()
}

/// The schema of `kind` (what the binary prints; the freshness test holds the committed file
/// equal to it, so reading the output keeps `UPDATE_SCHEMAS=1` runs free of races).
fn schema(kind: &str) -> Value {
    serde_json::from_str(&printed(kind)).unwrap()
}

/// Every violation of `doc` against the committed schema of `kind` (formats asserted too).
fn violations(kind: &str, doc: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(kind))
        .unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[track_caller]
fn assert_valid(kind: &str, doc: &Value, what: &str) {
    let v = violations(kind, doc);
    assert!(
        v.is_empty(),
        "{what} does not validate against schemas/{kind}.schema.json:\n  {}",
        v.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Freshness.

/// The committed files equal what the binary prints. With `UPDATE_SCHEMAS=1` they are rewritten
/// first (then the test checks the rewrite).
#[test]
fn committed_schemas_equal_the_schema_command_output() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for kind in KINDS {
        let text = printed(kind);
        let path = schema_path(kind);
        if update {
            std::fs::write(&path, &text).unwrap();
        }
        if std::fs::read_to_string(&path).unwrap_or_default() != text {
            stale.push(format!("schemas/{kind}.schema.json"));
        }
    }
    assert!(
        stale.is_empty(),
        "{} stale (not what `dnssec-pilot schema KIND` prints); regenerate with:\n  UPDATE_SCHEMAS=1 cargo test --test cli suite::schemas",
        stale.join(", ")
    );
}

#[test]
fn every_schema_is_a_valid_draft_2020_12_schema_with_its_title() {
    let titles = [
        ("config", None),
        ("plan", Some("PlanDoc")),
        ("world", Some("World")),
        ("check", Some("CheckDoc")),
    ];
    for (kind, title) in titles {
        let s = schema(kind);
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{kind}"
        );
        if let Err(e) = jsonschema::meta::validate(&s) {
            panic!("schemas/{kind}.schema.json is not a valid JSON Schema: {e}");
        }
        if let Some(t) = title {
            assert_eq!(s["title"], t, "{kind}");
        }
        assert!(s["type"] == "object", "{kind}: the document is an object");
    }
}

#[test]
fn schema_without_a_kind_prints_the_config_schema_and_a_bad_kind_is_refused() {
    let out = bin().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), printed("config"));
    let out = bin().args(["schema", "journal"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("check"),
        "the possible values are listed: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Real documents against their schemas.

struct Sandbox {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Sandbox {
    fn new(example: &str) -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            config: root().join("examples").join(example),
        };
        s.ok(&["sandbox", "init"]);
        s
    }
    fn world(&self) -> PathBuf {
        self.dir.path().join("world.json")
    }
    fn out(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = bin()
            .arg("--sandbox")
            .arg(self.world())
            .arg("-c")
            .arg(&self.config)
            .arg("--state")
            .arg(self.dir.path().join("state.json"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }
    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.out(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        out
    }
    fn json(&self, args: &[&str], codes: &[i32]) -> Value {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        let (code, out, err) = self.out(&a);
        assert!(
            code.is_some_and(|c| codes.contains(&c)),
            "{args:?} exited {code:?}: {err}"
        );
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }
    fn world_file(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.world()).unwrap()).unwrap()
    }
}

fn step_count(plan: &Value) -> usize {
    plan["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["steps"].as_array().unwrap().len())
        .sum()
}

#[test]
fn plan_documents_validate_against_plan_schema() {
    for example in [
        "quickstart.yaml",
        "route53-registrar.yaml",
        "external-registrar.yaml",
        "registrar-keys-only.yaml",
    ] {
        let s = Sandbox::new(example);
        let p = s.json(&["plan"], &[0]);
        assert!(step_count(&p) > 0, "{example}: {p}");
        assert_valid("plan", &p, &format!("{example}: plan"));
        let p = s.json(&["plan", "--timeline"], &[0]);
        assert!(
            !p["timeline"].as_array().unwrap().is_empty(),
            "{example}: {p}"
        );
        assert_valid("plan", &p, &format!("{example}: plan --timeline"));
        // Half-way (stopped at the first closed gate), then a destroy plan from there.
        s.ok(&["apply", "--auto-approve"]);
        let p = s.json(&["plan", "--timeline"], &[0]);
        assert_valid("plan", &p, &format!("{example}: plan after one apply"));
        let p = s.json(&["plan", "--destroy", "--timeline"], &[0]);
        assert_eq!(p["mode"], "destroy");
        assert_valid("plan", &p, &format!("{example}: plan --destroy"));
    }
}

#[test]
fn the_world_file_validates_against_world_schema_at_every_stage_and_the_show_report_does_not() {
    for example in [
        "quickstart.yaml",
        "route53-registrar.yaml",
        "external-registrar.yaml",
        "registrar-keys-only.yaml",
    ] {
        let s = Sandbox::new(example);
        assert_valid("world", &s.world_file(), &format!("{example}: fresh world"));
        // Half-way: changes pending, a registrar operation or an outside registrar's pending
        // publication in flight.
        s.ok(&["apply", "--auto-approve"]);
        s.ok(&["sandbox", "advance", "30s"]);
        assert_valid("world", &s.world_file(), &format!("{example}: half-way"));
        s.ok(&["apply", "--auto-approve", "--wait"]);
        let w = s.world_file();
        assert_valid("world", &w, &format!("{example}: onboarded"));
        s.ok(&["sandbox", "tamper", "raise-ttl"]);
        assert_valid("world", &s.world_file(), &format!("{example}: tampered"));
        s.ok(&["destroy", "--auto-approve", "--wait"]);
        assert_valid("world", &s.world_file(), &format!("{example}: destroyed"));

        // world.schema.json describes the file, not the `sandbox show --format json` report.
        let report = s.json(&["sandbox", "show"], &[0]);
        assert!(report.get("bogus_answers").is_some(), "{report}");
        assert!(
            !violations("world", &report).is_empty(),
            "{example}: the show report must not pass as a world file"
        );
    }
}

#[test]
fn check_documents_validate_against_check_schema() {
    for example in ["quickstart.yaml", "registrar-keys-only.yaml", "fleet.yaml"] {
        let s = Sandbox::new(example);
        // Fresh: steps pending (exit 2).
        let c = s.json(&["check"], &[2]);
        assert!(!c["zones"].as_array().unwrap().is_empty(), "{c}");
        assert_valid("check", &c, &format!("{example}: check before onboarding"));
        s.ok(&["apply", "--auto-approve", "--wait"]);
        let c = s.json(&["check"], &[0, 2]);
        assert_valid("check", &c, &format!("{example}: check after onboarding"));
        // Drift and a broken chain: findings with severities.
        s.ok(&["sandbox", "tamper", "disable-signing"]);
        s.ok(&["sandbox", "advance", "2h"]);
        let c = s.json(&["check"], &[1, 2]);
        assert_valid("check", &c, &format!("{example}: check after tampering"));
    }
}

// ---------------------------------------------------------------------------------------------
// Negative controls: the validation above can fail.

fn without(doc: &Value, pointer: &str) -> Value {
    let mut d = doc.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let obj = d.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    assert!(obj.remove(key).is_some(), "{pointer} not in the document");
    d
}

fn with(doc: &Value, pointer: &str, v: Value) -> Value {
    let mut d = doc.clone();
    *d.pointer_mut(pointer).unwrap() = v;
    d
}

#[test]
fn broken_documents_are_rejected() {
    let s = Sandbox::new("quickstart.yaml");
    let p = s.json(&["plan", "--timeline"], &[0]);
    assert_valid("plan", &p, "plan");
    for bad in [
        without(&p, "/fingerprint"),
        without(&p, "/zones/0/steps/0/gates"),
        with(&p, "/zones/0/steps/0/action", Value::from("launch_rockets")),
        with(&p, "/format_version", Value::from(-1)),
        with(&p, "/timeline/0/earliest", Value::from(17)),
    ] {
        assert!(!violations("plan", &bad).is_empty(), "accepted: {bad}");
    }

    let w = s.world_file();
    assert_valid("world", &w, "world");
    for bad in [
        without(&w, "/now"),
        with(&w, "/now", Value::from("soon")),
        with(&w, "/settings/resolver_count", Value::from("many")),
        with(&w, "/zones", Value::from(Vec::<Value>::new())),
    ] {
        assert!(!violations("world", &bad).is_empty(), "accepted: {bad}");
    }

    let c = s.json(&["check"], &[2]);
    assert_valid("check", &c, "check");
    for bad in [
        without(&c, "/exit_code"),
        with(&c, "/exit_code", Value::from(300)),
        without(&c, "/zones/0/checks"),
    ] {
        assert!(!violations("check", &bad).is_empty(), "accepted: {bad}");
    }
}

/// The example configs validate against the config schema too (the loader's own test checks the
/// loader; this one checks the committed schema file an editor would use).
#[test]
fn every_example_config_validates_against_config_schema() {
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_saphyr_value(&text, &path);
        assert_valid("config", &doc, &path.display().to_string());
        n += 1;
    }
    assert!(n >= 4, "examples found: {n}");
}

/// The YAML as a JSON value (through serde-saphyr, the loader's YAML parser).
fn serde_saphyr_value(text: &str, path: &Path) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
