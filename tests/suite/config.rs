//! Integration tests: config — the desired-state loader, its diagnostics (one snapshot per bad
//! input in `tests/fixtures/invalid/`), the `validate` and `schema` commands, every example, the
//! committed JSON Schema's freshness, `--help` of every command, and a property test that no input
//! makes the loader panic or report an unlocated error.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use dnssec_pilot::config::{self, Code, LoadError, RegistrarKeySpec, Trust, load_bytes, load_str};
use dnssec_pilot::model::{Secs, Ttl, ZoneName};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("dnssec-pilot").expect("binary built");
    c.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    c
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap().display().to_string()
}

fn diagnostics_of(src: &str) -> Vec<config::Diagnostic> {
    match load_str(src, "t.yaml") {
        Ok(l) => l.warnings.items,
        Err(LoadError::Invalid(d)) => d.items,
        Err(e) => panic!("{e}"),
    }
}

fn error_codes(src: &str) -> Vec<String> {
    diagnostics_of(src)
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Examples and the schema.

#[test]
fn every_example_validates_with_exit_0() {
    let ex = examples();
    assert!(ex.len() >= 5, "examples missing: {ex:?}");
    for p in ex {
        let out = bin().args(["validate", "-c", &rel(&p)]).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/config.schema.json"),
            "{} lacks the editor modeline",
            p.display()
        );
        let loaded = config::load(&p).unwrap();
        assert!(
            loaded.warnings.items.is_empty(),
            "{} has warnings: {}",
            p.display(),
            loaded.warnings.render_human(false)
        );
    }
}

#[test]
fn fleet_example_mixes_all_three_trust_kinds_over_20_zones() {
    let d = config::load(&root().join("examples/fleet.yaml"))
        .unwrap()
        .desired;
    assert!(d.zones.len() >= 20);
    let kinds = |f: fn(&Trust) -> bool| {
        d.zones
            .iter()
            .filter(|z| z.trust.as_ref().is_some_and(f))
            .count()
    };
    assert!(kinds(|t| matches!(t, Trust::ParentZone { .. })) > 0);
    assert!(kinds(|t| matches!(t, Trust::Route53Domains)) > 0);
    assert!(kinds(|t| matches!(t, Trust::External)) > 0);
}

/// Strips `span: Span { … }` from a Debug rendering, so that values can be compared regardless of
/// how each reader computed its spans.
fn without_spans(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("span: Span {") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find('}').map_or(after.len(), |j| j + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn serde_derive_and_tree_reader_agree_on_every_example() {
    // The schema is generated from the serde types; the loader reads the spanned tree. Both must
    // read every example identically, or the schema would describe a different file format.
    for p in examples() {
        let src = std::fs::read_to_string(&p).unwrap();
        let via_serde = config::parse_raw_with_serde(&src)
            .unwrap_or_else(|e| panic!("{}: serde-saphyr rejects it: {e}", p.display()));
        let (via_tree, diags) = config::parse_raw(&src);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            without_spans(&format!("{via_serde:?}")),
            without_spans(&format!("{:?}", via_tree.unwrap())),
            "{}",
            p.display()
        );
    }
}

#[test]
fn serde_derive_rejects_unknown_keys_too() {
    let err = config::parse_raw_with_serde("version: 1\nzonez: []\n").unwrap_err();
    assert!(err.contains("zonez"), "{err}");
}

#[test]
fn committed_config_schema_is_fresh() {
    let path = root().join("schemas/config.schema.json");
    let generated =
        dnssec_pilot::commands::schema::schema_text(dnssec_pilot::cli::SchemaKind::Config);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/config.schema.json is stale; regenerate it with:\n  UPDATE_SCHEMAS=1 cargo test --test cli suite::config::committed_config_schema_is_fresh"
    );
}

#[test]
fn schema_config_command_prints_the_committed_file() {
    let out = bin().args(["schema", "config"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("schemas/config.schema.json")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
    let v: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(v["additionalProperties"], serde_json::json!(false));
    assert!(
        v["required"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("version"))
    );
}

// ---------------------------------------------------------------------------------------------
// The bad-input corpus.

#[test]
fn invalid_corpus_has_at_least_30_files() {
    assert!(fixtures().len() >= 30, "{}", fixtures().len());
}

#[test]
fn each_invalid_fixture_renders_its_diagnostic_and_exits_1() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for p in fixtures() {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let out = bin().args(["validate", "-c", &rel(&p)]).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains('\u{1b}'),
                "{name}: colour despite NO_COLOR"
            );
            assert!(
                out.stdout.is_empty(),
                "{name}: human diagnostics went to stdout"
            );
            let code = out
                .status
                .code()
                .map_or("signal".to_string(), |c| c.to_string());
            let shot = format!("exit code: {code}\n\n{stderr}");
            insta::assert_snapshot!(format!("invalid__{name}"), shot);
            assert_eq!(out.status.code(), Some(1), "{name}");
        }
    });
}

#[test]
fn each_invalid_fixture_is_one_mistake_class_except_the_five_mistakes_file() {
    for p in fixtures() {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&p).unwrap();
        let Err(LoadError::Invalid(d)) = load_bytes(&bytes, &name) else {
            panic!("{name} loads")
        };
        let mut codes: Vec<Code> = d
            .items
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect();
        codes.dedup();
        if name == "five-mistakes" {
            assert_eq!(d.error_count(), 5, "{}", d.render_human(false));
            let mut distinct = codes.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 5, "{codes:?}");
        } else {
            assert_eq!(
                codes.len(),
                1,
                "{name}: {codes:?}\n{}",
                d.render_human(false)
            );
        }
    }
}

#[test]
fn five_mistakes_give_five_located_json_diagnostics() {
    let out = bin()
        .args([
            "validate",
            "-c",
            "tests/fixtures/invalid/five-mistakes.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 5);
    let lines: Vec<u64> = v.iter().map(|d| d["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![4, 5, 8, 9, 12]);
    for d in &v {
        for key in ["code", "severity", "message", "line", "column"] {
            assert!(!d[key].is_null(), "{key} missing in {d}");
        }
        assert!(d["column"].as_u64().unwrap() >= 1);
        assert!(d["code"].as_str().unwrap().starts_with("DP"));
    }
}

#[test]
fn validate_json_of_a_valid_file_is_an_empty_list() {
    let out = bin()
        .args([
            "validate",
            "-c",
            "examples/quickstart.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "[]");
}

#[test]
fn validate_missing_file_exits_1_with_a_message() {
    let out = bin()
        .args(["validate", "-c", "no/such/file.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `no/such/file.yaml`"));
}

#[test]
fn warnings_are_printed_but_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("w.yaml");
    std::fs::write(
        &f,
        "version: 1\nzones:\n  - name: example.com\n    soa: { ttl: 300, minimum: 600 }\n    signing: { enabled: false }\n",
    )
    .unwrap();
    let out = bin().args(["validate", "-c"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DP0013"), "{err}");
    assert!(err.contains("valid, with 1 warning"), "{err}");
}

#[test]
fn color_is_off_with_no_color_flag_even_without_env() {
    let out = Command::cargo_bin("dnssec-pilot")
        .unwrap()
        .current_dir(root())
        .env_remove("NO_COLOR")
        .args([
            "--no-color",
            "validate",
            "-c",
            "tests/fixtures/invalid/three-ksks.yaml",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
}

// ---------------------------------------------------------------------------------------------
// Rules and defaults, through the library.

const P256: &str =
    "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==";

#[test]
fn defaults_come_from_the_seeds() {
    let d = config::load(&root().join("examples/quickstart.yaml"))
        .unwrap()
        .desired;
    let z = &d.zones[0];
    assert_eq!(z.ttl_max, Ttl(3600));
    assert_eq!((z.soa_ttl, z.soa_minimum), (Ttl(300), Ttl(300)));
    assert_eq!(z.safety.soak, Secs::days(14));
    assert_eq!(z.safety.propagation_margin, Secs::minutes(10));
    assert_eq!(z.safety.registrar_key_deletion_delay, Secs::days(3));
    assert_eq!(z.finally.ds_ttl, Ttl(3600));
    assert!(z.finally.restore_ttls);
    assert!(z.signing.enabled);
    match z.trust.as_ref().unwrap() {
        Trust::ParentZone { parent, ds_ttl, .. } => {
            assert_eq!(parent, &ZoneName::parse("example.com").unwrap());
            assert_eq!(*ds_ttl, Ttl(300));
        }
        t => panic!("{t:?}"),
    }
    assert_eq!(z.line, 7);
}

#[test]
fn zone_names_are_canonical_lower_case_without_trailing_dot() {
    let src = "version: 1\nzones:\n  - name: WWW.Example.COM.\n    signing: { enabled: false }\n";
    let d = load_str(src, "t").unwrap().desired;
    assert_eq!(d.zones[0].name.as_str(), "www.example.com");
}

#[test]
fn unsigned_zone_needs_no_trust_and_no_ksk() {
    let src = "version: 1\nzones:\n  - name: example.com\n    signing: { enabled: false }\n";
    let d = load_str(src, "t").unwrap().desired;
    assert!(!d.zones[0].signing.enabled);
    assert!(d.zones[0].trust.is_none());
}

#[test]
fn allow_short_soak_permits_a_soak_under_an_hour() {
    let base = "version: 1\ndefaults:\n  safety:\n    soak: 5m\n    propagation_margin: 1m\n    registrar_key_deletion_delay: 2m\nzones:\n  - name: example.com\n    signing: { enabled: false }\n";
    assert_eq!(error_codes(base), vec!["DP0033"]);
    let ok = base.replace(
        "    soak: 5m\n",
        "    soak: 5m\n    allow_short_soak: true\n",
    );
    let d = load_str(&ok, "t").unwrap();
    assert!(d.warnings.items.is_empty(), "{:?}", d.warnings.items);
    assert_eq!(d.desired.zones[0].safety.soak, Secs::minutes(5));
}

#[test]
fn zone_safety_overrides_defaults_field_by_field() {
    let src = "version: 1\ndefaults:\n  safety: { soak: 7d }\nzones:\n  - name: example.com\n    signing: { enabled: false }\n    safety: { propagation_margin: 30m }\n";
    let z = &load_str(src, "t").unwrap().desired.zones[0];
    assert_eq!(z.safety.soak, Secs::days(7));
    assert_eq!(z.safety.propagation_margin, Secs::minutes(30));
}

#[test]
fn dns_override_accepts_ip_port_and_bare_ip() {
    let src = "version: 1\nzones:\n  - name: example.com\n    signing: { enabled: false }\n    dns:\n      parent_servers: ['127.0.0.1:5301', '::1']\n      zone_servers: ['[2001:db8::1]:5302']\n";
    let z = &load_str(src, "t").unwrap().desired.zones[0];
    assert_eq!(z.dns.parent_servers[0].to_string(), "127.0.0.1:5301");
    assert_eq!(z.dns.parent_servers[1].to_string(), "[::1]:53");
    assert_eq!(z.dns.zone_servers[0].port(), 5302);
}

#[test]
fn parent_zone_name_may_skip_labels_when_a_proper_parent() {
    let src = "version: 1\nzones:\n  - name: a.b.example.com\n    signing:\n      ksks: [{ name: k_1, kms_key: 'arn:aws:kms:us-east-1:111122223333:alias/k' }]\n    trust:\n      parent_zone: { hosted_zone_id: Z0987654321ZYXWVUTSRQ, name: example.com }\n";
    let z = &load_str(src, "t").unwrap().desired.zones[0];
    match z.trust.as_ref().unwrap() {
        Trust::ParentZone { parent, .. } => assert_eq!(parent.as_str(), "example.com"),
        t => panic!("{t:?}"),
    }
    let same = src.replace("name: example.com }", "name: a.b.example.com }");
    assert_eq!(error_codes(&same), vec!["DP0023"]);
}

fn domain_with_keys(tld: &str, n: usize) -> String {
    let mut s = format!("version: 1\ndomains:\n  - name: example.{tld}\n    registrar_keys:\n");
    for i in 0..n {
        // Distinct keys: vary the algorithm-13 key's last bytes.
        let mut k = P256.as_bytes().to_vec();
        k[80] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 26];
        k[81] = b"abcdefghijklmnopqrstuvwxyz"[i / 26];
        s.push_str(&format!(
            "      - {{ flags: 257, algorithm: 13, public_key: '{}' }}\n",
            String::from_utf8(k).unwrap()
        ));
    }
    s
}

#[test]
fn registrar_key_limit_is_13_for_com_and_net_and_4_elsewhere() {
    assert!(error_codes(&domain_with_keys("com", 13)).is_empty());
    assert_eq!(error_codes(&domain_with_keys("com", 14)), vec!["DP0025"]);
    assert!(error_codes(&domain_with_keys("net", 13)).is_empty());
    assert!(error_codes(&domain_with_keys("org", 4)).is_empty());
    assert_eq!(error_codes(&domain_with_keys("org", 5)), vec!["DP0025"]);
}

#[test]
fn registrar_keys_keep_their_order_and_from_dns() {
    let src = format!(
        "version: 1\ndomains:\n  - name: example.com\n    registrar_keys:\n      - {{ flags: 257, algorithm: 13, public_key: '{P256}' }}\n      - from_dns: true\n"
    );
    let d = load_str(&src, "t").unwrap().desired;
    let keys = &d.domains[0].registrar_keys;
    assert!(matches!(&keys[0], RegistrarKeySpec::Key(k) if k.key_tag().unwrap() == 55648));
    assert_eq!(keys[1], RegistrarKeySpec::FromDns);
}

#[test]
fn algorithm_rules_follow_rfc_8624() {
    let with = |alg: u32, key: &str| {
        error_codes(&format!(
            "version: 1\ndomains:\n  - name: example.com\n    registrar_keys:\n      - {{ flags: 257, algorithm: {alg}, public_key: '{key}' }}\n"
        ))
    };
    for alg in [1, 3, 5, 6, 7, 12] {
        assert_eq!(with(alg, P256), vec!["DP0027"], "algorithm {alg}");
    }
    for alg in [0, 2, 4, 9, 11, 17, 23, 99, 255] {
        assert_eq!(with(alg, P256), vec!["DP0028"], "algorithm {alg}");
    }
    assert!(with(13, P256).is_empty());
    use base64::Engine as _;
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
    assert!(with(14, &b64(96)).is_empty());
    assert_eq!(with(14, &b64(64)), vec!["DP0030"]);
    assert!(with(15, &b64(32)).is_empty());
    assert!(with(16, &b64(57)).is_empty());
    assert_eq!(with(15, &b64(57)), vec!["DP0030"]);
    let mut rsa = vec![3u8, 1, 0, 1];
    rsa.extend(std::iter::repeat_n(0xC5u8, 256));
    let rsa = base64::engine::general_purpose::STANDARD.encode(rsa);
    assert!(with(8, &rsa).is_empty());
    assert!(with(10, &rsa).is_empty());
    assert_eq!(with(8, &b64(32)), vec!["DP0030"]);
}

#[test]
fn hex_digest_pasted_as_public_key_has_its_own_code() {
    let digest = "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
    let src = format!(
        "version: 1\ndomains:\n  - name: example.com\n    registrar_keys:\n      - {{ flags: 257, algorithm: 13, public_key: '{digest}' }}\n"
    );
    let d = diagnostics_of(&src);
    assert_eq!(d[0].code, Code::DigestAsKey);
    assert!(d[0].message.contains("looks like a DS digest"));
    // A whole DS record pasted (key tag, algorithm, digest type, digest) too.
    let whole = src.replace(digest, &format!("55648 13 2 {digest}"));
    assert_eq!(error_codes(&whole), vec!["DP0031"]);
}

#[test]
fn every_diagnostic_has_help_and_a_label() {
    for p in fixtures() {
        let bytes = std::fs::read(&p).unwrap();
        if let Err(LoadError::Invalid(d)) = load_bytes(&bytes, "f") {
            for item in &d.items {
                assert!(!item.help.is_empty(), "{}: {item:?}", p.display());
                assert!(!item.labels.is_empty(), "{}: {item:?}", p.display());
            }
        }
    }
}

#[test]
fn readme_codes_table_is_current() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let table = config::codes_table_markdown();
    let (start, end) = ("<!-- codes:start -->\n", "<!-- codes:end -->");
    let a = readme.find(start).expect("codes:start marker") + start.len();
    let b = readme.find(end).expect("codes:end marker");
    if std::env::var_os("UPDATE_SCHEMAS").is_some() && readme[a..b] != table {
        let updated = format!("{}{}{}", &readme[..a], table, &readme[b..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        readme[a..b] == table,
        "README's diagnostics table is stale; regenerate it with:\n  UPDATE_SCHEMAS=1 cargo test --test cli suite::config::readme_codes_table_is_current"
    );
    for c in Code::ALL {
        assert!(readme.contains(&format!("| `{}` |", c.as_str())));
    }
}

// ---------------------------------------------------------------------------------------------
// `--help` of every command.

#[test]
fn help_of_every_command_has_an_example() {
    let commands: &[&[&str]] = &[
        &[],
        &["validate"],
        &["plan"],
        &["apply"],
        &["destroy"],
        &["check"],
        &["show"],
        &["probe"],
        &["schema"],
        &["iam-policy"],
        &["sandbox"],
        &["completions"],
    ];
    for c in commands {
        let out = bin().args(*c).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{c:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Example"),
            "{c:?} --help has no example:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// No input makes the loader panic, and every error is located.

fn assert_located(src_for_bounds: usize, r: Result<config::Loaded, LoadError>) {
    if let Err(LoadError::Invalid(d)) = r {
        assert!(d.has_errors());
        for item in &d.items {
            assert!(item.line() >= 1 && item.column() >= 1);
            let s = item.span();
            assert!(
                s.offset + s.len <= src_for_bounds.max(d.source.len()),
                "{item:?}"
            );
            assert!(d.source.is_char_boundary(s.offset));
        }
        let _ = d.render_human(false);
        let _ = d.render_json();
    }
}

fn mutate(base: &str, ops: &[(u8, usize, String)]) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for (op, at, text) in ops {
        if s.is_empty() {
            break;
        }
        let i = at % s.len();
        match op % 4 {
            0 => {
                let end = (i + text.len() % 7 + 1).min(s.len());
                s.drain(i..end);
            }
            1 => {
                for (k, c) in text.chars().enumerate() {
                    s.insert(i + k, c);
                }
            }
            2 => s[i] = text.chars().next().unwrap_or(' '),
            _ => {
                // Swap two lines' indentation-sensitive content.
                let line_start = s[..i].iter().rposition(|c| *c == '\n').map_or(0, |p| p + 1);
                s.insert(line_start, ' ');
            }
        }
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_are_located(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        assert_located(bytes.len() * 3, load_bytes(&bytes, "fuzz.yaml"));
    }

    #[test]
    fn mutated_valid_yaml_never_panics_and_errors_are_located(
        which in 0usize..5,
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), "[ -~\n]{0,6}"), 1..6),
    ) {
        let ex = examples();
        let base = std::fs::read_to_string(&ex[which % ex.len()]).unwrap();
        let src = mutate(&base, &ops);
        assert_located(src.len(), load_str(&src, "mutated.yaml"));
    }
}

#[test]
fn loading_1000_zones_stays_linear() {
    // Guards against quadratic span bookkeeping (it once took over a minute). The release
    // figure (< 100 ms) is printed by `cargo run --release --example bench_load`; this debug-build
    // bound is loose so that a busy CI machine does not fail it.
    let mut s = String::from("version: 1\nzones:\n");
    for i in 0..1000 {
        s.push_str(&format!(
            "  - name: brand{i}.com\n    signing:\n      ksks:\n        - name: ksk_{i}\n          kms_key: arn:aws:kms:us-east-1:111122223333:alias/k{i}\n    trust:\n      registrar: external\n"
        ));
    }
    let t = std::time::Instant::now();
    let loaded = load_str(&s, "big.yaml").unwrap();
    let elapsed = t.elapsed();
    assert_eq!(loaded.desired.zones.len(), 1000);
    assert_eq!(loaded.desired.zones[999].line, 2 + 999 * 7 + 1);
    assert!(elapsed.as_secs() < 10, "{elapsed:?}");
}

#[test]
fn every_code_is_reachable_from_some_input() {
    // Every documented code must be produced by a fixture or by one of these warning samples;
    // a code no input can trigger is a rule that silently stopped working.
    let kms = "arn:aws:kms:us-east-1:111122223333:alias/k";
    let warning_samples = [
        // DP0013 soa.minimum above soa.ttl.
        "version: 1\nzones:\n  - name: example.com\n    soa: { ttl: 300, minimum: 600 }\n    signing: { enabled: false }\n".to_string(),
        // DP0038 KSKs listed while signing is disabled.
        format!("version: 1\nzones:\n  - name: example.com\n    signing:\n      enabled: false\n      ksks: [{{ name: k_1, kms_key: '{kms}' }}]\n"),
        // DP0039 finally.ds_ttl with registrar trust.
        format!("version: 1\nzones:\n  - name: example.com\n    signing:\n      ksks: [{{ name: k_1, kms_key: '{kms}' }}]\n    trust: {{ registrar: external }}\n    finally: {{ ds_ttl: 3600 }}\n"),
        // DP0040 registrar trust for a subdomain.
        format!("version: 1\nzones:\n  - name: www.example.com\n    signing:\n      ksks: [{{ name: k_1, kms_key: '{kms}' }}]\n    trust: {{ registrar: route53_domains }}\n"),
        // DP0045 the parent zone is listed unsigned.
        format!("version: 1\nzones:\n  - name: example.com\n    hosted_zone_id: Z1\n    signing: {{ enabled: false }}\n  - name: www.example.com\n    signing:\n      ksks: [{{ name: k_1, kms_key: '{kms}' }}]\n    trust: {{ parent_zone: {{ hosted_zone_id: Z1 }} }}\n"),
        // DP0047 `trust.ds: absent` with signing disabled.
        "version: 1\nzones:\n  - name: example.com\n    signing: { enabled: false }\n    trust: { registrar: external, ds: absent }\n".to_string(),
        // DP0043 a safety wait below the seeds'.
        "version: 1\ndefaults:\n  safety: { propagation_margin: 1m }\nzones:\n  - name: example.com\n    signing: { enabled: false }\n".to_string(),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for s in &warning_samples {
        let l = load_str(s, "w.yaml").unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(l.warnings.items.len(), 1, "{s}");
        seen.insert(l.warnings.items[0].code);
    }
    for p in fixtures() {
        let bytes = std::fs::read(&p).unwrap();
        if let Err(LoadError::Invalid(d)) = load_bytes(&bytes, "f") {
            seen.extend(d.items.iter().map(|i| i.code));
        }
    }
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(missing.is_empty(), "no input triggers {missing:?}");
}

#[test]
fn trust_ds_absent_keeps_the_trust_target_and_withdraws_the_ds() {
    let kms = "arn:aws:kms:us-east-1:111122223333:alias/k";
    let src = format!(
        "version: 1\nzones:\n  - name: example.com\n    signing:\n      ksks: [{{ name: k_1, kms_key: '{kms}' }}]\n    trust: {{ registrar: route53_domains, ds: absent }}\n  - name: example.org\n    signing:\n      ksks: [{{ name: k_2, kms_key: '{kms}2' }}]\n    trust: {{ registrar: external, ds: present }}\n"
    );
    let l = load_str(&src, "t").unwrap();
    assert!(l.warnings.items.is_empty());
    let d = l.desired;
    assert_eq!(d.zones[0].trust, Some(Trust::Route53Domains));
    assert!(d.zones[0].ds_absent);
    assert!(!d.zones[1].ds_absent);
}

#[test]
fn x_keys_hold_anchors_shared_through_merge_keys() {
    let src = "version: 1\nx-common: &common\n  signing:\n    ksks: [{ name: k_1, kms_key: 'arn:aws:kms:us-east-1:111122223333:alias/k' }]\n  trust: { registrar: external }\nzones:\n  - <<: *common\n    name: example.com\n  - <<: *common\n    name: example.org\n";
    let d = load_str(src, "t").unwrap().desired;
    assert_eq!(d.zones.len(), 2);
    assert_eq!(d.zones[1].trust, Some(Trust::External));
    assert_eq!(d.zones[1].signing.ksks[0].name, "k_1");
    // Only at the top level: elsewhere an `x-` key is still a typo.
    let nested = src.replace(
        "    name: example.org\n",
        "    name: example.org\n    x-note: hi\n",
    );
    assert_eq!(error_codes(&nested), vec!["DP0002"]);
}

/// Moto's hosted zone ids (`DJ9B3Z1OL4E6CTDYKRBWAE`) and any id AWS documents (at most 32
/// characters) are accepted whatever their first letter; lower case, a prefix or 33 characters
/// are still refused.
#[test]
fn hosted_zone_ids_are_checked_as_aws_documents_them_not_by_their_first_letter() {
    let zone = |id: &str| {
        format!(
            "version: 1\nzones:\n  - name: example.com\n    hosted_zone_id: {id}\n    signing: {{ enabled: false }}\n"
        )
    };
    for id in [
        "DJ9B3Z1OL4E6CTDYKRBWAE",
        "Z0123456789ABCDEFGHIJ",
        "A1",
        &format!("A{}", "9".repeat(31)),
    ] {
        let l = load_str(&zone(id), "t").unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(l.desired.zones[0].hosted_zone_id.as_deref(), Some(id));
    }
    for id in [
        "dj9b3z1ol4e6ctdykrbwae",
        "/hostedzone/Z1",
        &"Z".repeat(33),
        "Z-1",
    ] {
        assert_eq!(error_codes(&zone(id)), vec!["DP0020"], "{id}");
    }
}
