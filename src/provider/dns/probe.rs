//! The `probe` command (DESIGN.md §7): a read-only, server-by-server chain-of-trust view of one
//! zone, as JSON ([`ProbeReport`], a versioned shape of its own) and as a human table. The chain
//! verdict follows RFC 4035 §5: with no DS at the parent the zone is insecure; with a DS whose
//! algorithm and digest type the validator supports, the zone is secure only when that DS
//! matches a served DNSKEY (RFC 4034 §5.1.4) which signs the DNSKEY RRset (RFC 4035 §5.2) and
//! the zone data verifies; otherwise it is bogus (resolvers answer SERVFAIL). DS records that use
//! only unsupported algorithms or digests leave the zone insecure (RFC 4035 §5.2, RFC 6840 §5.2).

use std::net::SocketAddr;
use std::sync::Arc;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use hickory_proto::dnssec::Algorithm;
use serde::Serialize;

use super::denial::DenialKind;
use super::observe::{DnsObserver, ParentDetail, ZoneDetail};
use super::{DnsError, FixedClock, ObserverConfig, Servers, Target, parse_server};
use crate::cli::{Format, ProbeArgs};
use crate::config::DnsOverride;
use crate::model::{DigestType, Dnskey, DsRecord, Timestamp, ZoneName};
use crate::state::{ProbeError, ServerObs};

/// Version of the JSON shape below.
pub const PROBE_FORMAT_VERSION: u32 = 1;

/// How a validating resolver would judge the zone from its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    Secure,
    Insecure,
    Bogus,
    /// No parent/zone server pair answered: nothing was observed, so nothing is judged (not
    /// observed is never "bogus", nor "secure").
    Unreachable,
}

impl Chain {
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::Secure => "secure",
            Chain::Insecure => "insecure",
            Chain::Bogus => "bogus",
            Chain::Unreachable => "unreachable",
        }
    }
}

/// The `probe --format json` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    pub format_version: u32,
    pub zone: String,
    pub chain: Chain,
    pub observed_at: Timestamp,
    pub parent_servers: Vec<ParentServerReport>,
    pub zone_servers: Vec<ZoneServerReport>,
    /// Why the chain is what it is, and anything else worth a look.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParentServerReport {
    pub server: String,
    pub seen_at: Timestamp,
    pub ds: Vec<DsReport>,
    pub ds_ttl: Option<u32>,
    /// The delegation NS TTL from the referral.
    pub ns_ttl: Option<u32>,
    /// The DS RRset's signature verifies with the parent's key (null when there is no DS).
    pub ds_signed: Option<bool>,
    /// With no DS: a signed NSEC/NSEC3 proves its absence (null with a DS or an unsigned parent).
    pub ds_absence_signed: Option<bool>,
    /// The chain as a resolver that asked this server would judge it (null on error).
    pub chain: Option<Chain>,
    pub error: Option<ProbeError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DsReport {
    pub key_tag: u16,
    pub algorithm: u8,
    pub digest_type: u8,
    pub digest: String,
    /// Some zone server serves a DNSKEY this DS points at.
    pub matches_dnskey: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneServerReport {
    pub server: String,
    pub seen_at: Timestamp,
    pub dnskeys: Vec<DnskeyReport>,
    pub dnskey_ttl: Option<u32>,
    /// The DNSKEY RRset is signed by a SEP key and verifies.
    pub dnskey_signed: bool,
    /// SOA and NS are signed and verify.
    pub data_signed: bool,
    /// Both of the above.
    pub signatures_verify: bool,
    /// When the first of the verified RRsets stops verifying.
    pub signatures_expire_at: Option<Timestamp>,
    pub ns_ttl: Option<u32>,
    /// A made-up name gets a signed NSEC/NSEC3 denial (null when not checked or unsigned).
    pub denial: Option<DenialReport>,
    pub error: Option<ProbeError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DenialReport {
    pub kind: DenialKind,
    pub signed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnskeyReport {
    pub key_tag: Option<u16>,
    pub flags: u16,
    pub algorithm: u8,
    pub sep: bool,
    /// This key's signature over the DNSKEY RRset verified.
    pub signs_dnskey: bool,
}

/// Whether a validator can use this DS (RFC 4035 §5.2): known digest type and algorithm.
fn ds_supported(ds: &DsRecord) -> bool {
    DigestType::from_number(ds.digest_type).is_some()
        && Algorithm::from_u8(ds.algorithm).is_supported()
}

/// The chain from one parent server's DS set to one zone server's keys (RFC 4035 §5).
pub fn judge(zone: &ZoneName, parent: &ParentDetail, zs: &ZoneDetail) -> (Chain, Option<String>) {
    let ds = &parent.answer.ds;
    if ds.is_empty() {
        if parent.ds_absence_signed == Some(false) {
            // RFC 4035 §5.2: a signed parent must prove the delegation is unsigned.
            return (
                Chain::Bogus,
                Some("the parent does not prove that the zone has no DS".into()),
            );
        }
        return (Chain::Insecure, None);
    }
    if parent.ds_signed == Some(false) {
        return (
            Chain::Bogus,
            Some("the DS RRset's signature does not verify".into()),
        );
    }
    let usable: Vec<&DsRecord> = ds.iter().filter(|d| ds_supported(d)).collect();
    if usable.is_empty() {
        return (
            Chain::Insecure,
            Some("every DS uses an algorithm or digest type validators do not support".into()),
        );
    }
    let signing_keys: Vec<&Dnskey> = zs
        .answer
        .dnskeys
        .iter()
        .filter(|k| k.is_zone_key())
        .filter(|k| k.key_tag().is_ok_and(|t| zs.dnskey_signers.contains(&t)))
        .collect();
    let anchored = usable
        .iter()
        .any(|d| signing_keys.iter().any(|k| k.matches(zone, d)));
    if !anchored {
        let why = if zs.answer.dnskeys.is_empty() {
            "the parent has a DS but the zone serves no DNSKEY"
        } else if usable
            .iter()
            .any(|d| zs.answer.dnskeys.iter().any(|k| k.matches(zone, d)))
        {
            "the DNSKEY the DS points at does not sign the DNSKEY RRset"
        } else {
            "no DS matches a served DNSKEY"
        };
        return (Chain::Bogus, Some(why.into()));
    }
    if !zs.answer.data_signed {
        return (
            Chain::Bogus,
            Some("the zone's SOA/NS signatures do not verify".into()),
        );
    }
    (Chain::Secure, None)
}

/// Builds the report from what was observed (pure; `now` is when it was observed).
pub fn build_report(
    zone: &ZoneName,
    parents: &[ServerObs<ParentDetail>],
    zones: &[ServerObs<ZoneDetail>],
    now: Timestamp,
) -> ProbeReport {
    let mut problems = Vec::new();
    let answered_zones: Vec<&ZoneDetail> = zones
        .iter()
        .filter_map(|z| z.result.as_ref().ok())
        .collect();
    let mut overall: Option<Chain> = None;
    let mut parent_reports = Vec::new();
    for p in parents {
        let mut rep = ParentServerReport {
            server: p.server.clone(),
            seen_at: p.seen_at,
            ds: Vec::new(),
            ds_ttl: None,
            ns_ttl: None,
            ds_signed: None,
            ds_absence_signed: None,
            chain: None,
            error: None,
            problems: Vec::new(),
        };
        match &p.result {
            Err(e) => {
                rep.error = Some(e.clone());
                problems.push(format!(
                    "parent server {} did not answer: {}",
                    p.server, e.message
                ));
            }
            Ok(d) => {
                rep.ds = d
                    .answer
                    .ds
                    .iter()
                    .map(|ds| DsReport {
                        key_tag: ds.key_tag,
                        algorithm: ds.algorithm,
                        digest_type: ds.digest_type,
                        digest: ds.digest.clone(),
                        matches_dnskey: answered_zones
                            .iter()
                            .any(|z| z.answer.dnskeys.iter().any(|k| k.matches(zone, ds))),
                    })
                    .collect();
                rep.ds_ttl = d.answer.ds_ttl.map(|t| t.0);
                rep.ns_ttl = d.answer.ns_ttl.map(|t| t.0);
                rep.ds_signed = d.ds_signed;
                rep.ds_absence_signed = d.ds_absence_signed;
                rep.problems = d.problems.clone();
                // The weakest verdict over every zone server a resolver could reach.
                let mut here: Option<Chain> = None;
                for (z, zd) in zones
                    .iter()
                    .filter_map(|z| z.result.as_ref().ok().map(|d| (z, d)))
                {
                    let (c, why) = judge(zone, d, zd);
                    if let Some(w) = why {
                        let msg = format!("via {} and {}: {w}", p.server, z.server);
                        if !problems.contains(&msg) {
                            problems.push(msg);
                        }
                    }
                    here = Some(here.map_or(c, |h| h.max(c)));
                }
                rep.chain = here;
                if let Some(c) = here {
                    overall = Some(overall.map_or(c, |o| o.max(c)));
                }
            }
        }
        parent_reports.push(rep);
    }
    let zone_reports: Vec<ZoneServerReport> = zones
        .iter()
        .map(|z| match &z.result {
            Err(e) => {
                problems.push(format!(
                    "zone server {} did not answer: {}",
                    z.server, e.message
                ));
                ZoneServerReport {
                    server: z.server.clone(),
                    seen_at: z.seen_at,
                    dnskeys: Vec::new(),
                    dnskey_ttl: None,
                    dnskey_signed: false,
                    data_signed: false,
                    signatures_verify: false,
                    signatures_expire_at: None,
                    ns_ttl: None,
                    denial: None,
                    error: Some(e.clone()),
                    problems: Vec::new(),
                }
            }
            Ok(d) => ZoneServerReport {
                server: z.server.clone(),
                seen_at: z.seen_at,
                dnskeys: d
                    .answer
                    .dnskeys
                    .iter()
                    .map(|k| {
                        let tag = k.key_tag().ok();
                        DnskeyReport {
                            key_tag: tag,
                            flags: k.flags,
                            algorithm: k.algorithm,
                            sep: k.is_sep(),
                            signs_dnskey: tag.is_some_and(|t| d.dnskey_signers.contains(&t)),
                        }
                    })
                    .collect(),
                dnskey_ttl: d.answer.dnskey_ttl.map(|t| t.0),
                dnskey_signed: d.answer.dnskey_signed,
                data_signed: d.answer.data_signed,
                signatures_verify: d.answer.dnskey_signed && d.answer.data_signed,
                signatures_expire_at: d.signatures_expire_at,
                ns_ttl: d.answer.ns_ttl.map(|t| t.0),
                denial: d.denial.as_ref().map(|c| DenialReport {
                    kind: c.kind,
                    signed: c.signed,
                }),
                error: None,
                problems: d.answer.problems.clone(),
            },
        })
        .collect();
    // Servers of one zone should agree; a difference is what a resolver may or may not see
    // depending on the server it picks.
    let ds_sets: Vec<(&str, &Vec<DsRecord>)> = parents
        .iter()
        .filter_map(|p| {
            p.result
                .as_ref()
                .ok()
                .map(|d| (p.server.as_str(), &d.answer.ds))
        })
        .collect();
    if let Some((first, set)) = ds_sets.first() {
        for (other, s) in &ds_sets[1..] {
            if s != set {
                problems.push(format!(
                    "parent servers disagree on the DS RRset: {first} and {other} serve different sets"
                ));
            }
        }
    }
    let key_sets: Vec<(&str, &Vec<Dnskey>)> = zones
        .iter()
        .filter_map(|z| {
            z.result
                .as_ref()
                .ok()
                .map(|d| (z.server.as_str(), &d.answer.dnskeys))
        })
        .collect();
    if let Some((first, set)) = key_sets.first() {
        for (other, s) in &key_sets[1..] {
            if s != set {
                problems.push(format!(
                    "zone servers disagree on the DNSKEY RRset: {first} and {other} serve different sets"
                ));
            }
        }
    }
    let chain = match overall {
        Some(c) => c,
        None => {
            if parents.is_empty() || zones.is_empty() {
                problems.push("no servers to ask".into());
            } else {
                problems.push("no parent/zone server pair answered; resolvers would fail".into());
            }
            Chain::Unreachable
        }
    };
    ProbeReport {
        format_version: PROBE_FORMAT_VERSION,
        zone: zone.to_string(),
        chain,
        observed_at: now,
        parent_servers: parent_reports,
        zone_servers: zone_reports,
        problems,
    }
}

/// Probes `zone` at the given servers (discovering either list when it is empty), with `now`
/// as the clock every signature is judged against.
pub async fn probe(
    zone: &ZoneName,
    parent_servers: &[SocketAddr],
    zone_servers: &[SocketAddr],
    now: Timestamp,
) -> Result<ProbeReport, ProbeError> {
    let obs = DnsObserver::with_clock(ObserverConfig::default(), Arc::new(FixedClock(now)));
    let over = DnsOverride {
        parent_servers: parent_servers.to_vec(),
        zone_servers: zone_servers.to_vec(),
    };
    let servers = obs.servers(zone, &over).await?;
    Ok(probe_with(&obs, zone, &servers).await)
}

/// Probes `zone` at known servers with a given observer (its config and clock).
pub async fn probe_with(obs: &DnsObserver, zone: &ZoneName, servers: &Servers) -> ProbeReport {
    let (p, z) = tokio::join!(
        obs.observe_parent_detail(zone, &servers.parent),
        obs.observe_zone_detail(zone, &servers.zone)
    );
    build_report(zone, &p, &z, obs.now())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

fn opt_ttl(t: Option<u32>) -> String {
    t.map_or_else(|| "-".to_string(), |t| format!("{t}s"))
}

/// The human rendering: a verdict line, a parent table, a zone table, the problems.
pub fn render_table(r: &ProbeReport) -> String {
    let mut out = format!(
        "zone {}: chain of trust {}\n",
        r.zone,
        r.chain.as_str().to_uppercase()
    );
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "parent server",
        "DS (tag alg digest-type)",
        "matches DNSKEY",
        "DS TTL",
        "NS TTL",
        "DS signed",
        "chain",
    ]);
    for p in &r.parent_servers {
        if let Some(e) = &p.error {
            t.add_row(vec![
                p.server.clone(),
                format!("error: {:?}: {}", e.kind, e.message),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        let ds = if p.ds.is_empty() {
            "none".to_string()
        } else {
            p.ds.iter()
                .map(|d| format!("{} {} {}", d.key_tag, d.algorithm, d.digest_type))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let m =
            p.ds.iter()
                .map(|d| yes_no(d.matches_dnskey))
                .collect::<Vec<_>>()
                .join("\n");
        t.add_row(vec![
            p.server.clone(),
            ds,
            m,
            opt_ttl(p.ds_ttl),
            opt_ttl(p.ns_ttl),
            p.ds_signed.map_or("-", yes_no).to_string(),
            p.chain.map_or("-", Chain::as_str).to_string(),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "zone server",
        "DNSKEYs (tag flags alg)",
        "DNSKEY signed",
        "SOA/NS signed",
        "denial",
        "signatures expire",
    ]);
    for z in &r.zone_servers {
        if let Some(e) = &z.error {
            t.add_row(vec![
                z.server.clone(),
                format!("error: {:?}: {}", e.kind, e.message),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        let keys = if z.dnskeys.is_empty() {
            "none".to_string()
        } else {
            z.dnskeys
                .iter()
                .map(|k| {
                    format!(
                        "{} {} {}",
                        k.key_tag.map_or("?".into(), |t| t.to_string()),
                        k.flags,
                        k.algorithm
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let denial = match &z.denial {
            None => "-".to_string(),
            Some(d) => format!(
                "{:?} {}",
                d.kind,
                if d.signed { "signed" } else { "NOT signed" }
            ),
        };
        t.add_row(vec![
            z.server.clone(),
            keys,
            yes_no(z.dnskey_signed).to_string(),
            yes_no(z.data_signed).to_string(),
            denial,
            z.signatures_expire_at.map_or("-".into(), |t| t.to_string()),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    if !r.problems.is_empty() {
        out.push_str("problems:\n");
        for p in &r.problems {
            out.push_str("  - ");
            out.push_str(p);
            out.push('\n');
        }
    }
    out
}

/// The exit code of `probe`: 0 when the chain is secure or insecure and every server answered;
/// 1 when it is bogus or unreachable, or any server failed to answer.
pub fn exit_code(r: &ProbeReport) -> u8 {
    let errors = r.parent_servers.iter().any(|p| p.error.is_some())
        || r.zone_servers.iter().any(|z| z.error.is_some());
    if matches!(r.chain, Chain::Bogus | Chain::Unreachable) || errors {
        1
    } else {
        0
    }
}

/// The whole `probe` command: parse the arguments, discover or take the servers, probe, and
/// render (`Format::Json` → pretty JSON, anything else → the table). Returns what to print on
/// stdout and the exit code (see [`exit_code`]). Builds its own tokio runtime; call it from
/// synchronous code.
pub fn run_probe_command(args: &ProbeArgs, format: Format) -> Result<(String, u8), DnsError> {
    let zone = ZoneName::parse(&args.zone).map_err(|e| DnsError::BadZone {
        text: args.zone.clone(),
        reason: e.to_string(),
    })?;
    let parents = args
        .parent_servers
        .iter()
        .map(|s| parse_server(s))
        .collect::<Result<Vec<_>, _>>()?;
    let zones = args
        .zone_servers
        .iter()
        .map(|s| parse_server(s))
        .collect::<Result<Vec<_>, _>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| DnsError::Runtime(e.to_string()))?;
    let obs = DnsObserver::default();
    let report = rt.block_on(async {
        let over = DnsOverride {
            parent_servers: parents,
            zone_servers: zones,
        };
        match obs.servers(&zone, &over).await {
            Ok(servers) => probe_with(&obs, &zone, &servers).await,
            Err(e) => {
                // Discovery failed: report it as a server that did not answer.
                let failed = ServerObs {
                    server: "(discovery)".into(),
                    seen_at: obs.now(),
                    result: Err(e),
                };
                build_report(
                    &zone,
                    &[ServerObs {
                        server: failed.server.clone(),
                        seen_at: failed.seen_at,
                        result: failed.result.clone(),
                    }],
                    &[],
                    obs.now(),
                )
            }
        }
    });
    let code = exit_code(&report);
    let text = match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report)
                .map_err(|e| DnsError::Render(e.to_string()))?;
            s.push('\n');
            s
        }
        _ => render_table(&report),
    };
    Ok((text, code))
}

/// A convenience for callers holding plain addresses.
pub fn targets(addrs: &[SocketAddr]) -> Vec<Target> {
    addrs.iter().copied().map(Target::addr).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ParentAnswer;

    /// RFC 6605 §6.1's KSK for example.net and its SHA-256 DS.
    fn ksk() -> Dnskey {
        Dnskey::new(
            257,
            13,
            "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
        )
    }

    fn zone() -> ZoneName {
        ZoneName::parse("example.net").unwrap()
    }

    fn parent(ds: Vec<DsRecord>) -> ParentDetail {
        ParentDetail {
            answer: ParentAnswer {
                ds,
                ds_ttl: None,
                ns_ttl: None,
                ds_signed: Some(true),
            },
            ds_signed: Some(true),
            ..ParentDetail::default()
        }
    }

    fn served(signs: bool, data: bool) -> ZoneDetail {
        let k = ksk();
        let mut z = ZoneDetail::default();
        z.answer.dnskeys = vec![k.clone()];
        z.answer.dnskey_signed = signs;
        z.answer.data_signed = data;
        if signs {
            z.dnskey_signers = vec![k.key_tag().unwrap()];
        }
        z
    }

    #[test]
    fn chain_verdicts_follow_rfc4035_section5() {
        let z = zone();
        let good = ksk().to_ds(&z, DigestType::Sha256).unwrap();
        assert_eq!(
            judge(&z, &parent(vec![]), &served(true, true)).0,
            Chain::Insecure
        );
        assert_eq!(
            judge(&z, &parent(vec![good.clone()]), &served(true, true)).0,
            Chain::Secure
        );
        // The key the DS points at does not sign the DNSKEY RRset.
        assert_eq!(
            judge(&z, &parent(vec![good.clone()]), &served(false, true)).0,
            Chain::Bogus
        );
        // SOA/NS signatures fail.
        assert_eq!(
            judge(&z, &parent(vec![good.clone()]), &served(true, false)).0,
            Chain::Bogus
        );
        // A wrong digest.
        let mut wrong = good.clone();
        wrong.digest = wrong.digest.chars().rev().collect();
        assert_eq!(
            judge(&z, &parent(vec![wrong.clone()]), &served(true, true)).0,
            Chain::Bogus
        );
        // One good DS among several is enough (RFC 4035 §5.2).
        assert_eq!(
            judge(&z, &parent(vec![wrong, good.clone()]), &served(true, true)).0,
            Chain::Secure
        );
        // Only an unsupported digest type (1 is not computed here) or algorithm: insecure.
        let mut sha1 = good.clone();
        sha1.digest_type = 1;
        assert_eq!(
            judge(&z, &parent(vec![sha1]), &served(true, true)).0,
            Chain::Insecure
        );
        let mut alg = good.clone();
        alg.algorithm = 200;
        assert_eq!(
            judge(&z, &parent(vec![alg]), &served(true, true)).0,
            Chain::Insecure
        );
        // No DS, and the signed parent does not prove it: bogus.
        let mut p = parent(vec![]);
        p.ds_absence_signed = Some(false);
        assert_eq!(judge(&z, &p, &served(true, true)).0, Chain::Bogus);
        // A DS whose own signature fails is bogus.
        let mut p = parent(vec![good]);
        p.ds_signed = Some(false);
        assert_eq!(judge(&z, &p, &served(true, true)).0, Chain::Bogus);
    }

    #[test]
    fn report_takes_the_weakest_verdict_and_exit_codes() {
        let z = zone();
        let now = Timestamp::UNIX_EPOCH;
        let good = ksk().to_ds(&z, DigestType::Sha256).unwrap();
        let ok = |d: ParentDetail| ServerObs {
            server: "p".into(),
            seen_at: now,
            result: Ok(d),
        };
        let zs = |d: ZoneDetail| ServerObs {
            server: "z".into(),
            seen_at: now,
            result: Ok(d),
        };
        let r = build_report(
            &z,
            &[ok(parent(vec![good.clone()]))],
            &[zs(served(true, true))],
            now,
        );
        assert_eq!((r.chain, exit_code(&r)), (Chain::Secure, 0));
        let r = build_report(
            &z,
            &[ok(parent(vec![good.clone()]))],
            &[zs(served(true, true)), zs(served(false, true))],
            now,
        );
        assert_eq!((r.chain, exit_code(&r)), (Chain::Bogus, 1));
        assert!(
            r.problems.iter().any(|p| p.contains("does not sign")),
            "{:?}",
            r.problems
        );
        let r = build_report(&z, &[ok(parent(vec![]))], &[zs(served(true, true))], now);
        assert_eq!((r.chain, exit_code(&r)), (Chain::Insecure, 0));
        let failed = ServerObs {
            server: "p2".into(),
            seen_at: now,
            result: Err(ProbeError {
                kind: crate::state::ProbeErrorKind::Timeout,
                message: "t".into(),
            }),
        };
        let r = build_report(
            &z,
            &[ok(parent(vec![good])), failed],
            &[zs(served(true, true))],
            now,
        );
        assert_eq!((r.chain, exit_code(&r)), (Chain::Secure, 1));
        assert!(r.parent_servers[1].error.is_some());
        let r = build_report(&z, &[], &[], now);
        assert_eq!((r.chain, exit_code(&r)), (Chain::Unreachable, 1));
        assert!(render_table(&r).contains("UNREACHABLE"));
    }
}
