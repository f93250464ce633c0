//! The executor: claims due executions (the store enforces
//! `maxConcurrent`), runs each attempt's handler in its own task with a
//! deadline, heartbeats its lease, and records the outcome; after an
//! execution ends it writes `lastExecution` on the config and disables the
//! schedule after `autoDisableAfterFailures` consecutive failures.
//!
//! An attempt ends in one of these ways:
//! - the handler returns `Ok` → `success`, or `partial` when items failed;
//! - the handler returns `Err` → `failed`, reason `error`;
//! - the handler panics → `failed`, reason `error`, with the panic message;
//! - the deadline passes → the cancel token fires; a handler that has not
//!   returned within the grace period is aborted → `failed`, reason
//!   `timeout`;
//! - an operator cancels → same path → `cancelled`;
//! - the lease is lost (another instance rescued it) → the handler is
//!   aborted and nothing is recorded by this process.
//!
//! Failed attempts are retried by the store per the snapshotted retry
//! policy (see `grove_store::ExecutionStore::execution_finish`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use grove_core::job_config::{AutoDisabled, JobConfigPayload, LastExecution, RunStatus};
use grove_core::registry::JOB_CONFIG;
use grove_store::{
    AttemptHeartbeat, AttemptOutcome, AttemptReason, AttemptStatus, Claimed, ExecutionClaim,
    ExecutionFinish, ExecutionStatus, FailureStreak, Finished, ObjectUpdate, OutcomeRecord, Store,
    StoreError,
};
use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::context::{ConfigSource, JobContext, Progress, RunLogger};
use crate::events::RunEvent;
use crate::handlers::HandlerRegistry;
use crate::{EngineError, LEGACY_CONFIG_ID, Shared, until};

/// Sleep after a store error before trying to claim again.
const STORE_BACKOFF: Duration = Duration::from_secs(1);
/// At most this many attempts per claim: when many are due at once (every
/// config firing on the same minute), the first handlers start after a
/// small claim instead of one as large as `max_running`.
const CLAIM_CHUNK: usize = 32;
/// How long a look at runs the change feed announced waits. Every
/// instance hears every commit that queues runs, its own included; the
/// instance that queued them was woken directly and has usually claimed
/// them by then, and notifications arriving meanwhile share the look
/// (without the wait, every instance claimed on every notification).
const FEED_CLAIM_DELAY: Duration = Duration::from_millis(20);

/// Runs recording their end at once, from the outcome handed to the group
/// commit to the last step after it (events, notifications). Two group
/// commit batches: one being written while the next gathers. When a
/// crowded instant's slots are recorded, the thousands of runs that ended
/// meanwhile go on a few batches at a time: let go at once, each held its
/// finished execution and its snapshot until its batch was written, and
/// ten thousand of them doubled the process's peak memory.
pub(crate) const ENDS_RECORDING: usize = 512;

pub(crate) struct Executor {
    shared: Arc<Shared>,
    handlers: HandlerRegistry,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor").finish_non_exhaustive()
    }
}

pub(crate) fn lease_until(shared: &Shared) -> jiff::Timestamp {
    let lease = SignedDuration::try_from(shared.settings.lease).unwrap_or(SignedDuration::MAX);
    shared
        .clock
        .now()
        .saturating_add(lease)
        .unwrap_or(jiff::Timestamp::MAX)
}

impl Executor {
    pub(crate) fn new(shared: Arc<Shared>, handlers: HandlerRegistry) -> Self {
        Self { shared, handlers }
    }

    pub(crate) async fn run(self, shutdown: CancellationToken) -> Result<(), EngineError> {
        let mut tasks: JoinSet<()> = JoinSet::new();
        // Handlers running now: `max_running` bounds these, not the tasks,
        // which go on to record their outcome after the handler returned.
        let handlers_running = self.shared.handlers_running.clone();
        handlers_running.open.store(true, Ordering::Release);
        let max_running = self.shared.settings.max_running;
        // Whether the queue may hold something to take: set by whatever can
        // mean new work (a wake, the feed, the timer), cleared by a claim.
        // A claim waits while every slot is taken, and is made once one
        // frees up.
        let mut look = true;
        // The last claim left due runs behind their config's
        // maxConcurrent: a run ending may let one start. Otherwise a run
        // ending is no reason to claim (with several instances, every one
        // of them claimed after every run's end).
        let mut held_back = false;
        // The change feed announced runs queued somewhere. The instance
        // that queued them was woken directly and has usually claimed them
        // by now, so one cheap read of the queue's earliest due time comes
        // first (a claim that finds nothing costs a transaction).
        let mut probe = false;
        // When the look the feed asked for is due (see FEED_CLAIM_DELAY):
        // a deadline in the loop, not a sleep, so that handlers returning
        // and runs ending meanwhile are heard (a busy queue announces a
        // change at nearly every commit, and a sleep each time left a
        // backlog waiting while the executor slept).
        let mut probe_at: Option<Instant> = None;
        // When to look without being woken: the next retry's due time, or
        // the resync interval, only a safety net for a lost notification.
        let safety_net = self.shared.settings.resync_interval;
        let mut wake_at = Instant::now() + safety_net;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            while tasks.try_join_next().is_some() {
                look |= held_back;
            }
            for (claimed, slot) in handlers_running.take_started() {
                let (shared, handlers) = (self.shared.clone(), self.handlers.clone());
                tasks.spawn(run_attempt(shared, handlers, claimed, slot));
            }
            let free = handlers_running.room(max_running);
            if probe && !look && free > 0 {
                probe = false;
                let now = self.shared.clock.now();
                match self.shared.store.execution_next_due(Timestamp::MIN).await {
                    Ok(Some(at)) if at <= now => look = true,
                    Ok(Some(at)) => {
                        wake_at = wake_at.min(Instant::now() + until(&*self.shared.clock, at));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the queue");
                        look = true;
                    }
                }
            }
            // Places for what this claim takes, held while it is made: the
            // scheduler starts runs too, from the same `max_running`.
            let slots = if look && free > 0 {
                handlers_running.try_take(max_running, CLAIM_CHUNK)
            } else {
                Vec::new()
            };
            if !slots.is_empty() {
                look = false;
                // This claim sees what any notification heard so far
                // announced (they come after their commit).
                probe = false;
                probe_at = None;
                wake_at = Instant::now() + safety_net;
                let limit = slots.len();
                let claim = ExecutionClaim {
                    owner: self.shared.owner.clone(),
                    now: self.shared.clock.now(),
                    lease_until: lease_until(&self.shared),
                    limit: u32::try_from(limit).unwrap_or(u32::MAX),
                    returned: self.shared.returned.all(),
                };
                match self.shared.store.execution_claim_batch(claim).await {
                    Ok(batch) => {
                        held_back = batch.held_back;
                        let full = batch.claimed.len() == limit;
                        for (c, slot) in batch.claimed.into_iter().zip(slots) {
                            let shared = self.shared.clone();
                            let handlers = self.handlers.clone();
                            tasks.spawn(run_attempt(shared, handlers, c, slot));
                        }
                        if full {
                            // More may be due: claim again at once (or as
                            // soon as a slot frees up).
                            look = true;
                            continue;
                        }
                        if let Some(at) = batch.next_due {
                            wake_at =
                                Instant::now() + until(&*self.shared.clock, at).min(safety_net);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim executions");
                        wake_at = Instant::now() + STORE_BACKOFF;
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.shared.executor_wake.notified() => look = true,
                () = self.shared.feed_runs.notified() => {
                    probe_at.get_or_insert_with(|| Instant::now() + FEED_CLAIM_DELAY);
                }
                () = tokio::time::sleep_until(probe_at.unwrap_or(wake_at)), if probe_at.is_some() => {
                    probe_at = None;
                    probe = true;
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => look |= held_back,
                // A claim waiting for a free slot goes ahead; a handler
                // returning frees its config's place at once (see
                // `ReturnedRuns`), so runs held back may start.
                () = handlers_running.freed.notified(), if look || held_back => look |= held_back,
                () = handlers_running.started_wake.notified() => {}
                () = tokio::time::sleep_until(wake_at) => {
                    look = true;
                    wake_at = Instant::now() + safety_net;
                }
            }
        }
        // Shutdown: let running attempts finish for a while, then leave
        // them to lease rescue. The scheduler starts no more runs from now
        // on; the ones it started before are handed over by the time it
        // stops (its firing runs to the end), and run like the others.
        handlers_running.open.store(false, Ordering::Release);
        let grace = self.shared.settings.shutdown_grace;
        let _ = tokio::time::timeout(grace, self.shared.scheduler_stopped.cancelled()).await;
        for (claimed, slot) in handlers_running.take_started() {
            let (shared, handlers) = (self.shared.clone(), self.handlers.clone());
            tasks.spawn(run_attempt(shared, handlers, claimed, slot));
        }
        if !tasks.is_empty() {
            tracing::info!(running = tasks.len(), "waiting for running attempts");
            let drained =
                tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
                    .await;
            if drained.is_err() {
                tracing::warn!(
                    running = tasks.len(),
                    "attempts still running at shutdown are left to lease rescue"
                );
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
            }
        }
        Ok(())
    }
}

/// How many handlers this process runs now, out of `max_running`, and the
/// runs the scheduler started as it recorded their slots, for the executor
/// to run. A run's task holds a [`HandlerSlot`] from its claim (or start)
/// to its end; the handler's part of it is given back when the handler
/// returns, and the run then records its outcome outside `max_running`:
/// recording waits its turn on the database, and under a burst a claim
/// should not wait for the recording of runs that are done. Runs held in
/// all, recording included, stay within [`RUNS_PER_HANDLER`] times
/// `max_running`, so that a database slow to record never lets ended runs
/// pile up in memory.
#[derive(Debug, Default)]
pub(crate) struct HandlersRunning {
    held: Mutex<Held>,
    freed: Notify,
    /// Whether the executor takes runs: places are given out only then.
    open: AtomicBool,
    started: Mutex<Vec<(Claimed, HandlerSlot)>>,
    started_wake: Notify,
}

/// What this process holds now.
#[derive(Debug, Default, Clone, Copy)]
struct Held {
    /// Handlers running.
    handlers: usize,
    /// Runs whose task has not ended: handlers running, outcomes recording.
    runs: usize,
}

/// Runs a process holds at most, recording included, per `max_running`.
const RUNS_PER_HANDLER: usize = 64;

impl Held {
    /// How many more runs could start within `max` handlers (and the runs
    /// held within their bound).
    fn room(self, max: usize) -> usize {
        max.saturating_sub(self.handlers).min(
            max.saturating_mul(RUNS_PER_HANDLER)
                .saturating_sub(self.runs),
        )
    }
}

impl HandlersRunning {
    /// How many more runs could start now within `max` handlers.
    fn room(&self, max: usize) -> usize {
        self.held.lock().room(max)
    }

    /// Up to `n` places, as many as keep the handlers running within
    /// `max` (and the runs held within their bound); none while the
    /// executor is not taking runs.
    pub(crate) fn try_take(self: &Arc<Self>, max: usize, n: usize) -> Vec<HandlerSlot> {
        if !self.open.load(Ordering::Acquire) {
            return Vec::new();
        }
        let k = {
            let mut held = self.held.lock();
            let k = held.room(max).min(n);
            held.handlers += k;
            held.runs += k;
            k
        };
        (0..k)
            .map(|_| HandlerSlot {
                of: self.clone(),
                handler: true,
            })
            .collect()
    }

    /// Hands a run started elsewhere (its attempt already leased to this
    /// process) to the executor, with the place taken for it.
    pub(crate) fn hand_over(&self, claimed: Claimed, slot: HandlerSlot) {
        self.started.lock().push((claimed, slot));
        self.started_wake.notify_one();
    }

    fn take_started(&self) -> Vec<(Claimed, HandlerSlot)> {
        std::mem::take(&mut *self.started.lock())
    }

    fn give_back(&self, handler: bool, run: bool) {
        {
            let mut held = self.held.lock();
            held.handlers -= usize::from(handler);
            held.runs -= usize::from(run);
        }
        self.freed.notify_one();
    }
}

/// This process's runs whose handlers have returned with an outcome that
/// ends them (success or partial) and whose end is not recorded yet, by
/// config. Recording waits its turn (group commit; behind a crowded
/// instant's slots), and meanwhile the store still has such a run as
/// running: claims and slot inserts name these runs so that the store
/// does not count them against `maxConcurrent` nor as an overlap. Without
/// this, an every-second job whose ends were recorded a second late
/// skipped its next slot as an overlap with a run that had long returned.
/// A failed attempt is not named: the store may queue it again for a
/// retry.
#[derive(Debug, Default)]
pub(crate) struct ReturnedRuns(Mutex<grove_store::Returned>);

impl ReturnedRuns {
    fn add(&self, config_id: &str, run_id: &str) {
        self.0
            .lock()
            .entry(config_id.to_owned())
            .or_default()
            .push(run_id.to_owned());
    }

    fn remove(&self, config_id: &str, run_id: &str) {
        let mut map = self.0.lock();
        if let Some(runs) = map.get_mut(config_id) {
            runs.retain(|r| r != run_id);
            if runs.is_empty() {
                map.remove(config_id);
            }
        }
    }

    /// All of them, for a claim (which finds its configs in the queue).
    fn all(&self) -> grove_store::Returned {
        self.0.lock().clone()
    }

    /// Those of `configs`, for a batch of slots.
    pub(crate) fn of<'a>(
        &self,
        configs: impl IntoIterator<Item = &'a str>,
    ) -> grove_store::Returned {
        let map = self.0.lock();
        configs
            .into_iter()
            .filter_map(|c| map.get(c).map(|runs| (c.to_owned(), runs.clone())))
            .collect()
    }
}

/// One run's place: its handler's among the `max_running` until
/// [`HandlerSlot::handler_returned`], and its own among the runs held
/// until dropped, whichever way the attempt's task ends.
pub(crate) struct HandlerSlot {
    of: Arc<HandlersRunning>,
    handler: bool,
}

impl HandlerSlot {
    /// The handler is done: its place among `max_running` is free.
    fn handler_returned(&mut self) {
        if std::mem::take(&mut self.handler) {
            self.of.give_back(true, false);
        }
    }
}

impl std::fmt::Debug for HandlerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerSlot")
    }
}

impl Drop for HandlerSlot {
    fn drop(&mut self) {
        self.of.give_back(self.handler, true);
    }
}

/// Aborts a task when dropped (the handler task of an attempt whose own
/// task was aborted at shutdown).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-text panic payload".to_owned());
            format!("the handler panicked: {msg}")
        }
        Err(e) => format!("the handler task ended unexpectedly: {e}"),
    }
}

enum Stop {
    Timeout,
    Cancelled,
}

async fn run_attempt(
    shared: Arc<Shared>,
    handlers: HandlerRegistry,
    claimed: Claimed,
    mut slot: HandlerSlot,
) {
    let Claimed { execution, attempt } = claimed;
    let run_id = execution.id.clone();
    let cancel = CancellationToken::new();
    if execution.cancel_requested {
        cancel.cancel();
    }
    shared.running.lock().insert(run_id.clone(), cancel.clone());
    let started = shared.clock.now();
    shared.metrics.attempt_started(
        execution.due_at.or(execution.scheduled_for),
        attempt,
        started,
    );
    if crate::deadman::watches_lateness(&execution, attempt) {
        tokio::spawn(crate::deadman::slot_started(
            shared.clone(),
            execution.clone(),
            started,
        ));
    }
    shared.events.publish(
        &run_id,
        RunEvent::Phase {
            status: ExecutionStatus::Running,
            attempt: Some(attempt),
            at: started,
        },
    );
    let log = RunLogger::new(
        &run_id,
        &execution.config_id,
        attempt,
        shared.store.clone(),
        shared.clock.clone(),
        shared.events.clone(),
    );
    let progress = Progress::new(&run_id, shared.events.clone());
    let max_attempts = execution.retry.max_attempts;

    // Boxed: the handler's phase is freed when it ends, so a run waiting
    // to record its end holds little (see `ENDS_RECORDING`).
    let outcome = Box::pin(run_handler(
        &shared, &handlers, &execution, attempt, started, &cancel, &log, &progress,
    ))
    .await;
    shared.running.lock().remove(&run_id);
    // Returned for good: the run's config may start its next run before
    // this end is recorded. Before the handler's place is given back, so
    // that the claim that place wakes counts it as ended.
    let config_id = execution.config_id.clone();
    let returned = outcome
        .as_ref()
        .is_some_and(|o| matches!(o.status, AttemptStatus::Success | AttemptStatus::Partial));
    if returned {
        shared.returned.add(&config_id, &run_id);
    }
    slot.handler_returned();
    // What the run was claimed with (its snapshot above all) is not needed
    // to record its end: not held while it waits to be recorded.
    drop(execution);
    let Some(outcome) = outcome else {
        // Lease lost: whoever rescued the attempt owns the execution now.
        log.flush().await;
        shared.executor_wake.notify_one();
        return;
    };
    match &outcome.status {
        AttemptStatus::Success | AttemptStatus::Partial => log.info(format!(
            "attempt {attempt} of {max_attempts} finished: {}",
            outcome.status
        )),
        _ => log.error(format!(
            "attempt {attempt} of {max_attempts} {}: {}",
            match outcome.reason {
                Some(AttemptReason::Timeout) => "timed out",
                Some(AttemptReason::Cancelled) => "was cancelled",
                _ => "failed",
            },
            outcome.error.as_deref().unwrap_or("no error message")
        )),
    }
    // A crowded instant's slots are recorded first, for a bounded time
    // (see the scheduler's `Firing`).
    let mut firing = shared.firing.subscribe();
    let until = *firing.borrow_and_update();
    if let Some(until) = until {
        let _ = tokio::time::timeout_at(until, firing.wait_for(Option::is_none)).await;
    }
    // A place among the runs recording their end (see `ENDS_RECORDING`).
    let _recording = shared.ends_recording.acquire().await;
    Box::pin(record_end(
        &shared, &log, &run_id, attempt, outcome, &config_id, returned,
    ))
    .await;
}

/// Runs the attempt's handler under its timeout and cancellation, from the
/// snapshot it was claimed with; `None` when the lease was lost.
#[allow(clippy::too_many_arguments)]
async fn run_handler(
    shared: &Arc<Shared>,
    handlers: &HandlerRegistry,
    execution: &grove_store::Execution,
    attempt: u32,
    started: jiff::Timestamp,
    cancel: &CancellationToken,
    log: &RunLogger,
    progress: &Progress,
) -> Option<AttemptOutcome> {
    let run_id = &execution.id;
    let max_attempts = execution.retry.max_attempts;
    match <JobConfigPayload as serde::Deserialize>::deserialize(&execution.payload) {
        Err(e) => {
            let message = format!("the job config snapshot cannot be read: {e}");
            log.error(message.clone());
            Some(AttemptOutcome {
                status: AttemptStatus::Failed,
                reason: Some(AttemptReason::Error),
                error: Some(message),
                counts: progress.snapshot(),
                metadata: json!({}),
            })
        }
        Ok(payload) => {
            let source = if execution.config_id == LEGACY_CONFIG_ID {
                ConfigSource::Legacy
            } else {
                ConfigSource::Stored {
                    version: execution.config_version,
                }
            };
            log_source(
                shared,
                log,
                &execution.config_id,
                &source,
                attempt,
                max_attempts,
            );
            let timeout = Duration::from_secs(payload.limits.timeout_seconds);
            let deadline = started
                .saturating_add(SignedDuration::from_secs(
                    i64::try_from(payload.limits.timeout_seconds).unwrap_or(i64::MAX),
                ))
                .unwrap_or(jiff::Timestamp::MAX);
            let ctx = JobContext {
                run_id: run_id.clone(),
                config_id: execution.config_id.clone(),
                scheduled_for: execution.scheduled_for,
                attempt,
                lease_term: u64::from(attempt),
                // Validation keeps it at 1 or more; a snapshot is not re-validated.
                batch_size: payload.limits.batch_size.max(1),
                source,
                deadline,
                cancel: cancel.clone(),
                progress: progress.clone(),
                log: log.clone(),
                store: shared.store.clone(),
                clock: shared.clock.clone(),
                config: Arc::new(payload.clone()),
            };
            let handler = handlers.get(payload.job_type).clone();
            supervise(
                shared, run_id, attempt, handler, ctx, timeout, cancel, log, progress,
            )
            .await
        }
    }
}

/// Records how the attempt ended (in a group commit batch), then what
/// follows from it: the run's end event, its outcome's notifications, or
/// the note of the next attempt.
async fn record_end(
    shared: &Arc<Shared>,
    log: &RunLogger,
    run_id: &str,
    attempt: u32,
    outcome: AttemptOutcome,
    config_id: &str,
    returned: bool,
) {
    // The outcome and the attempt's last lines go in one transaction, in a
    // batch with other attempts ending now (group commit).
    let lines = log.take();
    let finish = ExecutionFinish {
        execution_id: run_id.to_owned(),
        attempt,
        owner: shared.owner.clone(),
        now: shared.clock.now(),
        outcome,
        logs: lines.clone(),
    };
    // A run that ended has its outcome on its config (lastExecution, the
    // journal) written in the same transaction. Written alone (its batch
    // failed), the finish goes first and the outcome after it, so that a
    // bad outcome never keeps the end of a run from being recorded.
    let (store, clock) = (&*shared.store, &*shared.clock);
    let outcome_of = |e: &grove_store::Execution| outcome_record(e, clock.now());
    let finished = shared
        .finishes
        .write(
            finish,
            |batch| async move {
                store
                    .execution_finish_recorded(batch, &outcome_of)
                    .await
                    .ok()
            },
            |finish| async move {
                let execution = store.execution_finish(finish).await?;
                Ok(Finished {
                    execution,
                    outcome: None,
                })
            },
        )
        .await;
    if returned {
        shared.returned.remove(config_id, run_id);
    }
    if finished
        .as_ref()
        .is_err_and(|e| !matches!(e, StoreError::LeaseLost))
    {
        // Nothing was written: keep the lines for the next flush.
        log.put_back(lines);
        log.flush().await;
    }
    match finished {
        Ok(Finished {
            execution: after,
            outcome,
        }) => {
            // What this end queued (a retry, chained runs) is claimed at
            // once; a run ending queues nothing else (the executor looks
            // again itself when it held runs back for maxConcurrent).
            if !after.status.is_final() || chains(&after) {
                shared.executor_wake.notify_one();
            }
            if after.status.is_final() {
                shared.events.end(run_id, after.status, after.error.clone());
                match outcome {
                    Some(recorded) => {
                        shared.metrics.finished(after.status);
                        // `None`: the config was deleted since.
                        if let Some(failures) = recorded {
                            outcome_recorded(shared, &after, failures).await;
                        }
                    }
                    None => record_outcome(shared, &after).await,
                }
            } else {
                let note = format!(
                    "attempt {} will start at {}",
                    attempt + 1,
                    after.available_at
                );
                log.info(note);
                log.flush().await;
                shared.events.publish(
                    run_id,
                    RunEvent::Phase {
                        status: after.status,
                        attempt: None,
                        at: shared.clock.now(),
                    },
                );
            }
        }
        Err(StoreError::LeaseLost) => {
            tracing::warn!(run = %run_id, attempt, "the attempt was taken over before it finished; its outcome is dropped");
        }
        Err(e) => {
            tracing::error!(run = %run_id, attempt, error = %e, "cannot record the attempt's outcome; lease rescue will retry it");
        }
    }
}

/// Whether the snapshot of an execution that just ended names jobs to
/// chain (whose runs its finish queued).
fn chains(ended: &grove_store::Execution) -> bool {
    ended
        .payload
        .get("triggers")
        .and_then(Value::as_object)
        .is_some_and(|t| !t.is_empty())
}

fn log_source(
    shared: &Shared,
    log: &RunLogger,
    config_id: &str,
    source: &ConfigSource,
    attempt: u32,
    max_attempts: u32,
) {
    match source {
        ConfigSource::Stored { version } => log.info(format!(
            "attempt {attempt} of {max_attempts} started; configuration: job config \"{config_id}\" version {version}"
        )),
        ConfigSource::Legacy => {
            log.warn(format!(
                "attempt {attempt} of {max_attempts} started; configuration: legacy defaults (legacyFallback is on and no enabled advancement-batch job config exists)"
            ));
            let since = *shared.legacy_since.lock();
            if let Some(since) = since {
                let used = shared.clock.now().duration_since(since);
                let limit = SignedDuration::try_from(shared.settings.legacy_alert_after)
                    .unwrap_or(SignedDuration::MAX);
                if used > limit {
                    log.error(format!(
                        "ALERT: the legacy configuration has been in use since {since} (more than {} h); create and enable an advancement-batch job config",
                        limit.as_hours()
                    ));
                }
            }
        }
        // Only a standalone context has this source; the executor never builds one.
        ConfigSource::Standalone => log.info(format!(
            "attempt {attempt} of {max_attempts} started; configuration: given by the caller"
        )),
    }
}

/// Runs the handler in its own task and watches it: deadline, cancel,
/// heartbeats. `None` when the lease was lost.
#[allow(clippy::too_many_arguments)]
async fn supervise(
    shared: &Arc<Shared>,
    run_id: &str,
    attempt: u32,
    handler: Arc<dyn crate::JobHandler>,
    ctx: JobContext,
    timeout: Duration,
    cancel: &CancellationToken,
    log: &RunLogger,
    progress: &Progress,
) -> Option<AttemptOutcome> {
    let mut join = tokio::spawn(async move { handler.run(ctx).await });
    let _guard = AbortOnDrop(join.abort_handle());
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let far = tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86_400);
    let grace = tokio::time::sleep_until(far);
    tokio::pin!(grace);
    let mut heartbeat = tokio::time::interval(shared.settings.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    let mut stop: Option<Stop> = None;
    let result = loop {
        tokio::select! {
            r = &mut join => break Some(r),
            () = &mut deadline, if stop.is_none() => {
                stop = Some(Stop::Timeout);
                cancel.cancel();
                grace.as_mut().reset(tokio::time::Instant::now() + shared.settings.grace);
            }
            () = cancel.cancelled(), if stop.is_none() => {
                stop = Some(Stop::Cancelled);
                log.warn("cancel requested; asking the handler to stop");
                grace.as_mut().reset(tokio::time::Instant::now() + shared.settings.grace);
            }
            () = &mut grace => {
                join.abort();
                break None;
            }
            _ = heartbeat.tick() => {
                log.flush().await;
                let hb = AttemptHeartbeat {
                    execution_id: run_id.to_owned(),
                    attempt,
                    owner: shared.owner.clone(),
                    now: shared.clock.now(),
                    lease_until: lease_until(shared),
                    counts: Some(progress.snapshot()),
                };
                match shared.store.attempt_heartbeat(hb).await {
                    Ok(reply) if reply.cancel_requested => cancel.cancel(),
                    Ok(_) => {}
                    Err(StoreError::LeaseLost) => {
                        tracing::warn!(run = %run_id, attempt, "lease lost; stopping the handler");
                        cancel.cancel();
                        join.abort();
                        return None;
                    }
                    Err(e) => tracing::warn!(run = %run_id, error = %e, "heartbeat failed"),
                }
            }
        }
    };
    // The handler may return (after seeing the token) before the cancel
    // branch above ran.
    if stop.is_none() && cancel.is_cancelled() {
        stop = Some(Stop::Cancelled);
    }
    let secs = timeout.as_secs();
    let timed_out = |extra: &str| AttemptOutcome {
        status: AttemptStatus::Failed,
        reason: Some(AttemptReason::Timeout),
        error: Some(format!("timed out after {secs} s{extra}")),
        counts: progress.snapshot(),
        metadata: json!({}),
    };
    let cancelled = |extra: &str| AttemptOutcome {
        status: AttemptStatus::Cancelled,
        reason: Some(AttemptReason::Cancelled),
        error: Some(format!("cancelled by an operator{extra}")),
        counts: progress.snapshot(),
        metadata: json!({}),
    };
    Some(match (result, stop) {
        (None, Some(Stop::Cancelled)) => {
            cancelled("; the handler did not stop within the grace period and was aborted")
        }
        (None, _) => {
            timed_out("; the handler did not stop within the grace period and was aborted")
        }
        (Some(Ok(Ok(_) | Err(_))), Some(Stop::Timeout)) => timed_out(""),
        (Some(Ok(Err(_))), Some(Stop::Cancelled)) => cancelled(""),
        (Some(Ok(Ok(out))), _) => {
            let failed_items = (out.failed > 0)
                .then(|| format!("{} of {} items failed", out.failed, out.processed));
            let error = match (failed_items, &out.partial_reason) {
                (Some(items), Some(why)) => Some(format!("{items}; {why}")),
                (items, why) => items.or_else(|| why.clone()),
            };
            AttemptOutcome {
                status: if error.is_some() {
                    AttemptStatus::Partial
                } else {
                    AttemptStatus::Success
                },
                reason: None,
                error,
                counts: out.counts(),
                metadata: Value::Object(out.metadata),
            }
        }
        (Some(Ok(Err(failure))), None) => AttemptOutcome {
            status: AttemptStatus::Failed,
            reason: Some(AttemptReason::Error),
            error: Some(failure.to_string()),
            counts: progress.snapshot(),
            metadata: Value::Object(failure.into_metadata()),
        },
        (Some(Err(join_error)), _) => {
            let message = panic_message(join_error);
            log.error(message.clone());
            AttemptOutcome {
                status: AttemptStatus::Failed,
                reason: Some(AttemptReason::Error),
                error: Some(message),
                counts: progress.snapshot(),
                metadata: json!({}),
            }
        }
    })
}

/// One outcome record in its own transaction.
async fn record_alone(store: &dyn Store, record: OutcomeRecord) -> Result<Option<u32>, String> {
    match store.outcomes_record(vec![record]).await {
        Ok(answers) => Ok(answers.into_iter().next().flatten()),
        Err(e) => Err(e.to_string()),
    }
}

/// After an execution ended: `lastExecution` (with `consecutiveFailures`)
/// on the config, merged as engine state (no version bump, cannot clobber
/// an operator's edit); at `autoDisableAfterFailures` consecutive failures
/// the schedule is disabled by actor `engine` (a new version) and
/// `autoDisabled` is set, so health shows `critical`; a later `success` or
/// `partial` clears `autoDisabled`. Skipped executions did not run and
/// change nothing; a cancelled one keeps the failure count as it was.
pub(crate) async fn record_outcome(shared: &Arc<Shared>, e: &grove_store::Execution) {
    shared.metrics.finished(e.status);
    let Some(record) = outcome_record(e, shared.clock.now()) else {
        return;
    };
    // lastExecution and the run's journal entry, in a batch with other
    // runs ending now (group commit).
    let store = &shared.store;
    let recorded = shared
        .outcomes
        .write(
            record,
            |batch| async move {
                let answers = store.outcomes_record(batch).await.ok()?;
                Some(answers.into_iter().map(Ok).collect())
            },
            |record| record_alone(&**store, record),
        )
        .await;
    match recorded {
        Ok(Some(failures)) => outcome_recorded(shared, e, failures).await,
        // Deleted since: nobody to tell, nothing to disable.
        Ok(None) => {}
        Err(err) => {
            tracing::warn!(job = %e.config_id, error = %err, "cannot record the last execution");
        }
    }
}

/// What [`record_outcome`] writes about an execution that ended (`None`:
/// nothing, as for a skipped run).
pub(crate) fn outcome_record(e: &grove_store::Execution, now: Timestamp) -> Option<OutcomeRecord> {
    let (status, streak) = match e.status {
        ExecutionStatus::Success => (RunStatus::Success, FailureStreak::Reset),
        ExecutionStatus::Partial => (RunStatus::Partial, FailureStreak::Reset),
        ExecutionStatus::Failed => (RunStatus::Failed, FailureStreak::Extend),
        ExecutionStatus::Cancelled => (RunStatus::Cancelled, FailureStreak::Keep),
        ExecutionStatus::Skipped | ExecutionStatus::Queued | ExecutionStatus::Running => {
            return None;
        }
    };
    if e.config_id == LEGACY_CONFIG_ID {
        // Legacy defaults are no stored config: nothing to record on.
        return None;
    }
    let last = LastExecution {
        started_at: e.started_at,
        completed_at: e.completed_at,
        status,
        items_processed: e.counts.processed,
        errors: e.counts.failed,
        run_id: e.id.clone(),
        error: e.error.clone(),
        // Counted by the store from the stored count (`streak`).
        consecutive_failures: 0,
    };
    let mut state = Map::new();
    state.insert(
        "lastExecution".to_owned(),
        serde_json::to_value(&last).unwrap_or(Value::Null),
    );
    if matches!(status, RunStatus::Success | RunStatus::Partial) {
        state.insert("autoDisabled".to_owned(), Value::Null);
        // The dead-man's switch: a success ends a silence.
        let at = e.completed_at.unwrap_or(now);
        state.insert("lastSuccessAt".to_owned(), json!(at));
        state.insert("silence".to_owned(), Value::Null);
    }
    Some(OutcomeRecord {
        config_id: e.config_id.clone(),
        state,
        streak,
        journal: crate::announce::journal_entry(e, now),
    })
}

/// What follows an ended run's [`OutcomeRecord`] once it is written, with
/// the config's consecutive failures as written: the run's notifications,
/// and the schedule disabled at `autoDisableAfterFailures`.
async fn outcome_recorded(shared: &Arc<Shared>, e: &grove_store::Execution, failures: u32) {
    crate::announce::notify_ended(shared, e).await;
    if e.status == ExecutionStatus::Failed {
        auto_disable(shared, &e.config_id, failures, e.error.as_deref()).await;
    }
}

async fn auto_disable(shared: &Arc<Shared>, config_id: &str, failures: u32, error: Option<&str>) {
    // Two tries: an operator's concurrent save makes the first one stale.
    for _ in 0..2 {
        let Ok(Some(obj)) = shared.store.object_get(JOB_CONFIG, config_id).await else {
            return;
        };
        let Ok(mut payload) = <JobConfigPayload as serde::Deserialize>::deserialize(&obj.payload)
        else {
            return;
        };
        let limit = payload.schedule.auto_disable_after_failures;
        if limit == 0 || failures < limit || !payload.schedule.is_enabled {
            return;
        }
        payload.schedule.is_enabled = false;
        let now = shared.clock.now();
        let update = ObjectUpdate {
            object_type: JOB_CONFIG.to_owned(),
            id: config_id.to_owned(),
            expected_version: obj.meta.version,
            title: obj.meta.title.clone(),
            description: obj.meta.description.clone(),
            tags: obj.meta.tags.clone(),
            payload: payload.to_value(),
            actor: Some("engine".to_owned()),
            now,
        };
        match shared.store.object_update(update).await {
            Ok(_) => {
                let reason = format!(
                    "disabled after {failures} consecutive failed runs{}",
                    error
                        .map(|e| format!("; last error: {e}"))
                        .unwrap_or_default()
                );
                tracing::error!(job = %config_id, "{reason}");
                crate::announce::job_disabled(shared, config_id, &reason).await;
                let mut state = Map::new();
                state.insert(
                    "autoDisabled".to_owned(),
                    serde_json::to_value(AutoDisabled { at: now, reason }).unwrap_or(Value::Null),
                );
                if let Err(e) = shared
                    .store
                    .object_state_merge(JOB_CONFIG, config_id, state)
                    .await
                {
                    tracing::warn!(job = %config_id, error = %e, "cannot record autoDisabled");
                }
                shared.changes.lock().ids.insert(config_id.to_owned());
                shared.scheduler_wake.notify_one();
                return;
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => {
                tracing::warn!(job = %config_id, error = %e, "cannot disable the schedule");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReturnedRuns;

    /// A batch of slots is given the returned runs of its own configs; a
    /// run recorded is forgotten, and a config with none left is gone.
    #[test]
    fn returned_runs_are_named_by_config_until_recorded() {
        let returned = ReturnedRuns::default();
        returned.add("a", "a-1");
        returned.add("a", "a-2");
        returned.add("b", "b-1");
        let of_a = returned.of(["a", "c"]);
        assert_eq!(of_a.len(), 1);
        assert_eq!(of_a["a"], ["a-1", "a-2"]);
        returned.remove("a", "a-1");
        assert_eq!(returned.of(["a"])["a"], ["a-2"]);
        returned.remove("a", "a-2");
        returned.remove("b", "b-1");
        assert!(returned.all().is_empty());
    }
}
