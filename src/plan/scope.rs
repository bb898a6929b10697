//! Which zones and domains one observation covers, and what to ask about each
//! ([`Scope`](crate::state::Scope)): the config's zones and domains plus those only the journal
//! still remembers (removed from the config mid-way; planned back to their baseline, so they
//! must be seen), narrowed by `--zone`, each with the change and operation ids its journal
//! outcomes hold. Pure, like the planner: the providers observe exactly this.

use std::collections::BTreeMap;

use crate::config::{Desired, Trust};
use crate::model::{Action, DsTarget, Timestamp, Ttl, ZoneName};
use crate::state::{ChangeWatch, DomainScope, Journal, RecordRead, Scope, StepRecord, ZoneScope};

/// The observation scope of a run over `desired` and `journal`, narrowed to `only` (empty: all).
pub fn scope(desired: &Desired, journal: &Journal, only: &[ZoneName]) -> Scope {
    let in_scope = |n: &ZoneName| only.is_empty() || only.contains(n);
    let mut zones: BTreeMap<&ZoneName, ZoneScope> = BTreeMap::new();
    for z in desired.zones.iter().filter(|z| in_scope(&z.name)) {
        let steps = journal.zone(&z.name).map_or(&[][..], |j| &j.steps[..]);
        zones.insert(
            &z.name,
            ZoneScope {
                name: z.name.clone(),
                hosted_zone_id: z.hosted_zone_id.clone(),
                trust: z.trust.clone(),
                dns: z.dns.clone(),
                changes: changes(steps, journal.zone(&z.name).map(|j| &j.insync)),
                operations: operations(steps),
            },
        );
    }
    for (name, zj) in journal.zones.iter().filter(|(n, _)| in_scope(n)) {
        if zones.contains_key(name) {
            continue;
        }
        zones.insert(
            name,
            ZoneScope {
                name: name.clone(),
                hosted_zone_id: None,
                trust: trust_from_steps(&zj.steps),
                dns: Default::default(),
                changes: changes(&zj.steps, Some(&zj.insync)),
                operations: operations(&zj.steps),
            },
        );
    }
    let mut domains: BTreeMap<&ZoneName, DomainScope> = BTreeMap::new();
    for d in desired.domains.iter().filter(|d| in_scope(&d.name)) {
        let steps = journal.domain(&d.name).map_or(&[][..], |j| &j.steps[..]);
        domains.insert(
            &d.name,
            DomainScope {
                name: d.name.clone(),
                dns: d.dns.clone(),
                operations: operations(steps),
            },
        );
    }
    for (name, dj) in journal.domains.iter().filter(|(n, _)| in_scope(n)) {
        domains.entry(name).or_insert_with(|| DomainScope {
            name: name.clone(),
            dns: Default::default(),
            operations: operations(&dj.steps),
        });
    }
    Scope {
        zones: zones.into_values().collect(),
        domains: domains.into_values().collect(),
        records: RecordRead::Full,
    }
}

/// The changes the steps' successful outcomes name, each once, except those the journal already
/// saw INSYNC (final in Route 53: asking again would cost a `GetChange` per change per run).
fn changes(steps: &[StepRecord], insync: Option<&BTreeMap<String, Timestamp>>) -> Vec<ChangeWatch> {
    let mut out: Vec<ChangeWatch> = Vec::new();
    for s in steps {
        let Some(Ok(r)) = s.outcome.as_ref().map(|o| &o.result) else {
            continue;
        };
        let Some(main) = &r.change_id else { continue };
        if out.iter().any(|c| &c.id == main) || insync.is_some_and(|m| m.contains_key(main)) {
            continue;
        }
        let mut batches: Vec<String> = r.change_ids.iter().map(|i| bare(i)).collect();
        let main_bare = bare(main);
        if !batches.contains(&main_bare) {
            batches.push(main_bare);
        }
        out.push(ChangeWatch {
            id: main.clone(),
            batches,
        });
    }
    out
}

/// The registrar operations the steps' successful outcomes name, each once.
fn operations(steps: &[StepRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in steps {
        if let Some(Ok(r)) = s.outcome.as_ref().map(|o| &o.result)
            && let Some(op) = &r.operation_id
            && !out.contains(op)
        {
            out.push(op.clone());
        }
    }
    out
}

/// `/change/C123` → `C123`.
fn bare(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

/// For a zone only the journal remembers: the DS target its last DS step used.
fn trust_from_steps(steps: &[StepRecord]) -> Option<Trust> {
    steps.iter().rev().find_map(|s| match &s.action {
        Action::PublishDs { target, .. } | Action::RemoveDs { target, .. } => match target {
            DsTarget::ParentZone {
                hosted_zone_id,
                parent,
            } => Some(Trust::ParentZone {
                hosted_zone_id: hosted_zone_id.clone(),
                parent: parent.clone(),
                ds_ttl: Ttl(300),
            }),
            DsTarget::Route53Domains => Some(Trust::Route53Domains),
            DsTarget::External => Some(Trust::External),
        },
        Action::AddRegistrarKey { .. } | Action::RemoveRegistrarKey { .. } => {
            Some(Trust::Route53Domains)
        }
        _ => None,
    })
}
