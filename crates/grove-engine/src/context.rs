//! What a handler gets for one attempt ([`JobContext`]) and what it returns
//! ([`JobOutcome`] or [`JobFailure`]).

use std::sync::Arc;
use std::time::Duration;

use grove_core::clock::Clock;
use grove_core::job_config::JobConfigPayload;
use grove_store::{Counts, LogInsert, LogLevel, Store};
use jiff::Timestamp;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::events::RunEvent;

/// Where the configuration of a run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A stored job config at this version.
    Stored { version: i64 },
    /// The legacy defaults of migration mode (`legacyFallback`).
    Legacy,
}

/// Everything a handler needs for one attempt. Cheap to clone.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub run_id: String,
    pub config_id: String,
    pub attempt: u32,
    /// The config as snapshotted when the execution was created.
    pub config: Arc<JobConfigPayload>,
    pub source: ConfigSource,
    pub batch_size: u32,
    /// When the attempt times out (`limits.timeoutSeconds` after its start).
    pub deadline: Timestamp,
    /// Cancelled on timeout, operator cancel or lost lease; check it
    /// between batches.
    pub cancel: CancellationToken,
    pub progress: Progress,
    pub log: RunLogger,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

impl JobContext {
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Time left until the deadline (zero once past it).
    pub fn remaining(&self) -> Duration {
        let left = self.deadline.duration_since(self.clock.now());
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    }
}

/// A successful attempt's result. `failed > 0` or a `partial_reason`
/// makes the execution `partial`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOutcome {
    pub processed: u64,
    pub total: Option<u64>,
    pub succeeded: u64,
    pub failed: u64,
    /// Shown as `result.metadata`.
    pub metadata: Map<String, Value>,
    /// Why the run is only partly done although no item failed (a
    /// notification that could not be delivered, …).
    pub partial_reason: Option<String>,
}

impl JobOutcome {
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            processed: self.processed,
            total: self.total,
            succeeded: self.succeeded,
            failed: self.failed,
        }
    }
}

/// A failed attempt, with an operator-readable message and, when the
/// handler got far enough to have one, its result metadata (a health
/// check's grades, say).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct JobFailure {
    pub message: String,
    pub metadata: Map<String, Value>,
}

impl JobFailure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            metadata: Map::new(),
        }
    }

    pub fn with_metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = metadata;
        self
    }
}

impl From<String> for JobFailure {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for JobFailure {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// Reports item counts; each report is a live event and is stored with
/// the next heartbeat.
#[derive(Debug, Clone)]
pub struct Progress {
    counts: Arc<Mutex<Counts>>,
    run_id: String,
    shared: Arc<Shared>,
}

impl Progress {
    pub(crate) fn new(run_id: &str, shared: Arc<Shared>) -> Self {
        Self {
            counts: Arc::default(),
            run_id: run_id.to_owned(),
            shared,
        }
    }

    fn update(&self, f: impl FnOnce(&mut Counts)) {
        let counts = {
            let mut c = self.counts.lock();
            f(&mut c);
            *c
        };
        self.shared
            .events
            .publish(&self.run_id, RunEvent::Progress { counts });
    }

    pub fn set_total(&self, total: u64) {
        self.update(|c| c.total = Some(total));
    }

    /// Adds a processed batch: `succeeded + failed` items.
    pub fn add(&self, succeeded: u64, failed: u64) {
        self.update(|c| {
            c.succeeded += succeeded;
            c.failed += failed;
            c.processed += succeeded + failed;
        });
    }

    pub fn snapshot(&self) -> Counts {
        *self.counts.lock()
    }
}

/// Log lines of an attempt: stored with the execution (flushed with each
/// heartbeat and at the end), sent live, and emitted to tracing with the
/// job and run ids.
#[derive(Debug, Clone)]
pub struct RunLogger {
    run_id: String,
    config_id: String,
    attempt: u32,
    buffer: Arc<Mutex<Vec<LogInsert>>>,
    shared: Arc<Shared>,
}

impl RunLogger {
    pub(crate) fn new(run_id: &str, config_id: &str, attempt: u32, shared: Arc<Shared>) -> Self {
        Self {
            run_id: run_id.to_owned(),
            config_id: config_id.to_owned(),
            attempt,
            buffer: Arc::default(),
            shared,
        }
    }

    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        let message = message.into();
        let at = self.shared.clock.now();
        match level {
            LogLevel::Debug => {
                tracing::debug!(job = %self.config_id, run = %self.run_id, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(job = %self.config_id, run = %self.run_id, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(job = %self.config_id, run = %self.run_id, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(job = %self.config_id, run = %self.run_id, "{message}")
            }
        }
        self.shared.events.publish(
            &self.run_id,
            RunEvent::Log {
                timestamp: at,
                level,
                message: message.clone(),
            },
        );
        self.buffer.lock().push(LogInsert {
            execution_id: self.run_id.clone(),
            attempt: self.attempt,
            at,
            level,
            message,
        });
    }

    pub fn info(&self, message: impl Into<String>) {
        self.log(LogLevel::Info, message);
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.log(LogLevel::Warn, message);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.log(LogLevel::Error, message);
    }

    /// Stores buffered lines; on a store error they are kept for the next try.
    pub(crate) async fn flush(&self) {
        let lines = std::mem::take(&mut *self.buffer.lock());
        if lines.is_empty() {
            return;
        }
        if let Err(e) = self.shared.store.log_append(lines.clone()).await {
            tracing::warn!(run = %self.run_id, error = %e, "could not store log lines; will retry");
            let mut buf = self.buffer.lock();
            let newer = std::mem::replace(&mut *buf, lines);
            buf.extend(newer);
        }
    }
}
