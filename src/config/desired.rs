//! The validated desired state: what the planner consumes. Produced only by the loader in this
//! module after every rule has passed, so every value here is already within its bounds and every
//! default (taken from the seeds) is filled in.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::model::{Dnskey, Secs, Ttl, ZoneName};

/// The whole configuration file, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub version: u32,
    pub zones: Vec<ZoneSpec>,
    pub domains: Vec<DomainSpec>,
}

/// Safety windows (seed 000 and 003 waits). Per zone, `defaults.safety` merged with the zone's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Safety {
    /// Monitoring window after signing and after the DS is published (seed 000: 2 weeks).
    pub soak: Secs,
    /// Extra wait after the DS is seen at every parent server (seed 000: 10 minutes).
    pub propagation_margin: Secs,
    /// Wait after registrar keys are removed before signing stops (seed 003: up to 3 days).
    pub registrar_key_deletion_delay: Secs,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            soak: Secs::days(14),
            propagation_margin: Secs::minutes(10),
            registrar_key_deletion_delay: Secs::days(3),
        }
    }
}

/// Where to send DNS probes instead of discovering servers (split DNS, tests, air-gapped users).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsOverride {
    pub parent_servers: Vec<SocketAddr>,
    pub zone_servers: Vec<SocketAddr>,
}

/// One Route 53 hosted zone to take onto (or keep on, or take off) DNSSEC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneSpec {
    pub name: ZoneName,
    /// Route 53 hosted zone id (`Z…`); looked up by name when absent.
    pub hosted_zone_id: Option<String>,
    /// Onboarding cap on every record set's TTL (seed 000 step 1: 1 hour).
    pub ttl_max: Ttl,
    /// SOA TTL during onboarding (seed 000 step 1: 5 minutes).
    pub soa_ttl: Ttl,
    /// SOA MINIMUM field during onboarding (seed 000 step 1: 5 minutes).
    pub soa_minimum: Ttl,
    pub signing: Signing,
    /// Where the DS goes. `None` only when signing is disabled.
    pub trust: Option<Trust>,
    /// `trust.ds: absent`: the DS is taken out and kept out while the zone stays signed (seed 000
    /// step 3 rollback). Only read while signing is enabled.
    pub ds_absent: bool,
    pub finally: Finally,
    pub safety: Safety,
    pub dns: DnsOverride,
    /// 1-based line of the zone's entry in the YAML (for CI annotations).
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signing {
    pub enabled: bool,
    pub ksks: Vec<KskSpec>,
}

/// A key-signing key backed by a customer managed KMS key in us-east-1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KskSpec {
    /// 3..=128 letters, digits and underscores, unique in the zone.
    pub name: String,
    /// `arn:aws:kms:us-east-1:<account>:key/<id>` or `…:alias/<name>`.
    pub kms_key: String,
}

/// Exactly one trust target (seed 000 step 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trust {
    /// The parent zone is a Route 53 hosted zone the operator manages.
    ParentZone {
        hosted_zone_id: String,
        /// The parent's name, derived from the zone name (one label up) or given.
        parent: ZoneName,
        /// DS TTL while onboarding (seed 000 step 3: 5 minutes).
        ds_ttl: Ttl,
    },
    /// The domain is registered with Route 53 Domains.
    Route53Domains,
    /// Another registrar: the tool prints the DS and waits to see it in the DNS.
    External,
}

/// Once trusted and soaked (seed 000 step 3, optional lengthening).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finally {
    /// DS TTL after the soak (seed 000: 1 hour). Only applied where the parent is ours.
    pub ds_ttl: Ttl,
    /// Put the original record TTLs back, capped at one week for signed zones.
    pub restore_ttls: bool,
}

/// Seed 003: a domain registered with Route 53 Domains whose DNS is served elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSpec {
    pub name: ZoneName,
    pub registrar_keys: Vec<RegistrarKeySpec>,
    pub safety: Safety,
    pub dns: DnsOverride,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrarKeySpec {
    /// A key given in the file (flags 256/257, algorithm, base64 public key).
    Key(Dnskey),
    /// Take the zone's served SEP DNSKEYs.
    FromDns,
}

impl Desired {
    pub fn zone(&self, name: &ZoneName) -> Option<&ZoneSpec> {
        self.zones.iter().find(|z| &z.name == name)
    }
    pub fn domain(&self, name: &ZoneName) -> Option<&DomainSpec> {
        self.domains.iter().find(|d| &d.name == name)
    }
}

/// The maximum number of DNSSEC keys Route 53 Domains accepts for a TLD (seed 003: thirteen for
/// `.com` and `.net`, four for every other TLD).
pub fn registrar_key_limit(domain: &ZoneName) -> usize {
    match domain.tld() {
        "com" | "net" => 13,
        _ => 4,
    }
}
