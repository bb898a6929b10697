//! [`DnsObserver`]: asks every parent server and every zone server of one zone, concurrently, and
//! turns their answers into [`ServerObs`] values (RFC 4035 §5 verification included). Parent side:
//! the DS RRset (RFC 4034 §5) with its TTL and RRSIGs, and the delegation NS TTL from the
//! referral's authority section (RFC 1034 §4.3.2). Zone side: DNSKEY (RRSIG by a SEP key,
//! RFC 4035 §5.2), SOA and NS with RRSIGs, and a signed denial of existence (RFC 4035 §3.1.3).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::SignedDuration;

use super::denial::{self, DenialCheck};
use super::transport::{self, Answer};
use super::verify::{self, VerifyCtx};
use super::{Clock, ObserverConfig, Servers, SystemClock, Target, discover};
use crate::config::DnsOverride;
use crate::model::{Timestamp, Ttl, ZoneName};
use crate::state::{LiveObs, ParentAnswer, ProbeError, ProbeErrorKind, ServerObs, ZoneAnswer};

/// What one parent server said, in more detail than [`ParentAnswer`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParentDetail {
    pub answer: ParentAnswer,
    /// The DS RRset's RRSIG verifies with the parent's DNSKEY as served by the same server
    /// (`None` when there is no DS to check).
    pub ds_signed: Option<bool>,
    /// With no DS: the parent proves its absence with a signed NSEC/NSEC3 (RFC 4035 §5.2: an
    /// unsigned delegation of a signed parent needs that proof, or resolvers call it bogus).
    /// `None` when there is a DS, or when the parent itself is unsigned (serves no DNSKEY).
    pub ds_absence_signed: Option<bool>,
    /// The NS names of the referral with the glue addresses that came with it.
    pub referral: Vec<(String, Vec<IpAddr>)>,
    pub problems: Vec<String>,
}

/// What one zone server served, in more detail than [`ZoneAnswer`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneDetail {
    pub answer: ZoneAnswer,
    /// Key tags of the SEP keys whose RRSIG over the DNSKEY RRset verified.
    pub dnskey_signers: Vec<u16>,
    /// The earliest instant at which one of the DNSKEY/SOA/NS RRsets stops verifying (the
    /// latest valid signature of each RRset, the earliest of those).
    pub signatures_expire_at: Option<Timestamp>,
    /// The signed proof that a made-up name does not exist (when asked for).
    pub denial: Option<DenialCheck>,
}

/// The live DNS observer. Cheap to clone; shares its settings and clock.
#[derive(Clone, Debug)]
pub struct DnsObserver {
    pub(crate) cfg: Arc<ObserverConfig>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for DnsObserver {
    fn default() -> Self {
        DnsObserver::new(ObserverConfig::default())
    }
}

pub(crate) fn probe_err(kind: ProbeErrorKind, message: impl Into<String>) -> ProbeError {
    ProbeError {
        kind,
        message: message.into(),
    }
}

pub(crate) fn to_name(zone: &ZoneName) -> Result<Name, ProbeError> {
    Name::from_ascii(zone.fqdn()).map_err(|e| {
        probe_err(
            ProbeErrorKind::Malformed,
            format!("`{zone}` is not a DNS name: {e}"),
        )
    })
}

impl DnsObserver {
    /// An observer on the system clock.
    pub fn new(cfg: ObserverConfig) -> Self {
        DnsObserver {
            cfg: Arc::new(cfg),
            clock: Arc::new(SystemClock),
        }
    }

    /// An observer whose notion of now comes from `clock` (for deterministic tests).
    pub fn with_clock(cfg: ObserverConfig, clock: Arc<dyn Clock>) -> Self {
        DnsObserver {
            cfg: Arc::new(cfg),
            clock,
        }
    }

    pub fn config(&self) -> &ObserverConfig {
        &self.cfg
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn ctx(&self) -> VerifyCtx {
        VerifyCtx {
            now: self.clock.now(),
            clock_skew: SignedDuration::try_from(self.cfg.clock_skew)
                .unwrap_or(SignedDuration::from_hours(1)),
        }
    }

    /// One non-recursive question to an authoritative server; RCODEs REFUSED and SERVFAIL become
    /// typed errors, any RCODE but NOERROR/NXDOMAIN is `Malformed`.
    pub(crate) async fn ask(
        &self,
        addr: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Answer, ProbeError> {
        let mut opts = self.cfg.query;
        opts.recursion_desired = false;
        let a = transport::query(addr, name, rtype, opts).await?;
        check_rcode(&a.message, addr, name, rtype)?;
        Ok(a)
    }

    // ---------------------------------------------------------------- parent side

    /// Per parent server: the DS RRset and its TTL, the delegation NS TTL (all concurrently).
    pub async fn observe_parent(
        &self,
        zone: &ZoneName,
        parent_servers: &[SocketAddr],
    ) -> Vec<ServerObs<ParentAnswer>> {
        let targets: Vec<Target> = parent_servers.iter().copied().map(Target::addr).collect();
        self.observe_parent_detail(zone, &targets)
            .await
            .into_iter()
            .map(|o| ServerObs {
                server: o.server,
                seen_at: o.seen_at,
                result: o.result.map(|d| d.answer),
            })
            .collect()
    }

    /// [`DnsObserver::observe_parent`] with named targets and the detailed answers.
    pub async fn observe_parent_detail(
        &self,
        zone: &ZoneName,
        targets: &[Target],
    ) -> Vec<ServerObs<ParentDetail>> {
        let me = self.clone();
        let zone = zone.clone();
        let items: Vec<Target> = targets.to_vec();
        let labels: Vec<String> = items.iter().map(|t| t.label.clone()).collect();
        let results = super::run_bounded(items, self.cfg.concurrency, move |t: Target| {
            let me = me.clone();
            let zone = zone.clone();
            async move {
                let r = me.parent_detail(&zone, t.addr).await;
                (me.now(), r)
            }
        })
        .await;
        collect(labels, results, self.now())
    }

    /// Asks one parent server about the delegation of `zone`.
    pub async fn parent_detail(
        &self,
        zone: &ZoneName,
        addr: SocketAddr,
    ) -> Result<ParentDetail, ProbeError> {
        let zname = to_name(zone)?;
        let ctx = self.ctx();
        let mut d = ParentDetail::default();

        // RFC 4035 §3.1.4.1: the DS RRset is served by the parent side of the zone cut.
        // DS and NS are asked at once (one round trip instead of two).
        let (ds_ans, ns_ans) = tokio::join!(
            self.ask(addr, &zname, RecordType::DS),
            self.ask(addr, &zname, RecordType::NS)
        );
        let ds_msg = ds_ans?.message;
        if !ds_msg.metadata.authoritative {
            return Err(probe_err(
                ProbeErrorKind::Lame,
                format!(
                    "{addr} is not authoritative for the parent of {zone} (DS answer without AA)"
                ),
            ));
        }
        if ds_msg.metadata.response_code == ResponseCode::NXDomain {
            d.problems
                .push(format!("the parent says {zone} does not exist (NXDOMAIN)"));
        }
        let ds_records = verify::rrset(&ds_msg.answers, &zname, RecordType::DS);
        // RFC 4035 §3.1.4.1: a server for the child only answers a DS question with NODATA from
        // the child's apex (its SOA in the authority section). That is not the parent speaking.
        if ds_records.is_empty()
            && !verify::rrset(&ds_msg.authorities, &zname, RecordType::SOA).is_empty()
        {
            return Err(probe_err(
                ProbeErrorKind::Lame,
                format!(
                    "{addr} answers for {zone} itself, not for its parent (DS NODATA from the child apex)"
                ),
            ));
        }
        d.answer.ds = ds_records
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::DS(ds)) => {
                    Some(verify::to_model_ds(ds))
                }
                _ => None,
            })
            .collect();
        d.answer.ds.sort();
        d.answer.ds_ttl = verify::min_ttl(&ds_records).map(Ttl);
        if ds_records.is_empty() && ds_msg.metadata.response_code == ResponseCode::NoError {
            // NODATA: the parent's SOA names the zone the proof must be signed by.
            let parent_apex = ds_msg
                .authorities
                .iter()
                .find(|r| r.record_type() == RecordType::SOA)
                .map(|r| r.name.clone());
            if let Some(apex) = parent_apex {
                let keys_msg = self.ask(addr, &apex, RecordType::DNSKEY).await?.message;
                let keys = verify::dnskeys_in(&keys_msg.answers, &apex);
                if !keys.is_empty() {
                    let (ok, problems) =
                        denial::ds_absence(&ds_msg.authorities, &zname, &apex, &keys, ctx);
                    d.ds_absence_signed = Some(ok);
                    d.problems.extend(problems);
                }
            }
        }
        if !ds_records.is_empty() {
            let sigs = verify::rrsigs_for(&ds_msg.answers, &zname, RecordType::DS);
            match sigs.first().map(|s| s.input().signer_name.clone()) {
                None => {
                    d.ds_signed = Some(false);
                    d.problems
                        .push(format!("the DS RRset of {zone} has no RRSIG"));
                }
                Some(signer) => {
                    let keys_msg = self.ask(addr, &signer, RecordType::DNSKEY).await?.message;
                    let keys = verify::dnskeys_in(&keys_msg.answers, &signer);
                    let v = verify::verify_rrset(
                        &zname,
                        RecordType::DS,
                        &ds_records,
                        &sigs,
                        &keys,
                        &signer,
                        false,
                        ctx,
                    );
                    d.ds_signed = Some(v.valid);
                    d.problems.extend(v.problems);
                }
            }
        }

        // RFC 1034 §4.3.2: a non-recursive NS question below the parent's data gets a referral
        // whose authority section holds the delegation NS RRset, with its TTL.
        let ns_msg = ns_ans?.message;
        let section = if ns_msg.metadata.authoritative {
            &ns_msg.answers // the server also serves the child zone
        } else {
            &ns_msg.authorities
        };
        let ns = verify::rrset(section, &zname, RecordType::NS);
        d.answer.ns_ttl = verify::min_ttl(&ns).map(Ttl);
        for r in &ns {
            if let RData::NS(n) = &r.data {
                let host = n.0.clone();
                let glue: Vec<IpAddr> = ns_msg
                    .additionals
                    .iter()
                    .filter(|a| a.name.eq_ignore_root(&host))
                    .filter_map(|a| match &a.data {
                        RData::A(v4) => Some(IpAddr::V4(v4.0)),
                        RData::AAAA(v6) => Some(IpAddr::V6(v6.0)),
                        _ => None,
                    })
                    .collect();
                d.referral.push((host.to_ascii(), glue));
            }
        }
        if ns.is_empty() {
            d.problems
                .push(format!("no delegation NS RRset for {zone} in the referral"));
        }
        Ok(d)
    }

    // ---------------------------------------------------------------- zone side

    /// Per zone server: DNSKEY, SOA and NS with their RRSIGs, verified (all concurrently).
    pub async fn observe_zone(
        &self,
        zone: &ZoneName,
        zone_servers: &[SocketAddr],
    ) -> Vec<ServerObs<ZoneAnswer>> {
        let targets: Vec<Target> = zone_servers.iter().copied().map(Target::addr).collect();
        self.observe_zone_detail(zone, &targets)
            .await
            .into_iter()
            .map(|o| ServerObs {
                server: o.server,
                seen_at: o.seen_at,
                result: o.result.map(|d| d.answer),
            })
            .collect()
    }

    /// [`DnsObserver::observe_zone`] with named targets and the detailed answers.
    pub async fn observe_zone_detail(
        &self,
        zone: &ZoneName,
        targets: &[Target],
    ) -> Vec<ServerObs<ZoneDetail>> {
        let me = self.clone();
        let zone = zone.clone();
        let items: Vec<Target> = targets.to_vec();
        let labels: Vec<String> = items.iter().map(|t| t.label.clone()).collect();
        let results = super::run_bounded(items, self.cfg.concurrency, move |t: Target| {
            let me = me.clone();
            let zone = zone.clone();
            async move {
                let r = me.zone_detail(&zone, t.addr).await;
                (me.now(), r)
            }
        })
        .await;
        collect(labels, results, self.now())
    }

    /// Asks one zone server for the zone's keys, SOA and NS, and verifies them.
    pub async fn zone_detail(
        &self,
        zone: &ZoneName,
        addr: SocketAddr,
    ) -> Result<ZoneDetail, ProbeError> {
        let zname = to_name(zone)?;
        let ctx = self.ctx();
        let mut d = ZoneDetail::default();

        // DNSKEY, SOA and NS are asked at once (one round trip instead of three).
        let (dk_ans, soa_ans, ns_ans) = tokio::join!(
            self.ask(addr, &zname, RecordType::DNSKEY),
            self.ask(addr, &zname, RecordType::SOA),
            self.ask(addr, &zname, RecordType::NS)
        );
        let dk = dk_ans?.message;
        authoritative_for(&dk, addr, zone)?;
        let key_records = verify::rrset(&dk.answers, &zname, RecordType::DNSKEY);
        let keys = verify::dnskeys_in(&dk.answers, &zname);
        d.answer.dnskeys = keys.iter().map(|k| verify::to_model_key(k)).collect();
        d.answer.dnskeys.sort();
        d.answer.dnskey_ttl = verify::min_ttl(&key_records).map(Ttl);
        let mut expiries = Vec::new();
        if !keys.is_empty() {
            let sigs = verify::rrsigs_for(&dk.answers, &zname, RecordType::DNSKEY);
            // RFC 4035 §5.2: the DNSKEY RRset must be signed by a key the DS can point at.
            let v = verify::verify_rrset(
                &zname,
                RecordType::DNSKEY,
                &key_records,
                &sigs,
                &keys,
                &zname,
                true,
                ctx,
            );
            d.answer.dnskey_signed = v.valid;
            d.dnskey_signers = v.signers.clone();
            expiries.push(v.expires_at);
            d.answer.problems.extend(v.problems);
        }

        let soa = soa_ans?.message;
        authoritative_for(&soa, addr, zone)?;
        let soa_records = verify::rrset(&soa.answers, &zname, RecordType::SOA);
        if soa_records.is_empty() {
            return Err(probe_err(
                ProbeErrorKind::Lame,
                format!("{addr} serves no SOA at the apex of {zone}"),
            ));
        }
        let ns = ns_ans?.message;
        authoritative_for(&ns, addr, zone)?;
        let ns_records = verify::rrset(&ns.answers, &zname, RecordType::NS);
        d.answer.ns_ttl = verify::min_ttl(&ns_records).map(Ttl);

        if !keys.is_empty() {
            let soa_v = verify::verify_rrset(
                &zname,
                RecordType::SOA,
                &soa_records,
                &verify::rrsigs_for(&soa.answers, &zname, RecordType::SOA),
                &keys,
                &zname,
                false,
                ctx,
            );
            let ns_v = verify::verify_rrset(
                &zname,
                RecordType::NS,
                &ns_records,
                &verify::rrsigs_for(&ns.answers, &zname, RecordType::NS),
                &keys,
                &zname,
                false,
                ctx,
            );
            d.answer.data_signed = soa_v.valid && ns_v.valid;
            expiries.push(soa_v.expires_at);
            expiries.push(ns_v.expires_at);
            d.answer.problems.extend(soa_v.problems);
            d.answer.problems.extend(ns_v.problems);
            if expiries.iter().all(Option::is_some) {
                d.signatures_expire_at = expiries.into_iter().flatten().min();
            }
            if self.cfg.check_denial {
                let owned: Vec<_> = keys.iter().map(|k| (*k).clone()).collect();
                let check = denial::check_nxdomain(self, addr, &zname, &owned, ctx).await?;
                d.answer
                    .problems
                    .extend(check.problems.iter().map(|p| format!("denial: {p}")));
                d.answer.denial_signed = Some(check.signed);
                d.denial = Some(check);
            }
        }
        Ok(d)
    }

    // ---------------------------------------------------------------- both

    /// The servers to ask: the override where given, else discovered (the parent's servers via
    /// the resolvers of `resolv.conf`, the zone's from the parent's referral).
    pub async fn servers(
        &self,
        zone: &ZoneName,
        over: &DnsOverride,
    ) -> Result<Servers, ProbeError> {
        discover::servers(self, zone, over).await
    }

    /// Targets for name servers known by name (Route 53's assigned name servers), resolved
    /// through the resolvers of `resolv.conf`.
    pub async fn targets_for_names(&self, names: &[String]) -> Result<Vec<Target>, ProbeError> {
        discover::targets_for_names(self, names).await
    }

    /// The live view of `zone` that the planner's gates read.
    ///
    /// When discovery fails, the failure is recorded as an unanswered pseudo-server
    /// (`(discovery)`), so that every "at every server" gate stays closed.
    pub async fn observe_live(&self, zone: &ZoneName, over: &DnsOverride) -> LiveObs {
        let servers = match self.servers(zone, over).await {
            Ok(s) => s,
            Err(e) => {
                return LiveObs {
                    parent_servers: vec![ServerObs {
                        server: "(discovery)".to_string(),
                        seen_at: self.now(),
                        result: Err(e.clone()),
                    }],
                    zone_servers: vec![ServerObs {
                        server: "(discovery)".to_string(),
                        seen_at: self.now(),
                        result: Err(e),
                    }],
                };
            }
        };
        self.observe_live_targets(zone, &servers).await
    }

    /// [`DnsObserver::observe_live`] for known servers; parent and zone sides concurrently.
    pub async fn observe_live_targets(&self, zone: &ZoneName, servers: &Servers) -> LiveObs {
        let (p, z) = tokio::join!(
            self.observe_parent_detail(zone, &servers.parent),
            self.observe_zone_detail(zone, &servers.zone)
        );
        LiveObs {
            parent_servers: p
                .into_iter()
                .map(|o| ServerObs {
                    server: o.server,
                    seen_at: o.seen_at,
                    result: o.result.map(|d| ParentAnswer {
                        ds_signed: d.ds_signed,
                        ..d.answer
                    }),
                })
                .collect(),
            zone_servers: z
                .into_iter()
                .map(|o| ServerObs {
                    server: o.server,
                    seen_at: o.seen_at,
                    result: o.result.map(|d| ZoneAnswer {
                        dnskey_signers: d.dnskey_signers,
                        signatures_expire_at: d.signatures_expire_at,
                        ..d.answer
                    }),
                })
                .collect(),
        }
    }
}

fn collect<T>(
    labels: Vec<String>,
    results: Vec<Option<(Timestamp, Result<T, ProbeError>)>>,
    fallback: Timestamp,
) -> Vec<ServerObs<T>> {
    labels
        .into_iter()
        .zip(results)
        .map(|(server, r)| match r {
            Some((seen_at, result)) => ServerObs {
                server,
                seen_at,
                result,
            },
            None => ServerObs {
                server,
                seen_at: fallback,
                result: Err(probe_err(ProbeErrorKind::Network, "the probe task failed")),
            },
        })
        .collect()
}

/// Maps RCODEs to typed errors (RFC 1035 §4.1.1): REFUSED, SERVFAIL; NOERROR and NXDOMAIN are
/// answers; anything else is an answer we cannot use.
fn check_rcode(
    m: &Message,
    addr: SocketAddr,
    name: &Name,
    rtype: RecordType,
) -> Result<(), ProbeError> {
    match m.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(()),
        ResponseCode::Refused => Err(probe_err(
            ProbeErrorKind::Refused,
            format!("{addr} refused {name} {rtype}"),
        )),
        ResponseCode::ServFail => Err(probe_err(
            ProbeErrorKind::ServFail,
            format!("{addr} answered SERVFAIL to {name} {rtype}"),
        )),
        other => Err(probe_err(
            ProbeErrorKind::Malformed,
            format!("{addr} answered {other} to {name} {rtype}"),
        )),
    }
}

/// A zone server must answer with AA for the apex (RFC 1035 §4.1.1); a referral or a
/// non-authoritative answer means the server is lame for the zone (RFC 1912 §2.8).
fn authoritative_for(m: &Message, addr: SocketAddr, zone: &ZoneName) -> Result<(), ProbeError> {
    if !m.metadata.authoritative {
        let referral = m
            .authorities
            .iter()
            .any(|r| r.record_type() == RecordType::NS);
        return Err(probe_err(
            ProbeErrorKind::Lame,
            if referral {
                format!("{addr} is not authoritative for {zone}: it answered with a referral")
            } else {
                format!("{addr} is not authoritative for {zone} (no AA bit)")
            },
        ));
    }
    if m.metadata.response_code == ResponseCode::NXDomain {
        return Err(probe_err(
            ProbeErrorKind::Lame,
            format!("{addr} says {zone} does not exist: it does not serve the zone"),
        ));
    }
    Ok(())
}
