//! DNSSEC verification of what one server served: RRSIG checks of RFC 4035 §5.3.1 (signer name is
//! the zone apex, type covered, label count, key tag and algorithm of a zone key, inception and
//! expiration window with a clock-skew allowance) and the signature itself (RFC 4035 §5.3.2-5.3.3,
//! through hickory-proto's `Verifier` over aws-lc-rs), plus the conversions between hickory's
//! DNSKEY/DS RDATA and the model's [`Dnskey`]/[`DsRecord`].

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::dnssec::{PublicKey, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use jiff::SignedDuration;

use crate::model::{Dnskey, DsRecord, Timestamp};

/// The outcome of verifying one RRset against its RRSIGs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RrsetVerdict {
    /// At least one RRSIG passed every check of RFC 4035 §5.3.1 and its signature verified.
    pub valid: bool,
    /// Key tags of the keys whose signatures verified.
    pub signers: Vec<u16>,
    /// The latest expiration among the signatures that verified: the RRset stays verifiable
    /// until then (its remaining validity).
    pub expires_at: Option<Timestamp>,
    /// Why signatures were rejected (empty when every one verified).
    pub problems: Vec<String>,
}

/// The instant a 32-bit RRSIG time field (RFC 4034 §3.1.5, serial-number arithmetic of RFC 1982)
/// denotes, taken as the value nearest to `now`.
pub fn rrsig_time(field: u32, now: Timestamp) -> Timestamp {
    let now_s = now.as_second();
    let delta = field.wrapping_sub(now_s as u32) as i32;
    Timestamp::from_second(now_s + i64::from(delta)).unwrap_or(now)
}

/// The model's view of a DNSKEY RDATA.
pub fn to_model_key(key: &DNSKEY) -> Dnskey {
    use base64::Engine as _;
    let pk = key.public_key();
    Dnskey {
        flags: key.flags(),
        protocol: 3,
        algorithm: u8::from(pk.algorithm()),
        public_key: base64::engine::general_purpose::STANDARD.encode(pk.public_bytes()),
    }
}

/// The model's view of a DS RDATA (digest in upper-case hex).
pub fn to_model_ds(ds: &DS) -> DsRecord {
    let mut digest = String::with_capacity(ds.digest().len() * 2);
    for b in ds.digest() {
        use std::fmt::Write as _;
        let _ = write!(digest, "{b:02X}");
    }
    DsRecord {
        key_tag: ds.key_tag(),
        algorithm: u8::from(ds.algorithm()),
        digest_type: u8::from(ds.digest_type()),
        digest,
    }
}

/// Records of `rtype` owned by `owner` (case-insensitive), in `records`.
pub fn rrset<'a>(records: &'a [Record], owner: &Name, rtype: RecordType) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.record_type() == rtype && r.name.eq_ignore_root(owner))
        .collect()
}

/// RRSIGs owned by `owner` that cover `rtype`.
pub fn rrsigs_for<'a>(records: &'a [Record], owner: &Name, rtype: RecordType) -> Vec<&'a RRSIG> {
    records
        .iter()
        .filter(|r| r.name.eq_ignore_root(owner))
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) if sig.input().type_covered == rtype => {
                Some(sig)
            }
            _ => None,
        })
        .collect()
}

/// DNSKEY RDATA in `records` owned by `owner`.
pub fn dnskeys_in<'a>(records: &'a [Record], owner: &Name) -> Vec<&'a DNSKEY> {
    records
        .iter()
        .filter(|r| r.name.eq_ignore_root(owner))
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k),
            _ => None,
        })
        .collect()
}

/// Verification settings.
#[derive(Clone, Copy, Debug)]
pub struct VerifyCtx {
    pub now: Timestamp,
    /// Signatures are accepted this long before their inception and after their expiration,
    /// for clocks that disagree (seed: one hour).
    pub clock_skew: SignedDuration,
}

/// Verifies the RRset (`owner`, `rtype`) found in `records` against `sigs`, with the zone keys
/// `keys` of the zone `zone` (RFC 4035 §5.3). With `require_sep`, only keys with the SEP flag
/// count (the DNSKEY RRset must be signed by a key the parent's DS can point at, RFC 4035 §5.2).
#[allow(clippy::too_many_arguments)]
pub fn verify_rrset(
    owner: &Name,
    rtype: RecordType,
    records: &[&Record],
    sigs: &[&RRSIG],
    keys: &[&DNSKEY],
    zone: &Name,
    require_sep: bool,
    ctx: VerifyCtx,
) -> RrsetVerdict {
    let mut v = RrsetVerdict::default();
    if records.is_empty() {
        v.problems.push(format!("no {rtype} records at {owner}"));
        return v;
    }
    if sigs.is_empty() {
        v.problems.push(format!("{owner} {rtype} has no RRSIG"));
        return v;
    }
    for sig in sigs {
        let input = sig.input();
        let tag = input.key_tag;
        let alg = u8::from(input.algorithm);
        // RFC 4035 §5.3.1: the signer is the zone containing the RRset.
        if !input.signer_name.eq_ignore_root(zone) {
            v.problems.push(format!(
                "{owner} {rtype}: RRSIG signer {} is not the zone {zone}",
                input.signer_name
            ));
            continue;
        }
        if input.type_covered != rtype {
            continue;
        }
        // RFC 4035 §5.3.1: the Labels field is not larger than the owner's label count.
        if input.num_labels > owner.num_labels() {
            v.problems.push(format!(
                "{owner} {rtype}: RRSIG labels {} exceed the owner's {}",
                input.num_labels,
                owner.num_labels()
            ));
            continue;
        }
        // RFC 4035 §5.3.1: inception ≤ now ≤ expiration (with the skew allowance).
        let inception = rrsig_time(input.sig_inception.get(), ctx.now);
        let expiration = rrsig_time(input.sig_expiration.get(), ctx.now);
        let early = inception.checked_sub(ctx.clock_skew).unwrap_or(inception);
        let late = expiration.checked_add(ctx.clock_skew).unwrap_or(expiration);
        if ctx.now < early {
            v.problems.push(format!(
                "{owner} {rtype}: RRSIG by key {tag} is not valid before {inception}"
            ));
            continue;
        }
        if ctx.now > late {
            v.problems.push(format!(
                "{owner} {rtype}: RRSIG by key {tag} expired at {expiration}"
            ));
            continue;
        }
        // RFC 4035 §5.3.1: a DNSKEY at the zone apex with the Zone Key bit, matching algorithm
        // and key tag.
        let candidates: Vec<&&DNSKEY> = keys
            .iter()
            .filter(|k| k.zone_key() && !k.revoke())
            .filter(|k| u8::from(k.public_key().algorithm()) == alg)
            .filter(|k| k.calculate_key_tag().ok() == Some(tag))
            .collect();
        if candidates.is_empty() {
            v.problems.push(format!(
                "{owner} {rtype}: RRSIG by key {tag} (algorithm {alg}) has no matching zone key"
            ));
            continue;
        }
        let mut ok = false;
        let mut sep_only_problem = false;
        for k in candidates {
            if require_sep && !k.secure_entry_point() {
                sep_only_problem = true;
                continue;
            }
            if k.verify_rrsig(owner, DNSClass::IN, sig, records.iter().copied())
                .is_ok()
            {
                ok = true;
                break;
            }
        }
        if ok {
            v.valid = true;
            if !v.signers.contains(&tag) {
                v.signers.push(tag);
            }
            v.expires_at = Some(v.expires_at.map_or(expiration, |e| e.max(expiration)));
        } else if sep_only_problem {
            v.problems.push(format!(
                "{owner} {rtype}: signed by key {tag}, which is not a SEP (key-signing) key"
            ));
        } else {
            v.problems.push(format!(
                "{owner} {rtype}: RRSIG by key {tag} does not verify"
            ));
        }
    }
    if v.valid {
        // Only the rejected signatures that leave the RRset unverified matter; keep the list
        // short for a valid RRset (a second key mid-rollover is normal).
        v.problems
            .retain(|p| p.contains("expired") || p.contains("does not verify"));
    }
    v
}

/// The smallest TTL of a set of records (what a cache would keep), `None` for an empty set.
pub fn min_ttl(records: &[&Record]) -> Option<u32> {
    records.iter().map(|r| r.ttl).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4034 §3.1.5: times are 32-bit serial numbers (RFC 1982), taken nearest to now.
    #[test]
    fn rrsig_times_wrap_around_2106() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(rrsig_time(1_700_000_100, now).as_second(), 1_700_000_100);
        assert_eq!(rrsig_time(1_699_999_000, now).as_second(), 1_699_999_000);
        // Past 2^32 seconds (2106) the field wraps; the nearest interpretation wins.
        let late = Timestamp::from_second(4_294_967_000).unwrap();
        assert_eq!(rrsig_time(100, late).as_second(), 4_294_967_396);
    }
}
