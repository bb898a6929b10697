//! The sandbox [`World`]: every piece of simulated state (virtual clock, hosted zones, parent
//! zones, the Route 53 Domains registrar, outside registrars and DNS providers, KMS keys, what
//! each name server serves over time, and the caching validating resolvers), its creation from the
//! desired state ([`init_world`]) and its persistence as one JSON file written atomically
//! (temp file + fsync + rename). Its JSON Schema is `schemas/world.schema.json`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Desired, RegistrarKeySpec, Trust, registrar_key_limit};
use crate::model::{DigestType, Dnskey, DsRecord, Secs, Timestamp, Ttl, ZoneName};

pub const WORLD_FORMAT_VERSION: u32 = 1;

/// The instant every new world starts at unless told otherwise.
pub fn default_start() -> Timestamp {
    // 2026-01-05T00:00:00Z
    Timestamp::from_second(1_767_571_200).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Errors of the sandbox commands and of loading/saving the world.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SandboxError {
    #[error("cannot read the sandbox world {path}: {source}")]
    #[diagnostic(
        code(dnssec_pilot::sandbox::read),
        help("create it first: dnssec-pilot --sandbox FILE sandbox init")
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the sandbox world {path}: {source}")]
    #[diagnostic(code(dnssec_pilot::sandbox::write))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the sandbox world {path} is not valid: {message}")]
    #[diagnostic(
        code(dnssec_pilot::sandbox::invalid),
        help("re-create it with `sandbox init --force`")
    )]
    Invalid { path: PathBuf, message: String },
    #[error(
        "the sandbox world {path} has format version {found}; this build reads version {expected}"
    )]
    #[diagnostic(
        code(dnssec_pilot::sandbox::version),
        help("re-create it with `sandbox init --force`")
    )]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("the sandbox world {0} already exists")]
    #[diagnostic(
        code(dnssec_pilot::sandbox::exists),
        help("pass --force to replace it (its clock, zones and bogus-answer count are lost)")
    )]
    Exists(PathBuf),
    #[error("the sandbox world has no zone or domain named {0}")]
    #[diagnostic(code(dnssec_pilot::sandbox::no_such_zone))]
    NoSuchZone(String),
    #[error("the sandbox world holds no zone or domain")]
    #[diagnostic(
        code(dnssec_pilot::sandbox::empty),
        help("add zones to the config and re-create the world with `sandbox init --force`")
    )]
    Empty,
    #[error("cannot tamper with {zone}: {message}")]
    #[diagnostic(code(dnssec_pilot::sandbox::tamper))]
    Tamper { zone: String, message: String },
    #[error("the virtual clock cannot move to {0}: out of range")]
    #[diagnostic(code(dnssec_pilot::sandbox::clock))]
    Clock(String),
}

/// The whole simulated world, as persisted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct World {
    pub format_version: u32,
    /// The virtual clock.
    pub now: Timestamp,
    /// The seed every random choice derives from.
    pub seed: u64,
    /// How many random streams were drawn so far (the RNG state: stream `n` is seeded from
    /// `seed` and `n`, so a saved world resumes exactly where it stopped).
    pub rng_draws: u64,
    pub settings: Settings,
    /// Route 53 hosted zones, by name.
    pub zones: BTreeMap<ZoneName, HostedZone>,
    /// Route 53 change batches (`GetChange`), by id.
    pub changes: BTreeMap<String, Change>,
    /// Route 53 hosted zones that are parents of sandbox zones, by hosted zone id.
    pub parent_zones: BTreeMap<String, ParentZone>,
    /// The Route 53 Domains registrar: registered domains, by name.
    pub registrar: BTreeMap<ZoneName, RegisteredDomain>,
    /// Domains whose registrar is outside AWS (the sandbox plays its operator), by name.
    pub external: BTreeMap<ZoneName, ExternalParent>,
    /// Domains registered with Route 53 Domains whose DNS is served by an outside provider
    /// (seed 003), by name.
    pub outside_dns: BTreeMap<ZoneName, OutsideDns>,
    /// KMS keys referenced by KSKs, by ARN.
    pub kms_keys: BTreeMap<String, KmsKey>,
    /// What the zone's own name servers serve, over time (per zone or domain).
    pub served: BTreeMap<ZoneName, Vec<ZoneServe>>,
    /// What the parent's name servers serve for the zone's delegation, over time.
    pub parent_served: BTreeMap<ZoneName, Vec<ParentServe>>,
    /// The simulated validating resolvers and their caches.
    pub resolvers: Vec<ResolverState>,
    /// Bogus (SERVFAIL) answers seen by the simulated resolvers.
    pub bogus: BogusCounter,
    /// A counter for deterministic ids.
    pub next_id: u64,
}

/// Delays and sizes of the simulation; all can be edited in the world file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// Route 53 change propagation: PENDING → INSYNC after this long.
    pub change_propagation: Secs,
    /// Registrar (Route 53 Domains) operations take a random time in this range.
    pub registrar_op_min: Secs,
    pub registrar_op_max: Secs,
    /// An outside registrar publishes (or removes) a DS this long after the `manual` step.
    pub external_publication_delay: Secs,
    /// Per parent name server: how long after a parent change it serves it (Route 53 parents stay
    /// within `change_propagation`; TLD servers behind a registrar use the same lags).
    pub parent_server_lags: Vec<Secs>,
    /// Per zone name server: how long after a change it serves it (each at most
    /// `change_propagation`).
    pub zone_server_lags: Vec<Secs>,
    /// DS and NS TTLs at TLD servers (registrar-managed and outside parents): `.com` uses 86400
    /// and 172800.
    pub tld_ds_ttl: Ttl,
    pub tld_ns_ttl: Ttl,
    /// Negative-answer TTL of the parent zones (RFC 2308 §5: min(SOA TTL, SOA MINIMUM)).
    pub parent_negative_ttl: Ttl,
    /// TTL of DNSKEY RRsets served by Route 53.
    pub dnskey_ttl: Ttl,
    /// TTL resolvers give alias answers (Route 53 aliases to AWS resources: 60 s).
    pub alias_ttl: Ttl,
    /// After a KMS key is revoked, the DNSKEY RRSIGs stay valid this long, then expire.
    pub signature_validity_after_revoke: Secs,
    /// Number of simulated validating resolvers.
    pub resolver_count: u32,
    /// Each resolver's clients look up a zone on average every N seconds; N is drawn per
    /// resolver, log-uniformly in this range (busy ISP resolvers to quiet office ones).
    pub resolver_interval_min: Secs,
    pub resolver_interval_max: Secs,
    /// Keep this many bogus events (with time and reason) for debugging.
    pub bogus_events_kept: u32,
    /// Skip the lookups of resolvers whose caches agree with a healthy settled zone (drawing
    /// their caches from the stationary distribution instead). `false` simulates every lookup
    /// that reaches past the cache: slower, used by tests to check the shortcut hides nothing.
    #[serde(default = "yes")]
    pub fast_forward: bool,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            change_propagation: Secs(60),
            registrar_op_min: Secs::minutes(30),
            registrar_op_max: Secs::hours(2),
            external_publication_delay: Secs::days(1),
            parent_server_lags: vec![Secs(5), Secs(17), Secs(31), Secs(52)],
            zone_server_lags: vec![Secs(3), Secs(11), Secs(24), Secs(45)],
            tld_ds_ttl: Ttl(86_400),
            tld_ns_ttl: Ttl(172_800),
            parent_negative_ttl: Ttl(900),
            dnskey_ttl: Ttl(3600),
            alias_ttl: Ttl(60),
            signature_validity_after_revoke: Secs::days(1),
            resolver_count: 16,
            resolver_interval_min: Secs(5),
            resolver_interval_max: Secs::hours(6),
            bogus_events_kept: 20,
            fast_forward: true,
        }
    }
}

/// One Route 53 hosted zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostedZone {
    pub id: String,
    pub name: ZoneName,
    pub name_servers: Vec<String>,
    /// Every record set but the SOA.
    pub records: Vec<RecordSet>,
    pub soa: Soa,
    pub signing: SigningState,
    /// The Route 53-managed zone-signing key (flags 256), served while signing.
    pub zsk: Dnskey,
    pub ksks: Vec<Ksk>,
    /// After a KMS key was revoked: when the DNSKEY RRSIGs expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures_expire_at: Option<Timestamp>,
    pub parent: ParentKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SigningState {
    NotSigning,
    Signing,
    ActionNeeded,
}

/// Where the zone's DS lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParentKind {
    /// A Route 53 parent hosted zone (in `parent_zones`).
    ParentZone { hosted_zone_id: String },
    /// Route 53 Domains (in `registrar`).
    Registrar,
    /// An outside registrar (in `external`).
    External,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    /// `None` for alias records.
    pub ttl: Option<Ttl>,
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Soa {
    pub ttl: Ttl,
    /// The MINIMUM field (RFC 2308 §4).
    pub minimum: Ttl,
}

/// A key-signing key (Route 53 `KeySigningKey`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ksk {
    pub name: String,
    pub kms_arn: String,
    pub status: KskState,
    pub dnskey: Dnskey,
    pub ds: DsRecord,
    pub created_at: Timestamp,
    /// The `CallerReference` it was created with.
    pub caller_reference: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KskState {
    Active,
    Inactive,
    ActionNeeded,
}

/// A Route 53 change batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub id: String,
    pub submitted_at: Timestamp,
    pub insync_at: Timestamp,
    /// What it changed (for people reading the world file).
    pub comment: String,
}

/// A Route 53 hosted zone that is the parent of sandbox zones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParentZone {
    pub id: String,
    pub name: ZoneName,
    pub name_servers: Vec<String>,
    /// Delegations to sandbox zones, by child name.
    pub delegations: BTreeMap<ZoneName, Delegation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Delegation {
    pub ns_ttl: Ttl,
    /// The DS RRset (empty when none).
    pub ds: Vec<DsRecord>,
    pub ds_ttl: Ttl,
}

/// A domain at the Route 53 Domains registrar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegisteredDomain {
    pub keys: Vec<RegistrarKey>,
    pub operations: Vec<RegistrarOp>,
    /// 13 for .com/.net, 4 otherwise (seed 003).
    pub key_limit: u32,
    pub tld_servers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistrarKey {
    pub id: String,
    pub key: Dnskey,
    pub digest: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistrarOp {
    pub id: String,
    /// `ADD_DNSSEC` or `REMOVE_DNSSEC`.
    pub kind: String,
    pub key: Dnskey,
    pub submitted_at: Timestamp,
    pub completes_at: Timestamp,
    /// Whether the key change was carried out (at `completes_at`).
    pub applied: bool,
}

/// An outside registrar: a person publishes the DS there; the sandbox plays that person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExternalParent {
    pub published: Vec<DsRecord>,
    pub pending: Vec<ExternalPending>,
    pub tld_servers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExternalPending {
    pub at: Timestamp,
    /// The DS set the registrar will hold afterwards.
    pub ds: Vec<DsRecord>,
    pub instruction: String,
}

/// An outside DNS provider serving a registrar-only domain (seed 003), signing with known keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutsideDns {
    pub name_servers: Vec<String>,
    pub signing: bool,
    pub dnskeys: Vec<Dnskey>,
    pub records: Vec<RecordSet>,
    pub soa: Soa,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KmsKey {
    pub arn: String,
    pub enabled: bool,
}

/// What a zone's name servers serve from `at` on (each server `i` from `at + zone_server_lags[i]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ZoneServe {
    pub at: Timestamp,
    /// Data (SOA, NS, records, NSEC) come with RRSIGs.
    pub signing: bool,
    pub dnskeys: Vec<Dnskey>,
    /// The DS records (SHA-256 and SHA-384) of the served SEP keys, precomputed for matching.
    pub sep_ds: Vec<DsRecord>,
    /// When the DNSKEY RRSIGs expire (KMS key revoked), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures_expire_at: Option<Timestamp>,
    /// TTL of each record set in the zone's record list (aliases at `alias_ttl`).
    pub record_ttls: Vec<Ttl>,
    /// RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA MINIMUM).
    pub negative_ttl: Ttl,
    pub ns_ttl: Option<Ttl>,
}

/// What a zone's parent servers serve for its delegation from `at` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParentServe {
    pub at: Timestamp,
    pub ds: Vec<DsRecord>,
    pub ds_ttl: Ttl,
    pub ns_ttl: Ttl,
}

/// One simulated validating resolver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResolverState {
    pub id: u32,
    /// Mean seconds between its clients' lookups of one zone.
    pub mean_interval: u64,
    pub caches: BTreeMap<ZoneName, ResolverCache>,
}

/// A resolver's cache for one zone. Times are Unix seconds; `i64::MAX` means never.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResolverCache {
    /// The cached DS RRset (empty = the parent proved there is none) and its expiry.
    pub ds: Vec<DsRecord>,
    pub ds_expires: i64,
    /// Next lookup after the DS expired (any name of the zone).
    pub ds_next: i64,
    /// Digests of the cached, validated SEP DNSKEYs (empty when none), and its expiry.
    pub dnskey_ds: Vec<DsRecord>,
    pub dnskey_signed: bool,
    pub dnskey_expires: i64,
    pub dnskey_next: i64,
    /// Per record set (then one nonexistent name for negative answers).
    pub targets: Vec<CachedAnswer>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CachedAnswer {
    pub signed: bool,
    /// 0 when not cached.
    pub expires: i64,
    /// The next client lookup of this name that the simulation must look at.
    pub next: i64,
}

/// Bogus answers counted by the resolver model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BogusCounter {
    pub total: u64,
    pub per_zone: BTreeMap<ZoneName, u64>,
    /// The first few, for debugging.
    pub first: Vec<BogusEvent>,
    /// Lookups simulated (answers from cache that could not change the outcome are not counted).
    pub lookups: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BogusEvent {
    pub at: Timestamp,
    pub resolver: u32,
    pub zone: ZoneName,
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// Deterministic key material and ids.

/// A deterministic, valid-looking 64-byte ECDSA P-256 public key (RFC 6605 §4: x | y) derived
/// from the seed and a label. Not a real curve point; the sandbox never verifies signatures.
pub fn fake_p256_key(seed: u64, label: &str) -> String {
    let mut out = Vec::with_capacity(64);
    for half in [b'x', b'y'] {
        let mut h = Sha256::new();
        h.update(seed.to_be_bytes());
        h.update(label.as_bytes());
        h.update([half]);
        out.extend_from_slice(&h.finalize());
    }
    B64.encode(out)
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A deterministic id with Route 53's look: `prefix` then upper-case letters and digits.
pub fn fake_id(seed: u64, label: &str, prefix: &str, len: usize) -> String {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(label.as_bytes());
    let d = h.finalize();
    let mut s = String::from(prefix);
    for b in d.iter().take(len) {
        s.push(ID_ALPHABET[usize::from(*b) % ID_ALPHABET.len()] as char);
    }
    s
}

/// The DS records (SHA-256 and SHA-384, RFC 4509 / RFC 6605 §2) of every SEP key in `keys`.
pub fn sep_digests(owner: &ZoneName, keys: &[Dnskey]) -> Vec<DsRecord> {
    let mut out = Vec::new();
    for k in keys.iter().filter(|k| k.is_sep()) {
        for dt in [DigestType::Sha256, DigestType::Sha384] {
            if let Ok(ds) = k.to_ds(owner, dt) {
                out.push(ds);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Creation.

fn route53_name_servers(seed: u64, zone: &ZoneName) -> Vec<String> {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(zone.as_str().as_bytes());
    let d = h.finalize();
    let n = |i: usize| u32::from(d[i]) * 8 + u32::from(d[i + 1] % 8);
    vec![
        format!("ns-{}.awsdns-{:02}.org", n(0), d[2] % 64),
        format!("ns-{}.awsdns-{:02}.co.uk", n(3), d[5] % 64),
        format!("ns-{}.awsdns-{:02}.com", n(6), d[8] % 64),
        format!("ns-{}.awsdns-{:02}.net", n(9), d[11] % 64),
    ]
}

fn tld_servers(zone: &ZoneName, count: usize) -> Vec<String> {
    let tld = zone.tld();
    (0..count)
        .map(|i| {
            let letter = (b'a' + (i % 26) as u8) as char;
            match tld {
                "com" | "net" => format!("{letter}.gtld-servers.net"),
                other => format!("{letter}.nic.{other}"),
            }
        })
        .collect()
}

/// Realistic record sets for a zone: apex A/MX/TXT/NS, `www` CNAME, an alias, and 1-day and
/// 2-day TTLs among them.
pub fn sample_records(zone: &ZoneName, name_servers: &[String]) -> Vec<RecordSet> {
    let z = zone.as_str();
    let rec = |name: String, rtype: &str, ttl: u32, values: Vec<String>| RecordSet {
        name,
        rtype: rtype.into(),
        set_identifier: None,
        ttl: Some(Ttl(ttl)),
        values,
        alias_target: None,
    };
    vec![
        rec(z.into(), "A", 3600, vec!["192.0.2.10".into()]),
        rec(z.into(), "MX", 86_400, vec![format!("10 mail.{z}.")]),
        rec(z.into(), "TXT", 86_400, vec!["\"v=spf1 mx -all\"".into()]),
        rec(
            z.into(),
            "NS",
            172_800,
            name_servers.iter().map(|n| format!("{n}.")).collect(),
        ),
        rec(format!("www.{z}"), "CNAME", 300, vec![format!("{z}.")]),
        rec(format!("mail.{z}"), "A", 86_400, vec!["192.0.2.25".into()]),
        rec(
            format!("api.{z}"),
            "AAAA",
            172_800,
            vec!["2001:db8::443".into()],
        ),
        rec(
            format!("_dmarc.{z}"),
            "TXT",
            3600,
            vec!["\"v=DMARC1; p=reject\"".into()],
        ),
        RecordSet {
            name: format!("app.{z}"),
            rtype: "A".into(),
            set_identifier: None,
            ttl: None,
            values: vec![],
            alias_target: Some("dualstack.app-lb-1234567890.us-east-1.elb.amazonaws.com".into()),
        },
    ]
}

/// Whether `arn` has the shape of a KMS key or alias ARN.
pub fn kms_arn_valid(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && !parts[4].is_empty()
        && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"))
}

/// A world from the desired state: every zone unsigned with realistic record sets and its
/// parent (a Route 53 parent zone for `parent_zone` trust, the Route 53 Domains registrar for
/// `route53_domains`, an outside registrar for `external`); every registrar-only domain
/// registered with Route 53 Domains (no keys yet) and served, signed, by an outside DNS provider
/// with its known KSK (the keys given in the config, or a generated one for `from_dns`).
pub fn init_world(desired: &Desired, seed: u64, now: Timestamp) -> World {
    let settings = Settings::default();
    let mut w = World {
        format_version: WORLD_FORMAT_VERSION,
        now,
        seed,
        rng_draws: 0,
        settings,
        zones: BTreeMap::new(),
        changes: BTreeMap::new(),
        parent_zones: BTreeMap::new(),
        registrar: BTreeMap::new(),
        external: BTreeMap::new(),
        outside_dns: BTreeMap::new(),
        kms_keys: BTreeMap::new(),
        served: BTreeMap::new(),
        parent_served: BTreeMap::new(),
        resolvers: Vec::new(),
        bogus: BogusCounter::default(),
        next_id: 1,
    };
    let parent_count = w.settings.parent_server_lags.len().max(1);
    for spec in &desired.zones {
        let name = spec.name.clone();
        let id = spec
            .hosted_zone_id
            .clone()
            .unwrap_or_else(|| fake_id(seed, &format!("zone:{name}"), "Z", 20));
        let name_servers = route53_name_servers(seed, &name);
        let records = sample_records(&name, &name_servers);
        let parent = match &spec.trust {
            Some(Trust::ParentZone {
                hosted_zone_id,
                parent,
                ..
            }) => {
                let pz = w
                    .parent_zones
                    .entry(hosted_zone_id.clone())
                    .or_insert_with(|| ParentZone {
                        id: hosted_zone_id.clone(),
                        name: parent.clone(),
                        name_servers: route53_name_servers(seed, parent),
                        delegations: BTreeMap::new(),
                    });
                pz.delegations.insert(
                    name.clone(),
                    Delegation {
                        ns_ttl: Ttl(172_800),
                        ds: vec![],
                        ds_ttl: Ttl(86_400),
                    },
                );
                ParentKind::ParentZone {
                    hosted_zone_id: hosted_zone_id.clone(),
                }
            }
            Some(Trust::Route53Domains) => {
                w.registrar.insert(
                    name.clone(),
                    RegisteredDomain {
                        keys: vec![],
                        operations: vec![],
                        key_limit: registrar_key_limit(&name) as u32,
                        tld_servers: tld_servers(&name, parent_count),
                    },
                );
                ParentKind::Registrar
            }
            // No trust target (signing disabled in the config): the registrar is outside AWS.
            Some(Trust::External) | None => {
                w.external.insert(
                    name.clone(),
                    ExternalParent {
                        published: vec![],
                        pending: vec![],
                        tld_servers: tld_servers(&name, parent_count),
                    },
                );
                ParentKind::External
            }
        };
        for k in &spec.signing.ksks {
            w.kms_keys.insert(
                k.kms_key.clone(),
                KmsKey {
                    arn: k.kms_key.clone(),
                    enabled: true,
                },
            );
        }
        let zsk = Dnskey::new(256, 13, &fake_p256_key(seed, &format!("zsk:{name}")));
        w.zones.insert(
            name.clone(),
            HostedZone {
                id,
                name: name.clone(),
                name_servers,
                records,
                soa: Soa {
                    ttl: Ttl(900),
                    minimum: Ttl(86_400),
                },
                signing: SigningState::NotSigning,
                zsk,
                ksks: vec![],
                signatures_expire_at: None,
                parent,
            },
        );
    }
    for spec in &desired.domains {
        let name = spec.name.clone();
        let mut keys: Vec<Dnskey> = spec
            .registrar_keys
            .iter()
            .filter_map(|k| match k {
                RegistrarKeySpec::Key(k) => Some(k.clone()),
                RegistrarKeySpec::FromDns => None,
            })
            .collect();
        if keys.is_empty()
            || spec
                .registrar_keys
                .iter()
                .any(|k| matches!(k, RegistrarKeySpec::FromDns))
        {
            keys.push(Dnskey::new(
                257,
                13,
                &fake_p256_key(seed, &format!("outside-ksk:{name}")),
            ));
        }
        keys.push(Dnskey::new(
            256,
            13,
            &fake_p256_key(seed, &format!("outside-zsk:{name}")),
        ));
        keys.sort();
        keys.dedup();
        let ns: Vec<String> = (1..=4)
            .map(|i| format!("ns{i}.dns-provider.example"))
            .collect();
        let records = sample_records(&name, &ns);
        w.outside_dns.insert(
            name.clone(),
            OutsideDns {
                name_servers: ns,
                signing: true,
                dnskeys: keys,
                records,
                soa: Soa {
                    ttl: Ttl(3600),
                    minimum: Ttl(3600),
                },
            },
        );
        w.registrar.insert(
            name.clone(),
            RegisteredDomain {
                keys: vec![],
                operations: vec![],
                key_limit: registrar_key_limit(&name) as u32,
                tld_servers: tld_servers(&name, parent_count),
            },
        );
    }
    // What every server serves at the start.
    let start = now;
    let names: Vec<ZoneName> = w
        .zones
        .keys()
        .chain(w.outside_dns.keys())
        .cloned()
        .collect();
    for name in &names {
        if let Some(s) = w.zone_serve_now(name, start) {
            w.served.insert(name.clone(), vec![s]);
        }
        if let Some(p) = w.parent_serve_now(name, start) {
            w.parent_served.insert(name.clone(), vec![p]);
        }
    }
    w.resolvers = super::resolver::new_population(&w);
    super::resolver::warm_up(&mut w);
    w
}

// ---------------------------------------------------------------------------------------------
// Derived views.

impl World {
    /// Every zone and domain the world holds (hosted zones, then outside-DNS domains).
    pub fn names(&self) -> Vec<ZoneName> {
        let mut v: Vec<ZoneName> = self.zones.keys().cloned().collect();
        v.extend(self.outside_dns.keys().cloned());
        v
    }

    pub fn zone(&self, name: &ZoneName) -> Option<&HostedZone> {
        self.zones.get(name)
    }

    pub fn zone_mut(&mut self, name: &ZoneName) -> Option<&mut HostedZone> {
        self.zones.get_mut(name)
    }

    /// The hosted zone with this id.
    pub fn zone_by_id(&self, id: &str) -> Option<&HostedZone> {
        let id = id.trim_start_matches("/hostedzone/");
        self.zones.values().find(|z| z.id == id)
    }

    /// The DS set the zone's parent holds right now (the authoritative view, before lags).
    pub fn parent_ds(&self, name: &ZoneName) -> Vec<DsRecord> {
        self.parent_serve_now(name, self.now)
            .map(|p| p.ds)
            .unwrap_or_default()
    }

    /// What the zone's name servers would serve if every server had every change.
    pub fn zone_serve_now(&self, name: &ZoneName, at: Timestamp) -> Option<ZoneServe> {
        let alias_ttl = self.settings.alias_ttl;
        let ttls = |records: &[RecordSet]| -> Vec<Ttl> {
            records.iter().map(|r| r.ttl.unwrap_or(alias_ttl)).collect()
        };
        let ns_ttl = |records: &[RecordSet]| {
            records
                .iter()
                .find(|r| r.rtype == "NS" && r.name == name.as_str())
                .and_then(|r| r.ttl)
        };
        if let Some(z) = self.zones.get(name) {
            let signing = z.signing != SigningState::NotSigning;
            let mut dnskeys = Vec::new();
            if signing {
                dnskeys.extend(
                    z.ksks
                        .iter()
                        .filter(|k| matches!(k.status, KskState::Active | KskState::ActionNeeded))
                        .map(|k| k.dnskey.clone()),
                );
                dnskeys.push(z.zsk.clone());
            }
            return Some(ZoneServe {
                at,
                signing,
                sep_ds: sep_digests(name, &dnskeys),
                dnskeys,
                signatures_expire_at: z.signatures_expire_at,
                record_ttls: ttls(&z.records),
                negative_ttl: z.soa.ttl.min(z.soa.minimum),
                ns_ttl: ns_ttl(&z.records),
            });
        }
        let o = self.outside_dns.get(name)?;
        let dnskeys = if o.signing { o.dnskeys.clone() } else { vec![] };
        Some(ZoneServe {
            at,
            signing: o.signing,
            sep_ds: sep_digests(name, &dnskeys),
            dnskeys,
            signatures_expire_at: None,
            record_ttls: ttls(&o.records),
            negative_ttl: o.soa.ttl.min(o.soa.minimum),
            ns_ttl: ns_ttl(&o.records),
        })
    }

    /// What the parent holds for the zone's delegation right now.
    pub fn parent_serve_now(&self, name: &ZoneName, at: Timestamp) -> Option<ParentServe> {
        let kind = match self.zones.get(name) {
            Some(z) => z.parent.clone(),
            None if self.outside_dns.contains_key(name) => ParentKind::Registrar,
            None => return None,
        };
        match kind {
            ParentKind::ParentZone { hosted_zone_id } => {
                let d = self
                    .parent_zones
                    .get(&hosted_zone_id)?
                    .delegations
                    .get(name)?;
                Some(ParentServe {
                    at,
                    ds: d.ds.clone(),
                    ds_ttl: d.ds_ttl,
                    ns_ttl: d.ns_ttl,
                })
            }
            ParentKind::Registrar => {
                let r = self.registrar.get(name)?;
                let ds = r
                    .keys
                    .iter()
                    .filter_map(|k| k.key.to_ds(name, DigestType::Sha256).ok())
                    .collect();
                Some(ParentServe {
                    at,
                    ds,
                    ds_ttl: self.settings.tld_ds_ttl,
                    ns_ttl: self.settings.tld_ns_ttl,
                })
            }
            ParentKind::External => {
                let e = self.external.get(name)?;
                Some(ParentServe {
                    at,
                    ds: e.published.clone(),
                    ds_ttl: self.settings.tld_ds_ttl,
                    ns_ttl: self.settings.tld_ns_ttl,
                })
            }
        }
    }

    /// Records that the zone's servers start serving its current state at `at` (each after its
    /// lag). Called after every change to a zone.
    pub(crate) fn push_zone_serve(&mut self, name: &ZoneName, at: Timestamp) {
        if let Some(s) = self.zone_serve_now(name, at) {
            push_snapshot(self.served.entry(name.clone()).or_default(), s, |a, b| {
                ZoneServe {
                    at: b.at,
                    ..a.clone()
                } == *b
            });
        }
    }

    /// Records that the parent's servers start serving the delegation's current state at `at`.
    pub(crate) fn push_parent_serve(&mut self, name: &ZoneName, at: Timestamp) {
        if let Some(s) = self.parent_serve_now(name, at) {
            push_snapshot(
                self.parent_served.entry(name.clone()).or_default(),
                s,
                |a, b| {
                    ParentServe {
                        at: b.at,
                        ..a.clone()
                    } == *b
                },
            );
        }
    }

    /// A fresh deterministic id (`prefix` + `len` characters).
    pub(crate) fn new_id(&mut self, prefix: &str, len: usize) -> String {
        let n = self.next_id;
        self.next_id += 1;
        fake_id(self.seed, &format!("id:{n}"), prefix, len)
    }

    /// Seed of the next random stream.
    pub(crate) fn next_stream(&mut self) -> u64 {
        let n = self.rng_draws;
        self.rng_draws += 1;
        let mut h = Sha256::new();
        h.update(self.seed.to_be_bytes());
        h.update(n.to_be_bytes());
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_be_bytes(b)
    }
}

fn push_snapshot<T: Clone>(hist: &mut Vec<T>, s: T, same: impl Fn(&T, &T) -> bool) {
    if let Some(last) = hist.last()
        && same(last, &s)
    {
        return;
    }
    hist.push(s);
}

/// The snapshot a server with `lag` serves at `t`: the last one with `at + lag <= t`.
pub fn view_at<T>(hist: &[T], at: impl Fn(&T) -> i64, t: i64, lag: i64) -> Option<&T> {
    hist.iter()
        .rev()
        .find(|s| at(s) + lag <= t)
        .or(hist.first())
}

// ---------------------------------------------------------------------------------------------
// Persistence.

impl World {
    /// Reads a world file.
    pub fn load(path: &Path) -> Result<World, SandboxError> {
        let text = std::fs::read_to_string(path).map_err(|source| SandboxError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| SandboxError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let found = v
            .get("format_version")
            .and_then(|f| f.as_u64())
            .unwrap_or(0);
        if found != u64::from(WORLD_FORMAT_VERSION) {
            return Err(SandboxError::Version {
                path: path.to_path_buf(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                expected: WORLD_FORMAT_VERSION,
            });
        }
        serde_json::from_value(v).map_err(|e| SandboxError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Writes the world atomically: a temp file beside it, fsync, rename, fsync of the directory.
    pub fn save(&self, path: &Path) -> Result<(), SandboxError> {
        let werr = |source| SandboxError::Write {
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| werr(std::io::Error::other(e.to_string())))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "world.json".into());
        let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(werr)?;
        f.write_all(&json).map_err(werr)?;
        f.write_all(b"\n").map_err(werr)?;
        f.sync_all().map_err(werr)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            werr(e)
        })?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The JSON Schema of the world file (`schemas/world.schema.json`).
pub fn world_schema() -> schemars::Schema {
    schemars::schema_for!(World)
}
