//! Following the run's own changes (issue 17: observe once, then follow). The provider keeps,
//! per hosted zone, what its last full read saw (`GetHostedZone` + every record set), the last
//! `GetDNSSEC` answer, and per (parent zone, child) the last parent read; each change it sends
//! updates that picture the way a re-read would show it (Route 53 lists a submitted change's
//! data at once; PENDING is about propagation, which `GetChange` and the live DNS report).
//!
//! Under [`RecordRead::Follow`](crate::state::RecordRead) an observation answers from this
//! picture and re-reads only what the provider cannot know: `GetChange`, `GetDNSSEC` after a
//! DNSSEC call (or while its status is transitional), the parent after a DS write, the
//! registrar, the live DNS. Anything uncertain drops the picture and the next observation reads
//! in full: a change batch that failed (it may or may not have been applied), a listing made
//! without `GetHostedZone` (the execution-time fallback).

use std::collections::HashMap;

use aws_sdk_route53::types::ResourceRecordSet;

use super::AwsProvider;
use super::records::parse_soa;
use crate::model::{RecordRef, Ttl, ZoneName};
use crate::state::{DnssecObs, HostedZoneObs, KskStatus, ParentObs, RecordSetObs, SigningStatus};

/// What the provider knows of one hosted zone. Keyed by bare hosted zone id.
#[derive(Clone, Debug, Default)]
pub(crate) struct ZoneCache {
    /// The zone as the last full read saw it, with this run's own changes applied since.
    pub hosted_zone: HostedZoneObs,
    index: HashMap<RecordRef, usize>,
    /// The SOA record set as listed (its value is rewritten with a new minimum).
    pub soa: Option<ResourceRecordSet>,
    /// Backed by `GetHostedZone` and a complete listing: observations may follow it.
    pub complete: bool,
    /// The last `GetDNSSEC` answer; `None` after a DNSSEC call.
    pub dnssec: Option<DnssecObs>,
}

impl ZoneCache {
    /// From a complete listing; `complete` says whether `GetHostedZone` backs `meta`.
    pub fn from_listing(
        mut meta: HostedZoneObs,
        sets: &[ResourceRecordSet],
        zone: &ZoneName,
        complete: bool,
    ) -> Self {
        use aws_sdk_route53::types::RrType;
        meta.record_sets.clear();
        meta.record_sets.reserve(sets.len());
        let mut soa = None;
        for r in sets {
            if r.r#type() == &RrType::Soa
                && super::records::canonical_name(r.name()) == zone.as_str()
            {
                if let Some(s) = parse_soa(r) {
                    meta.soa = s;
                }
                soa = Some(r.clone());
                continue;
            }
            meta.record_sets.push(super::records::to_obs(r));
        }
        let index = meta
            .record_sets
            .iter()
            .enumerate()
            .map(|(i, o)| (o.record_ref(), i))
            .collect();
        ZoneCache {
            hosted_zone: meta,
            index,
            soa,
            complete,
            dnssec: None,
        }
    }

    pub fn record(&self, r: &RecordRef) -> Option<&RecordSetObs> {
        self.index
            .get(r)
            .and_then(|&i| self.hosted_zone.record_sets.get(i))
    }

    /// A TTL-only UPSERT this run sent.
    pub fn set_ttl(&mut self, r: &RecordRef, ttl: Ttl) {
        if let Some(&i) = self.index.get(r)
            && let Some(o) = self.hosted_zone.record_sets.get_mut(i)
        {
            o.ttl = Some(ttl);
        }
    }

    /// An SOA UPSERT this run sent.
    pub fn set_soa(&mut self, rrset: ResourceRecordSet) {
        if let Some(s) = parse_soa(&rrset) {
            self.hosted_zone.soa = s;
        }
        self.soa = Some(rrset);
    }
}

/// A `GetDNSSEC` answer that stays true until someone calls a DNSSEC API: signing or not, every
/// KSK active or inactive. Anything else (deleting, action needed, internal failure) moves on
/// its own and is read again.
fn settled(d: &DnssecObs) -> bool {
    matches!(d.status, SigningStatus::Signing | SigningStatus::NotSigning)
        && d.ksks
            .iter()
            .all(|k| matches!(k.status, KskStatus::Active | KskStatus::Inactive))
}

impl AwsProvider {
    /// The followed picture of zone `id`, when a full read of this run backs it.
    pub(crate) fn followed_zone(&self, id: &str) -> Option<HostedZoneObs> {
        let c = self.inner.cache.lock().ok()?;
        c.get(id)
            .filter(|z| z.complete)
            .map(|z| z.hosted_zone.clone())
    }

    /// The last settled `GetDNSSEC` answer for zone `id` since the last DNSSEC call.
    pub(crate) fn followed_dnssec(&self, id: &str) -> Option<DnssecObs> {
        let c = self.inner.cache.lock().ok()?;
        c.get(id)
            .filter(|z| z.complete)
            .and_then(|z| z.dnssec.clone())
            .filter(settled)
    }

    pub(crate) fn remember_dnssec(&self, id: &str, d: &DnssecObs) {
        if let Ok(mut c) = self.inner.cache.lock()
            && let Some(z) = c.get_mut(id)
        {
            z.dnssec = Some(d.clone());
        }
    }

    /// A DNSSEC call on zone `id` is about to be made: its `GetDNSSEC` answer is read again.
    pub(crate) fn dnssec_changing(&self, id: &str) {
        if let Ok(mut c) = self.inner.cache.lock()
            && let Some(z) = c.get_mut(id)
        {
            z.dnssec = None;
        }
    }

    /// A change to zone `id` failed or may have been applied in part: the next observation
    /// reads it in full.
    pub(crate) fn forget_zone(&self, id: &str) {
        if let Ok(mut c) = self.inner.cache.lock() {
            c.remove(id);
        }
    }

    pub(crate) fn followed_parent(&self, parent_id: &str, zone: &ZoneName) -> Option<ParentObs> {
        let p = self.inner.parents.lock().ok()?;
        p.get(&(parent_id.to_string(), zone.clone())).cloned()
    }

    pub(crate) fn remember_parent(&self, parent_id: &str, zone: &ZoneName, obs: &ParentObs) {
        if let Ok(mut p) = self.inner.parents.lock() {
            p.insert((parent_id.to_string(), zone.clone()), obs.clone());
        }
    }

    /// A DS write for `zone` in parent zone `parent_id` is about to be made: the parent is read
    /// again, and so is the parent as a zone of its own (it holds a changed record set now).
    pub(crate) fn ds_changing(&self, parent_id: &str, zone: &ZoneName) {
        if let Ok(mut p) = self.inner.parents.lock() {
            p.remove(&(parent_id.to_string(), zone.clone()));
        }
        self.forget_zone(parent_id);
    }

    /// Record sets of zone `id` are about to change: what any child read of it as a parent
    /// (its delegation NS and DS TTLs) is read again.
    pub(crate) fn parent_records_changing(&self, id: &str) {
        if let Ok(mut p) = self.inner.parents.lock() {
            p.retain(|(parent, _), _| parent != id);
        }
    }

    /// The hosted zone id this run found for `zone` by name.
    pub(crate) fn known_id(&self, zone: &ZoneName) -> Option<String> {
        self.inner.names.lock().ok()?.get(zone).cloned()
    }

    pub(crate) fn remember_id(&self, zone: &ZoneName, id: &str) {
        if let Ok(mut n) = self.inner.names.lock() {
            n.insert(zone.clone(), id.to_string());
        }
    }
}
