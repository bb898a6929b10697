//! `dnssec-pilot iam-policy [--read-only]`: the least-privilege IAM policy for the zones and
//! domains of the config. Read-only covers what `check` and `plan` call (observe: Route 53
//! `GetHostedZone`, `ListHostedZonesByName`, `ListResourceRecordSets`, `GetDNSSEC`, `GetChange`;
//! Route 53 Domains `GetDomainDetail`, `ListOperations`, `GetOperationDetail`; KMS `DescribeKey`
//! and `GetKeyPolicy` for the KSKs' keys); the full policy adds what `apply` and `destroy` call.
//!
//! Scoping follows the Route 53 and KMS service authorization references:
//! - hosted-zone actions on `arn:aws:route53:::hostedzone/ID` for the configured ids (a zone
//!   without an id gets `hostedzone/*`, with a note); `GetChange` on `change/*`;
//!   `ListHostedZonesByName` and every Route 53 Domains action support no resource scoping (`*`);
//! - on a parent hosted zone the tool only writes the DS of its child zones, so the parent's
//!   `ChangeResourceRecordSets` is conditioned on `route53:ChangeResourceRecordSetsRecordTypes` =
//!   `DS` and `route53:ChangeResourceRecordSetsNormalizedRecordNames` = the child zones;
//! - `CreateKeySigningKey` with a customer managed key needs the *caller* to hold
//!   `kms:DescribeKey`, `kms:GetPublicKey`, `kms:Sign` and `kms:CreateGrant` on the key (the
//!   dependent actions the reference lists; Route 53 creates a grant for
//!   `dnssec-route53.amazonaws.com`), so `kms:CreateGrant` is conditioned on
//!   `kms:GrantIsForAWSResource`;
//! - IAM matches KMS resources by key ARN only: a KSK given as an alias ARN is scoped with
//!   `key/*` in its account plus the condition `kms:ResourceAliases` (with a note).

use std::collections::{BTreeMap, BTreeSet};

use miette::{IntoDiagnostic as _, Result};
use serde_json::{Value, json};

use super::Outcome;
use crate::cli::{IamPolicyArgs, Settings};
use crate::config::{Desired, Trust};

/// The policy document and the notes about scoping that could not be tight.
#[derive(Clone, Debug, PartialEq)]
pub struct IamPolicy {
    pub document: Value,
    pub notes: Vec<String>,
}

fn zone_arn(id: &str) -> String {
    format!(
        "arn:aws:route53:::hostedzone/{}",
        id.trim_start_matches("/hostedzone/")
    )
}

/// The KMS keys of the config, split into key ARNs and aliases (by account).
#[derive(Default)]
struct KmsKeys {
    keys: BTreeSet<String>,
    /// account → alias names (`alias/…`).
    aliases: BTreeMap<String, BTreeSet<String>>,
}

impl KmsKeys {
    fn add(&mut self, arn: &str) {
        // arn:aws:kms:REGION:ACCOUNT:key/ID | arn:aws:kms:REGION:ACCOUNT:alias/NAME
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() == 6 && parts[5].starts_with("alias/") {
            self.aliases
                .entry(format!("{}:{}", parts[3], parts[4]))
                .or_default()
                .insert(parts[5].to_string());
        } else {
            self.keys.insert(arn.to_string());
        }
    }

    fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.aliases.is_empty()
    }

    /// Statements granting `actions` on every key, with `extra` conditions (merged).
    fn statements(&self, sid: &str, actions: &[&str], extra: Option<Value>) -> Vec<Value> {
        let mut out = Vec::new();
        if !self.keys.is_empty() {
            let mut s = json!({
                "Sid": sid,
                "Effect": "Allow",
                "Action": actions,
                "Resource": self.keys.iter().collect::<Vec<_>>(),
            });
            if let Some(c) = &extra {
                s["Condition"] = c.clone();
            }
            out.push(s);
        }
        for (i, (region_account, aliases)) in self.aliases.iter().enumerate() {
            let mut cond = extra.clone().unwrap_or_else(|| json!({}));
            cond["ForAnyValue:StringEquals"] = json!({ "kms:ResourceAliases": aliases });
            out.push(json!({
                "Sid": format!("{sid}ByAlias{}", i + 1),
                "Effect": "Allow",
                "Action": actions,
                "Resource": [format!("arn:aws:kms:{region_account}:key/*")],
                "Condition": cond,
            }));
        }
        out
    }
}

/// Builds the policy for `desired`; pure.
pub fn policy(desired: &Desired, read_only: bool) -> IamPolicy {
    let mut notes = Vec::new();
    let mut zones: BTreeSet<String> = BTreeSet::new();
    let mut any_unknown_zone = false;
    // parent hosted zone id → the child zone names whose DS it holds.
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut registrar = !desired.domains.is_empty();
    let mut kms = KmsKeys::default();
    for z in &desired.zones {
        match &z.hosted_zone_id {
            Some(id) => {
                zones.insert(zone_arn(id));
            }
            None => {
                any_unknown_zone = true;
                notes.push(format!(
                    "zone `{}` has no `hosted_zone_id` in the config: its hosted-zone actions are granted on `hostedzone/*`; add the id to scope them",
                    z.name
                ));
            }
        }
        match &z.trust {
            Some(Trust::ParentZone { hosted_zone_id, .. }) => {
                parents
                    .entry(zone_arn(hosted_zone_id))
                    .or_default()
                    .insert(z.name.to_string());
            }
            Some(Trust::Route53Domains) => registrar = true,
            Some(Trust::External) | None => {}
        }
        for k in &z.signing.ksks {
            kms.add(&k.kms_key);
        }
    }
    if !kms.aliases.is_empty() {
        notes.push(format!(
            "KSK keys given as alias ARNs ({}) are scoped with `key/*` and the condition `kms:ResourceAliases`; use key ARNs in the config for a policy on the keys themselves",
            kms.aliases
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let zone_resources: Vec<String> = if any_unknown_zone {
        vec!["arn:aws:route53:::hostedzone/*".to_string()]
    } else {
        zones.iter().cloned().collect()
    };
    let mut read_zones: BTreeSet<String> = zone_resources.iter().cloned().collect();
    read_zones.extend(parents.keys().cloned());

    let mut st: Vec<Value> = Vec::new();
    if !read_zones.is_empty() {
        st.push(json!({
            "Sid": "ReadHostedZones",
            "Effect": "Allow",
            "Action": ["route53:GetDNSSEC", "route53:GetHostedZone", "route53:ListResourceRecordSets"],
            "Resource": read_zones.iter().collect::<Vec<_>>(),
        }));
    }
    if !desired.zones.is_empty() {
        st.push(json!({
            "Sid": "FindHostedZones",
            "Effect": "Allow",
            "Action": ["route53:ListHostedZonesByName"],
            "Resource": ["*"],
        }));
        st.push(json!({
            "Sid": "ReadChanges",
            "Effect": "Allow",
            "Action": ["route53:GetChange"],
            "Resource": ["arn:aws:route53:::change/*"],
        }));
    }
    if registrar {
        st.push(json!({
            "Sid": "ReadRegistrar",
            "Effect": "Allow",
            "Action": ["route53domains:GetDomainDetail", "route53domains:GetOperationDetail", "route53domains:ListOperations"],
            "Resource": ["*"],
        }));
    }
    if !kms.is_empty() {
        st.extend(kms.statements(
            "ReadKskKeys",
            &["kms:DescribeKey", "kms:GetKeyPolicy"],
            None,
        ));
    }
    if !read_only {
        if !zone_resources.is_empty() {
            st.push(json!({
                "Sid": "ChangeZones",
                "Effect": "Allow",
                "Action": [
                    "route53:ActivateKeySigningKey",
                    "route53:ChangeResourceRecordSets",
                    "route53:CreateKeySigningKey",
                    "route53:DeactivateKeySigningKey",
                    "route53:DeleteKeySigningKey",
                    "route53:DisableHostedZoneDNSSEC",
                    "route53:EnableHostedZoneDNSSEC",
                ],
                "Resource": zone_resources,
            }));
        }
        // Parent zones only get DS writes for their configured children (unless the parent is
        // itself a configured zone, already covered above).
        for (i, (arn, children)) in parents
            .iter()
            .filter(|(arn, _)| !zones.contains(*arn) && !any_unknown_zone)
            .enumerate()
        {
            st.push(json!({
                "Sid": format!("PublishDsInParentZone{}", i + 1),
                "Effect": "Allow",
                "Action": ["route53:ChangeResourceRecordSets"],
                "Resource": [arn],
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": children,
                        "route53:ChangeResourceRecordSetsRecordTypes": ["DS"],
                    }
                },
            }));
        }
        if registrar {
            st.push(json!({
                "Sid": "ChangeRegistrarKeys",
                "Effect": "Allow",
                "Action": ["route53domains:AssociateDelegationSignerToDomain", "route53domains:DisassociateDelegationSignerFromDomain"],
                "Resource": ["*"],
            }));
        }
        if !kms.is_empty() {
            st.extend(kms.statements(
                "UseKskKeys",
                &["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
                None,
            ));
            st.extend(kms.statements(
                "GrantKskKeysToRoute53",
                &["kms:CreateGrant"],
                Some(json!({ "Bool": { "kms:GrantIsForAWSResource": "true" } })),
            ));
        }
    }
    IamPolicy {
        document: json!({ "Version": "2012-10-17", "Statement": st }),
        notes,
    }
}

/// `iam-policy`: the policy JSON on stdout, notes on stderr.
pub fn iam_policy_cmd(settings: &Settings, args: &IamPolicyArgs) -> Result<Outcome> {
    let desired = super::run::load_desired(settings)?;
    let p = policy(&desired, args.read_only);
    let stdout = format!(
        "{}\n",
        serde_json::to_string_pretty(&p.document).into_diagnostic()?
    );
    let stderr = p.notes.iter().map(|n| format!("note: {n}\n")).collect();
    Ok(Outcome {
        stdout,
        stderr,
        code: 0,
    })
}
