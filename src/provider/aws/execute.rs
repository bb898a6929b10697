//! Executing one [`Action`] through the APIs: TTL-only UPSERTs packed into as few
//! `ChangeResourceRecordSets` calls as the limits allow, the SOA, KSK life cycle
//! (`CreateKeySigningKey` with the journal's token as `CallerReference`, after the KMS
//! pre-flight), signing on/off, the DS RRset in a Route 53 parent zone, and registrar keys
//! (`AssociateDelegationSignerToDomain` / `DisassociateDelegationSignerFromDomain`, the
//! registrar's key id looked up by public key at execution time, never stored).

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_sdk_route53domains::types::DnssecSigningAttributes;

use super::batch::{Cost, MAX_CHARS, MAX_RECORDS, pack};
use super::kms::{KeyFacts, example_policy, problems};
use super::records::{canonical_name, fqdn, soa_with_minimum, to_sdk};
use super::{AwsProvider, Svc, strip_id};
use crate::model::{
    Action, ActionRequest, ActionResult, Dnskey, DsRecord, DsTarget, SoaChange, Ttl, TtlChange,
    ZoneName,
};
use crate::provider::ProviderError;
use crate::state::RecordSetObs;

fn other(msg: impl Into<String>) -> ProviderError {
    ProviderError::Other(msg.into())
}

fn detail(text: impl Into<String>) -> ActionResult {
    ActionResult {
        detail: Some(text.into()),
        ..Default::default()
    }
}

impl AwsProvider {
    /// Executes exactly one action (the [`Provider::execute`](crate::provider::Provider) body).
    pub async fn execute_action(&self, req: &ActionRequest) -> Result<ActionResult, ProviderError> {
        match &req.action {
            Action::LowerTtls { changes } | Action::RestoreTtls { changes } => {
                let id = self.zone_id(req).await?;
                self.change_ttls(&id, &req.zone, changes, &req.token).await
            }
            Action::LowerSoa { soa } | Action::RestoreSoa { soa } => {
                let id = self.zone_id(req).await?;
                self.change_soa(&id, &req.zone, soa, &req.token).await
            }
            Action::CreateKsk { name, kms_arn } => {
                let id = self.zone_id(req).await?;
                self.dnssec_changing(&id);
                self.create_ksk(&id, name, kms_arn, &req.token).await
            }
            Action::ActivateKsk { name } => {
                let id = self.zone_id(req).await?;
                self.dnssec_changing(&id);
                let r53 = &self.inner.r53;
                let out = self
                    .call(Svc::Route53, "ActivateKeySigningKey", || {
                        r53.activate_key_signing_key()
                            .hosted_zone_id(&id)
                            .name(name)
                            .send()
                    })
                    .await?;
                Ok(changed(out.change_info().map(|c| c.id())))
            }
            Action::DeactivateKsk { name } => {
                let id = self.zone_id(req).await?;
                self.dnssec_changing(&id);
                let r53 = &self.inner.r53;
                let out = self
                    .call(Svc::Route53, "DeactivateKeySigningKey", || {
                        r53.deactivate_key_signing_key()
                            .hosted_zone_id(&id)
                            .name(name)
                            .send()
                    })
                    .await?;
                Ok(changed(out.change_info().map(|c| c.id())))
            }
            Action::DeleteKsk { name } => {
                let id = self.zone_id(req).await?;
                self.dnssec_changing(&id);
                let r53 = &self.inner.r53;
                match self
                    .call(Svc::Route53, "DeleteKeySigningKey", || {
                        r53.delete_key_signing_key()
                            .hosted_zone_id(&id)
                            .name(name)
                            .send()
                    })
                    .await
                {
                    Ok(out) => Ok(changed(out.change_info().map(|c| c.id()))),
                    Err(ProviderError::Refused { code, .. }) if code == "NoSuchKeySigningKey" => {
                        Ok(detail(format!(
                            "key-signing key {name} was already deleted"
                        )))
                    }
                    Err(e) => Err(e),
                }
            }
            Action::EnableSigning => {
                let id = self.zone_id(req).await?;
                self.dnssec_changing(&id);
                let r53 = &self.inner.r53;
                let out = self
                    .call(Svc::Route53, "EnableHostedZoneDNSSEC", || {
                        r53.enable_hosted_zone_dnssec().hosted_zone_id(&id).send()
                    })
                    .await?;
                Ok(changed(out.change_info().map(|c| c.id())))
            }
            Action::DisableSigning => {
                let id = self.zone_id(req).await?;
                self.dnssec_changing(&id);
                let r53 = &self.inner.r53;
                match self
                    .call(Svc::Route53, "DisableHostedZoneDNSSEC", || {
                        r53.disable_hosted_zone_dnssec().hosted_zone_id(&id).send()
                    })
                    .await
                {
                    Ok(out) => Ok(changed(out.change_info().map(|c| c.id()))),
                    Err(ProviderError::Refused { code, .. }) if code == "DNSSECNotFound" => {
                        Ok(detail("signing was already disabled"))
                    }
                    Err(e) => Err(e),
                }
            }
            Action::LowerParentDsTtl {
                parent_hosted_zone_id,
                records,
                to,
                ..
            }
            | Action::RaiseDsTtl {
                parent_hosted_zone_id,
                records,
                to,
                ..
            } => {
                self.upsert_ds(parent_hosted_zone_id, &req.zone, records, *to, &req.token)
                    .await
            }
            Action::PublishDs {
                target,
                records,
                ttl,
            } => match target {
                DsTarget::ParentZone { hosted_zone_id, .. } => {
                    self.upsert_ds(hosted_zone_id, &req.zone, records, *ttl, &req.token)
                        .await
                }
                DsTarget::Route53Domains => Err(other(
                    "a DS for a Route 53 Domains registrar is published key by key with add_registrar_key, not publish_ds",
                )),
                DsTarget::External => Ok(detail(format!(
                    "publish at the registrar of {}: {}",
                    req.zone,
                    records
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))),
            },
            Action::RemoveDs { target, .. } => match target {
                DsTarget::ParentZone { hosted_zone_id, .. } => {
                    self.delete_ds(hosted_zone_id, &req.zone, &req.token).await
                }
                DsTarget::Route53Domains => Err(other(
                    "registrar keys are removed key by key with remove_registrar_key, not remove_ds",
                )),
                DsTarget::External => Ok(detail(format!(
                    "remove every DS record of {} at its registrar",
                    req.zone
                ))),
            },
            Action::AddRegistrarKey { domain, key } => self.associate(domain, key).await,
            Action::RemoveRegistrarKey { domain, key } => self.disassociate(domain, key).await,
            Action::Manual { instruction } => Ok(detail(instruction.clone())),
            Action::Await { milestone } => Ok(detail(milestone.clone())),
        }
    }

    async fn zone_id(&self, req: &ActionRequest) -> Result<String, ProviderError> {
        if let Some(id) = &req.hosted_zone_id {
            return Ok(strip_id(id));
        }
        self.find_hosted_zone(&req.zone)
            .await?
            .ok_or_else(|| other(format!("no hosted zone is named `{}`", req.zone)))
    }

    /// The observed record set for `r`, re-reading the zone once when the cache lacks it.
    async fn cached_record(
        &self,
        id: &str,
        zone: &ZoneName,
        r: &crate::model::RecordRef,
    ) -> Result<RecordSetObs, ProviderError> {
        let lookup = |me: &Self| {
            me.inner
                .cache
                .lock()
                .ok()
                .and_then(|c| c.get(id).and_then(|z| z.record(r).cloned()))
        };
        if let Some(o) = lookup(self) {
            return Ok(o);
        }
        self.refresh_zone(id, zone).await?;
        lookup(self).ok_or_else(|| {
            other(format!(
                "record set {r} no longer exists in {zone}; run `plan` again"
            ))
        })
    }

    /// Lists the zone again for an execution that needs values no observation of this run
    /// holds. Without `GetHostedZone` behind it, observations do not follow this listing.
    async fn refresh_zone(&self, id: &str, zone: &ZoneName) -> Result<(), ProviderError> {
        let sets = self.list_record_sets(id, None, None).await?;
        let meta = crate::state::HostedZoneObs {
            id: id.to_string(),
            ..Default::default()
        };
        let cache = super::ZoneCache::from_listing(meta, &sets, zone, false);
        if let Ok(mut c) = self.inner.cache.lock() {
            c.insert(id.to_string(), cache);
        }
        Ok(())
    }

    /// TTL-only UPSERTs of every record set in `changes`, carrying the observed values, in as
    /// few batches as the limits allow.
    async fn change_ttls(
        &self,
        id: &str,
        zone: &ZoneName,
        changes: &[TtlChange],
        token: &str,
    ) -> Result<ActionResult, ProviderError> {
        if changes.is_empty() {
            return Ok(detail("no record set to change"));
        }
        let mut items: Vec<(Change, Cost)> = Vec::with_capacity(changes.len());
        for c in changes {
            let obs = self.cached_record(id, zone, &c.record).await?;
            if obs.ttl.is_none() {
                return Err(other(format!(
                    "{} is an alias record; it has no TTL to change",
                    c.record
                )));
            }
            let rrset = to_sdk(&obs, Some(c.to))?;
            let cost = Cost::of(&obs.values, None, true);
            items.push((upsert(rrset)?, cost));
        }
        // The zone may be the parent of another in scope: its delegation NS and DS change too.
        self.parent_records_changing(id);
        let costs: Vec<Cost> = items.iter().map(|(_, c)| *c).collect();
        let batches = pack(&costs, MAX_RECORDS, MAX_CHARS);
        let n = batches.len();
        let mut ids = Vec::with_capacity(n);
        for (i, batch) in batches.iter().enumerate() {
            let list: Vec<Change> = batch.iter().map(|&j| items[j].0.clone()).collect();
            match self
                .submit(id, list, &format!("dnssec-pilot {token} ({}/{n})", i + 1))
                .await
            {
                Ok(cid) => ids.push(cid),
                Err(e) => {
                    // Some batches (or this one, on a lost answer) may be applied.
                    self.forget_zone(id);
                    return Err(e);
                }
            }
        }
        if let Ok(mut cache) = self.inner.cache.lock()
            && let Some(z) = cache.get_mut(id)
        {
            for c in changes {
                z.set_ttl(&c.record, c.to);
            }
        }
        Ok(ActionResult {
            change_id: ids.last().cloned(),
            change_ids: if n > 1 { ids } else { Vec::new() },
            detail: Some(format!(
                "{} record set(s) in {n} ChangeResourceRecordSets batch(es)",
                changes.len()
            )),
            ..Default::default()
        })
    }

    async fn change_soa(
        &self,
        id: &str,
        zone: &ZoneName,
        soa: &SoaChange,
        token: &str,
    ) -> Result<ActionResult, ProviderError> {
        let cached = self
            .inner
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(id).and_then(|z| z.soa.clone()));
        let current = match cached {
            Some(s) => s,
            None => {
                self.refresh_zone(id, zone).await?;
                self.inner
                    .cache
                    .lock()
                    .ok()
                    .and_then(|c| c.get(id).and_then(|z| z.soa.clone()))
                    .ok_or_else(|| other(format!("{zone} has no SOA record set")))?
            }
        };
        let value = current
            .resource_records()
            .first()
            .map(|r| r.value())
            .ok_or_else(|| other("the SOA record set has no value"))?;
        let new_value = soa_with_minimum(value, soa.minimum_to)
            .ok_or_else(|| other(format!("cannot parse the SOA value `{value}`")))?;
        let rrset = ResourceRecordSet::builder()
            .name(current.name())
            .r#type(RrType::Soa)
            .ttl(i64::from(soa.ttl_to.0))
            .resource_records(
                ResourceRecord::builder()
                    .value(&new_value)
                    .build()
                    .map_err(|e| other(e.to_string()))?,
            )
            .build()
            .map_err(|e| other(e.to_string()))?;
        let cid = match self
            .submit(
                id,
                vec![upsert(rrset.clone())?],
                &format!("dnssec-pilot {token}"),
            )
            .await
        {
            Ok(cid) => cid,
            Err(e) => {
                self.forget_zone(id);
                return Err(e);
            }
        };
        if let Ok(mut c) = self.inner.cache.lock()
            && let Some(z) = c.get_mut(id)
        {
            z.set_soa(rrset);
        }
        Ok(changed(Some(&cid)))
    }

    /// One `ChangeResourceRecordSets`; returns the change id.
    async fn submit(
        &self,
        id: &str,
        changes: Vec<Change>,
        comment: &str,
    ) -> Result<String, ProviderError> {
        let batch = ChangeBatch::builder()
            .comment(comment)
            .set_changes(Some(changes))
            .build()
            .map_err(|e| other(e.to_string()))?;
        let r53 = &self.inner.r53;
        let out = self
            .call(Svc::Route53, "ChangeResourceRecordSets", || {
                r53.change_resource_record_sets()
                    .hosted_zone_id(id)
                    .change_batch(batch.clone())
                    .send()
            })
            .await?;
        Ok(out
            .change_info()
            .map(|c| strip_id(c.id()))
            .unwrap_or_default())
    }

    fn ds_rrset(
        zone: &ZoneName,
        records: &[DsRecord],
        ttl: Ttl,
    ) -> Result<ResourceRecordSet, ProviderError> {
        let mut b = ResourceRecordSet::builder()
            .name(fqdn(zone.as_str()))
            .r#type(RrType::Ds)
            .ttl(i64::from(ttl.0));
        for r in records {
            b = b.resource_records(
                ResourceRecord::builder()
                    .value(r.to_string())
                    .build()
                    .map_err(|e| other(e.to_string()))?,
            );
        }
        b.build().map_err(|e| other(e.to_string()))
    }

    /// UPSERT of the zone's DS RRset in the parent hosted zone, with `ttl`.
    async fn upsert_ds(
        &self,
        parent_id: &str,
        zone: &ZoneName,
        records: &[DsRecord],
        ttl: Ttl,
        token: &str,
    ) -> Result<ActionResult, ProviderError> {
        if records.is_empty() {
            return Err(other(format!("no DS record to publish for {zone}")));
        }
        let parent_id = strip_id(parent_id);
        self.ds_changing(&parent_id, zone);
        let rrset = Self::ds_rrset(zone, records, ttl)?;
        let cid = self
            .submit(
                &parent_id,
                vec![upsert(rrset)?],
                &format!("dnssec-pilot {token}"),
            )
            .await?;
        Ok(changed(Some(&cid)))
    }

    /// DELETE of the zone's DS RRset in the parent hosted zone, exactly as it is there now
    /// (Route 53 deletes only on an exact match); nothing to do when there is none.
    async fn delete_ds(
        &self,
        parent_id: &str,
        zone: &ZoneName,
        token: &str,
    ) -> Result<ActionResult, ProviderError> {
        let parent_id = strip_id(parent_id);
        self.ds_changing(&parent_id, zone);
        let owner = fqdn(zone.as_str());
        let sets = self
            .list_record_sets(
                &parent_id,
                Some((owner.as_str(), Some(RrType::Ds))),
                Some(1),
            )
            .await?;
        let Some(current) = sets
            .into_iter()
            .find(|r| r.r#type() == &RrType::Ds && canonical_name(r.name()) == zone.as_str())
        else {
            return Ok(detail(format!(
                "the parent zone holds no DS for {zone} (already removed)"
            )));
        };
        let change = Change::builder()
            .action(ChangeAction::Delete)
            .resource_record_set(current)
            .build()
            .map_err(|e| other(e.to_string()))?;
        let cid = self
            .submit(&parent_id, vec![change], &format!("dnssec-pilot {token}"))
            .await?;
        Ok(changed(Some(&cid)))
    }

    /// KMS pre-flight, then `CreateKeySigningKey` (ACTIVE) with `CallerReference` = the journal's
    /// token. A retry that finds the key already there (same name, same KMS key) succeeds
    /// without creating a second key.
    async fn create_ksk(
        &self,
        id: &str,
        name: &str,
        kms_arn: &str,
        token: &str,
    ) -> Result<ActionResult, ProviderError> {
        if self.inner.opts.kms_preflight {
            self.kms_preflight(kms_arn).await?;
        }
        let r53 = &self.inner.r53;
        let caller_ref: String = token.chars().take(128).collect();
        let res = self
            .call(Svc::Route53, "CreateKeySigningKey", || {
                r53.create_key_signing_key()
                    .caller_reference(&caller_ref)
                    .hosted_zone_id(id)
                    .key_management_service_arn(kms_arn)
                    .name(name)
                    .status("ACTIVE")
                    .send()
            })
            .await;
        match res {
            Ok(out) => Ok(changed(out.change_info().map(|c| c.id()))),
            Err(ProviderError::Refused {
                service,
                operation,
                code,
                message,
                hint,
            }) if code == "KeySigningKeyAlreadyExists" || code == "ConflictingDomainExists" => {
                let d = self.get_dnssec(id).await?;
                match d.ksk(name) {
                    Some(k) if same_kms_key(&k.kms_arn, kms_arn) => Ok(detail(format!(
                        "key-signing key {name} already exists with this KMS key (a retried creation); nothing created"
                    ))),
                    _ => Err(ProviderError::Refused {
                        service,
                        operation,
                        code,
                        message,
                        hint,
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Checks that the KMS key can back a KSK; a refusal naming everything missing otherwise.
    pub async fn kms_preflight(&self, kms_arn: &str) -> Result<(), ProviderError> {
        let kms = &self.inner.kms;
        let d = self
            .call(Svc::Kms, "DescribeKey", || {
                kms.describe_key().key_id(kms_arn).send()
            })
            .await?;
        let Some(m) = d.key_metadata() else {
            return Err(other(format!("KMS returned no metadata for {kms_arn}")));
        };
        let facts = KeyFacts {
            arn: m.arn().unwrap_or(kms_arn).to_string(),
            enabled: m.enabled(),
            key_state: m
                .key_state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            key_spec: m
                .key_spec()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            key_usage: m
                .key_usage()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        };
        let key_id = m.key_id().to_string();
        let policy = match self
            .call(Svc::Kms, "GetKeyPolicy", || {
                kms.get_key_policy()
                    .key_id(&key_id)
                    .policy_name("default")
                    .send()
            })
            .await
        {
            Ok(p) => p.policy().map(str::to_string),
            // Without kms:GetKeyPolicy the policy cannot be checked; Route 53 will say.
            Err(ProviderError::Refused { code, .. }) if code == "AccessDeniedException" => None,
            Err(e) => return Err(e),
        };
        let found = problems(&facts, policy.as_deref());
        if found.is_empty() {
            return Ok(());
        }
        let account = facts.arn.split(':').nth(4).unwrap_or("ACCOUNT");
        Err(ProviderError::Refused {
            service: "KMS",
            operation: format!("pre-flight of {kms_arn} for CreateKeySigningKey"),
            code: "KmsKeyNotUsableForDnssec".into(),
            message: found.join("; "),
            hint: Some(format!(
                "use a customer managed key in us-east-1 with key spec ECC_NIST_P256 and usage SIGN_VERIFY, enabled, whose key policy includes statements like: {}",
                example_policy(account)
            )),
        })
    }

    /// Seed 003: `AssociateDelegationSignerToDomain` for one key, unless the registrar already
    /// holds it (matched by public key).
    async fn associate(
        &self,
        domain: &ZoneName,
        key: &Dnskey,
    ) -> Result<ActionResult, ProviderError> {
        let keys = self.registrar_keys(domain).await?.ok_or_else(|| {
            other(format!(
                "Route 53 Domains does not know the domain {domain}"
            ))
        })?;
        if keys.iter().any(|k| same_key(&k.key, key)) {
            return Ok(detail(format!(
                "the registrar already holds this key for {domain}"
            )));
        }
        let attrs = DnssecSigningAttributes::builder()
            .algorithm(i32::from(key.algorithm))
            .flags(i32::from(key.flags))
            .public_key(&key.public_key)
            .build();
        let d = &self.inner.domains;
        let out = self
            .call(Svc::Domains, "AssociateDelegationSignerToDomain", || {
                d.associate_delegation_signer_to_domain()
                    .domain_name(domain.as_str())
                    .signing_attributes(attrs.clone())
                    .send()
            })
            .await?;
        Ok(ActionResult {
            operation_id: out.operation_id().map(str::to_string),
            ..Default::default()
        })
    }

    /// Seed 003: `DisassociateDelegationSignerFromDomain` for one key; the registrar's id for it
    /// is looked up now by public key. Nothing to do when the key is not there.
    async fn disassociate(
        &self,
        domain: &ZoneName,
        key: &Dnskey,
    ) -> Result<ActionResult, ProviderError> {
        let keys = self.registrar_keys(domain).await?.ok_or_else(|| {
            other(format!(
                "Route 53 Domains does not know the domain {domain}"
            ))
        })?;
        let Some(found) = keys.iter().find(|k| same_key(&k.key, key)) else {
            return Ok(detail(format!(
                "the registrar holds no such key for {domain} (already removed)"
            )));
        };
        let d = &self.inner.domains;
        let kid = found.id.clone();
        let out = self
            .call(
                Svc::Domains,
                "DisassociateDelegationSignerFromDomain",
                || {
                    d.disassociate_delegation_signer_from_domain()
                        .domain_name(domain.as_str())
                        .id(&kid)
                        .send()
                },
            )
            .await?;
        Ok(ActionResult {
            operation_id: out.operation_id().map(str::to_string),
            ..Default::default()
        })
    }
}

fn upsert(rrset: ResourceRecordSet) -> Result<Change, ProviderError> {
    Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(rrset)
        .build()
        .map_err(|e| other(e.to_string()))
}

fn changed(id: Option<&str>) -> ActionResult {
    ActionResult {
        change_id: id.map(strip_id),
        ..Default::default()
    }
}

/// Keys are the same when algorithm, flags and public key (white space aside) are.
fn same_key(a: &Dnskey, b: &Dnskey) -> bool {
    a.algorithm == b.algorithm
        && a.flags == b.flags
        && a.public_key.split_whitespace().collect::<String>()
            == b.public_key.split_whitespace().collect::<String>()
}

/// The same KMS key: equal ARNs, or equal key ids / alias names after the last `/`.
fn same_kms_key(a: &str, b: &str) -> bool {
    a == b || a.rsplit('/').next() == b.rsplit('/').next()
}
