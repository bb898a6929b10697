//! Seed 000 step 1: lower every record set TTL above `ttl.max` and the SOA TTL and minimum, and
//! wait until the changes are INSYNC. Skipped once signing was reached (the unsigned answers those
//! TTLs bound are then already behind us) or in an emergency (a DS published over an unsigned zone:
//! signing comes back first).

use crate::config::ZoneSpec;
use crate::model::{Action, SoaChange, TtlChange};
use crate::state::Mark;

use super::super::gates::{Draft, Gate, Rule, observable};
use super::super::{Phase, Severity};
use super::{Ctx, PREPARE};

/// The prepare steps; returns whether the phase is skipped and the gate later steps wait on.
pub(super) fn prepare(
    cx: &mut Ctx<'_>,
    spec: &ZoneSpec,
    drafts: &mut Vec<Draft>,
    signing_reached: bool,
    emergency: bool,
) -> (bool, Gate) {
    let above_cap: Vec<TtlChange> = cx
        .hz
        .record_sets
        .iter()
        .filter_map(|r| {
            let ttl = r.ttl?;
            (ttl > spec.ttl_max).then(|| TtlChange {
                record: r.record_ref(),
                from: ttl,
                to: spec.ttl_max,
            })
        })
        .collect();
    let soa = cx.hz.soa;
    let soa_high = soa.ttl > spec.soa_ttl || soa.minimum > spec.soa_minimum;
    if !signing_reached && !emergency && (!above_cap.is_empty() || soa_high) {
        cx.clear_mark(Mark::PrepareInsync);
    }
    let (lower_insync, pending_changes) =
        cx.changes_insync(|a| matches!(a, Action::LowerTtls { .. } | Action::LowerSoa { .. }));
    if above_cap.is_empty() && !soa_high && lower_insync {
        cx.set_mark(Mark::PrepareInsync);
    }
    if emergency {
        cx.issue(
            Severity::Error,
            "PLAN005",
            format!("the parent publishes a DS for `{}` but the zone is not signed: validating resolvers get SERVFAIL", cx.name),
            "apply re-enables signing first (an active KSK is needed); or remove the DS at the parent",
        );
    }

    // Prepare (seed 000 step 1), skipped once signing was reached or in an emergency.
    let prepare_skipped = signing_reached || emergency;
    if !prepare_skipped {
        if !above_cap.is_empty() {
            let mut d = Draft::new(
                cx.id("lower_ttls"),
                Phase::Prepare,
                Action::LowerTtls {
                    changes: above_cap.clone(),
                },
                format!(
                    "{} record set(s) have a TTL above the onboarding cap {} (seed 000 step 1: lower the zone's maximum TTL)",
                    above_cap.len(),
                    spec.ttl_max.0
                ),
            );
            for c in &above_cap {
                d = d.change(format!("ttl of {}", c.record), c.from.0, c.to.0);
            }
            drafts.push(d.produces(PREPARE));
        } else if let Some(rec) = cx.done_in_journal(&cx.id("lower_ttls")) {
            drafts.push(
                Draft::new(
                    cx.id("lower_ttls"),
                    Phase::Prepare,
                    rec.action.clone(),
                    "record TTLs lowered to the cap",
                )
                .done(true),
            );
        }
        if soa_high {
            let change = SoaChange {
                ttl_from: soa.ttl,
                ttl_to: soa.ttl.min(spec.soa_ttl),
                minimum_from: soa.minimum,
                minimum_to: soa.minimum.min(spec.soa_minimum),
            };
            let d = Draft::new(
                cx.id("lower_soa"),
                Phase::Prepare,
                Action::LowerSoa { soa: change.clone() },
                "the SOA TTL and minimum bound how long resolvers keep negative answers (seed 000 step 1)",
            )
            .change("SOA ttl", change.ttl_from.0, change.ttl_to.0)
            .change("SOA minimum", change.minimum_from.0, change.minimum_to.0);
            drafts.push(d.produces(PREPARE));
        } else if let Some(rec) = cx.done_in_journal(&cx.id("lower_soa")) {
            drafts.push(
                Draft::new(
                    cx.id("lower_soa"),
                    Phase::Prepare,
                    rec.action.clone(),
                    "SOA lowered",
                )
                .done(true),
            );
        }
    }
    let prepare_gate = observable(
        Rule::PrepareInsync,
        prepare_skipped || cx.has(PREPARE),
        if pending_changes.is_empty() {
            "lowered TTLs and SOA INSYNC at every Route 53 server (GetChange)".to_string()
        } else {
            format!(
                "waiting for change(s) {} to be INSYNC (GetChange)",
                pending_changes.join(", ")
            )
        },
    );
    (prepare_skipped, prepare_gate)
}
