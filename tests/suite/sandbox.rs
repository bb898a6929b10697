//! Integration tests: the sandbox world, driven through its Rust API and the `Provider` trait.
//! Route 53's refusals, idempotent KSK creation, PENDING → INSYNC, the registrar's one-at-a-time
//! rule and key limit, outside registrars, and the negative controls that prove the resolver
//! model can fail (so that `bogus_answers == 0` elsewhere means something).

use std::time::Instant;

use dnssec_pilot::config::{
    Desired, DnsOverride, DomainSpec, Finally, KskSpec, RegistrarKeySpec, Safety, Signing, Trust,
    ZoneSpec,
};
use dnssec_pilot::model::{
    Action, ActionRequest, ActionResult, Dnskey, DsRecord, DsTarget, RecordRef, Secs, SoaChange,
    Timestamp, Ttl, TtlChange, ZoneName,
};
use dnssec_pilot::provider::sandbox::{
    SandboxProvider, Tamper, World, default_start, init_world, sandbox_advance, sandbox_init,
    sandbox_show, sandbox_tamper, world_schema,
};
use dnssec_pilot::provider::{Provider, ProviderError};
use dnssec_pilot::state::{
    ChangeStatus, Journal, KskStatus, OperationStatus, ParentObs, SigningStatus, StepOutcome,
    StepRecord, ZoneJournal,
};

const PARENT_ID: &str = "ZPARENT0000000000001";
const KMS: &str = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666";

fn zn(s: &str) -> ZoneName {
    ZoneName::parse(s).unwrap()
}

fn zone_spec(name: &str, trust: Trust) -> ZoneSpec {
    ZoneSpec {
        name: zn(name),
        hosted_zone_id: None,
        ttl_max: Ttl(3600),
        soa_ttl: Ttl(300),
        soa_minimum: Ttl(300),
        signing: Signing {
            enabled: true,
            ksks: vec![KskSpec {
                name: format!("{}_ksk_1", name.replace('.', "_")),
                kms_key: KMS.into(),
            }],
        },
        trust: Some(trust),
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

fn outside_key() -> Dnskey {
    // RFC 6605 §6.1 example KSK.
    Dnskey::new(
        257,
        13,
        "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
    )
}

/// One zone of each trust kind and one registrar-only domain.
fn desired() -> Desired {
    Desired {
        version: 1,
        zones: vec![
            zone_spec(
                "example.com",
                Trust::ParentZone {
                    hosted_zone_id: PARENT_ID.into(),
                    parent: zn("com"),
                    ds_ttl: Ttl(300),
                },
            ),
            zone_spec("example.org", Trust::Route53Domains),
            zone_spec("example.info", Trust::External),
        ],
        domains: vec![DomainSpec {
            name: zn("example.net"),
            registrar_keys: vec![RegistrarKeySpec::Key(outside_key())],
            safety: Safety::default(),
            dns: DnsOverride::default(),
            line: 1,
        }],
    }
}

fn provider() -> SandboxProvider {
    SandboxProvider::in_memory(init_world(&desired(), 7, default_start()))
}

/// Both resolver simulations: with the settled-zone shortcut and with every lookup simulated.
fn providers() -> [SandboxProvider; 2] {
    let mut slow = init_world(&desired(), 7, default_start());
    slow.settings.fast_forward = false;
    [provider(), SandboxProvider::in_memory(slow)]
}

fn req(zone: &str, action: Action, token: &str) -> ActionRequest {
    ActionRequest {
        zone: zn(zone),
        hosted_zone_id: None,
        action,
        token: token.into(),
    }
}

async fn run(p: &SandboxProvider, zone: &str, action: Action) -> ActionResult {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tok = format!(
        "tok-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    p.execute(&req(zone, action, &tok))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn refused_code(r: Result<ActionResult, ProviderError>) -> String {
    match r {
        Err(ProviderError::Refused { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn advance(p: &SandboxProvider, d: Secs) {
    let t = d.after(p.now());
    p.wait_until(t).await.unwrap();
}

async fn sign(p: &SandboxProvider, zone: &str) {
    let ksk = format!("{}_ksk_1", zone.replace('.', "_"));
    run(
        p,
        zone,
        Action::CreateKsk {
            name: ksk,
            kms_arn: KMS.into(),
        },
    )
    .await;
    run(p, zone, Action::EnableSigning).await;
}

fn ksk_ds(p: &SandboxProvider, zone: &str) -> DsRecord {
    p.world().zone(&zn(zone)).unwrap().ksks[0].ds.clone()
}

fn parent_target() -> DsTarget {
    DsTarget::ParentZone {
        hosted_zone_id: PARENT_ID.into(),
        parent: zn("com"),
    }
}

async fn publish_parent_ds(p: &SandboxProvider, zone: &str, ttl: u32) {
    let ds = ksk_ds(p, zone);
    run(
        p,
        zone,
        Action::PublishDs {
            target: parent_target(),
            records: vec![ds],
            ttl: Ttl(ttl),
        },
    )
    .await;
}

async fn observe(p: &SandboxProvider, journal: &Journal) -> dnssec_pilot::state::Observed {
    let d = desired();
    p.observe(&dnssec_pilot::plan::scope(&d, journal, &[]))
        .await
        .unwrap()
}

fn journal_with(zone: &str, result: ActionResult, at: Timestamp) -> Journal {
    let mut j = Journal::new("test");
    let mut zj = ZoneJournal::default();
    zj.steps.push(StepRecord {
        step_id: "s1".into(),
        action: Action::EnableSigning,
        token: "t".into(),
        intent_at: at,
        outcome: Some(StepOutcome {
            at,
            result: Ok(result),
            reconciled: false,
        }),
    });
    j.zones.insert(zn(zone), zj);
    j
}

// ---------------------------------------------------------------------------------------------

#[test]
fn init_world_is_unsigned_realistic_and_deterministic() {
    let w = init_world(&desired(), 7, default_start());
    assert_eq!(w.now.to_string(), "2026-01-05T00:00:00Z");
    assert_eq!(w, init_world(&desired(), 7, default_start()));
    assert_ne!(
        w.zone(&zn("example.com")).unwrap().id,
        init_world(&desired(), 8, default_start())
            .zone(&zn("example.com"))
            .unwrap()
            .id
    );
    for z in w.zones.values() {
        assert!(z.id.starts_with('Z') && z.id.len() == 21, "{}", z.id);
        assert_eq!(z.name_servers.len(), 4);
        assert!(z.ksks.is_empty());
        assert_eq!(z.soa.ttl, Ttl(900));
        assert!(z.soa.minimum.0 >= 900);
        let ttls: Vec<u32> = z
            .records
            .iter()
            .filter_map(|r| r.ttl.map(|t| t.0))
            .collect();
        assert!(ttls.contains(&86_400) && ttls.contains(&172_800));
        assert!(
            z.records
                .iter()
                .any(|r| r.alias_target.is_some() && r.ttl.is_none())
        );
        for t in ["A", "MX", "TXT", "NS"] {
            assert!(
                z.records
                    .iter()
                    .any(|r| r.name == z.name.as_str() && r.rtype == t)
            );
        }
        assert!(
            z.records
                .iter()
                .any(|r| r.rtype == "CNAME" && r.name.starts_with("www."))
        );
        assert!(w.parent_ds(&z.name).is_empty());
    }
    let pz = &w.parent_zones[PARENT_ID];
    assert_eq!(pz.delegations[&zn("example.com")].ns_ttl, Ttl(172_800));
    assert!(w.registrar.contains_key(&zn("example.org")));
    assert_eq!(w.registrar[&zn("example.org")].key_limit, 4);
    assert!(w.external.contains_key(&zn("example.info")));
    let o = &w.outside_dns[&zn("example.net")];
    assert!(o.signing && o.dnskeys.contains(&outside_key()));
    assert_eq!(w.registrar[&zn("example.net")].key_limit, 13);
}

#[tokio::test]
async fn observe_fills_api_and_live_views_like_aws() {
    let p = provider();
    let o = observe(&p, &Journal::new("x")).await;
    assert_eq!(o.zones.len(), 3);
    assert_eq!(o.domains.len(), 1);
    let z = &o.zones[&zn("example.com")];
    let hz = z.hosted_zone.as_ref().unwrap();
    assert_eq!(hz.apex_ns_ttl(&zn("example.com")), Some(Ttl(172_800)));
    assert_eq!(hz.max_ttl(), Ttl(172_800));
    assert_eq!(z.dnssec.status, SigningStatus::NotSigning);
    assert!(
        matches!(&z.parent, ParentObs::ParentZone { ds, ns_ttl: Some(Ttl(172_800)), .. } if ds.is_empty())
    );
    assert_eq!(z.live.parent_servers.len(), 4);
    assert_eq!(z.live.zone_servers.len(), 4);
    assert!(z.live.ds_gone_everywhere());
    assert!(!z.live.signed_everywhere());
    assert!(matches!(
        o.zones[&zn("example.org")].parent,
        ParentObs::Registrar(_)
    ));
    assert!(matches!(
        o.zones[&zn("example.info")].parent,
        ParentObs::Unknown
    ));
    let d = &o.domains[&zn("example.net")];
    assert!(d.registrar.as_ref().unwrap().keys.is_empty());
    assert!(d.live.dnskey_at_every_zone_server(&outside_key()));
}

#[tokio::test]
async fn signing_refusals_use_route53_error_codes() {
    let p = provider();
    // Enable with no ACTIVE KSK.
    let r = p
        .execute(&req("example.com", Action::EnableSigning, "a"))
        .await;
    assert_eq!(refused_code(r), "KeySigningKeyWithActiveStatusNotFound");
    sign(&p, "example.com").await;
    // Delete an ACTIVE KSK.
    let r = p
        .execute(&req(
            "example.com",
            Action::DeleteKsk {
                name: "example_com_ksk_1".into(),
            },
            "b",
        ))
        .await;
    assert_eq!(refused_code(r), "InvalidKeySigningKeyStatus");
    // The last active KSK of a signing zone cannot be deactivated.
    let r = p
        .execute(&req(
            "example.com",
            Action::DeactivateKsk {
                name: "example_com_ksk_1".into(),
            },
            "c",
        ))
        .await;
    assert_eq!(refused_code(r), "KeySigningKeyInUse");
    // A second KSK, then a third is too many.
    run(
        &p,
        "example.com",
        Action::CreateKsk {
            name: "second".into(),
            kms_arn: KMS.into(),
        },
    )
    .await;
    let r = p
        .execute(&req(
            "example.com",
            Action::CreateKsk {
                name: "third".into(),
                kms_arn: KMS.into(),
            },
            "d",
        ))
        .await;
    assert_eq!(refused_code(r), "TooManyKeySigningKeys");
    // Deactivating a KSK whose DS is at the parent.
    publish_parent_ds(&p, "example.com", 300).await;
    let r = p
        .execute(&req(
            "example.com",
            Action::DeactivateKsk {
                name: "example_com_ksk_1".into(),
            },
            "e",
        ))
        .await;
    assert_eq!(refused_code(r), "KeySigningKeyInParentDSRecord");
    // The other KSK (not in the DS) can be deactivated, then deleted.
    run(
        &p,
        "example.com",
        Action::DeactivateKsk {
            name: "second".into(),
        },
    )
    .await;
    run(
        &p,
        "example.com",
        Action::DeleteKsk {
            name: "second".into(),
        },
    )
    .await;
    // Bad KMS ARN.
    let r = p
        .execute(&req(
            "example.com",
            Action::CreateKsk {
                name: "other".into(),
                kms_arn: "arn:aws:kms:eu-west-1:111122223333:key/x".into(),
            },
            "f",
        ))
        .await;
    assert_eq!(refused_code(r), "InvalidKMSArn");
    // Unknown hosted zone id.
    let mut bad = req("example.com", Action::EnableSigning, "g");
    bad.hosted_zone_id = Some("ZNOPE".into());
    assert_eq!(refused_code(p.execute(&bad).await), "NoSuchHostedZone");
    // TTL above one week in a signed zone.
    let r = p
        .execute(&req(
            "example.com",
            Action::LowerTtls {
                changes: vec![TtlChange {
                    record: RecordRef {
                        name: "www.example.com".into(),
                        rtype: "CNAME".into(),
                        set_identifier: None,
                    },
                    from: Ttl(300),
                    to: Ttl(700_000),
                }],
            },
            "h",
        ))
        .await;
    assert_eq!(refused_code(r), "InvalidChangeBatch");
}

#[tokio::test]
async fn outages_route53_allows_are_allowed() {
    let p = provider();
    // A DS for an unsigned zone: Route 53 accepts it.
    run(
        &p,
        "example.com",
        Action::CreateKsk {
            name: "k_1".into(),
            kms_arn: KMS.into(),
        },
    )
    .await;
    publish_parent_ds(&p, "example.com", 300).await;
    // Disabling signing with the DS at the parent: accepted too.
    run(&p, "example.com", Action::EnableSigning).await;
    run(&p, "example.com", Action::DisableSigning).await;
    assert_eq!(
        p.world().zone(&zn("example.com")).unwrap().signing,
        dnssec_pilot::provider::sandbox::SigningState::NotSigning
    );
}

#[tokio::test]
async fn create_ksk_with_the_same_caller_reference_creates_one_key() {
    let p = provider();
    let r = req(
        "example.com",
        Action::CreateKsk {
            name: "example_com_ksk_1".into(),
            kms_arn: KMS.into(),
        },
        "caller-ref-1",
    );
    p.execute(&r).await.unwrap();
    let again = p.execute(&r).await;
    assert_eq!(refused_code(again), "KeySigningKeyAlreadyExists");
    // Even under another name: the caller reference was used.
    let mut other = r.clone();
    other.action = Action::CreateKsk {
        name: "another_name".into(),
        kms_arn: KMS.into(),
    };
    assert_eq!(
        refused_code(p.execute(&other).await),
        "KeySigningKeyAlreadyExists"
    );
    assert_eq!(p.world().zone(&zn("example.com")).unwrap().ksks.len(), 1);
}

#[tokio::test]
async fn changes_go_insync_after_the_propagation_delay() {
    let p = provider();
    let t0 = p.now();
    let res = run(
        &p,
        "example.com",
        Action::LowerSoa {
            soa: SoaChange {
                ttl_from: Ttl(900),
                ttl_to: Ttl(300),
                minimum_from: Ttl(86_400),
                minimum_to: Ttl(300),
            },
        },
    )
    .await;
    let id = res.change_id.clone().unwrap();
    let j = journal_with("example.com", res, t0);
    let o = observe(&p, &j).await;
    let c = &o.zones[&zn("example.com")].changes[&id];
    assert_eq!(c.status, ChangeStatus::Pending);
    assert_eq!(c.submitted_at, t0);
    advance(&p, Secs(59)).await;
    let o = observe(&p, &j).await;
    assert_eq!(
        o.zones[&zn("example.com")].changes[&id].status,
        ChangeStatus::Pending
    );
    advance(&p, Secs(1)).await;
    let o = observe(&p, &j).await;
    assert_eq!(
        o.zones[&zn("example.com")].changes[&id].status,
        ChangeStatus::Insync
    );
    let hz = o.zones[&zn("example.com")].hosted_zone.clone().unwrap();
    assert_eq!((hz.soa.ttl, hz.soa.minimum), (Ttl(300), Ttl(300)));
}

#[tokio::test]
async fn parent_servers_pick_up_the_ds_each_at_its_own_lag() {
    let p = provider();
    sign(&p, "example.com").await;
    advance(&p, Secs::minutes(2)).await;
    let o = observe(&p, &Journal::new("x")).await;
    let key = p.world().zone(&zn("example.com")).unwrap().ksks[0]
        .dnskey
        .clone();
    assert!(
        o.zones[&zn("example.com")]
            .live
            .dnskey_at_every_zone_server(&key)
    );
    publish_parent_ds(&p, "example.com", 300).await;
    let ds = ksk_ds(&p, "example.com");
    advance(&p, Secs(10)).await;
    let live = &observe(&p, &Journal::new("x")).await.zones[&zn("example.com")].live;
    let with: usize = live
        .parent_servers
        .iter()
        .filter(|s| matches!(&s.result, Ok(a) if a.ds.contains(&ds)))
        .count();
    assert!((1..4).contains(&with), "{with} of 4 servers after 10 s");
    assert!(!live.ds_at_every_parent(|d| d == &ds));
    advance(&p, Secs(60)).await;
    let live = &observe(&p, &Journal::new("x")).await.zones[&zn("example.com")].live;
    assert!(live.ds_at_every_parent(|d| d == &ds));
    assert_eq!(live.max_parent_ds_ttl(), Some(Ttl(300)));
    assert_eq!(live.max_delegation_ns_ttl(), Some(Ttl(172_800)));
}

#[tokio::test]
async fn registrar_runs_one_operation_at_a_time_within_the_key_limit() {
    let p = provider();
    let dom = zn("example.net");
    let key = |i: u32| {
        Dnskey::new(
            257,
            13,
            &dnssec_pilot::provider::sandbox::fake_p256_key(99, &format!("k{i}")),
        )
    };
    let add = |k: Dnskey| Action::AddRegistrarKey {
        domain: dom.clone(),
        key: k,
    };
    let r = run(&p, "example.net", add(outside_key())).await;
    let op = r.operation_id.clone().unwrap();
    // A second operation while the first is in progress.
    let second = p.execute(&req("example.net", add(key(1)), "x")).await;
    assert_eq!(refused_code(second), "DuplicateRequest");
    let mut j = Journal::new("x");
    j.domains.insert(dom.clone(), Default::default());
    let obs = observe(&p, &j).await;
    let reg = obs.domains[&dom].registrar.clone().unwrap();
    assert!(reg.keys.is_empty());
    assert_eq!(reg.operations.len(), 1);
    assert!(!reg.operations[0].status.is_finished());
    advance(&p, Secs::hours(2)).await;
    let obs = observe(&p, &j).await;
    let reg = obs.domains[&dom].registrar.clone().unwrap();
    assert_eq!(reg.keys.len(), 1);
    assert!(reg.operations.is_empty(), "finished and not asked about");
    // Asked about by the journal: shown as SUCCESSFUL.
    j.domains.get_mut(&dom).unwrap().steps.push(StepRecord {
        step_id: "s".into(),
        action: add(outside_key()),
        token: "t".into(),
        intent_at: p.now(),
        outcome: Some(StepOutcome {
            at: p.now(),
            result: Ok(ActionResult {
                operation_id: Some(op.clone()),
                ..Default::default()
            }),
            reconciled: false,
        }),
    });
    let reg = observe(&p, &j).await.domains[&dom]
        .registrar
        .clone()
        .unwrap();
    assert_eq!(reg.operations[0].status, OperationStatus::Successful);
    // The DS reaches every TLD server and the chain is valid.
    advance(&p, Secs::minutes(5)).await;
    let live = observe(&p, &j).await.domains[&dom].live.clone();
    assert!(live.ds_at_every_parent(|d| outside_key().matches(&dom, d)));
    // .org allows 4 keys (the .org zone's registrar).
    let org = zn("example.org");
    for i in 0..4 {
        p.execute(&req(
            "example.org",
            Action::AddRegistrarKey {
                domain: org.clone(),
                key: key(i),
            },
            "y",
        ))
        .await
        .unwrap();
        advance(&p, Secs::hours(2)).await;
    }
    let fifth = p
        .execute(&req(
            "example.org",
            Action::AddRegistrarKey {
                domain: org.clone(),
                key: key(9),
            },
            "z",
        ))
        .await;
    assert_eq!(refused_code(fifth), "DnssecLimitExceeded");
    // Removing one works, one at a time again.
    p.execute(&req(
        "example.org",
        Action::RemoveRegistrarKey {
            domain: org.clone(),
            key: key(0),
        },
        "w",
    ))
    .await
    .unwrap();
    let busy = p
        .execute(&req(
            "example.org",
            Action::RemoveRegistrarKey {
                domain: org,
                key: key(1),
            },
            "v",
        ))
        .await;
    assert_eq!(refused_code(busy), "DuplicateRequest");
    // example.org serves none of these keys: DS at its TLD that match nothing are an outage.
    assert!(p.bogus_answers() > 0);
    assert_eq!(
        p.world()
            .bogus
            .per_zone
            .get(&zn("example.net"))
            .copied()
            .unwrap_or(0),
        0,
        "the registrar-only domain's keys match what its DNS provider signs with"
    );
}

#[tokio::test]
async fn outside_registrar_publishes_after_the_manual_step_and_its_delay() {
    let p = provider();
    sign(&p, "example.info").await;
    advance(&p, Secs::days(3)).await;
    let ds = ksk_ds(&p, "example.info");
    let res = run(
        &p,
        "example.info",
        Action::Manual {
            instruction: format!("Publish this DS at your registrar: example.info. DS {ds}"),
        },
    )
    .await;
    assert!(res.detail.unwrap().contains("outside registrar"));
    advance(&p, Secs::hours(23)).await;
    assert!(p.world().parent_ds(&zn("example.info")).is_empty());
    advance(&p, Secs::hours(1)).await;
    assert_eq!(p.world().parent_ds(&zn("example.info")), vec![ds.clone()]);
    advance(&p, Secs::minutes(2)).await;
    let live = p.live(&zn("example.info"));
    assert!(live.ds_at_every_parent(|d| d == &ds));
    assert_eq!(live.max_parent_ds_ttl(), Some(Ttl(86_400)));
    // Removal likewise.
    run(
        &p,
        "example.info",
        Action::Manual {
            instruction: "Remove every DS record of example.info at your registrar".into(),
        },
    )
    .await;
    advance(&p, Secs::days(1)).await;
    assert!(p.world().parent_ds(&zn("example.info")).is_empty());
    advance(&p, Secs::days(3)).await;
    run(&p, "example.info", Action::DisableSigning).await;
    advance(&p, Secs::days(2)).await;
    assert_eq!(p.bogus_answers(), 0, "{:#?}", p.world().bogus.first);
}

// ---------------------------------------------------------------------------------------------
// Negative controls: the resolver model can fail.

/// (a) Signed, DS published, caches full; then signing disabled with the DS still there.
#[tokio::test]
async fn control_a_disable_signing_under_a_ds_is_bogus() {
    for p in providers() {
        sign(&p, "example.com").await;
        advance(&p, Secs::days(3)).await;
        publish_parent_ds(&p, "example.com", 300).await;
        advance(&p, Secs::days(1)).await;
        assert_eq!(p.bogus_answers(), 0, "{:#?}", p.world().bogus.first);
        run(&p, "example.com", Action::DisableSigning).await;
        advance(&p, Secs::hours(6)).await;
        let w = p.world();
        assert!(w.bogus.total > 0);
        assert_eq!(w.bogus.per_zone[&zn("example.com")], w.bogus.total);
        assert!(!w.bogus.first.is_empty());
        assert!(w.bogus.first[0].at > default_start());
    }
}

/// (b) A DS for a zone that is not signed.
#[tokio::test]
async fn control_b_ds_for_an_unsigned_zone_is_bogus() {
    for p in providers() {
        run(
            &p,
            "example.com",
            Action::CreateKsk {
                name: "k_1".into(),
                kms_arn: KMS.into(),
            },
        )
        .await;
        publish_parent_ds(&p, "example.com", 300).await;
        advance(&p, Secs::hours(2)).await;
        assert!(p.bogus_answers() > 0);
        assert!(p.world().bogus.first[0].reason.contains("no SEP DNSKEY"));
    }
}

/// (c) The correct slow sequence by hand: zero bogus answers.
#[tokio::test]
async fn control_c_the_slow_correct_sequence_has_no_bogus_answer() {
    for p in providers() {
        sign(&p, "example.com").await;
        // The old maximum TTL (2 days) must pass before the DS.
        advance(&p, Secs::days(3)).await;
        publish_parent_ds(&p, "example.com", 300).await;
        advance(&p, Secs::days(14)).await;
        let ds = ksk_ds(&p, "example.com");
        run(
            &p,
            "example.com",
            Action::RemoveDs {
                target: parent_target(),
                records: vec![ds],
                ttl: Ttl(300),
            },
        )
        .await;
        // DS TTL + every parent server's lag + margin.
        advance(&p, Secs(300 + 60 + 600)).await;
        run(&p, "example.com", Action::DisableSigning).await;
        advance(&p, Secs::days(7)).await;
        let w = p.world();
        assert_eq!(w.bogus.total, 0, "{:#?}", w.bogus.first);
        assert!(
            w.bogus.lookups > 1000,
            "the resolvers did look: {}",
            w.bogus.lookups
        );
    }
}

/// (d) DS removed and signing disabled at once, while resolvers still cache the DS.
#[tokio::test]
async fn control_d_disable_right_after_removing_the_ds_is_bogus() {
    for p in providers() {
        sign(&p, "example.com").await;
        advance(&p, Secs::days(3)).await;
        publish_parent_ds(&p, "example.com", 3600).await;
        advance(&p, Secs::days(2)).await;
        assert_eq!(p.bogus_answers(), 0);
        let ds = ksk_ds(&p, "example.com");
        run(
            &p,
            "example.com",
            Action::RemoveDs {
                target: parent_target(),
                records: vec![ds],
                ttl: Ttl(3600),
            },
        )
        .await;
        run(&p, "example.com", Action::DisableSigning).await;
        advance(&p, Secs::days(1)).await;
        let w = p.world();
        assert!(w.bogus.total > 0);
        // Every failure happened while a cached DS could still be alive.
        let last = w.bogus.first.iter().map(|b| b.at).max().unwrap();
        assert!(last.as_second() - w.now.as_second() + 86_400 <= 3600 + 120);
    }
}

/// Publishing the DS before the unsigned answers cached before signing expired is caught too.
#[tokio::test]
async fn control_e_ds_too_soon_after_signing_is_bogus() {
    for p in providers() {
        advance(&p, Secs::hours(6)).await;
        sign(&p, "example.com").await;
        advance(&p, Secs::hours(1)).await;
        publish_parent_ds(&p, "example.com", 300).await;
        advance(&p, Secs::days(2)).await;
        let w = p.world();
        assert!(w.bogus.total > 0);
        assert!(
            w.bogus
                .first
                .iter()
                .any(|b| b.reason.contains("cached unsigned")),
            "{:#?}",
            w.bogus.first
        );
    }
}

#[tokio::test]
async fn tampering_kms_revoke_breaks_the_chain_after_signatures_expire() {
    let p = provider();
    sign(&p, "example.com").await;
    advance(&p, Secs::days(3)).await;
    publish_parent_ds(&p, "example.com", 300).await;
    advance(&p, Secs::days(1)).await;
    let msg = p
        .tamper(Tamper::KmsRevoke, Some(&zn("example.com")))
        .unwrap();
    assert!(msg.contains("ACTION_NEEDED"));
    let o = observe(&p, &Journal::new("x")).await;
    let z = &o.zones[&zn("example.com")];
    assert_eq!(z.dnssec.status, SigningStatus::ActionNeeded);
    assert_eq!(z.dnssec.ksks[0].status, KskStatus::ActionNeeded);
    advance(&p, Secs::hours(20)).await;
    assert_eq!(p.bogus_answers(), 0, "signatures still valid");
    advance(&p, Secs::days(1)).await;
    assert!(p.bogus_answers() > 0);
    assert!(!p.live(&zn("example.com")).signed_everywhere());
}

#[tokio::test]
async fn tampering_each_event() {
    let p = provider();
    sign(&p, "example.com").await;
    advance(&p, Secs::days(3)).await;
    publish_parent_ds(&p, "example.com", 300).await;
    advance(&p, Secs::minutes(5)).await;
    // raise-ttl
    let msg = p
        .tamper(Tamper::RaiseTtl, Some(&zn("example.com")))
        .unwrap();
    assert!(msg.contains("www.example.com CNAME"), "{msg}");
    let w = p.world();
    let www = w
        .zone(&zn("example.com"))
        .unwrap()
        .records
        .iter()
        .find(|r| r.name == "www.example.com")
        .unwrap()
        .ttl;
    assert_eq!(www, Some(Ttl(172_800)));
    // wrong-ds
    p.tamper(Tamper::WrongDs, Some(&zn("example.com"))).unwrap();
    let ds = p.world().parent_ds(&zn("example.com"));
    assert_eq!(ds.len(), 1);
    assert_ne!(ds[0], ksk_ds(&p, "example.com"));
    advance(&p, Secs::hours(1)).await;
    let b = p.bogus_answers();
    assert!(b > 0);
    // remove-ds
    p.tamper(Tamper::RemoveDs, Some(&zn("example.com")))
        .unwrap();
    assert!(p.world().parent_ds(&zn("example.com")).is_empty());
    assert!(
        p.tamper(Tamper::RemoveDs, Some(&zn("example.com")))
            .is_err()
    );
    // disable-signing, then again is an error.
    p.tamper(Tamper::DisableSigning, Some(&zn("example.com")))
        .unwrap();
    assert!(
        p.tamper(Tamper::DisableSigning, Some(&zn("example.com")))
            .is_err()
    );
    // On the registrar-only domain: disabling the outside provider's signing.
    p.tamper(Tamper::DisableSigning, Some(&zn("example.net")))
        .unwrap();
    assert!(
        p.tamper(Tamper::KmsRevoke, Some(&zn("example.net")))
            .is_err()
    );
    assert!(
        p.tamper(Tamper::RaiseTtl, Some(&zn("nope.example")))
            .is_err()
    );
}

#[tokio::test]
async fn a_quiet_world_has_no_bogus_answers_and_sixty_days_are_fast() {
    let p = provider();
    let t = Instant::now();
    advance(&p, Secs::days(60)).await;
    let quiet = t.elapsed();
    assert_eq!(p.bogus_answers(), 0);
    // A signed, trusted zone for 60 days.
    let p = provider();
    sign(&p, "example.com").await;
    advance(&p, Secs::days(3)).await;
    publish_parent_ds(&p, "example.com", 300).await;
    let t = Instant::now();
    advance(&p, Secs::days(60)).await;
    let signed = t.elapsed();
    assert_eq!(p.bogus_answers(), 0, "{:#?}", p.world().bogus.first);
    eprintln!(
        "60 simulated days: {quiet:?} (unsigned), {signed:?} (one zone trusted), {} lookups",
        p.world().bogus.lookups
    );
    // Generous for unoptimised test builds on a shared machine; the benchmark prints the figure.
    assert!(signed.as_secs_f64() < 5.0, "{signed:?}");
}

#[tokio::test]
async fn world_json_round_trips_and_files_are_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.json");
    let p = SandboxProvider::new(init_world(&desired(), 3, default_start()), &path);
    sign(&p, "example.com").await;
    advance(&p, Secs::hours(3)).await;
    let loaded = World::load(&path).unwrap();
    assert_eq!(loaded, p.world());
    let text = std::fs::read_to_string(&path).unwrap();
    let back: World = serde_json::from_str(&text).unwrap();
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        serde_json::to_string(&loaded).unwrap()
    );
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // A provider reopened from the file continues where it stopped.
    let again = SandboxProvider::open(&path).unwrap();
    assert_eq!(again.now(), p.now());
    // Garbage is refused with a clear error.
    std::fs::write(&path, "{\"format_version\": 99}").unwrap();
    assert!(
        World::load(&path)
            .unwrap_err()
            .to_string()
            .contains("format version 99")
    );
    std::fs::write(&path, "not json").unwrap();
    assert!(World::load(&path).is_err());
}

#[test]
fn sandbox_command_functions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.json");
    let r = sandbox_init(&desired(), &path, 1, false).unwrap();
    assert_eq!(r.now.to_string(), "2026-01-05T00:00:00Z");
    assert_eq!(r.bogus_answers, 0);
    assert_eq!(r.zones.len(), 3);
    assert!(
        r.zones
            .iter()
            .all(|z| z.signing_status == "NOT_SIGNING" && z.chain == "insecure")
    );
    assert!(sandbox_init(&desired(), &path, 1, false).is_err());
    sandbox_init(&desired(), &path, 2, true).unwrap();
    let r = sandbox_advance(&path, Secs::days(1)).unwrap();
    assert_eq!(r.now.to_string(), "2026-01-06T00:00:00Z");
    let shown = sandbox_show(&path).unwrap();
    assert_eq!(shown, r);
    let json = serde_json::to_value(&shown).unwrap();
    for k in ["now", "bogus_answers", "zones", "format_version"] {
        assert!(json.get(k).is_some(), "{k}");
    }
    let z = &json["zones"][0];
    for k in [
        "signing_status",
        "ksks",
        "parent",
        "records",
        "bogus_answers",
    ] {
        assert!(z.get(k).is_some(), "{k}");
    }
    let human = shown.render_human();
    assert!(human.contains("bogus answers") && human.contains("example.com"));
    let msg = sandbox_tamper(&path, Tamper::RaiseTtl, Some("example.org")).unwrap();
    assert!(msg.contains("www.example.org"));
    assert!(sandbox_tamper(&path, Tamper::RemoveDs, None).is_err());
    assert!(sandbox_tamper(&path, Tamper::RaiseTtl, Some("missing.com")).is_err());
    assert!(sandbox_show(&dir.path().join("none.json")).is_err());
    assert!(sandbox_advance(&path, Secs::days(4000)).is_err());
}

#[test]
fn world_schema_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/world.schema.json");
    let fresh = dnssec_pilot::commands::schema::schema_text(dnssec_pilot::cli::SchemaKind::World);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "schemas/world.schema.json is stale: run `UPDATE_SCHEMAS=1 cargo test --test cli suite::sandbox::world_schema_is_fresh`"
    );
    // And a real world validates structurally against its top-level keys.
    let w = serde_json::to_value(init_world(&desired(), 1, default_start())).unwrap();
    let schema = serde_json::to_value(world_schema()).unwrap();
    for k in schema["required"].as_array().unwrap() {
        assert!(w.get(k.as_str().unwrap()).is_some(), "{k}");
    }
}

// ---------------------------------------------------------------------------------------------
// A whole onboarding and destroy by hand, the seed procedure with its waits, for each trust kind:
// no bogus answer, and the world back at its baseline afterwards.

/// Advances in steps of `step` until `cond` holds on the live view; panics after `limit`.
async fn wait_for(
    p: &SandboxProvider,
    zone: &str,
    step: Secs,
    limit: Secs,
    cond: impl Fn(&dnssec_pilot::state::LiveObs) -> bool,
) {
    let end = limit.after(p.now());
    while !cond(&p.live(&zn(zone))) {
        assert!(p.now() < end, "condition not met within {}", limit);
        advance(p, step).await;
    }
}

async fn onboard_and_destroy(p: &SandboxProvider, zone: &str) {
    let z = zn(zone);
    let base = p.world().zone(&z).unwrap().clone();
    let rref = |r: &dnssec_pilot::provider::sandbox::RecordSet| RecordRef {
        name: r.name.clone(),
        rtype: r.rtype.clone(),
        set_identifier: r.set_identifier.clone(),
    };
    // Prepare: TTLs above 1 h lowered, SOA to 300/300; INSYNC.
    let lowered: Vec<TtlChange> = base
        .records
        .iter()
        .filter(|r| r.ttl.is_some_and(|t| t.0 > 3600))
        .map(|r| TtlChange {
            record: rref(r),
            from: r.ttl.unwrap(),
            to: Ttl(3600),
        })
        .collect();
    run(
        p,
        zone,
        Action::LowerTtls {
            changes: lowered.clone(),
        },
    )
    .await;
    let soa = SoaChange {
        ttl_from: base.soa.ttl,
        ttl_to: Ttl(300),
        minimum_from: base.soa.minimum,
        minimum_to: Ttl(300),
    };
    run(p, zone, Action::LowerSoa { soa: soa.clone() }).await;
    advance(p, Secs(60)).await;
    let t_lowered = p.now();
    // Sign; INSYNC; wait the old maximum TTL (2 days) after lowering, plus a soak of 1 day.
    sign(p, zone).await;
    advance(p, Secs(60)).await;
    let key = p.world().zone(&z).unwrap().ksks[0].dnskey.clone();
    assert!(p.live(&z).dnskey_at_every_zone_server(&key));
    let gate = Secs::days(2)
        .after(t_lowered)
        .max(Secs::days(1).after(p.now()));
    p.wait_until(gate).await.unwrap();
    // Trust.
    let ds = ksk_ds(p, zone);
    let kind = p.world().zone(&z).unwrap().parent.clone();
    use dnssec_pilot::provider::sandbox::ParentKind;
    match &kind {
        ParentKind::ParentZone { .. } => publish_parent_ds(p, zone, 300).await,
        ParentKind::Registrar => {
            run(
                p,
                zone,
                Action::AddRegistrarKey {
                    domain: z.clone(),
                    key: key.clone(),
                },
            )
            .await;
        }
        ParentKind::External => {
            run(
                p,
                zone,
                Action::Manual {
                    instruction: format!("Publish at your registrar: {zone}. DS {ds}"),
                },
            )
            .await;
        }
    }
    wait_for(p, zone, Secs::minutes(10), Secs::days(2), |l| {
        l.ds_at_every_parent(|d| d == &ds)
    })
    .await;
    advance(p, Secs::minutes(10)).await;
    advance(p, Secs(172_800)).await; // the delegation NS TTL
    advance(p, Secs::days(1)).await; // soak
    assert_eq!(p.bogus_answers(), 0, "{:#?}", p.world().bogus.first);
    let mut ds_ttl = p.live(&z).max_parent_ds_ttl().unwrap();
    // Finally: DS TTL raised where the parent is ours; original TTLs back.
    if matches!(kind, ParentKind::ParentZone { .. }) {
        run(
            p,
            zone,
            Action::RaiseDsTtl {
                parent_hosted_zone_id: PARENT_ID.into(),
                records: vec![ds.clone()],
                from: Ttl(300),
                to: Ttl(3600),
            },
        )
        .await;
        ds_ttl = Ttl(3600);
    }
    let restore: Vec<TtlChange> = lowered
        .iter()
        .map(|c| TtlChange {
            record: c.record.clone(),
            from: c.to,
            to: c.from,
        })
        .collect();
    run(
        p,
        zone,
        Action::RestoreTtls {
            changes: restore.clone(),
        },
    )
    .await;
    advance(p, Secs::days(3)).await;
    assert_eq!(p.bogus_answers(), 0, "{:#?}", p.world().bogus.first);
    // Destroy: DS out first, wait until gone everywhere + DS TTL (+ 3 d at a registrar) + margin.
    match &kind {
        ParentKind::ParentZone { .. } => {
            run(
                p,
                zone,
                Action::RemoveDs {
                    target: parent_target(),
                    records: vec![ds.clone()],
                    ttl: ds_ttl,
                },
            )
            .await;
        }
        ParentKind::Registrar => {
            run(
                p,
                zone,
                Action::RemoveRegistrarKey {
                    domain: z.clone(),
                    key: key.clone(),
                },
            )
            .await;
        }
        ParentKind::External => {
            run(
                p,
                zone,
                Action::Manual {
                    instruction: format!("Remove the DS of {zone} at your registrar"),
                },
            )
            .await;
        }
    }
    wait_for(p, zone, Secs::minutes(10), Secs::days(2), |l| {
        l.ds_gone_everywhere()
    })
    .await;
    let mut wait = ds_ttl.secs();
    if kind == ParentKind::Registrar {
        wait = wait.max(Secs::days(3));
    }
    advance(p, Secs(wait.0 + 600)).await;
    run(p, zone, Action::DisableSigning).await;
    advance(p, Secs(60)).await;
    let ksk = p.world().zone(&z).unwrap().ksks[0].name.clone();
    run(p, zone, Action::DeactivateKsk { name: ksk.clone() }).await;
    run(p, zone, Action::DeleteKsk { name: ksk }).await;
    run(
        p,
        zone,
        Action::RestoreSoa {
            soa: SoaChange {
                ttl_from: Ttl(300),
                ttl_to: base.soa.ttl,
                minimum_from: Ttl(300),
                minimum_to: base.soa.minimum,
            },
        },
    )
    .await;
    advance(p, Secs::days(3)).await;
    let w = p.world();
    assert_eq!(w.bogus.total, 0, "{zone}: {:#?}", w.bogus.first);
    let after = w.zone(&z).unwrap();
    assert_eq!(after.records, base.records);
    assert_eq!(after.soa, base.soa);
    assert!(after.ksks.is_empty());
    assert!(w.parent_ds(&z).is_empty());
}

#[tokio::test]
async fn onboarding_and_destroy_by_hand_never_breaks_resolution() {
    for zone in ["example.com", "example.org", "example.info"] {
        for p in providers() {
            onboard_and_destroy(&p, zone).await;
            assert!(p.world().bogus.lookups > 100);
        }
    }
}

/// The same road with the DS published one day too early is caught, in both simulations.
#[tokio::test]
async fn onboarding_with_the_old_max_ttl_not_waited_is_caught() {
    for p in providers() {
        // Resolvers cache the zone's 2-day answers for a while first.
        advance(&p, Secs::days(1)).await;
        sign(&p, "example.com").await;
        advance(&p, Secs::days(1)).await;
        publish_parent_ds(&p, "example.com", 300).await;
        advance(&p, Secs::days(2)).await;
        assert!(p.bogus_answers() > 0);
    }
}

/// Same seed, same calls → the same world, byte for byte (ids, keys, lookups, bogus events).
#[tokio::test]
async fn the_world_is_deterministic() {
    let mut json = Vec::new();
    for _ in 0..2 {
        let p = provider();
        for (n, a) in [
            Action::CreateKsk {
                name: "example_com_ksk_1".into(),
                kms_arn: KMS.into(),
            },
            Action::EnableSigning,
        ]
        .into_iter()
        .enumerate()
        {
            p.execute(&req("example.com", a, &format!("fixed-{n}")))
                .await
                .unwrap();
        }
        advance(&p, Secs::hours(5)).await;
        publish_parent_ds(&p, "example.com", 300).await;
        run(
            &p,
            "example.net",
            Action::AddRegistrarKey {
                domain: zn("example.net"),
                key: outside_key(),
            },
        )
        .await;
        advance(&p, Secs::days(2)).await;
        assert!(p.bogus_answers() > 0, "the DS came too early");
        json.push(serde_json::to_string(&p.world()).unwrap());
    }
    assert_eq!(json[0], json[1]);
}

#[tokio::test]
async fn waits_can_skip_the_file_and_actions_never_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.json");
    sandbox_init(&desired(), &path, 1, false).unwrap();
    let mut p = SandboxProvider::open(&path).unwrap();
    p.set_save_waits(false);
    let t0 = p.now();
    advance(&p, Secs::hours(1)).await;
    assert_eq!(World::load(&path).unwrap().now, t0);
    run(
        &p,
        "example.com",
        Action::CreateKsk {
            name: "k_1".into(),
            kms_arn: KMS.into(),
        },
    )
    .await;
    let on_disk = World::load(&path).unwrap();
    assert_eq!(on_disk.now, Secs::hours(1).after(t0));
    assert_eq!(on_disk, p.world());
}
