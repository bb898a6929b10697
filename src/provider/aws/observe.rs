//! Observation through the APIs (DESIGN.md §3): the hosted zone by id or by name, every record
//! set (300 a page), the SOA, `GetDNSSEC`, `GetChange` for the journal's change ids, the DS and
//! delegation NS as a Route 53 parent zone holds them, and Route 53 Domains' DNSSEC keys and
//! operations. With the fewest calls the APIs allow: per zone one `GetHostedZone`,
//! ceil(N/300) `ListResourceRecordSets`, one `GetDNSSEC`, one parent read and one `GetChange`
//! per journal change id (plus `ListHostedZonesByName` when the id is not given).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_route53::types::{ResourceRecordSet, RrType};
use aws_sdk_route53domains::types::{OperationStatus as DomOpStatus, OperationType};
use tokio::sync::Semaphore;

use super::records::{canonical_name, fqdn, parse_dnskey, parse_ds_values};
use super::{AwsProvider, Svc, ZoneCache, strip_id, to_timestamp};
use crate::config::Trust;
use crate::model::{DsRecord, Timestamp, Ttl, ZoneName};
use crate::provider::ProviderError;
use crate::state::{
    ChangeObs, ChangeStatus, ChangeWatch, DnssecObs, DomainObs, HostedZoneObs, KskObs, KskStatus,
    Observed, OperationStatus, ParentObs, RecordRead, RegistrarKeyObs, RegistrarObs,
    RegistrarOpObs, Scope, SigningStatus, ZoneObs, ZoneScope,
};

/// Records per `ListResourceRecordSets` page (the API's maximum).
pub const PAGE: i32 = 300;

impl AwsProvider {
    /// Observes every zone and registrar-only domain of the scope (the config's, and those only
    /// the journal still remembers) through the APIs, zones
    /// concurrently (bounded by `concurrency`) under the shared rate limiters. `live` is left
    /// empty for the DNS observer to fill.
    pub async fn observe_api(&self, scope: &Scope) -> Result<Observed, ProviderError> {
        let registrar_needed = !scope.domains.is_empty()
            || scope
                .zones
                .iter()
                .any(|z| matches!(z.trust, Some(Trust::Route53Domains)));
        let pending_ops = if registrar_needed {
            self.list_pending_operations().await?
        } else {
            Vec::new()
        };
        let pending_ops = Arc::new(pending_ops);

        let sem = Arc::new(Semaphore::new(self.inner.opts.concurrency.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let total = scope.zones.len();
        for spec in &scope.zones {
            let me = self.clone();
            let spec = spec.clone();
            let sem = sem.clone();
            let ops = pending_ops.clone();
            let records = scope.records;
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = me.observe_zone(&spec, records, &ops).await;
                (spec.name, r)
            });
        }
        let mut out = Observed::default();
        let mut first_err = None;
        let mut done = 0;
        while let Some(j) = set.join_next().await {
            done += 1;
            if let Some(p) = &self.inner.opts.progress {
                (p.0)(done, total);
            }
            match j {
                Ok((name, Ok(z))) => {
                    out.zones.insert(name, z);
                }
                Ok((name, Err(e))) => {
                    first_err.get_or_insert(match e {
                        ProviderError::NotFound(m) | ProviderError::Other(m) => {
                            ProviderError::Other(format!("{name}: {m}"))
                        }
                        other => other,
                    });
                }
                Err(e) => {
                    first_err.get_or_insert(ProviderError::Other(format!(
                        "an observation task failed: {e}"
                    )));
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        for d in &scope.domains {
            let registrar = self
                .observe_registrar(&d.name, &d.operations, &pending_ops)
                .await?;
            out.domains.insert(
                d.name.clone(),
                DomainObs {
                    registrar,
                    live: Default::default(),
                },
            );
        }
        Ok(out)
    }

    async fn observe_zone(
        &self,
        spec: &ZoneScope,
        records: RecordRead,
        pending_ops: &[(String, RegistrarOpObs)],
    ) -> Result<ZoneObs, ProviderError> {
        let follow = records == RecordRead::Follow;
        let id = match &spec.hosted_zone_id {
            Some(id) => Some(strip_id(id)),
            None => match self.known_id(&spec.name).filter(|_| follow) {
                Some(id) => Some(id),
                None => {
                    let id = self.find_hosted_zone(&spec.name).await?;
                    if let Some(id) = &id {
                        self.remember_id(&spec.name, id);
                    }
                    id
                }
            },
        };
        let mut obs = ZoneObs::default();
        let Some(id) = id else {
            return Ok(obs);
        };
        let hz = match self.followed_zone(&id).filter(|_| follow) {
            Some(hz) => hz,
            None => self.observe_hosted_zone(&id, &spec.name).await?,
        };
        let private = hz.private;
        obs.hosted_zone = Some(hz);
        if !private {
            obs.dnssec = match self.followed_dnssec(&id).filter(|_| follow) {
                Some(d) => d,
                None => {
                    let d = self.get_dnssec(&id).await?;
                    self.remember_dnssec(&id, &d);
                    d
                }
            };
        }
        obs.changes = self.observe_changes(&spec.changes).await?;
        obs.parent = match &spec.trust {
            Some(Trust::ParentZone { hosted_zone_id, .. }) => {
                let parent_id = strip_id(hosted_zone_id);
                match self
                    .followed_parent(&parent_id, &spec.name)
                    .filter(|_| follow)
                {
                    Some(p) => p,
                    None => {
                        let p = self.observe_parent_zone(&parent_id, &spec.name).await?;
                        self.remember_parent(&parent_id, &spec.name, &p);
                        p
                    }
                }
            }
            Some(Trust::Route53Domains) => {
                match self
                    .observe_registrar(&spec.name, &spec.operations, pending_ops)
                    .await?
                {
                    Some(r) => ParentObs::Registrar(r),
                    None => ParentObs::Unknown,
                }
            }
            _ => ParentObs::Unknown,
        };
        Ok(obs)
    }

    /// The id of the one hosted zone named `name`, `None` when there is none. Several (a
    /// private and a public one, say) is an error asking for the id.
    pub async fn find_hosted_zone(&self, name: &ZoneName) -> Result<Option<String>, ProviderError> {
        let r53 = &self.inner.r53;
        let dns = fqdn(name.as_str());
        let mut found: Vec<(String, bool)> = Vec::new();
        let mut start_id: Option<String> = None;
        loop {
            let page = self
                .call(Svc::Route53, "ListHostedZonesByName", || {
                    r53.list_hosted_zones_by_name()
                        .dns_name(&dns)
                        .set_hosted_zone_id(start_id.clone())
                        .max_items(100)
                        .send()
                })
                .await?;
            let mut past = false;
            for z in page.hosted_zones() {
                if canonical_name(z.name()) == name.as_str() {
                    found.push((
                        strip_id(z.id()),
                        z.config().map(|c| c.private_zone()).unwrap_or(false),
                    ));
                } else {
                    past = true;
                }
            }
            match (
                page.is_truncated(),
                page.next_dns_name(),
                page.next_hosted_zone_id(),
            ) {
                (true, Some(n), Some(next)) if !past && canonical_name(n) == name.as_str() => {
                    start_id = Some(next.to_string());
                }
                _ => break,
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop().map(|(id, _)| id)),
            _ => Err(ProviderError::Other(format!(
                "several hosted zones are named `{name}`: {}; set `hosted_zone_id` for this zone in the config",
                found
                    .iter()
                    .map(|(id, p)| format!("{id} ({})", if *p { "private" } else { "public" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn observe_hosted_zone(
        &self,
        id: &str,
        name: &ZoneName,
    ) -> Result<HostedZoneObs, ProviderError> {
        let r53 = &self.inner.r53;
        let hz = self
            .call(Svc::Route53, "GetHostedZone", || {
                r53.get_hosted_zone().id(id).send()
            })
            .await?;
        let private = hz
            .hosted_zone()
            .and_then(|h| h.config())
            .map(|c| c.private_zone())
            .unwrap_or(false);
        if let Some(h) = hz.hosted_zone()
            && canonical_name(h.name()) != name.as_str()
        {
            return Err(ProviderError::Other(format!(
                "hosted zone {id} is `{}`, not `{name}`; check `hosted_zone_id`",
                canonical_name(h.name())
            )));
        }
        let name_servers = hz
            .delegation_set()
            .map(|d| d.name_servers().iter().map(|n| canonical_name(n)).collect())
            .unwrap_or_default();
        let sets = self.list_record_sets(id, None, None).await?;
        let meta = HostedZoneObs {
            id: id.to_string(),
            name_servers,
            private,
            record_sets: Vec::new(),
            soa: Default::default(),
        };
        let cache = ZoneCache::from_listing(meta, &sets, name, true);
        let out = cache.hosted_zone.clone();
        if let Ok(mut c) = self.inner.cache.lock() {
            c.insert(id.to_string(), cache);
        }
        Ok(out)
    }

    /// Every record set of a zone (from `start` when given, at most `limit` when given), 300 a
    /// page, following `NextRecordName`/`Type`/`Identifier`.
    pub(crate) async fn list_record_sets(
        &self,
        id: &str,
        start: Option<(&str, Option<RrType>)>,
        limit: Option<i32>,
    ) -> Result<Vec<ResourceRecordSet>, ProviderError> {
        let r53 = &self.inner.r53;
        let mut out = Vec::new();
        let (mut next_name, mut next_type) = match start {
            Some((n, t)) => (Some(n.to_string()), t),
            None => (None, None),
        };
        let mut next_ident: Option<String> = None;
        loop {
            let page = self
                .call(Svc::Route53, "ListResourceRecordSets", || {
                    r53.list_resource_record_sets()
                        .hosted_zone_id(id)
                        .set_start_record_name(next_name.clone())
                        .set_start_record_type(next_type.clone())
                        .set_start_record_identifier(next_ident.clone())
                        .max_items(limit.unwrap_or(PAGE))
                        .send()
                })
                .await?;
            out.extend_from_slice(page.resource_record_sets());
            if limit.is_some() || !page.is_truncated() {
                break;
            }
            match page.next_record_name() {
                Some(n) => {
                    next_name = Some(n.to_string());
                    next_type = page.next_record_type().cloned();
                    next_ident = page.next_record_identifier().map(str::to_string);
                }
                None => break,
            }
        }
        Ok(out)
    }

    /// `GetDNSSEC`: the signing status and every KSK.
    pub async fn get_dnssec(&self, id: &str) -> Result<DnssecObs, ProviderError> {
        let r53 = &self.inner.r53;
        let d = self
            .call(Svc::Route53, "GetDNSSEC", || {
                r53.get_dnssec().hosted_zone_id(id).send()
            })
            .await?;
        let status = d.status();
        let mut out = DnssecObs {
            status: match status.and_then(|s| s.serve_signature()) {
                Some("SIGNING") => SigningStatus::Signing,
                Some("DELETING") => SigningStatus::Deleting,
                Some("ACTION_NEEDED") => SigningStatus::ActionNeeded,
                Some("INTERNAL_FAILURE") => SigningStatus::InternalFailure,
                _ => SigningStatus::NotSigning,
            },
            status_message: status.and_then(|s| s.status_message()).map(str::to_string),
            ksks: Vec::new(),
        };
        for k in d.key_signing_keys() {
            let Some(dnskey) = parse_dnskey(
                k.dnskey_record(),
                k.flag(),
                k.signing_algorithm_type(),
                k.public_key(),
            ) else {
                continue;
            };
            let ds = k.ds_record().and_then(DsRecord::parse).or_else(|| {
                Some(DsRecord {
                    key_tag: u16::try_from(k.key_tag()).ok()?,
                    algorithm: u8::try_from(k.signing_algorithm_type()).ok()?,
                    digest_type: u8::try_from(k.digest_algorithm_type()).ok()?,
                    digest: k.digest_value()?.to_ascii_uppercase(),
                })
            });
            let Some(ds) = ds else { continue };
            out.ksks.push(KskObs {
                name: k.name().unwrap_or_default().to_string(),
                status: match k.status().unwrap_or_default() {
                    "ACTIVE" => KskStatus::Active,
                    "INACTIVE" => KskStatus::Inactive,
                    "DELETING" => KskStatus::Deleting,
                    "ACTION_NEEDED" => KskStatus::ActionNeeded,
                    _ => KskStatus::InternalFailure,
                },
                status_message: k.status_message().map(str::to_string),
                kms_arn: k.kms_arn().unwrap_or_default().to_string(),
                key_tag: u16::try_from(k.key_tag()).unwrap_or(ds.key_tag),
                dnskey,
                ds,
                created_at: k.created_date().map(to_timestamp),
            });
        }
        out.ksks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `GetChange`. A change Route 53 has forgotten (`NoSuchChange`) is long since INSYNC.
    /// A change once seen INSYNC is answered from memory: INSYNC is final.
    pub async fn get_change(&self, id: &str) -> Result<ChangeObs, ProviderError> {
        let id = strip_id(id);
        if let Some(c) = self
            .inner
            .insync
            .lock()
            .ok()
            .and_then(|m| m.get(&id).cloned())
        {
            return Ok(c);
        }
        let c = self.get_change_uncached(&id).await?;
        if c.status == ChangeStatus::Insync
            && let Ok(mut m) = self.inner.insync.lock()
        {
            m.insert(id, c.clone());
        }
        Ok(c)
    }

    async fn get_change_uncached(&self, id: &str) -> Result<ChangeObs, ProviderError> {
        let r53 = &self.inner.r53;
        let id = id.to_string();
        match self
            .call(Svc::Route53, "GetChange", || {
                r53.get_change().id(&id).send()
            })
            .await
        {
            Ok(c) => {
                let ci = c.change_info();
                Ok(ChangeObs {
                    id: id.clone(),
                    status: match ci.map(|c| c.status().as_str()) {
                        Some("INSYNC") => ChangeStatus::Insync,
                        _ => ChangeStatus::Pending,
                    },
                    submitted_at: ci
                        .map(|c| to_timestamp(c.submitted_at()))
                        .unwrap_or(Timestamp::UNIX_EPOCH),
                })
            }
            Err(ProviderError::Refused { code, .. }) if code == "NoSuchChange" => Ok(ChangeObs {
                id,
                status: ChangeStatus::Insync,
                submitted_at: Timestamp::UNIX_EPOCH,
            }),
            Err(e) => Err(e),
        }
    }

    /// `GetChange` for every change of the scope, each batch under its own id. An action that
    /// took several batches is INSYNC (under its journal id) only when every batch is.
    async fn observe_changes(
        &self,
        changes: &[ChangeWatch],
    ) -> Result<BTreeMap<String, ChangeObs>, ProviderError> {
        let mut out: BTreeMap<String, ChangeObs> = BTreeMap::new();
        let mut seen: BTreeMap<String, ChangeObs> = BTreeMap::new();
        for w in changes {
            let main_id = strip_id(&w.id);
            let mut all_insync = true;
            let mut main_obs = None;
            for id in &w.batches {
                let c = match seen.get(id) {
                    Some(c) => c.clone(),
                    None => {
                        let c = self.get_change(id).await?;
                        seen.insert(id.clone(), c.clone());
                        out.insert(id.clone(), c.clone());
                        c
                    }
                };
                all_insync &= c.status == ChangeStatus::Insync;
                if *id == main_id {
                    main_obs = Some(c);
                }
            }
            if let Some(mut m) = main_obs {
                m.id = w.id.clone();
                if !all_insync {
                    m.status = ChangeStatus::Pending;
                }
                out.insert(w.id.clone(), m);
            }
        }
        Ok(out)
    }

    /// The DS RRset and the delegation NS TTL for `zone` as the parent hosted zone holds them
    /// (one `ListResourceRecordSets` starting at the zone's name: DS sorts before NS).
    pub async fn observe_parent_zone(
        &self,
        parent_id: &str,
        zone: &ZoneName,
    ) -> Result<ParentObs, ProviderError> {
        let parent_id = strip_id(parent_id);
        let owner = fqdn(zone.as_str());
        let sets = self
            .list_record_sets(&parent_id, Some((owner.as_str(), None)), Some(4))
            .await?;
        let mut ds = Vec::new();
        let mut ds_ttl = None;
        let mut ns_ttl = None;
        for r in sets
            .iter()
            .filter(|r| canonical_name(r.name()) == zone.as_str())
        {
            let ttl = r.ttl().and_then(|t| u32::try_from(t).ok()).map(Ttl);
            match r.r#type() {
                RrType::Ds => {
                    let values: Vec<String> = r
                        .resource_records()
                        .iter()
                        .map(|v| v.value().to_string())
                        .collect();
                    ds = parse_ds_values(&values);
                    ds_ttl = ttl;
                }
                RrType::Ns => ns_ttl = ttl,
                _ => {}
            }
        }
        Ok(ParentObs::ParentZone {
            hosted_zone_id: parent_id,
            ds,
            ds_ttl,
            ns_ttl,
        })
    }

    /// Route 53 Domains' view of `domain`: its DNSSEC keys (`GetDomainDetail`), its operations in
    /// flight (from one account-wide `ListOperations`) and the journal's operations
    /// (`GetOperationDetail`). `None` when the registrar does not know the domain.
    pub async fn observe_registrar(
        &self,
        domain: &ZoneName,
        asked: &[String],
        pending: &[(String, RegistrarOpObs)],
    ) -> Result<Option<RegistrarObs>, ProviderError> {
        let keys = match self.registrar_keys(domain).await? {
            Some(k) => k,
            None => return Ok(None),
        };
        let mut operations: Vec<RegistrarOpObs> = pending
            .iter()
            .filter(|(d, _)| d == domain.as_str())
            .map(|(_, o)| o.clone())
            .collect();
        for op in asked {
            if operations.iter().any(|o| &o.id == op) {
                continue;
            }
            operations.push(self.get_operation(op).await?);
        }
        Ok(Some(RegistrarObs { keys, operations }))
    }

    /// `GetDomainDetail.DnssecKeys`; `None` when the registrar does not know the domain.
    pub async fn registrar_keys(
        &self,
        domain: &ZoneName,
    ) -> Result<Option<Vec<RegistrarKeyObs>>, ProviderError> {
        let d = &self.inner.domains;
        let detail = match self
            .call(Svc::Domains, "GetDomainDetail", || {
                d.get_domain_detail().domain_name(domain.as_str()).send()
            })
            .await
        {
            Ok(x) => x,
            Err(ProviderError::Refused { code, message, .. })
                if code == "InvalidInput"
                    && (message.contains("not found")
                        || message.contains("not exist")
                        || message.contains("not registered")
                        || message.contains("not associated")
                        || message.contains("No domain")) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut keys = Vec::new();
        for k in detail.dnssec_keys() {
            let (Some(flags), Some(alg), Some(pk)) = (k.flags(), k.algorithm(), k.public_key())
            else {
                continue;
            };
            let (Ok(flags), Ok(alg)) = (u16::try_from(flags), u8::try_from(alg)) else {
                continue;
            };
            keys.push(RegistrarKeyObs {
                id: k.id().unwrap_or_default().to_string(),
                key: crate::model::Dnskey::new(flags, alg, pk),
                digest: k.digest().map(|s| s.to_ascii_uppercase()),
            });
        }
        Ok(Some(keys))
    }

    /// `GetOperationDetail`.
    pub async fn get_operation(&self, id: &str) -> Result<RegistrarOpObs, ProviderError> {
        let d = &self.inner.domains;
        let o = self
            .call(Svc::Domains, "GetOperationDetail", || {
                d.get_operation_detail().operation_id(id).send()
            })
            .await?;
        Ok(RegistrarOpObs {
            id: id.to_string(),
            kind: o
                .r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            status: op_status(o.status()),
            submitted_at: o
                .submitted_date()
                .map(to_timestamp)
                .unwrap_or(Timestamp::UNIX_EPOCH),
            message: o.message().map(str::to_string),
        })
    }

    /// Every DNSSEC registrar operation not yet finished, account-wide, with its domain.
    pub async fn list_pending_operations(
        &self,
    ) -> Result<Vec<(String, RegistrarOpObs)>, ProviderError> {
        let d = &self.inner.domains;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .call(Svc::Domains, "ListOperations", || {
                    d.list_operations()
                        .set_marker(marker.clone())
                        .max_items(100)
                        .status(DomOpStatus::Submitted)
                        .status(DomOpStatus::InProgress)
                        .r#type(OperationType::AddDnssec)
                        .r#type(OperationType::RemoveDnssec)
                        .send()
                })
                .await?;
            for s in page.operations() {
                let kind = s
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default();
                let status = op_status(s.status());
                if status.is_finished() || !(kind == "ADD_DNSSEC" || kind == "REMOVE_DNSSEC") {
                    continue;
                }
                let Some(id) = s.operation_id() else { continue };
                let obs = RegistrarOpObs {
                    id: id.to_string(),
                    kind,
                    status,
                    submitted_at: s
                        .submitted_date()
                        .map(to_timestamp)
                        .unwrap_or(Timestamp::UNIX_EPOCH),
                    message: s.message().map(str::to_string),
                };
                let domain = match s.domain_name() {
                    Some(n) => canonical_name(n),
                    None => {
                        let detail = self
                            .call(Svc::Domains, "GetOperationDetail", || {
                                d.get_operation_detail().operation_id(id).send()
                            })
                            .await?;
                        canonical_name(detail.domain_name().unwrap_or_default())
                    }
                };
                out.push((domain, obs));
            }
            match page.next_page_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }
}

fn op_status(s: Option<&DomOpStatus>) -> OperationStatus {
    match s.map(|s| s.as_str()) {
        Some("SUBMITTED") => OperationStatus::Submitted,
        Some("IN_PROGRESS") => OperationStatus::InProgress,
        Some("ERROR") => OperationStatus::Error,
        Some("SUCCESSFUL") => OperationStatus::Successful,
        Some("FAILED") => OperationStatus::Failed,
        _ => OperationStatus::InProgress,
    }
}
