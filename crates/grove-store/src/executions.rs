//! Executions of job configs, their attempts and log lines, and the
//! scheduler's position per config.
//!
//! An execution is one run of a job config: a scheduled slot
//! `(config_id, scheduled_for)` (unique in the database, so a slot runs at
//! most once across instances and crashes), a manual run or a retry. It
//! carries a snapshot of the config payload, version and retry policy taken
//! when it was created. It has one or more attempts; a running attempt
//! holds a lease (owner + expiry) renewed by heartbeat.
//!
//! The retry decision lives here (in [`ExecutionStore::execution_finish`]
//! and [`ExecutionStore::lease_rescue`]) so it is made in the same
//! transaction that records the failed attempt, with
//! [`RetryPolicy::delay_after`] from grove-core: no state exists where an
//! attempt has failed but its execution is neither queued again nor
//! finished. See `docs/state-machine.md`.

use std::collections::HashMap;

use async_trait::async_trait;
use grove_core::retry::RetryPolicy;
use jiff::Timestamp;
use serde_json::Value;

use crate::StoreError;
use crate::access::AuditAppend;

pub use grove_core::execution::{AttemptReason, AttemptStatus, ExecutionStatus, LogLevel, Trigger};

/// Item counts a handler reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub processed: u64,
    pub total: Option<u64>,
    pub succeeded: u64,
    pub failed: u64,
}

/// One attempt of an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: u32,
    pub status: AttemptStatus,
    pub started_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub error: Option<String>,
    pub reason: Option<AttemptReason>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
}

/// One run of a job config.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub id: String,
    pub config_id: String,
    pub trigger: Trigger,
    pub status: ExecutionStatus,
    /// Why it was skipped (`missed`, `overlap`); `None` otherwise.
    pub reason: Option<String>,
    /// A missed slot run after downtime (misfire policy `run-once`).
    pub late: bool,
    /// The slot: of a scheduled or backfilled execution, or its parent's
    /// slot for a chained one (`None` for Run Now and retries).
    pub scheduled_for: Option<Timestamp>,
    /// When a scheduled run is due: its slot plus the config's jitter.
    pub due_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// When the next attempt may start (queued executions).
    pub available_at: Timestamp,
    pub attempt_count: u32,
    pub max_concurrent: u32,
    pub config_version: i64,
    /// The job config payload as it was when the execution was created.
    pub payload: Value,
    pub retry: RetryPolicy,
    pub counts: Counts,
    pub error: Option<String>,
    /// Handler-defined result metadata (a JSON object).
    pub metadata: Value,
    /// The execution this one reruns (trigger `retry`).
    pub retry_of: Option<String>,
    /// The run whose end started this one (trigger `chain`).
    pub parent_run_id: Option<String>,
    /// `parameters`/`limits` merged over the config for this run (Run Now
    /// and backfill with options; Retry reuses them).
    pub overrides: Option<Value>,
    pub actor: Option<String>,
    pub cancel_requested: bool,
    /// Filled by [`ExecutionStore::execution_get`]; empty in lists.
    pub attempts: Vec<Attempt>,
}

/// How a new execution starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertDisposition {
    /// Queued to run.
    Queue,
    /// Recorded as `skipped` (reason `overlap`) if the config already has
    /// `max_concurrent` queued or running executions, else queued.
    SkipWhenBusy,
    /// Recorded as `skipped` with this reason (e.g. `missed`).
    Skip(String),
}

/// A new execution.
#[derive(Debug, Clone)]
pub struct ExecutionInsert {
    pub id: String,
    pub config_id: String,
    pub trigger: Trigger,
    /// The slot; `(config_id, scheduled_for)` is unique (a backfilled slot
    /// that is already recorded is a `Duplicate`). Scheduled inserts also
    /// advance the scheduler's position for the config. For a chained run,
    /// the parent's slot, kept outside the slot key.
    pub scheduled_for: Option<Timestamp>,
    /// When a scheduled run is due (slot plus jitter); it is not claimed
    /// before. `None`: due at once.
    pub due_at: Option<Timestamp>,
    pub late: bool,
    pub payload: Value,
    pub config_version: i64,
    pub retry: RetryPolicy,
    pub max_concurrent: u32,
    pub retry_of: Option<String>,
    /// For a chained run; `(config_id, parent_run_id)` is unique.
    pub parent_run_id: Option<String>,
    /// What `payload` merged over the stored config, if anything.
    pub overrides: Option<Value>,
    pub actor: Option<String>,
    pub disposition: InsertDisposition,
    pub now: Timestamp,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    Queued(Execution),
    Skipped(Execution),
    /// Inserted running, its first attempt leased to the caller
    /// ([`ExecutionStore::execution_insert_starting`] only).
    Started(Claimed),
    /// The slot already has an execution (another instance or an earlier
    /// life of this one fired it).
    Duplicate,
}

/// Claim up to `limit` queued executions due at `now` for `owner`, never
/// more running executions per config than their `max_concurrent`; each
/// gets a new running attempt whose lease ends at `lease_until`.
#[derive(Debug, Clone)]
pub struct ExecutionClaim {
    pub owner: String,
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub limit: u32,
    /// The caller's runs whose handlers have returned and whose end is not
    /// recorded yet (see [`Returned`]).
    pub returned: Returned,
}

/// Runs whose handlers have returned with an outcome that ends them
/// (success or partial), by config, while their end waits its turn to be
/// recorded. They are still `running` in the store, but no longer run:
/// they hold no place of their config's `maxConcurrent` and make no slot
/// overlap. Only the process that ran them knows; any other counts them
/// as running until their end is recorded, as before.
pub type Returned = HashMap<String, Vec<String>>;

/// A claimed execution and the number of its new attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub execution: Execution,
    pub attempt: u32,
}

/// What a claim took, and what it tells the executor about the queue, so
/// that it looks again only when there may be something to take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimBatch {
    pub claimed: Vec<Claimed>,
    /// Due executions were left queued because their config was at its
    /// `max_concurrent`: a run of it ending may let one start.
    pub held_back: bool,
    /// The earliest `available_at` of a queued execution after the
    /// claim's `now` (as [`ExecutionStore::execution_next_due`]), read in
    /// the claim's transaction; `None` when nothing is queued for later or
    /// the claim took its whole `limit` (the executor claims again at once).
    pub next_due: Option<Timestamp>,
}

/// Renew an attempt's lease (and record progress).
#[derive(Debug, Clone)]
pub struct AttemptHeartbeat {
    pub execution_id: String,
    pub attempt: u32,
    pub owner: String,
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub counts: Option<Counts>,
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatReply {
    /// An operator asked to cancel the execution.
    pub cancel_requested: bool,
}

/// How an attempt ended, as the executor saw it.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    /// Success, Partial, Failed or Cancelled.
    pub status: AttemptStatus,
    pub reason: Option<AttemptReason>,
    pub error: Option<String>,
    pub counts: Counts,
    pub metadata: Value,
}

impl AttemptOutcome {
    /// What lease rescue records for an attempt whose worker vanished: the
    /// work done so far is kept, the retry policy decides what follows.
    pub fn abandoned(execution: &Execution) -> Self {
        Self {
            status: AttemptStatus::Failed,
            reason: Some(AttemptReason::Abandoned),
            error: Some(
                "the attempt was abandoned: its worker stopped renewing its lease".to_owned(),
            ),
            counts: execution.counts,
            metadata: execution.metadata.clone(),
        }
    }
}

/// Record the end of an attempt. A failed attempt queues the execution
/// again after `retry.delay_after(attempt)` when attempts remain and no
/// cancel was requested; otherwise the execution ends.
#[derive(Debug, Clone)]
pub struct ExecutionFinish {
    pub execution_id: String,
    pub attempt: u32,
    pub owner: String,
    pub now: Timestamp,
    pub outcome: AttemptOutcome,
    /// The attempt's log lines not stored yet: stored in the same
    /// transaction as the outcome (also when the lease was lost).
    pub logs: Vec<LogInsert>,
}

/// What the engine writes about a job config when one of its runs ended:
/// engine-written state (`lastExecution` and the like, merged as
/// [`crate::ObjectStore::object_state_merge`] does) and the run's journal
/// entry.
#[derive(Debug, Clone)]
pub struct OutcomeRecord {
    pub config_id: String,
    pub state: serde_json::Map<String, Value>,
    /// How the run changes `lastExecution.consecutiveFailures`: counted in
    /// the same transaction from the stored count, so runs of one config
    /// ending together count each failure once, with no read beforehand.
    pub streak: FailureStreak,
    pub journal: Option<crate::JournalAppend>,
}

/// Makes the [`OutcomeRecord`] of an execution as its finish left it, if
/// any (see [`ExecutionStore::execution_finish_recorded`]).
pub type OutcomeOf<'a> = &'a (dyn Fn(&Execution) -> Option<OutcomeRecord> + Sync);

/// An attempt's end as recorded, with the run's outcome on its config.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The execution afterwards.
    pub execution: Execution,
    /// `Some` when an [`OutcomeRecord`] was written with the finish: what
    /// [`ExecutionStore::outcomes_record`] answers for it.
    pub outcome: Option<Option<u32>>,
}

/// What a run's end does to its config's consecutive failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureStreak {
    /// A success: back to zero.
    Reset,
    /// A failure: one more.
    Extend,
    /// Neither (a cancelled run): as it was.
    Keep,
}

impl FailureStreak {
    /// The count after a run, from the count before it.
    pub fn after(self, before: u32) -> u32 {
        match self {
            Self::Reset => 0,
            Self::Extend => before.saturating_add(1),
            Self::Keep => before,
        }
    }
}

/// What a cancel request did.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    /// It was queued and is now cancelled.
    Cancelled(Execution),
    /// It is running; the running attempt is asked to stop.
    Requested(Execution),
    /// It had already ended; nothing changed.
    AlreadyFinal(Execution),
}

/// Find running attempts whose lease expired before `now` (or, with
/// `all_running`, every running attempt: a single-node store at start-up),
/// mark them failed with reason `abandoned`, and queue or fail their
/// executions per their retry policy.
#[derive(Debug, Clone)]
pub struct LeaseRescue {
    pub now: Timestamp,
    pub all_running: bool,
}

/// An attempt found abandoned, and its execution after the rescue.
#[derive(Debug, Clone, PartialEq)]
pub struct Rescued {
    pub execution: Execution,
    pub attempt: u32,
}

/// Delete final executions beyond the newest `keep_per_config` of each
/// config, with their attempts and logs; at most `limit` per call.
#[derive(Debug, Clone)]
pub struct ExecutionPrune {
    pub keep_per_config: u32,
    pub limit: u32,
}

/// A log line to store.
#[derive(Debug, Clone)]
pub struct LogInsert {
    pub execution_id: String,
    pub attempt: u32,
    pub at: Timestamp,
    pub level: LogLevel,
    pub message: String,
}

/// A stored log line; `seq` orders lines across the whole store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub seq: i64,
    pub attempt: u32,
    pub at: Timestamp,
    pub level: LogLevel,
    pub message: String,
}

/// The latest slot the scheduler handled for a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPosition {
    pub config_id: String,
    pub last_scheduled_for: Timestamp,
}

/// Where an execution goes when attempt `attempt` ends with `outcome` at
/// `now`: its new status, when it completed (final statuses), and when it
/// may be claimed again (a retry). Both adapters settle attempts by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub status: ExecutionStatus,
    pub completed_at: Option<Timestamp>,
    pub available_at: Timestamp,
}

/// The retry decision: a failed attempt is retried after the policy's
/// delay while attempts remain and no cancel was requested; otherwise the
/// execution ends with the attempt's outcome.
pub fn settlement(
    execution: &Execution,
    attempt: u32,
    now: Timestamp,
    outcome: AttemptStatus,
) -> Settlement {
    let retry = match outcome {
        AttemptStatus::Failed if !execution.cancel_requested => {
            retry_at(&execution.retry, attempt, now)
        }
        _ => None,
    };
    let (status, retry_at) = match (outcome, retry) {
        (AttemptStatus::Failed, Some(at)) => (ExecutionStatus::Queued, Some(at)),
        (AttemptStatus::Failed, None) if execution.cancel_requested => {
            (ExecutionStatus::Cancelled, None)
        }
        (AttemptStatus::Failed, None) => (ExecutionStatus::Failed, None),
        (AttemptStatus::Success, _) => (ExecutionStatus::Success, None),
        (AttemptStatus::Partial, _) => (ExecutionStatus::Partial, None),
        (AttemptStatus::Cancelled | AttemptStatus::Running, _) => {
            (ExecutionStatus::Cancelled, None)
        }
    };
    Settlement {
        status,
        completed_at: retry_at.is_none().then_some(now),
        available_at: retry_at.unwrap_or(now),
    }
}

/// What the `next attempt` decision is after attempt `attempt` failed at
/// `now`: `Some(when)` to retry, `None` when no attempts remain.
pub fn retry_at(retry: &RetryPolicy, attempt: u32, now: Timestamp) -> Option<Timestamp> {
    let delay = retry.delay_after(attempt)?;
    let delay = jiff::SignedDuration::from_secs(i64::try_from(delay).unwrap_or(i64::MAX));
    Some(now.saturating_add(delay).unwrap_or(Timestamp::MAX))
}

#[async_trait]
pub trait ExecutionStore {
    /// Inserts executions in one transaction, as `execution_insert` does
    /// one: a scheduled slot is unique on config and slot and advances the
    /// config's scheduler position. For batches of slots and of Run Now
    /// requests (group commit); one outcome per insert, in order.
    async fn execution_insert_slots(
        &self,
        inserts: Vec<ExecutionInsert>,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// [`Self::execution_insert_slots`], with some of them started in the
    /// same transaction: up to `start.limit` of the inserted executions
    /// that are due by `start.now` and whose config has nothing else
    /// queued or running (`start.returned` aside, which also makes no
    /// slot overlap) begin their first attempt, leased to
    /// `start.owner` until `start.lease_until` as a claim would lease it
    /// ([`InsertOutcome::Started`]). The scheduler starts the slots it
    /// fires this way: no claim's transaction between a slot's insert and
    /// its handler, and no queued row to update.
    async fn execution_insert_starting(
        &self,
        inserts: Vec<ExecutionInsert>,
        start: ExecutionClaim,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// [`Self::execution_insert_slots`] with the audit lines that record
    /// who asked for them, in the same transaction, so that an operator's
    /// run (Run Now, Retry, Backfill) is never queued without its line and
    /// costs one commit, not two.
    async fn execution_insert_audited(
        &self,
        inserts: Vec<ExecutionInsert>,
        audit: Vec<AuditAppend>,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// Inserts a manual run or a retry (no slot).
    async fn execution_insert(&self, insert: ExecutionInsert) -> Result<InsertOutcome, StoreError>;

    /// See [`ExecutionClaim`].
    async fn execution_claim(&self, params: ExecutionClaim) -> Result<Vec<Claimed>, StoreError> {
        Ok(self.execution_claim_batch(params).await?.claimed)
    }

    /// [`Self::execution_claim`], with what the claim saw of the rest of
    /// the queue (see [`ClaimBatch`]).
    async fn execution_claim_batch(&self, params: ExecutionClaim)
    -> Result<ClaimBatch, StoreError>;

    /// Renews a lease; `LeaseLost` when the attempt is no longer running
    /// under `owner` (it was rescued or settled elsewhere).
    async fn attempt_heartbeat(
        &self,
        params: AttemptHeartbeat,
    ) -> Result<HeartbeatReply, StoreError>;

    /// See [`ExecutionFinish`]; returns the execution afterwards, or
    /// `LeaseLost` when the attempt is no longer running under `owner`.
    async fn execution_finish(&self, params: ExecutionFinish) -> Result<Execution, StoreError> {
        self.execution_finish_many(vec![params])
            .await?
            .pop()
            .unwrap_or(Err(StoreError::NotFound))
    }

    /// Many finishes in one transaction (group commit): each answer is what
    /// [`Self::execution_finish`] would have said for it; the outer error
    /// means none was recorded.
    async fn execution_finish_many(
        &self,
        finishes: Vec<ExecutionFinish>,
    ) -> Result<Vec<Result<Execution, StoreError>>, StoreError> {
        let answers = self.execution_finish_recorded(finishes, &|_| None).await?;
        Ok(answers
            .into_iter()
            .map(|a| a.map(|f| f.execution))
            .collect())
    }

    /// [`Self::execution_finish_many`], and in the same transaction the
    /// [`OutcomeRecord`] that `outcome_of` makes of each execution as its
    /// finish left it (`None`: nothing to record, e.g. a failed attempt
    /// that will be retried), as [`Self::outcomes_record`] writes them: a
    /// run's end then costs one transaction, not two. The outer error
    /// means nothing was recorded.
    async fn execution_finish_recorded(
        &self,
        finishes: Vec<ExecutionFinish>,
        outcome_of: OutcomeOf<'_>,
    ) -> Result<Vec<Result<Finished, StoreError>>, StoreError>;

    /// Many [`OutcomeRecord`]s in one transaction (group commit), in
    /// order. Each answer is the config's `consecutiveFailures` as
    /// written, or `None` for a config deleted since: it gets its journal
    /// entry but no state.
    async fn outcomes_record(
        &self,
        records: Vec<OutcomeRecord>,
    ) -> Result<Vec<Option<u32>>, StoreError>;

    /// Cancels a queued execution, or asks a running one to stop.
    async fn execution_cancel(&self, id: &str, now: Timestamp)
    -> Result<CancelOutcome, StoreError>;

    /// One execution with its attempts.
    async fn execution_get(&self, id: &str) -> Result<Option<Execution>, StoreError>;

    /// A config's executions, newest first (without attempts).
    async fn execution_list(
        &self,
        config_id: &str,
        limit: u32,
    ) -> Result<Vec<Execution>, StoreError>;

    /// The earliest `available_at` of a queued execution strictly after
    /// `after`: when the executor must look again without being woken.
    async fn execution_next_due(&self, after: Timestamp) -> Result<Option<Timestamp>, StoreError>;

    /// See [`LeaseRescue`].
    async fn lease_rescue(&self, params: LeaseRescue) -> Result<Vec<Rescued>, StoreError>;

    /// See [`ExecutionPrune`]; returns how many executions were deleted.
    async fn execution_prune(&self, params: ExecutionPrune) -> Result<u64, StoreError>;

    async fn log_append(&self, lines: Vec<LogInsert>) -> Result<(), StoreError>;

    /// Log lines of an execution with `seq > after`, oldest first.
    async fn log_list(
        &self,
        execution_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>, StoreError>;

    /// Every config's scheduler position.
    async fn slot_positions(&self) -> Result<Vec<SlotPosition>, StoreError>;

    /// Moves a config's position forward to `at` (never backward).
    async fn slot_position_advance(&self, config_id: &str, at: Timestamp)
    -> Result<(), StoreError>;
}
