//! The apply/destroy engine (DESIGN.md §5): observe → plan → run every ready step → re-observe,
//! until converged or stopped at a closed gate (or, with `--wait`, until the gate opens: the
//! provider sleeps or, in the sandbox, advances its virtual clock).
//!
//! Every step is write-ahead: its intent and idempotency token are durable in the journal before
//! the provider call, its outcome after. An intent found without an outcome (a crash) is
//! reconciled by observing — the step is never blindly repeated: if the re-plan shows its effect
//! it is recorded as done, otherwise it runs again with the *same* token, so Route 53's
//! `CallerReference` deduplicates a KSK that was in fact created.

pub mod store;

use crate::config::Desired;
use crate::model::{Action, ActionRequest, ActionResult, Secs, Timestamp, ZoneName};
use crate::plan::{self, JournalUpdate, Mode, Plan, PlanInput, Step, StepStatus, TargetKind};
use crate::provider::{Provider, ProviderError};
use crate::state::{DirectionRecord, Journal, RecordRead, StepOutcome, StepRecord};

pub use store::{JournalStore, StoreError};

/// How long `--wait` keeps going when no `--max-wait` is given.
pub const DEFAULT_MAX_WAIT: Secs = Secs::days(90);

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EngineError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Provider(#[from] ProviderError),
    #[error("apply was not approved")]
    #[diagnostic(code(dnssec_pilot::apply::not_approved))]
    NotApproved,
    /// A fault injected by a test at a numbered point.
    #[error("injected crash at fault point {0} ({1})")]
    #[diagnostic(code(dnssec_pilot::apply::injected_crash))]
    InjectedCrash(usize, &'static str),
    #[error("the saved plan is stale: {0}")]
    #[diagnostic(
        code(dnssec_pilot::apply::stale_plan),
        help("run `dnssec-pilot plan -o FILE` again and review the new plan")
    )]
    StalePlan(String),
    /// A step's provider call failed: the run ends (never a hot loop of retries). Under `--wait`
    /// it was tried `tries` times with exponential backoff first.
    #[error("step `{step}` failed{}: {message}", if *tries > 1 { format!(" {tries} times") } else { String::new() })]
    #[diagnostic(
        code(dnssec_pilot::apply::step_failed),
        help(
            "the journal records the failure and is consistent: fix the cause named above, then run the same command again to resume"
        )
    )]
    StepFailed {
        step: String,
        message: String,
        tries: u32,
    },
}

/// How long after a full read the engine's observations follow its own changes instead of
/// reading every record set again. Values a TTL-only UPSERT writes back are never older.
pub const FOLLOW_FOR: Secs = Secs(300);

/// How many times `--wait` tries a failing step before the run ends.
pub const MAX_TRIES: u32 = 4;

/// The pause before try `n + 1` of a failing step under `--wait`: `base × 2^(n-1)`, where `base`
/// is the poll interval clamped to 1–5 s: the last of `MAX_TRIES` tries comes within a minute.
pub fn backoff(poll: Secs, failures: u32) -> Secs {
    let base = poll.0.clamp(1, 5);
    Secs(base.saturating_mul(1u64 << failures.saturating_sub(1).min(16)))
}

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub mode: Mode,
    pub only: Vec<ZoneName>,
    pub wait: bool,
    pub max_wait: Option<Secs>,
    /// `--fresh-journal`: zones in scope the journal holds nothing for are planned afresh (the
    /// worst assumed for every unknown) instead of refused (PLAN017).
    pub fresh_journal: bool,
}

/// What the engine tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// A fresh plan (the first one is what approval is asked for).
    Planned { plan: &'a Plan, first: bool },
    /// A step is about to run.
    Executing { step: &'a Step, at: Timestamp },
    /// A step ran.
    Executed {
        step: &'a Step,
        at: Timestamp,
        result: &'a Result<ActionResult, String>,
    },
    /// An interrupted step found in the journal was reconciled by observation.
    Reconciled {
        step_id: &'a str,
        effect_observed: bool,
    },
    /// Waiting for a gate.
    Waiting {
        from: Timestamp,
        until: Timestamp,
        reason: &'a str,
    },
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Nothing left to do.
    Converged { at: Timestamp },
    /// Stopped at a closed gate: run again later (or with `--wait`).
    Stopped {
        at: Timestamp,
        next_gate: Option<Timestamp>,
        reason: String,
    },
    /// Some zone needs a person's decision (an error issue in the plan); others may have moved.
    NeedsAttention { at: Timestamp, zones: Vec<ZoneName> },
}

/// A numbered place where a test may crash the engine: before and after every provider call and
/// every journal write.
pub type FaultHook<'a> = &'a dyn Fn(usize, &'static str) -> bool;

pub struct Engine<'a, P: Provider> {
    pub provider: &'a P,
    pub desired: &'a Desired,
    pub store: &'a JournalStore,
    pub options: EngineOptions,
    pub fault: Option<FaultHook<'a>>,
}

struct Faults<'a> {
    hook: Option<FaultHook<'a>>,
    n: usize,
}

impl Faults<'_> {
    fn point(&mut self, label: &'static str) -> Result<(), EngineError> {
        let i = self.n;
        self.n += 1;
        match self.hook {
            Some(h) if h(i, label) => Err(EngineError::InjectedCrash(i, label)),
            _ => Ok(()),
        }
    }
}

impl<P: Provider> Engine<'_, P> {
    /// The configured zones this run covers (`--zone` narrows them).
    fn zones_in_scope(&self) -> Vec<&ZoneName> {
        self.desired
            .zones
            .iter()
            .map(|z| &z.name)
            .filter(|n| self.options.only.is_empty() || self.options.only.contains(n))
            .collect()
    }

    /// Runs until converged, stopped or (with `wait`) the wait bound. `approve` is asked once,
    /// with the first plan, when it has steps to run.
    pub async fn run(
        &self,
        approve: &mut dyn FnMut(&Plan) -> bool,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<RunOutcome, EngineError> {
        let mut faults = Faults {
            hook: self.fault,
            n: 0,
        };
        let _lock = self.store.lock()?;
        let mut journal = self.store.load_or_new()?;
        let start = self.provider.now();
        if self.options.fresh_journal {
            journal.start_afresh(self.zones_in_scope(), start);
        }
        let max_wait = self.options.max_wait.unwrap_or(DEFAULT_MAX_WAIT);
        let mut first = true;
        // Failures of each step in this run: bounded retries, never a hot loop.
        let mut failures: std::collections::BTreeMap<String, u32> = Default::default();
        // The first observation reads every zone in full; later ones follow the run's own
        // changes (`RecordRead::Follow`) until `FOLLOW_FOR` has passed since the last full read
        // or a step failed, then read in full again (someone else may have changed a zone).
        let mut last_full: Option<Timestamp> = None;
        loop {
            let before = self.provider.now();
            let records = match last_full {
                Some(t) if Secs::between(t, before) < FOLLOW_FOR => RecordRead::Follow,
                _ => {
                    last_full = Some(before);
                    RecordRead::Full
                }
            };
            let scope =
                plan::scope(self.desired, &journal, &self.options.only).with_records(records);
            let observed = self.provider.observe(&scope).await?;
            let now = self.provider.now();
            let plan = plan::plan(PlanInput {
                desired: self.desired,
                observed: &observed,
                journal: &journal,
                now,
                mode: self.options.mode,
                only: &self.options.only,
            });
            self.reconcile(&mut journal, &plan, &mut faults, on_event)?;
            if !plan.updates.is_empty() {
                apply_updates(&mut journal, &plan.updates);
                faults.point("before journal write (updates)")?;
                self.store.save(&mut journal)?;
                faults.point("after journal write (updates)")?;
            }
            on_event(Event::Planned { plan: &plan, first });
            let ready: Vec<&Step> = plan.ready_steps().collect();
            if first && !ready.is_empty() && !approve(&plan) {
                return Err(EngineError::NotApproved);
            }
            first = false;

            if ready.is_empty() {
                let attention: Vec<ZoneName> = plan
                    .zones
                    .iter()
                    .filter(|z| {
                        z.has_errors() && z.pending().all(|s| s.status != StepStatus::Ready)
                    })
                    .map(|z| z.zone.clone())
                    .collect();
                let held: Vec<&ZoneName> = plan
                    .zones
                    .iter()
                    .filter(|z| z.held_by_errors())
                    .map(|z| &z.zone)
                    .collect();
                // Zones with an error run no step (the planner holds them): when they are all
                // that is left, waiting cannot help — a person must decide.
                let others_pending = plan
                    .zones
                    .iter()
                    .any(|z| !held.contains(&&z.zone) && z.pending().next().is_some());
                if !held.is_empty() && !others_pending {
                    return Ok(RunOutcome::NeedsAttention {
                        at: now,
                        zones: attention,
                    });
                }
                if !plan.has_changes() {
                    return Ok(if attention.is_empty() {
                        RunOutcome::Converged { at: now }
                    } else {
                        RunOutcome::NeedsAttention {
                            at: now,
                            zones: attention,
                        }
                    });
                }
                let next_gate = plan.next_gate_time();
                let reason = blocked_reason(&plan);
                if !self.options.wait {
                    return Ok(RunOutcome::Stopped {
                        at: now,
                        next_gate,
                        reason,
                    });
                }
                let poll = self.provider.poll_interval();
                let time_only = plan
                    .zones
                    .iter()
                    .filter_map(|z| z.pending().next())
                    .all(|s| {
                        s.gates
                            .iter()
                            .filter(|g| !g.satisfied)
                            .all(|g| g.kind == plan::GateKind::Time && g.not_before.is_some())
                    });
                let wake = match next_gate {
                    Some(t) if time_only && t > now => t,
                    Some(t) if t > now => t.min(poll.after(now)),
                    _ => poll.after(now),
                };
                if Secs::between(start, wake) > max_wait {
                    return Ok(RunOutcome::Stopped {
                        at: now,
                        next_gate,
                        reason: format!("{reason}; --max-wait {} reached", max_wait.human()),
                    });
                }
                on_event(Event::Waiting {
                    from: now,
                    until: wake,
                    reason: &reason,
                });
                self.provider.wait_until(wake).await?;
                continue;
            }

            let mut failed = None;
            for step in ready {
                if let Err(message) = self
                    .execute(&mut journal, &plan, step, &mut faults, on_event)
                    .await?
                {
                    let n = failures.entry(step.id.clone()).or_default();
                    *n += 1;
                    failed = Some((step.id.clone(), message, *n));
                    // A failing step ends this round: nothing after it runs on a broken premise.
                    break;
                }
            }
            if let Some((step, message, tries)) = failed {
                // The failed call may have changed a zone in part: read everything again.
                last_full = None;
                if !self.options.wait || tries >= MAX_TRIES {
                    return Err(EngineError::StepFailed {
                        step,
                        message,
                        tries,
                    });
                }
                let now = self.provider.now();
                let wake = backoff(self.provider.poll_interval(), tries).after(now);
                let reason = format!(
                    "`{step}` failed ({message}); try {} of {MAX_TRIES}",
                    tries + 1
                );
                on_event(Event::Waiting {
                    from: now,
                    until: wake,
                    reason: &reason,
                });
                self.provider.wait_until(wake).await?;
            }
        }
    }

    /// Runs the ready steps of a saved plan once, after checking it is not stale.
    pub async fn run_saved(
        &self,
        saved: &Plan,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<RunOutcome, EngineError> {
        let mut faults = Faults {
            hook: self.fault,
            n: 0,
        };
        let _lock = self.store.lock()?;
        // A plan made before the first journal write carries the lineage the journal will have.
        let mut journal = match self.store.load()? {
            Some(j) => j,
            None => Journal::new(saved.journal_lineage.clone()),
        };
        if journal.lineage != saved.journal_lineage || journal.serial != saved.journal_serial {
            return Err(EngineError::StalePlan(format!(
                "the journal changed since the plan was made (serial {} then, {} now)",
                saved.journal_serial, journal.serial
            )));
        }
        // A plan made with `--fresh-journal` was planned over the same zones started afresh.
        if self.options.fresh_journal {
            journal.start_afresh(self.zones_in_scope(), self.provider.now());
        }
        let observed = self
            .provider
            .observe(&plan::scope(self.desired, &journal, &self.options.only))
            .await?;
        let fp = plan::fingerprint(&observed, &journal, &self.options.only);
        if fp != saved.fingerprint {
            return Err(EngineError::StalePlan(
                "what AWS and the DNS hold changed since the plan was made".into(),
            ));
        }
        if !saved.updates.is_empty() {
            apply_updates(&mut journal, &saved.updates);
            self.store.save(&mut journal)?;
        }
        on_event(Event::Planned {
            plan: saved,
            first: true,
        });
        for step in saved.ready_steps() {
            if let Err(message) = self
                .execute(&mut journal, saved, step, &mut faults, on_event)
                .await?
            {
                return Err(EngineError::StepFailed {
                    step: step.id.clone(),
                    message,
                    tries: 1,
                });
            }
        }
        let now = self.provider.now();
        Ok(RunOutcome::Stopped {
            at: now,
            next_gate: None,
            reason: "the saved plan's ready steps ran; run `dnssec-pilot apply` for what follows"
                .into(),
        })
    }

    /// Intents without an outcome: a crash happened between the intent and the outcome write.
    fn reconcile(
        &self,
        journal: &mut Journal,
        plan: &Plan,
        faults: &mut Faults<'_>,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), EngineError> {
        let now = plan.created_at;
        let mut changed = false;
        let done_ids: Vec<&str> = plan
            .zones
            .iter()
            .flat_map(|z| z.steps.iter())
            .filter(|s| s.status == StepStatus::Done)
            .map(|s| s.id.as_str())
            .collect();
        let pending_ids: Vec<&str> = plan
            .zones
            .iter()
            .flat_map(|z| z.steps.iter())
            .filter(|s| s.status != StepStatus::Done)
            .map(|s| s.id.as_str())
            .collect();
        let all = journal
            .zones
            .values_mut()
            .flat_map(|z| z.steps.iter_mut())
            .chain(
                journal
                    .domains
                    .values_mut()
                    .flat_map(|d| d.steps.iter_mut()),
            );
        for rec in all.filter(|r| r.outcome.is_none()) {
            let observed_done = done_ids.contains(&rec.step_id.as_str())
                || (!pending_ids.contains(&rec.step_id.as_str())
                    && !matches!(rec.action, Action::Manual { .. }));
            rec.outcome = Some(StepOutcome {
                at: now,
                result: if observed_done {
                    Ok(ActionResult {
                        detail: Some("interrupted; its effect was observed afterwards".into()),
                        ..ActionResult::default()
                    })
                } else {
                    Err("interrupted before its effect was observed; re-planned with the same token".into())
                },
                reconciled: true,
            });
            on_event(Event::Reconciled {
                step_id: &rec.step_id,
                effect_observed: observed_done,
            });
            changed = true;
        }
        if changed {
            faults.point("before journal write (reconcile)")?;
            self.store.save(journal)?;
            faults.point("after journal write (reconcile)")?;
        }
        Ok(())
    }

    async fn execute(
        &self,
        journal: &mut Journal,
        plan: &Plan,
        step: &Step,
        faults: &mut Faults<'_>,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Result<(), String>, EngineError> {
        let kind = plan
            .zones
            .iter()
            .find(|z| z.zone == step.zone)
            .map_or(TargetKind::Zone, |z| z.kind);
        let hosted_zone_id = plan
            .zones
            .iter()
            .find(|z| z.zone == step.zone)
            .and_then(|z| z.hosted_zone_id.clone());
        // Reuse the token of an interrupted attempt at the same step: never a second KSK.
        let steps = match kind {
            TargetKind::Zone => &journal.zones.entry(step.zone.clone()).or_default().steps,
            TargetKind::Domain => &journal.domains.entry(step.zone.clone()).or_default().steps,
        };
        let token = steps
            .iter()
            .rev()
            .find(|r| r.step_id == step.id)
            .filter(|r| matches!(&r.outcome, Some(o) if o.reconciled && o.result.is_err()))
            .map(|r| r.token.clone())
            .unwrap_or_else(|| store::new_token(&step.id));
        let at = self.provider.now();
        let record = StepRecord {
            step_id: step.id.clone(),
            action: step.action.clone(),
            token: token.clone(),
            intent_at: at,
            outcome: None,
        };
        steps_mut(journal, kind, &step.zone).push(record);
        faults.point("before journal write (intent)")?;
        self.store.save(journal)?;
        faults.point("after journal write (intent)")?;

        on_event(Event::Executing { step, at });
        let req = ActionRequest {
            zone: step.zone.clone(),
            hosted_zone_id,
            action: step.action.clone(),
            token,
        };
        faults.point("before provider call")?;
        let result = self.provider.execute(&req).await.map_err(|e| e.to_string());
        faults.point("after provider call")?;
        let done_at = self.provider.now();
        if let Some(rec) = steps_mut(journal, kind, &step.zone).last_mut() {
            rec.outcome = Some(StepOutcome {
                at: done_at,
                result: result.clone(),
                reconciled: false,
            });
        }
        faults.point("before journal write (outcome)")?;
        self.store.save(journal)?;
        faults.point("after journal write (outcome)")?;
        on_event(Event::Executed {
            step,
            at: done_at,
            result: &result,
        });
        Ok(result.map(|_| ()))
    }
}

fn steps_mut<'j>(
    journal: &'j mut Journal,
    kind: TargetKind,
    zone: &ZoneName,
) -> &'j mut Vec<StepRecord> {
    match kind {
        TargetKind::Zone => &mut journal.zones.entry(zone.clone()).or_default().steps,
        TargetKind::Domain => &mut journal.domains.entry(zone.clone()).or_default().steps,
    }
}

/// What holds the plan, in one line per zone.
fn blocked_reason(plan: &Plan) -> String {
    let mut parts = Vec::new();
    for z in &plan.zones {
        if let Some(s) = z.pending().next() {
            let gate = s
                .holding_gate()
                .map_or_else(|| "the previous step".to_string(), |g| g.rule.to_string());
            let short = s.id.strip_prefix(&format!("{}/", z.zone)).unwrap_or(&s.id);
            parts.push(format!("{}: {short} waits for {gate}", z.zone));
        }
    }
    parts.join("; ")
}

/// Records the planner's facts in the journal (the only writer of marks and baselines).
pub fn apply_updates(journal: &mut Journal, updates: &[JournalUpdate]) {
    for u in updates {
        match u {
            JournalUpdate::Baseline { zone, baseline } => {
                let zj = journal.zones.entry(zone.clone()).or_default();
                if zj.baseline.is_none() {
                    zj.baseline = Some(baseline.clone());
                }
            }
            JournalUpdate::SetMark {
                zone,
                target,
                mark,
                at,
            } => match target {
                TargetKind::Zone => {
                    journal
                        .zones
                        .entry(zone.clone())
                        .or_default()
                        .marks
                        .entry(*mark)
                        .or_insert(*at);
                }
                TargetKind::Domain => {
                    journal
                        .domains
                        .entry(zone.clone())
                        .or_default()
                        .marks
                        .entry(*mark)
                        .or_insert(*at);
                }
            },
            JournalUpdate::ClearMark { zone, target, mark } => match target {
                TargetKind::Zone => {
                    journal
                        .zones
                        .entry(zone.clone())
                        .or_default()
                        .marks
                        .remove(mark);
                }
                TargetKind::Domain => {
                    journal
                        .domains
                        .entry(zone.clone())
                        .or_default()
                        .marks
                        .remove(mark);
                }
            },
            JournalUpdate::MaxDsTtl { zone, ttl } => {
                let zj = journal.zones.entry(zone.clone()).or_default();
                zj.max_ds_ttl_seen = Some(zj.max_ds_ttl_seen.map_or(*ttl, |m| m.max(*ttl)));
            }
            JournalUpdate::KeyAdded { zone, key, at } => {
                journal
                    .domains
                    .entry(zone.clone())
                    .or_default()
                    .key_added_at
                    .entry(key.clone())
                    .or_insert(*at);
            }
            JournalUpdate::ChangeInsync {
                zone,
                change_id,
                at,
            } => {
                journal
                    .zones
                    .entry(zone.clone())
                    .or_default()
                    .insync
                    .entry(change_id.clone())
                    .or_insert(*at);
            }
            JournalUpdate::Direction {
                zone,
                target,
                direction,
                at,
            } => {
                let rec = Some(DirectionRecord {
                    direction: *direction,
                    since: *at,
                });
                match target {
                    TargetKind::Zone => {
                        journal.zones.entry(zone.clone()).or_default().direction = rec
                    }
                    TargetKind::Domain => {
                        journal.domains.entry(zone.clone()).or_default().direction = rec
                    }
                }
            }
        }
    }
}
