//! What a handler gets for one attempt ([`JobContext`]) and what it returns
//! ([`JobOutcome`] or [`JobFailure`]).

use std::sync::Arc;
use std::time::Duration;

use grove_core::clock::Clock;
use grove_core::job_config::{JobConfigPayload, JobType};
use grove_store::{Counts, LogInsert, LogLevel, Store, StoreError};
use jiff::Timestamp;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::events::{EventHub, RunEvent};

/// Where the configuration of a run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A stored job config at this version.
    Stored { version: i64 },
    /// The legacy defaults of migration mode (`legacyFallback`).
    Legacy,
    /// Given by whoever built a [`JobContext::standalone`] (a test, a
    /// benchmark): not read from the store.
    Standalone,
}

/// Everything a handler needs for one attempt. Cheap to clone.
///
/// The engine builds one per attempt; tests, benchmarks and tools that call
/// the job functions of [`crate::jobs`] directly build one with
/// [`JobContext::standalone`].
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The execution: with `attempt`, the key of this attempt.
    pub run_id: String,
    pub config_id: String,
    /// The slot this run is for: the scheduled or backfilled instant, or
    /// the parent's slot for a chained run; `None` for Run Now and
    /// retries. With `config_id` it names the work, so an effect on an
    /// outside system can be made idempotent (see docs/jobs.md).
    pub scheduled_for: Option<Timestamp>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The fencing token of this attempt's lease: it grows every time the
    /// run's lease passes to a new holder (each grant is a new attempt,
    /// so today it equals `attempt`). An outside system that keeps the
    /// highest term it has seen per run id can refuse a stale holder.
    pub lease_term: u64,
    /// The config as snapshotted when the execution was created.
    pub config: Arc<JobConfigPayload>,
    pub source: ConfigSource,
    /// Items per batch; at least 1.
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
    /// A context outside the engine: attempt 1 of run `run_id`, no
    /// deadline, nobody listening to its live events. Its log lines and
    /// progress stay in memory for the caller to read
    /// ([`RunLogger::lines`], [`Progress::snapshot`]). Its `config_id` is
    /// the run id; set it where a job keeps state per config (the digest
    /// cursor of notification-digest). Its `config` is a stand-in, the
    /// default `advancement-batch` config with this batch size: the job
    /// functions take their parameters as an argument.
    pub fn standalone(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        run_id: &str,
        batch_size: u32,
    ) -> Self {
        let events = Arc::new(EventHub::default());
        let mut config = JobConfigPayload::default_for(JobType::AdvancementBatch);
        config.limits.batch_size = batch_size;
        Self {
            run_id: run_id.to_owned(),
            config_id: run_id.to_owned(),
            scheduled_for: None,
            attempt: 1,
            lease_term: 1,
            config: Arc::new(config),
            source: ConfigSource::Standalone,
            batch_size: batch_size.max(1),
            deadline: Timestamp::MAX,
            cancel: CancellationToken::new(),
            progress: Progress::new(run_id, events.clone()),
            log: RunLogger::new(run_id, run_id, 1, store.clone(), clock.clone(), events),
            store,
            clock,
        }
    }

    /// The instant period-based jobs compute as of: the slot when the run
    /// has one (a backfilled run computes its windows as they were then),
    /// else now.
    pub fn as_of(&self) -> Timestamp {
        self.scheduled_for.unwrap_or_else(|| self.clock.now())
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Time left until the deadline (zero once past it).
    pub fn remaining(&self) -> Duration {
        let left = self.deadline.duration_since(self.clock.now());
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    }

    /// Requests cancellation once the job has reported `batches` batches
    /// of progress: lets a test stop a job at a known point.
    pub fn cancel_after_batches(self, batches: u64) -> Self {
        self.progress.cancel_after(batches, self.cancel.clone());
        self
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

/// Why an attempt failed. Its text is the execution's error.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// The job could not do its work (parameters it cannot use, checks
    /// at or above their alert threshold, …), with its result metadata
    /// when it got far enough to have one (a health check's grades, say).
    #[error("{message}")]
    Failed {
        message: String,
        metadata: Map<String, Value>,
    },
    /// The store failed under the job.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The job saw its cancel token between batches and stopped early,
    /// with the metadata of the work done so far. The executor records
    /// the attempt as cancelled or timed out, whichever fired the token.
    #[error("stopped after {processed} items: cancellation was requested")]
    Stopped {
        processed: u64,
        metadata: Map<String, Value>,
    },
}

impl JobFailure {
    /// A failure described by `message`, without metadata.
    pub fn new(message: impl Into<String>) -> Self {
        Self::Failed {
            message: message.into(),
            metadata: Map::new(),
        }
    }

    /// A handler given the parameters of another job type (a corrupt
    /// snapshot).
    pub fn wrong_parameters(job_type: JobType) -> Self {
        Self::new(format!(
            "the {job_type} handler was given parameters of another job type"
        ))
    }

    /// The result metadata the job had when it failed (empty if none).
    pub fn into_metadata(self) -> Map<String, Value> {
        match self {
            Self::Failed { metadata, .. } | Self::Stopped { metadata, .. } => metadata,
            Self::Store(_) => Map::new(),
        }
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
    state: Arc<Mutex<ProgressState>>,
    run_id: String,
    events: Arc<EventHub>,
}

#[derive(Debug, Default)]
struct ProgressState {
    counts: Counts,
    /// Batches reported with [`Progress::add`].
    batches: u64,
    /// Cancelled once `batches` reaches the number (see
    /// [`JobContext::cancel_after_batches`]).
    cancel_after: Option<(u64, CancellationToken)>,
}

impl Progress {
    pub(crate) fn new(run_id: &str, events: Arc<EventHub>) -> Self {
        Self {
            state: Arc::default(),
            run_id: run_id.to_owned(),
            events,
        }
    }

    fn update(&self, batch: bool, f: impl FnOnce(&mut Counts)) {
        let counts = {
            let mut state = self.state.lock();
            f(&mut state.counts);
            if batch {
                state.batches += 1;
                if let Some((after, cancel)) = &state.cancel_after
                    && state.batches >= *after
                {
                    cancel.cancel();
                }
            }
            state.counts
        };
        self.events
            .publish(&self.run_id, RunEvent::Progress { counts });
    }

    fn cancel_after(&self, batches: u64, cancel: CancellationToken) {
        self.state.lock().cancel_after = Some((batches, cancel));
    }

    pub fn set_total(&self, total: u64) {
        self.update(false, |c| c.total = Some(total));
    }

    /// Adds a processed batch: `succeeded + failed` items.
    pub fn add(&self, succeeded: u64, failed: u64) {
        self.update(true, |c| {
            c.succeeded += succeeded;
            c.failed += failed;
            c.processed += succeeded + failed;
        });
    }

    pub fn snapshot(&self) -> Counts {
        self.state.lock().counts
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
    /// Lines not stored yet.
    buffer: Arc<Mutex<Vec<LogInsert>>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    events: Arc<EventHub>,
}

impl RunLogger {
    pub(crate) fn new(
        run_id: &str,
        config_id: &str,
        attempt: u32,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        events: Arc<EventHub>,
    ) -> Self {
        Self {
            run_id: run_id.to_owned(),
            config_id: config_id.to_owned(),
            attempt,
            buffer: Arc::default(),
            store,
            clock,
            events,
        }
    }

    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        let message = message.into();
        let at = self.clock.now();
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
        self.events.publish(
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

    /// The lines not stored yet: in a [`JobContext::standalone`], which
    /// never stores them, every line logged.
    pub fn lines(&self) -> Vec<LogInsert> {
        self.buffer.lock().clone()
    }

    /// Takes the lines not stored yet, for a caller that stores them with
    /// something else (the attempt's outcome); see [`Self::put_back`].
    pub(crate) fn take(&self) -> Vec<LogInsert> {
        std::mem::take(&mut *self.buffer.lock())
    }

    /// Returns lines [`Self::take`] took that could not be stored, ahead of
    /// any logged since.
    pub(crate) fn put_back(&self, lines: Vec<LogInsert>) {
        let mut buf = self.buffer.lock();
        let newer = std::mem::replace(&mut *buf, lines);
        buf.extend(newer);
    }

    /// Stores buffered lines; on a store error they are kept for the next try.
    pub(crate) async fn flush(&self) {
        let lines = std::mem::take(&mut *self.buffer.lock());
        if lines.is_empty() {
            return;
        }
        if let Err(e) = self.store.log_append(lines.clone()).await {
            tracing::warn!(run = %self.run_id, error = %e, "could not store log lines; will retry");
            let mut buf = self.buffer.lock();
            let newer = std::mem::replace(&mut *buf, lines);
            buf.extend(newer);
        }
    }
}
