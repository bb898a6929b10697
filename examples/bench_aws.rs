//! Request counts of the AWS provider against the floor the APIs allow, and a fleet's wall time
//! against calls ÷ rate, measured over HTTP against fakecloud.
//!
//! `cargo run --release --example bench_aws` — uses the fakecloud recorded in
//! `tests/.peers/fakecloud.env` (or `DNSSEC_PILOT_FAKECLOUD_ENDPOINT`), else starts one with
//! `tests/peers/fakecloud.sh` and stops it at the end. `BENCH_FLEET_ZONES` (200) and
//! `BENCH_FLEET_RATE` (requests/s, default 10 with a burst of 50 — Route 53's default since July
//! 2026) size the fleet run. A second fleet run answers `Throttling` to every request beyond
//! 5/s (an interceptor replaces the emulator's answer, as an account with a lower limit would)
//! and counts the throttled answers and the errors that reached the caller (target 0).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_route53::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_route53::config::{
    ConfigBag, Credentials, Intercept, Region, RuntimeComponents, SharedInterceptor,
};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use dnssec_pilot::config::{Desired, DnsOverride, Finally, Safety, Signing, ZoneSpec};
use dnssec_pilot::model::{Action, ActionRequest, Ttl, TtlChange, ZoneName};
use dnssec_pilot::provider::Provider;
use dnssec_pilot::provider::aws::{AwsOptions, AwsProvider, Clock, Endpoints};
use dnssec_pilot::state::Journal;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn endpoint() -> Res<(String, Option<String>)> {
    if let Ok(e) = std::env::var("DNSSEC_PILOT_FAKECLOUD_ENDPOINT") {
        return Ok((e, None));
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |p: &str| -> Option<(String, String)> {
        let t = std::fs::read_to_string(p).ok()?;
        let get = |k: &str| {
            t.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")).map(str::to_string))
        };
        Some((get("ENDPOINT")?, get("PID")?))
    };
    if let Some((e, _)) = read(&format!("{root}/tests/.peers/fakecloud.env")) {
        let addr = e.trim_start_matches("http://").parse()?;
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return Ok((e, None));
        }
    }
    let dir = std::env::temp_dir().join(format!("bench-aws-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let st = std::process::Command::new("bash")
        .arg(format!("{root}/tests/peers/fakecloud.sh"))
        .env("DNSSEC_PILOT_PEERS_DIR", &dir)
        .status()?;
    if !st.success() {
        return Err("tests/peers/fakecloud.sh failed".into());
    }
    let (e, pid) = read(&format!("{}/fakecloud.env", dir.display())).ok_or("no fakecloud.env")?;
    Ok((e, Some(pid)))
}

/// Answers `Throttling` (HTTP 400, Route 53's XML) to every response beyond `rate` per second: a
/// token bucket holding one second's worth.
#[derive(Debug)]
struct Throttle {
    rate: f64,
    state: Mutex<(f64, Instant)>,
    injected: std::sync::Arc<AtomicU64>,
}

impl Throttle {
    fn new(rate: f64) -> Self {
        Throttle {
            rate,
            state: Mutex::new((rate, Instant::now())),
            injected: std::sync::Arc::new(AtomicU64::new(0)),
        }
    }

    fn allow(&self) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        let now = Instant::now();
        s.0 = (s.0 + now.duration_since(s.1).as_secs_f64() * self.rate).min(self.rate);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Intercept for Throttle {
    fn name(&self) -> &'static str {
        "bench throttle"
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.allow() {
            return Ok(());
        }
        self.injected.fetch_add(1, Ordering::Relaxed);
        let body = r#"<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>bench</RequestId></ErrorResponse>"#;
        let mut resp = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400u16)?,
            aws_smithy_types::body::SdkBody::from(body),
        );
        resp.headers_mut().insert("content-type", "text/xml");
        *ctx.response_mut() = resp;
        Ok(())
    }
}

async fn provider(ep: &str, rate: f64) -> AwsProvider {
    provider_with(ep, rate, Vec::new()).await
}

async fn provider_with(ep: &str, rate: f64, interceptors: Vec<SharedInterceptor>) -> AwsProvider {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .load()
        .await;
    AwsProvider::from_sdk_config(
        &sdk,
        AwsOptions {
            route53_rate: rate,
            burst: AwsOptions::burst_for(rate),
            interceptors,
            clock: Clock::Wall,
            endpoints: Endpoints {
                route53: Some(ep.into()),
                domains: Some(ep.into()),
                kms: Some(ep.into()),
            },
            ..AwsOptions::default()
        },
    )
}

fn spec(name: &ZoneName, id: &str) -> ZoneSpec {
    ZoneSpec {
        name: name.clone(),
        hosted_zone_id: Some(id.into()),
        ttl_max: Ttl(3600),
        soa_ttl: Ttl(300),
        soa_minimum: Ttl(300),
        signing: Signing {
            enabled: false,
            ksks: vec![],
        },
        trust: None,
        ds_absent: false,
        finally: Finally {
            ds_ttl: Ttl(3600),
            restore_ttls: true,
        },
        safety: Safety::default(),
        dns: DnsOverride::default(),
        line: 1,
    }
}

async fn make_zone(p: &AwsProvider, name: &str, records: usize) -> Res<String> {
    let r53 = p.route53();
    let out = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("bench-{name}"))
        .send()
        .await?;
    let id = out
        .hosted_zone()
        .ok_or("no zone")?
        .id()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let sets: Vec<ResourceRecordSet> = (0..records)
        .map(|i| {
            ResourceRecordSet::builder()
                .name(format!("h{i:05}.{name}."))
                .r#type(RrType::A)
                .ttl(86_400)
                .resource_records(
                    ResourceRecord::builder()
                        .value(format!("192.0.2.{}", i % 250 + 1))
                        .build()
                        .expect("record"),
                )
                .build()
                .expect("rrset")
        })
        .collect();
    for chunk in sets.chunks(1000) {
        let changes = chunk
            .iter()
            .map(|r| {
                Change::builder()
                    .action(ChangeAction::Create)
                    .resource_record_set(r.clone())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        r53.change_resource_record_sets()
            .hosted_zone_id(&id)
            .change_batch(ChangeBatch::builder().set_changes(Some(changes)).build()?)
            .send()
            .await?;
    }
    Ok(id)
}

/// The first `apply` of an onboarding (the engine, no `--wait`) against its floor: one full read
/// (GetHostedZone + ceil(N/300) listings + GetDNSSEC), ceil(2N/1000) TTL batches + 1 for the SOA,
/// and the GetChange polls the INSYNC gates need (each of the run's later observations asks once
/// per batch still PENDING). Target: total ≤ 1.1 × floor.
async fn first_apply(ep: &str, tag: u32) -> Res<bool> {
    use dnssec_pilot::config::{KskSpec, Trust};
    use dnssec_pilot::engine::{Engine, EngineOptions, Event, JournalStore};
    use dnssec_pilot::plan::Mode;

    let mut ok = true;
    println!("First apply (engine, no --wait, the external-registrar trust) against the floor");
    for n in [2_500usize, 10_000] {
        let p = provider(ep, 1000.0).await;
        let name = format!("fa{n}-{tag}.bench");
        let zone = ZoneName::parse(&name)?;
        let id = make_zone(&p, &name, n).await?;
        let key = p
            .kms()
            .create_key()
            .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
            .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
            .policy(dnssec_pilot::provider::aws::kms::example_policy(
                "123456789012",
            ))
            .send()
            .await?;
        let arn = key
            .key_metadata()
            .and_then(|m| m.arn())
            .ok_or("no key arn")?
            .to_string();
        let mut z = spec(&zone, &id);
        z.signing = Signing {
            enabled: true,
            ksks: vec![KskSpec {
                name: "bench_ksk".into(),
                kms_key: arn,
            }],
        };
        z.trust = Some(Trust::External);
        let d = Desired {
            version: 1,
            zones: vec![z],
            domains: vec![],
        };
        let dir = tempfile::tempdir()?;
        let store = JournalStore::new(dir.path().join("journal.json"));
        p.counter().reset();
        let t0 = Instant::now();
        let engine = Engine {
            provider: &p,
            desired: &d,
            store: &store,
            options: EngineOptions {
                mode: Mode::Apply,
                only: vec![],
                wait: false,
                max_wait: None,
                fresh_journal: false,
            },
            fault: None,
        };
        let mut ran = Vec::new();
        let outcome = engine
            .run(&mut |_| true, &mut |e| {
                if let Event::Executed { step, .. } = e {
                    ran.push(step.action.kind().as_str());
                }
            })
            .await?;
        let wall = t0.elapsed().as_secs_f64();
        let counts = p.counter().snapshot();
        let got = |op: &str| counts.get(op).copied().unwrap_or(0);
        let lists = ((n + 2) as u64).div_ceil(300);
        let batches = (n as u64).div_ceil(500) + u64::from(ran.contains(&"lower_soa"));
        let read = 1 + lists + 1;
        let floor = read + batches + got("GetChange");
        let total = p.counter().total();
        let others: Vec<String> = counts
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "GetHostedZone"
                        | "ListResourceRecordSets"
                        | "GetDNSSEC"
                        | "GetChange"
                        | "ChangeResourceRecordSets"
                )
            })
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let ratio = total as f64 / floor as f64;
        println!(
            "  N = {n}: ran {ran:?}, {outcome:?}\n    GetHostedZone {} ListResourceRecordSets {} (floor {lists}) GetDNSSEC {} ChangeResourceRecordSets {} (floor {batches}) GetChange {}{}\n    {total} calls, floor {floor}, ratio {ratio:.2} (target ≤ 1.1), wall {wall:.1} s",
            got("GetHostedZone"),
            got("ListResourceRecordSets"),
            got("GetDNSSEC"),
            got("ChangeResourceRecordSets"),
            got("GetChange"),
            if others.is_empty() {
                String::new()
            } else {
                format!(" + {}", others.join(", "))
            },
        );
        ok &= ratio <= 1.1;
    }
    Ok(ok)
}

fn row(label: &str, counts: &BTreeMap<String, u64>, floor: &BTreeMap<&str, u64>) -> bool {
    let mut ok = true;
    let mut parts = Vec::new();
    for (op, want) in floor {
        let got = counts.get(*op).copied().unwrap_or(0);
        ok &= got == *want;
        parts.push(format!("{op} {got} (floor {want})"));
    }
    let extra: u64 = counts
        .iter()
        .filter(|(k, _)| !floor.contains_key(k.as_str()))
        .map(|(_, v)| v)
        .sum();
    ok &= extra == 0;
    println!(
        "  {label:<28} {}{}  {}",
        parts.join(", "),
        if extra > 0 {
            format!(", other {extra}")
        } else {
            String::new()
        },
        if ok { "= floor" } else { "ABOVE FLOOR" }
    );
    ok
}

#[tokio::main]
async fn main() -> Res<()> {
    let (ep, started) = endpoint()?;
    let result = run(&ep).await;
    if let Some(pid) = started {
        let _ = std::process::Command::new("kill").arg(&pid).status();
    }
    result
}

async fn run(ep: &str) -> Res<()> {
    println!("AWS provider request counts against fakecloud at {ep}");
    let tag = std::process::id();
    let mut all_ok = true;
    for n in [100usize, 2_500, 10_000] {
        let p = provider(ep, 1000.0).await;
        let name = format!("n{n}-{tag}.bench");
        let zone = ZoneName::parse(&name)?;
        let id = make_zone(&p, &name, n).await?;
        let d = Desired {
            version: 1,
            zones: vec![spec(&zone, &id)],
            domains: vec![],
        };
        let j = Journal::new("bench");
        println!("N = {n} record sets (+ apex NS and SOA)");

        p.counter().reset();
        let obs = p.observe(&dnssec_pilot::plan::scope(&d, &j, &[])).await?;
        let lists = ((n + 2) as u64).div_ceil(300);
        all_ok &= row(
            "observe",
            &p.counter().snapshot(),
            &BTreeMap::from([
                ("ListResourceRecordSets", lists),
                ("GetHostedZone", 1),
                ("GetDNSSEC", 1),
            ]),
        );

        let hz = obs.zones[&zone].hosted_zone.as_ref().ok_or("no zone")?;
        let changes: Vec<TtlChange> = hz
            .record_sets
            .iter()
            .filter(|r| r.rtype == "A")
            .map(|r| TtlChange {
                record: r.record_ref(),
                from: Ttl(86_400),
                to: Ttl(3600),
            })
            .collect();
        p.counter().reset();
        let t0 = Instant::now();
        let res = p
            .execute(&ActionRequest {
                zone: zone.clone(),
                hosted_zone_id: Some(id.clone()),
                action: Action::LowerTtls { changes },
                token: format!("bench-{n}"),
            })
            .await?;
        let mut ids = res.change_ids.clone();
        if ids.is_empty() {
            ids.extend(res.change_id.clone());
        }
        p.wait_changes_insync(&ids, Duration::from_secs(600))
            .await?;
        let batches = (n as u64).div_ceil(500);
        all_ok &= row(
            "lower TTLs + wait INSYNC",
            &p.counter().snapshot(),
            &BTreeMap::from([
                ("ChangeResourceRecordSets", batches),
                ("GetChange", batches),
            ]),
        );
        println!(
            "  ({} batches, {:.1} s)",
            ids.len(),
            t0.elapsed().as_secs_f64()
        );
    }

    all_ok &= first_apply(ep, tag).await?;

    let zones: usize = std::env::var("BENCH_FLEET_ZONES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rate: f64 = std::env::var("BENCH_FLEET_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(AwsOptions::DEFAULT_MAX_RPS);
    println!("Fleet: {zones} zones of 20 record sets, observed at {rate} requests/s");
    let setup = provider(ep, 1000.0).await;
    let mut specs = Vec::new();
    for i in 0..zones {
        let name = format!("f{i:03}-{tag}.fleet");
        let id = make_zone(&setup, &name, 20).await?;
        specs.push(spec(&ZoneName::parse(&name)?, &id));
    }
    let d = Desired {
        version: 1,
        zones: specs,
        domains: vec![],
    };
    let j = Journal::new("bench");
    let p = provider(ep, rate).await;
    let t0 = Instant::now();
    p.observe(&dnssec_pilot::plan::scope(&d, &j, &[])).await?;
    let wall = t0.elapsed().as_secs_f64();
    let calls = p.counter().total();
    let ideal = calls as f64 / rate;
    println!(
        "  {calls} calls (floor {}), wall {wall:.1} s, calls ÷ rate {ideal:.1} s, ratio {:.3} (target ≤ 1.1)",
        3 * zones,
        wall / ideal
    );
    all_ok &= calls == 3 * zones as u64 && wall / ideal <= 1.1;

    println!(
        "Fleet: the same {zones} zones at {rate} requests/s against an account throttling at 5/s"
    );
    let throttle = Throttle::new(5.0);
    let injected = throttle.injected.clone();
    let p = provider_with(ep, rate, vec![SharedInterceptor::new(throttle)]).await;
    let t0 = Instant::now();
    let observed = p.observe(&dnssec_pilot::plan::scope(&d, &j, &[])).await?;
    let wall = t0.elapsed().as_secs_f64();
    let failed = observed
        .zones
        .values()
        .filter(|z| z.hosted_zone.is_none())
        .count();
    let calls = p.counter().total();
    let injected = injected.load(Ordering::Relaxed);
    println!(
        "  {calls} attempts for {} calls, {injected} throttled ({} seen by the limiter), \
         {failed} errors surfaced (target 0), wall {wall:.1} s (calls ÷ 5/s {:.1} s)",
        3 * zones,
        p.limiter(dnssec_pilot::provider::aws::Svc::Route53)
            .throttled_answers(),
        (3 * zones) as f64 / 5.0
    );
    all_ok &= failed == 0;
    println!(
        "{}",
        if all_ok {
            "every scenario at the floor"
        } else {
            "SOME SCENARIO ABOVE THE FLOOR"
        }
    );
    Ok(())
}
