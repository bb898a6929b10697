//! What one observation pass covers: [`Scope`], built by the planner (`plan::scope`) from the
//! config, the journal and `--zone`. Providers observe exactly the zones and domains it lists,
//! ask about exactly the change and operation ids it names, and never read the config
//! themselves. It also says how much of each hosted zone must be read afresh
//! ([`RecordRead`]): the whole record listing, or only what a provider cannot know from the
//! changes it made itself.

use serde::Serialize;

use crate::config::{DnsOverride, Trust};
use crate::model::ZoneName;

/// Every zone and registrar-only domain one observation covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub zones: Vec<ZoneScope>,
    pub domains: Vec<DomainScope>,
    pub records: RecordRead,
}

/// How much of a hosted zone an observation reads again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum RecordRead {
    /// `GetHostedZone` and every record set: someone else may have changed the zone (start of a
    /// run, a saved plan to check, a drift check).
    #[default]
    Full,
    /// The provider's last full read of this run, followed through the changes it sent since
    /// (a zone it has not read in full yet, or whose last change failed part-way, is read in
    /// full). What the provider cannot know — `GetChange` status, `GetDNSSEC`, the parent, the
    /// live DNS — is read every time.
    Follow,
}

/// One hosted zone to observe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneScope {
    pub name: ZoneName,
    /// From the config; `None` means "look the zone up by name".
    pub hosted_zone_id: Option<String>,
    /// Where its DS lives (from the config, or for a zone only the journal remembers, the DS
    /// target its steps used); `None` when nothing is known.
    pub trust: Option<Trust>,
    /// Where to send DNS probes instead of discovering servers.
    pub dns: DnsOverride,
    /// Route 53 changes the journal's outcomes hold.
    pub changes: Vec<ChangeWatch>,
    /// Route 53 Domains operations the journal's outcomes hold.
    pub operations: Vec<String>,
}

/// A change an executed step made: its id as the journal holds it, and every batch id (an
/// action of several `ChangeResourceRecordSets` batches is INSYNC only when all of them are).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeWatch {
    pub id: String,
    /// Bare ids (`C…`), the main one included.
    pub batches: Vec<String>,
}

/// One registrar-only domain (seed 003) to observe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DomainScope {
    pub name: ZoneName,
    pub dns: DnsOverride,
    pub operations: Vec<String>,
}

impl Scope {
    pub fn zone(&self, name: &ZoneName) -> Option<&ZoneScope> {
        self.zones.iter().find(|z| &z.name == name)
    }

    pub fn domain(&self, name: &ZoneName) -> Option<&DomainScope> {
        self.domains.iter().find(|d| &d.name == name)
    }

    /// The same scope with a different record read.
    pub fn with_records(mut self, records: RecordRead) -> Self {
        self.records = records;
        self
    }
}
