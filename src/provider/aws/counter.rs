//! Request counting in an SDK interceptor: every HTTP attempt of every operation (retries
//! included), by operation name. The benchmark and the tests compare these counts with the floor.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_route53::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_route53::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Shared counts; clone freely.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Attempts per operation name (`ListResourceRecordSets`, `GetChange`, …).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn get(&self, operation: &str) -> u64 {
        self.snapshot().get(operation).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn bump(&self, op: &str) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(op.to_string())
            .or_default() += 1;
    }
}

/// The interceptor itself (installed on every client the provider builds).
#[derive(Debug)]
pub(crate) struct CountingInterceptor(pub RequestCounter);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "dnssec-pilot request counter"
    }

    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        self.0.bump(&op);
        Ok(())
    }
}
