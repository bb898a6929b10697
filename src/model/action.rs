//! [`Action`]: the typed vocabulary of changes (DESIGN.md §7). The planner emits actions; a
//! provider executes exactly one at a time. The JSON names (`lower_ttls`, `publish_ds`, …) are a
//! public contract: scripts depend on them.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Dnskey, DsRecord, Ttl, ZoneName};

/// One record set, identified the way Route 53 identifies it (name, type, set identifier).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct RecordRef {
    /// Owner name, lower case, without the trailing dot.
    pub name: String,
    /// Record type mnemonic (`A`, `MX`, …).
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.rtype)?;
        if let Some(id) = &self.set_identifier {
            write!(f, " ({id})")?;
        }
        Ok(())
    }
}

/// A TTL change of one record set.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct TtlChange {
    pub record: RecordRef,
    pub from: Ttl,
    pub to: Ttl,
}

/// A change of the SOA record's TTL and its MINIMUM field (RFC 2308 §4: the negative-caching TTL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SoaChange {
    pub ttl_from: Ttl,
    pub ttl_to: Ttl,
    pub minimum_from: Ttl,
    pub minimum_to: Ttl,
}

/// Where a zone's DS lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DsTarget {
    /// The parent is a Route 53 hosted zone the operator manages.
    ParentZone {
        hosted_zone_id: String,
        parent: ZoneName,
    },
    /// The domain is registered with Route 53 Domains: keys go to the registrar.
    Route53Domains,
    /// Another registrar: a person publishes the DS.
    External,
}

/// One change to the world. Every variant is one API call (or one instruction to a person).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Seed 000 step 1: lower every record set TTL above the cap (ChangeResourceRecordSets UPSERT).
    LowerTtls { changes: Vec<TtlChange> },
    /// Seed 000 step 1: lower the SOA TTL and the SOA minimum field.
    LowerSoa {
        #[serde(flatten)]
        soa: SoaChange,
    },
    /// Seed 000 step 2: CreateKeySigningKey backed by a KMS key (created ACTIVE).
    CreateKsk { name: String, kms_arn: String },
    /// ActivateKeySigningKey for a KSK that exists but is INACTIVE.
    ActivateKsk { name: String },
    /// Seed 000 step 2: EnableHostedZoneDNSSEC.
    EnableSigning,
    /// Seed 000 step 3: lower the DS TTL held by a Route 53 parent zone (recommended 300 s).
    LowerParentDsTtl {
        parent_hosted_zone_id: String,
        records: Vec<DsRecord>,
        from: Ttl,
        to: Ttl,
    },
    /// Seed 000 step 3: UPSERT the DS RRset in the Route 53 parent zone.
    PublishDs {
        target: DsTarget,
        records: Vec<DsRecord>,
        ttl: Ttl,
    },
    /// Seed 000 step 3 (optional): lengthen the DS TTL once trusted and soaked.
    RaiseDsTtl {
        parent_hosted_zone_id: String,
        records: Vec<DsRecord>,
        from: Ttl,
        to: Ttl,
    },
    /// Seed 000 step 3 (optional): the original TTLs back, capped at one week.
    RestoreTtls { changes: Vec<TtlChange> },
    /// The original SOA TTL and minimum back.
    RestoreSoa {
        #[serde(flatten)]
        soa: SoaChange,
    },
    /// Seed 000 step 3 rollback: DELETE the DS RRset from the Route 53 parent zone.
    RemoveDs {
        target: DsTarget,
        records: Vec<DsRecord>,
        ttl: Ttl,
    },
    /// Seed 000 step 2 rollback: DisableHostedZoneDNSSEC.
    DisableSigning,
    /// DeactivateKeySigningKey (a KSK must be INACTIVE before it can be deleted).
    DeactivateKsk { name: String },
    /// DeleteKeySigningKey.
    DeleteKsk { name: String },
    /// Seed 003: AssociateDelegationSignerToDomain, one key per operation.
    AddRegistrarKey { domain: ZoneName, key: Dnskey },
    /// Seed 003: DisassociateDelegationSignerFromDomain, one key per operation. The registrar's
    /// own key id is looked up at execution time; keys are matched by their public key.
    RemoveRegistrarKey { domain: ZoneName, key: Dnskey },
    /// An instruction for a person (e.g. the DS at an outside registrar). Executing it records
    /// that it was shown; its completion is observed, never assumed.
    Manual { instruction: String },
    /// A checkpoint with no API call: done once its gates are open (DS at every parent server,
    /// NS TTLs elapsed, …). It makes every wait of the procedure a visible step with its rule.
    Await { milestone: String },
}

/// The action names alone, as they appear in JSON (`action` field) and tables.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    LowerTtls,
    LowerSoa,
    CreateKsk,
    ActivateKsk,
    EnableSigning,
    LowerParentDsTtl,
    PublishDs,
    RaiseDsTtl,
    RestoreTtls,
    RestoreSoa,
    RemoveDs,
    DisableSigning,
    DeactivateKsk,
    DeleteKsk,
    AddRegistrarKey,
    RemoveRegistrarKey,
    Manual,
    Await,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::LowerTtls => "lower_ttls",
            ActionKind::LowerSoa => "lower_soa",
            ActionKind::CreateKsk => "create_ksk",
            ActionKind::ActivateKsk => "activate_ksk",
            ActionKind::EnableSigning => "enable_signing",
            ActionKind::LowerParentDsTtl => "lower_parent_ds_ttl",
            ActionKind::PublishDs => "publish_ds",
            ActionKind::RaiseDsTtl => "raise_ds_ttl",
            ActionKind::RestoreTtls => "restore_ttls",
            ActionKind::RestoreSoa => "restore_soa",
            ActionKind::RemoveDs => "remove_ds",
            ActionKind::DisableSigning => "disable_signing",
            ActionKind::DeactivateKsk => "deactivate_ksk",
            ActionKind::DeleteKsk => "delete_ksk",
            ActionKind::AddRegistrarKey => "add_registrar_key",
            ActionKind::RemoveRegistrarKey => "remove_registrar_key",
            ActionKind::Manual => "manual",
            ActionKind::Await => "await",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::LowerTtls { .. } => ActionKind::LowerTtls,
            Action::LowerSoa { .. } => ActionKind::LowerSoa,
            Action::CreateKsk { .. } => ActionKind::CreateKsk,
            Action::ActivateKsk { .. } => ActionKind::ActivateKsk,
            Action::EnableSigning => ActionKind::EnableSigning,
            Action::LowerParentDsTtl { .. } => ActionKind::LowerParentDsTtl,
            Action::PublishDs { .. } => ActionKind::PublishDs,
            Action::RaiseDsTtl { .. } => ActionKind::RaiseDsTtl,
            Action::RestoreTtls { .. } => ActionKind::RestoreTtls,
            Action::RestoreSoa { .. } => ActionKind::RestoreSoa,
            Action::RemoveDs { .. } => ActionKind::RemoveDs,
            Action::DisableSigning => ActionKind::DisableSigning,
            Action::DeactivateKsk { .. } => ActionKind::DeactivateKsk,
            Action::DeleteKsk { .. } => ActionKind::DeleteKsk,
            Action::AddRegistrarKey { .. } => ActionKind::AddRegistrarKey,
            Action::RemoveRegistrarKey { .. } => ActionKind::RemoveRegistrarKey,
            Action::Manual { .. } => ActionKind::Manual,
            Action::Await { .. } => ActionKind::Await,
        }
    }

    /// Whether the action changes the world through an API (not `manual`, not `await`).
    pub fn is_mutating(&self) -> bool {
        !matches!(self, Action::Manual { .. } | Action::Await { .. })
    }
}

/// What the engine hands a provider: one action for one zone (or registrar-only domain), with the
/// idempotency token recorded in the journal before the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionRequest {
    pub zone: ZoneName,
    /// The zone's hosted zone id when it is a Route 53 zone (none for registrar-only domains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
    pub action: Action,
    /// Idempotency token (Route 53 `CallerReference` for CreateKeySigningKey).
    pub token: String,
}

/// What a provider reports after executing an action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionResult {
    /// Route 53 change id to wait on (`GetChange` until INSYNC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// Every change id when the action took several `ChangeResourceRecordSets` batches
    /// (`change_id` is the last); the action is INSYNC when all of them are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub change_ids: Vec<String>,
    /// Route 53 Domains operation id to wait on (`GetOperationDetail` until SUCCESSFUL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Anything worth telling the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
