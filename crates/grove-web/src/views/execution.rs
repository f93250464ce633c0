//! An execution as the render tree and the console see it
//! ([`ExecutionView`]), found with its log and the job configuration to
//! show it with.

use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_core::render::{self, ExecutionView, LogLine};
use grove_store::Execution;

use crate::error::ApiError;
use crate::state::AppState;

/// Log lines shown with an execution (the newest of a longer log are in
/// the API).
const PAGE_LOG_LINES: u32 = 1_000;

/// The view of a stored execution.
pub fn view(e: &Execution, logs: Vec<LogLine>) -> ExecutionView {
    use grove_store::ExecutionStatus as S;
    let status = match e.status {
        S::Queued => render::ExecutionStatus::Queued,
        S::Running => render::ExecutionStatus::Running,
        S::Success => render::ExecutionStatus::Success,
        S::Partial => render::ExecutionStatus::Partial,
        S::Failed => render::ExecutionStatus::Failed,
        S::Cancelled => render::ExecutionStatus::Cancelled,
        S::Skipped => render::ExecutionStatus::Skipped,
    };
    ExecutionView {
        run_id: e.id.clone(),
        config_id: e.config_id.clone(),
        status,
        trigger: e.trigger.to_string(),
        started_at: e.started_at,
        completed_at: e.completed_at,
        items_processed: e.counts.processed,
        items_total: e.counts.total,
        errors: e.counts.failed,
        attempts: e.attempt_count.max(1),
        error: e
            .error
            .clone()
            .or_else(|| e.attempts.iter().rev().find_map(|a| a.error.clone()))
            .or_else(|| e.reason.clone().map(|r| format!("skipped: {r}"))),
        logs,
        next_attempt_at: (e.status == S::Queued && e.attempt_count >= 1).then_some(e.available_at),
        max_attempts: e.retry.max_attempts,
    }
}

/// One execution with what it is shown with.
#[derive(Debug)]
pub struct Found {
    pub view: ExecutionView,
    /// The config as stored now, or the snapshot the execution was created
    /// with when the config is gone (deleted, or the legacy job).
    pub config: JobConfigPayload,
    /// Whether `view.config_id` still names a stored job config (link it).
    pub config_exists: bool,
}

/// One execution with its log, and its job config.
pub async fn find_execution(state: &AppState, run_id: &str) -> Result<Option<Found>, ApiError> {
    let Some(e) = state.store.execution_get(run_id).await? else {
        return Ok(None);
    };
    let stored = state.store.object_get(JOB_CONFIG, &e.config_id).await?;
    let current = stored
        .as_ref()
        .and_then(|o| <JobConfigPayload as serde::Deserialize>::deserialize(&o.payload).ok());
    let config = match current {
        Some(c) => c,
        None => {
            <JobConfigPayload as serde::Deserialize>::deserialize(&e.payload).map_err(|err| {
                ApiError::Internal(format!(
                    "execution \"{run_id}\" carries a job configuration that does not decode: {err}"
                ))
            })?
        }
    };
    let logs = state
        .store
        .log_list(run_id, 0, PAGE_LOG_LINES)
        .await?
        .into_iter()
        .map(|l| LogLine {
            timestamp: l.at,
            level: l.level.to_string(),
            message: l.message,
        })
        .collect();
    Ok(Some(Found {
        view: view(&e, logs),
        config,
        config_exists: stored.is_some(),
    }))
}
