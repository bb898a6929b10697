//! Seed 000 step 3: publish the DS where the parent is (a Route 53 parent zone, Route 53 Domains
//! one key at a time, or an instruction for an outside registrar), once every wait before it has
//! passed (`publication_gates`); then "trust established" once the DS is at every parent server,
//! plus the propagation margin, plus the largest NS TTL (resolvers learn a DS with the delegation).

use crate::config::{Trust, ZoneSpec};
use crate::model::{Action, DsRecord, Secs, Ttl};
use crate::state::{KskObs, Mark, ParentObs};

use super::super::gates::{Draft, Gate, Rule, observable, time_gate};
use super::super::{Drift, Phase, Severity};
use super::{
    Ctx, DS_LOST, DS_SEEN, PREPARE, SIGNING, SIGNING_FAULT, TRUSTED, ds_target, fmt_ds, planned_ds,
    registrar_op_gate, same_set,
};

/// The longest a common validating resolver keeps an answer whatever its TTL (BIND 9's
/// `max-cache-ttl` default; Unbound's `cache-max-ttl` is one day).
const MAX_RESOLVER_CACHE_TTL: Ttl = Ttl(7 * 86_400);

/// The publication steps; returns the DS records of the active KSKs and whether every parent
/// server serves one of them.
pub(super) fn publish(
    cx: &mut Ctx<'_>,
    spec: &ZoneSpec,
    drafts: &mut Vec<Draft>,
    active: &[&KskObs],
) -> (Vec<DsRecord>, bool) {
    let mut ds_records: Vec<DsRecord> = active.iter().map(|k| k.ds.clone()).collect();
    ds_records.sort();
    ds_records.dedup();
    // Every active KSK's DS at every parent server: with two KSKs, trust waits for both.
    let ds_everywhere = !active.is_empty()
        && active.iter().all(|k| {
            cx.obs
                .live
                .ds_at_every_parent(|ds| cx.ksk_matches_ds(k, ds))
        });
    // A parent server that answered with a DS RRset lacking an active KSK's DS: the DS set
    // changed since it was seen everywhere (a positive observation; a silent server is not one).
    let ds_changed = cx.obs.live.parent_servers.iter().any(|s| {
        matches!(&s.result, Ok(a) if !a.ds.is_empty()
            && !active.iter().all(|k| a.ds.iter().any(|ds| cx.ksk_matches_ds(k, ds))))
    });
    // The parent API (a Route 53 parent) holds another DS set than the active KSKs': the set is
    // about to change, and so is the chain of trust resolvers will validate with.
    let api_changed =
        !cx.api_ds().is_empty() && !ds_records.is_empty() && !same_set(cx.api_ds(), &ds_records);
    if ds_everywhere && !api_changed {
        cx.set_mark(Mark::DsSeenEverywhere);
    } else if cx.has(DS_SEEN) && cx.any_ds() && (ds_changed || api_changed) {
        // Seed 000 step 3 monitors the chain of trust that is published: a new DS set is a new
        // chain, so its waits and its soak start again once it is at every parent server.
        cx.drift.push(Drift {
            subject: format!("DS of {}", cx.name),
            expected: fmt_ds(cx.name, &ds_records),
            observed: if api_changed {
                format!("{} in the parent zone", fmt_ds(cx.name, cx.api_ds()))
            } else {
                "a DS set without every active KSK's DS at some parent server".into()
            },
            reason: "the DS set changed since it was seen everywhere; trust and the soak restart once every parent server serves the new set".into(),
        });
        cx.clear_mark(Mark::DsSeenEverywhere);
        cx.clear_mark(Mark::TrustEstablished);
    } else if cx.has(DS_SEEN) && !cx.any_ds() {
        cx.drift.push(Drift {
            subject: format!("DS of {}", cx.name),
            expected: fmt_ds(cx.name, &ds_records),
            observed: "none at any parent server".into(),
            reason: "the DS was removed outside dnssec-pilot; apply publishes it again".into(),
        });
        cx.clear_mark(Mark::DsSeenEverywhere);
        cx.clear_mark(Mark::TrustEstablished);
        cx.clear_mark(Mark::DsLost);
        cx.set_mark(Mark::DsLost);
    }
    // A DS at the parent that matches no active KSK.
    let stray: Vec<DsRecord> = cx
        .api_ds()
        .iter()
        .filter(|ds| !active.iter().any(|k| cx.ksk_matches_ds(k, ds)))
        .cloned()
        .collect();
    if !stray.is_empty() {
        cx.drift.push(Drift {
            subject: format!("DS of {} at the parent", cx.name),
            expected: fmt_ds(cx.name, &ds_records),
            observed: fmt_ds(cx.name, &stray),
            reason: "a DS matches no active KSK; the DS RRset is replaced".into(),
        });
    }

    let publish_gates = publication_gates(cx, spec, active);
    let target = ds_target(spec);
    match (&spec.trust, &cx.obs.parent) {
        (
            Some(Trust::ParentZone {
                ds_ttl,
                parent,
                hosted_zone_id,
            }),
            parent_obs,
        ) => {
            let (api_ds, api_ttl) = match parent_obs {
                ParentObs::ParentZone { ds, ds_ttl, .. } => (ds.clone(), *ds_ttl),
                _ => (Vec::new(), None),
            };
            if !matches!(parent_obs, ParentObs::ParentZone { .. }) {
                cx.issue(
                    Severity::Error,
                    "PLAN007",
                    format!("the parent hosted zone `{hosted_zone_id}` ({parent}) was not observed"),
                    "check that the parent hosted zone id is right and readable with these credentials",
                );
            }
            let published = !ds_records.is_empty() && same_set(&api_ds, &ds_records);
            // Lowering first only helps a DS that is ours; a stray DS is replaced at once.
            let ours = api_ds
                .iter()
                .any(|ds| active.iter().any(|k| cx.ksk_matches_ds(k, ds)));
            if let Some(t) = api_ttl.filter(|t| ours && t > ds_ttl && !published) {
                drafts.push(
                    Draft::new(
                        cx.id("lower_parent_ds_ttl"),
                        Phase::Trust,
                        Action::LowerParentDsTtl {
                            parent_hosted_zone_id: hosted_zone_id.clone(),
                            records: api_ds.clone(),
                            from: t,
                            to: *ds_ttl,
                        },
                        "a low DS TTL makes a rollback fast (seed 000 step 3: 5 minutes)",
                    )
                    .change(
                        format!("DS TTL of {} at {parent}", cx.name),
                        t.0,
                        ds_ttl.0,
                    ),
                );
            }
            let d = Draft::new(
                cx.id("publish_ds"),
                Phase::Trust,
                Action::PublishDs {
                    target: target.clone(),
                    records: ds_records.clone(),
                    ttl: *ds_ttl,
                },
                format!("the DS in the parent zone {parent} makes validating resolvers trust the zone (seed 000 step 3)"),
            )
            .done(published)
            .change(format!("DS of {} at {parent}", cx.name), fmt_ds(cx.name, &api_ds), planned_ds(cx.name, &ds_records, spec))
            .gates(publish_gates)
            .produces(DS_SEEN);
            drafts.push(d);
        }
        (Some(Trust::Route53Domains), parent_obs) => {
            if !matches!(parent_obs, ParentObs::Registrar(_)) {
                cx.issue(
                    Severity::Error,
                    "PLAN008",
                    format!("Route 53 Domains does not know `{}`", cx.name),
                    "register or transfer the domain to Route 53 Domains, or use `registrar: external`",
                );
            }
            let reg_keys = cx.registrar_keys().into_iter().cloned().collect::<Vec<_>>();
            let limit = crate::config::registrar_key_limit(cx.name);
            let to_add: Vec<&KskObs> = active
                .iter()
                .copied()
                .filter(|k| {
                    !reg_keys.iter().any(|r| {
                        r.key.public_key == k.dnskey.public_key
                            && r.key.algorithm == k.dnskey.algorithm
                    })
                })
                .collect();
            if reg_keys.len() + to_add.len() > limit {
                cx.issue(
                    Severity::Error,
                    "PLAN009",
                    format!(
                        "`{}` would hold {} keys at the registrar; the .{} limit is {limit}",
                        cx.name,
                        reg_keys.len() + to_add.len(),
                        cx.name.tld()
                    ),
                    "remove unused keys at the registrar first (seed 003)",
                );
            }
            let op_gate = registrar_op_gate(cx);
            for k in active {
                let present = reg_keys.iter().any(|r| {
                    r.key.public_key == k.dnskey.public_key && r.key.algorithm == k.dnskey.algorithm
                });
                drafts.push(
                    Draft::new(
                        cx.id(&format!("add_registrar_key/{}", k.name)),
                        Phase::Trust,
                        Action::AddRegistrarKey {
                            domain: cx.name.clone(),
                            key: k.dnskey.clone(),
                        },
                        "Route 53 Domains sends the key to the registry, which publishes the DS (seed 003: one key at a time)",
                    )
                    .done(present)
                    .change(format!("registrar key {} (key tag {})", k.name, k.key_tag), "absent", "present")
                    .gates(publish_gates.clone())
                    .gate(op_gate.clone())
                    .produces(DS_SEEN),
                );
            }
            if active.is_empty() {
                drafts.push(
                    Draft::new(
                        cx.id("add_registrar_key"),
                        Phase::Trust,
                        Action::AddRegistrarKey {
                            domain: cx.name.clone(),
                            key: crate::model::Dnskey::new(257, 13, ""),
                        },
                        "the KSK's public key goes to the registrar once the KSK exists",
                    )
                    .gates(publish_gates.clone())
                    .produces(DS_SEEN),
                );
            }
            let remaining_sign = !active.is_empty()
                && active
                    .iter()
                    .all(|k| cx.obs.live.key_signs_at_every_zone_server(&k.dnskey));
            let delay = cx.safety.registrar_key_deletion_delay;
            for r in reg_keys.iter().filter(|r| {
                !active
                    .iter()
                    .any(|k| k.dnskey.public_key == r.key.public_key)
            }) {
                if active.is_empty() {
                    break;
                }
                drafts.push(
                    Draft::new(
                        cx.id(&format!(
                            "remove_registrar_key/{}",
                            r.key.key_tag().unwrap_or(0)
                        )),
                        Phase::Trust,
                        Action::RemoveRegistrarKey {
                            domain: cx.name.clone(),
                            key: r.key.clone(),
                        },
                        "this registrar key matches no active KSK of the zone (seed 003 rotation: delete the old key once the new one has been published long enough)",
                    )
                    .change(format!("registrar key id {}", r.id), "present", "absent")
                    .gate(observable(
                        Rule::RemainingKeysSign,
                        remaining_sign,
                        "every active KSK that stays signs the DNSKEY RRset at every zone server (a DS must point at a key that signs)",
                    ))
                    .gate(observable(
                        Rule::RemainingDsAtEveryParentServer,
                        ds_everywhere,
                        "every parent server serves the DS of every active KSK",
                    ))
                    .gate(time_gate(
                        Rule::RegistrarKeyDeletionDelay,
                        &cx.marks,
                        cx.now,
                        DS_SEEN,
                        delay,
                        format!(
                            "the remaining DS published for {} (seed 003: up to three days after the new key)",
                            delay.human()
                        ),
                    ))
                    .gate(op_gate.clone()),
                );
            }
        }
        (Some(Trust::External), _) | (None, _) => {
            let id = cx.id("publish_ds");
            let lost_at = cx.marks.get(DS_LOST);
            let shown = cx
                .done_in_journal(&id)
                .is_some_and(|r| lost_at.is_none_or(|l| r.intent_at >= l));
            let instruction = format!(
                "At the registrar of `{}`, publish this DS record (TTL 300 if the registrar lets you choose): {}. dnssec-pilot waits until every parent server serves it.",
                cx.name,
                fmt_ds(cx.name, &ds_records)
            );
            drafts.push(
                Draft::new(
                    id,
                    Phase::Trust,
                    Action::Manual { instruction },
                    "the parent is run by another registrar: a person publishes the DS (seed 000 step 3)",
                )
                .done(shown || ds_everywhere)
                .change(format!("DS of {} at the parent", cx.name), "none", planned_ds(cx.name, &ds_records, spec))
                .gates(publish_gates)
                .produces(DS_SEEN),
            );
        }
    }
    (ds_records, ds_everywhere)
}

/// The `await_trust` milestone: the DS at every parent server, the margin, the NS TTLs.
pub(super) fn await_trust(
    cx: &mut Ctx<'_>,
    drafts: &mut Vec<Draft>,
    active: &[&KskObs],
    ds_everywhere: bool,
) {
    // Trust established: the DS at every parent server, verifying, the margin, then the NS TTLs.
    let ds_verified = cx.obs.live.ds_verified_at_every_parent();
    let unverified: Vec<String> = cx
        .obs
        .live
        .ds_unverified_servers()
        .into_iter()
        .map(String::from)
        .collect();
    if !unverified.is_empty() {
        cx.issue(
            Severity::Warning,
            "PLAN016",
            format!(
                "the DS RRset of `{}` does not verify at parent server(s) {}: validating resolvers cannot build a chain of trust to the zone",
                cx.name,
                unverified.join(", ")
            ),
            "an unsigned parent cannot vouch for a DS: sign the parent zone (or ask its operator to); a DS RRset with a bad RRSIG is the parent's fault: tell its operator",
        );
    }
    let max_ns = max_ns_ttl(cx);
    let margin = cx.safety.propagation_margin;
    let seen_count = cx
        .obs
        .live
        .parent_servers
        .iter()
        .filter(|s| matches!(&s.result, Ok(a) if a.ds.iter().any(|ds| active.iter().any(|k| cx.ksk_matches_ds(k, ds)))))
        .count();
    let mut await_trust = Draft::new(
        cx.id("await_trust"),
        Phase::Trust,
        Action::Await {
            milestone: "trust established".into(),
        },
        "resolvers see the DS only after their cached delegation NS expires (seed 000 step 3)",
    )
    .gate(observable(
        Rule::DsAtEveryParentServer,
        ds_everywhere || cx.has(TRUSTED),
        format!(
            "{seen_count} of {} parent server(s) serve a DS matching an active KSK",
            cx.obs.live.parent_servers.len()
        ),
    ))
    .gate(time_gate(
        Rule::DsPropagationMargin,
        &cx.marks,
        cx.now,
        DS_SEEN,
        margin,
        format!("propagation margin {}", margin.human()),
    ))
    .gate(time_gate(
        Rule::MaxNsTtl,
        &cx.marks,
        cx.now,
        DS_SEEN,
        Secs(margin.0 + u64::from(max_ns.0.0)),
        format!("margin + max NS TTL {} s ({})", max_ns.0.0, max_ns.1),
    ))
    .gate(observable(
        Rule::DsValidatesAtEveryParentServer,
        ds_verified || cx.has(TRUSTED),
        if unverified.is_empty() {
            "the DS RRset's signature verifies with the parent's DNSKEY at every parent server (RFC 4035 §5.2)".to_string()
        } else {
            format!(
                "the DS RRset does not verify at {} (no RRSIG: an unsigned parent; or a bad one)",
                unverified.join(", ")
            )
        },
    ))
    .produces(TRUSTED);
    // A zone trusted before the tool first looked, whose DS the tool never asked for, is
    // adopted as trusted: there is no delegation change for resolvers to catch up with.
    let adopted = cx.baseline.was_trusted
        && ds_everywhere
        && ds_verified
        && !cx.zj.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::PublishDs { .. } | Action::AddRegistrarKey { .. } | Action::Manual { .. }
            )
        });
    if cx.has(TRUSTED) {
        await_trust = await_trust.done(true);
    } else if (adopted || await_trust.all_open())
        && drafts
            .iter()
            .all(|d| d.done || matches!(d.action, Action::RemoveRegistrarKey { .. }))
    {
        // Trust dates from when its gates opened (the DS seen everywhere + margin + NS TTLs),
        // not from the run that happened to look; after a signing fault, from the first run
        // that saw the zone healthy again (the soak restarts).
        let opened = if adopted || cx.has(SIGNING_FAULT) {
            cx.now
        } else {
            super::super::gates::not_before(&await_trust.gates).unwrap_or(cx.now)
        };
        cx.set_mark_at(Mark::TrustEstablished, opened);
        cx.clear_mark(Mark::SigningFault);
        await_trust = await_trust.done(true);
    }
    drafts.push(await_trust);
}

/// Gates before the DS may be published (seed 000 step 2 waits, tightened).
fn publication_gates(cx: &Ctx<'_>, spec: &ZoneSpec, active: &[&KskObs]) -> Vec<Gate> {
    let mut g = Vec::new();
    let signing = cx.signing();
    g.push(observable(
        Rule::SigningInsync,
        signing && cx.has(SIGNING),
        "signing enabled and INSYNC at every Route 53 server (GetChange)",
    ));
    let served = !active.is_empty()
        && active
            .iter()
            .all(|k| cx.obs.live.key_signs_at_every_zone_server(&k.dnskey));
    let answering = cx
        .obs
        .live
        .zone_servers
        .iter()
        .filter(|s| s.result.is_ok())
        .count();
    g.push(observable(
        Rule::ZoneSignedEverywhere,
        served,
        format!(
            "every zone server serves the KSK's DNSKEY and the KSK's own signature over the DNSKEY RRset verifies ({answering} of {} answered)",
            cx.obs.live.zone_servers.len()
        ),
    ));
    if !cx.baseline.was_signing {
        // Unsigned answers cached before signing outlive it by their TTL.
        let lowered_max = cx
            .zj
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::LowerTtls { changes } => changes.iter().map(|c| c.from).max(),
                Action::LowerSoa { soa } => Some(soa.ttl_from.max(soa.minimum_from)),
                _ => None,
            })
            .max()
            .unwrap_or_default();
        let old_max = cx
            .baseline
            .max_ttl
            .max(lowered_max)
            .max(cx.baseline.soa_minimum);
        g.push(time_gate(
            Rule::UnsignedCacheFlush,
            &cx.marks,
            cx.now,
            PREPARE,
            old_max.secs(),
            format!(
                "old max TTL {} s of {}, lowered",
                old_max.0, cx.baseline.max_ttl_record
            ),
        ));
    } else if !cx.baseline.was_trusted {
        // Signing before the journal began (a lost journal): the TTLs the zone had before they
        // were lowered are unknown, so unsigned answers may be cached as long as any common
        // resolver keeps an answer (BIND's max-cache-ttl, one week), counted from when signing
        // was first seen.
        let old_max = cx.baseline.max_ttl.max(MAX_RESOLVER_CACHE_TTL);
        g.push(time_gate(
            Rule::UnsignedCacheFlush,
            &cx.marks,
            cx.now,
            SIGNING,
            old_max.secs(),
            format!(
                "the zone was signing before the journal began: the TTLs it had before are unknown, so {} s (the longest a common resolver caches) is assumed",
                old_max.0
            ),
        ));
    }
    let new_max = cx.hz.max_ttl().max(cx.hz.soa.minimum);
    g.push(time_gate(
        Rule::SignedCacheFill,
        &cx.marks,
        cx.now,
        SIGNING,
        new_max.secs(),
        format!("new max TTL {} s", new_max.0),
    ));
    g.push(time_gate(
        Rule::SigningSoak,
        &cx.marks,
        cx.now,
        SIGNING,
        spec.safety.soak,
        format!(
            "monitoring window {} after signing (seed 000: 2 weeks)",
            spec.safety.soak.human()
        ),
    ));
    g
}

/// `max(delegation NS TTL, in-zone NS TTL)` with where each came from.
fn max_ns_ttl(cx: &Ctx<'_>) -> (Ttl, String) {
    let delegation = [
        cx.obs.live.max_delegation_ns_ttl(),
        match &cx.obs.parent {
            ParentObs::ParentZone { ns_ttl, .. } => *ns_ttl,
            _ => None,
        },
    ]
    .into_iter()
    .flatten()
    .max();
    let in_zone = [cx.obs.live.max_zone_ns_ttl(), cx.hz.apex_ns_ttl(cx.name)]
        .into_iter()
        .flatten()
        .max();
    let m = delegation
        .unwrap_or_default()
        .max(in_zone.unwrap_or_default());
    let fmt = |t: Option<Ttl>| t.map_or_else(|| "unknown".to_string(), |t| format!("{} s", t.0));
    (
        m,
        format!(
            "delegation NS TTL {}, in-zone NS TTL {}",
            fmt(delegation),
            fmt(in_zone)
        ),
    )
}
