//! What is known: [`Observed`] (what the providers saw, DESIGN.md §3) and the [`Journal`]
//! (baselines, intents, outcomes and the instants gates depend on, DESIGN.md §5).

mod journal;
mod observed;
mod scope;

pub use journal::{
    Baseline, BaselineTtl, Direction, DirectionRecord, DomainJournal, JOURNAL_FORMAT_VERSION,
    Journal, Mark, StepOutcome, StepRecord, ZoneJournal,
};
pub use observed::{
    ChangeObs, ChangeStatus, DnssecObs, DomainObs, HostedZoneObs, KskObs, KskStatus, LiveObs,
    Observed, OperationStatus, ParentAnswer, ParentObs, ProbeError, ProbeErrorKind, RecordSetObs,
    RegistrarKeyObs, RegistrarObs, RegistrarOpObs, ServerObs, SigningStatus, SoaObs, ZoneAnswer,
    ZoneObs,
};
pub use scope::{ChangeWatch, DomainScope, RecordRead, Scope, ZoneScope};
