//! The [`Provider`] abstraction: observe the world, execute one [`Action`](crate::model::Action),
//! tell the time and wait. Implementations: `sandbox` (an in-memory world with a virtual clock,
//! persisted to a file), `aws` (Route 53, Route 53 Domains, KMS) and `dns` (live DNS probes, used
//! by the AWS provider to fill [`LiveObs`](crate::state::LiveObs)). The engine is generic over this
//! trait and knows nothing of which one it drives; no provider sees the planner.

pub mod aws;
pub mod dns;
pub mod live;
pub mod sandbox;

use std::future::Future;

use crate::model::{ActionRequest, ActionResult, Timestamp};
use crate::state::{Observed, Scope};

/// A failure of a provider call. `Refused` is the world saying no (a documented API error); the
/// others are about reaching it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProviderError {
    #[error("{service} refused {operation}: {code}: {message}")]
    #[diagnostic(code(dnssec_pilot::provider::refused))]
    Refused {
        service: &'static str,
        operation: String,
        code: String,
        message: String,
        #[help]
        hint: Option<String>,
    },
    #[error("{service} {operation} failed after retries: {message}")]
    #[diagnostic(code(dnssec_pilot::provider::transient))]
    Transient {
        service: &'static str,
        operation: String,
        message: String,
    },
    #[error("{0}")]
    #[diagnostic(code(dnssec_pilot::provider::not_found))]
    NotFound(String),
    #[error("{0}")]
    #[diagnostic(code(dnssec_pilot::provider::other))]
    Other(String),
}

/// Observe + execute, with the provider's clock. Async; one action per call.
pub trait Provider {
    /// Observe exactly the zones and domains of `scope`, in one pass.
    fn observe(&self, scope: &Scope) -> impl Future<Output = Result<Observed, ProviderError>>;

    /// Execute exactly one action. Must be idempotent for the same `req.token`.
    fn execute(
        &self,
        req: &ActionRequest,
    ) -> impl Future<Output = Result<ActionResult, ProviderError>>;

    /// The provider's notion of now (the virtual clock in the sandbox).
    fn now(&self) -> Timestamp;

    /// Wait until `t` (the sandbox advances its virtual clock instead of sleeping).
    fn wait_until(&self, t: Timestamp) -> impl Future<Output = Result<(), ProviderError>>;

    /// How often observable gates are re-checked while waiting.
    fn poll_interval(&self) -> crate::model::Secs;
}
