//! The server-sent events of `GET /api/v1/executions/{runId}/events`:
//! first a `snapshot` ([`super::execution::ExecutionOut`]), then one
//! [`RunEventOut`] per engine event, named by [`RunEventOut::name`]. The
//! console's live execution page reads the same stream.

use grove_core::execution::{ExecutionStatus, LogLevel};
use grove_engine::RunEvent;
use grove_store::Counts;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// Item counts a running handler reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountsOut {
    pub processed: u64,
    #[schema(required = true)]
    pub total: Option<u64>,
    pub succeeded: u64,
    pub failed: u64,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        Self {
            processed: c.processed,
            total: c.total,
            succeeded: c.succeeded,
            failed: c.failed,
        }
    }
}

/// One live event of an execution; `type` repeats the SSE event name.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RunEventOut {
    /// The execution moved to `status` (queued again for a retry, or
    /// running attempt `attempt`).
    Phase {
        #[schema(value_type = String, example = "running")]
        status: ExecutionStatus,
        #[schema(required = true)]
        attempt: Option<u32>,
        at: Timestamp,
    },
    Progress {
        counts: CountsOut,
    },
    Log {
        timestamp: Timestamp,
        #[schema(value_type = String, example = "info")]
        level: LogLevel,
        message: String,
    },
    /// The execution ended; no events follow.
    End {
        #[schema(value_type = String, example = "success")]
        status: ExecutionStatus,
        #[schema(required = true)]
        error: Option<String>,
    },
}

impl RunEventOut {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Phase { .. } => "phase",
            Self::Progress { .. } => "progress",
            Self::Log { .. } => "log",
            Self::End { .. } => "end",
        }
    }
}

impl From<&RunEvent> for RunEventOut {
    fn from(ev: &RunEvent) -> Self {
        match ev {
            RunEvent::Phase {
                status,
                attempt,
                at,
            } => Self::Phase {
                status: *status,
                attempt: *attempt,
                at: *at,
            },
            RunEvent::Progress { counts } => Self::Progress {
                counts: (*counts).into(),
            },
            RunEvent::Log {
                timestamp,
                level,
                message,
            } => Self::Log {
                timestamp: *timestamp,
                level: *level,
                message: message.clone(),
            },
            RunEvent::End { status, error } => Self::End {
                status: *status,
                error: error.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn live_events_keep_their_shape() {
        let at: Timestamp = "2026-03-01T02:00:00Z".parse().expect("timestamp");
        let cases = [
            (
                RunEvent::Phase {
                    status: ExecutionStatus::Running,
                    attempt: Some(2),
                    at,
                },
                json!({"type": "phase", "status": "running", "attempt": 2, "at": "2026-03-01T02:00:00Z"}),
            ),
            (
                RunEvent::Progress {
                    counts: Counts {
                        processed: 5,
                        total: None,
                        succeeded: 4,
                        failed: 1,
                    },
                },
                json!({"type": "progress", "counts": {"processed": 5, "total": null, "succeeded": 4, "failed": 1}}),
            ),
            (
                RunEvent::Log {
                    timestamp: at,
                    level: LogLevel::Info,
                    message: "hello".to_owned(),
                },
                json!({"type": "log", "timestamp": "2026-03-01T02:00:00Z", "level": "info", "message": "hello"}),
            ),
            (
                RunEvent::End {
                    status: ExecutionStatus::Failed,
                    error: Some("boom".to_owned()),
                },
                json!({"type": "end", "status": "failed", "error": "boom"}),
            ),
        ];
        for (event, expected) in cases {
            let wire = RunEventOut::from(&event);
            assert_eq!(wire.name(), event.name());
            assert_eq!(serde_json::to_value(&wire).expect("json"), expected);
        }
    }
}
