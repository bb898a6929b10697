//! Executing one [`Action`] against the sandbox world the way Route 53, Route 53 Domains and an
//! outside registrar would, including their refusals with the real AWS error codes
//! (`KeySigningKeyWithActiveStatusNotFound`, `KeySigningKeyInParentDSRecord`,
//! `InvalidKeySigningKeyStatus`, `TooManyKeySigningKeys`, `KeySigningKeyInUse`,
//! `KeySigningKeyAlreadyExists`, `InvalidKMSArn`, `InvalidChangeBatch`, `NoSuchHostedZone`,
//! `NoSuchKeySigningKey`; registrar `DuplicateRequest`, `DnssecLimitExceeded`, `InvalidInput`).
//! What Route 53 allows is allowed here too, even when it breaks resolution (disabling signing
//! while a DS is published, publishing a DS for an unsigned zone): the resolver model catches it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::world::{
    Change, ExternalPending, HostedZone, KmsKey, Ksk, KskState, ParentKind, RegistrarKey,
    RegistrarOp, SigningState, World, fake_p256_key, kms_arn_valid,
};
use crate::model::{
    Action, ActionRequest, ActionResult, DigestType, Dnskey, DsRecord, DsTarget, MAX_SIGNED_TTL,
    Secs, Timestamp, TtlChange, ZoneName,
};
use crate::provider::ProviderError;

fn refused(
    service: &'static str,
    operation: &str,
    code: &str,
    message: impl Into<String>,
) -> ProviderError {
    ProviderError::Refused {
        service,
        operation: operation.to_string(),
        code: code.to_string(),
        message: message.into(),
        hint: None,
    }
}

fn r53(operation: &str, code: &str, message: impl Into<String>) -> ProviderError {
    refused("route53", operation, code, message)
}

fn domains(operation: &str, code: &str, message: impl Into<String>) -> ProviderError {
    refused("route53domains", operation, code, message)
}

/// Records a Route 53 change batch submitted now; it goes INSYNC after the propagation delay.
fn new_change(w: &mut World, comment: String) -> String {
    let id = w.new_id("C", 13);
    let now = w.now;
    w.changes.insert(
        id.clone(),
        Change {
            id: id.clone(),
            submitted_at: now,
            insync_at: w.settings.change_propagation.after(now),
            comment,
        },
    );
    id
}

fn changed(id: String) -> ActionResult {
    ActionResult {
        change_id: Some(id),
        ..Default::default()
    }
}

/// The hosted zone a request is about: by id when given, else by name.
fn hosted_zone_name(w: &World, req: &ActionRequest, op: &str) -> Result<ZoneName, ProviderError> {
    let z = match &req.hosted_zone_id {
        Some(id) => w.zone_by_id(id).ok_or_else(|| {
            r53(
                op,
                "NoSuchHostedZone",
                format!("No hosted zone found with ID: {id}"),
            )
        })?,
        None => w.zone(&req.zone).ok_or_else(|| {
            r53(
                op,
                "NoSuchHostedZone",
                format!("No hosted zone found with name: {}", req.zone),
            )
        })?,
    };
    if z.name != req.zone {
        return Err(r53(
            op,
            "InvalidInput",
            format!(
                "hosted zone {} is {}, not {}",
                z.id.as_str(),
                z.name,
                req.zone
            ),
        ));
    }
    Ok(z.name.clone())
}

fn zone_mut<'a>(w: &'a mut World, name: &ZoneName) -> Result<&'a mut HostedZone, ProviderError> {
    w.zone_mut(name)
        .ok_or_else(|| ProviderError::NotFound(format!("no hosted zone {name}")))
}

/// Executes one action at the world's `now`.
pub(crate) fn execute(w: &mut World, req: &ActionRequest) -> Result<ActionResult, ProviderError> {
    match &req.action {
        Action::LowerTtls { changes } | Action::RestoreTtls { changes } => {
            set_ttls(w, req, changes)
        }
        Action::LowerSoa { soa } | Action::RestoreSoa { soa } => {
            let op = "ChangeResourceRecordSets";
            let name = hosted_zone_name(w, req, op)?;
            if soa.minimum_to.0 > 2_147_483_647 || soa.ttl_to.0 > 2_147_483_647 {
                return Err(r53(op, "InvalidChangeBatch", "SOA TTL out of range"));
            }
            let z = zone_mut(w, &name)?;
            z.soa.ttl = soa.ttl_to;
            z.soa.minimum = soa.minimum_to;
            let now = w.now;
            w.push_zone_serve(&name, now);
            Ok(changed(new_change(
                w,
                format!(
                    "{name} SOA ttl {} minimum {}",
                    soa.ttl_to.0, soa.minimum_to.0
                ),
            )))
        }
        Action::CreateKsk { name: ksk, kms_arn } => create_ksk(w, req, ksk, kms_arn),
        Action::ActivateKsk { name: ksk } => {
            let op = "ActivateKeySigningKey";
            let name = hosted_zone_name(w, req, op)?;
            let kms = w.kms_keys.clone();
            let z = zone_mut(w, &name)?;
            let k = z.ksks.iter_mut().find(|k| &k.name == ksk).ok_or_else(|| {
                r53(
                    op,
                    "NoSuchKeySigningKey",
                    format!("No key-signing key named {ksk} in {name}"),
                )
            })?;
            if k.status == KskState::Active {
                return Err(r53(
                    op,
                    "InvalidKeySigningKeyStatus",
                    format!("The key-signing key {ksk} is already ACTIVE"),
                ));
            }
            if kms.get(&k.kms_arn).is_some_and(|m| !m.enabled) {
                return Err(r53(
                    op,
                    "InvalidKMSArn",
                    format!("Route 53 cannot use the KMS key {}", k.kms_arn),
                ));
            }
            k.status = KskState::Active;
            if z.signing == SigningState::ActionNeeded
                && z.ksks.iter().all(|k| k.status != KskState::ActionNeeded)
            {
                z.signing = SigningState::Signing;
                z.signatures_expire_at = None;
            }
            let now = w.now;
            w.push_zone_serve(&name, now);
            Ok(changed(new_change(w, format!("{name} activate KSK {ksk}"))))
        }
        Action::EnableSigning => {
            let op = "EnableHostedZoneDNSSEC";
            let name = hosted_zone_name(w, req, op)?;
            let z = zone_mut(w, &name)?;
            if !z.ksks.iter().any(|k| k.status == KskState::Active) {
                return Err(r53(
                    op,
                    "KeySigningKeyWithActiveStatusNotFound",
                    format!("A key-signing key (KSK) with ACTIVE status wasn't found in {name}"),
                ));
            }
            if z.signing == SigningState::NotSigning {
                z.signing = SigningState::Signing;
            }
            let now = w.now;
            w.push_zone_serve(&name, now);
            Ok(changed(new_change(w, format!("{name} enable signing"))))
        }
        Action::DisableSigning => {
            // Allowed even while a DS is published: that is the outage seed 000 warns about.
            let op = "DisableHostedZoneDNSSEC";
            let name = hosted_zone_name(w, req, op)?;
            let z = zone_mut(w, &name)?;
            z.signing = SigningState::NotSigning;
            z.signatures_expire_at = None;
            let now = w.now;
            w.push_zone_serve(&name, now);
            Ok(changed(new_change(w, format!("{name} disable signing"))))
        }
        Action::DeactivateKsk { name: ksk } => {
            let op = "DeactivateKeySigningKey";
            let name = hosted_zone_name(w, req, op)?;
            let parent_ds = w.parent_ds(&name);
            let z = zone_mut(w, &name)?;
            let signing = z.signing != SigningState::NotSigning;
            let active_others = z
                .ksks
                .iter()
                .filter(|k| &k.name != ksk && k.status == KskState::Active)
                .count();
            let k = z.ksks.iter_mut().find(|k| &k.name == ksk).ok_or_else(|| {
                r53(
                    op,
                    "NoSuchKeySigningKey",
                    format!("No key-signing key named {ksk} in {name}"),
                )
            })?;
            if k.status == KskState::Inactive {
                return Err(r53(
                    op,
                    "InvalidKeySigningKeyStatus",
                    format!("The key-signing key {ksk} is already INACTIVE"),
                ));
            }
            if parent_ds.iter().any(|d| k.dnskey.matches(&name, d)) {
                return Err(r53(
                    op,
                    "KeySigningKeyInParentDSRecord",
                    format!(
                        "The key-signing key {ksk} is in use by a DS record in the parent zone of {name}"
                    ),
                ));
            }
            if signing && active_others == 0 {
                return Err(r53(
                    op,
                    "KeySigningKeyInUse",
                    format!(
                        "The key-signing key {ksk} is the last active key of {name}, which is signing; disable DNSSEC signing first"
                    ),
                ));
            }
            k.status = KskState::Inactive;
            let now = w.now;
            w.push_zone_serve(&name, now);
            Ok(changed(new_change(
                w,
                format!("{name} deactivate KSK {ksk}"),
            )))
        }
        Action::DeleteKsk { name: ksk } => {
            let op = "DeleteKeySigningKey";
            let name = hosted_zone_name(w, req, op)?;
            let z = zone_mut(w, &name)?;
            let i = z.ksks.iter().position(|k| &k.name == ksk).ok_or_else(|| {
                r53(
                    op,
                    "NoSuchKeySigningKey",
                    format!("No key-signing key named {ksk} in {name}"),
                )
            })?;
            if z.ksks[i].status == KskState::Active {
                return Err(r53(
                    op,
                    "InvalidKeySigningKeyStatus",
                    format!("The key-signing key {ksk} is ACTIVE; deactivate it first"),
                ));
            }
            z.ksks.remove(i);
            let now = w.now;
            w.push_zone_serve(&name, now);
            Ok(changed(new_change(w, format!("{name} delete KSK {ksk}"))))
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
        } => upsert_parent_ds(w, &req.zone, parent_hosted_zone_id, records, *to),
        Action::PublishDs {
            target,
            records,
            ttl,
        } => match target {
            DsTarget::ParentZone { hosted_zone_id, .. } => {
                upsert_parent_ds(w, &req.zone, hosted_zone_id, records, *ttl)
            }
            DsTarget::Route53Domains => {
                let key = registrar_key_for(w, &req.zone, records, true)?;
                registrar_op(w, &req.zone, key, true)
            }
            DsTarget::External => {
                let mut ds = w
                    .external
                    .get(&req.zone)
                    .map(|e| e.published.clone())
                    .unwrap_or_default();
                for r in records {
                    if !ds.contains(r) {
                        ds.push(r.clone());
                    }
                }
                schedule_external(w, &req.zone, ds, "publish DS".into())
            }
        },
        Action::RemoveDs {
            target,
            records,
            ttl,
        } => match target {
            DsTarget::ParentZone { hosted_zone_id, .. } => {
                let op = "ChangeResourceRecordSets";
                let hosted_zone_id = hosted_zone_id.trim_start_matches("/hostedzone/");
                let pz = w.parent_zones.get_mut(hosted_zone_id).ok_or_else(|| {
                    r53(
                        op,
                        "NoSuchHostedZone",
                        format!("No hosted zone found with ID: {hosted_zone_id}"),
                    )
                })?;
                let d = pz.delegations.get_mut(&req.zone).ok_or_else(|| {
                    r53(
                        op,
                        "InvalidChangeBatch",
                        format!("Tried to delete resource record set [name='{}.', type='DS'] but it was not found", req.zone),
                    )
                })?;
                if d.ds.is_empty() {
                    return Err(r53(
                        op,
                        "InvalidChangeBatch",
                        format!(
                            "Tried to delete resource record set [name='{}.', type='DS'] but it was not found",
                            req.zone
                        ),
                    ));
                }
                let same = |a: &[DsRecord], b: &[DsRecord]| {
                    let mut a = a.to_vec();
                    let mut b = b.to_vec();
                    a.sort();
                    b.sort();
                    a == b
                };
                if !same(&d.ds, records) || d.ds_ttl != *ttl {
                    return Err(r53(
                        op,
                        "InvalidChangeBatch",
                        format!(
                            "Tried to delete resource record set [name='{}.', type='DS'] but the values provided do not match the current values",
                            req.zone
                        ),
                    ));
                }
                d.ds.clear();
                let now = w.now;
                w.push_parent_serve(&req.zone, now);
                Ok(changed(new_change(w, format!("{} DS deleted", req.zone))))
            }
            DsTarget::Route53Domains => {
                let key = registrar_key_for(w, &req.zone, records, false)?;
                registrar_op(w, &req.zone, key, false)
            }
            DsTarget::External => {
                let ds: Vec<DsRecord> = if records.is_empty() {
                    vec![]
                } else {
                    w.external
                        .get(&req.zone)
                        .map(|e| {
                            e.published
                                .iter()
                                .filter(|d| !records.contains(d))
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default()
                };
                schedule_external(w, &req.zone, ds, "remove DS".into())
            }
        },
        Action::AddRegistrarKey { domain, key } => registrar_op(w, domain, key.clone(), true),
        Action::RemoveRegistrarKey { domain, key } => registrar_op(w, domain, key.clone(), false),
        Action::Manual { instruction } => manual(w, &req.zone, instruction),
        // A checkpoint: the engine never sends one, and it changes nothing.
        Action::Await { .. } => Ok(ActionResult::default()),
    }
}

fn set_ttls(
    w: &mut World,
    req: &ActionRequest,
    changes: &[TtlChange],
) -> Result<ActionResult, ProviderError> {
    let op = "ChangeResourceRecordSets";
    let name = hosted_zone_name(w, req, op)?;
    let z = zone_mut(w, &name)?;
    let signing = z.signing != SigningState::NotSigning;
    // Validate the whole batch first: Route 53 applies all or nothing.
    let mut idx = Vec::with_capacity(changes.len());
    for c in changes {
        let r = &c.record;
        let i = z
            .records
            .iter()
            .position(|x| {
                x.name == r.name && x.rtype == r.rtype && x.set_identifier == r.set_identifier
            })
            .ok_or_else(|| {
                r53(
                    op,
                    "InvalidChangeBatch",
                    format!(
                        "Tried to upsert resource record set [name='{}.', type='{}'] but it was not found",
                        r.name, r.rtype
                    ),
                )
            })?;
        if z.records[i].alias_target.is_some() {
            return Err(r53(
                op,
                "InvalidChangeBatch",
                format!("{r} is an alias record, which has no TTL"),
            ));
        }
        if signing && c.to > MAX_SIGNED_TTL {
            return Err(r53(
                op,
                "InvalidChangeBatch",
                format!(
                    "TTL {} of {r} is above the 604800 s maximum for a DNSSEC-signed zone",
                    c.to.0
                ),
            ));
        }
        if c.to.0 > 2_147_483_647 {
            return Err(r53(
                op,
                "InvalidChangeBatch",
                format!("TTL of {r} out of range"),
            ));
        }
        idx.push((i, c.to));
    }
    for (i, ttl) in idx {
        z.records[i].ttl = Some(ttl);
    }
    let now = w.now;
    w.push_zone_serve(&name, now);
    Ok(changed(new_change(
        w,
        format!("{name} TTL of {} record sets", changes.len()),
    )))
}

fn ksk_name_valid(n: &str) -> bool {
    (3..=128).contains(&n.len()) && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn create_ksk(
    w: &mut World,
    req: &ActionRequest,
    ksk: &str,
    kms_arn: &str,
) -> Result<ActionResult, ProviderError> {
    let op = "CreateKeySigningKey";
    let name = hosted_zone_name(w, req, op)?;
    let z = w
        .zone(&name)
        .ok_or_else(|| ProviderError::NotFound(format!("no hosted zone {name}")))?;
    // Idempotency by CallerReference: the same token never creates a second key.
    if let Some(k) = z.ksks.iter().find(|k| k.caller_reference == req.token) {
        return Err(r53(
            op,
            "KeySigningKeyAlreadyExists",
            format!(
                "A key-signing key was already created with CallerReference {} (named {})",
                req.token, k.name
            ),
        ));
    }
    if z.ksks.iter().any(|k| k.name == ksk) {
        return Err(r53(
            op,
            "KeySigningKeyAlreadyExists",
            format!("A key-signing key named {ksk} already exists in {name}"),
        ));
    }
    if !ksk_name_valid(ksk) {
        return Err(r53(
            op,
            "InvalidKeySigningKeyName",
            format!("{ksk}: 3 to 128 letters, digits and underscores"),
        ));
    }
    if z.ksks.len() >= 2 {
        return Err(r53(
            op,
            "TooManyKeySigningKeys",
            format!(
                "{name} already has {} key-signing keys (at most 2)",
                z.ksks.len()
            ),
        ));
    }
    if !kms_arn_valid(kms_arn) || !kms_arn.starts_with("arn:aws:kms:us-east-1:") {
        return Err(r53(
            op,
            "InvalidKMSArn",
            format!("{kms_arn} is not a KMS key ARN in us-east-1"),
        ));
    }
    match w.kms_keys.get(kms_arn) {
        Some(k) if !k.enabled => {
            return Err(r53(
                op,
                "InvalidKMSArn",
                format!(
                    "Route 53 cannot use the KMS key {kms_arn}: it is disabled or its grant was revoked"
                ),
            ));
        }
        Some(_) => {}
        None => {
            w.kms_keys.insert(
                kms_arn.to_string(),
                KmsKey {
                    arn: kms_arn.to_string(),
                    enabled: true,
                },
            );
        }
    }
    let serial = w.next_id;
    w.next_id += 1;
    let dnskey = Dnskey::new(
        257,
        13,
        &fake_p256_key(w.seed, &format!("ksk:{name}:{ksk}:{serial}")),
    );
    let ds = dnskey
        .to_ds(&name, DigestType::Sha256)
        .map_err(|e| ProviderError::Other(e.to_string()))?;
    let now = w.now;
    let z = zone_mut(w, &name)?;
    z.ksks.push(Ksk {
        name: ksk.to_string(),
        kms_arn: kms_arn.to_string(),
        status: KskState::Active,
        dnskey,
        ds,
        created_at: now,
        caller_reference: req.token.clone(),
    });
    w.push_zone_serve(&name, now);
    Ok(changed(new_change(w, format!("{name} create KSK {ksk}"))))
}

fn upsert_parent_ds(
    w: &mut World,
    zone: &ZoneName,
    parent_id: &str,
    records: &[DsRecord],
    ttl: crate::model::Ttl,
) -> Result<ActionResult, ProviderError> {
    let op = "ChangeResourceRecordSets";
    let parent_id = parent_id.trim_start_matches("/hostedzone/");
    let pz = w.parent_zones.get_mut(parent_id).ok_or_else(|| {
        r53(
            op,
            "NoSuchHostedZone",
            format!("No hosted zone found with ID: {parent_id}"),
        )
    })?;
    let d = pz.delegations.get_mut(zone).ok_or_else(|| {
        r53(
            op,
            "InvalidChangeBatch",
            format!(
                "RRSet of type DS with DNS name {zone}. is not permitted: {} holds no delegation for it",
                pz.name
            ),
        )
    })?;
    if records.is_empty() {
        return Err(r53(
            op,
            "InvalidChangeBatch",
            "A DS resource record set needs at least one record",
        ));
    }
    d.ds = records.to_vec();
    d.ds_ttl = ttl;
    let now = w.now;
    w.push_parent_serve(zone, now);
    Ok(changed(new_change(
        w,
        format!("{zone} DS upsert ttl {}", ttl.0),
    )))
}

/// The zone's KSK DNSKEY whose DS is `records[0]` (registrar associations take public keys).
fn registrar_key_for(
    w: &World,
    zone: &ZoneName,
    records: &[DsRecord],
    adding: bool,
) -> Result<Dnskey, ProviderError> {
    let op = if adding {
        "AssociateDelegationSignerToDomain"
    } else {
        "DisassociateDelegationSignerFromDomain"
    };
    let [ds] = records else {
        return Err(domains(
            op,
            "InvalidInput",
            format!("one key per operation; got {} DS records", records.len()),
        ));
    };
    let from_zone = w
        .zone(zone)
        .into_iter()
        .flat_map(|z| z.ksks.iter().map(|k| k.dnskey.clone()));
    let from_registrar = w
        .registrar
        .get(zone)
        .into_iter()
        .flat_map(|r| r.keys.iter().map(|k| k.key.clone()));
    from_zone
        .chain(from_registrar)
        .find(|k| k.matches(zone, ds))
        .ok_or_else(|| {
            domains(
                op,
                "InvalidInput",
                format!("no DNSKEY of {zone} matches DS {ds}"),
            )
        })
}

fn registrar_op(
    w: &mut World,
    domain: &ZoneName,
    key: Dnskey,
    adding: bool,
) -> Result<ActionResult, ProviderError> {
    let op = if adding {
        "AssociateDelegationSignerToDomain"
    } else {
        "DisassociateDelegationSignerFromDomain"
    };
    let (lo, hi) = (w.settings.registrar_op_min.0, w.settings.registrar_op_max.0);
    let stream = w.next_stream();
    let id = w.new_id("", 8);
    let id = format!(
        "{}-{}-{}",
        id.to_ascii_lowercase(),
        &w.new_id("", 4).to_ascii_lowercase(),
        &w.new_id("", 12).to_ascii_lowercase()
    );
    let now = w.now;
    let d = w.registrar.get_mut(domain).ok_or_else(|| {
        domains(
            op,
            "InvalidInput",
            format!("{domain} is not registered with Route 53 Domains in this account"),
        )
    })?;
    if let Some(busy) = d.operations.iter().find(|o| !o.applied) {
        return Err(domains(
            op,
            "DuplicateRequest",
            format!(
                "operation {} ({}) for {domain} is still in progress; one DNSSEC operation at a time",
                busy.id, busy.kind
            ),
        ));
    }
    let same_key = |k: &Dnskey| k.public_key == key.public_key && k.algorithm == key.algorithm;
    if adding {
        if d.keys.iter().any(|k| same_key(&k.key)) {
            return Err(domains(
                op,
                "InvalidInput",
                format!("{domain} already has this DNSSEC key"),
            ));
        }
        if d.keys.len() >= d.key_limit as usize {
            return Err(domains(
                op,
                "DnssecLimitExceeded",
                format!(
                    "{domain} already has {} DNSSEC keys; the .{} registry accepts at most {}",
                    d.keys.len(),
                    domain.tld(),
                    d.key_limit
                ),
            ));
        }
    } else if !d.keys.iter().any(|k| same_key(&k.key)) {
        return Err(domains(
            op,
            "InvalidInput",
            format!("{domain} has no DNSSEC key with this public key"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    let dur = if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    };
    d.operations.push(RegistrarOp {
        id: id.clone(),
        kind: if adding {
            "ADD_DNSSEC"
        } else {
            "REMOVE_DNSSEC"
        }
        .into(),
        key,
        submitted_at: now,
        completes_at: Secs(dur).after(now),
        applied: false,
    });
    Ok(ActionResult {
        operation_id: Some(id),
        ..Default::default()
    })
}

/// Carries out the registrar operation that completes at `at` and publishes its result to the
/// TLD servers.
pub(crate) fn finish_registrar_op(w: &mut World, domain: &ZoneName, at: Timestamp) {
    let key_id = w.new_id("", 10);
    let Some(d) = w.registrar.get_mut(domain) else {
        return;
    };
    let Some(op) = d
        .operations
        .iter_mut()
        .find(|o| !o.applied && o.completes_at == at)
    else {
        return;
    };
    op.applied = true;
    let key = op.key.clone();
    if op.kind == "ADD_DNSSEC" {
        let digest = key
            .to_ds(domain, DigestType::Sha256)
            .map(|d| d.digest)
            .unwrap_or_default();
        d.keys.push(RegistrarKey {
            id: key_id.to_ascii_lowercase(),
            key,
            digest,
        });
    } else {
        d.keys
            .retain(|k| !(k.key.public_key == key.public_key && k.key.algorithm == key.algorithm));
    }
    w.push_parent_serve(domain, at);
}

fn schedule_external(
    w: &mut World,
    zone: &ZoneName,
    ds: Vec<DsRecord>,
    instruction: String,
) -> Result<ActionResult, ProviderError> {
    let at = w.settings.external_publication_delay.after(w.now);
    let e = w.external.get_mut(zone).ok_or_else(|| {
        ProviderError::Other(format!(
            "{zone} has no outside registrar in the sandbox world"
        ))
    })?;
    if !e.pending.iter().any(|p| p.ds == ds) {
        e.pending.push(ExternalPending {
            at,
            ds,
            instruction: instruction.clone(),
        });
    }
    Ok(ActionResult {
        detail: Some(format!(
            "the sandbox plays the outside registrar of {zone}: it will {instruction} at {at}"
        )),
        ..Default::default()
    })
}

/// DS records in presentation form (`tag alg digest-type HEX`) found anywhere in `text`.
fn ds_in_text(text: &str) -> Vec<DsRecord> {
    let toks: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '`' || c == '"')
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = Vec::new();
    for win in toks.windows(4) {
        if win[3].len() >= 40
            && let Some(ds) = DsRecord::parse(&win.join(" "))
            && !out.contains(&ds)
        {
            out.push(ds);
        }
    }
    out
}

/// A `manual` step: for a zone behind an outside registrar the sandbox plays the operator and
/// carries out the instruction after the registrar delay. An instruction that says `remove` or
/// `delete` removes the DS records it names (all of them when it names none); any other
/// publishes the DS records it names (the zone's active KSKs' DS when it names none).
fn manual(
    w: &mut World,
    zone: &ZoneName,
    instruction: &str,
) -> Result<ActionResult, ProviderError> {
    let external = w
        .zone(zone)
        .is_some_and(|z| z.parent == ParentKind::External)
        && w.external.contains_key(zone);
    if !external {
        return Ok(ActionResult {
            detail: Some("instruction shown; nothing in the sandbox acts on it".into()),
            ..Default::default()
        });
    }
    let lower = instruction.to_ascii_lowercase();
    let named = ds_in_text(instruction);
    let published = w
        .external
        .get(zone)
        .map(|e| e.published.clone())
        .unwrap_or_default();
    if lower.contains("remove") || lower.contains("delete") {
        let ds = if named.is_empty() {
            vec![]
        } else {
            published
                .into_iter()
                .filter(|d| !named.contains(d))
                .collect()
        };
        return schedule_external(w, zone, ds, "remove DS".into());
    }
    let add = if named.is_empty() {
        w.zone(zone)
            .map(|z| {
                z.ksks
                    .iter()
                    .filter(|k| k.status == KskState::Active)
                    .map(|k| k.ds.clone())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        named
    };
    let mut ds = published;
    for d in add {
        if !ds.contains(&d) {
            ds.push(d);
        }
    }
    schedule_external(w, zone, ds, "publish DS".into())
}
