//! [`WorldReport`]: the view of the world `sandbox show` prints — as JSON (`--format json`, its
//! own versioned types, never the internal world structs) and as text for people.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use super::world::{BogusEvent, KskState, ParentKind, SigningState, World};
use crate::model::{Timestamp, ZoneName};

pub const REPORT_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct WorldReport {
    pub format_version: u32,
    /// The virtual clock.
    pub now: Timestamp,
    pub seed: u64,
    /// Simulated validating-resolver lookups that got a bogus (SERVFAIL) answer since the world
    /// was created.
    pub bogus_answers: u64,
    /// Lookups the resolver model looked at (cache hits that cannot change the outcome are not
    /// simulated one by one).
    pub lookups_simulated: u64,
    pub resolvers: u32,
    pub zones: Vec<ZoneReport>,
    pub domains: Vec<DomainReport>,
    /// The first bogus answers, with time and reason.
    pub first_bogus: Vec<BogusEvent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ZoneReport {
    pub name: ZoneName,
    pub hosted_zone_id: String,
    /// `SIGNING`, `NOT_SIGNING` or `ACTION_NEEDED`.
    pub signing_status: String,
    /// `secure`, `insecure` or `bogus`: the chain of trust as the parent's and the zone's
    /// authoritative data stand now (servers may lag by up to a minute).
    pub chain: String,
    pub ksks: Vec<KskReport>,
    pub parent: ParentReport,
    pub records: Vec<RecordReport>,
    pub soa_ttl: u32,
    pub soa_minimum: u32,
    pub bogus_answers: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct KskReport {
    pub name: String,
    pub status: String,
    pub key_tag: u16,
    pub kms_arn: String,
    pub kms_enabled: bool,
    pub ds: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ParentReport {
    /// `parent_zone`, `registrar` or `external`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
    /// The DS records the parent holds, presentation form.
    pub ds: Vec<String>,
    pub ds_ttl: Option<u32>,
    pub ns_ttl: Option<u32>,
    /// Registrar operations in progress, outside-registrar publications scheduled.
    pub pending: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RecordReport {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// `null` for aliases.
    pub ttl: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DomainReport {
    pub name: ZoneName,
    /// The outside DNS provider signs the domain.
    pub dns_signing: bool,
    pub dnskeys: Vec<String>,
    pub chain: String,
    pub registrar_keys: Vec<String>,
    pub ds_at_parent: Vec<String>,
    pub pending: Vec<String>,
    pub bogus_answers: u64,
}

fn chain(w: &World, name: &ZoneName) -> &'static str {
    let ds = w.parent_ds(name);
    if ds.is_empty() {
        return "insecure";
    }
    // The newest snapshot: what every server serves once the last change has propagated.
    match w.served.get(name).and_then(|h| h.last()) {
        Some(s)
            if s.signing
                && s.signatures_expire_at.is_none_or(|e| w.now < e)
                && ds.iter().any(|d| s.sep_ds.contains(d)) =>
        {
            "secure"
        }
        _ => "bogus",
    }
}

fn pending_of(w: &World, name: &ZoneName) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(r) = w.registrar.get(name) {
        for o in r.operations.iter().filter(|o| !o.applied) {
            v.push(format!(
                "registrar {} {} until {}",
                o.kind, o.id, o.completes_at
            ));
        }
    }
    if let Some(e) = w.external.get(name) {
        for p in &e.pending {
            v.push(format!(
                "outside registrar: {} ({} DS) at {}",
                p.instruction,
                p.ds.len(),
                p.at
            ));
        }
    }
    v
}

impl WorldReport {
    pub fn from_world(w: &World) -> WorldReport {
        let zones = w
            .zones
            .values()
            .map(|z| {
                let (kind, id) = match &z.parent {
                    ParentKind::ParentZone { hosted_zone_id } => {
                        ("parent_zone", Some(hosted_zone_id.clone()))
                    }
                    ParentKind::Registrar => ("registrar", None),
                    ParentKind::External => ("external", None),
                };
                let p = w.parent_serve_now(&z.name, w.now);
                ZoneReport {
                    name: z.name.clone(),
                    hosted_zone_id: z.id.clone(),
                    signing_status: match z.signing {
                        SigningState::NotSigning => "NOT_SIGNING",
                        SigningState::Signing => "SIGNING",
                        SigningState::ActionNeeded => "ACTION_NEEDED",
                    }
                    .into(),
                    chain: chain(w, &z.name).into(),
                    ksks: z
                        .ksks
                        .iter()
                        .map(|k| KskReport {
                            name: k.name.clone(),
                            status: match k.status {
                                KskState::Active => "ACTIVE",
                                KskState::Inactive => "INACTIVE",
                                KskState::ActionNeeded => "ACTION_NEEDED",
                            }
                            .into(),
                            key_tag: k.ds.key_tag,
                            kms_arn: k.kms_arn.clone(),
                            kms_enabled: w.kms_keys.get(&k.kms_arn).is_none_or(|m| m.enabled),
                            ds: k.ds.to_string(),
                        })
                        .collect(),
                    parent: ParentReport {
                        kind: kind.into(),
                        hosted_zone_id: id,
                        ds: p
                            .as_ref()
                            .map(|p| p.ds.iter().map(|d| d.to_string()).collect())
                            .unwrap_or_default(),
                        ds_ttl: p.as_ref().filter(|p| !p.ds.is_empty()).map(|p| p.ds_ttl.0),
                        ns_ttl: p.as_ref().map(|p| p.ns_ttl.0),
                        pending: pending_of(w, &z.name),
                    },
                    records: z
                        .records
                        .iter()
                        .map(|r| RecordReport {
                            name: r.name.clone(),
                            rtype: r.rtype.clone(),
                            ttl: r.ttl.map(|t| t.0),
                        })
                        .collect(),
                    soa_ttl: z.soa.ttl.0,
                    soa_minimum: z.soa.minimum.0,
                    bogus_answers: w.bogus.per_zone.get(&z.name).copied().unwrap_or(0),
                }
            })
            .collect();
        let domains = w
            .outside_dns
            .iter()
            .map(|(name, o)| DomainReport {
                name: name.clone(),
                dns_signing: o.signing,
                dnskeys: o.dnskeys.iter().map(|k| k.to_string()).collect(),
                chain: chain(w, name).into(),
                registrar_keys: w
                    .registrar
                    .get(name)
                    .map(|r| {
                        r.keys
                            .iter()
                            .map(|k| {
                                format!(
                                    "{} (tag {}, flags {})",
                                    k.id,
                                    k.key.key_tag().unwrap_or(0),
                                    k.key.flags
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                ds_at_parent: w.parent_ds(name).iter().map(|d| d.to_string()).collect(),
                pending: pending_of(w, name),
                bogus_answers: w.bogus.per_zone.get(name).copied().unwrap_or(0),
            })
            .collect();
        WorldReport {
            format_version: REPORT_FORMAT_VERSION,
            now: w.now,
            seed: w.seed,
            bogus_answers: w.bogus.total,
            lookups_simulated: w.bogus.lookups,
            resolvers: w.resolvers.len() as u32,
            zones,
            domains,
            first_bogus: w.bogus.first.clone(),
        }
    }

    /// The report for people.
    pub fn render_human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Sandbox world at {} (seed {}): {} bogus answers in {} simulated lookups by {} resolvers",
            self.now, self.seed, self.bogus_answers, self.lookups_simulated, self.resolvers
        );
        for z in &self.zones {
            let _ = writeln!(
                s,
                "\nzone {} ({})  signing: {}  chain: {}  bogus answers: {}",
                z.name, z.hosted_zone_id, z.signing_status, z.chain, z.bogus_answers
            );
            if z.ksks.is_empty() {
                let _ = writeln!(s, "  KSKs: none");
            }
            for k in &z.ksks {
                let _ = writeln!(
                    s,
                    "  KSK {} {} key tag {}{}  DS {}",
                    k.name,
                    k.status,
                    k.key_tag,
                    if k.kms_enabled {
                        ""
                    } else {
                        " (KMS key revoked)"
                    },
                    k.ds
                );
            }
            let where_ = match &z.parent.hosted_zone_id {
                Some(id) => format!("{} {}", z.parent.kind, id),
                None => z.parent.kind.clone(),
            };
            if z.parent.ds.is_empty() {
                let _ = writeln!(s, "  parent ({where_}): no DS");
            }
            for d in &z.parent.ds {
                let _ = writeln!(
                    s,
                    "  parent ({where_}): DS {d}  TTL {}",
                    z.parent.ds_ttl.unwrap_or(0)
                );
            }
            for p in &z.parent.pending {
                let _ = writeln!(s, "  pending: {p}");
            }
            let ttls: Vec<String> = z
                .records
                .iter()
                .map(|r| match r.ttl {
                    Some(t) => format!("{} {} {t}", r.name, r.rtype),
                    None => format!("{} {} alias", r.name, r.rtype),
                })
                .collect();
            let _ = writeln!(s, "  TTLs: {}", ttls.join(", "));
            let _ = writeln!(s, "  SOA TTL {} minimum {}", z.soa_ttl, z.soa_minimum);
        }
        for d in &self.domains {
            let _ = writeln!(
                s,
                "\ndomain {}  DNS provider signing: {}  chain: {}  bogus answers: {}",
                d.name, d.dns_signing, d.chain, d.bogus_answers
            );
            let _ = writeln!(
                s,
                "  registrar keys: {}",
                if d.registrar_keys.is_empty() {
                    "none".to_string()
                } else {
                    d.registrar_keys.join(", ")
                }
            );
            for p in &d.pending {
                let _ = writeln!(s, "  pending: {p}");
            }
        }
        if !self.first_bogus.is_empty() {
            let _ = writeln!(s, "\nfirst bogus answers:");
            for b in &self.first_bogus {
                let _ = writeln!(
                    s,
                    "  {} resolver {} {}: {}",
                    b.at, b.resolver, b.zone, b.reason
                );
            }
        }
        s
    }
}
