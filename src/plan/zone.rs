//! Planning one Route 53 hosted zone: onboarding (seed 000 steps 1–3 and the optional
//! lengthening) and destroy (seed 000 rollbacks in reverse: DS out first, wait until no resolver
//! can hold it, only then stop signing, then the KSKs, then the baseline TTLs). Drift repairs fall
//! out of the same rules: every step's "done" is decided from what is observed, not remembered.

use std::collections::BTreeSet;

use crate::config::{Safety, Trust, ZoneSpec};
use crate::model::{
    Action, DsRecord, DsTarget, MAX_SIGNED_TTL, Secs, SoaChange, Timestamp, Ttl, TtlChange,
    ZoneName,
};
use crate::state::{
    Baseline, BaselineTtl, ChangeStatus, Direction, HostedZoneObs, KskObs, KskStatus, Mark,
    ParentObs, SigningStatus, StepRecord, ZoneJournal, ZoneObs,
};

use super::gates::{Draft, Marks, observable, time_gate};
use super::{
    Drift, Issue, JournalUpdate, Mode, Phase, PlanInput, Severity, TargetKind, ZonePlan,
    finish_steps,
};

const PREPARE: &str = "prepare_insync";
const SIGNING: &str = "signing_insync";
const DS_SEEN: &str = "ds_seen_everywhere";
const TRUSTED: &str = "trust_established";
const DS_LOST: &str = "ds_lost";
const DS_GONE: &str = "ds_gone_everywhere";

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
}

impl Ctx<'_> {
    fn set_mark(&mut self, mark: Mark) {
        if self.marks.get(mark.as_str()).is_none() {
            self.marks.map.insert(mark.as_str().to_string(), self.now);
            self.updates.push(JournalUpdate::SetMark {
                zone: self.name.clone(),
                target: TargetKind::Zone,
                mark,
                at: self.now,
            });
        }
    }

    fn clear_mark(&mut self, mark: Mark) {
        if self.marks.map.remove(mark.as_str()).is_some() {
            self.updates.push(JournalUpdate::ClearMark {
                zone: self.name.clone(),
                target: TargetKind::Zone,
                mark,
            });
        }
    }

    fn has(&self, mark: &str) -> bool {
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
        marks.map.insert(m.as_str().to_string(), *t);
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
    };

    record_ds_ttl(&mut cx);
    drop_stale_marks(&mut cx, direction_changed);
    let drafts = if direction == Direction::Onboard {
        match spec {
            Some(s) => onboard(&mut cx, s),
            None => Vec::new(),
        }
    } else {
        destroy(&mut cx)
    };

    zp.steps = finish_steps(name, drafts);
    zp.drift = cx.drift;
    zp.issues = cx.issues;
    (zp, cx.updates)
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

/// Seed 000, forwards.
fn onboard(cx: &mut Ctx<'_>, spec: &ZoneSpec) -> Vec<Draft> {
    let mut drafts = Vec::new();
    let signing = cx.signing();

    // Broken states a person must fix first.
    if matches!(
        cx.obs.dnssec.status,
        SigningStatus::ActionNeeded | SigningStatus::InternalFailure
    ) {
        cx.issue(
            Severity::Error,
            "PLAN003",
            format!(
                "Route 53 reports signing status {} for `{}`{}",
                status_str(cx.obs.dnssec.status),
                cx.name,
                cx.obs.dnssec.status_message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
            "a KSK's KMS key lost its grant or was disabled: restore the key policy (dnssec-route53.amazonaws.com needs kms:DescribeKey, kms:GetPublicKey, kms:Sign) and enable the key; then run apply again",
        );
        return drafts;
    }
    let broken: Vec<String> = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| {
            matches!(
                k.status,
                KskStatus::ActionNeeded | KskStatus::InternalFailure
            )
        })
        .map(|k| format!("`{}` ({:?})", k.name, k.status))
        .collect();
    if !broken.is_empty() {
        cx.issue(
            Severity::Error,
            "PLAN004",
            format!("KSK {} of `{}` needs attention", broken.join(", "), cx.name),
            "the KMS key behind it lost its grant, was disabled or is pending deletion: fix the key in KMS, then run apply again",
        );
        return drafts;
    }

    // Marks: facts first observed now.
    let emergency = !signing && cx.any_ds();
    let signing_reached = signing || cx.has(SIGNING) || cx.baseline.was_signing;
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
    if !signing_reached && (!above_cap.is_empty() || soa_high) {
        cx.clear_mark(Mark::PrepareInsync);
    }
    let (lower_insync, pending_changes) =
        cx.changes_insync(|a| matches!(a, Action::LowerTtls { .. } | Action::LowerSoa { .. }));
    if above_cap.is_empty() && !soa_high && lower_insync {
        cx.set_mark(Mark::PrepareInsync);
    }
    let (enable_insync, _) = cx.changes_insync(|a| matches!(a, Action::EnableSigning));
    if signing && enable_insync {
        cx.set_mark(Mark::SigningInsync);
    }
    if !signing && cx.has(SIGNING) {
        cx.drift.push(Drift {
            subject: format!("signing of {}", cx.name),
            expected: "SIGNING".into(),
            observed: status_str(cx.obs.dnssec.status).into(),
            reason: "signing was turned off outside dnssec-pilot".into(),
        });
        cx.clear_mark(Mark::SigningInsync);
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
        "prepare-insync",
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

    // Sign (seed 000 step 2).
    let existing = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| k.status != KskStatus::Deleting)
        .count();
    let missing: Vec<_> = spec
        .signing
        .ksks
        .iter()
        .filter(|k| cx.obs.dnssec.ksk(&k.name).is_none())
        .collect();
    if existing + missing.len() > 2 {
        cx.issue(
            Severity::Error,
            "PLAN006",
            format!(
                "`{}` would have {} KSKs; Route 53 allows 2",
                cx.name,
                existing + missing.len()
            ),
            "delete an unused KSK first, or list fewer KSKs in the config",
        );
    }
    // A KSK rollover (RFC 7583 §3.3): an active KSK the config no longer lists, while a listed one
    // is not active yet. Swapping the DS before the new DNSKEY is cached everywhere, or retiring
    // the old key while its DS is cached, makes the zone bogus; until the rollover walk exists it
    // is refused before any call, with the way to do it by hand.
    let retiring: Vec<&str> = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| {
            k.status == KskStatus::Active && !spec.signing.ksks.iter().any(|s| s.name == k.name)
        })
        .map(|k| k.name.as_str())
        .collect();
    let arriving: Vec<&str> = spec
        .signing
        .ksks
        .iter()
        .filter(|k| !matches!(cx.obs.dnssec.ksk(&k.name), Some(o) if o.status == KskStatus::Active))
        .map(|k| k.name.as_str())
        .collect();
    if !retiring.is_empty() && !arriving.is_empty() {
        cx.issue(
            Severity::Error,
            "PLAN015",
            format!(
                "`{}`: replacing KSK {} by {} is a KSK rollover, which dnssec-pilot does not carry out yet",
                cx.name,
                retiring.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                arriving.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
            "put the active KSK back in `signing.ksks` (the zone then stays as it is); a rollover to a new KSK needs dnssec-pilot's rollover support, not yet released",
        );
    }
    for k in &spec.signing.ksks {
        match cx.obs.dnssec.ksk(&k.name) {
            None => drafts.push(
                Draft::new(
                    cx.id(&format!("create_ksk/{}", k.name)),
                    Phase::Sign,
                    Action::CreateKsk {
                        name: k.name.clone(),
                        kms_arn: k.kms_key.clone(),
                    },
                    "a key-signing key backed by the KMS key signs the zone's DNSKEY set (seed 000 step 2)",
                )
                .change(format!("KSK {}", k.name), "absent", "ACTIVE")
                .gate(prepare_gate.clone()),
            ),
            Some(obs_k) => {
                if obs_k.kms_arn != k.kms_key {
                    cx.drift.push(Drift {
                        subject: format!("KMS key of KSK {}", k.name),
                        expected: k.kms_key.clone(),
                        observed: obs_k.kms_arn.clone(),
                        reason: "a KSK's KMS key cannot change; rotate to a new KSK name to use another key".into(),
                    });
                }
                if obs_k.status == KskStatus::Inactive {
                    drafts.push(
                        Draft::new(
                            cx.id(&format!("activate_ksk/{}", k.name)),
                            Phase::Sign,
                            Action::ActivateKsk { name: k.name.clone() },
                            "the KSK exists but is INACTIVE",
                        )
                        .change(format!("KSK {}", k.name), "INACTIVE", "ACTIVE")
                        .gate(prepare_gate.clone()),
                    );
                }
            }
        }
    }
    for k in &cx.obs.dnssec.ksks {
        if !spec.signing.ksks.iter().any(|s| s.name == k.name) {
            cx.drift.push(Drift {
                subject: format!("KSK {}", k.name),
                expected: "not in the config".into(),
                observed: format!("{:?}", k.status),
                reason: "left alone: dnssec-pilot only manages the KSKs in the config".into(),
            });
        }
    }
    let active: Vec<&KskObs> = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| {
            k.status == KskStatus::Active && spec.signing.ksks.iter().any(|s| s.name == k.name)
        })
        .collect();
    let enable = Draft::new(
        cx.id("enable_signing"),
        Phase::Sign,
        Action::EnableSigning,
        if emergency {
            "repair: the parent publishes a DS while the zone is unsigned".to_string()
        } else {
            "Route 53 signs the zone's answers (seed 000 step 2)".to_string()
        },
    )
    .done(signing)
    .change("signing", status_str(cx.obs.dnssec.status), "SIGNING")
    .gate(observable(
        "active-ksk",
        !active.is_empty(),
        "Route 53 needs an ACTIVE KSK before it signs",
    ))
    .gate(if emergency {
        observable(
            "prepare-insync",
            true,
            "skipped: repairing an outage comes first",
        )
    } else {
        prepare_gate.clone()
    })
    .produces(SIGNING);
    drafts.push(enable);

    // Trust (seed 000 step 3).
    let mut ds_records: Vec<DsRecord> = active.iter().map(|k| k.ds.clone()).collect();
    ds_records.sort();
    ds_records.dedup();
    let ds_everywhere = !active.is_empty()
        && cx
            .obs
            .live
            .ds_at_every_parent(|ds| active.iter().any(|k| cx.ksk_matches_ds(k, ds)));
    if ds_everywhere {
        cx.set_mark(Mark::DsSeenEverywhere);
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

    let publish_gates = publication_gates(cx, spec, &active);
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
            for k in &active {
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
                        "this registrar key matches no active KSK of the zone",
                    )
                    .change(format!("registrar key id {}", r.id), "present", "absent")
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

    // Trust established: the DS at every parent server, the margin, then the NS TTLs.
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
        "ds-at-every-parent-server",
        ds_everywhere || cx.has(TRUSTED),
        format!(
            "{seen_count} of {} parent server(s) serve a DS matching an active KSK",
            cx.obs.live.parent_servers.len()
        ),
    ))
    .gate(time_gate(
        "ds-propagation-margin",
        &cx.marks,
        cx.now,
        DS_SEEN,
        margin,
        format!("propagation margin {}", margin.human()),
    ))
    .gate(time_gate(
        "max-ns-ttl",
        &cx.marks,
        cx.now,
        DS_SEEN,
        Secs(margin.0 + u64::from(max_ns.0.0)),
        format!("margin + max NS TTL {} s ({})", max_ns.0.0, max_ns.1),
    ))
    .produces(TRUSTED);
    // A zone trusted before the tool first looked, whose DS the tool never asked for, is
    // adopted as trusted: there is no delegation change for resolvers to catch up with.
    let adopted = cx.baseline.was_trusted
        && ds_everywhere
        && !cx.zj.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::PublishDs { .. } | Action::AddRegistrarKey { .. } | Action::Manual { .. }
            )
        });
    if cx.has(TRUSTED) {
        await_trust = await_trust.done(true);
    } else if (adopted || await_trust.all_open()) && drafts.iter().all(|d| d.done) {
        cx.set_mark(Mark::TrustEstablished);
        await_trust = await_trust.done(true);
    }
    drafts.push(await_trust);

    // Finally (seed 000 step 3, optional): lengthen the DS TTL, restore TTLs — after the soak.
    let soak = cx.safety.soak;
    let soak_gate = time_gate(
        "trust-soak",
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
                    records: if ds.is_empty() { ds_records.clone() } else { ds.clone() },
                    from: cur,
                    to: spec.finally.ds_ttl,
                },
                "once trusted and soaked, a longer DS TTL eases the parent's load (seed 000 step 3: 1 hour)",
            )
            // Nothing to raise when the parent already holds the DS at the final TTL.
            .done(!ds.is_empty() && cur == spec.finally.ds_ttl)
            .change(format!("DS TTL of {} at {parent}", cx.name), cur.0, spec.finally.ds_ttl.0)
            .gate(soak_gate.clone()),
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

    // Signed zones: Route 53 caps TTLs at one week.
    for r in &cx.hz.record_sets {
        if let Some(t) = r.ttl
            && signing
            && t > MAX_SIGNED_TTL
        {
            cx.issue(
                Severity::Warning,
                "PLAN011",
                format!(
                    "{} has TTL {} above one week in a signed zone",
                    r.record_ref(),
                    t.0
                ),
                "Route 53 limits TTLs to 604800 s in signed zones: lower it",
            );
        }
    }
    drafts
}

/// Gates before the DS may be published (seed 000 step 2 waits, tightened).
fn publication_gates(cx: &Ctx<'_>, spec: &ZoneSpec, active: &[&KskObs]) -> Vec<crate::plan::Gate> {
    let mut g = Vec::new();
    let signing = cx.signing();
    g.push(observable(
        "signing-insync",
        signing && cx.has(SIGNING),
        "signing enabled and INSYNC at every Route 53 server (GetChange)",
    ));
    let served = !active.is_empty()
        && active
            .iter()
            .all(|k| cx.obs.live.dnskey_at_every_zone_server(&k.dnskey));
    let answering = cx
        .obs
        .live
        .zone_servers
        .iter()
        .filter(|s| s.result.is_ok())
        .count();
    g.push(observable(
        "zone-signed-everywhere",
        served,
        format!(
            "every zone server serves the KSK's DNSKEY with valid signatures ({answering} of {} answered)",
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
            "unsigned-cache-flush",
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
            "unsigned-cache-flush",
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
        "signed-cache-fill",
        &cx.marks,
        cx.now,
        SIGNING,
        new_max.secs(),
        format!("new max TTL {} s", new_max.0),
    ));
    g.push(time_gate(
        "signing-soak",
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

fn registrar_op_gate(cx: &Ctx<'_>) -> crate::plan::Gate {
    match cx.registrar_op_in_flight() {
        Some(op) => observable(
            "registrar-one-operation",
            false,
            format!(
                "registrar operation {} ({}) is {:?}; Route 53 Domains takes one key at a time",
                op.id, op.kind, op.status
            ),
        ),
        None => observable(
            "registrar-one-operation",
            true,
            "no registrar operation in flight",
        ),
    }
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

/// Record TTL changes back to the baseline (capped at one week when `signed`). With
/// `projected_cap`, TTLs not lowered yet count as lowered to it (so an onboarding plan shows its
/// restore step from the start).
fn restore_changes(cx: &Ctx<'_>, signed: bool, projected_cap: Option<Ttl>) -> Vec<TtlChange> {
    let mut out = Vec::new();
    for b in &cx.baseline.record_ttls {
        let Some(cur) = cx
            .hz
            .record_sets
            .iter()
            .find(|r| r.record_ref() == b.record)
            .and_then(|r| r.ttl)
        else {
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

fn restore_soa_change(
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

fn same_set(a: &[DsRecord], b: &[DsRecord]) -> bool {
    let a: BTreeSet<_> = a
        .iter()
        .map(|d| {
            (
                d.key_tag,
                d.algorithm,
                d.digest_type,
                d.digest.to_ascii_uppercase(),
            )
        })
        .collect();
    let b: BTreeSet<_> = b
        .iter()
        .map(|d| {
            (
                d.key_tag,
                d.algorithm,
                d.digest_type,
                d.digest.to_ascii_uppercase(),
            )
        })
        .collect();
    a == b
}

/// The longest a common validating resolver keeps an answer whatever its TTL (BIND 9's
/// `max-cache-ttl` default; Unbound's `cache-max-ttl` is one day).
const MAX_RESOLVER_CACHE_TTL: Ttl = Ttl(7 * 86_400);

/// The TTL assumed for a DS that was asked of a registrar but never seen: TLDs serve DS RRsets
/// with TTLs of a day or less (`com`, `net`, `org`: 86400 s); two days bounds them with room.
const UNSEEN_DS_TTL: Ttl = Ttl(2 * 86_400);

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
fn destroy(cx: &mut Ctx<'_>) -> Vec<Draft> {
    let mut drafts = Vec::new();
    let signing_on = !matches!(cx.obs.dnssec.status, SigningStatus::NotSigning);
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
            "ds-gone-everywhere",
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
            "ds-cache-expiry",
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

    // Unsign.
    let no_ds = observable(
        "no-ds-anywhere",
        !cx.ds_possible(),
        "every parent server answered with no DS, and no parent API, registrar key or registrar operation holds one",
    );
    let (disable_insync, _) = cx.changes_insync(|a| matches!(a, Action::DisableSigning));
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
        let ref_gate = observable(
            "no-ds-references-key",
            !referenced,
            format!("no DS references KSK `{}` (key tag {})", k.name, k.key_tag),
        );
        let signing_off = observable(
            "signing-disabled",
            !signing_on,
            "Route 53 no longer signs the zone",
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

    // Restore the baseline.
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
    drafts
}
