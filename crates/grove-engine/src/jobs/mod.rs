//! The work of the grove job types, as plain async functions over a store,
//! the job's parameters and a small [`JobContext`]: testable without the
//! scheduler, and wrapped by the engine's handlers.
//!
//! - [`advancement`] — advancement-batch.
//! - [`aggregation`] — signal-aggregation (and the freshness check advancement uses).
//! - [`digest`] — notification-digest, with the webhook sender seam.
//! - [`cleanup`] — orphan-cleanup.
//!
//! Every function processes in batches of [`JobContext::batch_size`],
//! checks [`JobContext::is_cancelled`] between batches, reports progress
//! with the total known up front, and returns a [`JobReport`] whose
//! `metadata` is the job's result metadata (documented in `docs/jobs.md`).

pub mod advancement;
pub mod aggregation;
pub mod cleanup;
pub mod digest;

use std::sync::atomic::{AtomicU64, Ordering};

use grove_core::job_config::EventType;
use grove_core::validate::Choice;
use grove_store::{JournalAppend, Store, StoreError};
use jiff::Timestamp;
use parking_lot::Mutex;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// How loud a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// What a job function can see of its execution.
pub trait JobContext: Send + Sync {
    fn run_id(&self) -> &str;
    /// The run's clock (aggregation windows and event times use it).
    fn now(&self) -> Timestamp;
    fn batch_size(&self) -> u32;
    fn is_cancelled(&self) -> bool;
    /// The number of items this run will process, once known.
    fn set_total(&self, total: u64);
    /// `n` more items processed.
    fn add_processed(&self, n: u64);
    fn log(&self, level: Level, message: &str);
}

/// What a job function returns when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    pub processed: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Stopped between batches because cancellation was requested.
    pub cancelled: bool,
    /// Why some items failed (a webhook delivery, …): the run is `partial`.
    pub partial_reason: Option<String>,
    pub metadata: Value,
}

/// Why a job function failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// Appends an event to the journal that notification digests read: the
/// one call for whatever reports `job.failed`, `job.succeeded`,
/// `job.disabled`, `config.changed` or `health.alert` (advancement-batch
/// records `advancement` itself). `subject` is what it is about (a job
/// config id); `data` carries details (run id, error, counts).
pub async fn journal_event(
    store: &dyn Store,
    event: EventType,
    subject: &str,
    message: &str,
    data: Value,
    at: Timestamp,
) -> Result<i64, StoreError> {
    store
        .journal_append(JournalAppend {
            event_type: event.name().to_owned(),
            at,
            subject: subject.to_owned(),
            message: message.to_owned(),
            data,
        })
        .await
}

/// A [`JobContext`] that records what it is told: for tests, benchmarks and
/// the CLI. `cancel_after_batches` requests cancellation after that many
/// progress reports, to test stopping mid-run.
#[derive(Debug)]
pub struct RecordingContext {
    pub run_id: String,
    pub now: Timestamp,
    pub batch_size: u32,
    pub cancel: CancellationToken,
    pub cancel_after_batches: Option<u64>,
    total: AtomicU64,
    processed: AtomicU64,
    reports: AtomicU64,
    logs: Mutex<Vec<(Level, String)>>,
}

impl RecordingContext {
    pub fn new(run_id: &str, now: Timestamp, batch_size: u32) -> Self {
        Self {
            run_id: run_id.to_owned(),
            now,
            batch_size,
            cancel: CancellationToken::new(),
            cancel_after_batches: None,
            total: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            reports: AtomicU64::new(0),
            logs: Mutex::new(Vec::new()),
        }
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    pub fn logs(&self) -> Vec<(Level, String)> {
        self.logs.lock().clone()
    }

    /// Whether some log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.logs().iter().any(|(_, m)| m.contains(text))
    }
}

impl JobContext for RecordingContext {
    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn batch_size(&self) -> u32 {
        self.batch_size.max(1)
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    fn add_processed(&self, n: u64) {
        self.processed.fetch_add(n, Ordering::Relaxed);
        let reports = self.reports.fetch_add(1, Ordering::Relaxed) + 1;
        if self
            .cancel_after_batches
            .is_some_and(|after| reports >= after)
        {
            self.cancel.cancel();
        }
    }

    fn log(&self, level: Level, message: &str) {
        match level {
            Level::Info => tracing::info!(run_id = %self.run_id, "{message}"),
            Level::Warn => tracing::warn!(run_id = %self.run_id, "{message}"),
            Level::Error => tracing::error!(run_id = %self.run_id, "{message}"),
        }
        self.logs.lock().push((level, message.to_owned()));
    }
}
