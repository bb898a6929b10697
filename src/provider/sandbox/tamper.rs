//! Faults and drift an operator can cause by hand ([`Tamper`]), injected straight into the world
//! at its current instant, so tests can prove the checks, the planner and the resolver model
//! catch them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::world::{
    Change, KskState, ParentKind, SandboxError, SigningState, World, fake_p256_key,
};
use crate::model::{DsRecord, Ttl, ZoneName};

/// A hand-made fault (the sandbox's own copy of the CLI's `TamperEvent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Tamper {
    /// Delete the DS from the parent (parent zone RRset, registrar keys, outside registrar).
    RemoveDs,
    /// Disable signing (with the DS still published this is an outage).
    DisableSigning,
    /// Revoke the KMS key behind the active KSKs: they go ACTION_NEEDED, the zone's signing status
    /// ACTION_NEEDED, and the DNSKEY signatures expire after `signature_validity_after_revoke`.
    KmsRevoke,
    /// Raise a record's TTL by hand (`www`, or the first record) to 2 days (1 week if it was at
    /// least 2 days already).
    RaiseTtl,
    /// Replace the DS at the parent by one that matches no key.
    WrongDs,
}

fn err(zone: &ZoneName, message: impl Into<String>) -> SandboxError {
    SandboxError::Tamper {
        zone: zone.to_string(),
        message: message.into(),
    }
}

/// Applies `event` to `zone` (the first zone or domain when `None`); returns what was done.
pub fn tamper(
    w: &mut World,
    event: Tamper,
    zone: Option<&ZoneName>,
) -> Result<String, SandboxError> {
    let name = match zone {
        Some(z) => {
            if !w.zones.contains_key(z) && !w.outside_dns.contains_key(z) {
                return Err(SandboxError::NoSuchZone(z.to_string()));
            }
            z.clone()
        }
        None => w.names().into_iter().next().ok_or(SandboxError::Empty)?,
    };
    let now = w.now;
    let hosted = w.zones.contains_key(&name);
    let msg = match event {
        Tamper::RemoveDs => {
            if w.parent_ds(&name).is_empty() {
                return Err(err(&name, "its parent holds no DS to remove"));
            }
            match w.zone(&name).map(|z| z.parent.clone()) {
                Some(ParentKind::ParentZone { hosted_zone_id }) => {
                    if let Some(d) = w
                        .parent_zones
                        .get_mut(&hosted_zone_id)
                        .and_then(|p| p.delegations.get_mut(&name))
                    {
                        d.ds.clear();
                    }
                }
                Some(ParentKind::External) => {
                    if let Some(e) = w.external.get_mut(&name) {
                        e.published.clear();
                        e.pending.clear();
                    }
                }
                Some(ParentKind::Registrar) | None => {
                    if let Some(r) = w.registrar.get_mut(&name) {
                        r.keys.clear();
                    }
                }
            }
            w.push_parent_serve(&name, now);
            format!("removed the DS of {name} from its parent by hand")
        }
        Tamper::DisableSigning => {
            if let Some(z) = w.zone_mut(&name) {
                if z.signing == SigningState::NotSigning {
                    return Err(err(&name, "it is not signing"));
                }
                z.signing = SigningState::NotSigning;
                z.signatures_expire_at = None;
            } else if let Some(o) = w.outside_dns.get_mut(&name) {
                if !o.signing {
                    return Err(err(&name, "its DNS provider is not signing"));
                }
                o.signing = false;
            }
            w.push_zone_serve(&name, now);
            format!("disabled signing of {name} by hand")
        }
        Tamper::KmsRevoke => {
            if !hosted {
                return Err(err(&name, "its DNS is not hosted in Route 53 (no KMS key)"));
            }
            let expire = w.settings.signature_validity_after_revoke.after(now);
            let arns: Vec<String> = w
                .zone(&name)
                .map(|z| {
                    z.ksks
                        .iter()
                        .filter(|k| k.status == KskState::Active)
                        .map(|k| k.kms_arn.clone())
                        .collect()
                })
                .unwrap_or_default();
            if arns.is_empty() {
                return Err(err(&name, "it has no active KSK"));
            }
            for a in &arns {
                if let Some(k) = w.kms_keys.get_mut(a) {
                    k.enabled = false;
                }
            }
            if let Some(z) = w.zone_mut(&name) {
                for k in z.ksks.iter_mut().filter(|k| arns.contains(&k.kms_arn)) {
                    k.status = KskState::ActionNeeded;
                }
                if z.signing != SigningState::NotSigning {
                    z.signing = SigningState::ActionNeeded;
                    z.signatures_expire_at = Some(expire);
                }
            }
            w.push_zone_serve(&name, now);
            format!(
                "revoked the KMS key(s) {} of {name}: KSK ACTION_NEEDED, DNSKEY signatures expire at {expire}",
                arns.join(", ")
            )
        }
        Tamper::RaiseTtl => {
            let records = match w.zones.get_mut(&name) {
                Some(z) => &mut z.records,
                None => match w.outside_dns.get_mut(&name) {
                    Some(o) => &mut o.records,
                    None => return Err(SandboxError::NoSuchZone(name.to_string())),
                },
            };
            let www = format!("www.{name}");
            let i = records
                .iter()
                .position(|r| r.name == www && r.ttl.is_some())
                .or_else(|| records.iter().position(|r| r.ttl.is_some()))
                .ok_or_else(|| err(&name, "it has no record with a TTL"))?;
            let old = records[i].ttl.unwrap_or_default();
            let new = if old.0 >= 172_800 {
                Ttl(604_800)
            } else {
                Ttl(172_800)
            };
            records[i].ttl = Some(new);
            let what = format!("{} {}", records[i].name, records[i].rtype);
            if hosted {
                let id = w.new_id("C", 13);
                w.changes.insert(
                    id.clone(),
                    Change {
                        id,
                        submitted_at: now,
                        insync_at: w.settings.change_propagation.after(now),
                        comment: format!("by hand: {what} TTL {}", new.0),
                    },
                );
            }
            w.push_zone_serve(&name, now);
            format!(
                "raised the TTL of {what} from {} to {} by hand",
                old.0, new.0
            )
        }
        Tamper::WrongDs => {
            let mut h = Sha256::new();
            h.update(w.seed.to_be_bytes());
            h.update(b"wrong-ds");
            h.update(name.as_str().as_bytes());
            h.update(w.next_id.to_be_bytes());
            let d = h.finalize();
            let digest: String = d.iter().map(|b| format!("{b:02X}")).collect();
            let wrong = DsRecord {
                key_tag: u16::from_be_bytes([d[0], d[1]]),
                algorithm: 13,
                digest_type: 2,
                digest,
            };
            match w.zone(&name).map(|z| z.parent.clone()) {
                Some(ParentKind::ParentZone { hosted_zone_id }) => {
                    if let Some(d) = w
                        .parent_zones
                        .get_mut(&hosted_zone_id)
                        .and_then(|p| p.delegations.get_mut(&name))
                    {
                        d.ds = vec![wrong.clone()];
                    }
                }
                Some(ParentKind::External) => {
                    if let Some(e) = w.external.get_mut(&name) {
                        e.published = vec![wrong.clone()];
                    }
                }
                Some(ParentKind::Registrar) | None => {
                    // The registrar holds keys: a key nobody signs with yields a DS matching none.
                    let id = w.new_id("", 10).to_ascii_lowercase();
                    let key = crate::model::Dnskey::new(
                        257,
                        13,
                        &fake_p256_key(w.seed, &format!("wrong:{name}:{id}")),
                    );
                    let digest = key
                        .to_ds(&name, crate::model::DigestType::Sha256)
                        .map(|d| d.digest)
                        .unwrap_or_default();
                    if let Some(r) = w.registrar.get_mut(&name) {
                        r.keys = vec![super::world::RegistrarKey { id, key, digest }];
                    }
                }
            }
            w.push_parent_serve(&name, now);
            let ds = w.parent_ds(&name);
            format!(
                "replaced the DS of {name} at its parent by hand with one matching no key ({})",
                ds.iter()
                    .map(|d| d.key_tag.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    };
    Ok(msg)
}
