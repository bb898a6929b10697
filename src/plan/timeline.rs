//! `plan --timeline`: the earliest instant each remaining step can run if every observable gate
//! opens the moment its step's predecessor is done and every time gate opens as soon as its rule
//! allows. Computed by projecting the marks each step produces forward in time.

use serde::{Deserialize, Serialize};

use crate::model::{ActionKind, Timestamp, ZoneName};
use crate::state::Journal;

use super::gates::{GateKind, Marks, Since};
use super::{JournalUpdate, Plan, StepStatus, TargetKind};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub zone: ZoneName,
    pub step: String,
    pub action: ActionKind,
    pub status: StepStatus,
    /// The earliest instant the step can run (or, for an `await`, be reached).
    pub earliest: Timestamp,
    /// The rule that decided that instant (`now` when nothing holds it).
    pub rule: String,
    /// How the instant was computed, in words.
    pub detail: String,
}

/// Projects every zone's remaining steps forward from the plan's `created_at`.
pub fn timeline(plan: &Plan, journal: &Journal) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for zp in &plan.zones {
        let mut marks = Marks::default();
        match zp.kind {
            TargetKind::Zone => {
                if let Some(zj) = journal.zones.get(&zp.zone) {
                    for (m, t) in &zj.marks {
                        marks.map.insert((*m).into(), *t);
                    }
                }
            }
            TargetKind::Domain => {
                if let Some(dj) = journal.domains.get(&zp.zone) {
                    for (m, t) in &dj.marks {
                        marks.map.insert((*m).into(), *t);
                    }
                    for (k, t) in &dj.key_added_at {
                        marks.map.insert(Since::KeyAdded(k.clone()), *t);
                    }
                }
            }
        }
        for u in &plan.updates {
            match u {
                JournalUpdate::SetMark { zone, mark, at, .. } if zone == &zp.zone => {
                    marks.map.insert((*mark).into(), *at);
                }
                JournalUpdate::ClearMark { zone, mark, .. } if zone == &zp.zone => {
                    marks.map.remove(&(*mark).into());
                }
                JournalUpdate::KeyAdded { zone, key, at } if zone == &zp.zone => {
                    marks.map.insert(Since::KeyAdded(key.clone()), *at);
                }
                _ => {}
            }
        }
        let mut t = plan.created_at;
        for step in zp.steps.iter().filter(|s| s.is_pending()) {
            let mut earliest = t;
            let mut rule = "now".to_string();
            let mut detail = "nothing holds it".to_string();
            if earliest > plan.created_at {
                rule = "after-previous-step".into();
                detail = "right after the previous step".into();
            }
            for g in step.gates.iter().filter(|g| g.kind == GateKind::Time) {
                let Some((base, delay)) = &g.base else {
                    continue;
                };
                let at = match marks.get(base.clone()) {
                    Some(b) => delay.after(b),
                    None => delay.after(t),
                };
                if at > earliest {
                    earliest = at;
                    rule = g.rule.to_string();
                    detail = g.detail.clone();
                }
            }
            for m in &step.produces {
                marks.map.entry(m.clone()).or_insert(earliest);
            }
            out.push(TimelineEntry {
                zone: zp.zone.clone(),
                step: step.id.clone(),
                action: step.kind(),
                status: step.status,
                earliest,
                rule,
                detail,
            });
            t = earliest;
        }
    }
    out
}
