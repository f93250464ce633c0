//! The vocabulary of executions: what state a run or an attempt is in,
//! what created a run, why an attempt did not succeed, how loud a log line
//! is. Stored as text and shown as text, with these spellings.

use crate::choice_enum;

choice_enum!(
    /// Where an execution is in its life; the last five are final.
    ExecutionStatus {
        Queued => "queued",
        Running => "running",
        Success => "success",
        Partial => "partial",
        Failed => "failed",
        Cancelled => "cancelled",
        Skipped => "skipped",
    }
);

impl ExecutionStatus {
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

choice_enum!(
    /// What created an execution.
    Trigger {
        Schedule => "schedule",
        Manual => "manual",
        Retry => "retry",
        Backfill => "backfill",
        Chain => "chain",
    }
);

choice_enum!(
    /// Where an attempt is; `running` is the only non-final state.
    AttemptStatus {
        Running => "running",
        Success => "success",
        Partial => "partial",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

choice_enum!(
    /// Why an attempt did not succeed.
    AttemptReason {
        Error => "error",
        Timeout => "timeout",
        Abandoned => "abandoned",
        Cancelled => "cancelled",
    }
);

choice_enum!(
    /// Severity of a log line.
    LogLevel { Debug => "debug", Info => "info", Warn => "warn", Error => "error" }
);

/// A new run id (UUIDv7: sortable by creation time). Every execution gets
/// its id here: scheduled, operator-requested, backfilled and chained runs.
pub fn new_run_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
