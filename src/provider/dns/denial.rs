//! Signed denial of existence: NSEC (RFC 4034 §4, RFC 4035 §3.1.3) and NSEC3 (RFC 5155 §7.2).
//! Two checks against one zone server:
//! - [`check_nxdomain`]: a made-up name gets NXDOMAIN with signed records that cover the name and
//!   the wildcard at the apex (RFC 4035 §3.1.3.2; RFC 5155 §7.2.2, next-closer and wildcard cover);
//! - [`check_wildcard`]: a name synthesised from a wildcard (RFC 4035 §3.1.3.3) answers with a
//!   wildcard-expanded signature and a proof that the exact name does not exist, and the NODATA
//!   answer for a type the wildcard lacks carries a type bitmap that still lists the types the
//!   wildcard has — the Route 53 / Slack 2021 outage class, where a wrong bitmap let resolvers
//!   deny records that existed.

use std::net::SocketAddr;

use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, NSEC, NSEC3};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::Serialize;

use super::observe::DnsObserver;
use super::verify::{self, VerifyCtx};
use crate::state::ProbeError;

/// Which denial mechanism the zone uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenialKind {
    Nsec,
    Nsec3,
    /// No NSEC or NSEC3 record came with the denial.
    None,
}

/// The outcome of one denial check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DenialCheck {
    /// The name asked about.
    pub qname: String,
    pub kind: DenialKind,
    /// The proof is present, every record of it verifies, and it covers what it must.
    pub signed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The outcome of [`check_wildcard`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WildcardCheck {
    /// The synthesised answer is signed with a wildcard signature (RRSIG labels below the
    /// owner's, RFC 4035 §5.3.4) that verifies, and comes with a verified proof that the exact
    /// name does not exist.
    pub positive: DenialCheck,
    /// The NODATA answer for the missing type is signed and its type bitmap lists the existing
    /// type and not the missing one.
    pub nodata: DenialCheck,
}

/// RFC 4648 §7 base32hex, lower case, no padding (NSEC3 owner labels, RFC 5155 §3.3).
fn base32hex(bytes: &[u8]) -> String {
    const ALPHA: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buf: u64 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buf = (buf << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHA[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHA[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// `lo < x < hi` on a ring (the last NSEC/NSEC3 of a zone wraps around to the first).
fn ring_covers<T: Ord>(lo: &T, x: &T, hi: &T) -> bool {
    if lo < hi {
        lo < x && x < hi
    } else {
        x > lo || x < hi
    }
}

fn nsecs(records: &[Record]) -> Vec<(&Record, &NSEC)> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(n)) => Some((r, n)),
            _ => None,
        })
        .collect()
}

fn nsec3s(records: &[Record]) -> Vec<(&Record, &NSEC3)> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC3(n)) => Some((r, n)),
            _ => None,
        })
        .collect()
}

/// Verifies every NSEC/NSEC3 RRset in `section` with the zone keys; `true` when each verifies.
fn verify_proof_records(
    section: &[Record],
    rtype: RecordType,
    keys: &[&DNSKEY],
    zone: &Name,
    ctx: VerifyCtx,
    problems: &mut Vec<String>,
) -> bool {
    let mut owners: Vec<&Name> = section
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| &r.name)
        .collect();
    owners.sort();
    owners.dedup();
    let mut all = !owners.is_empty();
    for owner in owners {
        let recs = verify::rrset(section, owner, rtype);
        let sigs = verify::rrsigs_for(section, owner, rtype);
        let v = verify::verify_rrset(owner, rtype, &recs, &sigs, keys, zone, false, ctx);
        if !v.valid {
            all = false;
            problems.extend(v.problems);
        }
    }
    all
}

/// The NSEC3 record (owner hash, record) whose hash matches or covers `name`.
struct Nsec3Hit<'a> {
    matches: Option<&'a NSEC3>,
    covers: bool,
}

fn nsec3_lookup<'a>(zone: &Name, set: &[(&'a Record, &'a NSEC3)], name: &Name) -> Nsec3Hit<'a> {
    let mut hit = Nsec3Hit {
        matches: None,
        covers: false,
    };
    for (r, n) in set {
        let Ok(h) = Nsec3HashAlgorithm::SHA1.hash(n.salt(), name, n.iterations()) else {
            continue;
        };
        let h = base32hex(h.as_ref());
        let owner = r
            .name
            .iter()
            .next()
            .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
            .unwrap_or_default();
        if !r.name.base_name().eq_ignore_root(zone) {
            continue;
        }
        let next = base32hex(n.next_hashed_owner_name());
        if h == owner {
            hit.matches = Some(n);
        } else if ring_covers(&owner, &h, &next) {
            hit.covers = true;
        }
    }
    hit
}

fn nsec_covers(set: &[(&Record, &NSEC)], name: &Name) -> bool {
    set.iter()
        .any(|(r, n)| ring_covers(&r.name, name, n.next_domain_name()))
}

/// A label nobody would create, fresh per call (so caches and synthesis cannot fake it).
fn made_up_label() -> String {
    format!("dnssec-pilot-nx-{:08x}", rand::random::<u32>())
}

/// Asks `addr` for a made-up name under `zone` and checks the signed NXDOMAIN proof
/// (RFC 4035 §3.1.3.2 for NSEC, RFC 5155 §7.2.2 for NSEC3).
pub async fn check_nxdomain(
    obs: &DnsObserver,
    addr: SocketAddr,
    zone: &Name,
    keys: &[DNSKEY],
    ctx: VerifyCtx,
) -> Result<DenialCheck, ProbeError> {
    let keys: Vec<&DNSKEY> = keys.iter().collect();
    let qname = zone.prepend_label(made_up_label()).map_err(|e| {
        super::observe::probe_err(crate::state::ProbeErrorKind::Malformed, e.to_string())
    })?;
    let m = obs.ask(addr, &qname, RecordType::A).await?.message;
    let mut c = DenialCheck {
        qname: qname.to_ascii(),
        kind: DenialKind::None,
        signed: false,
        problems: Vec::new(),
    };
    if m.metadata.response_code != ResponseCode::NXDomain {
        c.problems.push(format!(
            "{qname} A answered {} instead of NXDOMAIN",
            m.metadata.response_code
        ));
        return Ok(c);
    }
    let wildcard = zone
        .clone()
        .prepend_label("*")
        .unwrap_or_else(|_| zone.clone());
    let n = nsecs(&m.authorities);
    let n3 = nsec3s(&m.authorities);
    if !n.is_empty() {
        c.kind = DenialKind::Nsec;
        let sigs_ok = verify_proof_records(
            &m.authorities,
            RecordType::NSEC,
            &keys,
            zone,
            ctx,
            &mut c.problems,
        );
        let covers_name = nsec_covers(&n, &qname);
        let covers_wild = nsec_covers(&n, &wildcard);
        if !covers_name {
            c.problems.push(format!("no NSEC covers {qname}"));
        }
        if !covers_wild {
            c.problems.push(format!("no NSEC covers {wildcard}"));
        }
        c.signed = sigs_ok && covers_name && covers_wild;
    } else if !n3.is_empty() {
        c.kind = DenialKind::Nsec3;
        let sigs_ok = verify_proof_records(
            &m.authorities,
            RecordType::NSEC3,
            &keys,
            zone,
            ctx,
            &mut c.problems,
        );
        // The closest encloser is the apex: it must be matched, the next closer name (qname)
        // and the wildcard at the closest encloser covered (RFC 5155 §7.2.1-7.2.2).
        let apex = nsec3_lookup(zone, &n3, zone);
        let next_closer = nsec3_lookup(zone, &n3, &qname);
        let wild = nsec3_lookup(zone, &n3, &wildcard);
        if apex.matches.is_none() {
            c.problems
                .push("no NSEC3 matches the closest encloser (the apex)".into());
        }
        if !next_closer.covers {
            c.problems
                .push(format!("no NSEC3 covers the next closer name {qname}"));
        }
        if !wild.covers {
            c.problems
                .push(format!("no NSEC3 covers the wildcard {wildcard}"));
        }
        c.signed = sigs_ok && apex.matches.is_some() && next_closer.covers && wild.covers;
    } else {
        c.problems.push(format!(
            "the NXDOMAIN for {qname} carries no NSEC or NSEC3 record"
        ));
    }
    Ok(c)
}

/// Whether the authority section of a DS NODATA answer proves, with signatures of the parent
/// `parent`'s keys, that the delegation `zone` has no DS: an NSEC at `zone` whose bitmap lacks DS
/// (RFC 4035 §5.2), or an NSEC3 matching `zone` without DS, or an opt-out NSEC3 covering it
/// (RFC 5155 §8.6).
pub fn ds_absence(
    section: &[Record],
    zone: &Name,
    parent: &Name,
    keys: &[&DNSKEY],
    ctx: VerifyCtx,
) -> (bool, Vec<String>) {
    let mut problems = Vec::new();
    let n = nsecs(section);
    let n3 = nsec3s(section);
    if let Some((_, nsec)) = n.iter().find(|(r, _)| r.name.eq_ignore_root(zone)) {
        let sigs =
            verify_proof_records(section, RecordType::NSEC, keys, parent, ctx, &mut problems);
        let lacks_ds = !nsec.type_set().contains(RecordType::DS);
        if !lacks_ds {
            problems.push(format!("the NSEC at {zone} lists DS but no DS was served"));
        }
        return (sigs && lacks_ds, problems);
    }
    if !n3.is_empty() {
        let sigs =
            verify_proof_records(section, RecordType::NSEC3, keys, parent, ctx, &mut problems);
        let hit = nsec3_lookup(parent, &n3, zone);
        let ok = match hit.matches {
            Some(m) => {
                let lacks = !m.type_set().contains(RecordType::DS);
                if !lacks {
                    problems.push(format!(
                        "the NSEC3 for {zone} lists DS but no DS was served"
                    ));
                }
                lacks
            }
            None => {
                let opt_out = hit.covers && n3.iter().any(|(_, r)| r.opt_out());
                if !opt_out {
                    problems.push(format!("no NSEC3 matches {zone} or covers it with opt-out"));
                }
                opt_out
            }
        };
        return (sigs && ok, problems);
    }
    problems.push(format!(
        "the parent {parent} is signed but proves no DS absence for {zone} (no NSEC/NSEC3)"
    ));
    (false, problems)
}

/// Asks `addr` about a made-up name below `wildcard_parent` (whose `*` child exists and holds
/// `existing` but not `missing`): RFC 4035 §3.1.3.3 (positive wildcard answer) and §3.1.3.4
/// (wildcard NODATA), RFC 5155 §7.2.5-7.2.6 for NSEC3.
#[allow(clippy::too_many_arguments)]
pub async fn check_wildcard(
    obs: &DnsObserver,
    addr: SocketAddr,
    zone: &Name,
    wildcard_parent: &Name,
    existing: RecordType,
    missing: RecordType,
    keys: &[DNSKEY],
    ctx: VerifyCtx,
) -> Result<WildcardCheck, ProbeError> {
    let keys: Vec<&DNSKEY> = keys.iter().collect();
    let bad = |e: hickory_proto::ProtoError| {
        super::observe::probe_err(crate::state::ProbeErrorKind::Malformed, e.to_string())
    };
    let qname = wildcard_parent
        .prepend_label(made_up_label())
        .map_err(bad)?;
    let star = wildcard_parent.prepend_label("*").map_err(bad)?;

    // Positive answer synthesised from the wildcard.
    let m = obs.ask(addr, &qname, existing).await?.message;
    let mut pos = DenialCheck {
        qname: qname.to_ascii(),
        kind: DenialKind::None,
        signed: false,
        problems: Vec::new(),
    };
    let recs = verify::rrset(&m.answers, &qname, existing);
    let sigs = verify::rrsigs_for(&m.answers, &qname, existing);
    let expanded = sigs
        .iter()
        .any(|s| s.input().num_labels < qname.num_labels());
    let v = verify::verify_rrset(&qname, existing, &recs, &sigs, &keys, zone, false, ctx);
    pos.problems.extend(v.problems);
    if !expanded {
        pos.problems.push(format!(
            "{qname} {existing} is not signed as a wildcard expansion"
        ));
    }
    let proof_ok = proof_of_nonexistence(&m.authorities, zone, &qname, &keys, ctx, &mut pos);
    pos.signed = v.valid && expanded && proof_ok;

    // NODATA for a type the wildcard does not have.
    let m = obs.ask(addr, &qname, missing).await?.message;
    let mut nod = DenialCheck {
        qname: qname.to_ascii(),
        kind: DenialKind::None,
        signed: false,
        problems: Vec::new(),
    };
    if !verify::rrset(&m.answers, &qname, missing).is_empty() {
        nod.problems
            .push(format!("{qname} {missing} exists; cannot check its denial"));
        return Ok(WildcardCheck {
            positive: pos,
            nodata: nod,
        });
    }
    let n = nsecs(&m.authorities);
    let n3 = nsec3s(&m.authorities);
    let (sigs_ok, bitmap_ok) = if !n.is_empty() {
        nod.kind = DenialKind::Nsec;
        let ok = verify_proof_records(
            &m.authorities,
            RecordType::NSEC,
            &keys,
            zone,
            ctx,
            &mut nod.problems,
        );
        let at_star = n.iter().find(|(r, _)| r.name.eq_ignore_root(&star));
        let bitmap = match at_star {
            Some((_, nsec)) => bitmap_says(
                nsec.type_set().contains(existing),
                nsec.type_set().contains(missing),
                &star,
                existing,
                missing,
                &mut nod.problems,
            ),
            None => {
                nod.problems
                    .push(format!("no NSEC at {star} in the NODATA answer"));
                false
            }
        };
        (ok, bitmap)
    } else if !n3.is_empty() {
        nod.kind = DenialKind::Nsec3;
        let ok = verify_proof_records(
            &m.authorities,
            RecordType::NSEC3,
            &keys,
            zone,
            ctx,
            &mut nod.problems,
        );
        let bitmap = match nsec3_lookup(zone, &n3, &star).matches {
            Some(nsec3) => bitmap_says(
                nsec3.type_set().contains(existing),
                nsec3.type_set().contains(missing),
                &star,
                existing,
                missing,
                &mut nod.problems,
            ),
            None => {
                nod.problems
                    .push(format!("no NSEC3 matches {star} in the NODATA answer"));
                false
            }
        };
        (ok, bitmap)
    } else {
        nod.problems.push(format!(
            "the NODATA for {qname} {missing} carries no NSEC or NSEC3"
        ));
        (false, false)
    };
    nod.signed = sigs_ok && bitmap_ok;
    Ok(WildcardCheck {
        positive: pos,
        nodata: nod,
    })
}

fn bitmap_says(
    has_existing: bool,
    has_missing: bool,
    star: &Name,
    existing: RecordType,
    missing: RecordType,
    problems: &mut Vec<String>,
) -> bool {
    if !has_existing {
        problems.push(format!(
            "the type bitmap at {star} omits {existing}, which exists: resolvers would deny it"
        ));
    }
    if has_missing {
        problems.push(format!(
            "the type bitmap at {star} lists {missing}, which is missing"
        ));
    }
    has_existing && !has_missing
}

/// The authority section proves `qname` itself does not exist (needed with a wildcard answer).
fn proof_of_nonexistence(
    section: &[Record],
    zone: &Name,
    qname: &Name,
    keys: &[&DNSKEY],
    ctx: VerifyCtx,
    c: &mut DenialCheck,
) -> bool {
    let n = nsecs(section);
    let n3 = nsec3s(section);
    if !n.is_empty() {
        c.kind = DenialKind::Nsec;
        let ok = verify_proof_records(section, RecordType::NSEC, keys, zone, ctx, &mut c.problems);
        let covers = nsec_covers(&n, qname);
        if !covers {
            c.problems.push(format!("no NSEC covers {qname}"));
        }
        ok && covers
    } else if !n3.is_empty() {
        c.kind = DenialKind::Nsec3;
        let ok = verify_proof_records(section, RecordType::NSEC3, keys, zone, ctx, &mut c.problems);
        let covers = nsec3_lookup(zone, &n3, qname).covers;
        if !covers {
            c.problems
                .push(format!("no NSEC3 covers the next closer name {qname}"));
        }
        ok && covers
    } else {
        c.problems.push(format!(
            "the wildcard answer for {qname} carries no proof that {qname} does not exist"
        ));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors for base32hex.
    #[test]
    fn base32hex_vectors() {
        assert_eq!(base32hex(b""), "");
        assert_eq!(base32hex(b"f"), "co");
        assert_eq!(base32hex(b"fo"), "cpng");
        assert_eq!(base32hex(b"foo"), "cpnmu");
        assert_eq!(base32hex(b"foobar"), "cpnmuoj1e8");
    }

    #[test]
    fn ring_cover() {
        assert!(ring_covers(&1, &2, &3));
        assert!(!ring_covers(&1, &3, &3));
        assert!(ring_covers(&5, &6, &1));
        assert!(ring_covers(&5, &0, &1));
        assert!(!ring_covers(&5, &3, &1));
    }
}
