//! The bridge between the engine and the grove job functions in
//! [`crate::jobs`]: the attempt's context seen as a [`jobs::JobContext`],
//! and a [`JobReport`] turned into the attempt's outcome.

use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs::{self, JobError, JobReport, Level};
use grove_store::LogLevel;
use jiff::Timestamp;
use serde_json::Value;

/// An attempt's context, as the job functions see it.
pub(crate) struct Attempt<'a>(pub &'a JobContext);

impl jobs::JobContext for Attempt<'_> {
    fn run_id(&self) -> &str {
        &self.0.run_id
    }

    fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    fn batch_size(&self) -> u32 {
        self.0.batch_size.max(1)
    }

    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    fn set_total(&self, total: u64) {
        self.0.progress.set_total(total);
    }

    fn add_processed(&self, n: u64) {
        self.0.progress.add(n, 0);
    }

    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.0.log.log(level, message);
    }
}

/// The attempt's outcome from what the job function answered. A run that
/// stopped between batches because it was cancelled (or timed out) fails
/// its attempt; the executor records it as cancelled or timed out, with
/// the metadata of the work done so far.
pub(crate) fn outcome(
    ctx: &JobContext,
    answer: Result<JobReport, JobError>,
) -> Result<JobOutcome, JobFailure> {
    let report = match answer {
        Ok(report) => report,
        Err(e) => {
            let message = e.to_string();
            ctx.log.error(message.clone());
            return Err(JobFailure::new(message));
        }
    };
    let metadata = match report.metadata {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("result".to_owned(), other)]),
    };
    if report.cancelled {
        return Err(JobFailure::new(format!(
            "stopped after {} items: cancellation was requested",
            report.processed
        ))
        .with_metadata(metadata));
    }
    // Live progress may count preparatory work (aggregates computed on the
    // fly); the result counts the job's own items, all of them done.
    Ok(JobOutcome {
        processed: report.processed,
        total: Some(report.processed),
        succeeded: report.succeeded,
        failed: report.failed,
        metadata,
        partial_reason: report.partial_reason,
    })
}

/// The answer to parameters of another job type (a corrupt snapshot).
pub(crate) fn wrong_parameters(ctx: &JobContext, job_type: &str) -> JobFailure {
    let message = format!("the {job_type} handler was given parameters of another job type");
    ctx.log.error(message.clone());
    JobFailure::new(message)
}
