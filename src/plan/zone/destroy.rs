//! Destroy (seed 000 rollbacks in reverse, seed 003 deletion rules): the DS and registrar keys go
//! first; signing stops only once no DS can be served or cached anywhere (an unanswered server,
//! a registrar operation still running or an unknown history never counts as gone); then the KSKs
//! are deactivated and deleted; then the baseline TTLs and SOA come back.

use crate::config::Trust;
use crate::model::{Action, DsTarget, Secs, Ttl};
use crate::state::{KskStatus, Mark, ParentObs, SigningStatus};

use super::super::gates::{Draft, Rule, observable, time_gate};
use super::super::{Phase, Severity};
use super::finally::{restore_changes, restore_soa_change};
use super::{Ctx, DS_GONE, DS_SEEN, UNSEEN_DS_TTL, fmt_ds, registrar_op_gate, status_str};

/// True when a DS publication was asked of the registrar (a registrar key added, or the manual
/// `publish_ds` instruction shown for an outside registrar) after the DS was last seen at every
/// parent server, or when it never was: the registry may still publish it.
fn publication_unseen(cx: &Ctx<'_>) -> bool {
    let last_request = cx
        .zj
        .steps
        .iter()
        .filter(|s| match &s.action {
            Action::AddRegistrarKey { .. } => true,
            Action::Manual { .. } => s.step_id.ends_with("/publish_ds"),
            _ => false,
        })
        .map(|s| s.intent_at)
        .max();
    match (last_request, cx.marks.get(DS_SEEN)) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(asked), Some(seen)) => seen < asked,
    }
}

/// Seed 000 rollback, seed 003 deletion rules: DS out, wait until no resolver can hold it, only
/// then stop signing; then the KSKs; then the baseline.
pub(super) fn destroy(cx: &mut Ctx<'_>) -> Vec<Draft> {
    let mut drafts = Vec::new();
    untrust(cx, &mut drafts);
    unsign(cx, &mut drafts);
    restore(cx, &mut drafts);
    drafts
}

/// Seed 000 step 3 rollback: the DS (and registrar keys) out of the parent, then the wait until
/// no resolver can hold it (`await_ds_gone`). Destroy's first phase, and the whole of a DS
/// withdrawal (`trust.ds: absent`), after which the zone stays signed.
pub(super) fn untrust(cx: &mut Ctx<'_>, drafts: &mut Vec<Draft>) {
    let api_ds = cx.api_ds().to_vec();
    let reg_keys: Vec<_> = cx.registrar_keys().into_iter().cloned().collect();
    let live_any = cx.obs.live.any_parent_ds();
    let external = matches!(cx.obs.parent, ParentObs::Unknown);
    let is_registrar = matches!(cx.obs.parent, ParentObs::Registrar(_))
        || matches!(
            cx.spec.and_then(|s| s.trust.as_ref()),
            Some(Trust::Route53Domains)
        );

    // A zone already signing when the journal first saw it (a lost journal, or one started
    // afresh): whether a DS was published, and with which TTL, is unknown — assume one was.
    let history_unknown = cx.baseline.was_signing;
    // Was a DS ever in play? Then no resolver may hold it when signing stops.
    let ds_ever = history_unknown
        || cx.zj.max_ds_ttl_seen.is_some()
        || cx.has(DS_SEEN)
        || cx.zj.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::PublishDs { .. } | Action::AddRegistrarKey { .. } | Action::Manual { .. }
            )
        })
        || cx.any_ds();
    let gone_now = !cx.ds_possible();
    if ds_ever {
        if gone_now {
            cx.set_mark(Mark::DsGoneEverywhere);
        } else {
            cx.clear_mark(Mark::DsGoneEverywhere);
        }
    }

    // Untrust.
    if let ParentObs::ParentZone {
        hosted_zone_id,
        ds_ttl,
        ..
    } = &cx.obs.parent
    {
        let parent = cx
            .spec
            .and_then(|s| match &s.trust {
                Some(Trust::ParentZone { parent, .. }) => Some(parent.clone()),
                _ => None,
            })
            .or_else(|| cx.name.parent())
            .unwrap_or_else(|| cx.name.clone());
        if !api_ds.is_empty() {
            drafts.push(
                Draft::new(
                    cx.id("remove_ds"),
                    Phase::Untrust,
                    Action::RemoveDs {
                        target: DsTarget::ParentZone {
                            hosted_zone_id: hosted_zone_id.clone(),
                            parent: parent.clone(),
                        },
                        records: api_ds.clone(),
                        ttl: ds_ttl.unwrap_or_default(),
                    },
                    "the DS goes first: without it resolvers stop validating the zone (seed 000 step 3 rollback)",
                )
                .change(format!("DS of {} at {parent}", cx.name), fmt_ds(cx.name, &api_ds), "none"),
            );
        } else if let Some(rec) = cx.done_in_journal(&cx.id("remove_ds")) {
            drafts.push(
                Draft::new(
                    cx.id("remove_ds"),
                    Phase::Untrust,
                    rec.action.clone(),
                    "DS removed from the parent",
                )
                .done(true),
            );
        }
    }
    if !reg_keys.is_empty() {
        let op_gate = registrar_op_gate(cx);
        for r in &reg_keys {
            drafts.push(
                Draft::new(
                    cx.id(&format!("remove_registrar_key/{}", r.key.key_tag().unwrap_or(0))),
                    Phase::Untrust,
                    Action::RemoveRegistrarKey {
                        domain: cx.name.clone(),
                        key: r.key.clone(),
                    },
                    "registrar keys go before signing stops (seed 003: delete keys first, one at a time)",
                )
                .change(format!("registrar key id {}", r.id), "present", "absent")
                .gate(op_gate.clone()),
            );
        }
    }
    if external
        && (live_any
            || cx
                .zj
                .steps
                .iter()
                .any(|s| matches!(s.action, Action::Manual { .. }))
            || cx.has(DS_SEEN))
    {
        let id = cx.id("remove_ds");
        let shown = cx.done_in_journal(&id).is_some();
        drafts.push(
            Draft::new(
                id,
                Phase::Untrust,
                Action::Manual {
                    instruction: format!(
                        "At the registrar of `{}`, remove every DS record of the zone. dnssec-pilot waits until no parent server serves one, then for the DS TTL, before it stops signing.",
                        cx.name
                    ),
                },
                "the parent is run by another registrar: a person removes the DS",
            )
            .done(shown)
            .change(format!("DS of {} at the parent", cx.name), "present", "none"),
        );
    }
    if ds_ever {
        // Registries and outside registrars act on their own schedule (seed 003: up to three days):
        // a DS asked for may still appear, so signing is held that long as well.
        let slow_parent = is_registrar || external;
        let reg_delay = if slow_parent {
            cx.safety.registrar_key_deletion_delay
        } else {
            Secs(0)
        };
        // A publication asked of a slow parent and not yet seen at every parent server may still
        // happen, and be undone, while no observation looks: the DS can then be served until the
        // registrar delay after the removal and cached for its TTL after that. The delay and the
        // TTL add up; a DS never seen has an unknown TTL and is assumed to have `UNSEEN_DS_TTL`.
        // With an unknown history the removal may have been asked moments before the journal
        // was lost: the worst case is the same as a publication never seen.
        let pending = slow_parent && (publication_unseen(cx) || history_unknown);
        let ttl = match cx.zj.max_ds_ttl_seen {
            Some(t) => t,
            None if pending || history_unknown => UNSEEN_DS_TTL,
            None => Ttl(0),
        };
        let hold = if pending {
            Secs(u64::from(ttl.0) + reg_delay.0 + cx.safety.propagation_margin.0)
        } else {
            Secs(u64::from(ttl.0).max(reg_delay.0) + cx.safety.propagation_margin.0)
        };
        let parents = cx.obs.live.parent_servers.len();
        let clean = cx
            .obs
            .live
            .parent_servers
            .iter()
            .filter(|s| matches!(&s.result, Ok(a) if a.ds.is_empty()))
            .count();
        let mut d = Draft::new(
            cx.id("await_ds_gone"),
            Phase::Untrust,
            Action::Await {
                milestone: "no resolver can hold the DS".into(),
            },
            "a cached DS with no signed zone behind it is a SERVFAIL for every validating resolver",
        )
        .gate(observable(
            Rule::DsGoneEverywhere,
            gone_now,
            format!(
                "{clean} of {parents} parent server(s) answered with no DS; parent API and registrar hold {}{}",
                api_ds.len() + reg_keys.len(),
                match cx.registrar_op_in_flight() {
                    Some(op) => format!("; registrar operation {} ({}) is still running", op.id, op.kind),
                    None => String::new(),
                }
            ),
        ))
        .gate(time_gate(
            Rule::DsCacheExpiry,
            &cx.marks,
            cx.now,
            DS_GONE,
            hold,
            if pending {
                format!(
                    "registrar delay {} + DS TTL {} s{} + margin {} (a DS asked for was never seen at every parent server: it may still come and go)",
                    reg_delay.human(),
                    ttl.0,
                    if cx.zj.max_ds_ttl_seen.is_none() { " (assumed)" } else { "" },
                    cx.safety.propagation_margin.human()
                )
            } else {
                format!(
                    "max(DS TTL {} s{}{}) + margin {}",
                    ttl.0,
                    if history_unknown && cx.zj.max_ds_ttl_seen.is_none() { " (assumed: the zone was signed before the journal began)" } else { "" },
                    if slow_parent { format!(", registrar delay {}", reg_delay.human()) } else { String::new() },
                    cx.safety.propagation_margin.human()
                )
            },
        ))
        .produces(DS_GONE);
        if d.all_open() {
            d = d.done(true);
        }
        drafts.push(d);
    }
}

/// Seed 000 step 2 rollback: signing stops once no DS can be served or cached, then the KSKs go.
fn unsign(cx: &mut Ctx<'_>, drafts: &mut Vec<Draft>) {
    let signing_on = !matches!(cx.obs.dnssec.status, SigningStatus::NotSigning);
    let reg_keys: Vec<_> = cx.registrar_keys().into_iter().cloned().collect();
    let no_ds = observable(
        Rule::NoDsAnywhere,
        !cx.ds_possible(),
        "every parent server answered with no DS, and no parent API, registrar key or registrar operation holds one",
    );
    let (disable_insync, disable_pending) =
        cx.changes_insync(|a| matches!(a, Action::DisableSigning));
    if !signing_on && disable_insync {
        cx.set_mark(Mark::SigningDisabledInsync);
        cx.clear_mark(Mark::SigningInsync);
    }
    if signing_on {
        drafts.push(
            Draft::new(
                cx.id("disable_signing"),
                Phase::Unsign,
                Action::DisableSigning,
                "signing stops only once no resolver can hold a DS (seed 000 step 2 rollback)",
            )
            .change("signing", status_str(cx.obs.dnssec.status), "NOT_SIGNING")
            .gate(no_ds.clone()),
        );
    } else if let Some(rec) = cx.done_in_journal(&cx.id("disable_signing")) {
        drafts.push(
            Draft::new(
                cx.id("disable_signing"),
                Phase::Unsign,
                rec.action.clone(),
                "signing disabled",
            )
            .done(true),
        );
    }
    for k in &cx.obs.dnssec.ksks {
        let referenced = cx.api_ds().iter().any(|ds| cx.ksk_matches_ds(k, ds))
            || cx.obs.live.parent_servers.iter().any(
                |s| matches!(&s.result, Ok(a) if a.ds.iter().any(|ds| cx.ksk_matches_ds(k, ds))),
            )
            || reg_keys
                .iter()
                .any(|r| r.key.public_key == k.dnskey.public_key);
        // Not observed is never absent: a parent server that did not answer, or a registrar
        // operation still running (an ADD may yet publish this key's DS), may reference the key;
        // deleting it would leave no key to re-sign with if that DS appears.
        let unobserved = cx.obs.live.parent_servers.is_empty()
            || cx.obs.live.parent_servers.iter().any(|s| s.result.is_err())
            || cx.registrar_op_in_flight().is_some();
        let ref_gate = observable(
            Rule::NoDsReferencesKey,
            !referenced && !unobserved,
            if unobserved && !referenced {
                format!(
                    "no DS seen referencing KSK `{}` (key tag {}), but a parent server did not answer or a registrar operation is still running",
                    k.name, k.key_tag
                )
            } else {
                format!("no DS references KSK `{}` (key tag {})", k.name, k.key_tag)
            },
        );
        // Off in GetDNSSEC is not yet off at every Route 53 server: the KSK goes only once the
        // DisableHostedZoneDNSSEC change is INSYNC (its DNSKEY's cache time is dated from then).
        let signing_off = observable(
            Rule::SigningDisabled,
            !signing_on && disable_insync,
            if signing_on || disable_pending.is_empty() {
                "Route 53 no longer signs the zone".to_string()
            } else {
                format!(
                    "Route 53 reports signing off, but the change that disabled it is not INSYNC yet: {}",
                    disable_pending.join(", ")
                )
            },
        );
        if k.status == KskStatus::Active {
            drafts.push(
                Draft::new(
                    cx.id(&format!("deactivate_ksk/{}", k.name)),
                    Phase::Unsign,
                    Action::DeactivateKsk {
                        name: k.name.clone(),
                    },
                    "a KSK must be INACTIVE before it can be deleted",
                )
                .change(format!("KSK {}", k.name), "ACTIVE", "INACTIVE")
                .gate(signing_off.clone())
                .gate(ref_gate.clone()),
            );
        }
        if k.status != KskStatus::Deleting {
            drafts.push(
                Draft::new(
                    cx.id(&format!("delete_ksk/{}", k.name)),
                    Phase::Unsign,
                    Action::DeleteKsk {
                        name: k.name.clone(),
                    },
                    "the KSK is no longer needed (its KMS key stays: delete it in KMS if wanted)",
                )
                .change(
                    format!("KSK {}", k.name),
                    format!("{:?}", k.status).to_uppercase(),
                    "absent",
                )
                .gate(signing_off)
                .gate(ref_gate),
            );
        }
    }
}

/// Seed 000 step 1 rollback: the baseline TTLs and SOA back.
fn restore(cx: &mut Ctx<'_>, drafts: &mut Vec<Draft>) {
    let restore = restore_changes(cx, false, None);
    if !restore.is_empty() {
        let mut d = Draft::new(
            cx.id("restore_ttls"),
            Phase::Restore,
            Action::RestoreTtls {
                changes: restore.clone(),
            },
            "the original TTLs back (journal baseline)",
        );
        for c in &restore {
            d = d.change(format!("ttl of {}", c.record), c.from.0, c.to.0);
        }
        drafts.push(d);
    }
    if let Some(change) = restore_soa_change(cx, false, None) {
        drafts.push(
            Draft::new(
                cx.id("restore_soa"),
                Phase::Restore,
                Action::RestoreSoa {
                    soa: change.clone(),
                },
                "the original SOA TTL and minimum back (journal baseline)",
            )
            .change("SOA ttl", change.ttl_from.0, change.ttl_to.0)
            .change("SOA minimum", change.minimum_from.0, change.minimum_to.0),
        );
    }
    if cx.zj.baseline.is_none() && !cx.zj.steps.is_empty() {
        cx.issue(
            Severity::Warning,
            "PLAN012",
            format!("the journal holds no baseline for `{}`", cx.name),
            "TTLs and SOA are restored to what was observed first; check them by hand",
        );
    }
}
