//! The pure planner: `plan(desired, observed, journal, now) → Plan` (DESIGN.md §4).
//!
//! No I/O, no clock, no randomness: everything time-dependent is computed from `now` and the
//! journal's marks. The same inputs give a byte-identical plan. A plan is, per zone, the whole
//! ordered road of the seed procedure — steps already done, the ones whose gates are open
//! (`ready`) and the ones waiting (`blocked`), each with the rule that holds it, its before/after
//! values and its rollback — plus the journal facts the engine must record (first-seen instants,
//! baselines). Destroy is the same planner aimed at the baseline (unsigned, no DS, original TTLs).

mod domain;
mod gates;
mod scope;
mod timeline;
mod zone;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Desired;
use crate::model::{Action, ActionKind, Timestamp, Ttl, ZoneName};
use crate::state::{Baseline, Direction, Journal, Mark, Observed};

pub use gates::{Gate, GateKind, Rule};
pub use scope::scope;
pub use timeline::{TimelineEntry, timeline};
pub use zone::{KeyState, KskStates, RecordState, ZoneKeyStates};

/// What the planner is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Bring reality to the desired state.
    Apply,
    /// Take every zone in scope back to its baseline: no DS, unsigned, original TTLs.
    Destroy,
}

/// The planner's inputs.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    pub desired: &'a Desired,
    pub observed: &'a Observed,
    pub journal: &'a Journal,
    pub now: Timestamp,
    pub mode: Mode,
    /// Only these zones/domains; empty means all.
    pub only: &'a [ZoneName],
}

/// The seed procedure's phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Seed 000 step 1: lower TTLs and the SOA.
    Prepare,
    /// Seed 000 step 2: KSK and signing.
    Sign,
    /// Seed 000 step 3: the DS at the parent.
    Trust,
    /// Seed 000 step 3 (optional): lengthen the DS TTL, restore TTLs.
    Finally,
    /// Seed 003: registrar keys of a domain whose DNS is elsewhere.
    RegistrarKeys,
    /// Taking the DS out (destroy).
    Untrust,
    /// Stopping signing and removing the KSKs (destroy).
    Unsign,
    /// Restoring the baseline TTLs and SOA (destroy).
    Restore,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Prepare => "prepare",
            Phase::Sign => "sign",
            Phase::Trust => "trust",
            Phase::Finally => "finally",
            Phase::RegistrarKeys => "registrar_keys",
            Phase::Untrust => "untrust",
            Phase::Unsign => "unsign",
            Phase::Restore => "restore",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Its effect is observed (or, for a manual step, the instruction was given).
    Done,
    /// Every gate is open and every earlier step is done: `apply` runs it now.
    Ready,
    /// A gate is closed, or an earlier step is not done yet.
    Blocked,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Done => "done",
            StepStatus::Ready => "ready",
            StepStatus::Blocked => "blocked",
        }
    }
}

/// One before/after value a step changes (`~ ttl of www.example.com A: 86400 -> 3600`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    pub subject: String,
    pub before: String,
    pub after: String,
}

/// One step of the procedure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable id: `<zone>/<action>[/<key>]`.
    pub id: String,
    pub zone: ZoneName,
    pub phase: Phase,
    pub action: Action,
    pub status: StepStatus,
    /// The earliest instant every time gate allows (None when a gate's base is not known yet).
    pub not_before: Option<Timestamp>,
    pub gates: Vec<Gate>,
    pub changes: Vec<ValueChange>,
    /// Why this step is in the plan.
    pub reason: String,
    /// How to undo it (the seeds give one for every step).
    pub rollback: String,
    /// The marks this step's completion produces (for the timeline's projection).
    #[serde(skip)]
    pub(crate) produces: Vec<gates::Since>,
}

impl Step {
    pub fn kind(&self) -> ActionKind {
        self.action.kind()
    }
    /// The gate that holds the step: a closed observable gate first, else the closed time gate
    /// that opens last.
    pub fn holding_gate(&self) -> Option<&Gate> {
        let closed = self.gates.iter().filter(|g| !g.satisfied);
        closed
            .clone()
            .find(|g| g.kind == GateKind::Observable)
            .or_else(|| {
                closed
                    .clone()
                    .filter(|g| g.not_before.is_some())
                    .max_by_key(|g| g.not_before)
            })
            .or_else(|| closed.clone().next())
    }

    /// Whether this step still has something to do.
    pub fn is_pending(&self) -> bool {
        self.status != StepStatus::Done
    }
}

/// Something observed that contradicts the journal or the desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub subject: String,
    pub expected: String,
    pub observed: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

/// A problem the planner cannot solve by itself: a person must decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub help: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A Route 53 hosted zone.
    Zone,
    /// A Route 53 Domains registration whose DNS is elsewhere (seed 003).
    Domain,
}

/// The plan of one zone or registrar-only domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonePlan {
    pub zone: ZoneName,
    pub kind: TargetKind,
    pub hosted_zone_id: Option<String>,
    pub direction: Direction,
    pub steps: Vec<Step>,
    pub drift: Vec<Drift>,
    pub issues: Vec<Issue>,
    /// Each KSK's DNSKEY and DS, and the zone's unsigned answers, in RFC 7583's states (hosted
    /// zones that were observed; `None` for registrar-only domains).
    pub key_states: Option<ZoneKeyStates>,
}

impl ZonePlan {
    pub fn pending(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.is_pending())
    }
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }
    /// Whether an error holds every step of the zone (`hold_on_errors`).
    pub fn held_by_errors(&self) -> bool {
        self.issues.iter().any(holds_steps)
    }
    /// The current phase: that of the first pending step, or `None` when converged.
    pub fn phase(&self) -> Option<Phase> {
        self.pending().next().map(|s| s.phase)
    }
}

/// A fact the engine records in the journal when it acts on this plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "update", rename_all = "snake_case")]
pub enum JournalUpdate {
    /// Record the zone's baseline (before its first change).
    Baseline { zone: ZoneName, baseline: Baseline },
    /// A condition was first observed now.
    SetMark {
        zone: ZoneName,
        target: TargetKind,
        mark: Mark,
        at: Timestamp,
    },
    /// A condition no longer holds (e.g. a DS vanished): its instant is forgotten.
    ClearMark {
        zone: ZoneName,
        target: TargetKind,
        mark: Mark,
    },
    /// The largest DS TTL observed for the zone grew.
    MaxDsTtl { zone: ZoneName, ttl: Ttl },
    /// A registrar key was first seen at the registrar.
    KeyAdded {
        zone: ZoneName,
        key: String,
        at: Timestamp,
    },
    /// A step's Route 53 change was first observed INSYNC (final): later runs need not ask.
    ChangeInsync {
        zone: ZoneName,
        change_id: String,
        at: Timestamp,
    },
    /// The zone is now being taken this way.
    Direction {
        zone: ZoneName,
        target: TargetKind,
        direction: Direction,
        at: Timestamp,
    },
}

/// The plan: per zone its ordered steps, plus the journal facts to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub created_at: Timestamp,
    pub mode: Mode,
    /// SHA-256 over what was observed (times of observation left out) and the journal's lineage
    /// and serial: a saved plan whose fingerprint no longer matches is stale.
    pub fingerprint: String,
    pub journal_lineage: String,
    pub journal_serial: u64,
    pub zones: Vec<ZonePlan>,
    pub updates: Vec<JournalUpdate>,
}

impl Plan {
    /// Whether any step anywhere is pending.
    pub fn has_changes(&self) -> bool {
        self.zones.iter().any(|z| z.pending().next().is_some())
    }
    pub fn has_errors(&self) -> bool {
        self.zones.iter().any(ZonePlan::has_errors)
    }
    pub fn ready_steps(&self) -> impl Iterator<Item = &Step> {
        self.zones
            .iter()
            .flat_map(|z| z.steps.iter())
            .filter(|s| s.status == StepStatus::Ready)
    }
    /// The earliest instant a blocked step's time gates open (for `apply --wait`).
    pub fn next_gate_time(&self) -> Option<Timestamp> {
        self.zones
            .iter()
            .filter_map(|z| z.pending().next())
            .filter(|s| s.status == StepStatus::Blocked)
            .filter_map(|s| s.not_before)
            .min()
    }
}

/// Plans every zone and domain in scope. Pure and deterministic.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let in_scope = |n: &ZoneName| input.only.is_empty() || input.only.contains(n);
    let mut zones = Vec::new();
    let mut updates = Vec::new();

    // Zones of the config, plus zones only the journal remembers (removed from the config:
    // they are planned towards their baseline, never silently abandoned half-way).
    let mut names: BTreeMap<ZoneName, Option<&crate::config::ZoneSpec>> = BTreeMap::new();
    for z in &input.desired.zones {
        names.insert(z.name.clone(), Some(z));
    }
    for n in input.journal.zones.keys() {
        names.entry(n.clone()).or_insert(None);
    }
    for (name, spec) in names {
        if !in_scope(&name) {
            continue;
        }
        let (mut zp, mut up) = zone::plan_zone(&input, &name, spec);
        hold_on_errors(&mut zp);
        zones.push(zp);
        updates.append(&mut up);
    }

    let mut dnames: BTreeMap<ZoneName, Option<&crate::config::DomainSpec>> = BTreeMap::new();
    for d in &input.desired.domains {
        dnames.insert(d.name.clone(), Some(d));
    }
    for n in input.journal.domains.keys() {
        dnames.entry(n.clone()).or_insert(None);
    }
    for (name, spec) in dnames {
        if !in_scope(&name) {
            continue;
        }
        let (mut zp, mut up) = domain::plan_domain(&input, &name, spec);
        hold_on_errors(&mut zp);
        zones.push(zp);
        updates.append(&mut up);
    }

    Plan {
        created_at: input.now,
        mode: input.mode,
        fingerprint: fingerprint(input.observed, input.journal, input.only),
        journal_lineage: input.journal.lineage.clone(),
        journal_serial: input.journal.serial,
        zones,
        updates,
    }
}

/// The error issue whose fix is the plan's own first step: the parent publishes a DS while the
/// zone is unsigned (an outage in progress), and re-enabling signing is the rescue.
const RESCUE_ISSUES: &[&str] = &["PLAN005"];

/// Whether `issue` holds every step of its zone: an error that is not a rescue.
fn holds_steps(issue: &Issue) -> bool {
    issue.severity == Severity::Error && !RESCUE_ISSUES.contains(&issue.code.as_str())
}

/// A zone whose plan has an error issue runs no step: each ready step is held behind a closed
/// gate `zone-without-errors` naming the error (a step planned over an observation that failed,
/// or over a state a person must fix, is not safe to run). The one exception is the rescue of an
/// outage in progress (`RESCUE_ISSUES`).
fn hold_on_errors(zp: &mut ZonePlan) {
    if !zp.held_by_errors() {
        return;
    }
    let errors: Vec<String> = zp
        .issues
        .iter()
        .filter(|i| holds_steps(i))
        .map(|i| format!("{}: {}", i.code, i.message))
        .collect();
    let detail = format!("{}; fix it, then plan again", errors.join("; "));
    for s in zp
        .steps
        .iter_mut()
        .filter(|s| s.status == StepStatus::Ready)
    {
        s.status = StepStatus::Blocked;
        s.gates.push(gates::observable(
            Rule::ZoneWithoutErrors,
            false,
            detail.clone(),
        ));
    }
}

/// SHA-256 of the observation — every observation instant left out — plus the journal's
/// lineage and serial. Two observations of an unchanged world give the same fingerprint. Streams
/// into the hash (no copy of the observation).
pub fn fingerprint(observed: &Observed, journal: &Journal, only: &[ZoneName]) -> String {
    struct HashWriter<'a>(&'a mut Sha256);
    impl std::io::Write for HashWriter<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    fn live(h: &mut Sha256, l: &crate::state::LiveObs) {
        for s in &l.parent_servers {
            let _ = serde_json::to_writer(HashWriter(h), &(&s.server, &s.result));
        }
        h.update(b"|");
        for s in &l.zone_servers {
            let _ = serde_json::to_writer(HashWriter(h), &(&s.server, &s.result));
        }
    }
    let in_scope = |n: &ZoneName| only.is_empty() || only.contains(n);
    let mut h = Sha256::new();
    for (name, z) in observed.zones.iter().filter(|(n, _)| in_scope(n)) {
        let _ = serde_json::to_writer(
            HashWriter(&mut h),
            &(name, &z.hosted_zone, &z.dnssec, &z.changes, &z.parent),
        );
        live(&mut h, &z.live);
    }
    h.update(b"#");
    for (name, d) in observed.domains.iter().filter(|(n, _)| in_scope(n)) {
        let _ = serde_json::to_writer(HashWriter(&mut h), &(name, &d.registrar));
        live(&mut h, &d.live);
    }
    h.update(journal.lineage.as_bytes());
    h.update(journal.serial.to_be_bytes());
    let d = h.finalize();
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Turns drafted steps into steps with statuses: the first pending step is `ready` when its
/// gates are open; every later pending step is `blocked` behind it.
pub(crate) fn finish_steps(zone: &ZoneName, drafts: Vec<gates::Draft>) -> Vec<Step> {
    let mut out = Vec::with_capacity(drafts.len());
    let mut first_pending_seen = false;
    for d in drafts {
        let not_before = gates::not_before(&d.gates);
        let status = if d.done {
            StepStatus::Done
        } else if !first_pending_seen {
            first_pending_seen = true;
            let open = d.gates.iter().all(|g| g.satisfied);
            if open && !matches!(d.action, Action::Await { .. }) {
                StepStatus::Ready
            } else {
                StepStatus::Blocked
            }
        } else {
            StepStatus::Blocked
        };
        out.push(Step {
            id: d.id,
            zone: zone.clone(),
            phase: d.phase,
            action: d.action,
            status,
            not_before,
            gates: d.gates,
            changes: d.changes,
            reason: d.reason,
            rollback: d.rollback,
            produces: d.produces,
        });
    }
    out
}
