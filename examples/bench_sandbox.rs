//! Benchmark of the sandbox world's clock: wall time to simulate 60 days of a few zones with the
//! validating-resolver population, with the settled-zone shortcut and with every lookup
//! simulated. Run with `cargo run --release --example bench_sandbox`.

use std::time::Instant;

use dnssec_pilot::config::{
    Desired, DnsOverride, Finally, KskSpec, Safety, Signing, Trust, ZoneSpec,
};
use dnssec_pilot::model::{Action, ActionRequest, DsTarget, Secs, Ttl, ZoneName};
use dnssec_pilot::provider::Provider;
use dnssec_pilot::provider::sandbox::{SandboxProvider, default_start, init_world};

const KMS: &str = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666";

fn desired(n: usize) -> Desired {
    let zones = (0..n)
        .map(|i| ZoneSpec {
            name: ZoneName::parse(&format!("zone{i}.example.com")).expect("valid name"),
            hosted_zone_id: None,
            ttl_max: Ttl(3600),
            soa_ttl: Ttl(300),
            soa_minimum: Ttl(300),
            signing: Signing {
                enabled: true,
                ksks: vec![KskSpec {
                    name: "ksk_1".into(),
                    kms_key: KMS.into(),
                }],
            },
            trust: Some(Trust::ParentZone {
                hosted_zone_id: "ZPARENT0000000000001".into(),
                parent: ZoneName::parse("example.com").expect("valid name"),
                ds_ttl: Ttl(300),
            }),
            ds_absent: false,
            finally: Finally {
                ds_ttl: Ttl(3600),
                restore_ttls: true,
            },
            safety: Safety::default(),
            dns: DnsOverride::default(),
            line: 1,
        })
        .collect();
    Desired {
        version: 1,
        zones,
        domains: vec![],
    }
}

async fn exec(p: &SandboxProvider, zone: &ZoneName, action: Action, token: String) {
    let req = ActionRequest {
        zone: zone.clone(),
        hosted_zone_id: None,
        action,
        token,
    };
    if let Err(e) = p.execute(&req).await {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

/// 60 days: signing and DS on day 0/3 for every zone, then quiet.
async fn run(zones: usize, fast_forward: bool) -> (f64, u64, u64, usize) {
    let d = desired(zones);
    let mut w = init_world(&d, 1, default_start());
    w.settings.fast_forward = fast_forward;
    let p = SandboxProvider::in_memory(w);
    let start = Instant::now();
    for z in &d.zones {
        exec(
            &p,
            &z.name,
            Action::CreateKsk {
                name: "ksk_1".into(),
                kms_arn: KMS.into(),
            },
            format!("{}-ksk", z.name),
        )
        .await;
        exec(
            &p,
            &z.name,
            Action::EnableSigning,
            format!("{}-sign", z.name),
        )
        .await;
    }
    let _ = p.wait_until(Secs::days(3).after(p.now())).await;
    for z in &d.zones {
        let ds = p.world().zone(&z.name).map(|h| h.ksks[0].ds.clone());
        let Some(ds) = ds else { continue };
        exec(
            &p,
            &z.name,
            Action::PublishDs {
                target: DsTarget::ParentZone {
                    hosted_zone_id: "ZPARENT0000000000001".into(),
                    parent: ZoneName::parse("example.com").expect("valid name"),
                },
                records: vec![ds],
                ttl: Ttl(300),
            },
            format!("{}-ds", z.name),
        )
        .await;
    }
    let _ = p.wait_until(Secs::days(57).after(p.now())).await;
    let w = p.world();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let bytes = serde_json::to_vec(&w).map(|v| v.len()).unwrap_or(0);
    (ms, w.bogus.lookups, w.bogus.total, bytes)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("sandbox: 60 simulated days (sign day 0, DS day 3), 16 resolvers");
    for zones in [3, 10] {
        for ff in [true, false] {
            let (ms, lookups, bogus, bytes) = run(zones, ff).await;
            println!(
                "  {zones:>2} zones, fast_forward={ff:<5}: {ms:>9.2} ms wall, {lookups:>9} lookups simulated, {bogus} bogus answers, world file {} KiB",
                bytes / 1024
            );
        }
    }
}
