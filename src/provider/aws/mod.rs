//! The AWS provider: Route 53 (hosted zones, record sets, KSKs, signing, changes), Route 53
//! Domains (registrar DNSSEC keys and their operations) and KMS (pre-flight of a KSK's key),
//! through the aws-sdk crates. It owns how calls are made — one token-bucket rate limiter per
//! service shared by every zone of a run, retries with jittered back-off on throttling, 5xx and
//! timeouts, every documented refusal turned into a message with a hint, request counting in an
//! SDK interceptor — and the clock the engine waits on (the wall clock, or a virtual one in
//! tests). Observation fills [`Observed`] from the APIs only ([`AwsProvider::observe_api`]); the
//! live DNS view ([`LiveObs`](crate::state::LiveObs)) is the DNS observer's.

pub mod batch;
mod clock;
mod counter;
pub mod errors;
mod execute;
mod follow;
pub mod kms;
mod limiter;
mod observe;
pub mod records;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_route53::config::{Region, SharedInterceptor};
use aws_sdk_route53::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use rand::Rng as _;

pub use clock::Clock;
pub use counter::RequestCounter;
pub use limiter::{RateLimiter, ServiceLimiter};

use crate::model::{ActionRequest, ActionResult, Secs, Timestamp, ZoneName};
use crate::provider::{Provider, ProviderError};
use crate::state::{ChangeStatus, Observed, OperationStatus, Scope};

use errors::{Failure, classify};

/// Route 53 Domains and the KMS keys of DNSSEC KSKs live in us-east-1 whatever the default region.
pub const DNSSEC_REGION: &str = "us-east-1";

/// Per-service endpoint overrides (tests point these at emulators). `AWS_ENDPOINT_URL` and
/// `AWS_ENDPOINT_URL_ROUTE_53` etc. are honoured by the standard configuration already.
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    pub route53: Option<String>,
    pub domains: Option<String>,
    pub kms: Option<String>,
}

/// How the provider talks to AWS. `Default` is what users get.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    /// Named profile (`--profile`); `None` uses the standard chain (AWS_PROFILE, env, SSO, …).
    pub profile: Option<String>,
    /// Region (`--region`) for Route 53 signing; Domains and KMS always use us-east-1.
    pub region: Option<String>,
    /// Route 53 requests per second for the whole run: the account bucket's refill and the
    /// ceiling of each operation's adaptive bucket (`--max-rps`; Route 53's default since July
    /// 2026 is 10 per account).
    pub route53_rate: f64,
    /// Route 53 Domains requests per second.
    pub domains_rate: f64,
    /// KMS requests per second.
    pub kms_rate: f64,
    /// Tokens a Route 53 bucket may save up (1 = strictly paced; Route 53's capacity is 50).
    /// Route 53 Domains and KMS save up one second's worth.
    pub burst: u32,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Back-off of the first retry (doubled each time, full jitter) and its ceiling.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Timeout of one HTTP attempt.
    pub attempt_timeout: Duration,
    /// Zones observed at once.
    pub concurrency: usize,
    /// How often observable gates are re-checked while waiting.
    pub poll_interval: Secs,
    /// Check the KMS key (spec, usage, region, policy) before CreateKeySigningKey.
    pub kms_preflight: bool,
    pub clock: Clock,
    pub counter: RequestCounter,
    pub endpoints: Endpoints,
    /// Extra SDK interceptors on every client (tests: fault injection, emulator quirks).
    pub interceptors: Vec<SharedInterceptor>,
    /// Called with (zones done, zones in all) as each zone's observation finishes, for a
    /// progress bar (the provider itself never prints).
    pub progress: Option<Progress>,
}

/// A progress callback: `(done, total)`.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl AwsOptions {
    /// How often `--wait` re-checks the observable gates unless `--poll-interval` says otherwise.
    pub const DEFAULT_POLL_INTERVAL: Secs = Secs(15);
    /// Route 53 requests per second unless `--max-rps` says otherwise (the account default).
    pub const DEFAULT_MAX_RPS: f64 = 10.0;

    /// The Route 53 bucket capacity for a ceiling of `rps`: five seconds' worth, at most Route
    /// 53's 50 (so `--max-rps 2`, for an account shared with other tools, never bursts 50).
    pub fn burst_for(rps: f64) -> u32 {
        if rps.is_finite() && rps > 0.0 {
            // In 1..=50, so the cast is exact.
            (rps * 5.0).clamp(1.0, 50.0) as u32
        } else {
            50
        }
    }
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            profile: None,
            region: None,
            route53_rate: Self::DEFAULT_MAX_RPS,
            domains_rate: 1.0,
            kms_rate: 20.0,
            burst: Self::burst_for(Self::DEFAULT_MAX_RPS),
            max_attempts: 8,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(30),
            concurrency: 8,
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
            kms_preflight: true,
            clock: Clock::Wall,
            counter: RequestCounter::new(),
            endpoints: Endpoints::default(),
            interceptors: Vec::new(),
            progress: None,
        }
    }
}

/// The AWS services the provider calls, each with its own buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Svc {
    Route53,
    Domains,
    Kms,
}

impl Svc {
    fn name(self) -> &'static str {
        match self {
            Svc::Route53 => "Route 53",
            Svc::Domains => "Route 53 Domains",
            Svc::Kms => "KMS",
        }
    }
}

pub(crate) use follow::ZoneCache;

pub(crate) struct Inner {
    pub r53: aws_sdk_route53::Client,
    pub domains: aws_sdk_route53domains::Client,
    pub kms: aws_sdk_kms::Client,
    pub opts: AwsOptions,
    r53_limit: ServiceLimiter,
    domains_limit: ServiceLimiter,
    kms_limit: ServiceLimiter,
    /// Per bare hosted zone id: what the last full read saw, followed through this run's own
    /// changes (see `follow`); also the values a TTL-only UPSERT writes back.
    pub cache: Mutex<HashMap<String, ZoneCache>>,
    /// The last parent read per (parent hosted zone id, child zone), until a DS write.
    pub parents: Mutex<HashMap<(String, ZoneName), crate::state::ParentObs>>,
    /// Hosted zone ids found by name in this run.
    pub names: Mutex<HashMap<ZoneName, String>>,
    /// Changes already seen INSYNC, by bare id. INSYNC is final in Route 53, so a long
    /// `apply --wait` asks `GetChange` about each change until it is INSYNC and never again.
    pub insync: Mutex<HashMap<String, crate::state::ChangeObs>>,
}

/// The AWS provider. Cheap to clone (shared clients, limiters, counter and cache).
#[derive(Clone)]
pub struct AwsProvider {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for AwsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsProvider")
            .field("route53_rate", &self.inner.opts.route53_rate)
            .field("endpoints", &self.inner.opts.endpoints)
            .finish_non_exhaustive()
    }
}

impl AwsProvider {
    /// Loads the standard AWS configuration (environment, `--profile`, shared config and
    /// credentials files, SSO, `credential_process`, IMDS; `AWS_ENDPOINT_URL`) and builds the
    /// provider.
    pub async fn from_env(opts: AwsOptions) -> Result<Self, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        let sdk = loader.load().await;
        Ok(Self::from_sdk_config(&sdk, opts))
    }

    /// Builds the provider on a ready [`SdkConfig`] (tests give one with static credentials and
    /// an emulator endpoint).
    pub fn from_sdk_config(sdk: &SdkConfig, opts: AwsOptions) -> Self {
        let retry = aws_sdk_route53::config::retry::RetryConfig::disabled();
        let timeouts = aws_sdk_route53::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(opts.attempt_timeout)
            .build();
        let counting = SharedInterceptor::new(counter::CountingInterceptor(opts.counter.clone()));
        let us_east_1 = Region::new(DNSSEC_REGION);

        let mut r53 = aws_sdk_route53::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone());
        if sdk.region().is_none() {
            r53 = r53.region(us_east_1.clone());
        }
        if let Some(e) = &opts.endpoints.route53 {
            r53 = r53.endpoint_url(e);
        }
        r53.push_interceptor(counting.clone());
        for i in &opts.interceptors {
            r53.push_interceptor(i.clone());
        }

        let mut dom = aws_sdk_route53domains::config::Builder::from(sdk)
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            .region(us_east_1.clone());
        if let Some(e) = &opts.endpoints.domains {
            dom = dom.endpoint_url(e);
        }
        dom.push_interceptor(counting.clone());
        for i in &opts.interceptors {
            dom.push_interceptor(i.clone());
        }

        let mut kms = aws_sdk_kms::config::Builder::from(sdk)
            .retry_config(retry)
            .timeout_config(timeouts)
            .region(us_east_1);
        if let Some(e) = &opts.endpoints.kms {
            kms = kms.endpoint_url(e);
        }
        kms.push_interceptor(counting);
        for i in &opts.interceptors {
            kms.push_interceptor(i.clone());
        }

        AwsProvider {
            inner: Arc::new(Inner {
                r53: aws_sdk_route53::Client::from_conf(r53.build()),
                domains: aws_sdk_route53domains::Client::from_conf(dom.build()),
                kms: aws_sdk_kms::Client::from_conf(kms.build()),
                r53_limit: ServiceLimiter::new(opts.route53_rate, opts.burst),
                domains_limit: ServiceLimiter::new(
                    opts.domains_rate,
                    one_second(opts.domains_rate),
                ),
                kms_limit: ServiceLimiter::new(opts.kms_rate, one_second(opts.kms_rate)),
                opts,
                cache: Mutex::new(HashMap::new()),
                parents: Mutex::new(HashMap::new()),
                names: Mutex::new(HashMap::new()),
                insync: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Requests made so far, by API operation (every attempt counts).
    pub fn counter(&self) -> &RequestCounter {
        &self.inner.opts.counter
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.opts.clock
    }

    pub fn options(&self) -> &AwsOptions {
        &self.inner.opts
    }

    /// The Route 53 client (tests use it to set the emulator up).
    pub fn route53(&self) -> &aws_sdk_route53::Client {
        &self.inner.r53
    }

    pub fn route53domains(&self) -> &aws_sdk_route53domains::Client {
        &self.inner.domains
    }

    pub fn kms(&self) -> &aws_sdk_kms::Client {
        &self.inner.kms
    }

    /// The buckets of one service (figures for benchmarks and tests).
    pub fn limiter(&self, svc: Svc) -> &ServiceLimiter {
        match svc {
            Svc::Route53 => &self.inner.r53_limit,
            Svc::Domains => &self.inner.domains_limit,
            Svc::Kms => &self.inner.kms_limit,
        }
    }

    /// One API call: a token from the service's bucket before every attempt, retries with
    /// full-jitter exponential back-off on what is worth retrying, refusals mapped to messages.
    pub(crate) async fn call<T, E, Fut>(
        &self,
        svc: Svc,
        op: &'static str,
        f: impl Fn() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let o = &self.inner.opts;
        let mut attempt: u32 = 0;
        loop {
            let limiter = self.limiter(svc);
            limiter.acquire(op).await;
            match f().await {
                Ok(v) => {
                    limiter.succeeded(op);
                    return Ok(v);
                }
                Err(e) => match classify(svc.name(), op, e) {
                    Failure::Final(err) => return Err(err),
                    Failure::Retry {
                        code,
                        message,
                        throttled,
                    } => {
                        if throttled {
                            limiter.throttled(op);
                        }
                        attempt += 1;
                        if attempt >= o.max_attempts.max(1) {
                            return Err(ProviderError::Transient {
                                service: svc.name(),
                                operation: op.to_string(),
                                message: format!(
                                    "{code}: {message} ({attempt} attempts); AWS is throttling or unavailable, run again later"
                                ),
                            });
                        }
                        let exp = o
                            .backoff_base
                            .saturating_mul(1u32 << attempt.min(16))
                            .min(o.backoff_max);
                        let jitter = rand::rng().random_range(0.0..=1.0);
                        let d = exp.mul_f64(jitter).max(o.backoff_base / 4);
                        tokio::time::sleep(d).await;
                    }
                },
            }
        }
    }

    /// Polls `GetChange` with back-off (on the provider's clock; the first read after 1.5 s)
    /// until the change is INSYNC or `max_wait` has passed; returns the last status.
    pub async fn wait_change_insync(
        &self,
        change_id: &str,
        max_wait: Duration,
    ) -> Result<ChangeStatus, ProviderError> {
        self.wait_change(change_id, max_wait, Duration::from_millis(1500))
            .await
    }

    async fn wait_change(
        &self,
        change_id: &str,
        max_wait: Duration,
        first: Duration,
    ) -> Result<ChangeStatus, ProviderError> {
        let clock = self.clock();
        let deadline = Secs(max_wait.as_secs()).after(clock.now());
        let mut delay = first;
        loop {
            if !delay.is_zero() {
                clock.sleep(delay).await;
            }
            let c = self.get_change(change_id).await?;
            if c.status == ChangeStatus::Insync || clock.now() >= deadline {
                return Ok(c.status);
            }
            delay = (delay * 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
        }
    }

    /// Waits for several changes (the batches of one action): the last submitted first, then
    /// each earlier one, which by then is normally INSYNC at its first read. Returns whether all
    /// are INSYNC.
    pub async fn wait_changes_insync(
        &self,
        ids: &[String],
        max_wait: Duration,
    ) -> Result<bool, ProviderError> {
        let mut all = true;
        for (i, id) in ids.iter().rev().enumerate() {
            let first = if i == 0 {
                Duration::from_millis(1500)
            } else {
                Duration::ZERO
            };
            all &= self.wait_change(id, max_wait, first).await? == ChangeStatus::Insync;
        }
        Ok(all)
    }

    /// Polls `GetOperationDetail` with back-off until the registrar operation is finished or
    /// `max_wait` has passed. ERROR and FAILED come back as a refusal carrying the registry's
    /// message.
    pub async fn wait_operation(
        &self,
        operation_id: &str,
        max_wait: Duration,
    ) -> Result<OperationStatus, ProviderError> {
        let clock = self.clock();
        let deadline = Secs(max_wait.as_secs()).after(clock.now());
        let mut delay = Duration::from_secs(2);
        loop {
            let op = self.get_operation(operation_id).await?;
            match op.status {
                OperationStatus::Successful => return Ok(op.status),
                OperationStatus::Error | OperationStatus::Failed => {
                    return Err(ProviderError::Refused {
                        service: Svc::Domains.name(),
                        operation: format!("operation {operation_id} ({})", op.kind),
                        code: format!("{:?}", op.status).to_ascii_uppercase(),
                        message: op.message.unwrap_or_else(|| "no message".into()),
                        hint: Some(
                            "the registry refused the DNSSEC key change; fix what its message says and run again (the key was not changed)".into(),
                        ),
                    });
                }
                _ if clock.now() >= deadline => return Ok(op.status),
                _ => {}
            }
            clock.sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }
}

impl Provider for AwsProvider {
    async fn observe(&self, scope: &Scope) -> Result<Observed, ProviderError> {
        self.observe_api(scope).await
    }

    async fn execute(&self, req: &ActionRequest) -> Result<ActionResult, ProviderError> {
        self.execute_action(req).await
    }

    fn now(&self) -> Timestamp {
        self.inner.opts.clock.now()
    }

    async fn wait_until(&self, t: Timestamp) -> Result<(), ProviderError> {
        self.inner.opts.clock.sleep_until(t).await;
        Ok(())
    }

    fn poll_interval(&self) -> Secs {
        self.inner.opts.poll_interval
    }
}

/// `/hostedzone/Z123` → `Z123`, `/change/C123` → `C123`.
pub(crate) fn strip_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

pub(crate) fn to_timestamp(t: &aws_sdk_route53::primitives::DateTime) -> Timestamp {
    Timestamp::new(t.secs(), 0).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// One second's worth of tokens (at least one) for a bucket of `rate` per second.
fn one_second(rate: f64) -> u32 {
    if rate.is_finite() && rate >= 1.0 {
        // Clamped, so the cast is exact.
        rate.min(1000.0) as u32
    } else {
        1
    }
}
