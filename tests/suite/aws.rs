//! Integration tests: the AWS provider, end to end through the real aws-sdk crates over HTTP
//! against AWS emulators on 127.0.0.1 — fakecloud (Route 53 with KSKs, signing and changes that
//! turn INSYNC; KMS) and moto (Route 53 Domains; a second Route 53) — plus a fault-injecting
//! proxy (throttling, 5xx, dropped connections) and `aws-smithy-mocks` for what no emulator
//! serves (registrar DS association, the documented error shapes).
//!
//! Emulators: `tests/run.sh` starts them through `tests/peers/{fakecloud,moto}.sh`, which record
//! `PID=`, `PORT=`, `ENDPOINT=` in `tests/.peers/<name>.env`; these tests read that file. When it
//! is absent or stale (plain `cargo test`), the harness runs the same script itself into a
//! private directory and leaves a watchdog that stops the emulator, by PID, when the test
//! process exits. `DNSSEC_PILOT_FAKECLOUD_ENDPOINT` / `DNSSEC_PILOT_MOTO_ENDPOINT` override both.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_route53::config::{Credentials, Region, SharedInterceptor};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord, ResourceRecordSet, RrType,
};
use dnssec_pilot::config::{
    Desired, DnsOverride, DomainSpec, Finally, KskSpec, Safety, Signing, Trust, ZoneSpec,
};
use dnssec_pilot::model::{
    Action, ActionRequest, ActionResult, Dnskey, DsTarget, RecordRef, SoaChange, Timestamp, Ttl,
    TtlChange, ZoneName,
};
use dnssec_pilot::provider::aws::{AwsOptions, AwsProvider, Clock, Endpoints, errors, kms};
use dnssec_pilot::provider::{Provider, ProviderError};
use dnssec_pilot::state::{
    ChangeStatus, Journal, KskStatus, Observed, OperationStatus, ParentObs, SigningStatus,
    StepOutcome, StepRecord, ZoneJournal,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------------
// Peers

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_env_file(p: &Path) -> Option<HashMap<String, String>> {
    let text = std::fs::read_to_string(p).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

fn answers(endpoint: &str) -> bool {
    let hostport = endpoint.trim_start_matches("http://");
    hostport
        .parse::<SocketAddr>()
        .ok()
        .map(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
        .unwrap_or(false)
}

/// The endpoint of emulator `name` (`fakecloud` or `moto`), started if need be.
pub(super) fn peer(name: &str) -> String {
    static PEERS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut peers = PEERS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(e) = peers.get(name) {
        return e.clone();
    }
    let var = format!("DNSSEC_PILOT_{}_ENDPOINT", name.to_ascii_uppercase());
    let endpoint = if let Ok(e) = std::env::var(&var) {
        e
    } else if let Some(e) = read_env_file(&repo_root().join(format!("tests/.peers/{name}.env")))
        .and_then(|m| m.get("ENDPOINT").cloned())
        .filter(|e| answers(e))
    {
        e
    } else {
        // Start our own, stopped by a watchdog when this process exits.
        let dir = std::env::temp_dir().join(format!("dnssec-pilot-peers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("peer dir");
        let script = repo_root().join(format!("tests/peers/{name}.sh"));
        let st = std::process::Command::new("bash")
            .arg(&script)
            .arg("start")
            .env("DNSSEC_PILOT_PEERS_DIR", &dir)
            .status()
            .expect("run the peer script");
        assert!(st.success(), "{} failed", script.display());
        let env = read_env_file(&dir.join(format!("{name}.env"))).expect("peer env file");
        let pid = env.get("PID").cloned().expect("PID");
        let me = std::process::id();
        // The watchdog runs detached (the outer shell returns at once and is waited for).
        let st = std::process::Command::new("bash")
            .args([
                "-c",
                &format!(
                    "setsid bash -c 'while kill -0 {me} 2>/dev/null; do sleep 1; done; kill {pid} 2>/dev/null' </dev/null >/dev/null 2>&1 &"
                ),
            ])
            .status()
            .expect("watchdog");
        assert!(st.success(), "watchdog");
        env.get("ENDPOINT").cloned().expect("ENDPOINT")
    };
    peers.insert(name.to_string(), endpoint.clone());
    endpoint
}

pub(super) async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

fn start() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

pub(super) fn options(route53: &str, other: Option<&str>) -> AwsOptions {
    AwsOptions {
        route53_rate: 200.0,
        domains_rate: 200.0,
        kms_rate: 200.0,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        clock: Clock::virtual_at(start()),
        endpoints: Endpoints {
            route53: Some(route53.to_string()),
            domains: other.map(str::to_string),
            kms: Some(other.unwrap_or(route53).to_string()),
        },
        ..AwsOptions::default()
    }
}

pub(super) async fn provider(opts: AwsOptions) -> AwsProvider {
    AwsProvider::from_sdk_config(&sdk_config().await, opts)
}

pub(super) fn unique(prefix: &str) -> String {
    use rand::Rng as _;
    format!("{prefix}{:08x}", rand::rng().random::<u32>())
}

// ---------------------------------------------------------------------------------------------
// Fixtures

fn zone_spec(name: &ZoneName, id: Option<&str>, trust: Option<Trust>) -> ZoneSpec {
    ZoneSpec {
        name: name.clone(),
        hosted_zone_id: id.map(str::to_string),
        ttl_max: Ttl(3600),
        soa_ttl: Ttl(300),
        soa_minimum: Ttl(300),
        signing: Signing {
            enabled: true,
            ksks: vec![KskSpec {
                name: "ksk_1".into(),
                kms_key: "arn:aws:kms:us-east-1:123456789012:key/x".into(),
            }],
        },
        trust,
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

fn desired(zones: Vec<ZoneSpec>, domains: Vec<DomainSpec>) -> Desired {
    Desired {
        version: 1,
        zones,
        domains,
    }
}

fn journal_with(zone: &ZoneName, results: &[(Action, ActionResult)]) -> Journal {
    let mut j = Journal::new("tests");
    let steps = results
        .iter()
        .enumerate()
        .map(|(i, (a, r))| StepRecord {
            step_id: format!("s{i}"),
            action: a.clone(),
            token: format!("t{i}"),
            intent_at: start(),
            outcome: Some(StepOutcome {
                at: start(),
                result: Ok(r.clone()),
                reconciled: false,
            }),
        })
        .collect();
    j.zones.insert(
        zone.clone(),
        ZoneJournal {
            steps,
            ..Default::default()
        },
    );
    j
}

async fn observe(p: &AwsProvider, d: &Desired, j: &Journal) -> Observed {
    p.observe(&dnssec_pilot::plan::scope(d, j, &[]))
        .await
        .expect("observe")
}

/// Creates a public hosted zone and returns its id (without `/hostedzone/`).
pub(super) async fn create_zone(p: &AwsProvider, name: &str) -> String {
    let out = p
        .route53()
        .create_hosted_zone()
        .name(name)
        .caller_reference(unique("cz-"))
        .hosted_zone_config(HostedZoneConfig::builder().private_zone(false).build())
        .send()
        .await
        .expect("CreateHostedZone");
    out.hosted_zone()
        .unwrap()
        .id()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

pub(super) fn rrset(name: &str, t: RrType, ttl: i64, values: &[&str]) -> ResourceRecordSet {
    let mut b = ResourceRecordSet::builder().name(name).r#type(t).ttl(ttl);
    for v in values {
        b = b.resource_records(ResourceRecord::builder().value(*v).build().unwrap());
    }
    b.build().unwrap()
}

/// The `dnssec-pilot` binary with static test credentials, pointed at the emulator `endpoint`.
pub(super) fn pilot_against(endpoint: &str) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dnssec-pilot"));
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1");
    c
}

pub(super) async fn create_records(p: &AwsProvider, zone_id: &str, sets: Vec<ResourceRecordSet>) {
    change_records(p, zone_id, ChangeAction::Create, sets).await;
}

/// Sends `sets` with `action`, 1,000 record sets a batch (test set-up, outside the provider).
pub(super) async fn change_records(
    p: &AwsProvider,
    zone_id: &str,
    action: ChangeAction,
    sets: Vec<ResourceRecordSet>,
) {
    for chunk in sets.chunks(1000) {
        let changes: Vec<Change> = chunk
            .iter()
            .map(|r| {
                Change::builder()
                    .action(action.clone())
                    .resource_record_set(r.clone())
                    .build()
                    .unwrap()
            })
            .collect();
        p.route53()
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .set_changes(Some(changes))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("ChangeResourceRecordSets (test set-up)");
    }
}

pub(super) fn a_records(zone: &str, n: usize, ttl: i64) -> Vec<ResourceRecordSet> {
    (0..n)
        .map(|i| {
            rrset(
                &format!("h{i:05}.{zone}."),
                RrType::A,
                ttl,
                &[&format!("192.0.2.{}", i % 250 + 1)],
            )
        })
        .collect()
}

pub(super) async fn create_kms_key(p: &AwsProvider, policy: Option<String>) -> String {
    let out = p
        .kms()
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .set_policy(policy)
        .send()
        .await
        .expect("CreateKey");
    out.key_metadata().unwrap().arn().unwrap().to_string()
}

fn req(zone: &ZoneName, id: &str, action: Action, token: &str) -> ActionRequest {
    ActionRequest {
        zone: zone.clone(),
        hosted_zone_id: Some(id.to_string()),
        action,
        token: token.to_string(),
    }
}

async fn run(p: &AwsProvider, r: ActionRequest) -> ActionResult {
    let what = format!("{:?}", r.action.kind());
    let res = p
        .execute(&r)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    if let Some(c) = &res.change_id {
        let st = p
            .wait_change_insync(c, Duration::from_secs(600))
            .await
            .expect("GetChange");
        assert_eq!(st, ChangeStatus::Insync, "{what}");
    }
    res
}

// ---------------------------------------------------------------------------------------------
// fakecloud: observation, pagination, batching

#[tokio::test]
async fn fakecloud_observe_paginates_and_lowers_2500_ttls_in_5_batches() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let zname = format!("{}.example", unique("pg"));
    let zone = ZoneName::parse(&zname).unwrap();
    let id = create_zone(&p, &zname).await;
    create_records(&p, &id, a_records(&zname, 2_500, 86_400)).await;
    // An alias record: no TTL of its own.
    create_records(
        &p,
        &id,
        vec![
            ResourceRecordSet::builder()
                .name(format!("alias.{zname}."))
                .r#type(RrType::A)
                .alias_target(
                    aws_sdk_route53::types::AliasTarget::builder()
                        .hosted_zone_id(&id)
                        .dns_name(format!("h00001.{zname}."))
                        .evaluate_target_health(false)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        ],
    )
    .await;

    // Looked up by name: ListHostedZonesByName + GetHostedZone + ceil(2503/300) pages + GetDNSSEC.
    let d = desired(vec![zone_spec(&zone, None, None)], vec![]);
    let j = Journal::new("t");
    p.counter().reset();
    let obs = observe(&p, &d, &j).await;
    let counts = p.counter().snapshot();
    let z = &obs.zones[&zone];
    let hz = z.hosted_zone.as_ref().expect("hosted zone");
    assert_eq!(hz.id, id);
    assert!(!hz.private);
    assert_eq!(hz.name_servers.len(), 4);
    // 2,500 A + alias + apex NS (the SOA is apart).
    assert_eq!(hz.record_sets.len(), 2_502);
    let alias = hz
        .record_sets
        .iter()
        .find(|r| r.name == format!("alias.{zname}"))
        .unwrap();
    assert_eq!(alias.ttl, None);
    assert!(alias.provider_data.is_some());
    assert!(hz.apex_ns_ttl(&zone).is_some());
    assert_eq!(hz.soa.minimum, Ttl(86_400));
    assert_eq!(z.dnssec.status, SigningStatus::NotSigning);
    assert_eq!(counts["ListResourceRecordSets"], 2_503u64.div_ceil(300));
    assert_eq!(counts["ListHostedZonesByName"], 1);
    assert_eq!(counts["GetHostedZone"], 1);
    assert_eq!(counts["GetDNSSEC"], 1);
    assert_eq!(p.counter().total(), 9 + 3);

    // Lower every A record's TTL: 2,500 UPSERTs of one value count 2 each → 5 batches of 500.
    let changes: Vec<TtlChange> = hz
        .record_sets
        .iter()
        .filter(|r| r.rtype == "A" && r.ttl == Some(Ttl(86_400)))
        .map(|r| TtlChange {
            record: r.record_ref(),
            from: Ttl(86_400),
            to: Ttl(3600),
        })
        .collect();
    assert_eq!(changes.len(), 2_500);
    p.counter().reset();
    let lower = Action::LowerTtls { changes };
    let res = p
        .execute(&req(&zone, &id, lower.clone(), "tok-lower"))
        .await
        .expect("lower");
    assert_eq!(p.counter().get("ChangeResourceRecordSets"), 5);
    assert_eq!(p.counter().total(), 5, "{:?}", p.counter().snapshot());
    assert_eq!(res.change_ids.len(), 5);
    assert_eq!(res.change_id.as_ref(), res.change_ids.last());

    // The SOA: TTL and MINIMUM together.
    let soa = Action::LowerSoa {
        soa: SoaChange {
            ttl_from: hz.soa.ttl,
            ttl_to: Ttl(300),
            minimum_from: Ttl(86_400),
            minimum_to: Ttl(300),
        },
    };
    let soa_res = p
        .execute(&req(&zone, &id, soa.clone(), "tok-soa"))
        .await
        .expect("soa");

    // The journal's change ids are observed: PENDING until every batch is INSYNC.
    let j = journal_with(&zone, &[(lower, res.clone()), (soa, soa_res)]);
    let d = desired(vec![zone_spec(&zone, Some(&id), None)], vec![]);
    let mut insync = false;
    for _ in 0..10 {
        let obs = observe(&p, &d, &j).await;
        let z = &obs.zones[&zone];
        let main = &z.changes[res.change_id.as_ref().unwrap()];
        if main.status == ChangeStatus::Insync {
            assert!(
                res.change_ids
                    .iter()
                    .all(|c| z.changes[c].status == ChangeStatus::Insync)
            );
            let hz = z.hosted_zone.as_ref().unwrap();
            assert!(
                hz.record_sets
                    .iter()
                    .filter(|r| r.rtype == "A" && r.ttl.is_some())
                    .all(|r| r.ttl == Some(Ttl(3600)))
            );
            assert_eq!(hz.soa.ttl, Ttl(300));
            assert_eq!(hz.soa.minimum, Ttl(300));
            insync = true;
            break;
        }
    }
    assert!(insync, "the batches never became INSYNC");
    // INSYNC is final: the next observation (an `apply --wait` polls for days) asks
    // `GetChange` about none of the 6 changes again.
    p.counter().reset();
    let obs = observe(&p, &d, &j).await;
    assert_eq!(
        p.counter().get("GetChange"),
        0,
        "{:?}",
        p.counter().snapshot()
    );
    assert!(
        obs.zones[&zone]
            .changes
            .values()
            .all(|c| c.status == ChangeStatus::Insync)
    );
}

#[tokio::test]
async fn name_clash_between_private_and_public_zone_asks_for_the_id() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let zname = format!("{}.example", unique("clash"));
    let zone = ZoneName::parse(&zname).unwrap();
    create_zone(&p, &zname).await;
    p.route53()
        .create_hosted_zone()
        .name(&zname)
        .caller_reference(unique("cz-"))
        .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
        .vpc(
            aws_sdk_route53::types::Vpc::builder()
                .vpc_id("vpc-12345678")
                .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                .build(),
        )
        .send()
        .await
        .expect("private zone");
    let err = p.find_hosted_zone(&zone).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("hosted_zone_id"), "{msg}");
    assert!(msg.contains("private") && msg.contains("public"), "{msg}");
    // A name nobody hosts: no hosted zone, no error.
    let none = ZoneName::parse(&format!("{}.example", unique("none"))).unwrap();
    assert_eq!(p.find_hosted_zone(&none).await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// fakecloud: the whole onboarding and destroy of a zone with a Route 53 parent

#[tokio::test]
async fn fakecloud_onboard_then_destroy_with_route53_parent() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let parent_name = format!("{}.example", unique("par"));
    let child_name = format!("child.{parent_name}");
    let parent = ZoneName::parse(&parent_name).unwrap();
    let zone = ZoneName::parse(&child_name).unwrap();
    let parent_id = create_zone(&p, &parent_name).await;
    let id = create_zone(&p, &child_name).await;
    create_records(&p, &id, a_records(&child_name, 10, 86_400)).await;
    // The delegation in the parent.
    create_records(
        &p,
        &parent_id,
        vec![rrset(
            &format!("{child_name}."),
            RrType::Ns,
            172_800,
            &["ns-1.awsdns-1.com.", "ns-2.awsdns-2.net."],
        )],
    )
    .await;
    let trust = Trust::ParentZone {
        hosted_zone_id: parent_id.clone(),
        parent: parent.clone(),
        ds_ttl: Ttl(300),
    };
    let d = desired(vec![zone_spec(&zone, Some(&id), Some(trust))], vec![]);
    let j = Journal::new("t");

    let obs = observe(&p, &d, &j).await;
    match &obs.zones[&zone].parent {
        ParentObs::ParentZone { ds, ns_ttl, .. } => {
            assert!(ds.is_empty());
            assert_eq!(*ns_ttl, Some(Ttl(172_800)));
        }
        other => panic!("{other:?}"),
    }

    // KMS pre-flight: a key whose policy does not let Route 53 DNSSEC use it is refused, naming
    // what is missing, before CreateKeySigningKey.
    let bad = create_kms_key(&p, None).await;
    p.counter().reset();
    let err = p
        .execute(&req(
            &zone,
            &id,
            Action::CreateKsk {
                name: "bad_ksk".into(),
                kms_arn: bad,
            },
            "tok-bad",
        ))
        .await
        .unwrap_err();
    assert_eq!(errors::refused_code(&err), Some("KmsKeyNotUsableForDnssec"));
    let text = err.to_string();
    assert!(
        text.contains("kms:Sign") && text.contains("kms:CreateGrant"),
        "{text}"
    );
    assert_eq!(p.counter().get("CreateKeySigningKey"), 0);

    // Create the KSK; a retry with the same token (a crash between the call and the journal
    // write) finds the key and creates no second one.
    let good = create_kms_key(&p, Some(kms::example_policy("123456789012"))).await;
    let create = Action::CreateKsk {
        name: "ksk_1".into(),
        kms_arn: good.clone(),
    };
    let r1 = run(&p, req(&zone, &id, create.clone(), "tok-create")).await;
    assert!(r1.change_id.is_some());
    let r2 = p
        .execute(&req(&zone, &id, create, "tok-create"))
        .await
        .expect("retried create");
    assert!(r2.change_id.is_none(), "{r2:?}");
    let dnssec = p.get_dnssec(&id).await.unwrap();
    assert_eq!(dnssec.ksks.len(), 1);
    let ksk = &dnssec.ksks[0];
    assert_eq!(ksk.status, KskStatus::Active);
    assert_eq!(ksk.kms_arn, good);
    assert!(ksk.dnskey.is_sep() && ksk.dnskey.algorithm == 13);
    assert_eq!(ksk.dnskey.key_tag().unwrap(), ksk.key_tag);
    assert!(
        ksk.dnskey.matches(&zone, &ksk.ds),
        "DS must match the DNSKEY"
    );

    // Sign.
    run(&p, req(&zone, &id, Action::EnableSigning, "tok-enable")).await;
    let obs = observe(&p, &d, &j).await;
    assert_eq!(obs.zones[&zone].dnssec.status, SigningStatus::Signing);

    // Publish the DS in the parent, TTL from the action; then lengthen it.
    let ds = vec![ksk.ds.clone()];
    let target = DsTarget::ParentZone {
        hosted_zone_id: parent_id.clone(),
        parent: parent.clone(),
    };
    run(
        &p,
        req(
            &zone,
            &id,
            Action::PublishDs {
                target: target.clone(),
                records: ds.clone(),
                ttl: Ttl(300),
            },
            "tok-ds",
        ),
    )
    .await;
    let obs = observe(&p, &d, &j).await;
    match &obs.zones[&zone].parent {
        ParentObs::ParentZone {
            ds: seen, ds_ttl, ..
        } => {
            assert_eq!(seen, &ds);
            assert_eq!(*ds_ttl, Some(Ttl(300)));
        }
        other => panic!("{other:?}"),
    }
    run(
        &p,
        req(
            &zone,
            &id,
            Action::RaiseDsTtl {
                parent_hosted_zone_id: parent_id.clone(),
                records: ds.clone(),
                from: Ttl(300),
                to: Ttl(3600),
            },
            "tok-raise",
        ),
    )
    .await;
    let obs = observe(&p, &d, &j).await;
    assert!(matches!(
        &obs.zones[&zone].parent,
        ParentObs::ParentZone {
            ds_ttl: Some(Ttl(3600)),
            ..
        }
    ));

    // Destroy, in the safe order: DS out, signing off, KSK deactivated, KSK deleted.
    let remove = Action::RemoveDs {
        target,
        records: ds.clone(),
        ttl: Ttl(3600),
    };
    run(&p, req(&zone, &id, remove.clone(), "tok-rm")).await;
    // Removing again is a no-op, not an error.
    let again = p.execute(&req(&zone, &id, remove, "tok-rm")).await.unwrap();
    assert!(again.change_id.is_none());
    run(&p, req(&zone, &id, Action::DisableSigning, "tok-disable")).await;
    run(
        &p,
        req(
            &zone,
            &id,
            Action::DeactivateKsk {
                name: "ksk_1".into(),
            },
            "tok-deact",
        ),
    )
    .await;
    run(
        &p,
        req(
            &zone,
            &id,
            Action::DeleteKsk {
                name: "ksk_1".into(),
            },
            "tok-del",
        ),
    )
    .await;
    let again = p
        .execute(&req(
            &zone,
            &id,
            Action::DeleteKsk {
                name: "ksk_1".into(),
            },
            "tok-del",
        ))
        .await
        .unwrap();
    assert!(again.change_id.is_none());

    let obs = observe(&p, &d, &j).await;
    let z = &obs.zones[&zone];
    assert_eq!(z.dnssec.status, SigningStatus::NotSigning);
    assert!(z.dnssec.ksks.is_empty());
    match &z.parent {
        ParentObs::ParentZone { ds, ns_ttl, .. } => {
            assert!(ds.is_empty());
            assert_eq!(*ns_ttl, Some(Ttl(172_800)));
        }
        other => panic!("{other:?}"),
    }
    // The provider's clock is virtual: waiting moves it, no real sleep.
    let later = start() + jiff::SignedDuration::from_hours(24 * 14);
    p.wait_until(later).await.unwrap();
    assert!(p.now() >= later);
}

#[tokio::test]
async fn manual_and_await_make_no_call() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let zone = ZoneName::parse("manual.example").unwrap();
    p.counter().reset();
    let r = p
        .execute(&req(
            &zone,
            "Z1",
            Action::Manual {
                instruction: "publish DS 1 13 2 AB at the registrar".into(),
            },
            "t",
        ))
        .await
        .unwrap();
    assert_eq!(
        r.detail.as_deref(),
        Some("publish DS 1 13 2 AB at the registrar")
    );
    assert_eq!(p.counter().total(), 0);
}

// ---------------------------------------------------------------------------------------------
// Throttling, 5xx and dropped connections through a fault-injecting proxy

#[derive(Clone, Copy, Debug)]
enum Fault {
    Pass,
    Throttle,
    PriorRequest,
    Unavailable,
    Drop,
    Hang,
}

const THROTTLE_XML: &str = r#"<?xml version="1.0"?>
<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"#;
const PRIOR_XML: &str = r#"<?xml version="1.0"?>
<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>PriorRequestNotComplete</Code><Message>The request was rejected because Route 53 was still processing a prior request.</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"#;

struct Proxy {
    endpoint: String,
    injected: Arc<AtomicUsize>,
}

async fn read_request(s: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let head_end = loop {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Some(buf)
}

/// Rewrites the `connection` header of an HTTP/1.1 message to `close`.
fn with_connection_close(msg: &[u8]) -> Vec<u8> {
    let Some(i) = msg.windows(4).position(|w| w == b"\r\n\r\n") else {
        return msg.to_vec();
    };
    let head = String::from_utf8_lossy(&msg[..i]);
    let mut lines: Vec<String> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_string)
        .collect();
    lines.push("connection: close".into());
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(&msg[i..]);
    out
}

fn canned(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn fault_proxy(
    upstream: String,
    plan: impl Fn(usize) -> Fault + Send + Sync + 'static,
) -> Proxy {
    let plan = Arc::new(plan);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let injected = Arc::new(AtomicUsize::new(0));
    let up: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
    let inj = injected.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            let inj = inj.clone();
            let plan = plan.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut s).await else {
                    return;
                };
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let fault = plan(n);
                if !matches!(fault, Fault::Pass) {
                    inj.fetch_add(1, Ordering::SeqCst);
                }
                let response = match fault {
                    Fault::Drop => return,
                    Fault::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    Fault::Throttle => canned("400 Bad Request", THROTTLE_XML),
                    Fault::PriorRequest => canned("400 Bad Request", PRIOR_XML),
                    Fault::Unavailable => canned(
                        "503 Service Unavailable",
                        "<html><body>503 Service Unavailable</body></html>",
                    ),
                    Fault::Pass => {
                        let Ok(mut u) = tokio::net::TcpStream::connect(up).await else {
                            return;
                        };
                        if u.write_all(&with_connection_close(&request)).await.is_err() {
                            return;
                        }
                        let mut resp = Vec::new();
                        if u.read_to_end(&mut resp).await.is_err() {
                            return;
                        }
                        with_connection_close(&resp)
                    }
                };
                let _ = s.write_all(&response).await;
                let _ = s.shutdown().await;
            });
        }
    });
    Proxy {
        endpoint: format!("http://{addr}"),
        injected,
    }
}

#[tokio::test]
async fn throttling_5xx_and_dropped_connections_are_survived() {
    let ep = peer("fakecloud");
    let setup = provider(options(&ep, None)).await;
    let zname = format!("{}.example", unique("flt"));
    let zone = ZoneName::parse(&zname).unwrap();
    let id = create_zone(&setup, &zname).await;
    create_records(&setup, &id, a_records(&zname, 700, 86_400)).await;

    let proxy = fault_proxy(ep.clone(), |n| match n % 6 {
        1 => Fault::Throttle,
        2 => Fault::Unavailable,
        3 => Fault::PriorRequest,
        5 if n % 12 == 5 => Fault::Drop,
        _ => Fault::Pass,
    })
    .await;
    let mut opts = options(&proxy.endpoint, Some(&ep));
    opts.max_attempts = 10;
    opts.attempt_timeout = Duration::from_secs(5);
    let p = provider(opts).await;
    let d = desired(vec![zone_spec(&zone, Some(&id), None)], vec![]);
    let j = Journal::new("t");
    let obs = observe(&p, &d, &j).await;
    let hz = obs.zones[&zone].hosted_zone.as_ref().unwrap();
    assert_eq!(hz.record_sets.len(), 701);
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
    let res = p
        .execute(&req(&zone, &id, Action::LowerTtls { changes }, "tok"))
        .await
        .expect("lower through faults");
    assert_eq!(res.change_ids.len(), 2);
    assert!(proxy.injected.load(Ordering::SeqCst) >= 3);
    // Every injected fault cost one more attempt, and the interceptor counted it.
    let attempts = p.counter().total();
    assert!(attempts > 1 + 3 + 1 + 2, "{:?}", p.counter().snapshot());

    // The world agrees (read directly, without the proxy).
    let direct = observe(&setup, &d, &j).await;
    assert!(
        direct.zones[&zone]
            .hosted_zone
            .as_ref()
            .unwrap()
            .record_sets
            .iter()
            .filter(|r| r.rtype == "A")
            .all(|r| r.ttl == Some(Ttl(3600)))
    );
}

/// A token bucket of `rate` requests/s holding at most `rate` tokens: what a Route 53 account
/// whose limit is below the tool's default does. `true` when the request may pass.
fn bucket(rate: f64) -> impl Fn() -> bool + Send + Sync + 'static {
    let state = Mutex::new((rate, std::time::Instant::now()));
    move || {
        let mut s = state.lock().unwrap();
        let now = std::time::Instant::now();
        s.0 = (s.0 + now.duration_since(s.1).as_secs_f64() * rate).min(rate);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[tokio::test]
async fn an_account_throttling_at_5_per_second_surfaces_no_error_at_the_default_10() {
    // Issue 17: the tool paces itself at Route 53's default (10/s, burst 50); an account held to
    // 5/s answers `Throttling` beyond that. The adaptive limiter backs off and every zone is
    // still observed, with no error surfaced.
    let ep = peer("fakecloud");
    let setup = provider(options(&ep, None)).await;
    let mut specs = Vec::new();
    for i in 0..20 {
        let zname = format!("{}.example", unique(&format!("thr{i}-")));
        let id = create_zone(&setup, &zname).await;
        specs.push(zone_spec(
            &ZoneName::parse(&zname).unwrap(),
            Some(&id),
            None,
        ));
    }
    let allow = bucket(5.0);
    let proxy = fault_proxy(ep.clone(), move |_| {
        if allow() {
            Fault::Pass
        } else {
            Fault::Throttle
        }
    })
    .await;
    let mut opts = options(&proxy.endpoint, Some(&ep));
    opts.route53_rate = AwsOptions::DEFAULT_MAX_RPS;
    opts.burst = AwsOptions::burst_for(AwsOptions::DEFAULT_MAX_RPS);
    opts.backoff_base = Duration::from_millis(100);
    opts.backoff_max = Duration::from_secs(2);
    let p = provider(opts).await;
    let d = desired(specs, vec![]);
    let j = Journal::new("t");
    let obs = observe(&p, &d, &j).await;
    assert_eq!(obs.zones.len(), 20);
    assert!(obs.zones.values().all(|z| z.hosted_zone.is_some()));
    let limiter = p.limiter(dnssec_pilot::provider::aws::Svc::Route53);
    let throttled = limiter.throttled_answers();
    assert_eq!(throttled, proxy.injected.load(Ordering::SeqCst) as u64);
    assert!(
        throttled > 0,
        "the burst of 50 must have met the 5/s account limit"
    );
    // Every throttled answer was retried within the attempts (none surfaced as an error).
    assert!(throttled < 20 * 3 * 7, "{throttled}");
}

#[tokio::test]
async fn persistent_throttling_ends_in_a_transient_error() {
    let ep = peer("fakecloud");
    let proxy = fault_proxy(ep.clone(), |_| Fault::Throttle).await;
    let mut opts = options(&proxy.endpoint, Some(&ep));
    opts.max_attempts = 3;
    let p = provider(opts).await;
    let err = p.get_dnssec("Z0000000000000").await.unwrap_err();
    assert!(matches!(err, ProviderError::Transient { .. }), "{err:?}");
    assert_eq!(p.counter().get("GetDNSSEC"), 3);
}

// ---------------------------------------------------------------------------------------------
// moto: Route 53 Domains reads, and a second Route 53

fn contact() -> aws_sdk_route53domains::types::ContactDetail {
    aws_sdk_route53domains::types::ContactDetail::builder()
        .first_name("Ada")
        .last_name("Lovelace")
        .contact_type(aws_sdk_route53domains::types::ContactType::Person)
        .address_line1("1 Main St")
        .city("Springfield")
        .state("IL")
        .country_code(aws_sdk_route53domains::types::CountryCode::Us)
        .zip_code("62701")
        .phone_number("+1.2175550100")
        .email("ada@example.org")
        .build()
}

#[tokio::test]
async fn moto_registrar_domain_is_observed() {
    let ep = peer("moto");
    let p = provider(options(&ep, Some(&ep))).await;
    let domain = ZoneName::parse(&format!("{}.com", unique("pilot"))).unwrap();
    let reg = p
        .route53domains()
        .register_domain()
        .domain_name(domain.as_str())
        .duration_in_years(2)
        .admin_contact(contact())
        .registrant_contact(contact())
        .tech_contact(contact())
        .send()
        .await
        .expect("RegisterDomain");
    let op_id = reg.operation_id().unwrap().to_string();

    let spec = DomainSpec {
        name: domain.clone(),
        registrar_keys: vec![],
        safety: Safety::default(),
        dns: DnsOverride::default(),
        line: 1,
    };
    let d = desired(vec![], vec![spec]);
    let mut j = Journal::new("t");
    j.domains.insert(
        domain.clone(),
        dnssec_pilot::state::DomainJournal {
            steps: vec![StepRecord {
                step_id: "reg".into(),
                action: Action::Await {
                    milestone: "registered".into(),
                },
                token: "t".into(),
                intent_at: start(),
                outcome: Some(StepOutcome {
                    at: start(),
                    result: Ok(ActionResult {
                        operation_id: Some(op_id.clone()),
                        ..Default::default()
                    }),
                    reconciled: false,
                }),
            }],
            ..Default::default()
        },
    );
    p.counter().reset();
    let obs = observe(&p, &d, &j).await;
    let reg = obs.domains[&domain].registrar.as_ref().expect("known");
    assert!(reg.keys.is_empty());
    assert_eq!(reg.operations.len(), 1);
    assert_eq!(reg.operations[0].id, op_id);
    assert_eq!(reg.operations[0].status, OperationStatus::Successful);
    assert_eq!(reg.operations[0].kind, "REGISTER_DOMAIN");
    let c = p.counter().snapshot();
    assert_eq!(c["ListOperations"], 1);
    assert_eq!(c["GetDomainDetail"], 1);
    assert_eq!(c["GetOperationDetail"], 1);
    assert_eq!(
        p.wait_operation(&op_id, Duration::from_secs(5))
            .await
            .unwrap(),
        OperationStatus::Successful
    );

    // A domain the registrar does not know.
    let other = ZoneName::parse(&format!("{}.com", unique("nobody"))).unwrap();
    assert_eq!(p.registrar_keys(&other).await.unwrap(), None);
}

#[tokio::test]
async fn moto_route53_pagination() {
    let ep = peer("moto");
    let p = provider(options(&ep, Some(&ep))).await;
    let zname = format!("{}.example", unique("mp"));
    let zone = ZoneName::parse(&zname).unwrap();
    let id = create_zone(&p, &zname).await;
    create_records(&p, &id, a_records(&zname, 650, 7200)).await;
    let d = desired(vec![zone_spec(&zone, None, None)], vec![]);
    p.counter().reset();
    let obs = observe(&p, &d, &Journal::new("t")).await;
    let hz = obs.zones[&zone].hosted_zone.as_ref().unwrap();
    assert_eq!(
        hz.record_sets.iter().filter(|r| r.rtype == "A").count(),
        650
    );
    assert_eq!(
        p.counter().get("ListResourceRecordSets"),
        652u64.div_ceil(300)
    );
}

// ---------------------------------------------------------------------------------------------
// aws-smithy-mocks: registrar association shapes and the documented errors

mod mocks {
    use super::*;
    use aws_sdk_route53domains::operation::associate_delegation_signer_to_domain::AssociateDelegationSignerToDomainOutput;
    use aws_sdk_route53domains::operation::disassociate_delegation_signer_from_domain::DisassociateDelegationSignerFromDomainOutput;
    use aws_sdk_route53domains::operation::get_domain_detail::GetDomainDetailOutput;
    use aws_sdk_route53domains::types::DnssecKey;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};

    pub(super) const PK_OLD: &str = "oldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyoldkeyAA==";
    pub(super) const PK_NEW: &str =
        "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==";

    async fn mocked(rules: &[&Rule]) -> AwsProvider {
        let mut i = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for r in rules {
            i = i.with_rule(r);
        }
        let sdk = sdk_config()
            .await
            .into_builder()
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .build();
        let opts = AwsOptions {
            interceptors: vec![SharedInterceptor::new(i)],
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            route53_rate: 1000.0,
            domains_rate: 1000.0,
            ..AwsOptions::default()
        };
        AwsProvider::from_sdk_config(&sdk, opts)
    }

    fn detail_with_old_key() -> Rule {
        mock!(aws_sdk_route53domains::Client::get_domain_detail)
            .match_requests(|r| r.domain_name() == Some("example.com"))
            .then_output(|| {
                GetDomainDetailOutput::builder()
                    .domain_name("example.com")
                    .dnssec_keys(
                        DnssecKey::builder()
                            .id("registrar-key-7")
                            .algorithm(13)
                            .flags(257)
                            .public_key(PK_OLD)
                            .build(),
                    )
                    .build()
            })
    }

    #[tokio::test]
    async fn associate_sends_algorithm_flags_public_key() {
        let detail = detail_with_old_key();
        let assoc = mock!(aws_sdk_route53domains::Client::associate_delegation_signer_to_domain)
            .match_requests(|r| {
                r.domain_name() == Some("example.com")
                    && r.signing_attributes().is_some_and(|s| {
                        s.algorithm() == Some(13)
                            && s.flags() == Some(257)
                            && s.public_key() == Some(PK_NEW)
                    })
            })
            .then_output(|| {
                AssociateDelegationSignerToDomainOutput::builder()
                    .operation_id("op-add-1")
                    .build()
            });
        let p = mocked(&[&detail, &assoc]).await;
        let r = p
            .execute(&ActionRequest {
                zone: ZoneName::parse("example.com").unwrap(),
                hosted_zone_id: None,
                action: Action::AddRegistrarKey {
                    domain: ZoneName::parse("example.com").unwrap(),
                    key: Dnskey::new(257, 13, PK_NEW),
                },
                token: "t".into(),
            })
            .await
            .expect("associate");
        assert_eq!(r.operation_id.as_deref(), Some("op-add-1"));
        assert_eq!(assoc.num_calls(), 1);

        // A key the registrar already holds is not associated twice.
        let r = p
            .execute(&ActionRequest {
                zone: ZoneName::parse("example.com").unwrap(),
                hosted_zone_id: None,
                action: Action::AddRegistrarKey {
                    domain: ZoneName::parse("example.com").unwrap(),
                    key: Dnskey::new(257, 13, PK_OLD),
                },
                token: "t".into(),
            })
            .await
            .unwrap();
        assert!(r.operation_id.is_none());
        assert_eq!(assoc.num_calls(), 1);
    }

    #[tokio::test]
    async fn disassociate_looks_the_registrar_id_up_by_public_key() {
        let detail = detail_with_old_key();
        let dis = mock!(aws_sdk_route53domains::Client::disassociate_delegation_signer_from_domain)
            .match_requests(|r| {
                r.domain_name() == Some("example.com") && r.id() == Some("registrar-key-7")
            })
            .then_output(|| {
                DisassociateDelegationSignerFromDomainOutput::builder()
                    .operation_id("op-rm-1")
                    .build()
            });
        let p = mocked(&[&detail, &dis]).await;
        let mk = |pk: &str| ActionRequest {
            zone: ZoneName::parse("example.com").unwrap(),
            hosted_zone_id: None,
            action: Action::RemoveRegistrarKey {
                domain: ZoneName::parse("example.com").unwrap(),
                key: Dnskey::new(257, 13, pk),
            },
            token: "t".into(),
        };
        let r = p.execute(&mk(PK_OLD)).await.expect("disassociate");
        assert_eq!(r.operation_id.as_deref(), Some("op-rm-1"));
        // Not there: nothing to remove, no call.
        let r = p.execute(&mk(PK_NEW)).await.unwrap();
        assert!(r.operation_id.is_none());
        assert_eq!(dis.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_failed_registrar_operation_surfaces_the_registry_message() {
        use aws_sdk_route53domains::operation::get_operation_detail::GetOperationDetailOutput;
        use aws_sdk_route53domains::types::{OperationStatus as S, OperationType};
        let rule = mock!(aws_sdk_route53domains::Client::get_operation_detail)
            .sequence()
            .output(|| {
                GetOperationDetailOutput::builder()
                    .operation_id("op-1")
                    .status(S::InProgress)
                    .r#type(OperationType::AddDnssec)
                    .build()
            })
            .output(|| {
                GetOperationDetailOutput::builder()
                    .operation_id("op-1")
                    .status(S::Error)
                    .r#type(OperationType::AddDnssec)
                    .message("Registry rejected the key: digest mismatch")
                    .build()
            })
            .build();
        let mut p = mocked(&[&rule]).await;
        // Polling waits on the provider's clock: a virtual one makes it instant.
        let inner = AwsOptions {
            clock: Clock::virtual_at(start()),
            ..p.options().clone()
        };
        let sdk = sdk_config()
            .await
            .into_builder()
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .build();
        p = AwsProvider::from_sdk_config(&sdk, inner);
        let err = p
            .wait_operation("op-1", Duration::from_secs(3600))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("digest mismatch"), "{text}");
        assert_eq!(errors::refused_code(&err), Some("ERROR"));
        assert_eq!(rule.num_calls(), 2);
    }

    fn json_error(code: &'static str) -> Rule {
        mock!(aws_sdk_route53domains::Client::associate_delegation_signer_to_domain)
            .then_http_response(move || {
                aws_smithy_runtime_api::http::Response::try_from(
                    http::Response::builder()
                        .status(400)
                        .header("content-type", "application/x-amz-json-1.1")
                        .body(aws_smithy_types::body::SdkBody::from(format!(
                            r#"{{"__type":"{code}","message":"refused by the registry: {code}"}}"#
                        )))
                        .unwrap(),
                )
                .unwrap()
            })
    }

    #[tokio::test]
    async fn registrar_refusals_carry_the_code_and_a_hint() {
        for code in [
            "DnssecLimitExceeded",
            "DuplicateRequest",
            "TLDRulesViolation",
            "UnsupportedTLD",
            "OperationLimitExceeded",
        ] {
            let detail = detail_with_old_key();
            let rule = json_error(code);
            let p = mocked(&[&detail, &rule]).await;
            let err = p
                .execute(&ActionRequest {
                    zone: ZoneName::parse("example.com").unwrap(),
                    hosted_zone_id: None,
                    action: Action::AddRegistrarKey {
                        domain: ZoneName::parse("example.com").unwrap(),
                        key: Dnskey::new(257, 13, PK_NEW),
                    },
                    token: "t".into(),
                })
                .await
                .unwrap_err();
            match err {
                ProviderError::Refused {
                    code: got,
                    hint,
                    message,
                    ..
                } => {
                    assert_eq!(got, code);
                    assert!(hint.is_some(), "{code}");
                    assert!(message.contains("refused by the registry"), "{message}");
                }
                other => panic!("{code}: {other:?}"),
            }
            assert_eq!(rule.num_calls(), 1, "{code} must not be retried");
        }
    }

    fn xml_error(status: u16, code: &'static str) -> aws_smithy_runtime_api::http::Response {
        aws_smithy_runtime_api::http::Response::try_from(
            http::Response::builder()
                .status(status)
                .header("content-type", "text/xml")
                .body(aws_smithy_types::body::SdkBody::from(format!(
                    r#"<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>{code}</Code><Message>Route 53 says {code}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
                )))
                .unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn route53_dnssec_refusals_carry_the_code_and_a_hint() {
        let zone = ZoneName::parse("example.com").unwrap();
        let cases: Vec<(&'static str, Action)> = vec![
            ("ConcurrentModification", Action::EnableSigning),
            ("HostedZonePartiallyDelegated", Action::EnableSigning),
            (
                "KeySigningKeyWithActiveStatusNotFound",
                Action::EnableSigning,
            ),
            ("InvalidSigningStatus", Action::EnableSigning),
            ("DNSSECNotFound", Action::EnableSigning),
            (
                "InvalidKeySigningKeyStatus",
                Action::DeleteKsk { name: "k".into() },
            ),
            (
                "KeySigningKeyInParentDSRecord",
                Action::DeactivateKsk { name: "k".into() },
            ),
            (
                "KeySigningKeyInUse",
                Action::DeactivateKsk { name: "k".into() },
            ),
            ("InvalidKMSArn", Action::ActivateKsk { name: "k".into() }),
            (
                "TooManyKeySigningKeys",
                Action::ActivateKsk { name: "k".into() },
            ),
        ];
        for (code, action) in cases {
            let rules: Vec<Rule> = vec![
                mock!(aws_sdk_route53::Client::enable_hosted_zone_dnssec)
                    .then_http_response(move || xml_error(400, code)),
                mock!(aws_sdk_route53::Client::delete_key_signing_key)
                    .then_http_response(move || xml_error(400, code)),
                mock!(aws_sdk_route53::Client::deactivate_key_signing_key)
                    .then_http_response(move || xml_error(400, code)),
                mock!(aws_sdk_route53::Client::activate_key_signing_key)
                    .then_http_response(move || xml_error(400, code)),
            ];
            let refs: Vec<&Rule> = rules.iter().collect();
            let p = mocked(&refs).await;
            let err = p.execute(&req(&zone, "Z1", action, "t")).await.unwrap_err();
            assert_eq!(errors::refused_code(&err), Some(code), "{err:?}");
            match &err {
                ProviderError::Refused { hint, .. } => assert!(hint.is_some(), "{code}"),
                _ => unreachable!(),
            }
            assert_eq!(p.counter().total(), 1, "{code} must not be retried");
        }
    }

    #[tokio::test]
    async fn invalid_change_batch_is_refused_with_a_hint() {
        let rule = mock!(aws_sdk_route53::Client::list_resource_record_sets)
            .then_http_response(|| xml_error(400, "InvalidChangeBatch"));
        let p = mocked(&[&rule]).await;
        let err = p
            .execute(&req(
                &ZoneName::parse("example.com").unwrap(),
                "Z1",
                Action::LowerTtls {
                    changes: vec![TtlChange {
                        record: RecordRef {
                            name: "www.example.com".into(),
                            rtype: "A".into(),
                            set_identifier: None,
                        },
                        from: Ttl(86400),
                        to: Ttl(3600),
                    }],
                },
                "t",
            ))
            .await
            .unwrap_err();
        assert_eq!(errors::refused_code(&err), Some("InvalidChangeBatch"));
    }

    #[tokio::test]
    async fn throttling_then_success_is_retried() {
        let rule = mock!(aws_sdk_route53::Client::get_dnssec)
            .sequence()
            .http_response(|| xml_error(400, "Throttling"))
            .times(2)
            .http_response(|| xml_error(400, "PriorRequestNotComplete"))
            .output(|| {
                aws_sdk_route53::operation::get_dnssec::GetDnssecOutput::builder()
                    .status(
                        aws_sdk_route53::types::DnssecStatus::builder()
                            .serve_signature("SIGNING")
                            .build(),
                    )
                    .set_key_signing_keys(Some(vec![]))
                    .build()
                    .unwrap()
            })
            .build();
        let p = mocked(&[&rule]).await;
        let d = p.get_dnssec("Z1").await.expect("survives throttling");
        assert_eq!(d.status, SigningStatus::Signing);
        assert_eq!(p.counter().get("GetDNSSEC"), 4);
    }
}

// ---------------------------------------------------------------------------------------------
// One rate limiter for the whole fleet

#[tokio::test]
async fn one_rate_limiter_paces_every_zone_of_a_fleet() {
    let ep = peer("fakecloud");
    let setup = provider(options(&ep, None)).await;
    let mut specs = Vec::new();
    for i in 0..10 {
        let name = format!("{}-{i}.fleet", unique("rl"));
        let id = create_zone(&setup, &name).await;
        specs.push(zone_spec(&ZoneName::parse(&name).unwrap(), Some(&id), None));
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let mut opts = options(&ep, None);
    opts.route53_rate = 20.0;
    opts.burst = 1;
    opts.concurrency = 10;
    opts.progress = Some(dnssec_pilot::provider::aws::Progress(Arc::new(
        move |d, t| {
            s2.lock().unwrap().push((d, t));
        },
    )));
    let p = provider(opts).await;
    let d = desired(specs, vec![]);
    let t0 = std::time::Instant::now();
    let obs = observe(&p, &d, &Journal::new("t")).await;
    let wall = t0.elapsed().as_secs_f64();
    assert_eq!(obs.zones.len(), 10);
    // GetHostedZone + one page + GetDNSSEC per zone, all through one 20/s bucket.
    assert_eq!(p.counter().total(), 30);
    assert!(
        wall >= 29.0 / 20.0,
        "{wall} s is faster than the limit allows"
    );
    assert!(
        wall < 29.0 / 20.0 * 1.5 + 0.5,
        "{wall} s: the limiter is far too slow"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 10);
    assert_eq!(seen.last(), Some(&(10, 10)));
}

// ---------------------------------------------------------------------------------------------
// Route 53 Domains requests as they go on the wire

struct Captured {
    target: String,
    body: serde_json::Value,
}

/// A one-request-per-connection HTTP server answering Route 53 Domains JSON calls by target.
async fn domains_wire_server() -> (String, Arc<Mutex<Vec<Captured>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let log = l2.clone();
            tokio::spawn(async move {
                let Some(req) = read_request(&mut s).await else {
                    return;
                };
                let i = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let head = String::from_utf8_lossy(&req[..i]).to_string();
                let target = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .starts_with("x-amz-target:")
                            .then(|| l[13..].trim().to_string())
                    })
                    .unwrap_or_default();
                let body: serde_json::Value =
                    serde_json::from_slice(&req[i..]).unwrap_or(serde_json::Value::Null);
                let op = target.rsplit('.').next().unwrap_or_default().to_string();
                log.lock().unwrap().push(Captured {
                    target: target.clone(),
                    body,
                });
                let answer = match op.as_str() {
                    "GetDomainDetail" => serde_json::json!({
                        "DomainName": "example.com",
                        "Nameservers": [],
                        "AdminContact": {}, "RegistrantContact": {}, "TechContact": {},
                        "DnssecKeys": [{
                            "Id": "registrar-key-9", "Algorithm": 13, "Flags": 257,
                            "PublicKey": mocks::PK_OLD, "DigestType": 2, "Digest": "ab", "KeyTag": 1
                        }]
                    }),
                    "AssociateDelegationSignerToDomain" => {
                        serde_json::json!({ "OperationId": "op-wire-add" })
                    }
                    "DisassociateDelegationSignerFromDomain" => {
                        serde_json::json!({ "OperationId": "op-wire-rm" })
                    }
                    _ => serde_json::json!({}),
                }
                .to_string();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), log)
}

#[tokio::test]
async fn registrar_association_requests_on_the_wire() {
    let (ep, log) = domains_wire_server().await;
    let p = provider(options(&ep, Some(&ep))).await;
    let domain = ZoneName::parse("example.com").unwrap();
    let mk = |action| ActionRequest {
        zone: domain.clone(),
        hosted_zone_id: None,
        action,
        token: "t".into(),
    };
    let add = p
        .execute(&mk(Action::AddRegistrarKey {
            domain: domain.clone(),
            key: Dnskey::new(257, 13, mocks::PK_NEW),
        }))
        .await
        .expect("associate");
    assert_eq!(add.operation_id.as_deref(), Some("op-wire-add"));
    let rm = p
        .execute(&mk(Action::RemoveRegistrarKey {
            domain: domain.clone(),
            key: Dnskey::new(257, 13, mocks::PK_OLD),
        }))
        .await
        .expect("disassociate");
    assert_eq!(rm.operation_id.as_deref(), Some("op-wire-rm"));

    let log = log.lock().unwrap();
    let targets: Vec<&str> = log.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "Route53Domains_v20140515.GetDomainDetail",
            "Route53Domains_v20140515.AssociateDelegationSignerToDomain",
            "Route53Domains_v20140515.GetDomainDetail",
            "Route53Domains_v20140515.DisassociateDelegationSignerFromDomain",
        ]
    );
    assert_eq!(
        log[1].body,
        serde_json::json!({
            "DomainName": "example.com",
            "SigningAttributes": { "Algorithm": 13, "Flags": 257, "PublicKey": mocks::PK_NEW }
        })
    );
    // The registrar's own id, looked up by public key at the moment of the call.
    assert_eq!(
        log[3].body,
        serde_json::json!({ "DomainName": "example.com", "Id": "registrar-key-9" })
    );
}

#[tokio::test]
async fn attempts_that_time_out_are_retried_then_reported() {
    let ep = peer("fakecloud");
    let proxy = fault_proxy(ep.clone(), |_| Fault::Hang).await;
    let mut opts = options(&proxy.endpoint, Some(&ep));
    opts.max_attempts = 2;
    opts.attempt_timeout = Duration::from_millis(500);
    let p = provider(opts).await;
    let t0 = std::time::Instant::now();
    let err = p.get_dnssec("Z0000000000000").await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Transient { message, .. } if message.contains("Timeout")),
        "{err:?}"
    );
    assert_eq!(p.counter().get("GetDNSSEC"), 2);
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_ksk_name_taken_by_another_kms_key_is_refused() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let zname = format!("{}.example", unique("kc"));
    let zone = ZoneName::parse(&zname).unwrap();
    let id = create_zone(&p, &zname).await;
    let policy = kms::example_policy("123456789012");
    let a = create_kms_key(&p, Some(policy.clone())).await;
    let b = create_kms_key(&p, Some(policy)).await;
    let mk = |arn: &str, token: &str| {
        req(
            &zone,
            &id,
            Action::CreateKsk {
                name: "ksk_1".into(),
                kms_arn: arn.to_string(),
            },
            token,
        )
    };
    p.execute(&mk(&a, "first")).await.expect("create");
    let err = p.execute(&mk(&b, "second")).await.unwrap_err();
    assert_eq!(
        errors::refused_code(&err),
        Some("KeySigningKeyAlreadyExists")
    );
    let d = p.get_dnssec(&id).await.unwrap();
    assert_eq!(d.ksks.len(), 1);
    assert_eq!(d.ksks[0].kms_arn, a);
}

#[tokio::test]
async fn moto_zone_whose_registrar_is_route53_domains() {
    let ep = peer("moto");
    let p = provider(options(&ep, Some(&ep))).await;
    let name = format!("{}.com", unique("reg"));
    let zone = ZoneName::parse(&name).unwrap();
    p.route53domains()
        .register_domain()
        .domain_name(&name)
        .duration_in_years(2)
        .admin_contact(contact())
        .registrant_contact(contact())
        .tech_contact(contact())
        .send()
        .await
        .expect("RegisterDomain");
    let id = p.find_hosted_zone(&zone).await.unwrap().unwrap_or_default();
    let id = if id.is_empty() {
        create_zone(&p, &name).await
    } else {
        id
    };
    let d = desired(
        vec![zone_spec(&zone, Some(&id), Some(Trust::Route53Domains))],
        vec![],
    );
    let obs = observe(&p, &d, &Journal::new("t")).await;
    match &obs.zones[&zone].parent {
        ParentObs::Registrar(r) => {
            assert!(r.keys.is_empty());
            assert!(r.operations.iter().all(|o| !o.status.is_finished()));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_zone_only_the_journal_remembers_is_still_observed() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let parent_name = format!("{}.example", unique("jp"));
    let child_name = format!("gone.{parent_name}");
    let parent_id = create_zone(&p, &parent_name).await;
    let id = create_zone(&p, &child_name).await;
    let zone = ZoneName::parse(&child_name).unwrap();
    // The config no longer lists the zone; the journal has its PublishDs step.
    let publish = Action::PublishDs {
        target: DsTarget::ParentZone {
            hosted_zone_id: parent_id.clone(),
            parent: ZoneName::parse(&parent_name).unwrap(),
        },
        records: vec![],
        ttl: Ttl(300),
    };
    let j = journal_with(&zone, &[(publish, ActionResult::default())]);
    let obs = observe(&p, &desired(vec![], vec![]), &j).await;
    let z = &obs.zones[&zone];
    assert_eq!(z.hosted_zone.as_ref().unwrap().id, id);
    assert!(
        matches!(&z.parent, ParentObs::ParentZone { hosted_zone_id, .. } if *hosted_zone_id == parent_id)
    );
}

#[tokio::test]
async fn first_apply_follows_its_own_changes_instead_of_re_listing_the_zone() {
    use dnssec_pilot::engine::{Engine, EngineOptions, Event, JournalStore};
    use dnssec_pilot::plan::Mode;
    use dnssec_pilot::state::RecordRead;

    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let name = format!("{}.example", unique("follow"));
    let id = create_zone(&p, &name).await;
    // 700 record sets + apex NS and SOA: 3 pages, 2 TTL batches (500 UPSERTs each at most).
    create_records(&p, &id, a_records(&name, 700, 86_400)).await;
    let key = create_kms_key(&p, Some(kms::example_policy("123456789012"))).await;
    let zone = ZoneName::parse(&name).unwrap();
    let mut spec = zone_spec(&zone, Some(&id), Some(Trust::External));
    spec.signing.ksks[0].kms_key = key;
    let d = desired(vec![spec], vec![]);
    let dir = tempfile::tempdir().unwrap();
    let store = JournalStore::new(dir.path().join("journal.json"));
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
    p.counter().reset();
    let mut ran = Vec::new();
    engine
        .run(&mut |_| true, &mut |e| {
            if let Event::Executed { step, result, .. } = e {
                assert!(result.is_ok(), "{result:?}");
                ran.push(step.action.kind().as_str());
            }
        })
        .await
        .unwrap();
    assert!(ran.starts_with(&["lower_ttls", "lower_soa"]), "ran {ran:?}");
    let counts = p.counter().snapshot();
    // One full read, however many steps and re-plans the run made.
    assert_eq!(counts.get("GetHostedZone"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("ListResourceRecordSets"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("GetDNSSEC"), Some(&1), "{counts:?}");
    assert_eq!(
        counts.get("ChangeResourceRecordSets"),
        Some(&3),
        "{counts:?}"
    );

    // What the run followed is what a full read of a fresh provider sees.
    let scope = dnssec_pilot::plan::scope(&d, &store.load().unwrap().unwrap(), &[]);
    let followed = p
        .observe(&scope.clone().with_records(RecordRead::Follow))
        .await
        .unwrap();
    let fresh = provider(options(&ep, None)).await;
    let full = fresh.observe(&scope).await.unwrap();
    assert_eq!(
        followed.zones[&zone].hosted_zone, full.zones[&zone].hosted_zone,
        "the followed zone differs from a full read"
    );
    let hz = full.zones[&zone].hosted_zone.as_ref().unwrap();
    assert_eq!(hz.soa.ttl, Ttl(300));
    assert!(
        hz.record_sets
            .iter()
            .filter(|r| r.rtype == "A")
            .all(|r| r.ttl == Some(Ttl(3600)))
    );

    // A new run reads in full again: someone else may have changed the zone in between.
    p.counter().reset();
    engine.run(&mut |_| true, &mut |_| {}).await.unwrap();
    assert!(
        p.counter().get("ListResourceRecordSets") >= 3,
        "{:?}",
        p.counter().snapshot()
    );
}

#[tokio::test]
async fn a_change_whose_answer_was_lost_makes_the_next_observation_read_in_full() {
    use dnssec_pilot::state::RecordRead;
    use std::sync::atomic::AtomicBool;

    let ep = peer("fakecloud");
    let setup = provider(options(&ep, None)).await;
    let name = format!("{}.example", unique("forget"));
    let id = create_zone(&setup, &name).await;
    create_records(&setup, &id, a_records(&name, 3, 86_400)).await;
    // While `cut` is set, every connection is dropped without an answer: the change may or may
    // not have been applied.
    let cut = Arc::new(AtomicBool::new(false));
    let c = cut.clone();
    let proxy = fault_proxy(ep.clone(), move |_| {
        if c.load(Ordering::SeqCst) {
            Fault::Drop
        } else {
            Fault::Pass
        }
    })
    .await;
    let mut opts = options(&proxy.endpoint, Some(&ep));
    opts.max_attempts = 2;
    let p = provider(opts).await;
    let zone = ZoneName::parse(&name).unwrap();
    let d = desired(vec![zone_spec(&zone, Some(&id), None)], vec![]);
    let scope = dnssec_pilot::plan::scope(&d, &Journal::new("t"), &[]);
    let obs = p.observe(&scope).await.unwrap();
    let hz = obs.zones[&zone].hosted_zone.clone().unwrap();

    // Following without a change since: no listing, no GetHostedZone.
    p.counter().reset();
    p.observe(&scope.clone().with_records(RecordRead::Follow))
        .await
        .unwrap();
    assert_eq!(p.counter().get("ListResourceRecordSets"), 0);
    assert_eq!(p.counter().get("GetHostedZone"), 0);

    let a = hz.record_sets.iter().find(|r| r.rtype == "A").unwrap();
    let lower = Action::LowerTtls {
        changes: vec![TtlChange {
            record: a.record_ref(),
            from: Ttl(86_400),
            to: Ttl(3600),
        }],
    };
    cut.store(true, Ordering::SeqCst);
    let r = p.execute(&req(&zone, &id, lower, "tok-lost")).await;
    cut.store(false, Ordering::SeqCst);
    assert!(r.is_err(), "every answer was dropped: {r:?}");
    p.counter().reset();
    p.observe(&scope.with_records(RecordRead::Follow))
        .await
        .unwrap();
    assert_eq!(
        p.counter().get("ListResourceRecordSets"),
        1,
        "after a change with no answer the zone is read again: {:?}",
        p.counter().snapshot()
    );
    assert_eq!(p.counter().get("GetHostedZone"), 1);
}

#[tokio::test]
async fn zone_flag_narrows_what_is_observed() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let a = format!("{}.example", unique("narrowa"));
    let b = format!("{}.example", unique("narrowb"));
    let ia = create_zone(&p, &a).await;
    let ib = create_zone(&p, &b).await;
    let (za, zb) = (ZoneName::parse(&a).unwrap(), ZoneName::parse(&b).unwrap());
    let d = desired(
        vec![
            zone_spec(&za, Some(&ia), None),
            zone_spec(&zb, Some(&ib), None),
        ],
        vec![],
    );
    p.counter().reset();
    let obs = p
        .observe(&dnssec_pilot::plan::scope(
            &d,
            &Journal::new("t"),
            std::slice::from_ref(&zb),
        ))
        .await
        .unwrap();
    assert!(obs.zones.contains_key(&zb));
    assert!(
        !obs.zones.contains_key(&za),
        "a zone outside --zone was observed"
    );
    assert_eq!(p.counter().get("GetHostedZone"), 1);
}

// ---------------------------------------------------------------------------------------------
// The standard configuration chain: `--profile`, `--region`, AWS_ENDPOINT_URL (in a child
// process, so that no test changes this process's environment)

#[tokio::test]
async fn standard_chain_with_profile_region_and_endpoint_env() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let zname = format!("{}.example", unique("env"));
    let id = create_zone(&p, &zname).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let creds = dir.path().join("credentials");
    std::fs::write(&config, "[profile pilot]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        &creds,
        "[pilot]\naws_access_key_id = AKIDPILOT\naws_secret_access_key = secret\n",
    )
    .unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "suite::aws::from_env_child",
            "--nocapture",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &ep)
        .env("PILOT_CHILD_ZONE", &zname)
        .env("PILOT_CHILD_ZONE_ID", &id)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

/// Run by the test above in a child process with a prepared environment.
#[tokio::test]
#[ignore = "run by standard_chain_with_profile_region_and_endpoint_env"]
async fn from_env_child() {
    let (Ok(zname), Ok(id)) = (
        std::env::var("PILOT_CHILD_ZONE"),
        std::env::var("PILOT_CHILD_ZONE_ID"),
    ) else {
        return;
    };
    let p = AwsProvider::from_env(AwsOptions {
        profile: Some("pilot".into()),
        region: Some("eu-west-1".into()),
        ..AwsOptions::default()
    })
    .await
    .unwrap();
    let zone = ZoneName::parse(&zname).unwrap();
    assert_eq!(p.find_hosted_zone(&zone).await.unwrap(), Some(id));
}

// ---------------------------------------------------------------------------------------------
// The real planner driving this provider against fakecloud, onboarding then destroy. fakecloud
// serves no DS/DNSKEY over DNS, so the live view is derived here from what the APIs hold (a
// stand-in for the DNS observer, which has its own tests against real name servers).

mod planned {
    use super::*;
    use dnssec_pilot::plan::{JournalUpdate, Mode, PlanInput, plan};
    use dnssec_pilot::state::{LiveObs, ParentAnswer, ServerObs, ZoneAnswer};

    /// The engine's own bookkeeping of the planner's facts.
    fn apply_updates(j: &mut Journal, updates: &[JournalUpdate]) {
        dnssec_pilot::engine::apply_updates(j, updates);
        j.serial += 1;
    }

    /// Live DNS as the APIs say it is (every server agreeing).
    fn live_from_api(obs: &mut Observed, now: Timestamp) {
        for (name, z) in obs.zones.iter_mut() {
            let mut live = LiveObs::default();
            if let ParentObs::ParentZone {
                ds, ds_ttl, ns_ttl, ..
            } = &z.parent
            {
                for s in ["a.parent", "b.parent"] {
                    live.parent_servers.push(ServerObs {
                        server: s.into(),
                        seen_at: now,
                        result: Ok(ParentAnswer {
                            ds: ds.clone(),
                            ds_ttl: *ds_ttl,
                            ns_ttl: *ns_ttl,
                            ds_signed: (!ds.is_empty()).then_some(true),
                        }),
                    });
                }
            }
            let signing = z.dnssec.status == SigningStatus::Signing;
            let keys: Vec<Dnskey> = if signing {
                z.dnssec
                    .ksks
                    .iter()
                    .filter(|k| k.status == KskStatus::Active)
                    .map(|k| k.dnskey.clone())
                    .collect()
            } else {
                vec![]
            };
            let ns_ttl = z.hosted_zone.as_ref().and_then(|h| h.apex_ns_ttl(name));
            for s in ["ns-1", "ns-2"] {
                live.zone_servers.push(ServerObs {
                    server: s.into(),
                    seen_at: now,
                    result: Ok(ZoneAnswer {
                        dnskeys: keys.clone(),
                        dnskey_ttl: if signing { Some(Ttl(3600)) } else { None },
                        dnskey_signed: signing && !keys.is_empty(),
                        data_signed: signing && !keys.is_empty(),
                        ns_ttl,
                        problems: vec![],
                        denial_signed: signing.then_some(!keys.is_empty()),
                        dnskey_signers: keys.iter().filter_map(|k| k.key_tag().ok()).collect(),
                        signatures_expire_at: None,
                    }),
                });
            }
            z.live = live;
        }
    }

    /// Runs apply (or destroy) to convergence: observe, plan, run the first ready step, or
    /// move the virtual clock to the next gate. Returns the actions run.
    async fn converge(p: &AwsProvider, d: &Desired, j: &mut Journal, mode: Mode) -> Vec<String> {
        let mut ran = Vec::new();
        for round in 0..200 {
            let mut obs = observe(p, d, j).await;
            let now = p.now();
            live_from_api(&mut obs, now);
            let pl = plan(PlanInput {
                desired: d,
                observed: &obs,
                journal: j,
                now,
                mode,
                only: &[],
            });
            for z in &pl.zones {
                for i in &z.issues {
                    assert!(
                        !matches!(i.severity, dnssec_pilot::plan::Severity::Error),
                        "planner error in round {round}: {i:?}"
                    );
                }
            }
            apply_updates(j, &pl.updates);
            if !pl.has_changes() {
                return ran;
            }
            let ready: Vec<_> = pl.ready_steps().cloned().collect();
            if let Some(step) = ready.first() {
                let zp = pl.zones.iter().find(|z| z.zone == step.zone).unwrap();
                let token = format!("{}-{round}", step.id);
                let request = ActionRequest {
                    zone: step.zone.clone(),
                    hosted_zone_id: zp.hosted_zone_id.clone(),
                    action: step.action.clone(),
                    token: token.clone(),
                };
                let result = p.execute(&request).await.map_err(|e| e.to_string());
                let result = match result {
                    Ok(r) => Ok(r),
                    Err(e) => panic!("{} ({:?}) failed: {e}", step.id, step.action.kind()),
                };
                ran.push(step.action.kind().as_str().to_string());
                j.zones
                    .entry(step.zone.clone())
                    .or_default()
                    .steps
                    .push(StepRecord {
                        step_id: step.id.clone(),
                        action: step.action.clone(),
                        token,
                        intent_at: now,
                        outcome: Some(StepOutcome {
                            at: p.now(),
                            result,
                            reconciled: false,
                        }),
                    });
                // Give Route 53 (fakecloud: 1 s or 5 reads) time to go INSYNC.
                p.clock().advance(Duration::from_secs(60));
                tokio::time::sleep(Duration::from_millis(1100)).await;
                continue;
            }
            match pl.next_gate_time() {
                Some(t) if t > now => p.wait_until(t).await.unwrap(),
                _ => {
                    p.clock().advance(Duration::from_secs(60));
                    tokio::time::sleep(Duration::from_millis(1100)).await;
                }
            }
        }
        panic!("no convergence after 200 rounds; ran {ran:?}");
    }

    #[tokio::test]
    async fn planner_drives_onboarding_and_destroy_against_fakecloud() {
        let ep = peer("fakecloud");
        let p = provider(options(&ep, None)).await;
        let parent_name = format!("{}.example", unique("pl"));
        let child_name = format!("app.{parent_name}");
        let parent = ZoneName::parse(&parent_name).unwrap();
        let zone = ZoneName::parse(&child_name).unwrap();
        let parent_id = create_zone(&p, &parent_name).await;
        let id = create_zone(&p, &child_name).await;
        create_records(&p, &id, a_records(&child_name, 30, 86_400)).await;
        create_records(
            &p,
            &parent_id,
            vec![rrset(
                &format!("{child_name}."),
                RrType::Ns,
                3600,
                &["ns-1.awsdns-1.com."],
            )],
        )
        .await;
        let kms_arn = create_kms_key(&p, Some(kms::example_policy("123456789012"))).await;
        let mut spec = zone_spec(
            &zone,
            Some(&id),
            Some(Trust::ParentZone {
                hosted_zone_id: parent_id.clone(),
                parent,
                ds_ttl: Ttl(300),
            }),
        );
        spec.signing.ksks[0].kms_key = kms_arn;
        let d = desired(vec![spec], vec![]);
        let mut j = Journal::new("planned");

        let ran = converge(&p, &d, &mut j, Mode::Apply).await;
        eprintln!("apply ran: {ran:?}");
        let obs = observe(&p, &d, &j).await;
        let z = &obs.zones[&zone];
        assert_eq!(z.dnssec.status, SigningStatus::Signing, "ran {ran:?}");
        let ksk = z.dnssec.ksk("ksk_1").expect("ksk");
        match &z.parent {
            ParentObs::ParentZone { ds, .. } => {
                assert_eq!(ds, &vec![ksk.ds.clone()], "ran {ran:?}")
            }
            other => panic!("{other:?}"),
        }
        for k in ["lower_ttls", "create_ksk", "enable_signing", "publish_ds"] {
            assert!(ran.iter().any(|r| r == k), "{k} missing from {ran:?}");
        }

        let ran = converge(&p, &d, &mut j, Mode::Destroy).await;
        eprintln!("destroy ran: {ran:?}");
        let obs = observe(&p, &d, &j).await;
        let z = &obs.zones[&zone];
        assert_eq!(z.dnssec.status, SigningStatus::NotSigning, "ran {ran:?}");
        assert!(z.dnssec.ksks.is_empty(), "ran {ran:?}");
        assert!(matches!(&z.parent, ParentObs::ParentZone { ds, .. } if ds.is_empty()));
        let hz = z.hosted_zone.as_ref().unwrap();
        assert!(
            hz.record_sets
                .iter()
                .filter(|r| r.rtype == "A")
                .all(|r| r.ttl == Some(Ttl(86_400))),
            "original TTLs back; ran {ran:?}"
        );
        let order: Vec<&str> = ran.iter().map(String::as_str).collect();
        let pos = |k: &str| {
            order
                .iter()
                .position(|r| *r == k)
                .unwrap_or_else(|| panic!("{k} not in {order:?}"))
        };
        assert!(pos("remove_ds") < pos("disable_signing"));
        assert!(pos("disable_signing") < pos("deactivate_ksk"));
        assert!(pos("deactivate_ksk") < pos("delete_ksk"));
    }
}

/// The CLI against fakecloud: `plan` and `apply` observe and change a real (emulated) account
/// through the standard credential chain and `AWS_ENDPOINT_URL`. Prepare and sign run; the DS
/// waits, because fakecloud serves no DNSKEY over DNS and the live gates read real servers (here
/// a closed port, so every zone server is reported as not answering and the gate stays closed).
#[tokio::test]
async fn cli_plan_and_apply_against_fakecloud_run_until_the_live_dns_gate() {
    let ep = peer("fakecloud");
    let p = provider(options(&ep, None)).await;
    let parent_name = format!("{}.example", unique("cli"));
    let child_name = format!("shop.{parent_name}");
    let parent_id = create_zone(&p, &parent_name).await;
    let id = create_zone(&p, &child_name).await;
    create_records(&p, &id, a_records(&child_name, 5, 86_400)).await;
    let key = create_kms_key(&p, Some(kms::example_policy("123456789012"))).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dnssec.yaml");
    std::fs::write(
        &cfg,
        format!(
            "version: 1\nzones:\n  - name: {child_name}\n    hosted_zone_id: {id}\n    signing:\n      enabled: true\n      ksks:\n        - name: cli_ksk_1\n          kms_key: {key}\n    trust:\n      parent_zone:\n        hosted_zone_id: {parent_id}\n    dns:\n      parent_servers: [\"127.0.0.1:9\"]\n      zone_servers: [\"127.0.0.1:9\"]\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = pilot_against(&ep)
            .arg("-c")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, out, err) = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("lower_ttls") && out.contains("ready"), "{out}");

    // Walk as far as the APIs alone allow: prepare, then (once INSYNC) the KSK and signing.
    let mut log = String::new();
    for _ in 0..6 {
        let (code, out, err) = run(&["apply", "--auto-approve", "--detailed-exitcode"]);
        assert!(code == 0 || code == 2, "{out}\n{err}");
        log.push_str(&out);
        log.push_str(&err);
        if log.contains("enable_signing … ok") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for step in [
        "lower_ttls … ok",
        "lower_soa … ok",
        "create_ksk … ok",
        "enable_signing … ok",
    ] {
        assert!(log.contains(step), "missing `{step}` in:\n{log}");
    }
    // The DS is held by the live gate: no zone server answers.
    let (code, out, err) = run(&["apply", "--auto-approve", "--detailed-exitcode"]);
    let out = format!("{out}{err}");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("zone-signed-everywhere") || out.contains("signing-insync"),
        "{out}"
    );
    assert!(!out.contains("publish_ds … ok"), "{out}");
    // The emulator agrees: the zone signs, with our KSK.
    let d = p
        .route53()
        .get_dnssec()
        .hosted_zone_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.status().and_then(|s| s.serve_signature()),
        Some("SIGNING")
    );
    assert_eq!(d.key_signing_keys().len(), 1);
}
