//! grove-engine: turns stored job configs into runs.
//!
//! - [`Engine`]: built from a store, a clock, a [`HandlerRegistry`] and
//!   [`EngineSettings`]; [`Engine::start`] does the start-up (lease rescue,
//!   loading the configs) and gives a [`RunningEngine`], whose
//!   [`RunningEngine::run`] runs the three background services below until
//!   shutdown; [`Engine::run`] does both. [`Engine::handle`] gives the
//!   [`EngineHandle`].
//! - [`EngineHandle`]: what the application layer uses to talk to a
//!   running engine: tell it what changed ([`EngineHandle::changed`], the
//!   same path as the database's change feed), subscribe to live events,
//!   ask whether legacy defaults are in use. Queueing runs and cancelling
//!   them are use cases of `grove-app`.
//! - `scheduler`: the next slot of every enabled config in a heap keyed by
//!   instant; sleeps until the earliest or a wake-up; firing a slot inserts
//!   an execution unique on `(configId, scheduledFor)`; misfires after
//!   downtime; migration mode's legacy advancement job.
//! - `executor`: claims due executions (respecting `maxConcurrent`), runs
//!   each attempt's handler with a deadline, heartbeats its lease, records
//!   the outcome, `lastExecution` and auto-disable.
//! - `membership`: the live instances, registered with a lease, among
//!   which the firing of slots is divided (rendezvous hashing).
//! - `maintenance`: lease rescue (at start-up and periodically),
//!   retention and the silence check of the dead-man's switch.
//! - `deadman`: the dead-man's switch (`payload.alerts`): `job.late` for
//!   late and missed slots, `job.silent` for jobs without a success.
//! - [`context`]: what a handler gets and returns.
//! - [`handlers`]: the handler trait, the exhaustive registry, one file per
//!   job type.
//! - [`events`]: live events per execution for server-sent events.
//! - [`error`]: the engine's error type, [`EngineError`].
//! - [`jobs`]: the work of the grove job types as plain functions of the
//!   job's parameters and the attempt's [`JobContext`].
//!
//! Time: everything reads the injected [`Clock`]; timers sleep for the
//! distance between the clock's now and the next instant, and
//! [`EngineHandle::tick`] makes every loop look at the clock again (tests
//! moving a `TestClock`). See `docs/state-machine.md`.

mod announce;
mod completer;
pub mod context;
mod coordination;
mod deadman;
pub mod error;
pub mod events;
mod executor;
pub mod handlers;
mod http;
pub mod jobs;
mod maintenance;
mod membership;
pub mod metrics;
mod scheduler;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use grove_core::clock::Clock;
use grove_store::{
    Change, Execution, ExecutionFinish, ExecutionStatus, Finished, OutcomeRecord, Store, StoreError,
};
use jiff::Timestamp;
use parking_lot::Mutex;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

pub use announce::RUN_NOTIFICATION_RECIPIENT;
pub use completer::GroupCommit;
pub use context::{ConfigSource, JobContext, JobFailure, JobOutcome, Progress, RunLogger};
pub use error::EngineError;
pub use events::RunEvent;
pub use handlers::{HandlerRegistry, JobHandler};

/// The id under which migration mode's legacy advancement job records its
/// executions.
pub const LEGACY_CONFIG_ID: &str = "legacy-advancement-batch";

/// Knobs of the engine; [`Default`] is what `serve` uses.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// How long a running attempt's lease lasts without a heartbeat.
    pub lease: Duration,
    /// How often a running attempt renews its lease, stores its log lines
    /// and progress, and learns of cancel requests.
    pub heartbeat: Duration,
    /// How long a cancelled or timed-out handler may take to stop before
    /// it is aborted.
    pub grace: Duration,
    /// Attempts running at once in this process.
    pub max_running: usize,
    /// Executions kept per config (with their logs); older ones are pruned.
    pub retention_per_config: u32,
    /// How often lease rescue and retention run.
    pub maintenance_interval: Duration,
    /// A safety net, not the way changes arrive: every change (this
    /// process's, another instance's, a CLI command's) wakes the engine at
    /// once through the change feed. Should a notification be lost anyway,
    /// the scheduler re-reads every config and the executor looks for due
    /// work at least this often.
    pub resync_interval: Duration,
    /// How long shutdown waits for running attempts before leaving them to
    /// lease rescue.
    pub shutdown_grace: Duration,
    /// Migration mode: run the advancement job on legacy defaults while no
    /// enabled `advancement-batch` config exists.
    pub legacy_fallback: bool,
    /// After this long on legacy defaults, every legacy run logs an alert.
    pub legacy_alert_after: Duration,
    /// At most this many missed slots per config are recorded as `skipped`
    /// after downtime.
    pub missed_record_limit: usize,
    /// Where the `storage` health check writes its probe file.
    pub data_dir: PathBuf,
    /// The service's own base URL (`http://127.0.0.1:8080`), for the `api`
    /// health check when a config names no endpoint. Always reachable,
    /// whatever the outbound policy.
    pub self_url: Option<String>,
    /// Where health checks and webhooks may connect: public addresses plus
    /// this allow-list.
    pub outbound: Arc<grove_core::outbound::OutboundPolicy>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            grace: Duration::from_secs(5),
            max_running: 64,
            retention_per_config: 200,
            maintenance_interval: Duration::from_secs(60),
            resync_interval: Duration::from_secs(300),
            shutdown_grace: Duration::from_secs(10),
            legacy_fallback: false,
            legacy_alert_after: Duration::from_secs(24 * 3600),
            missed_record_limit: 100,
            data_dir: PathBuf::from("."),
            self_url: None,
            outbound: Arc::default(),
        }
    }
}

/// What the scheduler must look at when it wakes.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Job configs created, saved or deleted.
    pub ids: HashSet<String>,
    /// Calendars created, saved or deleted.
    pub calendars: HashSet<String>,
}

/// State shared by the engine's services and handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: EngineSettings,
    /// This process's lease owner id.
    pub owner: String,
    pub changes: Mutex<Changes>,
    pub scheduler_wake: Notify,
    pub executor_wake: Notify,
    /// Runs were queued, as the change feed heard it: by another process,
    /// or this one's own write echoed back. The executor claims for these
    /// a moment later ([`executor`]), so that a burst of notifications
    /// costs one claim and the process that queued them claims first.
    pub feed_runs: Notify,
    pub maintenance_wake: Notify,
    pub events: Arc<events::EventHub>,
    /// Cancel tokens of the attempts running in this process, by run id.
    pub running: Mutex<HashMap<String, CancellationToken>>,
    /// Since when legacy defaults are in use (migration mode).
    pub legacy_since: Mutex<Option<Timestamp>>,
    pub started: AtomicBool,
    /// Cancelled when the engine stops or fails to start (ends live-event
    /// streams).
    pub stopped: CancellationToken,
    /// The next slot of every config the scheduler follows.
    pub next_slots: Mutex<HashMap<String, Timestamp>>,
    /// The live instances, which divide the firing of slots (`membership`).
    pub members: Mutex<membership::Members>,
    /// How many of the followed configs this instance fires (its share).
    pub owned_configs: AtomicUsize,
    pub metrics: metrics::EngineMetrics,
    /// Set when changes may have been missed (the change feed reconnected):
    /// the scheduler re-reads every config at its next wake-up.
    pub resync_requested: AtomicBool,
    /// Group commit of attempt outcomes (with their last log lines)...
    pub finishes: completer::GroupCommit<ExecutionFinish, Result<Finished, StoreError>>,
    /// ...and of what a run's end writes about its config.
    pub outcomes: completer::GroupCommit<OutcomeRecord, Result<Option<u32>, String>>,
    /// Handlers running in this process (within `max_running`), and runs
    /// the scheduler started as it recorded their slots.
    pub(crate) handlers_running: Arc<executor::HandlersRunning>,
    /// Runs whose handlers returned and whose end is not recorded yet.
    pub(crate) returned: executor::ReturnedRuns,
    /// While the scheduler records the slots of a crowded instant: until
    /// when runs ending meanwhile let those slots go first.
    pub(crate) firing: tokio::sync::watch::Sender<Option<tokio::time::Instant>>,
    /// Places for runs recording their end at once (see
    /// `executor::ENDS_RECORDING`).
    pub(crate) ends_recording: tokio::sync::Semaphore,
    /// Cancelled when the scheduler's loop has ended: every run it started
    /// has been handed to the executor by then.
    pub(crate) scheduler_stopped: CancellationToken,
}

impl Shared {
    /// The engine is done: handles see it stopped, live-event streams end.
    fn stop(&self) {
        self.started.store(false, Ordering::SeqCst);
        self.stopped.cancel();
    }

    pub(crate) fn wake_all(&self) {
        self.scheduler_wake.notify_one();
        self.executor_wake.notify_one();
        self.maintenance_wake.notify_one();
    }
}

pub use grove_core::execution::new_run_id;

/// Sleep length from the clock's now to `at` (zero if past).
pub(crate) fn until(clock: &dyn Clock, at: Timestamp) -> Duration {
    Duration::try_from(at.duration_since(clock.now())).unwrap_or(Duration::ZERO)
}

/// The engine: scheduler, executor and maintenance over one store.
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    handlers: HandlerRegistry,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        handlers: HandlerRegistry,
        settings: EngineSettings,
    ) -> Self {
        let shared = Arc::new(Shared {
            store,
            clock,
            settings,
            owner: format!("grove-{}", uuid::Uuid::new_v4().simple()),
            changes: Mutex::default(),
            scheduler_wake: Notify::new(),
            executor_wake: Notify::new(),
            feed_runs: Notify::new(),
            maintenance_wake: Notify::new(),
            events: Arc::default(),
            running: Mutex::default(),
            legacy_since: Mutex::default(),
            started: AtomicBool::new(false),
            next_slots: Mutex::default(),
            members: Mutex::new(Arc::from([])),
            owned_configs: AtomicUsize::new(0),
            stopped: CancellationToken::new(),
            metrics: metrics::EngineMetrics::default(),
            resync_requested: AtomicBool::new(false),
            finishes: completer::GroupCommit::default(),
            outcomes: completer::GroupCommit::default(),
            handlers_running: Arc::default(),
            returned: executor::ReturnedRuns::default(),
            firing: tokio::sync::watch::Sender::new(None),
            ends_recording: tokio::sync::Semaphore::new(executor::ENDS_RECORDING),
            scheduler_stopped: CancellationToken::new(),
        });
        Self { shared, handlers }
    }

    /// A handle for the web layer and CLI; valid before and after `run`.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            shared: Some(self.shared.clone()),
        }
    }

    /// Runs until `shutdown` is cancelled: [`Engine::start`], then
    /// [`RunningEngine::run`]. Fails only if the store is unusable at start.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), EngineError> {
        self.start(shutdown).await?.run().await
    }

    /// Start-up: abandons attempts left running by an earlier process
    /// (SQLite: every running attempt; other backends: expired leases),
    /// then loads every job config and records the slots missed while the
    /// service was down. Fails when the store cannot do that, so that a
    /// service can refuse to start rather than serve with no engine behind
    /// it; the handles then see a stopped engine.
    pub async fn start(self, shutdown: CancellationToken) -> Result<RunningEngine, EngineError> {
        let Self { shared, handlers } = self;
        shared.started.store(true, Ordering::SeqCst);
        let single_node = shared.store.backend() == "sqlite";
        let started = async {
            maintenance::rescue(&shared, single_node).await?;
            membership::heartbeat(&shared).await?;
            scheduler::Scheduler::start(shared.clone(), shutdown.clone()).await
        }
        .await;
        match started {
            Ok(scheduler) => Ok(RunningEngine {
                shared,
                handlers,
                scheduler,
                shutdown,
            }),
            Err(e) => {
                shared.stop();
                Err(e)
            }
        }
    }
}

/// An engine past its start-up ([`Engine::start`]).
#[derive(Debug)]
pub struct RunningEngine {
    shared: Arc<Shared>,
    handlers: HandlerRegistry,
    scheduler: scheduler::Scheduler,
    shutdown: CancellationToken,
}

impl RunningEngine {
    /// Runs the scheduler, executor and maintenance loops until the
    /// shutdown token given to [`Engine::start`] is cancelled. On shutdown
    /// the executor stops claiming and waits up to `shutdown_grace` for
    /// running attempts; attempts still running then are left to lease
    /// rescue (abandoned and retried at the next start).
    pub async fn run(self) -> Result<(), EngineError> {
        let Self {
            shared,
            handlers,
            scheduler,
            shutdown,
        } = self;
        let executor = executor::Executor::new(shared.clone(), handlers);
        let maintenance = maintenance::Maintenance::new(shared.clone());
        let (s, e, m, (), ()) = tokio::join!(
            scheduler.run(),
            executor.run(shutdown.clone()),
            maintenance.run(shutdown.clone()),
            coordination::follow(shared.clone(), shutdown.clone()),
            membership::run(shared.clone(), shutdown.clone())
        );
        shared.stop();
        s.and(e).and(m)
    }
}

/// A cheap, cloneable handle to the engine. [`EngineHandle::new`] makes a
/// detached handle (no engine in this process): notifications are no-ops
/// and subscriptions answer [`EngineError::NotRunning`].
#[derive(Debug, Clone, Default)]
pub struct EngineHandle {
    shared: Option<Arc<Shared>>,
}

impl EngineHandle {
    /// A detached handle.
    pub fn new() -> Self {
        Self::default()
    }

    fn shared(&self) -> Result<&Arc<Shared>, EngineError> {
        self.shared.as_ref().ok_or(EngineError::NotRunning)
    }

    /// Something changed in the store: a job config (created, saved,
    /// deleted), the queue of runs, or a cancel request. Does exactly what
    /// the same change arriving over the database's change feed does, so a
    /// write made in this process and one made by another process wake the
    /// engine the same way. A no-op on a detached handle.
    pub fn changed(&self, change: Change) {
        if let Some(s) = &self.shared {
            coordination::apply(s, change);
        }
    }

    /// Whether an engine in this process is behind this handle (started or
    /// not); `false` for a detached handle.
    pub fn is_attached(&self) -> bool {
        self.shared.is_some()
    }

    /// An execution was cancelled before it started: ends its live-event
    /// stream and records its outcome on the config (`lastExecution`), as
    /// the executor does for a run that ended. A no-op on a detached handle.
    pub async fn queued_run_cancelled(&self, execution: &Execution) {
        if let Some(s) = &self.shared {
            s.events
                .end(&execution.id, ExecutionStatus::Cancelled, None);
            executor::record_outcome(s, execution).await;
        }
    }

    /// Makes every engine loop look at the clock again (after a test moved
    /// its clock; harmless otherwise).
    pub fn tick(&self) {
        if let Some(s) = &self.shared {
            s.wake_all();
        }
    }

    /// Live events of an execution. Subscribe first, then read its stored
    /// state: if that is final, no events will come.
    pub fn subscribe(&self, run_id: &str) -> Result<broadcast::Receiver<RunEvent>, EngineError> {
        Ok(self.shared()?.events.subscribe(run_id))
    }

    /// Since when the advancement job runs on legacy defaults (migration
    /// mode), or `None`. The console shows "Using legacy configuration".
    pub fn legacy_in_use(&self) -> Option<Timestamp> {
        self.shared.as_ref().and_then(|s| *s.legacy_since.lock())
    }

    /// The next slot the scheduler holds for a config (`None`: not
    /// scheduled — disabled, deleted, not loaded yet, or no engine).
    pub fn next_slot(&self, config_id: &str) -> Option<Timestamp> {
        self.shared
            .as_ref()
            .and_then(|s| s.next_slots.lock().get(config_id).copied())
    }

    /// Resolves once the engine has stopped; at once for a detached handle.
    /// Live-event streams end on it.
    pub async fn stopped(&self) {
        if let Some(s) = &self.shared {
            s.stopped.cancelled().await;
        }
    }

    /// This process's engine counters (`None` for a detached handle).
    pub fn metrics(&self) -> Option<metrics::MetricsSnapshot> {
        self.shared.as_ref().map(|s| {
            let running = s.running.lock().len();
            let scheduled = s.next_slots.lock().len();
            let owned = s.owned_configs.load(Ordering::Relaxed);
            let instances = s.members.lock().len();
            s.metrics.snapshot(running, scheduled, owned, instances)
        })
    }

    /// Whether an engine is running behind this handle.
    pub fn is_running(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|s| s.started.load(Ordering::SeqCst))
    }
}
