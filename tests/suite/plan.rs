//! Integration tests: the pure planner. Scenario fixtures (desired + observed + journal + now →
//! snapshots of the human and JSON plans) for every phase of onboard and destroy, all three trust
//! kinds, registrar-only domains, drift and a half-finished onboarding reversed; and the safety
//! invariants as property tests over random observed states.

use std::collections::BTreeMap;

use dnssec_pilot::config::{
    Desired, DnsOverride, DomainSpec, Finally, KskSpec, Safety, Signing, Trust, ZoneSpec,
};
use dnssec_pilot::model::{
    Action, ActionKind, ActionResult, DigestType, Dnskey, DsRecord, Secs, Timestamp, Ttl, ZoneName,
};
use dnssec_pilot::plan::{self, JournalUpdate, KeyState, Mode, Plan, PlanInput, StepStatus};
use dnssec_pilot::render::{Output, PlanOutput};
use dnssec_pilot::state::{
    ChangeObs, ChangeStatus, DnssecObs, HostedZoneObs, Journal, KskObs, KskStatus, LiveObs, Mark,
    Observed, OperationStatus, ParentAnswer, ParentObs, RecordSetObs, RegistrarKeyObs,
    RegistrarObs, RegistrarOpObs, ServerObs, SigningStatus, SoaObs, StepOutcome, StepRecord,
    ZoneAnswer, ZoneObs,
};

pub(crate) const KEY_A: &str =
    "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==";
pub(crate) const KEY_B: &str =
    "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OBw==";

pub(crate) fn t0() -> Timestamp {
    "2026-12-01T10:00:00Z".parse().unwrap()
}

pub(crate) fn at(secs: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap()
}

pub(crate) fn zn(s: &str) -> ZoneName {
    ZoneName::parse(s).unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrustKind {
    Parent,
    Registrar,
    External,
}

pub(crate) fn zone_spec(name: &str, trust: TrustKind) -> ZoneSpec {
    let z = zn(name);
    ZoneSpec {
        name: z.clone(),
        hosted_zone_id: None,
        ttl_max: Ttl(3600),
        soa_ttl: Ttl(300),
        soa_minimum: Ttl(300),
        signing: Signing {
            enabled: true,
            ksks: vec![KskSpec {
                name: "ksk_1".into(),
                kms_key:
                    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .into(),
            }],
        },
        trust: Some(match trust {
            TrustKind::Parent => Trust::ParentZone {
                hosted_zone_id: "ZPARENT0000000000001".into(),
                parent: z.parent().unwrap(),
                ds_ttl: Ttl(300),
            },
            TrustKind::Registrar => Trust::Route53Domains,
            TrustKind::External => Trust::External,
        }),
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

pub(crate) fn desired(zones: Vec<ZoneSpec>, domains: Vec<DomainSpec>) -> Desired {
    Desired {
        version: 1,
        zones,
        domains,
    }
}

fn rs(name: &str, rtype: &str, ttl: Option<u32>) -> RecordSetObs {
    RecordSetObs {
        name: name.into(),
        rtype: rtype.into(),
        set_identifier: None,
        ttl: ttl.map(Ttl),
        values: vec!["192.0.2.1".into()],
        provider_data: None,
    }
}

pub(crate) fn ksk_obs(zone: &str, status: KskStatus) -> KskObs {
    let key = Dnskey::new(257, 13, KEY_A);
    let ds = key.to_ds(&zn(zone), DigestType::Sha256).unwrap();
    KskObs {
        name: "ksk_1".into(),
        status,
        status_message: None,
        kms_arn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            .into(),
        key_tag: key.key_tag().unwrap(),
        dnskey: key,
        ds,
        created_at: None,
    }
}

/// A world stage for one zone, built up by the scenario.
#[derive(Clone, Debug)]
pub(crate) struct Stage {
    pub zone: String,
    pub trust: TrustKind,
    pub ttls_lowered: bool,
    pub ksk: Option<KskStatus>,
    pub signing: SigningStatus,
    /// DS at the parent API / registrar.
    pub ds_api: bool,
    /// DS served by this many of the 4 parent servers.
    pub ds_live: usize,
    pub ds_ttl: u32,
    pub restored: bool,
    pub wrong_ds: bool,
    pub reg_op_in_flight: bool,
    /// Route 53 change ids observed INSYNC.
    pub insync: Vec<String>,
}

impl Stage {
    pub fn new(zone: &str, trust: TrustKind) -> Self {
        Stage {
            zone: zone.into(),
            trust,
            ttls_lowered: false,
            ksk: None,
            signing: SigningStatus::NotSigning,
            ds_api: false,
            ds_live: 0,
            ds_ttl: 300,
            restored: false,
            wrong_ds: false,
            reg_op_in_flight: false,
            insync: Vec::new(),
        }
    }

    pub fn obs(&self, now: Timestamp) -> ZoneObs {
        let z = &self.zone;
        let (www, txt, soa_ttl, soa_min, ns) = if self.restored {
            (86400, 172800, 900, 900, 172800)
        } else if self.ttls_lowered {
            (3600, 3600, 300, 300, 3600)
        } else {
            (86400, 172800, 900, 900, 172800)
        };
        let record_sets = vec![
            rs(z, "A", Some(300)),
            rs(z, "MX", Some(3600)),
            rs(z, "NS", Some(ns)),
            rs(z, "TXT", Some(txt)),
            rs(&format!("www.{z}"), "A", Some(www)),
            rs(&format!("cdn.{z}"), "A", None),
        ];
        let ksk = self.ksk.map(|s| ksk_obs(z, s));
        let ds: Vec<DsRecord> = match (&ksk, self.wrong_ds) {
            (_, true) => vec![
                DsRecord::parse(
                    "12345 13 2 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF",
                )
                .unwrap(),
            ],
            (Some(k), false) => vec![k.ds.clone()],
            (None, false) => vec![],
        };
        let api_ds = if self.ds_api { ds.clone() } else { vec![] };
        let parent = match self.trust {
            TrustKind::Parent => ParentObs::ParentZone {
                hosted_zone_id: "ZPARENT0000000000001".into(),
                ds: api_ds.clone(),
                ds_ttl: (!api_ds.is_empty()).then_some(Ttl(self.ds_ttl)),
                ns_ttl: Some(Ttl(172800)),
            },
            TrustKind::Registrar => ParentObs::Registrar(RegistrarObs {
                keys: if self.ds_api {
                    ksk.iter()
                        .map(|k| RegistrarKeyObs {
                            id: "reg-key-1".into(),
                            key: if self.wrong_ds {
                                Dnskey::new(257, 13, KEY_B)
                            } else {
                                k.dnskey.clone()
                            },
                            digest: None,
                        })
                        .collect()
                } else {
                    vec![]
                },
                operations: if self.reg_op_in_flight {
                    vec![RegistrarOpObs {
                        id: "op-1".into(),
                        kind: "ADD_DNSSEC".into(),
                        status: OperationStatus::InProgress,
                        submitted_at: now,
                        message: None,
                    }]
                } else {
                    vec![]
                },
            }),
            TrustKind::External => ParentObs::Unknown,
        };
        let signed = self.signing == SigningStatus::Signing;
        let parent_servers = (0..4)
            .map(|i| ServerObs {
                server: format!("p{i}.example-parent.net"),
                seen_at: now,
                result: Ok(ParentAnswer {
                    ds: if i < self.ds_live { ds.clone() } else { vec![] },
                    ds_ttl: (i < self.ds_live).then_some(Ttl(self.ds_ttl)),
                    ns_ttl: Some(Ttl(172800)),
                    ds_signed: (i < self.ds_live).then_some(true),
                }),
            })
            .collect();
        let zone_servers = (0..4)
            .map(|i| ServerObs {
                server: format!("ns-{i}.awsdns.example"),
                seen_at: now,
                result: Ok(ZoneAnswer {
                    dnskeys: if signed {
                        ksk.iter().map(|k| k.dnskey.clone()).collect()
                    } else {
                        vec![]
                    },
                    dnskey_ttl: signed.then_some(Ttl(3600)),
                    dnskey_signed: signed,
                    data_signed: signed,
                    ns_ttl: Some(Ttl(ns)),
                    problems: vec![],
                    denial_signed: signed.then_some(true),
                    dnskey_signers: if signed {
                        ksk.iter().filter_map(|k| k.dnskey.key_tag().ok()).collect()
                    } else {
                        vec![]
                    },
                    signatures_expire_at: None,
                }),
            })
            .collect();
        ZoneObs {
            hosted_zone: Some(HostedZoneObs {
                id: "ZCHILD00000000000001".into(),
                name_servers: (0..4).map(|i| format!("ns-{i}.awsdns.example")).collect(),
                private: false,
                record_sets,
                soa: SoaObs {
                    ttl: Ttl(soa_ttl),
                    minimum: Ttl(soa_min),
                },
            }),
            dnssec: DnssecObs {
                status: self.signing,
                status_message: None,
                ksks: ksk.into_iter().collect(),
            },
            changes: self
                .insync
                .iter()
                .map(|c| {
                    (
                        c.clone(),
                        ChangeObs {
                            id: c.clone(),
                            status: ChangeStatus::Insync,
                            submitted_at: now,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
            parent,
            live: LiveObs {
                parent_servers,
                zone_servers,
            },
        }
    }
}

/// Applies a plan's journal updates exactly as the engine does.
pub(crate) fn apply_updates(journal: &mut Journal, plan: &Plan) {
    dnssec_pilot::engine::apply_updates(journal, &plan.updates);
}

pub(crate) fn record_step(
    journal: &mut Journal,
    zone: &str,
    id: &str,
    action: Action,
    at_: Timestamp,
    change: Option<&str>,
) {
    journal
        .zones
        .entry(zn(zone))
        .or_default()
        .steps
        .push(StepRecord {
            step_id: id.into(),
            action,
            token: format!("tok-{id}"),
            intent_at: at_,
            outcome: Some(StepOutcome {
                at: at_,
                result: Ok(ActionResult {
                    change_id: change.map(str::to_string),
                    ..Default::default()
                }),
                reconciled: false,
            }),
        });
}

pub(crate) fn observed_one(zone: &str, zo: ZoneObs) -> Observed {
    let mut o = Observed::default();
    o.zones.insert(zn(zone), zo);
    o
}

pub(crate) fn run(
    desired: &Desired,
    observed: &Observed,
    journal: &Journal,
    now: Timestamp,
    mode: Mode,
) -> Plan {
    plan::plan(PlanInput {
        desired,
        observed,
        journal,
        now,
        mode,
        only: &[],
    })
}

fn render_both(p: &Plan, journal: &Journal, timeline: bool) -> String {
    let tl = timeline.then(|| plan::timeline(p, journal));
    let out = PlanOutput {
        plan: p,
        timeline: tl.as_deref(),
    };
    let json = serde_json::to_string_pretty(&out.json()).unwrap();
    format!("{}\n---- json ----\n{json}\n", out.human())
}

fn status_of(p: &Plan, suffix: &str) -> Option<StepStatus> {
    p.zones
        .iter()
        .flat_map(|z| z.steps.iter())
        .find(|s| s.id.ends_with(suffix))
        .map(|s| s.status)
}

fn ready_kinds(p: &Plan) -> Vec<ActionKind> {
    p.ready_steps().map(|s| s.kind()).collect()
}

/// Walks one zone through the whole onboarding and back, snapshotting the plan at each stage.
fn walk(trust: TrustKind, tag: &str) {
    let zone = "app.example.com";
    let d = desired(vec![zone_spec(zone, trust)], vec![]);
    let mut j = Journal::new("lineage-test");
    let mut st = Stage::new(zone, trust);
    let mut snaps: Vec<(String, String)> = Vec::new();
    let mut step = |name: &str, st: &Stage, j: &mut Journal, now: Timestamp, mode: Mode| -> Plan {
        let o = observed_one(zone, st.obs(now));
        let p = run(&d, &o, j, now, mode);
        snaps.push((name.to_string(), render_both(&p, j, name == "01-unsigned")));
        apply_updates(j, &p);
        p
    };

    // 1. Unsigned: prepare is ready.
    let p = step("01-unsigned", &st, &mut j, t0(), Mode::Apply);
    assert_eq!(ready_kinds(&p), vec![ActionKind::LowerTtls]);
    record_step(
        &mut j,
        zone,
        &format!("{zone}/lower_ttls"),
        p.ready_steps().next().unwrap().action.clone(),
        t0(),
        Some("C1"),
    );
    record_step(
        &mut j,
        zone,
        &format!("{zone}/lower_soa"),
        Action::LowerSoa {
            soa: dnssec_pilot::model::SoaChange {
                ttl_from: Ttl(900),
                ttl_to: Ttl(300),
                minimum_from: Ttl(900),
                minimum_to: Ttl(300),
            },
        },
        t0(),
        Some("C2"),
    );
    st.ttls_lowered = true;

    // 2. Lowered but changes PENDING: KSK creation waits for INSYNC.
    let p = step("02-lowered-pending", &st, &mut j, at(30), Mode::Apply);
    assert_eq!(ready_kinds(&p), Vec::<ActionKind>::new());
    assert_eq!(status_of(&p, "create_ksk/ksk_1"), Some(StepStatus::Blocked));

    // 3. INSYNC: create KSK ready.
    st.insync = vec!["C1".into(), "C2".into()];
    let p = step("03-insync", &st, &mut j, at(90), Mode::Apply);
    assert_eq!(ready_kinds(&p), vec![ActionKind::CreateKsk]);
    st.ksk = Some(KskStatus::Active);

    // 4. KSK active: enable signing.
    let p = step("04-ksk-active", &st, &mut j, at(120), Mode::Apply);
    assert_eq!(ready_kinds(&p), vec![ActionKind::EnableSigning]);
    st.signing = SigningStatus::Signing;

    // 5. Signing, just now: the DS must wait (unsigned caches + soak).
    let p = step("05-signing-fresh", &st, &mut j, at(180), Mode::Apply);
    assert!(ready_kinds(&p).is_empty(), "{:?}", ready_kinds(&p));
    let nb = p.zones[0]
        .steps
        .iter()
        .find(|s| {
            matches!(
                s.kind(),
                ActionKind::PublishDs | ActionKind::AddRegistrarKey | ActionKind::Manual
            )
        })
        .unwrap()
        .not_before
        .unwrap();
    assert_eq!(nb, Secs::days(14).after(at(180)), "soak dominates");

    // 6. After the soak: publish is ready.
    let now = Secs::days(14).after(at(180));
    let p = step("06-soaked", &st, &mut j, now, Mode::Apply);
    let expect = match trust {
        TrustKind::Parent => ActionKind::PublishDs,
        TrustKind::Registrar => ActionKind::AddRegistrarKey,
        TrustKind::External => ActionKind::Manual,
    };
    assert_eq!(ready_kinds(&p), vec![expect]);
    if trust == TrustKind::External {
        let a = p.ready_steps().next().unwrap().action.clone();
        record_step(&mut j, zone, &format!("{zone}/publish_ds"), a, now, None);
    } else {
        st.ds_api = true;
    }

    // 7. DS at 2 of 4 parent servers: trust not established.
    st.ds_live = 2;
    let now = Secs(60).after(now);
    let p = step("07-ds-partial", &st, &mut j, now, Mode::Apply);
    assert!(ready_kinds(&p).is_empty());

    // 8. DS everywhere: margin + NS TTL to wait.
    st.ds_live = 4;
    let seen = Secs(120).after(now);
    let p = step("08-ds-everywhere", &st, &mut j, seen, Mode::Apply);
    assert!(ready_kinds(&p).is_empty());
    let aw = p.zones[0]
        .steps
        .iter()
        .find(|s| s.id.ends_with("await_trust"))
        .unwrap();
    assert_eq!(aw.not_before, Some(Secs(600 + 172800).after(seen)));

    // 9. Trusted, soaking.
    let trusted = Secs(600 + 172800).after(seen);
    let p = step("09-trusted-soaking", &st, &mut j, trusted, Mode::Apply);
    assert!(ready_kinds(&p).is_empty());

    // 10. Soaked: finally steps.
    let fin = Secs::days(14).after(trusted);
    let p = step("10-finally", &st, &mut j, fin, Mode::Apply);
    let first = ready_kinds(&p);
    match trust {
        TrustKind::Parent => assert_eq!(first, vec![ActionKind::RaiseDsTtl]),
        _ => assert_eq!(first, vec![ActionKind::RestoreTtls]),
    }
    st.restored = true;
    st.ds_ttl = 3600;

    // 11. Converged.
    let p = step(
        "11-converged",
        &st,
        &mut j,
        Secs(3600).after(fin),
        Mode::Apply,
    );
    assert!(
        !p.has_changes(),
        "{}",
        PlanOutput {
            plan: &p,
            timeline: None
        }
        .human()
    );

    // 12. Destroy: the DS goes first.
    let now = Secs::days(1).after(fin);
    let p = step("12-destroy-start", &st, &mut j, now, Mode::Destroy);
    let first = ready_kinds(&p);
    match trust {
        TrustKind::Parent => assert_eq!(first, vec![ActionKind::RemoveDs]),
        TrustKind::Registrar => assert_eq!(first, vec![ActionKind::RemoveRegistrarKey]),
        TrustKind::External => assert_eq!(first, vec![ActionKind::Manual]),
    }
    if trust == TrustKind::External {
        let a = p.ready_steps().next().unwrap().action.clone();
        record_step(&mut j, zone, &format!("{zone}/remove_ds"), a, now, None);
    }
    st.ds_api = false;
    st.ds_live = 1;

    // 13. DS still at one parent server: signing must stay on.
    let now = Secs(60).after(now);
    let p = step("13-ds-lingering", &st, &mut j, now, Mode::Destroy);
    assert!(ready_kinds(&p).is_empty(), "{:?}", ready_kinds(&p));
    assert_eq!(status_of(&p, "disable_signing"), Some(StepStatus::Blocked));

    // 14. DS gone everywhere: wait the DS TTL (+ registrar delay) + margin.
    st.ds_live = 0;
    let gone = Secs(60).after(now);
    let p = step("14-ds-gone", &st, &mut j, gone, Mode::Destroy);
    assert!(ready_kinds(&p).is_empty());
    let hold = match trust {
        TrustKind::Registrar | TrustKind::External => Secs::days(3).0 + 600,
        TrustKind::Parent => 3600 + 600,
    };
    let aw = p.zones[0]
        .steps
        .iter()
        .find(|s| s.id.ends_with("await_ds_gone"))
        .unwrap();
    assert_eq!(aw.not_before, Some(Secs(hold).after(gone)));

    // 15. Waited: disable signing.
    let now = Secs(hold).after(gone);
    let p = step("15-disable", &st, &mut j, now, Mode::Destroy);
    assert_eq!(ready_kinds(&p), vec![ActionKind::DisableSigning]);
    st.signing = SigningStatus::NotSigning;
    let p = step(
        "16-deactivate",
        &st,
        &mut j,
        Secs(60).after(now),
        Mode::Destroy,
    );
    assert_eq!(ready_kinds(&p), vec![ActionKind::DeactivateKsk]);
    st.ksk = Some(KskStatus::Inactive);
    let p = step(
        "17-delete",
        &st,
        &mut j,
        Secs(120).after(now),
        Mode::Destroy,
    );
    assert_eq!(ready_kinds(&p), vec![ActionKind::DeleteKsk]);
    st.ksk = None;
    st.restored = true;
    let p = step(
        "18-destroyed",
        &st,
        &mut j,
        Secs(180).after(now),
        Mode::Destroy,
    );
    assert!(
        !p.has_changes(),
        "{}",
        PlanOutput {
            plan: &p,
            timeline: None
        }
        .human()
    );

    for (name, text) in snaps {
        insta::assert_snapshot!(format!("plan_{tag}_{name}"), text);
    }
}

#[test]
fn onboard_and_destroy_with_route53_parent_zone() {
    walk(TrustKind::Parent, "parent");
}

#[test]
fn onboard_and_destroy_with_route53_domains_registrar() {
    walk(TrustKind::Registrar, "registrar");
}

#[test]
fn onboard_and_destroy_with_external_registrar() {
    walk(TrustKind::External, "external");
}

/// Regression: a change once seen INSYNC (final in Route 53) is remembered in the journal, so
/// later runs leave it out of the observation scope (no `GetChange` per change per run) and the
/// plan stays where it was although nothing observed the change again.
#[test]
fn a_change_seen_insync_is_remembered_and_not_asked_about_again() {
    let zone = "app.example.com";
    let d = desired(vec![zone_spec(zone, TrustKind::External)], vec![]);
    let mut j = Journal::new("lineage-test");
    let mut st = Stage::new(zone, TrustKind::External);
    let p = run(&d, &observed_one(zone, st.obs(t0())), &j, t0(), Mode::Apply);
    apply_updates(&mut j, &p);
    let lower = p.ready_steps().next().unwrap().action.clone();
    record_step(
        &mut j,
        zone,
        &format!("{zone}/lower_ttls"),
        lower,
        t0(),
        Some("C1"),
    );
    st.ttls_lowered = true;
    let watched = |j: &Journal| -> Vec<String> {
        plan::scope(&d, j, &[]).zones[0]
            .changes
            .iter()
            .map(|c| c.id.clone())
            .collect()
    };
    assert_eq!(watched(&j), vec!["C1".to_string()]);

    st.insync = vec!["C1".into()];
    let p = run(
        &d,
        &observed_one(zone, st.obs(at(90))),
        &j,
        at(90),
        Mode::Apply,
    );
    assert_eq!(ready_kinds(&p), vec![ActionKind::CreateKsk]);
    apply_updates(&mut j, &p);
    assert_eq!(j.zones[&zn(zone)].insync.get("C1"), Some(&at(90)));
    assert!(watched(&j).is_empty(), "{:?}", watched(&j));

    // The next run asks nothing about C1; the plan does not go back to waiting for it.
    st.insync.clear();
    let p = run(
        &d,
        &observed_one(zone, st.obs(at(3600))),
        &j,
        at(3600),
        Mode::Apply,
    );
    assert_eq!(ready_kinds(&p), vec![ActionKind::CreateKsk]);
    // A plan that observes it again adds nothing.
    assert!(
        !p.updates
            .iter()
            .any(|u| matches!(u, JournalUpdate::ChangeInsync { .. }))
    );
}

mod invariants {
    //! The planner's safety invariants over random observed states, journals and times. Checked
    //! independently of the planner's own gates: from the raw observation and journal.

    use super::*;
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300)
    }

    fn arb_stage() -> impl Strategy<Value = Stage> {
        (
            prop_oneof![
                Just(TrustKind::Parent),
                Just(TrustKind::Registrar),
                Just(TrustKind::External)
            ],
            any::<bool>(),
            prop_oneof![
                Just(None),
                Just(Some(KskStatus::Active)),
                Just(Some(KskStatus::Inactive)),
                Just(Some(KskStatus::ActionNeeded))
            ],
            prop_oneof![
                Just(SigningStatus::Signing),
                Just(SigningStatus::NotSigning),
                Just(SigningStatus::ActionNeeded)
            ],
            any::<bool>(),
            0usize..=4,
            prop_oneof![Just(300u32), Just(3600u32), Just(86400u32)],
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        )
            .prop_map(
                |(
                    trust,
                    lowered,
                    ksk,
                    signing,
                    ds_api,
                    ds_live,
                    ds_ttl,
                    (restored, wrong, op, insync),
                )| {
                    let mut s = Stage::new("app.example.com", trust);
                    s.ttls_lowered = lowered;
                    s.ksk = ksk;
                    s.signing = signing;
                    s.ds_api = ds_api;
                    s.ds_live = ds_live;
                    s.ds_ttl = ds_ttl;
                    s.restored = restored;
                    s.wrong_ds = wrong;
                    s.reg_op_in_flight = op;
                    if insync {
                        s.insync = vec!["C1".into()];
                    }
                    s
                },
            )
    }

    fn arb_marks() -> impl Strategy<Value = Vec<(Mark, i64)>> {
        proptest::collection::vec(
            (
                prop_oneof![
                    Just(Mark::PrepareInsync),
                    Just(Mark::SigningInsync),
                    Just(Mark::DsSeenEverywhere),
                    Just(Mark::TrustEstablished),
                    Just(Mark::DsLost),
                    Just(Mark::DsGoneEverywhere),
                    Just(Mark::SigningDisabledInsync),
                ],
                -40 * 86400i64..=0,
            ),
            0..6,
        )
    }

    fn journal_for(
        marks: &[(Mark, i64)],
        max_ds: Option<u32>,
        baseline_from: Option<&Plan>,
    ) -> Journal {
        let mut j = Journal::new("prop");
        if let Some(p) = baseline_from {
            apply_updates(&mut j, p);
        }
        let zj = j.zones.entry(zn("app.example.com")).or_default();
        for (m, off) in marks {
            zj.marks.insert(*m, at(*off + 40 * 86400));
        }
        zj.max_ds_ttl_seen = max_ds.map(Ttl);
        j
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

        #[test]
        fn ready_steps_never_break_resolution(
            stage in arb_stage(),
            marks in arb_marks(),
            max_ds in prop_oneof![Just(None), Just(Some(300u32)), Just(Some(86400u32))],
            destroy in any::<bool>(),
            with_baseline in any::<bool>(),
            near_publish in proptest::option::of((-40 * 86400i64..=0, -40 * 86400i64..=0)),
        ) {
            let now = at(40 * 86400);
            let mut stage = stage;
            let mut marks = marks;
            let d = desired(vec![zone_spec("app.example.com", stage.trust)], vec![]);
            // Half the cases: an unsigned zone brought up to just before its DS (TTLs lowered,
            // KSK active, signing on), with the prepare and signing marks at random times, so
            // that the DS publication rules are exercised and not only reached by chance.
            let base_plan = if let Some((prepared, signed)) = near_publish {
                let unsigned = Stage::new("app.example.com", stage.trust);
                let base = run(&d, &observed_one("app.example.com", unsigned.obs(at(0))), &Journal::new("prop"), at(0), Mode::Apply);
                stage.ttls_lowered = true;
                stage.ksk = Some(KskStatus::Active);
                stage.signing = SigningStatus::Signing;
                stage.ds_api = false;
                stage.ds_live = 0;
                stage.wrong_ds = false;
                stage.restored = false;
                marks.retain(|(m, _)| !matches!(m, Mark::PrepareInsync | Mark::SigningInsync));
                marks.push((Mark::PrepareInsync, prepared));
                marks.push((Mark::SigningInsync, signed));
                Some(base)
            } else {
                None
            };
            let o = observed_one("app.example.com", stage.obs(now));
            let base_plan = base_plan.or_else(|| with_baseline.then(|| run(&d, &o, &Journal::new("prop"), at(0), Mode::Apply)));
            let j = journal_for(&marks, max_ds, base_plan.as_ref());
            let mode = if destroy { Mode::Destroy } else { Mode::Apply };
            let p = run(&d, &o, &j, now, mode);

            // Same inputs, byte-identical plan.
            let again = run(&d, &o, &j, now, mode);
            prop_assert_eq!(serde_json::to_string(&p).unwrap(), serde_json::to_string(&again).unwrap());

            let zo = &o.zones[&zn("app.example.com")];
            let zj = j.zones.get(&zn("app.example.com")).cloned().unwrap_or_default();
            let api_ds = matches!(&zo.parent, ParentObs::ParentZone { ds, .. } if !ds.is_empty())
                || matches!(&zo.parent, ParentObs::Registrar(r) if !r.keys.is_empty());
            let live_ds = zo.live.any_parent_ds();
            for s in p.zones.iter().flat_map(|z| z.steps.iter()) {
                if s.action.is_mutating() {
                    prop_assert!(!s.rollback.is_empty(), "{} has no rollback", s.id);
                }
                if s.status != StepStatus::Ready {
                    continue;
                }
                // DESIGN §4a over the key states the plan reports: signing (and a KSK) may stop
                // only while every DS is hidden; a DS may be published only while its DNSKEY is
                // omnipresent and the unsigned answers are hidden.
                let ks = p.zones.iter().find_map(|z| z.key_states.as_ref());
                if matches!(s.action, Action::DisableSigning | Action::DeactivateKsk { .. } | Action::DeleteKsk { .. }) {
                    let ks = ks.expect("a hosted zone's plan reports key states");
                    for k in &ks.ksks {
                        prop_assert_eq!(k.ds.state, KeyState::Hidden, "{} while DS of {} is {:?}", s.id, k.ksk, k.ds);
                    }
                }
                if matches!(s.action, Action::PublishDs { .. } | Action::AddRegistrarKey { .. }) {
                    let ks = ks.expect("a hosted zone's plan reports key states");
                    prop_assert!(ks.ksks.iter().any(|k| k.dnskey.state == KeyState::Omnipresent), "{} before a DNSKEY is omnipresent: {:?}", s.id, ks.ksks);
                    prop_assert_eq!(ks.unsigned_answers.as_ref().map(|u| u.state), Some(KeyState::Hidden), "{} while unsigned answers may be cached", s.id);
                }
                match &s.action {
                    Action::DisableSigning => {
                        prop_assert!(!api_ds && !live_ds, "disable_signing while a DS is published");
                        // Within DS TTL + margin of the DS leaving the last server: never.
                        let ttl = zj.max_ds_ttl_seen.map_or(0, |t| t.0).max(zo.live.max_parent_ds_ttl().map_or(0, |t| t.0));
                        if ttl > 0 {
                            let gone = p.updates.iter().find_map(|u| match u {
                                JournalUpdate::SetMark { mark: Mark::DsGoneEverywhere, at, .. } => Some(*at),
                                _ => None,
                            }).or_else(|| zj.marks.get(&Mark::DsGoneEverywhere).copied());
                            let gone = gone.expect("DS was seen: its disappearance must be recorded");
                            prop_assert!(now >= Secs(u64::from(ttl) + 600).after(gone), "disable_signing within DS TTL + margin");
                        }
                    }
                    Action::PublishDs { .. } | Action::AddRegistrarKey { .. } => {
                        prop_assert_eq!(zo.dnssec.status, SigningStatus::Signing);
                        let signed_at = p.updates.iter().find_map(|u| match u {
                            JournalUpdate::SetMark { mark: Mark::SigningInsync, at, .. } => Some(*at),
                            _ => None,
                        }).or_else(|| zj.marks.get(&Mark::SigningInsync).copied());
                        let signed_at = signed_at.expect("publishing needs signing INSYNC recorded");
                        prop_assert!(now >= Secs::days(14).after(signed_at), "DS before the soak");
                        let max_now = zo.hosted_zone.as_ref().unwrap().max_ttl();
                        prop_assert!(now >= max_now.secs().after(signed_at), "DS before signed answers filled caches");
                        prop_assert!(zo.live.signed_everywhere());
                        // The unsigned answers cached before signing are gone: the prepare
                        // changes INSYNC + the largest original TTL (SOA minimum included).
                        let baseline = p.updates.iter().find_map(|u| match u {
                            JournalUpdate::Baseline { baseline, .. } => Some(baseline.clone()),
                            _ => None,
                        }).or_else(|| zj.baseline.clone());
                        let baseline = baseline.expect("publishing needs a baseline");
                        if !baseline.was_signing {
                            let prepared = p.updates.iter().find_map(|u| match u {
                                JournalUpdate::SetMark { mark: Mark::PrepareInsync, at, .. } => Some(*at),
                                _ => None,
                            }).or_else(|| zj.marks.get(&Mark::PrepareInsync).copied());
                            let prepared = prepared.expect("publishing an unsigned zone's DS needs the prepare INSYNC recorded");
                            let old_max = baseline.max_ttl.max(baseline.soa_minimum);
                            prop_assert!(now >= old_max.secs().after(prepared), "DS before the unsigned answers expired");
                        }
                    }
                    Action::DeactivateKsk { name } | Action::DeleteKsk { name } => {
                        let k = zo.dnssec.ksks.iter().find(|k| &k.name == name).unwrap();
                        let owner = zn("app.example.com");
                        let refd = matches!(&zo.parent, ParentObs::ParentZone { ds, .. } if ds.iter().any(|d| k.dnskey.matches(&owner, d)))
                            || matches!(&zo.parent, ParentObs::Registrar(r) if r.keys.iter().any(|rk| rk.key.public_key == k.dnskey.public_key))
                            || zo.live.parent_servers.iter().any(|s| matches!(&s.result, Ok(a) if a.ds.iter().any(|d| k.dnskey.matches(&owner, d))));
                        prop_assert!(!refd, "{} while a DS references the key", s.id);
                    }
                    _ => {}
                }
            }
        }

        /// Idempotent: a world already where the config wants it (a signed zone with its DS in
        /// place and every TTL back at its baseline, or an unsigned zone with no DS and no KSK)
        /// plans no change, whatever the time, the trust kind and whether the journal knows it.
        #[test]
        fn a_world_at_the_desired_state_plans_no_change(
            trust in prop_oneof![
                Just(TrustKind::Parent),
                Just(TrustKind::Registrar),
                Just(TrustKind::External)
            ],
            signed in any::<bool>(),
            now_off in 0i64..(400 * 86400),
            journal_seen in any::<bool>(),
            mode_destroy in any::<bool>(),
        ) {
            let name = "app.example.com";
            let mut spec = zone_spec(name, trust);
            let mut st = Stage::new(name, trust);
            st.restored = true;
            // `destroy` wants the unsigned baseline whatever the config says.
            let signed = signed && !mode_destroy;
            if signed {
                st.ksk = Some(KskStatus::Active);
                st.signing = SigningStatus::Signing;
                st.ds_api = trust != TrustKind::External;
                st.ds_live = 4;
                st.ds_ttl = if trust == TrustKind::Parent { spec.finally.ds_ttl.0 } else { 86400 };
            } else if !mode_destroy {
                spec.signing.enabled = false;
                spec.signing.ksks.clear();
            }
            let now = at(now_off);
            let d = desired(vec![spec], vec![]);
            let o = observed_one(name, st.obs(now));
            let mode = if mode_destroy { Mode::Destroy } else { Mode::Apply };
            // A journal that has planned this world once (baseline and direction recorded) or none.
            let j = if journal_seen {
                let mut j = Journal::new("prop");
                apply_updates(&mut j, &run(&d, &o, &Journal::new("prop"), now, mode));
                j
            } else {
                Journal::new("prop")
            };
            let p = run(&d, &o, &j, now, mode);
            prop_assert!(
                !p.has_changes(),
                "{}",
                PlanOutput { plan: &p, timeline: None }.human()
            );
        }
    }
}

pub(crate) mod scenarios {
    //! Single-stage scenarios: drift, a half-finished onboarding reversed, registrar-only
    //! domains. Each is snapshotted (human + JSON) and asserted on what must be ready.

    use super::*;
    use dnssec_pilot::config::RegistrarKeySpec;
    use dnssec_pilot::state::DomainObs;

    fn snap(
        name: &str,
        d: &Desired,
        o: &Observed,
        j: &Journal,
        now: Timestamp,
        mode: Mode,
    ) -> Plan {
        let p = run(d, o, j, now, mode);
        insta::assert_snapshot!(format!("scenario_{name}"), render_both(&p, j, false));
        p
    }

    /// A zone trusted 30 days ago by dnssec-pilot, as the journal remembers it.
    fn trusted_journal(zone: &str) -> Journal {
        let mut j = Journal::new("lineage-test");
        let zj = j.zones.entry(zn(zone)).or_default();
        for (m, days) in [
            (Mark::PrepareInsync, 60),
            (Mark::SigningInsync, 59),
            (Mark::DsSeenEverywhere, 45),
            (Mark::TrustEstablished, 43),
        ] {
            zj.marks.insert(m, at(-days * 86400));
        }
        zj.max_ds_ttl_seen = Some(Ttl(3600));
        j
    }

    fn trusted_stage(zone: &str, trust: TrustKind) -> Stage {
        let mut st = Stage::new(zone, trust);
        st.ksk = Some(KskStatus::Active);
        st.signing = SigningStatus::Signing;
        st.ds_api = trust != TrustKind::External;
        st.ds_live = 4;
        st.ds_ttl = 3600;
        st.restored = true;
        st
    }

    #[test]
    fn drift_ds_removed_by_hand_is_republished() {
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let mut st = trusted_stage(zone, TrustKind::Parent);
        st.ds_api = false;
        st.ds_live = 0;
        let j = trusted_journal(zone);
        let p = snap(
            "drift_ds_removed",
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            t0(),
            Mode::Apply,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::PublishDs]);
        assert!(!p.zones[0].drift.is_empty());
    }

    #[test]
    fn drift_signing_disabled_under_a_ds_is_repaired_first() {
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let mut st = trusted_stage(zone, TrustKind::Parent);
        st.signing = SigningStatus::NotSigning;
        let j = trusted_journal(zone);
        let p = snap(
            "drift_signing_disabled",
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            t0(),
            Mode::Apply,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::EnableSigning]);
        assert!(p.zones[0].issues.iter().any(|i| i.code == "PLAN005"));
    }

    #[test]
    fn drift_wrong_ds_is_replaced() {
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let mut st = trusted_stage(zone, TrustKind::Parent);
        st.wrong_ds = true;
        let j = trusted_journal(zone);
        let p = snap(
            "drift_wrong_ds",
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            t0(),
            Mode::Apply,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::PublishDs]);
    }

    #[test]
    fn drift_ksk_action_needed_stops_with_an_error() {
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let mut st = trusted_stage(zone, TrustKind::Parent);
        st.ksk = Some(KskStatus::ActionNeeded);
        let j = trusted_journal(zone);
        let p = snap(
            "drift_ksk_action_needed",
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            t0(),
            Mode::Apply,
        );
        assert!(ready_kinds(&p).is_empty());
        assert!(p.has_errors());
    }

    /// Regression: a step reconciled after a crash carries no change id to ask GetChange about;
    /// it must not count as INSYNC at once (Route 53 may still be propagating it), only once the
    /// propagation margin has passed since it was reconciled.
    #[test]
    fn a_reconciled_change_counts_as_insync_only_after_the_margin() {
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let mut j = Journal::new("lineage-test");
        let base = run(
            &d,
            &observed_one(zone, Stage::new(zone, TrustKind::Parent).obs(at(-3600))),
            &j,
            at(-3600),
            Mode::Apply,
        );
        apply_updates(&mut j, &base);
        for (id, action) in [
            ("lower_ttls", Action::LowerTtls { changes: vec![] }),
            (
                "lower_soa",
                match base.zones[0]
                    .steps
                    .iter()
                    .find(|s| s.id.ends_with("/lower_soa"))
                {
                    Some(s) => s.action.clone(),
                    None => panic!("no lower_soa in {base:?}"),
                },
            ),
        ] {
            record_step(&mut j, zone, &format!("{zone}/{id}"), action, t0(), None);
        }
        for s in &mut j.zones.get_mut(&zn(zone)).unwrap().steps {
            if let Some(o) = s.outcome.as_mut() {
                o.reconciled = true;
            }
        }
        let mut st = Stage::new(zone, TrustKind::Parent);
        st.ttls_lowered = true;
        let p = run(
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            Secs(30).after(t0()),
            Mode::Apply,
        );
        assert!(
            ready_kinds(&p).is_empty(),
            "30 s after reconciling: {:?}",
            ready_kinds(&p)
        );
        let margin = Safety::default().propagation_margin;
        let p = run(
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            margin.after(t0()),
            Mode::Apply,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::CreateKsk]);
    }

    #[test]
    fn half_finished_onboarding_reversed_needs_no_ds_wait() {
        // Signing on, the DS never published: destroy stops signing at once.
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let mut st = Stage::new(zone, TrustKind::Parent);
        st.ttls_lowered = true;
        st.ksk = Some(KskStatus::Active);
        st.signing = SigningStatus::Signing;
        let mut j = Journal::new("lineage-test");
        // The baseline as captured before lowering.
        let base = run(
            &d,
            &observed_one(zone, Stage::new(zone, TrustKind::Parent).obs(at(-3600))),
            &j,
            at(-3600),
            Mode::Apply,
        );
        apply_updates(&mut j, &base);
        let p = snap(
            "half_finished_reversed",
            &d,
            &observed_one(zone, st.obs(t0())),
            &j,
            t0(),
            Mode::Destroy,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::DisableSigning]);
        assert!(
            p.zones[0]
                .steps
                .iter()
                .all(|s| !s.id.ends_with("await_ds_gone"))
        );
        let restore = p.zones[0]
            .steps
            .iter()
            .find(|s| s.id.ends_with("restore_ttls"))
            .expect("restore");
        assert!(
            restore.changes.iter().any(|c| c.after == "86400"),
            "back to the baseline"
        );
    }

    pub(crate) fn domain_spec(name: &str, keys: Vec<RegistrarKeySpec>) -> DomainSpec {
        DomainSpec {
            name: zn(name),
            registrar_keys: keys,
            safety: Safety::default(),
            dns: DnsOverride::default(),
            line: 1,
        }
    }

    pub(crate) fn domain_obs(
        served: &[&str],
        at_registrar: &[&str],
        op_in_flight: bool,
        now: Timestamp,
    ) -> DomainObs {
        DomainObs {
            registrar: Some(RegistrarObs {
                keys: at_registrar
                    .iter()
                    .enumerate()
                    .map(|(i, k)| RegistrarKeyObs {
                        id: format!("reg-{i}"),
                        key: Dnskey::new(257, 13, k),
                        digest: None,
                    })
                    .collect(),
                operations: if op_in_flight {
                    vec![RegistrarOpObs {
                        id: "op-9".into(),
                        kind: "ADD_DNSSEC".into(),
                        status: OperationStatus::InProgress,
                        submitted_at: now,
                        message: None,
                    }]
                } else {
                    vec![]
                },
            }),
            live: LiveObs {
                // The TLD's servers answer, with no DS: an empty set would prove nothing.
                parent_servers: (0..2)
                    .map(|i| ServerObs {
                        server: format!("tld{i}.example-registry.net"),
                        seen_at: now,
                        result: Ok(ParentAnswer {
                            ds: vec![],
                            ds_ttl: None,
                            ns_ttl: Some(Ttl(172800)),
                            ds_signed: None,
                        }),
                    })
                    .collect(),
                zone_servers: (0..2)
                    .map(|i| ServerObs {
                        server: format!("ns{i}.dns-provider.example"),
                        seen_at: now,
                        result: Ok(ZoneAnswer {
                            dnskeys: served.iter().map(|k| Dnskey::new(257, 13, k)).collect(),
                            dnskey_ttl: Some(Ttl(3600)),
                            dnskey_signed: true,
                            data_signed: true,
                            ns_ttl: Some(Ttl(86400)),
                            problems: vec![],
                            denial_signed: Some(true),
                            dnskey_signers: served
                                .iter()
                                .filter_map(|k| Dnskey::new(257, 13, k).key_tag().ok())
                                .collect(),
                            signatures_expire_at: None,
                        }),
                    })
                    .collect(),
            },
        }
    }

    pub(crate) fn domain_observed(name: &str, o: DomainObs) -> Observed {
        let mut obs = Observed::default();
        obs.domains.insert(zn(name), o);
        obs
    }

    #[test]
    fn registrar_only_domain_adds_a_served_key() {
        let d = desired(
            vec![],
            vec![domain_spec("example.net", vec![RegistrarKeySpec::FromDns])],
        );
        let o = domain_observed("example.net", domain_obs(&[KEY_A], &[], false, t0()));
        let p = snap(
            "domain_add_key",
            &d,
            &o,
            &Journal::new("lineage-test"),
            t0(),
            Mode::Apply,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::AddRegistrarKey]);
    }

    #[test]
    fn registrar_only_domain_waits_for_the_key_to_be_served() {
        let d = desired(
            vec![],
            vec![domain_spec(
                "example.net",
                vec![RegistrarKeySpec::Key(Dnskey::new(257, 13, KEY_B))],
            )],
        );
        let o = domain_observed("example.net", domain_obs(&[KEY_A], &[], false, t0()));
        let p = snap(
            "domain_key_not_served",
            &d,
            &o,
            &Journal::new("lineage-test"),
            t0(),
            Mode::Apply,
        );
        assert!(ready_kinds(&p).is_empty());
    }

    #[test]
    fn registrar_only_domain_rotation_waits_the_deletion_delay() {
        let d = desired(
            vec![],
            vec![domain_spec(
                "example.net",
                vec![RegistrarKeySpec::Key(Dnskey::new(257, 13, KEY_B))],
            )],
        );
        let mut j = Journal::new("lineage-test");
        // The new key was first seen at the registrar just now.
        let o = domain_observed(
            "example.net",
            domain_obs(&[KEY_A, KEY_B], &[KEY_A, KEY_B], false, t0()),
        );
        let p = run(&d, &o, &j, t0(), Mode::Apply);
        apply_updates(&mut j, &p);
        assert!(ready_kinds(&p).is_empty(), "old key must wait 3 days");
        let later = Secs::days(3).after(t0());
        // Three days on, while no parent server serves the new key's DS, the old key stays:
        // its DS may be the only one resolvers can validate with.
        let p = run(&d, &o, &j, later, Mode::Apply);
        apply_updates(&mut j, &p);
        assert!(
            ready_kinds(&p).is_empty(),
            "old key must wait for the new DS at every parent server"
        );
        let mut o = o;
        let zone = ZoneName::parse("example.net").unwrap();
        let new_ds = Dnskey::new(257, 13, KEY_B)
            .to_ds(&zone, DigestType::Sha256)
            .unwrap();
        for s in &mut o.domains.get_mut(&zone).unwrap().live.parent_servers {
            if let Ok(a) = &mut s.result {
                a.ds = vec![new_ds.clone()];
                a.ds_ttl = Some(Ttl(86400));
                a.ds_signed = Some(true);
            }
        }
        let p = snap(
            "domain_rotation_after_delay",
            &d,
            &o,
            &j,
            later,
            Mode::Apply,
        );
        assert_eq!(ready_kinds(&p), vec![ActionKind::RemoveRegistrarKey]);
    }

    #[test]
    fn registrar_only_domain_one_operation_at_a_time() {
        let d = desired(
            vec![],
            vec![domain_spec("example.net", vec![RegistrarKeySpec::FromDns])],
        );
        let o = domain_observed("example.net", domain_obs(&[KEY_A], &[], true, t0()));
        let p = snap(
            "domain_op_in_flight",
            &d,
            &o,
            &Journal::new("lineage-test"),
            t0(),
            Mode::Apply,
        );
        assert!(ready_kinds(&p).is_empty());
    }

    #[test]
    fn registrar_only_domain_destroy_removes_keys_then_tells_when_to_stop_signing() {
        let d = desired(
            vec![],
            vec![domain_spec("example.net", vec![RegistrarKeySpec::FromDns])],
        );
        let mut j = Journal::new("lineage-test");
        let o = domain_observed("example.net", domain_obs(&[KEY_A], &[KEY_A], false, t0()));
        let p = snap("domain_destroy", &d, &o, &j, t0(), Mode::Destroy);
        assert_eq!(ready_kinds(&p), vec![ActionKind::RemoveRegistrarKey]);
        apply_updates(&mut j, &p);
        let o = domain_observed("example.net", domain_obs(&[KEY_A], &[], false, t0()));
        let p = run(&d, &o, &j, at(60), Mode::Destroy);
        apply_updates(&mut j, &p);
        assert!(
            ready_kinds(&p).is_empty(),
            "the DNS provider must keep signing for 3 days"
        );
        let p = run(&d, &o, &j, Secs::days(3).after(at(60)), Mode::Destroy);
        assert_eq!(ready_kinds(&p), vec![ActionKind::Manual]);
    }

    #[test]
    fn unsigned_zone_timeline_names_every_rule() {
        let zone = "app.example.com";
        let d = desired(vec![zone_spec(zone, TrustKind::Parent)], vec![]);
        let j = Journal::new("lineage-test");
        let p = run(
            &d,
            &observed_one(zone, Stage::new(zone, TrustKind::Parent).obs(t0())),
            &j,
            t0(),
            Mode::Apply,
        );
        let tl = plan::timeline(&p, &j);
        let last = tl.last().unwrap();
        // 14 d soak after signing, DS at every server, + 10 min + 2 d NS TTL, + 14 d soak.
        assert_eq!(
            last.earliest,
            Secs(14 * 86400 + 600 + 172_800 + 14 * 86400).after(t0())
        );
        for e in &tl {
            assert!(!e.rule.is_empty());
            if e.earliest > t0() {
                assert_ne!(e.rule, "now", "{e:?}");
            }
        }
    }
}

/// Every gate rule the planner can produce is in the README's gate table, and the table names
/// no rule the planner does not have: the rule ids are typed (`plan::Rule`), so this is the one
/// place the two could drift.
#[test]
fn readme_gate_table_lists_every_rule() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("| rule | kind | opens when |")
        .expect("the gate table");
    let table: String = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join(",");
    let documented: std::collections::BTreeSet<String> = table
        .split(',')
        .map(|s| s.trim().trim_matches('`').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let typed: std::collections::BTreeSet<String> = plan::Rule::ALL
        .iter()
        .map(|r| r.as_str().to_string())
        .collect();
    assert_eq!(documented, typed);
    for r in plan::Rule::ALL {
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, format!("\"{r}\""));
    }
}
