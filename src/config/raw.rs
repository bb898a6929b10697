//! The YAML file as written: raw types that mirror DESIGN.md §2 key for key, every value wrapped
//! in [`Sp`] so that the validator can point at it. The same types derive `Deserialize` (with
//! `deny_unknown_fields`, straight from serde-saphyr) and `JsonSchema` (for
//! `schemas/config.schema.json`); the loader reads them from the spanned tree of `node.rs` with
//! [`FromNode`], which reports *every* unknown key, wrong type and missing key in one run. A test
//! proves both readings agree on every example.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Deserialize;

use super::diag::{Code, Diagnostic, Span};
use super::node::{Kind, Node};
use crate::model::Secs;

/// A value and the span it was written at. Deserialises through serde-saphyr's
/// [`serde_saphyr::Spanned`]; its JSON Schema is `T`'s.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let loc = s.referenced;
        let sp = loc.span();
        Ok(Sp {
            value: s.value,
            span: Span {
                offset: sp
                    .byte_offset()
                    .and_then(|o| usize::try_from(o).ok())
                    .unwrap_or(0),
                len: sp
                    .byte_len()
                    .and_then(|o| usize::try_from(o).ok())
                    .unwrap_or(0),
                line: usize::try_from(loc.line()).unwrap_or(0),
                column: usize::try_from(loc.column()).unwrap_or(0),
            },
        })
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}

/// The desired-state file (DESIGN.md §2). Top-level keys starting with `x-` are ignored: they
/// hold YAML anchors (`x-common: &common …`, then `<<: *common` in each zone).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dnssec-pilot desired state")]
pub struct RawConfig {
    /// The file format version. Always `1`.
    #[schemars(required, range(min = 1, max = 1))]
    pub version: Option<Sp<u64>>,
    /// Defaults every zone and domain inherits.
    pub defaults: Option<Sp<RawDefaults>>,
    /// Route 53 hosted zones to take onto (or keep on) DNSSEC.
    pub zones: Option<Sp<Vec<Sp<RawZone>>>>,
    /// Seed 003: domains registered with Route 53 Domains whose DNS is served elsewhere.
    pub domains: Option<Sp<Vec<Sp<RawDomain>>>>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Defaults")]
pub struct RawDefaults {
    /// The safety windows; each zone or domain may override any of them.
    pub safety: Option<Sp<RawSafety>>,
}

/// Safety windows (seeds 000 and 003).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Safety")]
pub struct RawSafety {
    /// Monitoring window after signing, and after the DS is published. Default `14d` (seed 000:
    /// "monitoring for up to 2 weeks"). At least `1h` unless `allow_short_soak` is true.
    pub soak: Option<Sp<Secs>>,
    /// Extra wait after the DS is seen at every parent server. Default `10m` (seed 000).
    pub propagation_margin: Option<Sp<Secs>>,
    /// Wait after registrar keys are removed before signing stops. Default `3d` (seed 003).
    pub registrar_key_deletion_delay: Option<Sp<Secs>>,
    /// Allow a soak under one hour (sandbox runs and tests). Default `false`.
    pub allow_short_soak: Option<Sp<bool>>,
}

/// One Route 53 hosted zone.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Zone")]
pub struct RawZone {
    /// The zone's DNS name (`example.com`; a trailing dot and capitals are accepted).
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// The Route 53 hosted zone id (`Z…`). Looked up by name when absent.
    pub hosted_zone_id: Option<Sp<String>>,
    /// Onboarding cap on record TTLs.
    pub ttl: Option<Sp<RawTtlCap>>,
    /// SOA TTL and MINIMUM during onboarding.
    pub soa: Option<Sp<RawSoa>>,
    /// Whether the zone is wanted signed, and its key-signing keys.
    pub signing: Option<Sp<RawSigning>>,
    /// Where the DS goes: exactly one of `parent_zone` and `registrar`.
    pub trust: Option<Sp<RawTrust>>,
    /// What happens once the zone is trusted and soaked.
    pub finally: Option<Sp<RawFinally>>,
    /// Overrides of `defaults.safety` for this zone.
    pub safety: Option<Sp<RawSafety>>,
    /// Probe these servers instead of discovering them from the DNS.
    pub dns: Option<Sp<RawDns>>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TtlCap")]
pub struct RawTtlCap {
    /// Every record set's TTL is lowered to at most this while onboarding. Default `3600` (seed
    /// 000 step 1: 1 hour). At most 604800 in a signed zone.
    pub max: Option<Sp<u64>>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Soa")]
pub struct RawSoa {
    /// SOA record TTL while onboarding. Default `300` (seed 000 step 1: 5 minutes). At most `ttl.max`.
    pub ttl: Option<Sp<u64>>,
    /// SOA MINIMUM field (negative caching, RFC 2308). Default `300` (seed 000 step 1). At most 86400.
    pub minimum: Option<Sp<u64>>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Signing")]
pub struct RawSigning {
    /// `true` (default): the zone is wanted signed and trusted. `false`: wanted unsigned (the tool
    /// takes it off DNSSEC safely if it is signed).
    pub enabled: Option<Sp<bool>>,
    /// One or two key-signing keys (two only while rotating).
    pub ksks: Option<Sp<Vec<Sp<RawKsk>>>>,
}

/// A key-signing key backed by a customer managed KMS key (seed 000 step 2).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ksk")]
pub struct RawKsk {
    /// 3 to 128 letters, digits and underscores; unique in the zone.
    #[schemars(
        required,
        length(min = 3, max = 128),
        regex(pattern = r"^[A-Za-z0-9_]+$")
    )]
    pub name: Option<Sp<String>>,
    /// `arn:aws:kms:us-east-1:<account>:key/<id>` or `arn:aws:kms:us-east-1:<account>:alias/<name>`
    /// (ECC_NIST_P256, SIGN_VERIFY; Route 53 requires us-east-1).
    #[schemars(
        required,
        regex(pattern = r"^arn:aws:kms:us-east-1:[0-9]{12}:(key|alias)/.+$")
    )]
    pub kms_key: Option<Sp<String>>,
}

/// Where the DS goes (seed 000 step 3): exactly one of the two keys.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Trust")]
pub struct RawTrust {
    /// The parent zone is a Route 53 hosted zone you manage: the tool UPSERTs the DS there.
    pub parent_zone: Option<Sp<RawParentZone>>,
    /// `route53_domains`: the domain is registered with Route 53 Domains (the tool adds the key).
    /// `external`: another registrar (the tool prints the DS and waits to see it in the DNS).
    pub registrar: Option<Sp<RegistrarKind>>,
    /// `present` (default): the DS is published and trust established. `absent`: the DS is taken
    /// out of the parent and the zone stays signed (seed 000 step 3 rollback); `present` again
    /// publishes it anew.
    pub ds: Option<Sp<DsWanted>>,
}

/// Whether the zone's DS should be at the parent (seed 000 step 3 and its rollback).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DsWanted {
    Present,
    Absent,
}

/// One of a few allowed words (`route53_domains` | `external`, `present` | `absent`), or a
/// `DP0003` naming what was found, with `label` under it and `help` on its own line.
fn one_of<T: Copy>(
    node: &Node,
    r: &mut Reader,
    words: &[(&str, T)],
    label: &str,
    help: &str,
) -> Option<T> {
    if let Kind::Str(s) = &node.kind
        && let Some((_, v)) = words.iter().find(|(w, _)| w == s)
    {
        return Some(*v);
    }
    let found = match &node.kind {
        Kind::Str(s) => format!("`{s}`"),
        k => k.describe().to_string(),
    };
    let expected: Vec<String> = words.iter().map(|(w, _)| format!("`{w}`")).collect();
    r.diags.push(
        Diagnostic::error(
            Code::WrongType,
            node.span,
            label,
            format!("expected {}, found {found}", expected.join(" or ")),
        )
        .help(help),
    );
    None
}

impl FromNode for DsWanted {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        one_of(
            node,
            r,
            &[("present", DsWanted::Present), ("absent", DsWanted::Absent)],
            "not `present` or `absent`",
            "`absent` takes the DS out of the parent and keeps the zone signed (seed 000 step 3 rollback); `present` (the default) publishes it",
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrarKind {
    Route53Domains,
    External,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ParentZone")]
pub struct RawParentZone {
    /// The parent's Route 53 hosted zone id (`Z…`).
    #[schemars(required)]
    pub hosted_zone_id: Option<Sp<String>>,
    /// The parent's name. Default: the zone minus its first label. Must be a proper parent.
    pub name: Option<Sp<String>>,
    /// DS TTL while onboarding. Default `300` (seed 000 step 3: 5 minutes).
    pub ds_ttl: Option<Sp<u64>>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Finally")]
pub struct RawFinally {
    /// DS TTL once trusted and soaked (parent zone trust only). Default `3600` (seed 000: 1 hour).
    pub ds_ttl: Option<Sp<u64>>,
    /// Put the original record TTLs back, capped at one week. Default `true`.
    pub restore_ttls: Option<Sp<bool>>,
}

/// Probe targets (split DNS, tests, air-gapped networks).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Dns")]
pub struct RawDns {
    /// The parent's authoritative servers, `ip:port` (port 53 when omitted).
    pub parent_servers: Option<Sp<Vec<Sp<String>>>>,
    /// The zone's authoritative servers, `ip:port` (port 53 when omitted).
    pub zone_servers: Option<Sp<Vec<Sp<String>>>>,
}

/// Seed 003: a domain registered with Route 53 Domains, DNS served elsewhere.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Domain")]
pub struct RawDomain {
    /// The registered domain name.
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// The DNSSEC keys the registrar should hold (13 for .com/.net, 4 for other TLDs).
    pub registrar_keys: Option<Sp<Vec<Sp<RawRegistrarKey>>>>,
    /// Overrides of `defaults.safety` for this domain.
    pub safety: Option<Sp<RawSafety>>,
    /// Probe these servers instead of discovering them from the DNS.
    pub dns: Option<Sp<RawDns>>,
}

/// Either a key written out (`flags`, `algorithm`, `public_key`) or `from_dns: true`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RegistrarKey")]
pub struct RawRegistrarKey {
    /// 257 (KSK, Secure Entry Point) or 256 (ZSK).
    pub flags: Option<Sp<u64>>,
    /// DNSSEC algorithm number: 8, 10, 13, 14, 15 or 16.
    pub algorithm: Option<Sp<u64>>,
    /// The DNSKEY public key in base64 (not a DS digest).
    pub public_key: Option<Sp<String>>,
    /// Take the zone's served SEP DNSKEYs instead of a written key.
    pub from_dns: Option<Sp<bool>>,
}

// ---------------------------------------------------------------------------------------------
// Reading the spanned tree.

/// Collects diagnostics while the tree is read.
pub struct Reader {
    pub diags: Vec<Diagnostic>,
}

/// A type that can be read from a node, recording a diagnostic (and returning `None`) when the
/// node does not fit.
pub trait FromNode: Sized {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self>;
}

fn wrong_type(r: &mut Reader, node: &Node, expected: &str) {
    r.diags.push(
        Diagnostic::error(
            Code::WrongType,
            node.span,
            format!("this is {}", node.kind.describe()),
            format!("expected {expected}, found {}", node.kind.describe()),
        )
        .help(format!("write {expected} here")),
    );
}

impl<T: FromNode> FromNode for Sp<T> {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        T::from_node(node, r).map(|v| Sp::new(v, node.span))
    }
}

impl FromNode for String {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => {
                wrong_type(r, node, "a string");
                None
            }
        }
    }
}

impl FromNode for u64 {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        match &node.kind {
            Kind::Int(i) => match u64::try_from(*i) {
                Ok(v) => Some(v),
                Err(_) => {
                    r.diags.push(
                        Diagnostic::error(
                            Code::WrongType,
                            node.span,
                            "out of range",
                            format!("`{i}` is not a non-negative integer below 2^64"),
                        )
                        .help("write a whole number of seconds, 0 or more"),
                    );
                    None
                }
            },
            _ => {
                wrong_type(r, node, "a non-negative integer");
                None
            }
        }
    }
}

impl FromNode for bool {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            _ => {
                wrong_type(r, node, "`true` or `false`");
                None
            }
        }
    }
}

impl FromNode for Secs {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        match &node.kind {
            Kind::Int(i) if *i >= 0 => u64::try_from(*i).ok().map(Secs),
            Kind::Str(s) => match s.parse::<Secs>() {
                Ok(v) => Some(v),
                Err(e) => {
                    r.diags.push(Diagnostic::error(
                        Code::Duration,
                        node.span,
                        "not a duration",
                        format!("`{s}` is not a duration: {e}"),
                    ));
                    None
                }
            },
            _ => {
                r.diags.push(Diagnostic::error(
                    Code::Duration,
                    node.span,
                    format!("this is {}", node.kind.describe()),
                    format!("expected a duration, found {}", node.kind.describe()),
                ));
                None
            }
        }
    }
}

impl FromNode for RegistrarKind {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        one_of(
            node,
            r,
            &[
                ("route53_domains", RegistrarKind::Route53Domains),
                ("external", RegistrarKind::External),
            ],
            "not a registrar kind",
            "`route53_domains` when the domain is registered with Route 53 Domains, `external` for any other registrar",
        )
    }
}

impl<T: FromNode> FromNode for Vec<T> {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        match &node.kind {
            Kind::Seq(items) => Some(items.iter().filter_map(|n| T::from_node(n, r)).collect()),
            Kind::Null => Some(Vec::new()),
            _ => {
                wrong_type(r, node, "a list");
                None
            }
        }
    }
}

/// The entries of one mapping, as they are asked for; [`Fields::finish`] reports the rest as
/// unknown keys.
pub struct Fields<'n> {
    node: &'n Node,
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
    asked: Vec<&'static str>,
}

impl<'n> Fields<'n> {
    /// Opens a mapping; `null` (a key with nothing after it) reads as an empty mapping.
    pub fn open(node: &'n Node, r: &mut Reader) -> Option<Fields<'n>> {
        let mut entries: Vec<(&str, &Node, &Node)> = Vec::new();
        match &node.kind {
            Kind::Map(es) => {
                for (k, v) in es {
                    match &k.kind {
                        Kind::Str(s) => {
                            if let Some((_, first, _)) = entries.iter().find(|(n, _, _)| n == s) {
                                r.diags.push(
                                    Diagnostic::error(
                                        Code::DuplicateYamlKey,
                                        k.span,
                                        "written again here",
                                        format!("key `{s}` appears twice in one mapping"),
                                    )
                                    .also(first.span, "first written here"),
                                );
                                continue;
                            }
                            entries.push((s.as_str(), k, v));
                        }
                        other => r.diags.push(
                            Diagnostic::error(
                                Code::UnknownKey,
                                k.span,
                                "not a key name",
                                format!("a mapping key must be a word, found {}", other.describe()),
                            )
                            .help("keys are plain words such as `name`"),
                        ),
                    }
                }
            }
            Kind::Null => {}
            Kind::Str(text) if text.contains('.') && !text.contains(' ') => {
                r.diags.push(
                    Diagnostic::error(
                        Code::WrongType,
                        node.span,
                        "this is a string",
                        "expected a mapping, found a string",
                    )
                    .help(format!(
                        "a zone or domain entry is a mapping: write `- name: {text}`"
                    )),
                );
                return None;
            }
            _ => {
                wrong_type(r, node, "a mapping");
                return None;
            }
        }
        Some(Fields {
            node,
            entries,
            asked: Vec::new(),
        })
    }

    fn find(&mut self, key: &'static str) -> Option<&'n Node> {
        self.asked.push(key);
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    /// An optional key.
    pub fn get<T: FromNode>(&mut self, key: &'static str, r: &mut Reader) -> Option<T> {
        let v = self.find(key)?;
        T::from_node(v, r)
    }

    /// A required key: missing is DP0004, pointing at the mapping.
    pub fn req<T: FromNode>(&mut self, key: &'static str, r: &mut Reader) -> Option<T> {
        match self.find(key) {
            Some(v) => T::from_node(v, r),
            None => {
                r.diags.push(
                    Diagnostic::error(
                        Code::MissingKey,
                        self.node.span,
                        format!("`{key}` is missing here"),
                        format!("required key `{key}` is missing"),
                    )
                    .help(format!("add `{key}:`")),
                );
                None
            }
        }
    }

    /// Reports every key nobody asked for, suggesting the nearest known one.
    pub fn finish(self, r: &mut Reader) {
        self.finish_allowing(r, false);
    }

    /// Like [`Fields::finish`]; with `extensions`, keys starting with `x-` are allowed and ignored
    /// (a place for YAML anchors shared by many zones, as in Compose files).
    pub fn finish_allowing(self, r: &mut Reader, extensions: bool) {
        for (k, key_node, _) in &self.entries {
            if self.asked.contains(k) || (extensions && k.starts_with("x-")) {
                continue;
            }
            let known = self
                .asked
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match nearest(k, &self.asked) {
                Some(s) => format!("did you mean `{s}`? Known keys here: {known}"),
                None => format!("known keys here: {known}"),
            };
            r.diags.push(
                Diagnostic::error(
                    Code::UnknownKey,
                    key_node.span,
                    "unknown key",
                    format!("unknown key `{k}`"),
                )
                .help(help),
            );
        }
    }
}

/// The known key closest to `word` by edit distance, if it is close enough to be a typo.
fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

macro_rules! read_struct {
    ($ty:ident { $( $field:ident : $how:ident ),* $(,)? }) => {
        impl FromNode for $ty {
            fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
                let mut f = Fields::open(node, r)?;
                let out = $ty { $( $field: f.$how(stringify!($field), r) ),* };
                f.finish(r);
                Some(out)
            }
        }
    };
}

impl FromNode for RawConfig {
    fn from_node(node: &Node, r: &mut Reader) -> Option<Self> {
        let mut f = Fields::open(node, r)?;
        let out = RawConfig {
            version: f.req("version", r),
            defaults: f.get("defaults", r),
            zones: f.get("zones", r),
            domains: f.get("domains", r),
        };
        f.finish_allowing(r, true);
        Some(out)
    }
}
read_struct!(RawDefaults { safety: get });
read_struct!(RawSafety {
    soak: get,
    propagation_margin: get,
    registrar_key_deletion_delay: get,
    allow_short_soak: get,
});
read_struct!(RawZone {
    name: req,
    hosted_zone_id: get,
    ttl: get,
    soa: get,
    signing: get,
    trust: get,
    finally: get,
    safety: get,
    dns: get,
});
read_struct!(RawTtlCap { max: get });
read_struct!(RawSoa {
    ttl: get,
    minimum: get
});
read_struct!(RawSigning {
    enabled: get,
    ksks: get
});
read_struct!(RawKsk {
    name: req,
    kms_key: req
});
read_struct!(RawTrust {
    parent_zone: get,
    registrar: get,
    ds: get
});
read_struct!(RawParentZone {
    hosted_zone_id: req,
    name: get,
    ds_ttl: get
});
read_struct!(RawFinally {
    ds_ttl: get,
    restore_ttls: get
});
read_struct!(RawDns {
    parent_servers: get,
    zone_servers: get
});
read_struct!(RawDomain {
    name: req,
    registrar_keys: get,
    safety: get,
    dns: get
});
read_struct!(RawRegistrarKey {
    flags: get,
    algorithm: get,
    public_key: get,
    from_dns: get
});

/// Reads the whole file from its tree. An empty file reads as an empty mapping (then fails on the
/// missing `version`).
pub fn read(root: &Node, r: &mut Reader) -> Option<RawConfig> {
    RawConfig::from_node(root, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_gets_a_suggestion() {
        assert_eq!(
            nearest("hosted_zone", &["hosted_zone_id", "name"]),
            Some("hosted_zone_id")
        );
        assert_eq!(nearest("zzz", &["name"]), None);
    }
}
