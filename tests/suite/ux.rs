//! Integration tests: what an operator's shell and CI see (issue 15) — usage errors never exit 2
//! (the code `check` and `--detailed-exitcode` keep for "pending"), a closed stdout is never a
//! panic, a very long YAML line never crashes the diagnostics renderer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dnssec-pilot"))
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// Runs the binary with its stdout on a pipe whose reader is already closed: every write to it
/// fails with EPIPE. Returns the exit code and stderr.
fn with_closed_stdout(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(bin_path())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn usage_errors_exit_1_never_the_pending_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["check", "--fail-on", "warnings"][..],
        &["plan", "--no-such-flag"],
        &["apply", "--max-wait", "soon"],
        &["no-such-command"],
        &[],
    ] {
        let out = Command::new(bin_path())
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains('\u{1b}'), "NO_COLOR: {err}");
        assert!(out.stdout.is_empty(), "usage errors go to stderr: {args:?}");
    }
    for args in [&["--help"][..], &["--version"], &["plan", "--help"]] {
        let out = Command::new(bin_path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_closed_stdout_is_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("quickstart.yaml"), dir.path().join("dnssec.yaml")).unwrap();
    let ok = Command::new(bin_path())
        .current_dir(dir.path())
        .args(["--sandbox", "world.json", "sandbox", "init"])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    for (args, code) in [
        (&["completions", "zsh"][..], 0),
        (&["completions", "bash"], 0),
        (&["schema", "plan"], 0),
        (&["validate"], 0),
        (&["--sandbox", "world.json", "plan"], 0),
        (&["--sandbox", "world.json", "--format", "json", "plan"], 0),
        (
            &[
                "--sandbox",
                "world.json",
                "apply",
                "--auto-approve",
                "--wait",
            ],
            0,
        ),
        (&["--sandbox", "world.json", "show"], 0),
        (&["--sandbox", "world.json", "check"], 0),
        (
            &[
                "--sandbox",
                "world.json",
                "destroy",
                "--auto-approve",
                "--wait",
            ],
            0,
        ),
    ] {
        let (got, err) = with_closed_stdout(args, dir.path());
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(got, Some(code), "{args:?}: {err}");
    }
    // The apply behind the closed pipe did all its work: the journal and the world agree.
    let show = Command::new(bin_path())
        .current_dir(dir.path())
        .args([
            "--sandbox",
            "world.json",
            "--format",
            "json",
            "sandbox",
            "show",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["bogus_answers"], 0);
    assert_eq!(v["zones"][0]["signing_status"], "NOT_SIGNING");
}

#[test]
fn a_label_past_column_65535_is_clipped_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.yaml");
    let yaml = format!(
        "version: 1\nzones: [ {{ name: example.com, signing: {{ enabled: false }}, {}bogus_key: 1 }} ]\n",
        " ".repeat(70_000)
    );
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(bin_path())
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(&path)
        .arg("validate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("DP0002"), "{err}");
    assert!(err.contains("(column 70060)"), "{err}");
    assert!(
        err.lines().all(|l| l.chars().count() < 600),
        "the long line is clipped: {}",
        err.len()
    );
}

/// A zone error (here `PLAN002`: no such hosted zone) is an error of `plan`: exit 1 with or
/// without `--detailed-exitcode`, and the summary does not claim that reality matches.
#[test]
fn plan_with_a_zone_error_exits_1_and_does_not_say_no_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("quickstart.yaml"), dir.path().join("dnssec.yaml")).unwrap();
    let init = Command::new(bin_path())
        .current_dir(dir.path())
        .args(["--sandbox", "world.json", "sandbox", "init"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let other = std::fs::read_to_string(example("quickstart.yaml"))
        .unwrap()
        .replace("shop.example.com", "nosuch.example.com")
        .replace("shop_example_com", "nosuch_example_com");
    std::fs::write(dir.path().join("other.yaml"), other).unwrap();
    for extra in [&[][..], &["--detailed-exitcode"]] {
        let out = Command::new(bin_path())
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["--sandbox", "world.json", "-c", "other.yaml", "plan"])
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {text}");
        assert!(text.contains("PLAN002"), "{text}");
        assert!(!text.contains("reality matches"), "{text}");
    }
}

/// The bash completion, sourced in a real bash, completes flags after the subcommand
/// (`plan --ti<TAB>` → `--timeline`), subcommands, and values of enumerated flags.
#[test]
fn bash_completion_completes_after_the_subcommand_in_a_real_bash() {
    let out = Command::new(bin_path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("c.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |words: &[&str]| -> String {
        let cword = words.len() - 1;
        let prev = if cword > 0 { words[cword - 1] } else { "" };
        let line = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={cword}; _dnssec__pilot dnssec-pilot '{}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words[cword],
        );
        let o = Command::new("bash").args(["-c", &line]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(
        complete(&["dnssec-pilot", "pl"])
            .lines()
            .any(|l| l == "plan")
    );
    assert!(
        complete(&["dnssec-pilot", "plan", "--ti"])
            .lines()
            .any(|l| l == "--timeline"),
        "{}",
        complete(&["dnssec-pilot", "plan", "--ti"])
    );
    assert!(
        complete(&["dnssec-pilot", "check", "--fail-on", ""])
            .lines()
            .any(|l| l == "warning")
    );
}

/// After a successful `destroy`, `check` with the config unchanged does not blame "signing turned
/// off outside dnssec-pilot" (exit 1): it says the zone was destroyed and names the config change
/// (a warning; the onboarding `apply` would start is pending: exit 2).
#[test]
fn check_after_a_destroy_names_the_config_change_not_an_outside_fault() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("quickstart.yaml"), dir.path().join("dnssec.yaml")).unwrap();
    let run = |args: &[&str]| {
        Command::new(bin_path())
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["--sandbox", "world.json"])
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["sandbox", "init"][..],
        &["apply", "--auto-approve", "--wait"],
        &["destroy", "--auto-approve", "--wait"],
    ] {
        assert!(run(args).status.success(), "{args:?}");
    }
    let out = run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("CHK005") && text.contains("warning"),
        "{text}"
    );
    assert!(text.contains("signing.enabled: false"), "{text}");
    assert!(!text.contains("find out who disabled it"), "{text}");
}

/// A hint repeats the flags the user gave: following it acts on the same world, config,
/// journal and zones (`--sandbox`, `-c`, `--state`, `--zone`), and a path with a space is quoted.
#[test]
fn hints_keep_the_flags_the_user_gave() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("quickstart.yaml"),
        dir.path().join("my config.yaml"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(bin_path())
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args([
                "--sandbox",
                "w.json",
                "-c",
                "my config.yaml",
                "--state",
                "j.json",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["sandbox", "init"]).status.success());
    let out = run(&["apply", "--auto-approve", "--zone", "shop.example.com"]);
    let text = String::from_utf8_lossy(&out.stderr);
    // Streams: the plan on stdout, progress and the summary on stderr.
    let data = String::from_utf8_lossy(&out.stdout);
    assert!(
        data.contains("lower_ttls") && !data.contains("Stopped at") && !data.contains("… ok"),
        "{data}"
    );
    assert!(
        text.contains("lower_ttls … ok") && text.contains("Stopped at"),
        "{text}"
    );
    assert!(
        text.contains("`dnssec-pilot --sandbox w.json -c 'my config.yaml' --state j.json apply --zone shop.example.com`"),
        "{text}"
    );
    let out = run(&["plan", "--destroy", "-o", "d.plan"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("destroy plan") && err.contains("--state j.json apply d.plan`"),
        "{err}"
    );
}

/// The approval prompt names every step it approves, and with `--wait` says that it approves
/// the later steps too and when `--max-wait` ends (it used to say "1 step(s) are ready" while
/// approving two, or thirty days of steps).
#[test]
fn the_approval_prompt_lists_every_step_and_the_wait_it_approves() {
    use super::plan::{Stage, TrustKind, desired, observed_one, run, t0, zone_spec};
    use dnssec_pilot::model::Secs;
    use dnssec_pilot::plan::Mode;
    use dnssec_pilot::state::Journal;
    let zone = "app.example.com";
    let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
    let p = run(
        &d,
        &observed_one(zone, Stage::new(zone, TrustKind::Parent).obs(t0())),
        &Journal::new("lineage-test"),
        t0(),
        Mode::Apply,
    );
    let ready: Vec<String> = p.ready_steps().map(|s| s.id.clone()).collect();
    assert!(!ready.is_empty());
    let now = dnssec_pilot::commands::run::approval_prompt(&p, "apply", None);
    assert!(
        now.contains(&format!("will run {} step(s) now", ready.len())),
        "{now}"
    );
    for id in &ready {
        assert!(now.contains(id.as_str()), "{id}: {now}");
    }
    assert!(!now.contains("--wait"), "{now}");
    let walk = dnssec_pilot::commands::run::approval_prompt(&p, "apply", Some(Secs::days(30)));
    assert!(walk.contains("later step(s)"), "{walk}");
    assert!(walk.contains("30d"), "{walk}");
    assert!(walk.contains("2026-12-31T10:00:00Z"), "{walk}");
}
