//! Planning one Route 53 hosted zone: onboarding (seed 000 steps 1–3 and the optional
//! lengthening) and destroy (seed 000 rollbacks in reverse: DS out first, wait until no resolver
//! can hold it, only then stop signing, then the KSKs, then the baseline TTLs). Drift repairs fall
//! out of the same rules: every step's "done" is decided from what is observed, not remembered.
//!
//! This module owns what every rule reads (`Ctx`: the observation, the journal, the marks) and
//! the facts kept across runs (baseline, largest DS TTL seen, stale "since" instants dropped).
//! Each rule lives in one file: `health` (states a person must fix), `prepare` (seed 000 step 1),
//! `sign` (step 2), `trust` (step 3 and its waits), `finally` (the optional lengthening and the
//! TTL restore), `destroy` (the walk back), `keys` (the key states the plan reports).

use std::collections::BTreeSet;

use crate::config::{Safety, Trust, ZoneSpec};
use crate::model::{Action, DsRecord, DsTarget, Timestamp, Ttl, ZoneName};
use crate::state::{
    Baseline, BaselineTtl, ChangeStatus, Direction, HostedZoneObs, KskObs, KskStatus, Mark,
    ParentObs, SigningStatus, StepRecord, ZoneJournal, ZoneObs,
};

mod destroy;
mod finally;
mod health;
mod keys;
mod onboard;
mod prepare;
mod sign;
mod trust;

pub use keys::{KeyState, KskStates, RecordState, ZoneKeyStates};

use super::gates::{Marks, Rule, observable};
use super::{
    Drift, Issue, JournalUpdate, Mode, PlanInput, Severity, TargetKind, ZonePlan, finish_steps,
};

const PREPARE: Mark = Mark::PrepareInsync;
const SIGNING: Mark = Mark::SigningInsync;
const DS_SEEN: Mark = Mark::DsSeenEverywhere;
const TRUSTED: Mark = Mark::TrustEstablished;
const DS_LOST: Mark = Mark::DsLost;
const DS_GONE: Mark = Mark::DsGoneEverywhere;
const SIGNING_FAULT: Mark = Mark::SigningFault;

/// The TTL assumed for a DS that was asked of a registrar but never seen: TLDs serve DS RRsets
/// with TTLs of a day or less (`com`, `net`, `org`: 86400 s); two days bounds them with room.
const UNSEEN_DS_TTL: Ttl = Ttl(2 * 86_400);

/// Everything the rules of one zone read, computed once.
struct Ctx<'a> {
    name: &'a ZoneName,
    spec: Option<&'a ZoneSpec>,
    obs: &'a ZoneObs,
    hz: &'a HostedZoneObs,
    zj: ZoneJournal,
    now: Timestamp,
    safety: Safety,
    baseline: Baseline,
    marks: Marks,
    updates: Vec<JournalUpdate>,
    drift: Vec<Drift>,
    issues: Vec<Issue>,
    direction_since: Timestamp,
    direction: Direction,
}

impl Ctx<'_> {
    fn set_mark(&mut self, mark: Mark) {
        if self.marks.get(mark).is_none() {
            self.marks.map.insert(mark.into(), self.now);
            self.updates.push(JournalUpdate::SetMark {
                zone: self.name.clone(),
                target: TargetKind::Zone,
                mark,
                at: self.now,
            });
        }
    }

    /// Sets `mark` at `at` (an instant computed from the journal, at most `now`) unless set.
    fn set_mark_at(&mut self, mark: Mark, at: Timestamp) {
        let at = at.min(self.now);
        if self.marks.get(mark).is_none() {
            self.marks.map.insert(mark.into(), at);
            self.updates.push(JournalUpdate::SetMark {
                zone: self.name.clone(),
                target: TargetKind::Zone,
                mark,
                at,
            });
        }
    }

    /// Moves `mark` to now: for "last seen" instants rather than "since" ones.
    fn refresh_mark(&mut self, mark: Mark) {
        if self.marks.get(mark) != Some(self.now) {
            self.clear_mark(mark);
            self.set_mark(mark);
        }
    }

    fn clear_mark(&mut self, mark: Mark) {
        if self.marks.map.remove(&mark.into()).is_some() {
            self.updates.push(JournalUpdate::ClearMark {
                zone: self.name.clone(),
                target: TargetKind::Zone,
                mark,
            });
        }
    }

    fn has(&self, mark: Mark) -> bool {
        self.marks.get(mark).is_some()
    }

    fn id(&self, rest: &str) -> String {
        format!("{}/{rest}", self.name)
    }

    fn issue(&mut self, severity: Severity, code: &str, message: String, help: &str) {
        self.issues.push(Issue {
            severity,
            code: code.to_string(),
            message,
            help: help.to_string(),
        });
    }

    fn signing(&self) -> bool {
        self.obs.dnssec.status == SigningStatus::Signing
    }

    /// DS records at the Route 53 parent, as its API holds them.
    fn api_ds(&self) -> &[DsRecord] {
        match &self.obs.parent {
            ParentObs::ParentZone { ds, .. } => ds,
            _ => &[],
        }
    }

    fn registrar_keys(&self) -> Vec<&crate::state::RegistrarKeyObs> {
        match &self.obs.parent {
            ParentObs::Registrar(r) => r.keys.iter().collect(),
            _ => Vec::new(),
        }
    }

    fn registrar_op_in_flight(&self) -> Option<&crate::state::RegistrarOpObs> {
        match &self.obs.parent {
            ParentObs::Registrar(r) => r.operations.iter().find(|o| !o.status.is_finished()),
            _ => None,
        }
    }

    /// Whether a DS for the zone is *observed* somewhere: at a parent server that answered, in the
    /// parent API or at the registrar (a positive observation; gates that need "no DS" use
    /// `ds_possible`).
    fn any_ds(&self) -> bool {
        self.obs.live.any_parent_ds()
            || !self.api_ds().is_empty()
            || !self.registrar_keys().is_empty()
    }

    /// Whether a DS for the zone may exist anywhere, counting everything not observed as present
    /// (DESIGN §4, "not observed is never absent"): a parent server that did not answer, no parent
    /// server observed at all, a DS in the parent API, a key at the registrar, or a registrar
    /// operation still running (an ADD may yet publish a DS). The negation is the only proof that
    /// no DS is anywhere.
    fn ds_possible(&self) -> bool {
        !self.obs.live.ds_gone_everywhere()
            || !self.api_ds().is_empty()
            || !self.registrar_keys().is_empty()
            || self.registrar_op_in_flight().is_some()
    }

    fn ksk_matches_ds(&self, k: &KskObs, ds: &DsRecord) -> bool {
        k.ds == *ds || k.dnskey.matches(self.name, ds)
    }

    /// Steps of the journal with an Ok outcome, of one action kind, since the direction was set.
    fn done_in_journal(&self, id: &str) -> Option<&StepRecord> {
        self.zj.steps.iter().rev().find(|s| {
            s.step_id == id
                && s.intent_at >= self.direction_since
                && matches!(&s.outcome, Some(o) if o.result.is_ok())
        })
    }

    /// Whether every change id the journal holds for these actions is observed INSYNC.
    /// Whether the Route 53 changes of the matching steps are INSYNC (GetChange; the observer
    /// reports a several-batch action under its last change id, INSYNC once every batch is), and
    /// the ids still pending. A step whose effect was reconciled by observation after a crash has no
    /// change id to ask about: it counts as INSYNC only `propagation_margin` after it was
    /// reconciled (Route 53 propagates within about a minute), never at once.
    fn changes_insync(&self, pred: impl Fn(&Action) -> bool) -> (bool, Vec<String>) {
        let mut pending = Vec::new();
        for s in self.zj.steps.iter().filter(|s| pred(&s.action)) {
            let Some(o) = s.outcome.as_ref() else {
                continue;
            };
            let Ok(r) = &o.result else {
                continue;
            };
            if let Some(id) = &r.change_id {
                match self.obs.changes.get(id) {
                    Some(c) if c.status == ChangeStatus::Insync => {}
                    _ if self.zj.insync.contains_key(id) => {}
                    _ => pending.push(id.clone()),
                }
            } else if o.reconciled && r.change_ids.is_empty() {
                let assumed = self.safety.propagation_margin.after(o.at);
                if self.now < assumed {
                    pending.push(format!(
                        "{} (reconciled after a crash; assumed INSYNC at {assumed})",
                        s.step_id
                    ));
                }
            }
        }
        (pending.is_empty(), pending)
    }
}

pub(crate) fn plan_zone(
    input: &PlanInput<'_>,
    name: &ZoneName,
    spec: Option<&ZoneSpec>,
) -> (ZonePlan, Vec<JournalUpdate>) {
    let zj = input.journal.zones.get(name).cloned().unwrap_or_default();
    let direction = match (input.mode, spec) {
        (Mode::Destroy, _) => Direction::Destroy,
        (Mode::Apply, Some(s)) if s.signing.enabled && s.ds_absent => Direction::Withdraw,
        (Mode::Apply, Some(s)) if s.signing.enabled => Direction::Onboard,
        (Mode::Apply, Some(_)) => Direction::Destroy,
        (Mode::Apply, None) => Direction::Onboard,
    };
    let mut zp = ZonePlan {
        zone: name.clone(),
        kind: TargetKind::Zone,
        hosted_zone_id: spec.and_then(|s| s.hosted_zone_id.clone()),
        direction,
        steps: Vec::new(),
        drift: Vec::new(),
        issues: Vec::new(),
        key_states: None,
    };
    let mut updates = Vec::new();

    if spec.is_none() && input.mode == Mode::Apply {
        zp.issues.push(Issue {
            severity: Severity::Warning,
            code: "PLAN010".into(),
            message: format!("zone `{name}` is in the journal but no longer in the config"),
            help: format!(
                "run `dnssec-pilot destroy --zone {name}` to take it off DNSSEC safely, or put it back in the config"
            ),
        });
        return (zp, updates);
    }

    let Some(obs) = input.observed.zones.get(name) else {
        zp.issues.push(Issue {
            severity: Severity::Error,
            code: "PLAN001".into(),
            message: format!("zone `{name}` was not observed"),
            help: "check the provider's credentials and that the zone exists".into(),
        });
        return (zp, updates);
    };
    let Some(hz) = obs.hosted_zone.as_ref() else {
        zp.issues.push(Issue {
            severity: Severity::Error,
            code: "PLAN002".into(),
            message: format!("no hosted zone named `{name}` was found"),
            help: "create the hosted zone, or set `hosted_zone_id` to the right zone".into(),
        });
        return (zp, updates);
    };
    zp.hosted_zone_id = Some(hz.id.clone());

    if !input.journal.zones.contains_key(name) {
        let evidence = prior_work(name, spec, obs);
        if !evidence.is_empty() {
            zp.issues.push(Issue {
                severity: Severity::Error,
                code: "PLAN017".into(),
                message: format!(
                    "the journal holds nothing for `{name}`, but the zone shows DNSSEC work: {}; a plan without the history (when the DS was published, which TTLs it had) could stop signing while a DS is cached",
                    evidence.join(", ")
                ),
                help: "restore the journal (`--state FILE`; each write keeps the previous version beside it), or, if it is lost or the zone was set up outside dnssec-pilot, run again with `--fresh-journal`: every unknown is then assumed at its worst (a DS cached for 2 days, unsigned answers for a week)".into(),
            });
            return (zp, updates);
        }
    }

    let baseline = match &zj.baseline {
        Some(b) => b.clone(),
        None => {
            let b = capture_baseline(name, hz, obs, input.now);
            updates.push(JournalUpdate::Baseline {
                zone: name.clone(),
                baseline: b.clone(),
            });
            b
        }
    };

    for id in zj
        .steps
        .iter()
        .filter_map(|s| s.outcome.as_ref()?.result.as_ref().ok()?.change_id.as_ref())
    {
        if !zj.insync.contains_key(id)
            && obs
                .changes
                .get(id)
                .is_some_and(|c| c.status == ChangeStatus::Insync)
            && !updates.iter().any(
                |u| matches!(u, JournalUpdate::ChangeInsync { change_id, .. } if change_id == id),
            )
        {
            updates.push(JournalUpdate::ChangeInsync {
                zone: name.clone(),
                change_id: id.clone(),
                at: input.now,
            });
        }
    }

    let direction_changed = !matches!(zj.direction, Some(d) if d.direction == direction);
    let direction_since = match zj.direction {
        Some(d) if d.direction == direction => d.since,
        _ => {
            updates.push(JournalUpdate::Direction {
                zone: name.clone(),
                target: TargetKind::Zone,
                direction,
                at: input.now,
            });
            input.now
        }
    };

    let mut marks = Marks::default();
    for (m, t) in &zj.marks {
        marks.map.insert((*m).into(), *t);
    }

    let safety = spec.map(|s| s.safety.clone()).unwrap_or_default();
    let mut cx = Ctx {
        name,
        spec,
        obs,
        hz,
        zj,
        now: input.now,
        safety,
        baseline,
        marks,
        updates,
        drift: Vec::new(),
        issues: Vec::new(),
        direction_since,
        direction,
    };

    record_ds_ttl(&mut cx);
    drop_stale_marks(&mut cx, direction_changed);
    let drafts = match (direction, spec) {
        (Direction::Onboard, Some(s)) => onboard::onboard(&mut cx, s),
        (Direction::Withdraw, Some(s)) => onboard::withdraw(&mut cx, s),
        (Direction::Destroy, _) => destroy::destroy(&mut cx),
        (_, None) => Vec::new(),
    };

    zp.key_states = Some(keys::key_states(&cx, &drafts, direction));
    zp.steps = finish_steps(name, drafts);
    zp.drift = cx.drift;
    zp.issues = cx.issues;
    (zp, cx.updates)
}

/// What the world shows that only a DNSSEC history explains: signing on (or failing), a KSK the
/// config names, a DS at the parent (API, registrar or any parent server). Empty for a zone that
/// was never touched.
fn prior_work(name: &ZoneName, spec: Option<&ZoneSpec>, obs: &ZoneObs) -> Vec<String> {
    let mut out = Vec::new();
    if obs.dnssec.status != SigningStatus::NotSigning {
        out.push(format!(
            "Route 53 reports signing status {}",
            status_str(obs.dnssec.status)
        ));
    }
    if let Some(s) = spec {
        for k in &s.signing.ksks {
            if obs.dnssec.ksk(&k.name).is_some() {
                out.push(format!("KSK `{}` exists", k.name));
            }
        }
    }
    let ds = match &obs.parent {
        ParentObs::ParentZone { ds, .. } => !ds.is_empty(),
        ParentObs::Registrar(r) => !r.keys.is_empty(),
        ParentObs::Unknown => false,
    } || obs.live.any_parent_ds();
    if ds {
        out.push(format!("a DS for `{name}` is published"));
    }
    out
}

/// "Since" instants are positive observations: each is dropped the moment it is observed false,
/// whichever direction is planned, and the destroy walk's instants are dropped on any change of
/// direction (what happened while the other direction ran was not watched by these rules, so the
/// walk back starts its waits afresh — destroy → re-enable → destroy never reuses an old
/// "DS gone since").
fn drop_stale_marks(cx: &mut Ctx<'_>, direction_changed: bool) {
    if direction_changed {
        cx.clear_mark(Mark::DsGoneEverywhere);
        cx.clear_mark(Mark::SigningDisabledInsync);
        // Back to onboarding after a walk back (destroy, or a DS withdrawn): the chain of trust
        // is built afresh — its DS seen everywhere, trust and the soak are dated anew, and a DS
        // the walk back took out is not "removed outside dnssec-pilot".
        if cx.direction == Direction::Onboard && cx.zj.direction.is_some() {
            cx.clear_mark(Mark::DsSeenEverywhere);
            cx.clear_mark(Mark::TrustEstablished);
            cx.clear_mark(Mark::DsLost);
        }
        // A destroy that turned signing off leaves no "signing INSYNC since" behind it: the
        // way back in starts at prepare again (not at `create_ksk`).
        if !cx.signing() && cx.zj.direction.is_some() {
            cx.clear_mark(Mark::SigningInsync);
        }
    }
    if cx.ds_possible() {
        cx.clear_mark(Mark::DsGoneEverywhere);
    }
    if !matches!(cx.obs.dnssec.status, SigningStatus::NotSigning) {
        cx.clear_mark(Mark::SigningDisabledInsync);
    }
}

/// The zone as it is before the tool's first change.
fn capture_baseline(
    name: &ZoneName,
    hz: &HostedZoneObs,
    obs: &ZoneObs,
    now: Timestamp,
) -> Baseline {
    let mut record_ttls: Vec<BaselineTtl> = hz
        .record_sets
        .iter()
        .filter_map(|r| {
            r.ttl.map(|ttl| BaselineTtl {
                record: r.record_ref(),
                ttl,
            })
        })
        .collect();
    record_ttls.sort_by(|a, b| a.record.cmp(&b.record));
    let (mut max_ttl, mut max_ttl_record) = (hz.soa.ttl, format!("{name} SOA"));
    for b in &record_ttls {
        if b.ttl > max_ttl {
            max_ttl = b.ttl;
            max_ttl_record = b.record.to_string();
        }
    }
    let parent_ds_ttl = match &obs.parent {
        ParentObs::ParentZone { ds, ds_ttl, .. } if !ds.is_empty() => *ds_ttl,
        _ => None,
    };
    let was_signing = obs.dnssec.status == SigningStatus::Signing;
    let was_trusted = was_signing
        && obs.live.ds_at_every_parent(|ds| {
            obs.dnssec
                .ksks
                .iter()
                .filter(|k| k.status == KskStatus::Active)
                .any(|k| k.ds == *ds || k.dnskey.matches(name, ds))
        });
    Baseline {
        captured_at: now,
        record_ttls,
        soa_ttl: hz.soa.ttl,
        soa_minimum: hz.soa.minimum,
        max_ttl,
        max_ttl_record,
        was_signing,
        parent_ds_ttl,
        was_trusted,
    }
}

/// Remembers the largest DS TTL ever seen: how long a resolver may hold the DS after it is gone.
fn record_ds_ttl(cx: &mut Ctx<'_>) {
    let api = match &cx.obs.parent {
        ParentObs::ParentZone { ds, ds_ttl, .. } if !ds.is_empty() => *ds_ttl,
        _ => None,
    };
    let seen = [cx.obs.live.max_parent_ds_ttl(), api]
        .into_iter()
        .flatten()
        .max();
    if let Some(t) = seen
        && cx.zj.max_ds_ttl_seen.is_none_or(|m| t > m)
    {
        cx.zj.max_ds_ttl_seen = Some(t);
        cx.updates.push(JournalUpdate::MaxDsTtl {
            zone: cx.name.clone(),
            ttl: t,
        });
    }
}

fn ds_target(spec: &ZoneSpec) -> DsTarget {
    match &spec.trust {
        Some(Trust::ParentZone {
            hosted_zone_id,
            parent,
            ..
        }) => DsTarget::ParentZone {
            hosted_zone_id: hosted_zone_id.clone(),
            parent: parent.clone(),
        },
        Some(Trust::Route53Domains) => DsTarget::Route53Domains,
        Some(Trust::External) | None => DsTarget::External,
    }
}

fn fmt_ds(zone: &ZoneName, ds: &[DsRecord]) -> String {
    if ds.is_empty() {
        return "none".into();
    }
    ds.iter()
        .map(|d| format!("{} DS {d}", zone.fqdn()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The DS to publish, or what it will be once the KSKs exist.
fn planned_ds(zone: &ZoneName, ds: &[DsRecord], spec: &ZoneSpec) -> String {
    if ds.is_empty() {
        let names: Vec<&str> = spec.signing.ksks.iter().map(|k| k.name.as_str()).collect();
        format!(
            "the DS of KSK {} (known once it is active)",
            names.join(", ")
        )
    } else {
        fmt_ds(zone, ds)
    }
}

/// The status as Route 53 spells it.
fn status_str(s: SigningStatus) -> &'static str {
    match s {
        SigningStatus::Signing => "SIGNING",
        SigningStatus::NotSigning => "NOT_SIGNING",
        SigningStatus::Deleting => "DELETING",
        SigningStatus::ActionNeeded => "ACTION_NEEDED",
        SigningStatus::InternalFailure => "INTERNAL_FAILURE",
    }
}

fn registrar_op_gate(cx: &Ctx<'_>) -> crate::plan::Gate {
    match cx.registrar_op_in_flight() {
        Some(op) => observable(
            Rule::RegistrarOneOperation,
            false,
            format!(
                "registrar operation {} ({}) is {:?}; Route 53 Domains takes one key at a time",
                op.id, op.kind, op.status
            ),
        ),
        None => observable(
            Rule::RegistrarOneOperation,
            true,
            "no registrar operation in flight",
        ),
    }
}

fn same_set(a: &[DsRecord], b: &[DsRecord]) -> bool {
    let set = |v: &[DsRecord]| -> BTreeSet<_> {
        v.iter()
            .map(|d| {
                (
                    d.key_tag,
                    d.algorithm,
                    d.digest_type,
                    d.digest.to_ascii_uppercase(),
                )
            })
            .collect()
    };
    set(a) == set(b)
}
