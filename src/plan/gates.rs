//! Gates: the conditions a step waits for. A gate is either observable (a change INSYNC, a
//! registrar operation SUCCESSFUL, the DS at every parent server, the DNSKEY at every zone server)
//! or temporal (not before `base + delay`, where `base` is an instant the journal recorded). Every
//! gate names the rule that produced it and the values it was computed from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Action, Secs, Timestamp};

use super::{Phase, ValueChange};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Not before an instant.
    Time,
    /// A condition of the observed world.
    Observable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub kind: GateKind,
    /// Stable rule id (`unsigned-cache-flush`, `ds-at-every-parent-server`, …).
    pub rule: String,
    pub satisfied: bool,
    /// For time gates: when it opens, once its base instant is known.
    pub not_before: Option<Timestamp>,
    /// The values the gate was computed from, in words.
    pub detail: String,
    /// For time gates: the mark the delay counts from, and the delay (used by the timeline).
    #[serde(skip)]
    pub(crate) base: Option<(String, Secs)>,
}

/// The instants gates count from: the journal's marks with this run's new facts applied.
#[derive(Clone, Debug, Default)]
pub(crate) struct Marks {
    pub map: BTreeMap<String, Timestamp>,
}

impl Marks {
    pub fn get(&self, name: &str) -> Option<Timestamp> {
        self.map.get(name).copied()
    }
}

/// A temporal gate `base + delay`. Closed, with no instant, while `base` is unknown.
pub(crate) fn time_gate(
    rule: &str,
    marks: &Marks,
    now: Timestamp,
    base: &str,
    delay: Secs,
    detail: String,
) -> Gate {
    match marks.get(base) {
        Some(t) => {
            let nb = delay.after(t);
            Gate {
                kind: GateKind::Time,
                rule: rule.to_string(),
                satisfied: now >= nb,
                not_before: Some(nb),
                detail: format!("{detail} ({base} at {t} + {})", delay.human()),
                base: Some((base.to_string(), delay)),
            }
        }
        None => Gate {
            kind: GateKind::Time,
            rule: rule.to_string(),
            satisfied: false,
            not_before: None,
            detail: format!("{detail} ({} after {base})", delay.human()),
            base: Some((base.to_string(), delay)),
        },
    }
}

/// An observable gate.
pub(crate) fn observable(rule: &str, satisfied: bool, detail: impl Into<String>) -> Gate {
    Gate {
        kind: GateKind::Observable,
        rule: rule.to_string(),
        satisfied,
        not_before: None,
        detail: detail.into(),
        base: None,
    }
}

/// The step's `not_before`: the latest time gate, when every time gate's instant is known.
pub(crate) fn not_before(gates: &[Gate]) -> Option<Timestamp> {
    let mut nb: Option<Timestamp> = None;
    for g in gates.iter().filter(|g| g.kind == GateKind::Time) {
        let t = g.not_before?;
        nb = Some(nb.map_or(t, |n| n.max(t)));
    }
    nb
}

/// A step before its status is decided.
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub id: String,
    pub phase: Phase,
    pub action: Action,
    pub done: bool,
    pub gates: Vec<Gate>,
    pub changes: Vec<ValueChange>,
    pub reason: String,
    pub rollback: String,
    pub produces: Vec<String>,
}

impl Draft {
    pub fn new(id: String, phase: Phase, action: Action, reason: impl Into<String>) -> Self {
        let rollback = rollback_of(&action);
        Draft {
            id,
            phase,
            action,
            done: false,
            gates: Vec::new(),
            changes: Vec::new(),
            reason: reason.into(),
            rollback,
            produces: Vec::new(),
        }
    }
    pub fn done(mut self, done: bool) -> Self {
        self.done = done;
        self
    }
    pub fn gate(mut self, g: Gate) -> Self {
        self.gates.push(g);
        self
    }
    pub fn gates(mut self, gs: impl IntoIterator<Item = Gate>) -> Self {
        self.gates.extend(gs);
        self
    }
    pub fn change(
        mut self,
        subject: impl Into<String>,
        before: impl ToString,
        after: impl ToString,
    ) -> Self {
        self.changes.push(ValueChange {
            subject: subject.into(),
            before: before.to_string(),
            after: after.to_string(),
        });
        self
    }
    pub fn produces(mut self, mark: &str) -> Self {
        self.produces.push(mark.to_string());
        self
    }
    pub fn all_open(&self) -> bool {
        self.gates.iter().all(|g| g.satisfied)
    }
}

/// The rollback of every action, from the seeds.
pub(crate) fn rollback_of(action: &Action) -> String {
    match action {
        Action::LowerTtls { .. } => "put the original TTLs back (the journal's baseline holds them)".into(),
        Action::LowerSoa { .. } => "put the original SOA TTL and minimum back (baseline)".into(),
        Action::CreateKsk { name, .. } => format!("deactivate, then delete KSK `{name}` (only while no DS that references it is published or cached)"),
        Action::ActivateKsk { name } => format!("deactivate KSK `{name}` (only while no DS that references it is published or cached)"),
        Action::EnableSigning => "DisableHostedZoneDNSSEC, then roll back step 1 — only while no DS is published or cached (`destroy` waits for both)".into(),
        Action::LowerParentDsTtl { from, .. } => format!("UPSERT the DS with its previous TTL {}", from.0),
        Action::PublishDs { .. } => "set `trust.ds: absent`: the DS goes out of the parent and the DS TTL is waited while the zone stays signed (seed 000 step 3 rollback); `destroy` goes on to stop signing".into(),
        Action::RaiseDsTtl { from, .. } => format!("UPSERT the DS with TTL {} again", from.0),
        Action::RestoreTtls { .. } => "lower the TTLs to the onboarding cap again".into(),
        Action::RestoreSoa { .. } => "lower the SOA TTL and minimum again".into(),
        Action::RemoveDs { .. } => "publish the DS again (the zone is still signed)".into(),
        Action::DisableSigning => "EnableHostedZoneDNSSEC (a KSK is still active)".into(),
        Action::DeactivateKsk { name } => format!("ActivateKeySigningKey `{name}`"),
        Action::DeleteKsk { name } => format!("create a new KSK in place of `{name}`; a deleted key cannot come back, so its DS must be published anew"),
        Action::AddRegistrarKey { .. } => "DisassociateDelegationSignerFromDomain for that key, then wait up to 3 days before the DNS provider stops signing with it".into(),
        Action::RemoveRegistrarKey { .. } => "AssociateDelegationSignerToDomain with the same key again".into(),
        Action::Manual { .. } => "undo by hand what the instruction asked for".into(),
        Action::Await { .. } => "nothing to undo: a wait changes nothing".into(),
    }
}
