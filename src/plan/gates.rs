//! Gates: the conditions a step waits for. A gate is either observable (a change INSYNC, a
//! registrar operation SUCCESSFUL, the DS at every parent server, the DNSKEY at every zone server)
//! or temporal (not before `base + delay`, where `base` is an instant the journal recorded). Every
//! gate names the rule that produced it and the values it was computed from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Action, Secs, Timestamp};
use crate::state::Mark;

use super::{Phase, ValueChange};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Not before an instant.
    Time,
    /// A condition of the observed world.
    Observable,
}

/// Every gate's rule by its stable id (the plan JSON's `rule`, README's gate table). Typed so a
/// rule cannot be misspelled where it is made or read; a test checks every one is documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// `prepare-insync`: the lowered TTLs and SOA are INSYNC.
    PrepareInsync,
    /// `active-ksk`: the zone has an ACTIVE KSK.
    ActiveKsk,
    /// `signing-insync`: signing is enabled and INSYNC.
    SigningInsync,
    /// `zone-signed-everywhere`: every zone server serves the KSK and it signs the DNSKEY RRset.
    ZoneSignedEverywhere,
    /// `unsigned-cache-flush`: prepare INSYNC plus the old max TTL.
    UnsignedCacheFlush,
    /// `signed-cache-fill`: signing INSYNC plus the current max TTL.
    SignedCacheFill,
    /// `signing-soak`: signing INSYNC plus the soak.
    SigningSoak,
    /// `registrar-one-operation`: no Route 53 Domains operation in flight.
    RegistrarOneOperation,
    /// `dnskey-at-every-zone-server`: the zone serves the key at every zone server.
    DnskeyAtEveryZoneServer,
    /// `ds-at-every-parent-server`: every parent server serves the DS.
    DsAtEveryParentServer,
    /// `ds-propagation-margin`: DS seen everywhere plus the propagation margin.
    DsPropagationMargin,
    /// `max-ns-ttl`: DS seen everywhere plus margin plus the largest NS TTL.
    MaxNsTtl,
    /// `ds-validates-at-every-parent-server`: the DS RRset's RRSIG verifies at every parent server.
    DsValidatesAtEveryParentServer,
    /// `trust-soak`: trust established plus the soak.
    TrustSoak,
    /// `ds-published`: the parent holds exactly the planned DS set.
    DsPublished,
    /// `remaining-keys-sign`: the keys that stay sign the DNSKEY RRset at every zone server.
    RemainingKeysSign,
    /// `remaining-ds-at-every-parent-server`: the DS of the keys that stay is at every parent server.
    RemainingDsAtEveryParentServer,
    /// `ds-gone-everywhere`: every parent server answered with no DS.
    DsGoneEverywhere,
    /// `ds-cache-expiry`: DS gone plus the largest DS TTL (and registrar delay) plus margin.
    DsCacheExpiry,
    /// `no-ds-anywhere`: no DS at any parent server, parent API or registrar.
    NoDsAnywhere,
    /// `no-ds-references-key`: no DS references the KSK.
    NoDsReferencesKey,
    /// `signing-disabled`: Route 53 no longer signs the zone.
    SigningDisabled,
    /// `zone-without-errors`: the zone's plan has no error issue.
    ZoneWithoutErrors,
    /// `registrar-key-deletion-delay`: the registrar key deletion delay has passed.
    RegistrarKeyDeletionDelay,
}

impl Rule {
    /// Every rule, in the order the README's table lists them.
    pub const ALL: [Rule; 24] = [
        Rule::PrepareInsync,
        Rule::ActiveKsk,
        Rule::SigningInsync,
        Rule::ZoneSignedEverywhere,
        Rule::UnsignedCacheFlush,
        Rule::SignedCacheFill,
        Rule::SigningSoak,
        Rule::RegistrarOneOperation,
        Rule::DnskeyAtEveryZoneServer,
        Rule::DsAtEveryParentServer,
        Rule::DsPropagationMargin,
        Rule::MaxNsTtl,
        Rule::DsValidatesAtEveryParentServer,
        Rule::TrustSoak,
        Rule::DsPublished,
        Rule::RemainingKeysSign,
        Rule::RemainingDsAtEveryParentServer,
        Rule::DsGoneEverywhere,
        Rule::DsCacheExpiry,
        Rule::NoDsAnywhere,
        Rule::NoDsReferencesKey,
        Rule::SigningDisabled,
        Rule::ZoneWithoutErrors,
        Rule::RegistrarKeyDeletionDelay,
    ];

    /// The stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PrepareInsync => "prepare-insync",
            Rule::ActiveKsk => "active-ksk",
            Rule::SigningInsync => "signing-insync",
            Rule::ZoneSignedEverywhere => "zone-signed-everywhere",
            Rule::UnsignedCacheFlush => "unsigned-cache-flush",
            Rule::SignedCacheFill => "signed-cache-fill",
            Rule::SigningSoak => "signing-soak",
            Rule::RegistrarOneOperation => "registrar-one-operation",
            Rule::DnskeyAtEveryZoneServer => "dnskey-at-every-zone-server",
            Rule::DsAtEveryParentServer => "ds-at-every-parent-server",
            Rule::DsPropagationMargin => "ds-propagation-margin",
            Rule::MaxNsTtl => "max-ns-ttl",
            Rule::DsValidatesAtEveryParentServer => "ds-validates-at-every-parent-server",
            Rule::TrustSoak => "trust-soak",
            Rule::DsPublished => "ds-published",
            Rule::RemainingKeysSign => "remaining-keys-sign",
            Rule::RemainingDsAtEveryParentServer => "remaining-ds-at-every-parent-server",
            Rule::DsGoneEverywhere => "ds-gone-everywhere",
            Rule::DsCacheExpiry => "ds-cache-expiry",
            Rule::NoDsAnywhere => "no-ds-anywhere",
            Rule::NoDsReferencesKey => "no-ds-references-key",
            Rule::SigningDisabled => "signing-disabled",
            Rule::ZoneWithoutErrors => "zone-without-errors",
            Rule::RegistrarKeyDeletionDelay => "registrar-key-deletion-delay",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Rule {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub kind: GateKind,
    /// The rule that produced the gate (`unsigned-cache-flush`, `ds-at-every-parent-server`, …).
    pub rule: Rule,
    pub satisfied: bool,
    /// For time gates: when it opens, once its base instant is known.
    pub not_before: Option<Timestamp>,
    /// The values the gate was computed from, in words.
    pub detail: String,
    /// For time gates: the mark the delay counts from, and the delay (used by the timeline).
    #[serde(skip)]
    pub(crate) base: Option<(Since, Secs)>,
}

/// What a time gate counts from: a journal mark, or (seed 003) the instant a registrar key was
/// first seen in place. Typed, so a gate cannot count from a misspelled instant that never is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Since {
    Mark(Mark),
    /// The key id (`flags/algorithm/public key`) of a registrar key.
    KeyAdded(String),
}

impl From<Mark> for Since {
    fn from(m: Mark) -> Self {
        Since::Mark(m)
    }
}

impl std::fmt::Display for Since {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Since::Mark(m) => f.write_str(m.as_str()),
            Since::KeyAdded(k) => write!(f, "key_added:{k}"),
        }
    }
}

/// The instants gates count from: the journal's marks with this run's new facts applied.
#[derive(Clone, Debug, Default)]
pub(crate) struct Marks {
    pub map: BTreeMap<Since, Timestamp>,
}

impl Marks {
    pub fn get(&self, since: impl Into<Since>) -> Option<Timestamp> {
        self.map.get(&since.into()).copied()
    }
}

/// A temporal gate `base + delay`. Closed, with no instant, while `base` is unknown.
pub(crate) fn time_gate(
    rule: Rule,
    marks: &Marks,
    now: Timestamp,
    base: impl Into<Since>,
    delay: Secs,
    detail: String,
) -> Gate {
    let base = base.into();
    match marks.get(base.clone()) {
        Some(t) => {
            let nb = delay.after(t);
            Gate {
                kind: GateKind::Time,
                rule,
                satisfied: now >= nb,
                not_before: Some(nb),
                detail: format!("{detail} ({base} at {t} + {})", delay.human()),
                base: Some((base.clone(), delay)),
            }
        }
        None => Gate {
            kind: GateKind::Time,
            rule,
            satisfied: false,
            not_before: None,
            detail: format!("{detail} ({} after {base})", delay.human()),
            base: Some((base.clone(), delay)),
        },
    }
}

/// An observable gate.
pub(crate) fn observable(rule: Rule, satisfied: bool, detail: impl Into<String>) -> Gate {
    Gate {
        kind: GateKind::Observable,
        rule,
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
    pub produces: Vec<Since>,
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
    pub fn produces(mut self, since: impl Into<Since>) -> Self {
        self.produces.push(since.into());
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
