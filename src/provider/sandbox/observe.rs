//! Observing the sandbox world exactly as the AWS provider and the DNS observer observe the real
//! one: the Route 53 API view (hosted zone, record sets, SOA, `GetDNSSEC`, `GetChange` for the
//! change ids the journal holds), the parent's API view (Route 53 parent zone, Route 53 Domains
//! `GetDomainDetail` + `GetOperationDetail`, nothing for an outside registrar) and the live DNS,
//! server by server, each server serving what it has picked up so far (RFC 4035 §5 terms:
//! DS at each parent server, DNSKEY and signatures at each zone server).

use std::collections::BTreeSet;

use super::world::{KskState, ParentKind, SigningState, World, view_at};
use crate::model::{Secs, Timestamp, ZoneName};

/// How far ahead Route 53 keeps its RRSIGs valid while it signs (it re-signs well before they
/// expire; observed expiries sit about two weeks ahead).
const ROUTE53_SIGNATURE_VALIDITY: u64 = 14 * 86_400;
use crate::state::{
    ChangeObs, ChangeStatus, DnssecObs, DomainObs, HostedZoneObs, KskObs, KskStatus, LiveObs,
    Observed, OperationStatus, ParentAnswer, ParentObs, RecordSetObs, RegistrarKeyObs,
    RegistrarObs, RegistrarOpObs, Scope, ServerObs, SigningStatus, SoaObs, ZoneAnswer, ZoneObs,
    ZoneScope,
};

/// Observes exactly the zones and domains of the scope.
pub(crate) fn observe(w: &World, scope: &Scope) -> Observed {
    let mut out = Observed::default();
    for z in &scope.zones {
        out.zones.insert(z.name.clone(), observe_zone(w, z));
    }
    for d in &scope.domains {
        let ops: BTreeSet<String> = d.operations.iter().cloned().collect();
        out.domains.insert(
            d.name.clone(),
            DomainObs {
                registrar: registrar_obs(w, &d.name, &ops),
                live: live(w, &d.name),
            },
        );
    }
    out
}

fn observe_zone(w: &World, spec: &ZoneScope) -> ZoneObs {
    let name = &spec.name;
    let z = match spec.hosted_zone_id.as_deref() {
        Some(id) => w.zone_by_id(id).filter(|z| &z.name == name),
        None => w.zone(name),
    };
    let Some(z) = z else {
        return ZoneObs::default();
    };
    let change_ids: BTreeSet<String> = spec
        .changes
        .iter()
        .map(|c| c.id.trim_start_matches("/change/").to_string())
        .collect();
    let op_ids: BTreeSet<String> = spec.operations.iter().cloned().collect();
    let hosted_zone = HostedZoneObs {
        id: z.id.clone(),
        name_servers: z.name_servers.clone(),
        private: false,
        record_sets: z
            .records
            .iter()
            .map(|r| RecordSetObs {
                name: r.name.clone(),
                rtype: r.rtype.clone(),
                set_identifier: r.set_identifier.clone(),
                ttl: r.ttl,
                values: r.values.clone(),
                provider_data: r
                    .alias_target
                    .as_ref()
                    .map(|t| serde_json::json!({ "alias_target": t })),
            })
            .collect(),
        soa: SoaObs {
            ttl: z.soa.ttl,
            minimum: z.soa.minimum,
        },
    };
    let dnssec = DnssecObs {
        status: match z.signing {
            SigningState::NotSigning => SigningStatus::NotSigning,
            SigningState::Signing => SigningStatus::Signing,
            SigningState::ActionNeeded => SigningStatus::ActionNeeded,
        },
        status_message: (z.signing == SigningState::ActionNeeded).then(|| {
            "A key-signing key needs attention: Route 53 cannot use its KMS key".to_string()
        }),
        ksks: z
            .ksks
            .iter()
            .map(|k| KskObs {
                name: k.name.clone(),
                status: match k.status {
                    KskState::Active => KskStatus::Active,
                    KskState::Inactive => KskStatus::Inactive,
                    KskState::ActionNeeded => KskStatus::ActionNeeded,
                },
                status_message: (k.status == KskState::ActionNeeded)
                    .then(|| format!("Route 53 cannot use the KMS key {}", k.kms_arn)),
                kms_arn: k.kms_arn.clone(),
                key_tag: k.ds.key_tag,
                dnskey: k.dnskey.clone(),
                ds: k.ds.clone(),
                created_at: Some(k.created_at),
            })
            .collect(),
    };
    let changes = change_ids
        .iter()
        .filter_map(|id| w.changes.get(id))
        .map(|c| {
            (
                c.id.clone(),
                ChangeObs {
                    id: c.id.clone(),
                    status: if w.now >= c.insync_at {
                        ChangeStatus::Insync
                    } else {
                        ChangeStatus::Pending
                    },
                    submitted_at: c.submitted_at,
                },
            )
        })
        .collect();
    let parent = match &z.parent {
        ParentKind::ParentZone { hosted_zone_id } => match w
            .parent_zones
            .get(hosted_zone_id)
            .and_then(|p| p.delegations.get(name))
        {
            Some(d) => ParentObs::ParentZone {
                hosted_zone_id: hosted_zone_id.clone(),
                ds: d.ds.clone(),
                ds_ttl: (!d.ds.is_empty()).then_some(d.ds_ttl),
                ns_ttl: Some(d.ns_ttl),
            },
            None => ParentObs::Unknown,
        },
        ParentKind::Registrar => match registrar_obs(w, name, &op_ids) {
            Some(r) => ParentObs::Registrar(r),
            None => ParentObs::Unknown,
        },
        ParentKind::External => ParentObs::Unknown,
    };
    ZoneObs {
        hosted_zone: Some(hosted_zone),
        dnssec,
        changes,
        parent,
        live: live(w, name),
    }
}

fn op_status(now: Timestamp, submitted: Timestamp, applied: bool) -> OperationStatus {
    if applied {
        OperationStatus::Successful
    } else if now.as_second() - submitted.as_second() < 60 {
        OperationStatus::Submitted
    } else {
        OperationStatus::InProgress
    }
}

fn registrar_obs(w: &World, name: &ZoneName, asked: &BTreeSet<String>) -> Option<RegistrarObs> {
    let d = w.registrar.get(name)?;
    Some(RegistrarObs {
        keys: d
            .keys
            .iter()
            .map(|k| RegistrarKeyObs {
                id: k.id.clone(),
                key: k.key.clone(),
                digest: Some(k.digest.clone()),
            })
            .collect(),
        operations: d
            .operations
            .iter()
            .filter(|o| !o.applied || asked.contains(&o.id))
            .map(|o| RegistrarOpObs {
                id: o.id.clone(),
                kind: o.kind.clone(),
                status: op_status(w.now, o.submitted_at, o.applied),
                submitted_at: o.submitted_at,
                message: None,
            })
            .collect(),
    })
}

/// The live DNS view: every parent server and every zone server, each with what it serves now.
pub(crate) fn live(w: &World, name: &ZoneName) -> LiveObs {
    let now = w.now;
    let t = now.as_second();
    let parent_names: Vec<String> = match w.zone(name).map(|z| &z.parent) {
        Some(ParentKind::ParentZone { hosted_zone_id }) => w
            .parent_zones
            .get(hosted_zone_id)
            .map(|p| p.name_servers.clone())
            .unwrap_or_default(),
        Some(ParentKind::External) => w
            .external
            .get(name)
            .map(|e| e.tld_servers.clone())
            .unwrap_or_default(),
        Some(ParentKind::Registrar) | None => w
            .registrar
            .get(name)
            .map(|r| r.tld_servers.clone())
            .unwrap_or_default(),
    };
    let zone_names: Vec<String> = match (w.zone(name), w.outside_dns.get(name)) {
        (Some(z), _) => z.name_servers.clone(),
        (None, Some(o)) => o.name_servers.clone(),
        (None, None) => vec![],
    };
    let mut out = LiveObs::default();
    if let Some(hist) = w.parent_served.get(name) {
        for (i, server) in parent_names.iter().enumerate() {
            let lag = w
                .settings
                .parent_server_lags
                .get(i)
                .map(|l| l.0 as i64)
                .unwrap_or(0);
            if let Some(p) = view_at(hist, |s| s.at.as_second(), t, lag) {
                out.parent_servers.push(ServerObs {
                    server: server.clone(),
                    seen_at: now,
                    result: Ok(ParentAnswer {
                        ds: p.ds.clone(),
                        ds_ttl: (!p.ds.is_empty()).then_some(p.ds_ttl),
                        // The sandbox's parents are signed: a DS they serve verifies.
                        ds_signed: (!p.ds.is_empty()).then_some(true),
                        ns_ttl: Some(p.ns_ttl),
                    }),
                });
            }
        }
    }
    if let Some(hist) = w.served.get(name) {
        for (i, server) in zone_names.iter().enumerate() {
            let lag = w
                .settings
                .zone_server_lags
                .get(i)
                .map(|l| l.0 as i64)
                .unwrap_or(0);
            if let Some(s) = view_at(hist, |s| s.at.as_second(), t, lag) {
                let sig_ok = s.signatures_expire_at.is_none_or(|e| now < e);
                let mut problems = Vec::new();
                if s.signing && !sig_ok {
                    problems.push("the DNSKEY RRset's signatures have expired".to_string());
                }
                out.zone_servers.push(ServerObs {
                    server: server.clone(),
                    seen_at: now,
                    result: Ok(ZoneAnswer {
                        dnskey_ttl: (!s.dnskeys.is_empty()).then_some(w.settings.dnskey_ttl),
                        dnskeys: s.dnskeys.clone(),
                        dnskey_signed: s.signing && sig_ok && !s.dnskeys.is_empty(),
                        dnskey_signers: if s.signing && sig_ok {
                            s.dnskeys
                                .iter()
                                .filter(|k| k.is_sep())
                                .filter_map(|k| k.key_tag().ok())
                                .collect()
                        } else {
                            Vec::new()
                        },
                        // Route 53 keeps its signatures about two weeks ahead; after a KMS key
                        // was revoked they run out at the recorded instant.
                        signatures_expire_at: s.signing.then(|| {
                            s.signatures_expire_at
                                .unwrap_or_else(|| Secs(ROUTE53_SIGNATURE_VALIDITY).after(now))
                        }),
                        data_signed: s.signing && sig_ok,
                        ns_ttl: s.ns_ttl,
                        problems,
                        denial_signed: s.signing.then_some(sig_ok),
                    }),
                });
            }
        }
    }
    out
}
