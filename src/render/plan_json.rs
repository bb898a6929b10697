//! The plan's JSON document (DESIGN.md §7): versioned types of the renderer's own, with a JSON
//! Schema (`schemas/plan.schema.json`). Fields are only ever added; a rename or removal bumps
//! `format_version`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::ActionKind;
use crate::plan::{Plan, Severity, TimelineEntry};

pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PlanDoc {
    pub format_version: u32,
    /// `apply` or `destroy`.
    pub mode: String,
    /// RFC 3339.
    pub created_at: String,
    /// What was observed (and the journal's lineage/serial), hashed: a saved plan is stale when
    /// a fresh observation gives another fingerprint.
    pub fingerprint: String,
    pub journal_lineage: String,
    pub journal_serial: u64,
    pub summary: SummaryDoc,
    pub zones: Vec<ZoneDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineDoc>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SummaryDoc {
    pub ready: usize,
    pub blocked: usize,
    pub done: usize,
    pub errors: usize,
    /// The earliest instant a closed time gate opens (RFC 3339), if any.
    pub next_gate: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ZoneDoc {
    pub zone: String,
    /// `zone` (Route 53 hosted zone) or `domain` (registrar-only, seed 003).
    pub kind: String,
    pub hosted_zone_id: Option<String>,
    /// `onboard`, `withdraw` (signed, its DS taken out and kept out: `trust.ds: absent`) or
    /// `destroy`.
    pub direction: String,
    /// The phase of the first pending step, or null when converged.
    pub phase: Option<String>,
    pub steps: Vec<StepDoc>,
    pub drift: Vec<DriftDoc>,
    pub issues: Vec<IssueDoc>,
    /// RFC 7583 key states (hosted zones only): each KSK's DNSKEY and DS, and the zone's
    /// unsigned answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_states: Option<KeyStatesDoc>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KeyStatesDoc {
    pub ksks: Vec<KskStatesDoc>,
    pub unsigned_answers: Option<RecordStateDoc>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KskStatesDoc {
    pub ksk: String,
    pub key_tag: u16,
    pub dnskey: RecordStateDoc,
    pub ds: RecordStateDoc,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RecordStateDoc {
    /// `hidden`, `rumoured`, `omnipresent` or `unretentive`.
    pub state: String,
    /// When it entered the state (RFC 3339), when the journal can tell.
    pub since: Option<String>,
    /// What the state was read from.
    pub basis: String,
}

fn record_doc(r: &crate::plan::RecordState) -> RecordStateDoc {
    RecordStateDoc {
        state: r.state.as_str().into(),
        since: r.since.map(t),
        basis: r.basis.clone(),
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StepDoc {
    pub id: String,
    pub zone: String,
    pub phase: String,
    pub action: ActionKind,
    /// `done`, `ready` or `blocked`.
    pub status: String,
    /// RFC 3339, or null when no time gate holds the step or its base is not known yet.
    pub not_before: Option<String>,
    pub gates: Vec<GateDoc>,
    pub changes: Vec<ChangeDoc>,
    pub reason: String,
    pub rollback: String,
    /// The action's parameters (records, TTLs, key, instruction…).
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct GateDoc {
    /// `time` or `observable`.
    pub kind: String,
    pub rule: String,
    pub satisfied: bool,
    pub not_before: Option<String>,
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ChangeDoc {
    pub subject: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DriftDoc {
    pub subject: String,
    pub expected: String,
    pub observed: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct IssueDoc {
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    pub help: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TimelineDoc {
    pub zone: String,
    pub step: String,
    pub action: ActionKind,
    pub earliest: String,
    pub rule: String,
    pub detail: String,
}

fn t(ts: crate::model::Timestamp) -> String {
    super::fmt_time(ts)
}

impl PlanDoc {
    pub fn new(plan: &Plan, timeline: Option<&[TimelineEntry]>) -> PlanDoc {
        let steps = plan.zones.iter().flat_map(|z| z.steps.iter());
        let ready = steps
            .clone()
            .filter(|s| s.status == crate::plan::StepStatus::Ready)
            .count();
        let blocked = steps
            .clone()
            .filter(|s| s.status == crate::plan::StepStatus::Blocked)
            .count();
        let done = steps
            .filter(|s| s.status == crate::plan::StepStatus::Done)
            .count();
        PlanDoc {
            format_version: PLAN_FORMAT_VERSION,
            mode: match plan.mode {
                crate::plan::Mode::Apply => "apply",
                crate::plan::Mode::Destroy => "destroy",
            }
            .into(),
            created_at: t(plan.created_at),
            fingerprint: plan.fingerprint.clone(),
            journal_lineage: plan.journal_lineage.clone(),
            journal_serial: plan.journal_serial,
            summary: SummaryDoc {
                ready,
                blocked,
                done,
                errors: plan.zones.iter().filter(|z| z.has_errors()).count(),
                next_gate: plan.next_gate_time().map(t),
            },
            zones: plan
                .zones
                .iter()
                .map(|z| ZoneDoc {
                    zone: z.zone.to_string(),
                    kind: match z.kind {
                        crate::plan::TargetKind::Zone => "zone",
                        crate::plan::TargetKind::Domain => "domain",
                    }
                    .into(),
                    hosted_zone_id: z.hosted_zone_id.clone(),
                    direction: z.direction.as_str().into(),
                    phase: z.phase().map(|p| p.as_str().to_string()),
                    steps: z
                        .steps
                        .iter()
                        .map(|s| StepDoc {
                            id: s.id.clone(),
                            zone: s.zone.to_string(),
                            phase: s.phase.as_str().into(),
                            action: s.kind(),
                            status: s.status.as_str().into(),
                            not_before: s.not_before.map(t),
                            gates: s
                                .gates
                                .iter()
                                .map(|g| GateDoc {
                                    kind: match g.kind {
                                        crate::plan::GateKind::Time => "time",
                                        crate::plan::GateKind::Observable => "observable",
                                    }
                                    .into(),
                                    rule: g.rule.to_string(),
                                    satisfied: g.satisfied,
                                    not_before: g.not_before.map(t),
                                    detail: g.detail.clone(),
                                })
                                .collect(),
                            changes: s
                                .changes
                                .iter()
                                .map(|c| ChangeDoc {
                                    subject: c.subject.clone(),
                                    before: c.before.clone(),
                                    after: c.after.clone(),
                                })
                                .collect(),
                            reason: s.reason.clone(),
                            rollback: s.rollback.clone(),
                            detail: serde_json::to_value(&s.action).unwrap_or_default(),
                        })
                        .collect(),
                    drift: z
                        .drift
                        .iter()
                        .map(|d| DriftDoc {
                            subject: d.subject.clone(),
                            expected: d.expected.clone(),
                            observed: d.observed.clone(),
                            reason: d.reason.clone(),
                        })
                        .collect(),
                    issues: z
                        .issues
                        .iter()
                        .map(|i| IssueDoc {
                            severity: match i.severity {
                                Severity::Error => "error",
                                Severity::Warning => "warning",
                            }
                            .into(),
                            code: i.code.clone(),
                            message: i.message.clone(),
                            help: i.help.clone(),
                        })
                        .collect(),
                    key_states: z.key_states.as_ref().map(|k| KeyStatesDoc {
                        ksks: k
                            .ksks
                            .iter()
                            .map(|s| KskStatesDoc {
                                ksk: s.ksk.clone(),
                                key_tag: s.key_tag,
                                dnskey: record_doc(&s.dnskey),
                                ds: record_doc(&s.ds),
                            })
                            .collect(),
                        unsigned_answers: k.unsigned_answers.as_ref().map(record_doc),
                    }),
                })
                .collect(),
            timeline: timeline.map(|tl| {
                tl.iter()
                    .map(|e| TimelineDoc {
                        zone: e.zone.to_string(),
                        step: e.step.clone(),
                        action: e.action,
                        earliest: t(e.earliest),
                        rule: e.rule.clone(),
                        detail: e.detail.clone(),
                    })
                    .collect()
            }),
        }
    }
}

/// The JSON Schema of [`PlanDoc`] (what `schemas/plan.schema.json` holds).
pub fn plan_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(PlanDoc)).unwrap_or_default()
}
