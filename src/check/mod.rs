//! CI health checks (DESIGN.md §6), pure over what was observed and planned: every zone's chain
//! of trust at every server (modelled on the checks DNSViz and Zonemaster run), drift and pending
//! steps. Each check has a stable code, a severity, the server or record it concerns and a
//! one-line fix. Rendering (human, JSON, GitHub annotations, JUnit) is in [`report`].

pub mod report;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::config::{Desired, registrar_key_limit};
use crate::model::{Dnskey, DsRecord, MAX_SIGNED_TTL, RecordRef, Ttl, ZoneName};
use crate::plan::{Plan, Severity, StepStatus, TargetKind};
use crate::state::{
    Direction, Journal, KskStatus, LiveObs, Mark, Observed, ParentObs, RegistrarKeyObs,
    SigningStatus,
};

/// Every check, with its stable code and what it guards.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "CHK001",
        "DS at the parent has a matching DNSKEY (per parent server)",
    ),
    (
        "CHK002",
        "DNSKEY RRset signed by a key a DS points to (per zone server)",
    ),
    ("CHK003", "RRSIGs valid and not close to expiry"),
    ("CHK004", "servers agree on the DS and DNSKEY sets"),
    ("CHK005", "Route 53 signs a zone the config says is signed"),
    ("CHK006", "no DS while the zone is unsigned (an outage)"),
    ("CHK007", "KSKs and their KMS keys are healthy"),
    (
        "CHK008",
        "record TTLs at most one week in a signed zone, and within the config's cap or the original",
    ),
    ("CHK009", "every registrar key matches a served DNSKEY"),
    ("CHK010", "registrar key count below the TLD limit"),
    ("CHK011", "signed NSEC/NSEC3 proof for a nonexistent name"),
    ("CHK012", "every name server answers"),
    (
        "CHK013",
        "the DS of a trusted zone is still published (chain of trust not lost)",
    ),
    (
        "CHK014",
        "the DS RRset's signature verifies at every parent server (a signed parent)",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckSeverity {
    Warning,
    Error,
}

/// One problem found by one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: CheckSeverity,
    /// The server, record or key it concerns.
    pub subject: String,
    pub message: String,
    pub fix: String,
}

/// One check's result for one zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub code: &'static str,
    pub title: &'static str,
    /// False when the check does not apply (e.g. a DS check on an unsigned zone with no DS).
    pub applied: bool,
    pub findings: Vec<Finding>,
}

/// A pending step, as `check` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub step: String,
    pub action: String,
    pub status: String,
    pub waiting_for: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneHealth {
    pub zone: ZoneName,
    pub kind: TargetKind,
    /// 1-based line of the zone's entry in the config (0 when not in the config).
    pub line: usize,
    pub checks: Vec<CheckResult>,
    pub drift: Vec<crate::plan::Drift>,
    pub plan_issues: Vec<crate::plan::Issue>,
    pub pending: Vec<Pending>,
}

impl ZoneHealth {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.checks.iter().flat_map(|c| c.findings.iter())
    }
    pub fn worst(&self) -> Option<CheckSeverity> {
        let plan_err = self
            .plan_issues
            .iter()
            .any(|i| i.severity == Severity::Error);
        let f = self.findings().map(|f| f.severity).max();
        if plan_err {
            Some(CheckSeverity::Error)
        } else {
            f
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub zones: Vec<ZoneHealth>,
}

impl CheckReport {
    /// 0 healthy and in sync; 2 drift or pending steps; 1 any failed health check (an error
    /// finding, a plan error, or with `fail_on_warning` a warning).
    pub fn exit_code(&self, fail_on_warning: bool) -> u8 {
        let failed = self.zones.iter().any(|z| match z.worst() {
            Some(CheckSeverity::Error) => true,
            Some(CheckSeverity::Warning) => fail_on_warning,
            None => false,
        });
        if failed {
            1
        } else if self
            .zones
            .iter()
            .any(|z| !z.drift.is_empty() || !z.pending.is_empty())
        {
            2
        } else {
            0
        }
    }
}

struct Zc<'a> {
    zone: &'a ZoneName,
    live: &'a LiveObs,
    checks: Vec<CheckResult>,
}

impl Zc<'_> {
    fn result(&mut self, code: &'static str, applied: bool, findings: Vec<Finding>) {
        let title = CHECKS
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, t)| *t);
        self.checks.push(CheckResult {
            code,
            title,
            applied,
            findings,
        });
    }

    /// The DNSKEYs served by any zone server.
    fn served_keys(&self) -> Vec<&Dnskey> {
        let mut v: Vec<&Dnskey> = self
            .live
            .zone_servers
            .iter()
            .filter_map(|s| s.result.as_ref().ok())
            .flat_map(|a| a.dnskeys.iter())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The DS records served by any parent server.
    fn served_ds(&self) -> Vec<&DsRecord> {
        let mut v: Vec<&DsRecord> = self
            .live
            .parent_servers
            .iter()
            .filter_map(|s| s.result.as_ref().ok())
            .flat_map(|a| a.ds.iter())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn f(
    code: &'static str,
    severity: CheckSeverity,
    subject: impl Into<String>,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        code,
        severity,
        subject: subject.into(),
        message: message.into(),
        fix: fix.into(),
    }
}

/// The chain-of-trust checks every zone and domain gets, from the live view.
fn live_checks(c: &mut Zc<'_>, signed_expected: bool) {
    use CheckSeverity::{Error, Warning};
    let served = c.served_keys();
    let zone = c.zone.clone();
    let any_ds = !c.served_ds().is_empty();

    // CHK001: per parent server, every DS set has a match among served DNSKEYs.
    let mut f1 = Vec::new();
    for s in &c.live.parent_servers {
        if let Ok(a) = &s.result
            && !a.ds.is_empty()
            && !a
                .ds
                .iter()
                .any(|ds| served.iter().any(|k| k.matches(&zone, ds)))
        {
            f1.push(f(
                "CHK001",
                Error,
                s.server.clone(),
                format!(
                    "parent server {} serves DS {} but no zone server serves a matching DNSKEY: validating resolvers get SERVFAIL",
                    s.server,
                    a.ds.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
                ),
                "publish the DS of an active KSK (`dnssec-pilot apply`), or remove the wrong DS at the parent",
            ));
        }
    }
    c.result("CHK001", any_ds, f1);

    // CHK002: per zone server, the DNSKEY RRset is signed by a key some DS points to.
    let ds_all: Vec<DsRecord> = c.served_ds().into_iter().cloned().collect();
    let mut f2 = Vec::new();
    if !ds_all.is_empty() {
        for s in &c.live.zone_servers {
            if let Ok(a) = &s.result {
                let pointed_keys: Vec<&Dnskey> = a
                    .dnskeys
                    .iter()
                    .filter(|k| ds_all.iter().any(|ds| k.matches(&zone, ds)))
                    .collect();
                let pointed = !pointed_keys.is_empty();
                // RFC 4035 §5.2: the key a DS points to must itself sign the DNSKEY RRset.
                let pointed_signs = pointed_keys
                    .iter()
                    .any(|k| k.key_tag().is_ok_and(|t| a.dnskey_signers.contains(&t)));
                if !pointed || !a.dnskey_signed || !pointed_signs {
                    f2.push(f(
                        "CHK002",
                        Error,
                        s.server.clone(),
                        if pointed && a.dnskey_signed {
                            format!("zone server {} serves the DS's key, but the DNSKEY RRset is not signed by it", s.server)
                        } else if pointed {
                            format!("zone server {} serves the DS's key but its DNSKEY RRset signature does not verify", s.server)
                        } else {
                            format!("zone server {} serves no DNSKEY that a DS at the parent points to", s.server)
                        },
                        "check the KSK is ACTIVE and signing is enabled; wait for INSYNC",
                    ));
                }
            }
        }
    }
    c.result("CHK002", !ds_all.is_empty(), f2);

    // CHK014: per parent server, the DS RRset's RRSIG verifies with the parent's DNSKEY.
    let mut f14 = Vec::new();
    for s in &c.live.parent_servers {
        if let Ok(a) = &s.result
            && !a.ds.is_empty()
            && a.ds_signed == Some(false)
        {
            f14.push(f(
                "CHK014",
                Error,
                s.server.clone(),
                format!(
                    "parent server {} serves the DS RRset of `{}` without a signature that verifies: the parent zone is unsigned, or its signature is bad, so validators cannot build a chain of trust",
                    s.server, zone
                ),
                "an unsigned parent cannot vouch for a DS: sign the parent zone (or ask its operator to); a bad RRSIG is the parent operator's to fix",
            ));
        }
    }
    c.result("CHK014", any_ds, f14);

    // CHK003: signatures verify; problems reported by the verifier.
    let mut f3 = Vec::new();
    if signed_expected || any_ds {
        for s in &c.live.zone_servers {
            if let Ok(a) = &s.result {
                if !a.data_signed && !a.dnskeys.is_empty() {
                    f3.push(f(
                        "CHK003",
                        Error,
                        s.server.clone(),
                        format!(
                            "zone server {} serves SOA/NS without valid RRSIGs",
                            s.server
                        ),
                        "check the zone's signing status in Route 53",
                    ));
                }
                for p in &a.problems {
                    f3.push(f("CHK003", Warning, s.server.clone(), format!("{}: {p}", s.server), "signatures are refreshed by Route 53; if this persists, check the KSK's KMS key"));
                }
            }
        }
    }
    c.result("CHK003", signed_expected || any_ds, f3);

    // CHK004: servers agree.
    let mut f4 = Vec::new();
    let ds_sets: BTreeSet<Vec<String>> = c
        .live
        .parent_servers
        .iter()
        .filter_map(|s| s.result.as_ref().ok())
        .map(|a| {
            let mut v: Vec<String> = a.ds.iter().map(|d| d.to_string()).collect();
            v.sort();
            v
        })
        .collect();
    if ds_sets.len() > 1 {
        f4.push(f("CHK004", Warning, "parent servers", format!("parent servers serve {} different DS sets (propagation in progress, or a stale server)", ds_sets.len()), "wait for propagation; if it persists, tell the parent's operator"));
    }
    let key_sets: BTreeSet<Vec<String>> = c
        .live
        .zone_servers
        .iter()
        .filter_map(|s| s.result.as_ref().ok())
        .map(|a| {
            let mut v: Vec<String> = a.dnskeys.iter().map(|k| k.public_key.clone()).collect();
            v.sort();
            v
        })
        .collect();
    if key_sets.len() > 1 {
        f4.push(f(
            "CHK004",
            Warning,
            "zone servers",
            format!(
                "zone servers serve {} different DNSKEY sets",
                key_sets.len()
            ),
            "wait for INSYNC; if it persists, check the hosted zone's name servers",
        ));
    }
    c.result("CHK004", true, f4);

    // CHK011: signed denial of existence.
    let mut f11 = Vec::new();
    if signed_expected {
        for s in &c.live.zone_servers {
            if let Ok(a) = &s.result
                && a.denial_signed == Some(false)
            {
                f11.push(f("CHK011", Error, s.server.clone(), format!("zone server {} answers a nonexistent name without a valid signed NSEC/NSEC3 proof", s.server), "a validating resolver treats such answers as bogus: check signing in Route 53"));
            }
        }
    }
    c.result("CHK011", signed_expected, f11);

    // CHK012: every server answers.
    let mut f12 = Vec::new();
    for s in &c.live.parent_servers {
        if let Err(e) = &s.result {
            f12.push(f(
                "CHK012",
                Warning,
                s.server.clone(),
                format!(
                    "parent server {} did not answer: {} ({:?})",
                    s.server, e.message, e.kind
                ),
                "gates stay closed until every server answers; check reachability",
            ));
        }
    }
    for s in &c.live.zone_servers {
        if let Err(e) = &s.result {
            f12.push(f(
                "CHK012",
                Warning,
                s.server.clone(),
                format!(
                    "zone server {} did not answer: {} ({:?})",
                    s.server, e.message, e.kind
                ),
                "gates stay closed until every server answers; check reachability",
            ));
        }
    }
    c.result("CHK012", true, f12);
}

fn registrar_checks(c: &mut Zc<'_>, keys: &[RegistrarKeyObs]) {
    use CheckSeverity::{Error, Warning};
    let served: Vec<Dnskey> = c.served_keys().into_iter().cloned().collect();
    let mut f9 = Vec::new();
    if !c.live.zone_servers.is_empty() {
        for k in keys {
            if !served
                .iter()
                .any(|s| s.public_key == k.key.public_key && s.algorithm == k.key.algorithm)
            {
                f9.push(f("CHK009", Error, format!("registrar key {}", k.id), format!("registrar key {} (key tag {}) matches no DNSKEY the zone serves: its DS points nowhere", k.id, k.key.key_tag().unwrap_or(0)), "remove the key at the registrar, or serve the key again"));
            }
        }
    }
    c.result("CHK009", !keys.is_empty(), f9);
    let limit = registrar_key_limit(c.zone);
    let mut f10 = Vec::new();
    if keys.len() + 1 >= limit {
        f10.push(f(
            "CHK010",
            Warning,
            c.zone.to_string(),
            format!(
                "{} of {limit} registrar keys used: a rotation needs a free slot",
                keys.len()
            ),
            "remove keys no DNS provider serves any more",
        ));
    }
    c.result("CHK010", !keys.is_empty(), f10);
}

/// Runs every check for every zone and domain of the plan.
pub fn check(
    desired: &Desired,
    observed: &Observed,
    journal: &Journal,
    plan: &Plan,
) -> CheckReport {
    use CheckSeverity::{Error, Warning};
    let mut zones = Vec::new();
    for zp in &plan.zones {
        let pending: Vec<Pending> = zp
            .pending()
            .map(|s| Pending {
                step: s.id.clone(),
                action: s.kind().as_str().to_string(),
                status: s.status.as_str().to_string(),
                waiting_for: (s.status == StepStatus::Blocked).then(|| {
                    s.gates
                        .iter()
                        .find(|g| !g.satisfied)
                        .map_or_else(|| "the previous step".to_string(), |g| g.rule.to_string())
                }),
            })
            .collect();
        let empty = LiveObs::default();
        match zp.kind {
            TargetKind::Zone => {
                let spec = desired.zone(&zp.zone);
                let zo = observed.zones.get(&zp.zone);
                let live = zo.map_or(&empty, |z| &z.live);
                let mut c = Zc {
                    zone: &zp.zone,
                    live,
                    checks: Vec::new(),
                };
                // ACTION_NEEDED / INTERNAL_FAILURE: Route 53 still serves the signatures it
                // made until they expire (CHK007 and CHK003 report the trouble), so the zone
                // counts as signed here — not as the unsigned outage of CHK005/CHK006.
                let signing = zo.is_some_and(|z| {
                    matches!(
                        z.dnssec.status,
                        SigningStatus::Signing
                            | SigningStatus::ActionNeeded
                            | SigningStatus::InternalFailure
                    )
                });
                // Signing was reached once: still on, or turned off by a destroy since.
                let reached = journal.zone(&zp.zone).is_some_and(|j| {
                    j.marks.contains_key(&Mark::SigningInsync)
                        || j.marks.contains_key(&Mark::SigningDisabledInsync)
                });
                let wants_signed = spec.is_some_and(|s| s.signing.enabled);
                live_checks(&mut c, signing);
                if let Some(zo) = zo {
                    let api_ds = match &zo.parent {
                        ParentObs::ParentZone { ds, .. } => !ds.is_empty(),
                        ParentObs::Registrar(r) => !r.keys.is_empty(),
                        ParentObs::Unknown => false,
                    };
                    let any_ds = api_ds || zo.live.any_parent_ds();
                    // CHK005
                    let mut f5 = Vec::new();
                    // The journal's last walk was a destroy: the tool itself took the zone off
                    // DNSSEC, and only the config still says signed.
                    let destroyed_since = journal
                        .zone(&zp.zone)
                        .and_then(|j| j.direction)
                        .filter(|d| d.direction == Direction::Destroy)
                        .map(|d| d.since);
                    if wants_signed && !signing && (reached || any_ds) {
                        match destroyed_since {
                            Some(since) if !any_ds => f5.push(f("CHK005", Warning, zp.zone.to_string(), format!("`{}` was taken off DNSSEC by `dnssec-pilot destroy` (journal: since {}), and the config still says signed", zp.zone, crate::render::fmt_time(since)), "set `signing.enabled: false` for this zone to keep it unsigned, or run `dnssec-pilot apply` to onboard it again")),
                            _ => f5.push(f("CHK005", Error, zp.zone.to_string(), format!("Route 53 reports {:?} for `{}`, which the config says is signed", zo.dnssec.status, zp.zone), "run `dnssec-pilot apply` to re-enable signing; find out who disabled it")),
                        }
                    }
                    c.result("CHK005", wants_signed, f5);
                    // CHK006
                    let mut f6 = Vec::new();
                    if !signing && any_ds {
                        f6.push(f("CHK006", Error, zp.zone.to_string(), format!("a DS for `{}` is published but the zone is not signed: every validating resolver gets SERVFAIL", zp.zone), "re-enable signing now (`dnssec-pilot apply`), or remove the DS and wait its TTL"));
                    }
                    c.result("CHK006", true, f6);
                    // CHK007
                    let mut f7 = Vec::new();
                    for k in &zo.dnssec.ksks {
                        if matches!(
                            k.status,
                            KskStatus::ActionNeeded | KskStatus::InternalFailure
                        ) {
                            f7.push(f("CHK007", Error, format!("KSK {}", k.name), format!("KSK `{}` is {:?}{}: its KMS key `{}` lost its grant, was disabled or is pending deletion", k.name, k.status, k.status_message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default(), k.kms_arn), "restore the key policy for dnssec-route53.amazonaws.com and enable the key in KMS"));
                        }
                    }
                    if matches!(
                        zo.dnssec.status,
                        SigningStatus::ActionNeeded | SigningStatus::InternalFailure
                    ) {
                        f7.push(f(
                            "CHK007",
                            Error,
                            zp.zone.to_string(),
                            format!("Route 53 signing status is {:?}", zo.dnssec.status),
                            "fix the KSK's KMS key; Route 53 resumes signing by itself",
                        ));
                    }
                    c.result("CHK007", !zo.dnssec.ksks.is_empty(), f7);
                    // CHK008: Route 53 caps TTLs at one week in a signed zone (seed 000, step
                    // "Finally"); and a TTL above both the config's onboarding cap and the
                    // zone's original (journal baseline) was raised by hand: every later
                    // rollback or key change must wait that long (RFC 6781 §4.1.4: the TTLs
                    // bound every DNSSEC timing).
                    let mut f8 = Vec::new();
                    let zj = journal.zone(&zp.zone);
                    // The baseline indexed once: linear in the zone's size.
                    let originals: HashMap<&RecordRef, Ttl> = zj
                        .and_then(|j| j.baseline.as_ref())
                        .map(|b| b.record_ttls.iter().map(|t| (&t.record, t.ttl)).collect())
                        .unwrap_or_default();
                    if signing && let Some(hz) = &zo.hosted_zone {
                        for r in hz.record_sets.iter() {
                            let Some(ttl) = r.ttl else { continue };
                            if ttl > MAX_SIGNED_TTL {
                                f8.push(f(
                                    "CHK008",
                                    Error,
                                    r.record_ref().to_string(),
                                    format!(
                                        "{} has TTL {} s, above one week in a signed zone",
                                        r.record_ref(),
                                        ttl.0
                                    ),
                                    "lower it to 604800 s or less",
                                ));
                                continue;
                            }
                            let (Some(spec), Some(base)) =
                                (spec, zj.and_then(|j| j.baseline.as_ref()))
                            else {
                                continue;
                            };
                            let rr = r.record_ref();
                            let original = originals.get(&rr).copied().unwrap_or(base.max_ttl);
                            let budget = spec.ttl_max.max(original).min(MAX_SIGNED_TTL);
                            if ttl > budget {
                                f8.push(f(
                                    "CHK008",
                                    Error,
                                    rr.to_string(),
                                    format!(
                                        "{rr} has TTL {} s, above both the config's cap ({} s) and its original TTL ({} s): raised by hand, it stretches every later rollback or key change by that long",
                                        ttl.0, spec.ttl_max.0, original.0
                                    ),
                                    format!(
                                        "set it back to {} s or less (or raise `ttl.max` in the config if this is intended)",
                                        budget.0
                                    ),
                                ));
                            }
                        }
                    }
                    c.result("CHK008", signing, f8);
                    // CHK013: once the journal recorded the chain of trust, a DS gone from a
                    // parent server (or from the parent's API) means the zone silently dropped
                    // to insecure (RFC 4035 §5.2: no DS, no chain).
                    let onboarded = zj.is_some_and(|j| {
                        j.marks.contains_key(&Mark::TrustEstablished)
                            && j.direction
                                .is_none_or(|d| d.direction == Direction::Onboard)
                    });
                    let wants_trust = spec
                        .is_some_and(|s| s.signing.enabled && !s.ds_absent && s.trust.is_some());
                    let mut f13 = Vec::new();
                    if onboarded && wants_trust {
                        match &zo.parent {
                            ParentObs::ParentZone {
                                hosted_zone_id, ds, ..
                            } if ds.is_empty() => f13.push(f(
                                "CHK013",
                                Error,
                                format!("parent hosted zone {hosted_zone_id}"),
                                format!(
                                    "the parent hosted zone {hosted_zone_id} holds no DS for `{}` any more, though the chain of trust was established: the zone is insecure",
                                    zp.zone
                                ),
                                "find out who removed it; `dnssec-pilot apply` publishes it again",
                            )),
                            ParentObs::Registrar(r) if r.keys.is_empty() => f13.push(f(
                                "CHK013",
                                Error,
                                "Route 53 Domains",
                                format!(
                                    "the registrar holds no DNSSEC key for `{}` any more, though the chain of trust was established: the zone is insecure",
                                    zp.zone
                                ),
                                "find out who removed it; `dnssec-pilot apply` adds it again",
                            )),
                            _ => {}
                        }
                        for s in &zo.live.parent_servers {
                            if let Ok(a) = &s.result
                                && a.ds.is_empty()
                            {
                                f13.push(f(
                                    "CHK013",
                                    Error,
                                    s.server.clone(),
                                    format!(
                                        "parent server {} serves no DS for `{}` any more, though the chain of trust was established: resolvers asking it treat the zone as insecure",
                                        s.server, zp.zone
                                    ),
                                    "find out who removed the DS; `dnssec-pilot apply` publishes it again",
                                ));
                            }
                        }
                    }
                    c.result("CHK013", onboarded && wants_trust, f13);
                    if let ParentObs::Registrar(r) = &zo.parent {
                        registrar_checks(&mut c, &r.keys);
                    }
                }
                zones.push(ZoneHealth {
                    zone: zp.zone.clone(),
                    kind: zp.kind,
                    line: spec.map_or(0, |s| s.line),
                    checks: c.checks,
                    drift: zp.drift.clone(),
                    plan_issues: zp.issues.clone(),
                    pending,
                });
            }
            TargetKind::Domain => {
                let spec = desired.domain(&zp.zone);
                let dobs = observed.domains.get(&zp.zone);
                let live = dobs.map_or(&empty, |d| &d.live);
                let mut c = Zc {
                    zone: &zp.zone,
                    live,
                    checks: Vec::new(),
                };
                live_checks(&mut c, true);
                if let Some(r) = dobs.and_then(|d| d.registrar.as_ref()) {
                    registrar_checks(&mut c, &r.keys);
                }
                let _ = (Error, Warning);
                zones.push(ZoneHealth {
                    zone: zp.zone.clone(),
                    kind: zp.kind,
                    line: spec.map_or(0, |s| s.line),
                    checks: c.checks,
                    drift: zp.drift.clone(),
                    plan_issues: zp.issues.clone(),
                    pending,
                });
            }
        }
    }
    // Worst first.
    zones.sort_by(|a, b| b.worst().cmp(&a.worst()).then_with(|| a.zone.cmp(&b.zone)));
    CheckReport { zones }
}
