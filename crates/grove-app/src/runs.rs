//! Runs asked for by an operator: Run Now (with per-run options), Retry,
//! Cancel and Backfill.
//!
//! A run is queued in the store with the config as stored at that moment
//! (also when its schedule is disabled); whichever engine claims due work
//! next runs it, respecting `maxConcurrent`. Only what must happen inside
//! the running engine process is left to it: stopping a locally running
//! attempt (through [`Change::Cancel`]) and recording the outcome of a run
//! cancelled while queued.

use grove_core::job_config::JobConfigPayload;
use grove_core::merge_patch;
use grove_core::plan::JobPlan;
use grove_core::registry::JOB_CONFIG;
use grove_core::validate::{Checker, Problem};
use grove_engine::EngineError;
use grove_store::{
    CancelOutcome, Change, Execution, ExecutionInsert, InsertDisposition, InsertOutcome,
    StoreError, Trigger,
};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::audit::{AuditAction, Caller, Target};
use crate::{App, AppError, Runner};

/// The object type audit lines name for an execution.
const EXECUTION: &str = "execution";

/// Most slots one backfill may queue.
pub const MAX_BACKFILL_SLOTS: usize = 1_000;

/// Per-run options, `{"parameters"?: {…}, "limits"?: {…}}`: merged (JSON
/// merge patch) over the config's payload for one run and validated as a
/// whole against its job type. The execution records them; Retry reuses
/// them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOptions {
    overrides: Option<Value>,
}

/// The keys per-run options may set.
const OVERRIDABLE: &[&str] = &["parameters", "limits"];

impl RunOptions {
    /// No options: the config as stored.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads the options from a request body (other keys of it, such as a
    /// backfill's `from` and `to`, are left to the caller: `others`).
    /// Problems point into the body.
    pub fn from_body(body: &Value, others: &[&str]) -> Result<Self, Vec<Problem>> {
        let Some(map) = body.as_object() else {
            return Err(vec![Problem::new("", "must be a JSON object")]);
        };
        let mut problems = Vec::new();
        let mut overrides = Map::new();
        for (key, value) in map {
            if OVERRIDABLE.contains(&key.as_str()) {
                if value.is_object() {
                    overrides.insert(key.clone(), value.clone());
                } else {
                    problems.push(Problem::new(
                        format!("/{key}"),
                        "must be an object of fields to change for this run",
                    ));
                }
            } else if !others.contains(&key.as_str()) {
                let mut known: Vec<&str> = others.to_vec();
                known.extend_from_slice(OVERRIDABLE);
                problems.push(Problem::new(
                    format!("/{key}"),
                    format!("is not a field here (known: {})", known.join(", ")),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            overrides: (!overrides.is_empty()).then_some(Value::Object(overrides)),
        })
    }

    /// What an earlier execution ran with (for Retry).
    pub fn recorded(overrides: Option<Value>) -> Self {
        Self { overrides }
    }

    pub fn overrides(&self) -> Option<&Value> {
        self.overrides.as_ref()
    }

    /// The payload one run uses: `stored` with the options merged over it,
    /// validated; problems point into the options (`/parameters/x`).
    fn apply(&self, stored: &JobConfigPayload) -> Result<JobConfigPayload, AppError> {
        let Some(overrides) = &self.overrides else {
            return Ok(stored.clone());
        };
        let mut merged = stored.to_value();
        merge_patch::apply(&mut merged, overrides);
        let mut c = Checker::new();
        let decoded = JobConfigPayload::decode(&merged, Some(&stored.display_name), &mut c);
        let problems: Vec<Problem> = c
            .into_problems()
            .into_iter()
            .map(|p| {
                let pointer = p
                    .pointer
                    .strip_prefix("/payload")
                    .unwrap_or(&p.pointer)
                    .to_owned();
                Problem::new(pointer, p.message)
            })
            .collect();
        match decoded {
            Some(payload) if problems.is_empty() => Ok(payload),
            _ => Err(AppError::Validation(problems)),
        }
    }
}

/// What a backfill queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Backfill {
    /// The executions queued, oldest slot first.
    pub runs: Vec<Execution>,
    /// Slots of the schedule in the range (calendars applied).
    pub slots: usize,
    /// Slots that already had an execution, not run again.
    pub already_recorded: usize,
}

impl App {
    /// Run Now: queues a manual run of the config as stored now.
    pub async fn run_now(&self, config_id: &str, by: &Caller) -> Result<Execution, AppError> {
        self.run_with(config_id, &RunOptions::none(), by).await
    }

    /// Run Now with per-run options merged over the stored config; refused
    /// (nothing queued) when the merged payload is not valid.
    pub async fn run_with(
        &self,
        config_id: &str,
        options: &RunOptions,
        by: &Caller,
    ) -> Result<Execution, AppError> {
        self.require_runner()?;
        self.queue_run(config_id, Trigger::Manual, None, options, by)
            .await
    }

    /// Reruns a finished execution as a new one (trigger `retry`) with the
    /// config as stored now; refused while it is queued or running.
    pub async fn retry(&self, run_id: &str, by: &Caller) -> Result<Execution, AppError> {
        self.require_runner()?;
        let old = self
            .store
            .execution_get(run_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("execution \"{run_id}\"")))?;
        if !old.status.is_final() {
            return Err(AppError::NotFinished {
                run_id: run_id.to_owned(),
                status: old.status,
            });
        }
        let options = RunOptions::recorded(old.overrides.clone());
        self.queue_run(&old.config_id, Trigger::Retry, Some(run_id), &options, by)
            .await
    }

    /// Cancels a queued execution at once, or asks a running one to stop
    /// (its handler is cancelled, then aborted after the grace period);
    /// refused when it has already ended. The answer is the execution as
    /// the store left it: final when it was queued, still running otherwise.
    pub async fn cancel(&self, run_id: &str, by: &Caller) -> Result<Execution, AppError> {
        self.require_runner()?;
        let now = self.clock.now();
        let outcome = match self.store.execution_cancel(run_id, now).await {
            Err(StoreError::NotFound) => {
                return Err(AppError::not_found(format!("execution \"{run_id}\"")));
            }
            other => other?,
        };
        let cancelled = match outcome {
            CancelOutcome::Cancelled(e) => {
                self.engine.queued_run_cancelled(&e).await;
                e
            }
            CancelOutcome::Requested(e) => {
                self.wake(Change::Cancel(run_id.to_owned()));
                e
            }
            CancelOutcome::AlreadyFinal(e) => {
                return Err(AppError::AlreadyEnded {
                    run_id: run_id.to_owned(),
                    status: e.status,
                });
            }
        };
        self.audit(by, AuditAction::Cancel, Target::object(EXECUTION, run_id))
            .await;
        Ok(cancelled)
    }

    /// Refuses runs nobody would carry out: an app meant to run them in
    /// this process, with no engine here.
    fn require_runner(&self) -> Result<(), AppError> {
        match self.runner {
            Runner::ThisProcess if !self.engine.is_attached() => {
                Err(EngineError::NotRunning.into())
            }
            _ => Ok(()),
        }
    }

    /// Backfill: one execution (trigger `backfill`) per slot of the job's
    /// schedule in `[from, to)`, calendars applied and no jitter, with the
    /// options merged over the config; slots that already have an
    /// execution are counted, not run again. Works whether or not the
    /// schedule is enabled; the runs queue behind `maxConcurrent`.
    pub async fn backfill(
        &self,
        config_id: &str,
        from: Timestamp,
        to: Timestamp,
        options: &RunOptions,
        by: &Caller,
    ) -> Result<Backfill, AppError> {
        self.require_runner()?;
        let now = self.clock.now();
        if from >= to {
            return Err(AppError::Validation(vec![Problem::new(
                "/to",
                format!("must be after from ({from})"),
            )]));
        }
        if to > now {
            return Err(AppError::Validation(vec![Problem::new(
                "/to",
                format!("must not be after now ({now}): backfill runs slots that have passed"),
            )]));
        }
        let (version, stored) = self.runnable(config_id).await?;
        let payload = options.apply(&stored)?;
        let calendars = self.calendars().await?;
        let Some(plan) = JobPlan::new(config_id, &stored.schedule, &calendars) else {
            return Err(AppError::Validation(vec![Problem::new(
                "/from",
                "the job's schedule cannot be evaluated",
            )]));
        };
        let (slots, _excluded) = plan.slots_between(from, to, MAX_BACKFILL_SLOTS);
        if slots.len() > MAX_BACKFILL_SLOTS {
            return Err(AppError::Validation(vec![Problem::new(
                "/from",
                format!(
                    "the range holds more than {MAX_BACKFILL_SLOTS} slots of this schedule: start later or split it"
                ),
            )]));
        }
        let inserts = slots
            .iter()
            .map(|slot| ExecutionInsert {
                id: grove_engine::new_run_id(),
                config_id: config_id.to_owned(),
                trigger: Trigger::Backfill,
                scheduled_for: Some(*slot),
                due_at: None,
                late: false,
                payload: payload.to_value(),
                config_version: version,
                retry: payload.retry,
                max_concurrent: payload.limits.max_concurrent,
                retry_of: None,
                parent_run_id: None,
                overrides: options.overrides().cloned(),
                actor: Some(by.name.clone()),
                disposition: InsertDisposition::Queue,
                now,
            })
            .collect();
        let target = Target::object(JOB_CONFIG, config_id).versions(None, Some(version));
        let line = self.audit_line(by, AuditAction::Backfill, target);
        let outcomes = self
            .store
            .execution_insert_audited(inserts, vec![line])
            .await?;
        let mut runs = Vec::new();
        let mut already_recorded = 0;
        for outcome in outcomes {
            match outcome {
                InsertOutcome::Queued(e) | InsertOutcome::Skipped(e) => runs.push(e),
                // Only an insert that asks to start its runs starts them.
                InsertOutcome::Started(c) => runs.push(c.execution),
                InsertOutcome::Duplicate => already_recorded += 1,
            }
        }
        if !runs.is_empty() {
            self.wake(Change::Runs);
        }
        Ok(Backfill {
            runs,
            slots: slots.len(),
            already_recorded,
        })
    }

    /// The stored config of a job and its version, if it can run.
    async fn runnable(&self, config_id: &str) -> Result<(i64, JobConfigPayload), AppError> {
        let obj = self
            .read_config(config_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("job config \"{config_id}\"")))?;
        let payload: JobConfigPayload =
            serde::Deserialize::deserialize(&obj.payload).map_err(|source| {
                AppError::Unrunnable {
                    config_id: config_id.to_owned(),
                    source,
                }
            })?;
        Ok((obj.meta.version, payload))
    }

    /// Queues a manual run (a retry of `retry_of`, if given) with its
    /// audit line.
    async fn queue_run(
        &self,
        config_id: &str,
        trigger: Trigger,
        retry_of: Option<&str>,
        options: &RunOptions,
        by: &Caller,
    ) -> Result<Execution, AppError> {
        let (version, stored) = self.runnable(config_id).await?;
        let payload = options.apply(&stored)?;
        let line = match retry_of {
            Some(run_id) => {
                self.audit_line(by, AuditAction::Retry, Target::object(EXECUTION, run_id))
            }
            None => {
                let target = Target::object(JOB_CONFIG, config_id).versions(None, Some(version));
                self.audit_line(by, AuditAction::Run, target)
            }
        };
        let outcome = self
            .insert_run(
                ExecutionInsert {
                    id: grove_engine::new_run_id(),
                    config_id: config_id.to_owned(),
                    trigger,
                    scheduled_for: None,
                    due_at: None,
                    late: false,
                    payload: payload.to_value(),
                    config_version: version,
                    retry: payload.retry,
                    max_concurrent: payload.limits.max_concurrent,
                    retry_of: retry_of.map(str::to_owned),
                    parent_run_id: None,
                    overrides: options.overrides().cloned(),
                    actor: Some(by.name.clone()),
                    disposition: InsertDisposition::Queue,
                    now: self.clock.now(),
                },
                line,
            )
            .await?;
        match outcome {
            InsertOutcome::Queued(e) | InsertOutcome::Skipped(e) => {
                self.wake(Change::Runs);
                Ok(e)
            }
            InsertOutcome::Started(c) => Ok(c.execution),
            InsertOutcome::Duplicate => Err(AppError::RunRecordedTwice),
        }
    }
}
