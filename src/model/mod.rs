//! The domain's vocabulary, shared by every other module: zone names, TTLs, durations, time,
//! DNSSEC key material (DNSKEY, DS, key tags) and the [`Action`] enum through which the planner and
//! the providers meet. Nothing here does I/O.

mod action;
mod dnssec;
mod names;
mod time;

pub use action::{
    Action, ActionKind, ActionRequest, ActionResult, DsTarget, RecordRef, SoaChange, TtlChange,
};
pub use dnssec::{DigestType, Dnskey, DsRecord, KeyError, algorithm_name};
pub use names::{NameError, ZoneName};
pub use time::{DurationError, MAX_SIGNED_TTL, Secs, Timestamp, Ttl};
