//! Runs asked for by an operator: Run Now, Retry, Cancel.
//!
//! A run is queued in the store with the config as stored at that moment
//! (also when its schedule is disabled); whichever engine claims due work
//! next runs it, respecting `maxConcurrent`. Only what must happen inside
//! the running engine process is left to it: stopping a locally running
//! attempt (through [`Change::Cancel`]) and recording the outcome of a run
//! cancelled while queued.

use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_engine::EngineError;
use grove_store::{
    CancelOutcome, Change, Execution, ExecutionInsert, InsertDisposition, InsertOutcome,
    StoreError, Trigger,
};

use crate::audit::{AuditAction, Caller, Target};
use crate::{App, AppError, Runner};

/// The object type audit lines name for an execution.
const EXECUTION: &str = "execution";

impl App {
    /// Run Now: queues a manual run of the config as stored now.
    pub async fn run_now(&self, config_id: &str, by: &Caller) -> Result<Execution, AppError> {
        self.require_runner()?;
        let run = self.queue_run(config_id, Trigger::Manual, None, by).await?;
        let target = Target::object(JOB_CONFIG, config_id).versions(None, Some(run.config_version));
        self.audit(by, AuditAction::Run, target).await;
        Ok(run)
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
        let run = self
            .queue_run(&old.config_id, Trigger::Retry, Some(run_id), by)
            .await?;
        self.audit(by, AuditAction::Retry, Target::object(EXECUTION, run_id))
            .await;
        Ok(run)
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

    async fn queue_run(
        &self,
        config_id: &str,
        trigger: Trigger,
        retry_of: Option<&str>,
        by: &Caller,
    ) -> Result<Execution, AppError> {
        let obj = self
            .store
            .object_get(JOB_CONFIG, config_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("job config \"{config_id}\"")))?;
        let payload: JobConfigPayload =
            serde_json::from_value(obj.payload.clone()).map_err(|source| AppError::Unrunnable {
                config_id: config_id.to_owned(),
                source,
            })?;
        let outcome = self
            .store
            .execution_insert(ExecutionInsert {
                id: grove_engine::new_run_id(),
                config_id: config_id.to_owned(),
                trigger,
                scheduled_for: None,
                due_at: None,
                late: false,
                payload: payload.to_value(),
                config_version: obj.meta.version,
                retry: payload.retry,
                max_concurrent: payload.limits.max_concurrent,
                retry_of: retry_of.map(str::to_owned),
                actor: Some(by.name.clone()),
                disposition: InsertDisposition::Queue,
                now: self.clock.now(),
            })
            .await?;
        match outcome {
            InsertOutcome::Queued(e) | InsertOutcome::Skipped(e) => {
                self.wake(Change::Runs);
                Ok(e)
            }
            InsertOutcome::Duplicate => Err(AppError::RunRecordedTwice),
        }
    }
}
