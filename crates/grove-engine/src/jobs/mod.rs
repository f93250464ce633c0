//! The work of the grove job types, as plain async functions of the job's
//! parameters and the attempt's [`JobContext`](crate::JobContext): testable
//! without the scheduler (build the context with
//! [`JobContext::standalone`](crate::JobContext::standalone)), and
//! called by the engine's handlers.
//!
//! - [`advancement`] — advancement-batch.
//! - [`aggregation`] — signal-aggregation (and the freshness check advancement uses).
//! - [`digest`] — notification-digest, with the webhook sender seam.
//! - [`cleanup`] — orphan-cleanup.
//!
//! Every function processes in batches of the context's `batch_size`,
//! checks its cancel token between batches, reports progress
//! with the total known up front, and returns a [`JobOutcome`] whose
//! `metadata` is the job's result metadata (documented in `docs/jobs.md`),
//! or a [`JobFailure`]: [`JobFailure::Stopped`] when it stopped early
//! because cancellation was requested.

pub mod advancement;
pub mod aggregation;
pub mod cleanup;
pub mod digest;

use grove_core::job_config::EventType;
use grove_core::validate::Choice;
use grove_store::{JournalAppend, Store, StoreError};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::context::{JobFailure, JobOutcome};

/// The outcome of a job whose `processed` items all succeeded.
fn succeeded(processed: u64, metadata: Value) -> JobOutcome {
    // Live progress may count preparatory work (aggregates computed on the
    // fly); the result counts the job's own items, all of them done.
    JobOutcome {
        processed,
        total: Some(processed),
        succeeded: processed,
        failed: 0,
        metadata: object(metadata),
        partial_reason: None,
    }
}

/// A job that stopped early because cancellation was requested, after
/// `processed` items.
fn stopped(processed: u64, metadata: Value) -> JobFailure {
    JobFailure::Stopped {
        processed,
        metadata: object(metadata),
    }
}

/// Result metadata built with `json!({..})` as the map outcomes carry.
fn object(metadata: Value) -> Map<String, Value> {
    match metadata {
        Value::Object(map) => map,
        _ => Map::new(),
    }
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
