//! Seed 000 step 3 (optional), after the soak: lengthen the DS TTL at a Route 53 parent and put
//! the original record TTLs and SOA back (capped at one week for a signed zone). The restore
//! helpers are shared with destroy, which restores the baseline uncapped.

use std::collections::HashMap;

use crate::config::{Trust, ZoneSpec};
use crate::model::{Action, DsRecord, MAX_SIGNED_TTL, SoaChange, Ttl, TtlChange};
use crate::state::ParentObs;

use super::super::Phase;
use super::super::gates::{Draft, Rule, observable, time_gate};
use super::{Ctx, TRUSTED, same_set};

/// The finally steps, each gated on the soak after trust.
pub(super) fn finally(
    cx: &mut Ctx<'_>,
    spec: &ZoneSpec,
    drafts: &mut Vec<Draft>,
    ds_records: &[DsRecord],
    prepare_skipped: bool,
) {
    // Finally (seed 000 step 3, optional): lengthen the DS TTL, restore TTLs — after the soak.
    let soak = cx.safety.soak;
    let soak_gate = time_gate(
        Rule::TrustSoak,
        &cx.marks,
        cx.now,
        TRUSTED,
        soak,
        format!(
            "monitoring window {} after trust (seed 000: up to 2 weeks)",
            soak.human()
        ),
    );
    if let (
        Some(Trust::ParentZone {
            hosted_zone_id,
            parent,
            ds_ttl,
        }),
        ParentObs::ParentZone {
            ds,
            ds_ttl: api_ttl,
            ..
        },
    ) = (&spec.trust, &cx.obs.parent)
        && spec.finally.ds_ttl != *ds_ttl
    {
        let cur = api_ttl.unwrap_or(*ds_ttl);
        drafts.push(
            Draft::new(
                cx.id("raise_ds_ttl"),
                Phase::Finally,
                Action::RaiseDsTtl {
                    parent_hosted_zone_id: hosted_zone_id.clone(),
                    records: if ds.is_empty() { ds_records.to_vec() } else { ds.clone() },
                    from: cur,
                    to: spec.finally.ds_ttl,
                },
                "once trusted and soaked, a longer DS TTL eases the parent's load (seed 000 step 3: 1 hour)",
            )
            // Nothing to raise when the parent already holds the DS at the final TTL.
            .done(!ds.is_empty() && cur == spec.finally.ds_ttl)
            .change(format!("DS TTL of {} at {parent}", cx.name), cur.0, spec.finally.ds_ttl.0)
            // Only over the DS set the soak watched: while a new set is still to be published
            // (lowered first), raising would undo the lowering a minute later.
            .gate(soak_gate.clone())
            .gate(observable(
                Rule::DsPublished,
                !ds_records.is_empty() && same_set(ds, ds_records),
                "the parent holds exactly the DS of the active KSKs",
            )),
        );
    }
    if spec.finally.restore_ttls {
        let projected = (!prepare_skipped).then_some(spec.ttl_max);
        let restore = restore_changes(cx, true, projected);
        if !restore.is_empty() {
            let mut d = Draft::new(
                cx.id("restore_ttls"),
                Phase::Finally,
                Action::RestoreTtls {
                    changes: restore.clone(),
                },
                "the original TTLs back, capped at one week for a signed zone (seed 000 step 3)",
            )
            .gate(soak_gate.clone());
            for c in &restore {
                d = d.change(format!("ttl of {}", c.record), c.from.0, c.to.0);
            }
            drafts.push(d);
        }
        let projected = (!prepare_skipped).then_some((spec.soa_ttl, spec.soa_minimum));
        if let Some(change) = restore_soa_change(cx, true, projected) {
            drafts.push(
                Draft::new(
                    cx.id("restore_soa"),
                    Phase::Finally,
                    Action::RestoreSoa {
                        soa: change.clone(),
                    },
                    "the original SOA TTL and minimum back (seed 000 step 3: optional)",
                )
                .change("SOA ttl", change.ttl_from.0, change.ttl_to.0)
                .change("SOA minimum", change.minimum_from.0, change.minimum_to.0)
                .gate(soak_gate.clone()),
            );
        }
    }
}

/// Record TTL changes back to the baseline (capped at one week when `signed`). With
/// `projected_cap`, TTLs not lowered yet count as lowered to it (so an onboarding plan shows its
/// restore step from the start).
pub(super) fn restore_changes(
    cx: &Ctx<'_>,
    signed: bool,
    projected_cap: Option<Ttl>,
) -> Vec<TtlChange> {
    // Indexed once (a zone may hold tens of thousands of record sets): linear, not quadratic.
    let mut current: HashMap<(&str, &str, Option<&str>), Option<Ttl>> = HashMap::new();
    for r in &cx.hz.record_sets {
        current
            .entry((
                r.name.as_str(),
                r.rtype.as_str(),
                r.set_identifier.as_deref(),
            ))
            .or_insert(r.ttl);
    }
    let mut out = Vec::new();
    for b in &cx.baseline.record_ttls {
        let key = (
            b.record.name.as_str(),
            b.record.rtype.as_str(),
            b.record.set_identifier.as_deref(),
        );
        let Some(&Some(cur)) = current.get(&key) else {
            continue;
        };
        let cur = projected_cap.map_or(cur, |cap| cur.min(cap));
        let target = if signed {
            b.ttl.min(MAX_SIGNED_TTL)
        } else {
            b.ttl
        };
        // Only what the tool changed: TTLs now below their original.
        if cur < target {
            out.push(TtlChange {
                record: b.record.clone(),
                from: cur,
                to: target,
            });
        }
    }
    out
}

pub(super) fn restore_soa_change(
    cx: &Ctx<'_>,
    signed: bool,
    projected: Option<(Ttl, Ttl)>,
) -> Option<SoaChange> {
    let cap = |t: Ttl| if signed { t.min(MAX_SIGNED_TTL) } else { t };
    let (ttl, minimum) = (cap(cx.baseline.soa_ttl), cap(cx.baseline.soa_minimum));
    let mut soa = cx.hz.soa;
    if let Some((t, m)) = projected {
        soa.ttl = soa.ttl.min(t);
        soa.minimum = soa.minimum.min(m);
    }
    (soa.ttl < ttl || soa.minimum < minimum).then(|| SoaChange {
        ttl_from: soa.ttl,
        ttl_to: ttl.max(soa.ttl),
        minimum_from: soa.minimum,
        minimum_to: minimum.max(soa.minimum),
    })
}
