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

/// Loads and validates a `zones`-zone file `runs` times; prints and returns the best time (ms).
fn measure(zones: usize, runs: u32, target_ms: f64) -> f64 {
    let src = fleet(zones);
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
        "load+validate {zones} zones ({} KiB): best {best:.1} ms, mean {:.1} ms over {runs} runs (target < {target_ms} ms)",
        src.len() / 1024,
        total / f64::from(runs)
    );
    // serde-saphyr's default budget (250,000 nodes) stops a bare parse of a large fleet early.
    if zones <= 10_000 {
        println!(
            "  of which YAML parse + typed read: {parse_ms:.1} ms (bare serde-saphyr parse: {bare_ms:.1} ms)"
        );
    } else {
        println!("  of which YAML parse + typed read: {parse_ms:.1} ms");
    }
    best
}

fn main() {
    // The issue-17 targets: 1,000 zones under 100 ms, 100,000 zones under 1 s (linear).
    let small = measure(1_000, 10, 100.0);
    let large = measure(100_000, 3, 1000.0);
    println!(
        "bench_load: 1,000 zones {small:.1} ms, 100,000 zones {large:.1} ms ({:.1}x for 100x the zones)",
        large / small
    );
}
