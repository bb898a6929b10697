//! The semantic rules: every check that needs more than the shape of the file (names, ranges,
//! ARNs, key material, cross-field and cross-zone rules), each with its stable code, and the
//! turning of a checked [`RawConfig`] into the validated [`Desired`] with every default filled in.
//! Rules never stop at the first problem: each one records its diagnostic and the walk goes on.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::desired::{
    Desired, DnsOverride, DomainSpec, Finally, KskSpec, RegistrarKeySpec, Safety, Signing, Trust,
    ZoneSpec, registrar_key_limit,
};
use super::diag::{Code, Diagnostic, Span};
use super::raw::{
    DsWanted, RawConfig, RawDns, RawDomain, RawKsk, RawRegistrarKey, RawSafety, RawZone,
    RegistrarKind, Sp,
};
use crate::model::{Dnskey, MAX_SIGNED_TTL, Secs, Ttl, ZoneName, algorithm_name};

/// RFC 2181 §8: a TTL is an unsigned 31-bit number.
const MAX_TTL: u64 = 2_147_483_647;
/// RFC 2308 §5: the SOA MINIMUM (negative caching TTL) should not exceed one day.
const MAX_SOA_MINIMUM: u64 = 86_400;
/// A soak under this needs `allow_short_soak: true`.
const MIN_SOAK: Secs = Secs::hours(1);
/// Seed 000's monitoring period: a soak under it is warned about (DP0043).
const SEED_SOAK: Secs = Secs::days(14);

/// Defaults from the seeds (seed 000 steps 1–3, seed 003).
pub const DEFAULT_TTL_MAX: u32 = 3600;
pub const DEFAULT_SOA_TTL: u32 = 300;
pub const DEFAULT_SOA_MINIMUM: u32 = 300;
pub const DEFAULT_PARENT_DS_TTL: u32 = 300;
pub const DEFAULT_FINALLY_DS_TTL: u32 = 3600;

/// Checks every rule and builds the [`Desired`]. The result is only meaningful when no error was
/// recorded; it is returned anyway so that callers can count what was read.
pub fn check(raw: &RawConfig, root: Span, diags: &mut Vec<Diagnostic>) -> Desired {
    let mut v = Validator { diags };

    let version = match &raw.version {
        Some(ver) if ver.value == 1 => 1,
        Some(ver) => {
            v.diags.push(Diagnostic::error(
                Code::Version,
                ver.span,
                "unsupported version",
                format!(
                    "`version: {}` is not supported; this release reads version 1",
                    ver.value
                ),
            ));
            1
        }
        None => 1,
    };

    let defaults = raw.defaults.as_ref().and_then(|d| d.value.safety.as_ref());
    let default_allow_short = defaults
        .and_then(|s| s.value.allow_short_soak.as_ref())
        .is_some_and(|b| b.value);
    let base_safety = v.safety(Safety::default(), defaults, default_allow_short);

    let zones_raw: &[Sp<RawZone>] = raw.zones.as_ref().map_or(&[], |z| &z.value);
    let domains_raw: &[Sp<RawDomain>] = raw.domains.as_ref().map_or(&[], |d| &d.value);
    // Only when nothing else is wrong: a mistyped `zones:` is already reported.
    if zones_raw.is_empty() && domains_raw.is_empty() && !v.diags.iter().any(|d| d.is_error()) {
        let span = raw
            .zones
            .as_ref()
            .map(|z| z.span)
            .or(raw.domains.as_ref().map(|d| d.span))
            .unwrap_or(root);
        v.diags.push(Diagnostic::error(
            Code::Empty,
            span,
            "nothing listed",
            "the file lists no zones and no domains: there is nothing to manage",
        ));
    }

    let mut seen: HashMap<ZoneName, Span> = HashMap::new();
    let mut zones = Vec::new();
    for z in zones_raw {
        if let Some(spec) = v.zone(z, &base_safety, default_allow_short, &mut seen) {
            zones.push(spec);
        }
    }
    cross_zone_rules(v.diags, zones_raw, &zones);
    let zone_names: HashMap<ZoneName, Span> = seen.clone();
    let mut domains = Vec::new();
    let mut seen_domains: HashMap<ZoneName, Span> = HashMap::new();
    for d in domains_raw {
        if let Some(spec) = v.domain(
            d,
            &base_safety,
            default_allow_short,
            &zone_names,
            &mut seen_domains,
        ) {
            domains.push(spec);
        }
    }

    Desired {
        version,
        zones,
        domains,
    }
}

/// Rules across zones: one hosted zone id per zone; a `parent_zone` that is itself listed must
/// carry that entry's id, and must be wanted signed for the DS to mean anything (RFC 4035 §5: a
/// chain of trust runs from a signed parent).
fn cross_zone_rules(diags: &mut Vec<Diagnostic>, raw: &[Sp<RawZone>], specs: &[ZoneSpec]) {
    let mut ids: HashMap<&str, Span> = HashMap::new();
    for z in raw {
        if let Some(h) = &z.value.hosted_zone_id {
            let id = h.value.trim();
            if let Some(first) = ids.get(id) {
                diags.push(
                    Diagnostic::error(
                        Code::DuplicateHostedZoneId,
                        h.span,
                        "used again here",
                        format!("hosted zone id `{id}` is given to two zones"),
                    )
                    .also(*first, "first given here"),
                );
            } else {
                ids.insert(id, h.span);
            }
        }
    }
    // Indexed once: a fleet file may list 100,000 zones.
    let by_name: HashMap<&ZoneName, &ZoneSpec> = specs.iter().map(|s| (&s.name, s)).collect();
    for z in raw {
        let Some(name) = z
            .value
            .name
            .as_ref()
            .and_then(|n| ZoneName::parse_zone(&n.value).ok())
        else {
            continue;
        };
        let Some(&spec) = by_name.get(&name) else {
            continue;
        };
        let Some(Trust::ParentZone {
            hosted_zone_id,
            parent,
            ..
        }) = &spec.trust
        else {
            continue;
        };
        let Some(pz) = z
            .value
            .trust
            .as_ref()
            .and_then(|t| t.value.parent_zone.as_ref())
        else {
            continue;
        };
        let Some(&parent_spec) = by_name.get(parent) else {
            continue;
        };
        let id_span = pz.value.hosted_zone_id.as_ref().map_or(pz.span, |h| h.span);
        if let Some(listed) = &parent_spec.hosted_zone_id
            && listed != hosted_zone_id
        {
            diags.push(Diagnostic::error(
                Code::ParentIdMismatch,
                id_span,
                format!("`{parent}` is `{listed}`"),
                format!(
                    "the parent `{parent}` is listed at line {} with hosted zone id `{listed}`, not `{hosted_zone_id}`",
                    parent_spec.line
                ),
            ));
        }
        if spec.signing.enabled && !parent_spec.signing.enabled {
            diags.push(Diagnostic::warning(
                Code::ParentUnsigned,
                pz.span,
                format!("`{parent}` is unsigned"),
                format!(
                    "the parent `{parent}` (line {}) is wanted unsigned, so a DS there cannot make `{name}` secure",
                    parent_spec.line
                ),
            ));
        }
    }
}

struct Validator<'a> {
    diags: &'a mut Vec<Diagnostic>,
}

impl Validator<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Whether an error was already recorded inside `span`'s line range and after it (to avoid a
    /// second diagnostic caused by the first).
    fn has_error_within(&self, span: Span) -> bool {
        self.diags.iter().any(|d| {
            d.is_error() && d.span().offset >= span.offset && d.span().line <= span.line + 2
        })
    }

    /// A zone or domain name: canonical form, or DP0007.
    fn name(&mut self, raw: &Sp<String>, what: &str) -> Option<ZoneName> {
        match ZoneName::parse_zone(&raw.value) {
            Ok(n) => Some(n),
            Err(e) => {
                self.err(Diagnostic::error(
                    Code::BadName,
                    raw.span,
                    "not a valid DNS name",
                    format!("`{}` is not a valid {what} name: {e}", raw.value),
                ));
                None
            }
        }
    }

    /// A TTL within RFC 2181's range, and within Route 53's one-week cap when `signed`.
    fn ttl(&mut self, raw: Option<&Sp<u64>>, default: u32, signed: bool, what: &str) -> Ttl {
        let Some(raw) = raw else {
            return Ttl(default);
        };
        if raw.value > MAX_TTL {
            self.err(Diagnostic::error(
                Code::TtlRange,
                raw.span,
                "too large",
                format!(
                    "`{what}: {}` is above the largest DNS TTL, 2147483647 (RFC 2181 §8)",
                    raw.value
                ),
            ));
            return Ttl(default);
        }
        if signed && raw.value > u64::from(MAX_SIGNED_TTL.0) {
            self.err(Diagnostic::error(
                Code::TtlSigned,
                raw.span,
                "above one week",
                format!(
                    "`{what}: {}` is above 604800 (one week), the most Route 53 allows in a signed zone",
                    raw.value
                ),
            ));
            return Ttl(default);
        }
        Ttl(u32::try_from(raw.value).unwrap_or(default))
    }

    /// Merges one `safety` block over `base`, checking its values.
    fn safety(&mut self, base: Safety, raw: Option<&Sp<RawSafety>>, allow_short: bool) -> Safety {
        let Some(raw) = raw else {
            return base;
        };
        let s = &raw.value;
        let allow_short = s.allow_short_soak.as_ref().map_or(allow_short, |b| b.value);
        let mut out = base;
        if let Some(soak) = &s.soak {
            if soak.value < MIN_SOAK && !allow_short {
                self.err(Diagnostic::error(
                    Code::ShortSoak,
                    soak.span,
                    "shorter than one hour",
                    format!(
                        "a soak of {} is too short to notice resolver trouble (the seeds monitor for 2 weeks)",
                        soak.value.human()
                    ),
                ));
            } else if soak.value < SEED_SOAK && !allow_short {
                self.err(Diagnostic::warning(
                    Code::ShortWait,
                    soak.span,
                    "below 14d",
                    format!(
                        "a soak of {} is below the seeds' 2 weeks (seed 000: \"the recommended monitoring period is 2 weeks\")",
                        soak.value.human()
                    ),
                ));
            }
            out.soak = soak.value;
        }
        if let Some(m) = &s.propagation_margin {
            if m.value < Secs::minutes(10) && !allow_short {
                self.err(Diagnostic::warning(
                    Code::ShortWait,
                    m.span,
                    "below 10m",
                    format!(
                        "a propagation margin of {} is below the seeds' 10 minutes",
                        m.value.human()
                    ),
                ));
            }
            out.propagation_margin = m.value;
        }
        if let Some(d) = &s.registrar_key_deletion_delay {
            if d.value < Secs::days(3) && !allow_short {
                self.err(Diagnostic::warning(
                    Code::ShortWait,
                    d.span,
                    "below 3d",
                    format!(
                        "a registrar key deletion delay of {} is below the seeds' 3 days",
                        d.value.human()
                    ),
                ));
            }
            out.registrar_key_deletion_delay = d.value;
        }
        out
    }

    fn dns(&mut self, raw: Option<&Sp<RawDns>>) -> DnsOverride {
        let Some(raw) = raw else {
            return DnsOverride::default();
        };
        let list = |v: &mut Self, l: Option<&Sp<Vec<Sp<String>>>>| -> Vec<SocketAddr> {
            l.map_or(&[][..], |l| &l.value)
                .iter()
                .filter_map(|s| v.server(s))
                .collect()
        };
        DnsOverride {
            parent_servers: list(self, raw.value.parent_servers.as_ref()),
            zone_servers: list(self, raw.value.zone_servers.as_ref()),
        }
    }

    fn server(&mut self, s: &Sp<String>) -> Option<SocketAddr> {
        let t = s.value.trim();
        if let Ok(a) = t.parse::<SocketAddr>() {
            return Some(a);
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Some(SocketAddr::new(ip, 53));
        }
        self.err(Diagnostic::error(
            Code::ServerAddr,
            s.span,
            "not ip:port",
            format!("`{}` is not an IP address with an optional port", s.value),
        ));
        None
    }

    fn zone(
        &mut self,
        z: &Sp<RawZone>,
        base_safety: &Safety,
        allow_short: bool,
        seen: &mut HashMap<ZoneName, Span>,
    ) -> Option<ZoneSpec> {
        let raw = &z.value;
        let name_raw = raw.name.as_ref();
        let name = name_raw.and_then(|n| self.name(n, "zone"));
        if let (Some(n), Some(nr)) = (&name, name_raw) {
            if let Some(first) = seen.get(n) {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateName,
                        nr.span,
                        "listed again here",
                        format!("zone `{n}` is listed twice"),
                    )
                    .also(*first, "first listed here"),
                );
            } else {
                seen.insert(n.clone(), nr.span);
            }
        }
        let anchor = name_raw.map_or(z.span, |n| n.span);

        let hosted_zone_id = raw
            .hosted_zone_id
            .as_ref()
            .and_then(|h| self.hosted_zone_id(h));

        // Signing.
        let signing_raw = raw.signing.as_ref();
        let enabled = signing_raw
            .and_then(|s| s.value.enabled.as_ref())
            .is_none_or(|e| e.value);
        let ksks_raw: &[Sp<RawKsk>] = signing_raw
            .and_then(|s| s.value.ksks.as_ref())
            .map_or(&[], |k| &k.value);
        let ksks = self.ksks(ksks_raw);
        if enabled && ksks_raw.is_empty() {
            let span = signing_raw.map_or(anchor, |s| s.span);
            self.err(Diagnostic::error(
                Code::NoKsk,
                span,
                "no KSK here",
                format!(
                    "zone `{}` is to be signed but lists no key-signing key",
                    name_raw.map_or("", |n| n.value.as_str())
                ),
            ));
        }
        if !enabled && !ksks_raw.is_empty() {
            let span = signing_raw
                .and_then(|s| s.value.ksks.as_ref())
                .map_or(anchor, |k| k.span);
            self.err(Diagnostic::warning(
                Code::KsksIgnored,
                span,
                "ignored",
                "`signing.enabled` is false, so these KSKs are not used",
            ));
        }

        // TTLs and SOA (seed 000 step 1).
        let ttl_raw = raw.ttl.as_ref().and_then(|t| t.value.max.as_ref());
        let ttl_max = self.ttl(ttl_raw, DEFAULT_TTL_MAX, enabled, "ttl.max");
        let soa = raw.soa.as_ref().map(|s| &s.value);
        let soa_ttl_raw = soa.and_then(|s| s.ttl.as_ref());
        let soa_min_raw = soa.and_then(|s| s.minimum.as_ref());
        let soa_ttl = self.ttl(soa_ttl_raw, DEFAULT_SOA_TTL, enabled, "soa.ttl");
        let soa_minimum = match soa_min_raw {
            Some(m) if m.value > MAX_SOA_MINIMUM => {
                self.err(Diagnostic::error(
                    Code::SoaMinimum,
                    m.span,
                    "above one day",
                    format!(
                        "`soa.minimum: {}` is above 86400; RFC 2308 §5 caps negative caching at one day",
                        m.value
                    ),
                ));
                Ttl(DEFAULT_SOA_MINIMUM)
            }
            other => self.ttl(other, DEFAULT_SOA_MINIMUM, enabled, "soa.minimum"),
        };
        if soa_ttl > ttl_max {
            let span = soa_ttl_raw.map_or(anchor, |s| s.span);
            let mut d = Diagnostic::error(
                Code::SoaTtl,
                span,
                format!("above ttl.max ({})", ttl_max.0),
                format!(
                    "`soa.ttl: {}` is above `ttl.max: {}`; the cap applies to the SOA record too",
                    soa_ttl.0, ttl_max.0
                ),
            );
            if let Some(t) = ttl_raw {
                d = d.also(t.span, "the cap");
            }
            self.err(d);
        } else if soa_minimum > soa_ttl
            && let Some(m) = soa_min_raw
        {
            self.err(Diagnostic::warning(
                Code::SoaMinimumAboveTtl,
                m.span,
                format!("above soa.ttl ({})", soa_ttl.0),
                format!(
                    "`soa.minimum: {}` is above `soa.ttl: {}`; resolvers cache negative answers for the smaller of the two (RFC 2308 §5)",
                    soa_minimum.0, soa_ttl.0
                ),
            ));
        }

        // Trust (seed 000 step 3).
        let trust = self.trust(z, name.as_ref(), hosted_zone_id.as_deref(), enabled, anchor);
        let ds_raw = z.value.trust.as_ref().and_then(|t| t.value.ds.as_ref());
        let ds_absent = ds_raw.is_some_and(|d| d.value == DsWanted::Absent);
        if let Some(d) = ds_raw
            && ds_absent
            && !enabled
        {
            self.err(Diagnostic::warning(
                Code::DsAbsentIgnored,
                d.span,
                "no effect",
                "`ds: absent` keeps a signed zone signed without its DS; with `signing.enabled: false` the DS is taken out anyway, then signing stops",
            ));
        }

        // Finally.
        let fin = raw.finally.as_ref().map(|f| &f.value);
        let fin_ds_raw = fin.and_then(|f| f.ds_ttl.as_ref());
        let finally = Finally {
            ds_ttl: self.ttl(fin_ds_raw, DEFAULT_FINALLY_DS_TTL, true, "finally.ds_ttl"),
            restore_ttls: fin
                .and_then(|f| f.restore_ttls.as_ref())
                .is_none_or(|b| b.value),
        };
        if let (Some(ds), Some(Trust::Route53Domains | Trust::External)) = (fin_ds_raw, &trust) {
            self.err(Diagnostic::warning(
                Code::DsTtlIgnored,
                ds.span,
                "no effect",
                "`finally.ds_ttl` only applies when the parent zone is yours (`trust.parent_zone`); a registry sets its own DS TTL",
            ));
        }

        let safety = self.safety(base_safety.clone(), raw.safety.as_ref(), allow_short);
        let dns = self.dns(raw.dns.as_ref());

        Some(ZoneSpec {
            name: name?,
            hosted_zone_id,
            ttl_max,
            soa_ttl,
            soa_minimum,
            signing: Signing { enabled, ksks },
            trust,
            ds_absent,
            finally,
            safety,
            dns,
            line: z.span.line.max(1),
        })
    }

    fn hosted_zone_id(&mut self, h: &Sp<String>) -> Option<String> {
        let id = h.value.trim();
        if let Some(rest) = id.strip_prefix("/hostedzone/") {
            self.err(
                Diagnostic::error(
                    Code::HostedZoneId,
                    h.span,
                    "drop the prefix",
                    format!("`{id}` carries the `/hostedzone/` prefix of API paths"),
                )
                .help(format!("write `{rest}`")),
            );
            return None;
        }
        // The API documents a hosted zone id as a string of at most 32 characters; Route 53's
        // are capital letters and digits, mostly starting with `Z` — but not always (moto's and
        // some older zones' do not), so the first letter is not checked.
        let ok = !id.is_empty()
            && id.len() <= 32
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Some(id.to_string())
        } else {
            self.err(Diagnostic::error(
                Code::HostedZoneId,
                h.span,
                "not a hosted zone id",
                format!(
                    "`{id}` is not a Route 53 hosted zone id (up to 32 capital letters and digits, e.g. `Z0123456789ABCDEFGHIJ`)"
                ),
            ));
            None
        }
    }

    fn ksks(&mut self, raw: &[Sp<RawKsk>]) -> Vec<KskSpec> {
        let mut out = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut keys: HashMap<String, Span> = HashMap::new();
        for (i, k) in raw.iter().enumerate() {
            if i == 2 {
                self.err(Diagnostic::error(
                    Code::TooManyKsks,
                    k.span,
                    "third KSK",
                    format!(
                        "{} KSKs are listed; Route 53 allows at most two per zone",
                        raw.len()
                    ),
                ));
            }
            let name = k.value.name.as_ref().and_then(|n| {
                let ok = (3..=128).contains(&n.value.chars().count())
                    && n.value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    self.err(Diagnostic::error(
                        Code::KskName,
                        n.span,
                        "not 3..=128 letters, digits, `_`",
                        format!(
                            "KSK name `{}` must be 3 to 128 letters, digits and underscores",
                            n.value
                        ),
                    ));
                    return None;
                }
                if let Some(first) = names.get(n.value.as_str()) {
                    self.err(
                        Diagnostic::error(
                            Code::DuplicateKsk,
                            n.span,
                            "used again here",
                            format!("two KSKs are named `{}`", n.value),
                        )
                        .also(*first, "first used here"),
                    );
                    return None;
                }
                names.insert(n.value.as_str(), n.span);
                Some(n.value.clone())
            });
            let kms = k.value.kms_key.as_ref().and_then(|a| {
                let arn = self.kms_arn(a)?;
                if let Some(first) = keys.get(&arn) {
                    self.err(
                        Diagnostic::error(
                            Code::SharedKmsKey,
                            a.span,
                            "used again here",
                            "two KSKs use the same KMS key",
                        )
                        .also(*first, "first used here"),
                    );
                    return None;
                }
                keys.insert(arn.clone(), a.span);
                Some(arn)
            });
            if let (Some(name), Some(kms_key)) = (name, kms) {
                out.push(KskSpec { name, kms_key });
            }
        }
        out
    }

    /// `arn:aws:kms:us-east-1:<12 digits>:key/<uuid or mrk-…>` or `…:alias/<name>`.
    fn kms_arn(&mut self, a: &Sp<String>) -> Option<String> {
        let text = a.value.trim();
        let bad = |v: &mut Self, why: String| {
            v.err(Diagnostic::error(
                Code::KmsArn,
                a.span,
                "not a KMS key ARN",
                format!("`{text}` is not a KMS key or alias ARN: {why}"),
            ));
        };
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            bad(
                self,
                "an ARN has six `:`-separated parts starting with `arn`".into(),
            );
            return None;
        }
        let (partition, service, region, account, resource) =
            (parts[1], parts[2], parts[3], parts[4], parts[5]);
        if partition != "aws" || service != "kms" {
            bad(
                self,
                format!("the service must be `aws:kms`, not `{partition}:{service}`"),
            );
            return None;
        }
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            bad(self, format!("the account `{account}` is not 12 digits"));
            return None;
        }
        let resource_ok = if let Some(id) = resource.strip_prefix("key/") {
            is_kms_key_id(id)
        } else if let Some(alias) = resource.strip_prefix("alias/") {
            if alias.starts_with("aws/") {
                bad(
                    self,
                    "`alias/aws/…` is an AWS managed key; Route 53 needs a customer managed key"
                        .into(),
                );
                return None;
            }
            !alias.is_empty()
                && alias.len() <= 250
                && alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
        } else {
            false
        };
        if !resource_ok {
            bad(
                self,
                format!("`{resource}` is neither `key/<key id>` nor `alias/<name>`"),
            );
            return None;
        }
        if region != "us-east-1" {
            self.err(Diagnostic::error(
                Code::KmsRegion,
                a.span,
                format!("region `{region}`"),
                format!(
                    "the KMS key is in `{region}`, but Route 53 only signs with keys in `us-east-1`"
                ),
            ));
            return None;
        }
        Some(text.to_string())
    }

    fn trust(
        &mut self,
        z: &Sp<RawZone>,
        name: Option<&ZoneName>,
        own_id: Option<&str>,
        enabled: bool,
        anchor: Span,
    ) -> Option<Trust> {
        let Some(t) = z.value.trust.as_ref() else {
            if enabled {
                self.err(Diagnostic::error(
                    Code::NoTrust,
                    anchor,
                    "no `trust:` for this zone",
                    "a signed zone needs a trust target, or no resolver will ever validate it",
                ));
            }
            return None;
        };
        match (&t.value.parent_zone, &t.value.registrar) {
            (Some(p), Some(r)) => {
                let (first, second) = if p.span.offset <= r.span.offset {
                    (p.span, r.span)
                } else {
                    (r.span, p.span)
                };
                self.err(
                    Diagnostic::error(
                        Code::TwoTrusts,
                        second,
                        "second trust target",
                        "`trust` names two targets; the DS goes to exactly one place",
                    )
                    .also(first, "first trust target"),
                );
                None
            }
            (None, None) => {
                if self.has_error_within(t.span) {
                    return None;
                }
                self.err(Diagnostic::error(
                    Code::NoTrust,
                    t.span,
                    "empty",
                    "`trust` names no target",
                ));
                None
            }
            (None, Some(r)) => {
                if r.value == RegistrarKind::Route53Domains
                    && let Some(n) = name
                    && n.label_count() > 2
                {
                    self.err(Diagnostic::warning(
                        Code::RegistrarSubdomain,
                        r.span,
                        "registrar trust",
                        format!(
                            "`{n}` has {} labels; unless it is registered under a public suffix such as `co.uk`, its DS belongs in `{}`",
                            n.label_count(),
                            n.parent().map(|p| p.to_string()).unwrap_or_default()
                        ),
                    ));
                }
                Some(match r.value {
                    RegistrarKind::Route53Domains => Trust::Route53Domains,
                    RegistrarKind::External => Trust::External,
                })
            }
            (Some(p), None) => {
                let pz = &p.value;
                let id = pz
                    .hosted_zone_id
                    .as_ref()
                    .and_then(|h| self.hosted_zone_id(h));
                if let (Some(id), Some(own), Some(h)) = (&id, own_id, &pz.hosted_zone_id)
                    && id == own
                {
                    self.err(Diagnostic::error(
                        Code::ParentIsSelf,
                        h.span,
                        "the zone's own id",
                        format!("the parent hosted zone id `{id}` is this zone's own id"),
                    ));
                }
                let parent = self.parent_name(name, pz.name.as_ref(), p.span)?;
                let ds_ttl = self.ttl(
                    pz.ds_ttl.as_ref(),
                    DEFAULT_PARENT_DS_TTL,
                    true,
                    "parent_zone.ds_ttl",
                );
                Some(Trust::ParentZone {
                    hosted_zone_id: id?,
                    parent,
                    ds_ttl,
                })
            }
        }
    }

    /// The parent: given (and then a proper suffix-parent) or the zone minus its first label; never
    /// a TLD, which no hosted zone of ours serves.
    fn parent_name(
        &mut self,
        zone: Option<&ZoneName>,
        given: Option<&Sp<String>>,
        span: Span,
    ) -> Option<ZoneName> {
        let zone = zone?;
        match given {
            Some(g) => {
                let p = match ZoneName::parse(&g.value) {
                    Ok(p) => p,
                    Err(e) => {
                        self.err(Diagnostic::error(
                            Code::BadName,
                            g.span,
                            "not a valid DNS name",
                            format!("`{}` is not a valid parent zone name: {e}", g.value),
                        ));
                        return None;
                    }
                };
                if p == *zone || !zone.is_subdomain_of(&p) {
                    self.err(Diagnostic::error(
                        Code::BadParent,
                        g.span,
                        "not above the zone",
                        format!(
                            "`{p}` is not a parent of `{zone}`: the zone's name must end in `.{p}`"
                        ),
                    ));
                    return None;
                }
                if p.label_count() < 2 {
                    self.tld_parent(zone, &p, g.span);
                    return None;
                }
                Some(p)
            }
            None => match zone.parent() {
                Some(p) if p.label_count() >= 2 => Some(p),
                Some(p) => {
                    self.tld_parent(zone, &p, span);
                    None
                }
                None => None,
            },
        }
    }

    fn tld_parent(&mut self, zone: &ZoneName, parent: &ZoneName, span: Span) {
        self.err(Diagnostic::error(
            Code::BadParent,
            span,
            format!("the parent would be `{parent}`"),
            format!(
                "the parent of `{zone}` is the top-level domain `{parent}`, which no Route 53 hosted zone of yours serves"
            ),
        ));
    }

    fn domain(
        &mut self,
        d: &Sp<RawDomain>,
        base_safety: &Safety,
        allow_short: bool,
        zones: &HashMap<ZoneName, Span>,
        seen: &mut HashMap<ZoneName, Span>,
    ) -> Option<DomainSpec> {
        let raw = &d.value;
        let name_raw = raw.name.as_ref();
        let name = name_raw.and_then(|n| self.name(n, "domain"));
        if let (Some(n), Some(nr)) = (&name, name_raw) {
            if let Some(first) = seen.get(n) {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateName,
                        nr.span,
                        "listed again here",
                        format!("domain `{n}` is listed twice"),
                    )
                    .also(*first, "first listed here"),
                );
            } else {
                seen.insert(n.clone(), nr.span);
            }
            if let Some(z) = zones.get(n) {
                self.err(
                    Diagnostic::error(
                        Code::ZoneAndDomain,
                        nr.span,
                        "listed as a domain",
                        format!("`{n}` is listed both as a zone and as a domain"),
                    )
                    .also(*z, "listed as a zone"),
                );
            }
        }
        let keys = self.registrar_keys(name.as_ref(), raw.registrar_keys.as_ref());
        let safety = self.safety(base_safety.clone(), raw.safety.as_ref(), allow_short);
        let dns = self.dns(raw.dns.as_ref());
        Some(DomainSpec {
            name: name?,
            registrar_keys: keys,
            safety,
            dns,
            line: d.span.line.max(1),
        })
    }

    fn registrar_keys(
        &mut self,
        domain: Option<&ZoneName>,
        raw: Option<&Sp<Vec<Sp<RawRegistrarKey>>>>,
    ) -> Vec<RegistrarKeySpec> {
        let Some(raw) = raw else {
            return Vec::new();
        };
        if let Some(domain) = domain {
            let limit = registrar_key_limit(domain);
            if raw.value.len() > limit {
                let first_over = &raw.value[limit];
                self.err(
                    Diagnostic::error(
                        Code::TooManyRegistrarKeys,
                        first_over.span,
                        format!("key {} of {}", limit + 1, raw.value.len()),
                        format!(
                            "{} registrar keys are listed; Route 53 Domains accepts at most {limit} for `.{}`",
                            raw.value.len(),
                            domain.tld()
                        ),
                    )
                    .also(raw.span, "the list"),
                );
            }
        }
        let mut out: Vec<RegistrarKeySpec> = Vec::new();
        let mut firsts: Vec<(RegistrarKeySpec, Span)> = Vec::new();
        for k in &raw.value {
            let Some(spec) = self.registrar_key(k) else {
                continue;
            };
            if let Some((_, first)) = firsts.iter().find(|(s, _)| *s == spec) {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateKey,
                        k.span,
                        "listed again here",
                        "the same registrar key is listed twice",
                    )
                    .also(*first, "first listed here"),
                );
                continue;
            }
            firsts.push((spec.clone(), k.span));
            out.push(spec);
        }
        out
    }

    fn registrar_key(&mut self, k: &Sp<RawRegistrarKey>) -> Option<RegistrarKeySpec> {
        let r = &k.value;
        let has_fields = r.flags.is_some() || r.algorithm.is_some() || r.public_key.is_some();
        match &r.from_dns {
            Some(f) if !f.value => {
                self.err(Diagnostic::error(
                    Code::FromDns,
                    f.span,
                    "false",
                    "`from_dns: false` says nothing; write the key's fields instead",
                ));
                return None;
            }
            Some(f) if has_fields => {
                self.err(Diagnostic::error(
                    Code::FromDns,
                    f.span,
                    "with key fields",
                    "`from_dns: true` takes the keys from the DNS; it cannot be combined with `flags`, `algorithm` or `public_key`",
                ));
                return None;
            }
            Some(_) => return Some(RegistrarKeySpec::FromDns),
            None => {}
        }
        let missing = |v: &mut Self, key: &str| {
            v.err(
                Diagnostic::error(
                    Code::MissingKey,
                    k.span,
                    format!("`{key}` is missing here"),
                    format!("required key `{key}` is missing from this registrar key"),
                )
                .help(format!("add `{key}:`, or write `from_dns: true` alone")),
            );
        };
        let flags = match &r.flags {
            None => {
                missing(self, "flags");
                None
            }
            Some(f) if f.value == 256 || f.value == 257 => u16::try_from(f.value).ok(),
            Some(f) => {
                self.err(Diagnostic::error(
                    Code::KeyFlags,
                    f.span,
                    "not 256 or 257",
                    format!(
                        "flags `{}` is neither 257 (a key-signing key) nor 256 (a zone-signing key)",
                        f.value
                    ),
                ));
                None
            }
        };
        let algorithm = match &r.algorithm {
            None => {
                missing(self, "algorithm");
                None
            }
            Some(a) => self.algorithm(a),
        };
        let Some(pk) = &r.public_key else {
            missing(self, "public_key");
            return None;
        };
        let key = self.public_key(pk, algorithm)?;
        Some(RegistrarKeySpec::Key(Dnskey::new(flags?, algorithm?, &key)))
    }

    /// RFC 8624 §3.1: 1, 3, 5, 6, 7 and 12 MUST NOT (or NOT RECOMMENDED to) be used for signing;
    /// 8, 10, 13, 14, 15 and 16 are accepted.
    fn algorithm(&mut self, a: &Sp<u64>) -> Option<u8> {
        let n = a.value;
        let name = u8::try_from(n).ok().and_then(algorithm_name);
        match n {
            8 | 10 | 13 | 14 | 15 | 16 => u8::try_from(n).ok(),
            1 | 3 | 5 | 6 | 7 | 12 => {
                self.err(Diagnostic::error(
                    Code::AlgorithmDeprecated,
                    a.span,
                    name.unwrap_or("deprecated"),
                    format!(
                        "algorithm {n} ({}) is deprecated for signing (RFC 8624)",
                        name.unwrap_or("?")
                    ),
                ));
                None
            }
            _ => {
                let why = match name {
                    Some(nm) => format!("algorithm {n} ({nm}) cannot be used for a registrar key"),
                    None => format!(
                        "algorithm {n} is not in the IANA DNS Security Algorithm Numbers registry"
                    ),
                };
                self.err(Diagnostic::error(
                    Code::AlgorithmUnknown,
                    a.span,
                    name.unwrap_or("unassigned"),
                    why,
                ));
                None
            }
        }
    }

    /// The base64 public key, checked against its algorithm's length (RFC 6605 §4: P-256 64
    /// bytes, P-384 96; RFC 8080 §3: Ed25519 32, Ed448 57; RFC 3110 §2 for RSA).
    fn public_key(&mut self, pk: &Sp<String>, algorithm: Option<u8>) -> Option<String> {
        let compact: String = pk.value.split_whitespace().collect();
        let last = pk.value.split_whitespace().last().unwrap_or("");
        for candidate in [compact.as_str(), last] {
            if is_hex(candidate) && matches!(candidate.len(), 40 | 64 | 96) {
                let kind = match candidate.len() {
                    40 => "SHA-1",
                    64 => "SHA-256",
                    _ => "SHA-384",
                };
                self.err(Diagnostic::error(
                    Code::DigestAsKey,
                    pk.span,
                    "a DS digest",
                    format!(
                        "this looks like a DS digest ({} hex characters, {kind}), not a public key",
                        candidate.len()
                    ),
                ).help("registrar keys take the DNSKEY public key (base64); find it with `dig DNSKEY <zone>` or in Route 53's `GetDNSSEC` answer"));
                return None;
            }
        }
        let bytes = match B64.decode(compact.as_bytes()) {
            Ok(b) => b,
            Err(e) => {
                self.err(Diagnostic::error(
                    Code::KeyBase64,
                    pk.span,
                    "not base64",
                    format!("the public key is not valid base64: {e}"),
                ));
                return None;
            }
        };
        let want = match algorithm {
            Some(13) => Some(64),
            Some(14) => Some(96),
            Some(15) => Some(32),
            Some(16) => Some(57),
            _ => None,
        };
        if let (Some(want), Some(alg)) = (want, algorithm) {
            if bytes.len() != want {
                self.err(Diagnostic::error(
                    Code::KeyLength,
                    pk.span,
                    format!("{} bytes", bytes.len()),
                    format!(
                        "the public key is {} bytes; algorithm {alg} ({}) keys are {want} bytes",
                        bytes.len(),
                        algorithm_name(alg).unwrap_or("?")
                    ),
                ));
                return None;
            }
        } else if let Some(alg @ (8 | 10)) = algorithm
            && let Err(why) = rsa_key_shape(&bytes)
        {
            self.err(Diagnostic::error(
                Code::KeyLength,
                pk.span,
                "not an RSA key",
                format!(
                    "the public key is not an RSA key for algorithm {alg} ({}): {why} (RFC 3110 §2)",
                    algorithm_name(alg).unwrap_or("?")
                ),
            ).help("an RSA public key is the exponent length, the exponent and a 512 to 4096-bit modulus, in base64: paste the DNSKEY's key field"));
            return None;
        }
        Some(compact)
    }
}

/// RFC 3110 §2: exponent length (1 byte, or 0 then 2 bytes), exponent, modulus. Sane means an
/// exponent of 1..=16 bytes and a modulus of 512..=4096 bits.
fn rsa_key_shape(b: &[u8]) -> Result<(), String> {
    if b.len() < 64 {
        return Err(format!("{} bytes is shorter than any RSA key", b.len()));
    }
    let (exp_len, head) = if b[0] == 0 {
        (usize::from(u16::from_be_bytes([b[1], b[2]])), 3)
    } else {
        (usize::from(b[0]), 1)
    };
    if exp_len == 0 || exp_len > 16 {
        return Err(format!("an exponent of {exp_len} bytes"));
    }
    let modulus = b.len().saturating_sub(head + exp_len);
    if !(64..=512).contains(&modulus) {
        return Err(format!("a modulus of {modulus} bytes"));
    }
    Ok(())
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// A KMS key id: a UUID, or a multi-Region key id `mrk-` + 32 hex digits.
fn is_kms_key_id(id: &str) -> bool {
    if let Some(h) = id.strip_prefix("mrk-") {
        return h.len() == 32 && is_hex(h);
    }
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && is_hex(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_key_ids() {
        assert!(is_kms_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(is_kms_key_id("mrk-1234abcd12ab34cd56ef1234567890ab"));
        assert!(!is_kms_key_id("1234"));
    }

    #[test]
    fn rsa_shapes() {
        let mut k = vec![3u8, 1, 0, 1];
        k.extend(std::iter::repeat_n(0xAB, 128));
        assert!(rsa_key_shape(&k).is_ok());
        assert!(rsa_key_shape(&k[..40]).is_err());
        let mut bad = k.clone();
        bad[0] = 200;
        assert!(rsa_key_shape(&bad).is_err());
    }
}
