//! The [`Journal`]: what the tool remembers between runs (DESIGN.md §5). Baselines (what destroy
//! and rollback restore), every step's write-ahead intent with its idempotency token and its
//! outcome, and the instants that time gates are computed from. The planner reads it; only the
//! engine writes it (atomically, under a lock).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Action, ActionResult, RecordRef, Timestamp, Ttl, ZoneName};

pub const JOURNAL_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Journal {
    pub format_version: u32,
    /// Random id fixed when the journal is created; a plan made against another lineage is refused.
    pub lineage: String,
    /// Incremented by every write; a saved plan made at another serial is stale.
    pub serial: u64,
    #[serde(default)]
    pub zones: BTreeMap<ZoneName, ZoneJournal>,
    #[serde(default)]
    pub domains: BTreeMap<ZoneName, DomainJournal>,
}

impl Journal {
    pub fn new(lineage: impl Into<String>) -> Self {
        Journal {
            format_version: JOURNAL_FORMAT_VERSION,
            lineage: lineage.into(),
            serial: 0,
            zones: BTreeMap::new(),
            domains: BTreeMap::new(),
        }
    }

    /// `--fresh-journal`: an entry for each of `zones` the journal has none for, stamped `now`,
    /// so that the planner stops refusing a zone whose DNSSEC history it does not hold (PLAN017)
    /// and plans it with every unknown at its worst.
    pub fn start_afresh<'a>(
        &mut self,
        zones: impl IntoIterator<Item = &'a ZoneName>,
        now: Timestamp,
    ) {
        for z in zones {
            self.zones.entry(z.clone()).or_insert_with(|| ZoneJournal {
                afresh_at: Some(now),
                ..ZoneJournal::default()
            });
        }
    }

    pub fn zone(&self, name: &ZoneName) -> Option<&ZoneJournal> {
        self.zones.get(name)
    }

    pub fn domain(&self, name: &ZoneName) -> Option<&DomainJournal> {
        self.domains.get(name)
    }
}

/// What the journal remembers of one hosted zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ZoneJournal {
    /// The zone as it was before the tool first changed it. Written before the first change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Instants gates are computed from, first time each condition was observed.
    #[serde(default)]
    pub marks: BTreeMap<Mark, Timestamp>,
    /// Every step run, in order: intent first (write-ahead), outcome after.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    /// The direction the zone is being taken (onboard or destroy) and since when. Manual steps
    /// count as done only when shown after the direction was last set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<DirectionRecord>,
    /// The largest DS TTL ever observed for the zone (at a parent server or in the parent API):
    /// how long a resolver may keep the DS after it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ds_ttl_seen: Option<Ttl>,
    /// When the operator told the tool to start afresh for this zone (`--fresh-journal`): the
    /// world showed DNSSEC work the journal did not hold, and every unknown is assumed the worst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub afresh_at: Option<Timestamp>,
    /// The Route 53 changes of this zone's steps (by the id the step's outcome holds) that an
    /// observation saw INSYNC, each with the first instant it did. INSYNC is final in Route 53
    /// (a change never goes back to PENDING), so later runs no longer ask `GetChange` about
    /// them: a positive observation kept, as a mark is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub insync: BTreeMap<String, Timestamp>,
}

/// Which way a zone is being taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Signed and trusted (seed 000 steps 1–3).
    Onboard,
    /// Signed, its DS taken out and kept out (`trust.ds: absent`, seed 000 step 3 rollback).
    Withdraw,
    /// Off DNSSEC (the rollbacks in reverse).
    Destroy,
}

impl Direction {
    /// The word the plan and the journal use.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Onboard => "onboard",
            Direction::Withdraw => "withdraw",
            Direction::Destroy => "destroy",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DirectionRecord {
    pub direction: Direction,
    pub since: Timestamp,
}

/// What the journal remembers of one registrar-only domain (seed 003).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DomainJournal {
    #[serde(default)]
    pub marks: BTreeMap<Mark, Timestamp>,
    /// When each registrar key (by key tag and public key) was first seen at the registrar.
    #[serde(default)]
    pub key_added_at: BTreeMap<String, Timestamp>,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<DirectionRecord>,
}

/// The original state of a zone (the rollback of every onboarding step).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Baseline {
    pub captured_at: Timestamp,
    /// Every record set's original TTL (aliases have none and are not listed).
    pub record_ttls: Vec<BaselineTtl>,
    pub soa_ttl: Ttl,
    pub soa_minimum: Ttl,
    /// The largest original TTL and the record set that has it (for gate reasons).
    pub max_ttl: Ttl,
    pub max_ttl_record: String,
    /// Whether the zone was already signing before the tool touched it.
    pub was_signing: bool,
    /// The DS TTL the parent held before the tool lowered it, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ds_ttl: Option<Ttl>,
    /// Whether the zone was already trusted before the tool touched it: signing, with a DS
    /// matching an active KSK at every parent server. Such a zone is adopted as trusted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub was_trusted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineTtl {
    pub record: RecordRef,
    pub ttl: Ttl,
}

/// Conditions whose first observation time a gate depends on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Every lowered TTL and the SOA change were INSYNC.
    PrepareInsync,
    /// Signing was enabled and INSYNC (all Route 53 servers sign).
    SigningInsync,
    /// Every parent server served a DS matching an active KSK.
    DsSeenEverywhere,
    /// The DS had been at every parent server past the margin and the NS TTLs: every
    /// validating resolver now validates the zone.
    TrustEstablished,
    /// A DS that had been seen everywhere vanished without the tool removing it (drift).
    DsLost,
    /// No parent server served any DS for the zone (after one had been seen or submitted).
    DsGoneEverywhere,
    /// Signing was disabled and INSYNC.
    SigningDisabledInsync,
    /// Every registrar key of a registrar-only domain was removed.
    KeysRemoved,
    /// The last run that saw Route 53 report a signing or KSK failure (ACTION_NEEDED,
    /// INTERNAL_FAILURE): trust is dated, and the soak counted, from after it.
    SigningFault,
}

impl Mark {
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::PrepareInsync => "prepare_insync",
            Mark::SigningInsync => "signing_insync",
            Mark::DsSeenEverywhere => "ds_seen_everywhere",
            Mark::TrustEstablished => "trust_established",
            Mark::DsLost => "ds_lost",
            Mark::DsGoneEverywhere => "ds_gone_everywhere",
            Mark::SigningDisabledInsync => "signing_disabled_insync",
            Mark::KeysRemoved => "keys_removed",
            Mark::SigningFault => "signing_fault",
        }
    }
}

/// One step as the engine ran it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepRecord {
    pub step_id: String,
    pub action: Action,
    /// Idempotency token, durable before the call.
    pub token: String,
    pub intent_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<StepOutcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepOutcome {
    pub at: Timestamp,
    /// `Ok` with the ids to wait on, or the error message.
    pub result: Result<ActionResult, String>,
    /// Set when the outcome was reconstructed by observation after a crash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconciled: bool,
}
