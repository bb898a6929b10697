//! [`Observed`]: what the providers saw (DESIGN.md §3), provider-agnostic. The AWS provider, the
//! DNS observer and the sandbox all fill these types; the planner and `check` read them and never
//! learn where they came from.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Dnskey, DsRecord, Timestamp, Ttl, ZoneName};

/// Everything observed in one pass, at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Observed {
    pub zones: BTreeMap<ZoneName, ZoneObs>,
    pub domains: BTreeMap<ZoneName, DomainObs>,
}

/// One hosted zone as observed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ZoneObs {
    /// `None` when no hosted zone of that name/id exists.
    pub hosted_zone: Option<HostedZoneObs>,
    pub dnssec: DnssecObs,
    /// Route 53 changes the journal asked about (`GetChange`), by id.
    pub changes: BTreeMap<String, ChangeObs>,
    pub parent: ParentObs,
    pub live: LiveObs,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostedZoneObs {
    pub id: String,
    pub name_servers: Vec<String>,
    pub private: bool,
    /// Every record set but the SOA (which is in `soa`).
    pub record_sets: Vec<RecordSetObs>,
    pub soa: SoaObs,
}

impl HostedZoneObs {
    /// The TTL of the apex NS record set (the in-zone NS TTL of seed 000 step 3).
    pub fn apex_ns_ttl(&self, zone: &ZoneName) -> Option<Ttl> {
        self.record_sets
            .iter()
            .find(|r| r.rtype == "NS" && r.name == zone.as_str())
            .and_then(|r| r.ttl)
    }

    /// The largest TTL of any record set, the SOA included (the zone's "maximum TTL", seed 000).
    pub fn max_ttl(&self) -> Ttl {
        self.record_sets
            .iter()
            .filter_map(|r| r.ttl)
            .chain([self.soa.ttl])
            .max()
            .unwrap_or_default()
    }
}

/// One record set. `ttl` is `None` for alias records, which have no TTL of their own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordSetObs {
    /// Owner name, lower case, without the trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    pub ttl: Option<Ttl>,
    /// The record values in presentation form (empty for aliases).
    pub values: Vec<String>,
    /// Whatever else the provider needs to write the set back unchanged but for its TTL (routing
    /// policy, health check id, …). Opaque to the planner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_data: Option<serde_json::Value>,
}

impl RecordSetObs {
    pub fn record_ref(&self) -> crate::model::RecordRef {
        crate::model::RecordRef {
            name: self.name.clone(),
            rtype: self.rtype.clone(),
            set_identifier: self.set_identifier.clone(),
        }
    }
}

/// The SOA record's TTL and its MINIMUM field (RFC 2308 §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SoaObs {
    pub ttl: Ttl,
    pub minimum: Ttl,
}

/// Route 53 `GetDNSSEC` → `Status.ServeSignature`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SigningStatus {
    Signing,
    #[default]
    NotSigning,
    Deleting,
    ActionNeeded,
    InternalFailure,
}

/// Route 53 KSK status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KskStatus {
    Active,
    Inactive,
    Deleting,
    ActionNeeded,
    InternalFailure,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DnssecObs {
    pub status: SigningStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    pub ksks: Vec<KskObs>,
}

impl DnssecObs {
    pub fn ksk(&self, name: &str) -> Option<&KskObs> {
        self.ksks.iter().find(|k| k.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KskObs {
    pub name: String,
    pub status: KskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    pub kms_arn: String,
    pub key_tag: u16,
    pub dnskey: Dnskey,
    /// The DS Route 53 computed for this key (digest type 2).
    pub ds: DsRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeStatus {
    Pending,
    Insync,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeObs {
    pub id: String,
    pub status: ChangeStatus,
    pub submitted_at: Timestamp,
}

/// What holds the zone's DS, as seen through an API (the live DNS view is in [`LiveObs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParentObs {
    /// Not observed (no API view of the parent; rely on the live DNS).
    #[default]
    Unknown,
    /// A Route 53 parent hosted zone.
    ParentZone {
        hosted_zone_id: String,
        /// The DS RRset for the zone in the parent hosted zone (empty when none).
        ds: Vec<DsRecord>,
        ds_ttl: Option<Ttl>,
        /// The delegation NS TTL in the parent hosted zone.
        ns_ttl: Option<Ttl>,
    },
    /// Route 53 Domains registrar.
    Registrar(RegistrarObs),
}

/// Route 53 Domains' view of one domain (`GetDomainDetail.DnssecKeys` + operations).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistrarObs {
    pub keys: Vec<RegistrarKeyObs>,
    /// Operations not yet finished, and finished ones the journal asked about.
    pub operations: Vec<RegistrarOpObs>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistrarKeyObs {
    /// The registrar's id for the key. Never used to match keys: keys are matched by public key.
    pub id: String,
    pub key: Dnskey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    Submitted,
    InProgress,
    Error,
    Successful,
    Failed,
}

impl OperationStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            OperationStatus::Successful | OperationStatus::Error | OperationStatus::Failed
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistrarOpObs {
    pub id: String,
    /// `ADD_DNSSEC` or `REMOVE_DNSSEC` (Route 53 Domains operation types).
    pub kind: String,
    pub status: OperationStatus,
    pub submitted_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The live DNS, server by server (filled by the DNS observer or the sandbox's name servers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LiveObs {
    /// Every name server of the parent zone.
    pub parent_servers: Vec<ServerObs<ParentAnswer>>,
    /// Every name server of the zone itself.
    pub zone_servers: Vec<ServerObs<ZoneAnswer>>,
}

/// One server's answer, or the typed reason there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServerObs<T> {
    /// Host name and/or address the question went to (`a.gtld-servers.net/192.5.6.30:53`).
    pub server: String,
    pub seen_at: Timestamp,
    pub result: Result<T, ProbeError>,
}

/// What a parent name server says about the zone's delegation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParentAnswer {
    /// The DS RRset (empty when the server proves there is none).
    pub ds: Vec<DsRecord>,
    pub ds_ttl: Option<Ttl>,
    /// The delegation NS TTL from the referral's authority section.
    pub ns_ttl: Option<Ttl>,
    /// Whether the DS RRset's RRSIG verifies with the parent's DNSKEY (RFC 4035 §5.2, §5.3):
    /// `Some(false)` also for an unsigned parent (no RRSIG), whose DS no validator can use;
    /// `None` when there is no DS to check, or it was not checked (never read as "verifies").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ds_signed: Option<bool>,
}

/// What a zone name server serves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ZoneAnswer {
    pub dnskeys: Vec<Dnskey>,
    pub dnskey_ttl: Option<Ttl>,
    /// The DNSKEY RRset is signed by a served SEP key and the signatures verify.
    pub dnskey_signed: bool,
    /// SOA and NS come with RRSIGs that verify.
    pub data_signed: bool,
    /// The apex NS TTL as served.
    pub ns_ttl: Option<Ttl>,
    /// Key tags of the SEP keys whose RRSIG over the DNSKEY RRset verified (RFC 4035 §5.2: a DS
    /// is usable only if the key it points to *signs* the DNSKEY RRset, not merely is in it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnskey_signers: Vec<u16>,
    /// The earliest instant at which the DNSKEY, SOA or NS RRset stops verifying (RFC 4034
    /// §3.1.5: the latest valid signature's expiration, for each RRset, the earliest of those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures_expire_at: Option<Timestamp>,
    /// Problems found while verifying (expired signature, wrong signer, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Whether a query for a nonexistent name got a signed NSEC/NSEC3 denial that verifies
    /// (RFC 4035 §3.1.3, RFC 5155 §7.2); `None` when not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denial_signed: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbeErrorKind {
    Timeout,
    Refused,
    ServFail,
    /// The server does not answer authoritatively for the zone.
    Lame,
    /// The answer was malformed or did not match the question.
    Malformed,
    Network,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ProbeError {
    pub kind: ProbeErrorKind,
    pub message: String,
}

impl LiveObs {
    /// Whether every parent server answered and every one serves a DS matching `pred`.
    /// `false` when no parent server was observed (an empty set proves nothing).
    pub fn ds_at_every_parent(&self, pred: impl Fn(&DsRecord) -> bool) -> bool {
        !self.parent_servers.is_empty()
            && self
                .parent_servers
                .iter()
                .all(|s| matches!(&s.result, Ok(a) if a.ds.iter().any(&pred)))
    }

    /// Whether every parent server answered and none serves any DS for the zone.
    pub fn ds_gone_everywhere(&self) -> bool {
        !self.parent_servers.is_empty()
            && self
                .parent_servers
                .iter()
                .all(|s| matches!(&s.result, Ok(a) if a.ds.is_empty()))
    }

    /// Whether any server (answering or not known to be clean) may still serve a DS.
    pub fn any_parent_ds(&self) -> bool {
        self.parent_servers
            .iter()
            .any(|s| matches!(&s.result, Ok(a) if !a.ds.is_empty()))
    }

    /// Whether every zone server answered, serves `key` and signs with it.
    pub fn dnskey_at_every_zone_server(&self, key: &Dnskey) -> bool {
        !self.zone_servers.is_empty()
            && self.zone_servers.iter().all(|s| {
                matches!(&s.result, Ok(a) if a.dnskey_signed && a.data_signed && a.dnskeys.iter().any(|k| k.public_key == key.public_key && k.algorithm == key.algorithm))
            })
    }

    /// Whether every zone server answered, serves `key`, and `key`'s own signature over the
    /// DNSKEY RRset verifies there (RFC 4035 §5.2), with signed data: what a DS for `key` needs.
    pub fn key_signs_at_every_zone_server(&self, key: &Dnskey) -> bool {
        let Ok(tag) = key.key_tag() else {
            return false;
        };
        !self.zone_servers.is_empty()
            && self.zone_servers.iter().all(|s| {
                matches!(&s.result, Ok(a) if a.dnskey_signed
                    && a.data_signed
                    && a.dnskey_signers.contains(&tag)
                    && a.dnskeys.iter().any(|k| k.public_key == key.public_key && k.algorithm == key.algorithm))
            })
    }

    /// Whether every parent server answered with a DS RRset whose signature verifies (a signed
    /// parent; `false` when none was observed, or any server's DS was not checked).
    pub fn ds_verified_at_every_parent(&self) -> bool {
        !self.parent_servers.is_empty()
            && self.parent_servers.iter().all(
                |s| matches!(&s.result, Ok(a) if !a.ds.is_empty() && a.ds_signed == Some(true)),
            )
    }

    /// The parent servers whose DS RRset was checked and does not verify.
    pub fn ds_unverified_servers(&self) -> Vec<&str> {
        self.parent_servers
            .iter()
            .filter(|s| matches!(&s.result, Ok(a) if a.ds_signed == Some(false)))
            .map(|s| s.server.as_str())
            .collect()
    }

    /// The earliest signature expiry any zone server reports: when the zone goes bogus if Route
    /// 53 stops refreshing its signatures.
    pub fn earliest_signature_expiry(&self) -> Option<Timestamp> {
        self.zone_servers
            .iter()
            .filter_map(|s| s.result.as_ref().ok().and_then(|a| a.signatures_expire_at))
            .min()
    }

    /// Whether every zone server answered with a signed DNSKEY RRset and signed data.
    pub fn signed_everywhere(&self) -> bool {
        !self.zone_servers.is_empty()
            && self
                .zone_servers
                .iter()
                .all(|s| matches!(&s.result, Ok(a) if a.dnskey_signed && a.data_signed && !a.dnskeys.is_empty()))
    }

    /// The largest DS TTL any parent server reports.
    pub fn max_parent_ds_ttl(&self) -> Option<Ttl> {
        self.parent_servers
            .iter()
            .filter_map(|s| s.result.as_ref().ok().and_then(|a| a.ds_ttl))
            .max()
    }

    /// The largest delegation NS TTL any parent server reports.
    pub fn max_delegation_ns_ttl(&self) -> Option<Ttl> {
        self.parent_servers
            .iter()
            .filter_map(|s| s.result.as_ref().ok().and_then(|a| a.ns_ttl))
            .max()
    }

    /// The largest in-zone NS TTL any zone server reports.
    pub fn max_zone_ns_ttl(&self) -> Option<Ttl> {
        self.zone_servers
            .iter()
            .filter_map(|s| s.result.as_ref().ok().and_then(|a| a.ns_ttl))
            .max()
    }
}

/// Seed 003: a domain registered with Route 53 Domains, DNS served elsewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DomainObs {
    /// `None` when the registrar does not know the domain.
    pub registrar: Option<RegistrarObs>,
    pub live: LiveObs,
}
