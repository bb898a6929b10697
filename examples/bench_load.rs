//! Benchmark: generate a 1,000-zone desired-state file in memory, load and validate it, print the
//! time. Target: under 100 ms in release (`cargo run --release --example bench_load`).

use std::fmt::Write as _;
use std::time::Instant;

fn fleet(zones: usize) -> String {
    let mut s = String::from(
        "version: 1\ndefaults:\n  safety: { soak: 14d, propagation_margin: 10m }\nzones:\n",
    );
    for i in 0..zones {
        let apex = format!("brand{i}.com");
        let parent_id = format!("Z{:020}", i);
        let trust = match i % 3 {
            0 => format!("      parent_zone: {{ hosted_zone_id: {parent_id}, ds_ttl: 300 }}"),
            1 => "      registrar: route53_domains".to_string(),
            _ => "      registrar: external".to_string(),
        };
        let name = if i % 3 == 0 {
            format!("www.{apex}")
        } else {
            apex
        };
        let _ = write!(
            s,
            "  - name: {name}\n    hosted_zone_id: Z{:020}\n    ttl: {{ max: 3600 }}\n    soa: {{ ttl: 300, minimum: 300 }}\n    signing:\n      enabled: true\n      ksks:\n        - name: ksk_{i}_a\n          kms_key: arn:aws:kms:us-east-1:111122223333:key/{:08x}-12ab-34cd-56ef-1234567890ab\n    trust:\n{trust}\n    finally: {{ ds_ttl: 3600, restore_ttls: true }}\n",
            i + 1_000_000,
            i
        );
    }
    s
}

fn main() {
    let zones = 1000;
    let src = fleet(zones);
    let runs = 10;
    let mut best = f64::MAX;
    let mut total = 0.0;
    for _ in 0..runs {
        let t = Instant::now();
        let loaded = match dnssec_pilot::config::load_str(&src, "bench.yaml") {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{}", e.render(false, false));
                std::process::exit(1);
            }
        };
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(loaded.desired.zones.len(), zones);
        best = best.min(ms);
        total += ms;
    }
    // Where the time goes: the YAML parse into the spanned tree plus the typed read, vs. all.
    let t = Instant::now();
    let (raw, _) = dnssec_pilot::config::parse_raw(&src);
    let parse_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(raw.is_some());
    let t = Instant::now();
    let _ = serde_saphyr::from_str::<serde::de::IgnoredAny>(&src);
    let bare_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "  of which YAML parse + typed read: {parse_ms:.1} ms (bare serde-saphyr parse: {bare_ms:.1} ms)"
    );
    println!(
        "load+validate {zones} zones ({} KiB): best {best:.1} ms, mean {:.1} ms over {runs} runs (target < 100 ms)",
        src.len() / 1024,
        total / f64::from(runs)
    );
}
