//! Benchmark: plan 1,000 zones from in-memory observed state (target: under 50 ms), and one zone
//! of 10,000 record sets mid-onboarding, with its 10,000-entry baseline in the journal (target:
//! under 50 ms: planning is linear in the zone's size), and print the figures.
//! Run: `cargo run --release --example bench_plan [-- --records N]`.

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

fn spec(name: &ZoneName, line: usize) -> Result<ZoneSpec, Box<dyn std::error::Error>> {
    Ok(ZoneSpec {
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
        line,
    })
}

/// A zone of `records` A record sets (every third at one day), unsigned, no DS yet.
fn obs(name: &ZoneName, i: usize, records: usize, cap: Option<Ttl>, now: Timestamp) -> ZoneObs {
    let record_sets = (0..records)
        .map(|r| {
            let ttl = Ttl(if r % 3 == 0 { 86400 } else { 300 });
            RecordSetObs {
                name: format!("host{r}.{name}"),
                rtype: "A".into(),
                set_identifier: None,
                ttl: Some(cap.map_or(ttl, |c| ttl.min(c))),
                values: vec!["192.0.2.1".into()],
                provider_data: None,
            }
        })
        .collect();
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
    }
}

/// Best of five plans, in milliseconds (after one warm-up), and the warm-up's plan.
fn best_of_five(input: PlanInput<'_>) -> (f64, dnssec_pilot::plan::Plan) {
    let p = plan(input);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let p2 = plan(input);
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(p2);
    }
    (best, p)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut records = 10_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => {
                records = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--records takes a number")?
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let n = 1000;
    let now: Timestamp = "2026-12-01T10:00:00Z".parse()?;
    let mut zones = Vec::new();
    let mut observed = Observed::default();
    for i in 0..n {
        let name = ZoneName::parse(&format!("zone{i}.example.com"))?;
        zones.push(spec(&name, i + 1)?);
        observed
            .zones
            .insert(name.clone(), obs(&name, i, 20, None, now));
    }
    let desired = Desired {
        version: 1,
        zones,
        domains: vec![],
    };
    let journal = Journal::new("bench");
    let input = apply_input(&desired, &observed, &journal, now);
    let (best, p) = best_of_five(input);
    let t = Instant::now();
    let fp = dnssec_pilot::plan::fingerprint(&observed, &journal, &[]);
    let fp_ms = t.elapsed().as_secs_f64() * 1000.0;
    std::hint::black_box(fp);
    let steps: usize = p.zones.iter().map(|z| z.steps.len()).sum();
    println!(
        "bench_plan: {n} zones, {steps} steps planned; best of 5: {best:.1} ms (target < 50 ms); of which fingerprint {fp_ms:.1} ms"
    );

    // One large zone: the first plan records its baseline; then its TTLs are lowered (as
    // `lower_ttls` leaves them) and the zone is planned again with the whole baseline in the
    // journal, restore step included.
    let name = ZoneName::parse("big.example.com")?;
    let desired = Desired {
        version: 1,
        zones: vec![spec(&name, 1)?],
        domains: vec![],
    };
    let mut observed = Observed::default();
    observed
        .zones
        .insert(name.clone(), obs(&name, 0, records, None, now));
    let mut journal = Journal::new("bench");
    let first = plan(apply_input(&desired, &observed, &journal, now));
    dnssec_pilot::engine::apply_updates(&mut journal, &first.updates);
    let baseline = journal
        .zone(&name)
        .and_then(|z| z.baseline.as_ref())
        .map_or(0, |b| b.record_ttls.len());
    if baseline != records {
        return Err(format!("the baseline holds {baseline} TTLs, expected {records}").into());
    }
    observed
        .zones
        .insert(name.clone(), obs(&name, 0, records, Some(Ttl(3600)), now));
    let (best, p) = best_of_five(apply_input(&desired, &observed, &journal, now));
    let restore = p
        .zones
        .iter()
        .flat_map(|z| &z.steps)
        .filter(|s| s.id.ends_with("restore_ttls"))
        .count();
    if restore != 1 {
        return Err("the large zone's plan has no restore_ttls step".into());
    }
    println!(
        "bench_plan: 1 zone of {records} record sets with a {baseline}-entry baseline; best of 5: {best:.1} ms (target < 50 ms)"
    );
    Ok(())
}

/// The input of an `apply` plan of every zone.
fn apply_input<'a>(
    desired: &'a Desired,
    observed: &'a Observed,
    journal: &'a Journal,
    now: Timestamp,
) -> PlanInput<'a> {
    PlanInput {
        desired,
        observed,
        journal,
        now,
        mode: Mode::Apply,
        only: &[],
    }
}
