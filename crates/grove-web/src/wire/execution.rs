//! Executions on the wire: one run with its attempts, history pages, log
//! lines, Run Now's reply and the engine's status.

use grove_core::execution::{AttemptReason, AttemptStatus, ExecutionStatus, LogLevel, Trigger};
use grove_store::{Attempt, Execution, LogLine};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One attempt of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    pub attempt: u32,
    /// running, success, partial, failed, cancelled
    #[schema(value_type = String, example = "success")]
    pub status: AttemptStatus,
    pub started_at: Timestamp,
    #[schema(required = true)]
    pub completed_at: Option<Timestamp>,
    #[schema(required = true)]
    pub error: Option<String>,
    /// error, timeout, abandoned, cancelled
    #[schema(required = true, value_type = Option<String>, example = "timeout")]
    pub reason: Option<AttemptReason>,
}

impl From<&Attempt> for AttemptOut {
    fn from(a: &Attempt) -> Self {
        Self {
            attempt: a.attempt,
            status: a.status,
            started_at: a.started_at,
            completed_at: a.completed_at,
            error: a.error.clone(),
            reason: a.reason,
        }
    }
}

/// What a run's handler reported besides its counts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunResult {
    /// Handler-defined.
    #[schema(value_type = Object)]
    pub metadata: Value,
}

/// An execution: one run of a job config.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionOut {
    pub run_id: String,
    pub config_id: String,
    /// queued, running, success, partial, failed, cancelled, skipped
    #[schema(value_type = String, example = "success")]
    pub status: ExecutionStatus,
    /// schedule, manual, retry
    #[schema(value_type = String, example = "schedule")]
    pub trigger: Trigger,
    /// The slot, for scheduled runs.
    #[schema(required = true)]
    pub scheduled_for: Option<Timestamp>,
    /// When a scheduled run was due: its slot plus the job's jitter.
    #[schema(required = true)]
    pub due_at: Option<Timestamp>,
    /// A missed slot run after downtime.
    pub late: bool,
    /// Why it was skipped: missed, overlap.
    #[schema(required = true)]
    pub reason: Option<String>,
    pub created_at: Timestamp,
    #[schema(required = true)]
    pub started_at: Option<Timestamp>,
    #[schema(required = true)]
    pub completed_at: Option<Timestamp>,
    /// Until completion, or until now while it runs.
    #[schema(required = true)]
    pub duration_ms: Option<i64>,
    /// When a queued run may start (a retry waits out its delay).
    #[schema(required = true)]
    pub next_attempt_at: Option<Timestamp>,
    pub items_processed: u64,
    #[schema(required = true)]
    pub items_total: Option<u64>,
    pub items_succeeded: u64,
    pub items_failed: u64,
    #[schema(required = true)]
    pub error: Option<String>,
    pub config_version: i64,
    pub attempt_count: u32,
    pub max_attempts: u32,
    #[schema(required = true)]
    pub retry_of: Option<String>,
    /// The run whose end started this one (trigger `chain`).
    #[schema(required = true)]
    pub parent_run_id: Option<String>,
    /// The per-run `parameters`/`limits` merged over the config (Run Now
    /// or backfill with options; a retry reuses them).
    #[schema(required = true, value_type = Option<Object>)]
    pub overrides: Option<serde_json::Value>,
    #[schema(required = true)]
    pub actor: Option<String>,
    pub cancel_requested: bool,
    /// Empty in lists.
    pub attempts: Vec<AttemptOut>,
    pub result: RunResult,
}

fn millis_between(a: Timestamp, b: Timestamp) -> i64 {
    b.duration_since(a)
        .as_millis()
        .try_into()
        .unwrap_or(i64::MAX)
}

impl ExecutionOut {
    /// An execution as seen at `now` (a running one's duration grows).
    pub fn new(e: &Execution, now: Timestamp) -> Self {
        let duration_ms = match (e.started_at, e.completed_at) {
            (Some(s), Some(c)) => Some(millis_between(s, c)),
            (Some(s), None) => Some(millis_between(s, now)),
            _ => None,
        };
        Self {
            run_id: e.id.clone(),
            config_id: e.config_id.clone(),
            status: e.status,
            trigger: e.trigger,
            scheduled_for: e.scheduled_for,
            due_at: e.due_at.or(e.scheduled_for),
            late: e.late,
            reason: e.reason.clone(),
            created_at: e.created_at,
            started_at: e.started_at,
            completed_at: e.completed_at,
            duration_ms,
            next_attempt_at: (e.status == ExecutionStatus::Queued).then_some(e.available_at),
            items_processed: e.counts.processed,
            items_total: e.counts.total,
            items_succeeded: e.counts.succeeded,
            items_failed: e.counts.failed,
            error: e.error.clone(),
            config_version: e.config_version,
            attempt_count: e.attempt_count,
            max_attempts: e.retry.max_attempts,
            retry_of: e.retry_of.clone(),
            parent_run_id: e.parent_run_id.clone(),
            overrides: e.overrides.clone(),
            actor: e.actor.clone(),
            cancel_requested: e.cancel_requested,
            attempts: e.attempts.iter().map(AttemptOut::from).collect(),
            result: RunResult {
                metadata: e.metadata.clone(),
            },
        }
    }
}

/// History, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExecutionList {
    pub items: Vec<ExecutionOut>,
}

/// A log line of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LogLineOut {
    /// Orders lines across the store; pass the last one seen as `after`.
    pub seq: i64,
    pub attempt: u32,
    pub timestamp: Timestamp,
    /// debug, info, warn, error
    #[schema(value_type = String, example = "info")]
    pub level: LogLevel,
    pub message: String,
}

impl From<&LogLine> for LogLineOut {
    fn from(l: &LogLine) -> Self {
        Self {
            seq: l.seq,
            attempt: l.attempt,
            timestamp: l.at,
            level: l.level,
            message: l.message.clone(),
        }
    }
}

/// Log lines, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<LogLineOut>,
}

/// `POST /api/v1/jobs/{id}/backfill`: the runs queued, the slots in the
/// range and those already recorded.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackfillAccepted {
    pub run_ids: Vec<String>,
    /// Slots of the schedule in `[from, to)`, calendars applied.
    pub slots: usize,
    /// Slots that already had an execution (not run again).
    pub already_recorded: usize,
}

/// The body of a backfill: the range and per-run options.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct BackfillRequest {
    /// RFC 3339; the first slot at or after it runs.
    #[schema(value_type = String, example = "2026-11-01T00:00:00Z")]
    pub from: String,
    /// RFC 3339, not after now; slots before it run.
    #[schema(value_type = String, example = "2026-11-08T00:00:00Z")]
    pub to: String,
    /// Merged (JSON merge patch) over the config's parameters for these runs.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Value>,
    /// Merged over the config's limits for these runs.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<serde_json::Value>,
}

/// The optional body of Run Now: per-run options.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RunOptionsBody {
    /// Merged (JSON merge patch) over the config's parameters for this run.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Value>,
    /// Merged over the config's limits for this run.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<serde_json::Value>,
}

/// `{runId, status, trigger}` of a queued (or cancelled) run.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunAccepted {
    pub run_id: String,
    #[schema(value_type = String, example = "queued")]
    pub status: ExecutionStatus,
    #[schema(value_type = String, example = "manual")]
    pub trigger: Trigger,
}

impl From<&Execution> for RunAccepted {
    fn from(e: &Execution) -> Self {
        Self {
            run_id: e.id.clone(),
            status: e.status,
            trigger: e.trigger,
        }
    }
}

/// Whether the advancement job runs on legacy defaults (migration mode).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyConfiguration {
    pub in_use: bool,
    /// Since when; null when not in use.
    #[schema(required = true)]
    pub since: Option<Timestamp>,
    /// What the console shows; null when not in use.
    #[schema(required = true, example = "Using legacy configuration")]
    pub message: Option<&'static str>,
}

/// Whether the engine runs in this process, and migration mode.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    pub running: bool,
    pub legacy_configuration: LegacyConfiguration,
}

impl EngineStatus {
    pub fn new(running: bool, legacy_since: Option<Timestamp>) -> Self {
        Self {
            running,
            legacy_configuration: LegacyConfiguration {
                in_use: legacy_since.is_some(),
                since: legacy_since,
                message: legacy_since.map(|_| "Using legacy configuration"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use grove_core::retry::{BackoffStrategy, RetryPolicy};
    use grove_store::Counts;
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn execution() -> Execution {
        Execution {
            id: "run-1".to_owned(),
            config_id: "nightly".to_owned(),
            trigger: Trigger::Retry,
            status: ExecutionStatus::Queued,
            reason: None,
            late: false,
            scheduled_for: None,
            due_at: None,
            created_at: at("2026-03-01T02:00:00Z"),
            started_at: Some(at("2026-03-01T02:00:01Z")),
            completed_at: None,
            available_at: at("2026-03-01T02:01:00Z"),
            attempt_count: 1,
            max_concurrent: 1,
            config_version: 4,
            payload: json!({}),
            retry: RetryPolicy {
                max_attempts: 3,
                backoff_strategy: BackoffStrategy::Fixed,
                initial_delay_seconds: 60,
                max_delay_seconds: 60,
            },
            counts: Counts {
                processed: 10,
                total: Some(20),
                succeeded: 9,
                failed: 1,
            },
            error: Some("boom".to_owned()),
            metadata: json!({"checks": 3}),
            retry_of: Some("run-0".to_owned()),
            parent_run_id: None,
            overrides: None,
            actor: Some("alice".to_owned()),
            cancel_requested: false,
            attempts: vec![Attempt {
                attempt: 1,
                status: AttemptStatus::Failed,
                started_at: at("2026-03-01T02:00:01Z"),
                completed_at: Some(at("2026-03-01T02:00:02.250Z")),
                error: Some("boom".to_owned()),
                reason: Some(AttemptReason::Timeout),
                lease_owner: Some("node-a".to_owned()),
                lease_expires_at: None,
            }],
        }
    }

    /// Every key of an execution, spelled and nested as the API has
    /// always sent it; a renamed field fails here.
    #[test]
    fn an_execution_keeps_its_keys_and_formats() {
        let now = at("2026-03-01T02:00:03.5Z");
        let e = execution();
        assert_eq!(
            serde_json::to_value(ExecutionOut::new(&e, now)).expect("json"),
            json!({
                "runId": "run-1",
                "configId": "nightly",
                "status": "queued",
                "trigger": "retry",
                "scheduledFor": null,
                "dueAt": null,
                "late": false,
                "reason": null,
                "createdAt": "2026-03-01T02:00:00Z",
                "startedAt": "2026-03-01T02:00:01Z",
                "completedAt": null,
                "durationMs": 2500,
                "nextAttemptAt": "2026-03-01T02:01:00Z",
                "itemsProcessed": 10,
                "itemsTotal": 20,
                "itemsSucceeded": 9,
                "itemsFailed": 1,
                "error": "boom",
                "configVersion": 4,
                "attemptCount": 1,
                "maxAttempts": 3,
                "retryOf": "run-0",
                "parentRunId": null,
                "overrides": null,
                "actor": "alice",
                "cancelRequested": false,
                "attempts": [{
                    "attempt": 1,
                    "status": "failed",
                    "startedAt": "2026-03-01T02:00:01Z",
                    "completedAt": "2026-03-01T02:00:02.25Z",
                    "error": "boom",
                    "reason": "timeout",
                }],
                "result": {"metadata": {"checks": 3}},
            })
        );
    }

    #[test]
    fn a_log_line_and_a_run_reply_keep_their_keys() {
        let line = LogLine {
            seq: 7,
            attempt: 1,
            at: at("2026-03-01T02:00:01Z"),
            level: LogLevel::Warn,
            message: "slow".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(LogLineOut::from(&line)).expect("json"),
            json!({"seq": 7, "attempt": 1, "timestamp": "2026-03-01T02:00:01Z", "level": "warn", "message": "slow"})
        );
        assert_eq!(
            serde_json::to_value(RunAccepted::from(&execution())).expect("json"),
            json!({"runId": "run-1", "status": "queued", "trigger": "retry"})
        );
        assert_eq!(
            serde_json::to_value(EngineStatus::new(true, None)).expect("json"),
            json!({"running": true, "legacyConfiguration": {"inUse": false, "since": null, "message": null}})
        );
    }
}
