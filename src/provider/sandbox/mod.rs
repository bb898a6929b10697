//! The sandbox (issue 4, DESIGN.md §1 and §7): an embedded, simulated AWS + DNS world with a
//! virtual clock, persisted to one JSON file, in which a whole onboarding runs with no AWS
//! account and in which safety is proven: hosted zones, Route 53 changes going PENDING → INSYNC,
//! KSKs backed by KMS keys, parent zones in Route 53, the Route 53 Domains registrar with slow
//! one-at-a-time operations and its key limits, outside registrars (the sandbox plays their
//! operator), outside DNS providers (seed 003), the parent and zone name servers as DNS views that
//! pick changes up each at its own lag, and a population of caching validating resolvers that
//! count every bogus answer.
//!
//! [`SandboxProvider`] implements [`Provider`]: `observe` fills [`Observed`] exactly like the AWS
//! provider and the DNS observer; `execute` runs one action with Route 53's refusals;
//! `wait_until` advances the virtual clock. The `sandbox` command's functions are
//! [`sandbox_init`], [`sandbox_advance`], [`sandbox_show`] and [`sandbox_tamper`].

mod exec;
mod observe;
mod report;
mod resolver;
mod tamper;
mod world;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use report::{
    DomainReport, KskReport, ParentReport, REPORT_FORMAT_VERSION, RecordReport, WorldReport,
    ZoneReport,
};
pub use resolver::advance;
pub use tamper::{Tamper, tamper};
pub use world::{
    BogusCounter, BogusEvent, CachedAnswer, Change, Delegation, ExternalParent, ExternalPending,
    HostedZone, KmsKey, Ksk, KskState, OutsideDns, ParentKind, ParentServe, ParentZone, RecordSet,
    RegisteredDomain, RegistrarKey, RegistrarOp, ResolverCache, ResolverState, SandboxError,
    Settings, SigningState, Soa, WORLD_FORMAT_VERSION, World, ZoneServe, default_start,
    fake_p256_key, init_world, kms_arn_valid, sample_records, world_schema,
};

use crate::config::Desired;
use crate::model::{ActionRequest, ActionResult, Secs, Timestamp, ZoneName};
use crate::provider::{Provider, ProviderError};
use crate::state::{LiveObs, Observed};

/// The sandbox world behind the [`Provider`] trait. Every `execute` and every clock advance is
/// saved to the world file (when there is one) before it returns.
#[derive(Debug)]
pub struct SandboxProvider {
    world: Mutex<World>,
    path: Option<PathBuf>,
    /// Whether `wait_until` saves the file too (default). Off, only actions (and
    /// [`save_to`](Self::save_to)) write it: many short polling waits then cost no file writes,
    /// and a crash mid-wait leaves the world at an earlier virtual instant, never a later one.
    save_waits: bool,
}

impl SandboxProvider {
    /// Opens the world file at `path`.
    pub fn open(path: &Path) -> Result<Self, SandboxError> {
        Ok(SandboxProvider {
            world: Mutex::new(World::load(path)?),
            path: Some(path.to_path_buf()),
            save_waits: true,
        })
    }

    /// A provider over `world`, saved to `path` after every change.
    pub fn new(world: World, path: &Path) -> Self {
        SandboxProvider {
            world: Mutex::new(world),
            path: Some(path.to_path_buf()),
            save_waits: true,
        }
    }

    /// A provider over `world` that is never saved (tests, benchmarks, property tests).
    pub fn in_memory(world: World) -> Self {
        SandboxProvider {
            world: Mutex::new(world),
            path: None,
            save_waits: true,
        }
    }

    /// Whether clock advances by `wait_until` are written to the file (see the field).
    pub fn set_save_waits(&mut self, save: bool) {
        self.save_waits = save;
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the world as it is now.
    pub fn world(&self) -> World {
        self.lock().clone()
    }

    /// The report `sandbox show` prints.
    pub fn report(&self) -> WorldReport {
        WorldReport::from_world(&self.lock())
    }

    /// Bogus answers counted so far.
    pub fn bogus_answers(&self) -> u64 {
        self.lock().bogus.total
    }

    /// Changes the world with `f`; saved (when there is a file) before it is kept.
    pub fn update<R, E>(&self, f: impl FnOnce(&mut World) -> Result<R, E>) -> Result<R, E>
    where
        E: From<SandboxError>,
    {
        let mut guard = self.lock();
        let mut next = guard.clone();
        let r = f(&mut next)?;
        if let Some(p) = &self.path {
            next.save(p)?;
        }
        *guard = next;
        Ok(r)
    }

    /// Injects a hand-made fault now; returns what was done.
    pub fn tamper(&self, event: Tamper, zone: Option<&ZoneName>) -> Result<String, SandboxError> {
        self.update(|w| tamper(w, event, zone))
    }

    /// Advances the virtual clock by `d`.
    pub fn advance_by(&self, d: Secs) -> Result<(), SandboxError> {
        self.update(|w| {
            let to = d.after(w.now);
            advance(w, to)
        })
    }

    /// Writes the world to `path` now (for an [`in_memory`](Self::in_memory) provider whose
    /// many small clock advances should not each cost a file write).
    pub fn save_to(&self, path: &Path) -> Result<(), SandboxError> {
        self.lock().save(path)
    }

    /// The world file this provider saves to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The live DNS view of one zone or domain (what `probe` would see).
    pub fn live(&self, zone: &ZoneName) -> LiveObs {
        observe::live(&self.lock(), zone)
    }
}

impl From<SandboxError> for ProviderError {
    fn from(e: SandboxError) -> Self {
        ProviderError::Other(e.to_string())
    }
}

impl Provider for SandboxProvider {
    async fn observe(&self, scope: &crate::state::Scope) -> Result<Observed, ProviderError> {
        Ok(observe::observe(&self.lock(), scope))
    }

    async fn execute(&self, req: &ActionRequest) -> Result<ActionResult, ProviderError> {
        self.update(|w| exec::execute(w, req))
    }

    fn now(&self) -> Timestamp {
        self.lock().now
    }

    async fn wait_until(&self, t: Timestamp) -> Result<(), ProviderError> {
        if t <= self.now() {
            return Ok(());
        }
        if !self.save_waits {
            return advance(&mut self.lock(), t).map_err(ProviderError::from);
        }
        self.update(|w| advance(w, t)).map_err(ProviderError::from)
    }

    fn poll_interval(&self) -> Secs {
        self.lock().settings.change_propagation
    }
}

// ---------------------------------------------------------------------------------------------
// The `sandbox` command.

/// `sandbox init`: a new world from the config, saved to `path`. Refuses to replace an existing
/// file unless `force`.
pub fn sandbox_init(
    desired: &Desired,
    path: &Path,
    seed: u64,
    force: bool,
) -> Result<WorldReport, SandboxError> {
    if path.exists() && !force {
        return Err(SandboxError::Exists(path.to_path_buf()));
    }
    let w = init_world(desired, seed, default_start());
    w.save(path)?;
    Ok(WorldReport::from_world(&w))
}

/// `sandbox advance DUR`: moves the virtual clock forward, simulating everything in between.
pub fn sandbox_advance(path: &Path, dur: Secs) -> Result<WorldReport, SandboxError> {
    let mut w = World::load(path)?;
    let to = dur.after(w.now);
    advance(&mut w, to)?;
    w.save(path)?;
    Ok(WorldReport::from_world(&w))
}

/// `sandbox show`: the world's report (render with [`WorldReport::render_human`] or serde).
pub fn sandbox_show(path: &Path) -> Result<WorldReport, SandboxError> {
    Ok(WorldReport::from_world(&World::load(path)?))
}

/// `sandbox tamper EVENT [--zone NAME]`: injects a fault; returns what was done.
pub fn sandbox_tamper(
    path: &Path,
    event: Tamper,
    zone: Option<&str>,
) -> Result<String, SandboxError> {
    let zone = match zone {
        Some(z) => {
            Some(ZoneName::parse(z).map_err(|e| SandboxError::NoSuchZone(format!("{z} ({e})")))?)
        }
        None => None,
    };
    let mut w = World::load(path)?;
    let msg = tamper(&mut w, event, zone.as_ref())?;
    w.save(path)?;
    Ok(msg)
}
