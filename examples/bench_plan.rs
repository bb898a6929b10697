//! Benchmark: plan 1,000 zones from in-memory observed state (target: under 50 ms) and print the
//! figure. Run: `cargo run --release --example bench_plan`.

use std::collections::BTreeMap;
use std::time::Instant;

use dnssec_pilot::config::{
    Desired, DnsOverride, Finally, KskSpec, Safety, Signing, Trust, ZoneSpec,
};
use dnssec_pilot::model::{Timestamp, Ttl, ZoneName};
use dnssec_pilot::plan::{Mode, PlanInput, plan};
use dnssec_pilot::state::{
    DnssecObs, HostedZoneObs, Journal, LiveObs, Observed, ParentAnswer, ParentObs, RecordSetObs,
    ServerObs, SoaObs, ZoneAnswer, ZoneObs,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = 1000;
    let now: Timestamp = "2026-12-01T10:00:00Z".parse()?;
    let mut zones = Vec::new();
    let mut observed = Observed::default();
    for i in 0..n {
        let name = ZoneName::parse(&format!("zone{i}.example.com"))?;
        zones.push(ZoneSpec {
            name: name.clone(),
            hosted_zone_id: None,
            ttl_max: Ttl(3600),
            soa_ttl: Ttl(300),
            soa_minimum: Ttl(300),
            signing: Signing {
                enabled: true,
                ksks: vec![KskSpec {
                    name: "ksk_1".into(),
                    kms_key: "arn:aws:kms:us-east-1:111122223333:key/abc".into(),
                }],
            },
            trust: Some(Trust::ParentZone {
                hosted_zone_id: "ZPARENT".into(),
                parent: ZoneName::parse("example.com")?,
                ds_ttl: Ttl(300),
            }),
            ds_absent: false,
            finally: Finally {
                ds_ttl: Ttl(3600),
                restore_ttls: true,
            },
            safety: Safety::default(),
            dns: DnsOverride::default(),
            line: i + 1,
        });
        let record_sets = (0..20)
            .map(|r| RecordSetObs {
                name: format!("host{r}.{name}"),
                rtype: "A".into(),
                set_identifier: None,
                ttl: Some(Ttl(if r % 3 == 0 { 86400 } else { 300 })),
                values: vec!["192.0.2.1".into()],
                provider_data: None,
            })
            .collect();
        observed.zones.insert(
            name.clone(),
            ZoneObs {
                hosted_zone: Some(HostedZoneObs {
                    id: format!("Z{i:019}"),
                    name_servers: vec![],
                    private: false,
                    record_sets,
                    soa: SoaObs {
                        ttl: Ttl(900),
                        minimum: Ttl(900),
                    },
                }),
                dnssec: DnssecObs::default(),
                changes: BTreeMap::new(),
                parent: ParentObs::ParentZone {
                    hosted_zone_id: "ZPARENT".into(),
                    ds: vec![],
                    ds_ttl: None,
                    ns_ttl: Some(Ttl(172800)),
                },
                live: LiveObs {
                    parent_servers: (0..4)
                        .map(|s| ServerObs {
                            server: format!("p{s}"),
                            seen_at: now,
                            result: Ok(ParentAnswer {
                                ds: vec![],
                                ds_ttl: None,
                                ns_ttl: Some(Ttl(172800)),
                                ds_signed: None,
                            }),
                        })
                        .collect(),
                    zone_servers: (0..4)
                        .map(|s| ServerObs {
                            server: format!("z{s}"),
                            seen_at: now,
                            result: Ok(ZoneAnswer::default()),
                        })
                        .collect(),
                },
            },
        );
    }
    let desired = Desired {
        version: 1,
        zones,
        domains: vec![],
    };
    let journal = Journal::new("bench");
    // Warm up once, then measure the best of five.
    let input = PlanInput {
        desired: &desired,
        observed: &observed,
        journal: &journal,
        now,
        mode: Mode::Apply,
        only: &[],
    };
    let p = plan(input);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let p2 = plan(input);
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(p2);
    }
    let t = Instant::now();
    let fp = dnssec_pilot::plan::fingerprint(&observed, &journal, &[]);
    let fp_ms = t.elapsed().as_secs_f64() * 1000.0;
    std::hint::black_box(fp);
    let steps: usize = p.zones.iter().map(|z| z.steps.len()).sum();
    println!(
        "bench_plan: {n} zones, {steps} steps planned; best of 5: {best:.1} ms (target < 50 ms); of which fingerprint {fp_ms:.1} ms"
    );
    Ok(())
}
