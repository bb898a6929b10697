//! Command implementations that `main` dispatches to. They print nothing: each returns an
//! [`Outcome`] (the text for stdout — data only —, the text for stderr — messages —, and the exit
//! code) which `main` writes.

pub mod iam;
pub mod run;
pub mod schema;
pub mod validate;

/// What a command wants printed, and the exit code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Data for stdout (JSON, schemas).
    pub stdout: String,
    /// Messages for stderr (diagnostics, summaries).
    pub stderr: String,
    pub code: u8,
}
