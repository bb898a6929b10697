//! Planning a registrar-only domain (seed 003): a domain registered with Route 53 Domains whose
//! DNS is signed elsewhere. Keys are added only once the zone serves the matching DNSKEY at every
//! name server, one registrar operation at a time, never above the TLD's limit; rotation is add
//! new, wait, delete old; destroy deletes every key, then tells the operator when the DNS provider
//! may stop signing (up to three days later).

use crate::config::{DomainSpec, RegistrarKeySpec, Safety, registrar_key_limit};
use crate::model::{Action, Dnskey, Timestamp, ZoneName};
use crate::state::{Direction, DomainJournal, DomainObs, Mark, RegistrarKeyObs};

use super::gates::{Draft, Marks, Rule, Since, observable, time_gate};
use super::{
    Issue, JournalUpdate, Mode, Phase, PlanInput, Severity, TargetKind, ZonePlan, finish_steps,
};

/// The journal key of a registrar key: key tag and the start of the public key.
pub(crate) fn key_id(k: &Dnskey) -> String {
    let tag = k.key_tag().unwrap_or(0);
    let prefix: String = k.public_key.chars().take(16).collect();
    format!("{tag}/{}/{prefix}", k.algorithm)
}

fn same_key(a: &Dnskey, b: &Dnskey) -> bool {
    a.algorithm == b.algorithm && a.public_key == b.public_key
}

pub(crate) fn plan_domain(
    input: &PlanInput<'_>,
    name: &ZoneName,
    spec: Option<&DomainSpec>,
) -> (ZonePlan, Vec<JournalUpdate>) {
    let dj: DomainJournal = input.journal.domains.get(name).cloned().unwrap_or_default();
    let direction = match (input.mode, spec) {
        (Mode::Apply, Some(_)) => Direction::Onboard,
        _ => Direction::Destroy,
    };
    let mut zp = ZonePlan {
        zone: name.clone(),
        kind: TargetKind::Domain,
        hosted_zone_id: None,
        direction,
        steps: Vec::new(),
        drift: Vec::new(),
        issues: Vec::new(),
        key_states: None,
    };
    let mut updates = Vec::new();
    let now = input.now;
    if spec.is_none() && input.mode == Mode::Apply {
        zp.issues.push(Issue {
            severity: Severity::Warning,
            code: "PLAN010".into(),
            message: format!("domain `{name}` is in the journal but no longer in the config"),
            help: format!(
                "run `dnssec-pilot destroy --zone {name}` to remove its registrar keys safely"
            ),
        });
        return (zp, updates);
    }
    let Some(obs) = input.observed.domains.get(name) else {
        zp.issues.push(Issue {
            severity: Severity::Error,
            code: "PLAN001".into(),
            message: format!("domain `{name}` was not observed"),
            help: "check the provider's credentials".into(),
        });
        return (zp, updates);
    };
    let Some(reg) = obs.registrar.as_ref() else {
        zp.issues.push(Issue {
            severity: Severity::Error,
            code: "PLAN008".into(),
            message: format!("Route 53 Domains does not know `{name}`"),
            help: "register or transfer the domain to Route 53 Domains first".into(),
        });
        return (zp, updates);
    };
    let safety = spec.map(|s| s.safety.clone()).unwrap_or_default();
    let direction_changed = !matches!(dj.direction, Some(d) if d.direction == direction);
    let direction_since = match dj.direction {
        Some(d) if d.direction == direction => d.since,
        _ => {
            updates.push(JournalUpdate::Direction {
                zone: name.clone(),
                target: TargetKind::Domain,
                direction,
                at: now,
            });
            now
        }
    };
    let mut marks = Marks::default();
    for (m, t) in &dj.marks {
        marks.map.insert((*m).into(), *t);
    }
    // First-seen instants of every key at the registrar.
    let mut key_added = dj.key_added_at.clone();
    for k in &reg.keys {
        let id = key_id(&k.key);
        if !key_added.contains_key(&id) {
            key_added.insert(id.clone(), now);
            updates.push(JournalUpdate::KeyAdded {
                zone: name.clone(),
                key: id.clone(),
                at: now,
            });
        }
    }
    for (id, t) in &key_added {
        marks.map.insert(Since::KeyAdded(id.clone()), *t);
    }

    let op_gate = match reg.operations.iter().find(|o| !o.status.is_finished()) {
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
    };
    for op in reg.operations.iter().filter(|o| {
        matches!(
            o.status,
            crate::state::OperationStatus::Error | crate::state::OperationStatus::Failed
        )
    }) {
        zp.issues.push(Issue {
            severity: Severity::Warning,
            code: "PLAN013".into(),
            message: format!(
                "registrar operation {} ({}) ended {:?}{}",
                op.id,
                op.kind,
                op.status,
                op.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            help:
                "read the registry's message; apply submits the key again once the cause is fixed"
                    .into(),
        });
    }

    let mut drafts = Vec::new();
    let ctx = DomainCtx {
        name,
        now,
        safety: &safety,
        marks: &marks,
        direction_since,
        dj: &dj,
    };
    match (direction, spec) {
        (Direction::Onboard, Some(spec)) => {
            let wanted = wanted_keys(spec, obs, &mut zp.issues, name);
            onboard(
                &ctx,
                &wanted,
                &reg.keys,
                obs,
                &op_gate,
                &mut drafts,
                &mut zp.issues,
            );
        }
        _ => {
            // Keys gone means none held and none on the way: an operation still running (an
            // ADD may yet publish a key) keeps the "since" instant unset.
            let gone = reg.keys.is_empty() && reg.operations.iter().all(|o| o.status.is_finished());
            // The instant the keys were last seen gone; a new walk back (a change of direction)
            // does not reuse the old one: what happened in between was not watched.
            let mut m2 = marks.clone();
            let key = Since::Mark(Mark::KeysRemoved);
            if m2.get(key.clone()).is_some() && (direction_changed || !gone) {
                m2.map.remove(&key);
                updates.push(JournalUpdate::ClearMark {
                    zone: name.clone(),
                    target: TargetKind::Domain,
                    mark: Mark::KeysRemoved,
                });
            }
            if gone && m2.get(key.clone()).is_none() {
                if !dj.steps.is_empty() || !dj.key_added_at.is_empty() {
                    updates.push(JournalUpdate::SetMark {
                        zone: name.clone(),
                        target: TargetKind::Domain,
                        mark: Mark::KeysRemoved,
                        at: now,
                    });
                }
                m2.map.insert(key, now);
            }
            destroy(&ctx, &m2, &reg.keys, obs, &op_gate, &mut drafts);
        }
    }
    zp.steps = finish_steps(name, drafts);
    (zp, updates)
}

struct DomainCtx<'a> {
    name: &'a ZoneName,
    now: Timestamp,
    safety: &'a Safety,
    marks: &'a Marks,
    direction_since: Timestamp,
    dj: &'a DomainJournal,
}

/// The keys the config wants at the registrar: given ones, or the zone's served SEP keys.
fn wanted_keys(
    spec: &DomainSpec,
    obs: &DomainObs,
    issues: &mut Vec<Issue>,
    name: &ZoneName,
) -> Vec<Dnskey> {
    let mut out: Vec<Dnskey> = Vec::new();
    for k in &spec.registrar_keys {
        match k {
            RegistrarKeySpec::Key(k) => out.push(k.clone()),
            RegistrarKeySpec::FromDns => {
                // SEP keys served by every answering zone server.
                let mut answering = obs
                    .live
                    .zone_servers
                    .iter()
                    .filter_map(|s| s.result.as_ref().ok());
                let Some(first) = answering.next() else {
                    issues.push(Issue {
                        severity: Severity::Error,
                        code: "PLAN014".into(),
                        message: format!("`from_dns` for `{name}` but no zone server answered"),
                        help: "check the zone's name servers, or list the keys in the config"
                            .into(),
                    });
                    continue;
                };
                let rest: Vec<_> = answering.collect();
                for k in first
                    .dnskeys
                    .iter()
                    .filter(|k| k.is_sep() && k.is_zone_key())
                {
                    if rest
                        .iter()
                        .all(|a| a.dnskeys.iter().any(|o| same_key(o, k)))
                    {
                        out.push(k.clone());
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn onboard(
    cx: &DomainCtx<'_>,
    wanted: &[Dnskey],
    have: &[RegistrarKeyObs],
    obs: &DomainObs,
    op_gate: &crate::plan::Gate,
    drafts: &mut Vec<Draft>,
    issues: &mut Vec<Issue>,
) {
    let limit = registrar_key_limit(cx.name);
    let to_add: Vec<&Dnskey> = wanted
        .iter()
        .filter(|w| !have.iter().any(|h| same_key(&h.key, w)))
        .collect();
    if have.len() + to_add.len() > limit {
        issues.push(Issue {
            severity: Severity::Error,
            code: "PLAN009".into(),
            message: format!(
                "`{}` would hold {} keys at the registrar; the .{} limit is {limit}",
                cx.name,
                have.len() + to_add.len(),
                cx.name.tld()
            ),
            help: "remove unused keys first (seed 003)".into(),
        });
        return;
    }
    for w in wanted {
        let present = have.iter().any(|h| same_key(&h.key, w));
        let tag = w.key_tag().unwrap_or(0);
        let served = obs.live.key_signs_at_every_zone_server(w);
        let answering = obs
            .live
            .zone_servers
            .iter()
            .filter(|s| s.result.is_ok())
            .count();
        drafts.push(
            Draft::new(
                format!("{}/add_registrar_key/{tag}", cx.name),
                Phase::RegistrarKeys,
                Action::AddRegistrarKey {
                    domain: cx.name.clone(),
                    key: w.clone(),
                },
                "the key goes to the registry once the zone serves it everywhere (seed 003: configure DNSSEC at the DNS provider first)",
            )
            .done(present)
            .change(format!("registrar key {tag} (flags {}, algorithm {})", w.flags, w.algorithm), "absent", "present")
            .gate(observable(
                Rule::DnskeyAtEveryZoneServer,
                served,
                format!(
                    "every zone server serves DNSKEY {tag} and its signature over the DNSKEY RRset verifies ({answering} of {} answered)",
                    obs.live.zone_servers.len()
                ),
            ))
            .gate(op_gate.clone())
            .produces(Since::KeyAdded(key_id(w))),
        );
    }
    // Rotation: old keys go after every new key has been in place for the deletion delay.
    let newest = wanted
        .iter()
        .map(|w| Since::KeyAdded(key_id(w)))
        .max_by_key(|m| cx.marks.get(m.clone()));
    let remaining_sign = !wanted.is_empty()
        && wanted
            .iter()
            .all(|w| obs.live.key_signs_at_every_zone_server(w));
    let remaining_ds = !wanted.is_empty()
        && wanted
            .iter()
            .all(|w| obs.live.ds_at_every_parent(|ds| w.matches(cx.name, ds)));
    for h in have
        .iter()
        .filter(|h| !wanted.iter().any(|w| same_key(&h.key, w)))
    {
        let tag = h.key.key_tag().unwrap_or(0);
        let mut d = Draft::new(
            format!("{}/remove_registrar_key/{tag}", cx.name),
            Phase::RegistrarKeys,
            Action::RemoveRegistrarKey {
                domain: cx.name.clone(),
                key: h.key.clone(),
            },
            "key rotation: the old key goes once the new one has been published long enough (seed 003: up to three days)",
        )
        .change(format!("registrar key {tag} (id {})", h.id), "present", "absent")
        .gate(observable(
            Rule::RemainingKeysSign,
            remaining_sign,
            "every configured key signs the DNSKEY RRset at every zone server (a DS must point at a key that signs)",
        ))
        .gate(observable(
            Rule::RemainingDsAtEveryParentServer,
            remaining_ds,
            "every parent server serves the DS of every configured key",
        ))
        .gate(op_gate.clone());
        if let Some(m) = &newest {
            d = d.gate(time_gate(
                Rule::RegistrarKeyDeletionDelay,
                cx.marks,
                cx.now,
                m.clone(),
                cx.safety.registrar_key_deletion_delay,
                format!(
                    "new key published for {}",
                    cx.safety.registrar_key_deletion_delay.human()
                ),
            ));
        }
        drafts.push(d);
    }
}

fn destroy(
    cx: &DomainCtx<'_>,
    marks: &Marks,
    have: &[RegistrarKeyObs],
    obs: &DomainObs,
    op_gate: &crate::plan::Gate,
    drafts: &mut Vec<Draft>,
) {
    for h in have {
        let tag = h.key.key_tag().unwrap_or(0);
        drafts.push(
            Draft::new(
                format!("{}/remove_registrar_key/{tag}", cx.name),
                Phase::Untrust,
                Action::RemoveRegistrarKey {
                    domain: cx.name.clone(),
                    key: h.key.clone(),
                },
                "keys go before the DNS provider stops signing (seed 003: delete public keys first, one at a time)",
            )
            .change(format!("registrar key {tag} (id {})", h.id), "present", "absent")
            .gate(op_gate.clone())
            .produces(Mark::KeysRemoved),
        );
    }
    if have.is_empty() && cx.dj.steps.is_empty() && cx.dj.key_added_at.is_empty() {
        return;
    }
    let id = format!("{}/disable_at_dns_provider", cx.name);
    let shown = cx.dj.steps.iter().any(|s| {
        s.step_id == id
            && s.intent_at >= cx.direction_since
            && matches!(&s.outcome, Some(o) if o.result.is_ok())
    });
    let delay = cx.safety.registrar_key_deletion_delay;
    drafts.push(
        Draft::new(
            id,
            Phase::Unsign,
            Action::Manual {
                instruction: format!(
                    "Every registrar key of `{}` is gone and {} have passed: DNSSEC may now be disabled at the DNS provider.",
                    cx.name,
                    delay.human()
                ),
            },
            "resolvers may hold the DS for up to three days after the keys are deleted (seed 003)",
        )
        .done(shown)
        .gate(observable(
            Rule::DsGoneEverywhere,
            obs.live.ds_gone_everywhere(),
            "every parent server answered with no DS for the domain (a server that did not answer, or none observed, keeps this closed)",
        ))
        .gate(op_gate.clone())
        .gate(time_gate(
            Rule::RegistrarKeyDeletionDelay,
            marks,
            cx.now,
            Mark::KeysRemoved,
            delay,
            format!("keys deleted {} ago at least (seed 003: up to three days)", delay.human()),
        )),
    );
}
