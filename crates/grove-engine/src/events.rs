//! Live events of running executions, for server-sent events: phase
//! changes, progress and log lines, then one `end`.
//!
//! One broadcast channel per execution, created by the first publisher or
//! subscriber and dropped when the execution ends. Events are not stored:
//! a subscriber that joins late reads the stored state first (the web
//! layer does), then follows the channel.

use std::collections::HashMap;

use grove_store::{Counts, ExecutionStatus, LogLevel};
use jiff::Timestamp;
use parking_lot::Mutex;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it misses some.
const CAPACITY: usize = 256;

/// One live event of an execution. The web layer decides how it is
/// written on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// The execution moved to `status` (queued again for a retry, running
    /// attempt `attempt`).
    Phase {
        status: ExecutionStatus,
        attempt: Option<u32>,
        at: Timestamp,
    },
    Progress {
        counts: Counts,
    },
    Log {
        timestamp: Timestamp,
        level: LogLevel,
        message: String,
    },
    /// The execution ended; no events follow.
    End {
        status: ExecutionStatus,
        error: Option<String>,
    },
}

impl RunEvent {
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

/// Channels of the executions this process runs or someone watches.
#[derive(Debug, Default)]
pub(crate) struct EventHub {
    channels: Mutex<HashMap<String, broadcast::Sender<RunEvent>>>,
}

impl EventHub {
    pub(crate) fn subscribe(&self, run_id: &str) -> broadcast::Receiver<RunEvent> {
        self.channels
            .lock()
            .entry(run_id.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }

    /// Sends to current subscribers, if any.
    pub(crate) fn publish(&self, run_id: &str, event: RunEvent) {
        if let Some(tx) = self.channels.lock().get(run_id) {
            let _ = tx.send(event);
        }
    }

    /// Sends the final event and forgets the channel.
    pub(crate) fn end(&self, run_id: &str, status: ExecutionStatus, error: Option<String>) {
        if let Some(tx) = self.channels.lock().remove(run_id) {
            let _ = tx.send(RunEvent::End { status, error });
        }
    }

    /// Forgets channels nobody listens to (subscribers of runs that had
    /// already ended, or that left).
    pub(crate) fn collect(&self) {
        self.channels.lock().retain(|_, tx| tx.receiver_count() > 0);
    }
}
