//! Test harness, test handlers and "eventually".

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use grove_app::{App, AppError};
use grove_core::clock::TestClock;
use grove_core::job_config::{JobConfigPayload, JobType};
use grove_core::registry::JOB_CONFIG;
use grove_engine::{
    Engine, EngineHandle, EngineSettings, HandlerRegistry, JobContext, JobFailure, JobHandler,
    JobOutcome,
};
use grove_store::sqlite::SqliteStore;
use grove_store::{Change, Execution, ObjectInsert, ObjectUpdate, Store, StoredObject};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// Settings with short real-time intervals, long clock-time ones. The
/// lease is a day: tests jump the clock by minutes while a handler runs,
/// which in real life would take heartbeats along.
pub fn settings() -> EngineSettings {
    EngineSettings {
        // The tests' HTTP servers listen on loopback: allowed by name, as an
        // operator would (the default policy refuses loopback).
        outbound: local_outbound(),
        lease: Duration::from_secs(86_400),
        heartbeat: Duration::from_millis(50),
        grace: Duration::from_millis(100),
        maintenance_interval: Duration::from_secs(3600),
        resync_interval: Duration::from_secs(3600),
        shutdown_grace: Duration::from_millis(500),
        ..EngineSettings::default()
    }
}

/// An outbound policy that allows this machine's loopback addresses.
pub fn local_outbound() -> Arc<grove_core::outbound::OutboundPolicy> {
    Arc::new(grove_core::outbound::OutboundPolicy::parse("127.0.0.0/8,::1,localhost").unwrap())
}

/// The engine's handle, plus the operator requests tests drive it with:
/// Run Now, Retry and Cancel go through the application layer, as they do
/// in the service.
pub struct TestHandle {
    engine: EngineHandle,
    app: App,
}

impl TestHandle {
    fn new(store: &Arc<dyn Store>, clock: &TestClock, engine: EngineHandle) -> Self {
        Self {
            app: App::new(store.clone(), Arc::new(clock.clone()), engine.clone()),
            engine,
        }
    }

    pub async fn run_now(&self, id: &str, actor: Option<&str>) -> Result<Execution, AppError> {
        self.app
            .run_now(id, &grove_app::Caller::named(actor.unwrap_or("tester")))
            .await
    }

    pub async fn retry(&self, run_id: &str, actor: Option<&str>) -> Result<Execution, AppError> {
        self.app
            .retry(run_id, &grove_app::Caller::named(actor.unwrap_or("tester")))
            .await
    }

    pub async fn cancel(&self, run_id: &str) -> Result<Execution, AppError> {
        self.app
            .cancel(run_id, &grove_app::Caller::named("tester"))
            .await
    }
}

impl Deref for TestHandle {
    type Target = EngineHandle;

    fn deref(&self) -> &EngineHandle {
        &self.engine
    }
}

pub struct Harness {
    pub store: Arc<dyn Store>,
    pub clock: TestClock,
    pub handle: TestHandle,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<Result<(), grove_engine::EngineError>>>,
    _dir: tempfile::TempDir,
}

pub async fn fresh_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("grove.db");
    let store = SqliteStore::open(path.to_str().expect("utf-8"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    (Arc::new(store), dir)
}

/// A migrated PostgreSQL store in a schema of its own (named after
/// `test`), or `None` outside CI without `GROVE_TEST_DATABASE_URL`.
pub async fn postgres_store(test: &str) -> Option<Arc<dyn Store>> {
    let url = match std::env::var("GROVE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|ci| !matches!(ci.as_str(), "" | "0" | "false")) => {
            panic!(
                "GROVE_TEST_DATABASE_URL is not set but CI is: the PostgreSQL engine test must run"
            )
        }
        _ => return None,
    };
    let tag: String = test
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    let schema = format!(
        "engine_{tag}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    );
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = grove_store::open(&format!("{url}{sep}schema={schema}"))
        .await
        .expect("open postgres");
    store.migrate().await.expect("migrate");
    Some(store)
}

impl Harness {
    /// A store and clock, engine not started yet.
    pub async fn new(now: &str) -> Self {
        let (store, dir) = fresh_store().await;
        Self {
            _dir: dir,
            ..Self::on_store(store, now)
        }
    }

    /// A harness over an existing store (grove data loaded by a test).
    pub fn on_store(store: Arc<dyn Store>, now: &str) -> Self {
        let clock = TestClock::new(at(now));
        Self {
            handle: TestHandle::new(&store, &clock, EngineHandle::new()),
            store,
            clock,
            shutdown: CancellationToken::new(),
            task: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn start(&mut self, handlers: HandlerRegistry, settings: EngineSettings) {
        let engine = Engine::new(
            self.store.clone(),
            Arc::new(self.clock.clone()),
            handlers,
            settings,
        );
        self.handle = TestHandle::new(&self.store, &self.clock, engine.handle());
        self.task = Some(tokio::spawn(engine.run(self.shutdown.clone())));
    }

    pub async fn started(handlers: HandlerRegistry, now: &str) -> Self {
        let mut h = Self::new(now).await;
        h.start(handlers, settings());
        h
    }

    /// Moves the clock and makes the engine look at it.
    pub fn advance(&self, secs: i64) {
        self.clock.advance(SignedDuration::from_secs(secs));
        self.handle.tick();
    }

    pub fn set(&self, to: &str) {
        self.clock.set(at(to));
        self.handle.tick();
    }

    pub async fn stop(mut self) {
        self.halt().await;
    }

    /// Ends the engine as a crash would: its tasks are dropped where they
    /// are, nothing is handed over (its registration, its leases).
    pub fn crash(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Stops the engine and waits for it, keeping the store: the next
    /// [`Harness::start`] is a restart of the service.
    pub async fn halt(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("engine task").expect("engine result");
        }
        self.shutdown = CancellationToken::new();
    }

    pub async fn insert_config(&self, id: &str, payload: &JobConfigPayload) -> StoredObject {
        let obj = self
            .store
            .object_insert(ObjectInsert {
                object_type: JOB_CONFIG.to_owned(),
                id: id.to_owned(),
                title: format!("Job {id}"),
                description: None,
                tags: vec![],
                payload: payload.to_value(),
                actor: Some("tester".to_owned()),
                now: self.clock.now_ts(),
            })
            .await
            .expect("insert config");
        self.handle.changed(Change::Config(id.to_owned()));
        obj
    }

    pub async fn update_config(&self, id: &str, payload: &JobConfigPayload) -> StoredObject {
        let current = self.config(id).await;
        let obj = self
            .store
            .object_update(ObjectUpdate {
                object_type: JOB_CONFIG.to_owned(),
                id: id.to_owned(),
                expected_version: current.meta.version,
                title: current.meta.title,
                description: None,
                tags: vec![],
                payload: payload.to_value(),
                actor: Some("tester".to_owned()),
                now: self.clock.now_ts(),
            })
            .await
            .expect("update config");
        self.handle.changed(Change::Config(id.to_owned()));
        obj
    }

    /// Waits until the scheduler holds `slot` as the config's next slot.
    pub async fn scheduled(&self, id: &str, slot: &str) {
        let slot = at(slot);
        eventually("the scheduler to pick up the config", || async {
            (self.handle.next_slot(id) == Some(slot)).then_some(())
        })
        .await;
    }

    pub async fn config(&self, id: &str) -> StoredObject {
        self.store
            .object_get(JOB_CONFIG, id)
            .await
            .expect("get")
            .expect("exists")
    }

    pub async fn executions(&self, config_id: &str) -> Vec<Execution> {
        self.store
            .execution_list(config_id, 1000)
            .await
            .expect("list")
    }

    pub async fn execution(&self, id: &str) -> Execution {
        self.store
            .execution_get(id)
            .await
            .expect("get")
            .expect("exists")
    }

    /// Waits until the execution satisfies `pred`.
    pub async fn wait_for(
        &self,
        id: &str,
        what: &str,
        pred: impl Fn(&Execution) -> bool,
    ) -> Execution {
        eventually(what, || async {
            let e = self.execution(id).await;
            pred(&e).then_some(e)
        })
        .await
    }

    pub async fn wait_final(&self, id: &str) -> Execution {
        self.wait_for(id, "the execution to end", |e| e.status.is_final())
            .await
    }
}

pub trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for TestClock {
    fn now_ts(&self) -> Timestamp {
        grove_core::clock::Clock::now(self)
    }
}

/// Polls `f` until it answers `Some`, for at most 10 s of real time.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A job config of `job_type`, enabled, in UTC, with `cron`.
pub fn config(job_type: JobType, cron: &str) -> JobConfigPayload {
    let mut p = JobConfigPayload::default_for(job_type);
    p.schedule.cron_expression = Some(cron.to_owned());
    p.schedule.timezone = "UTC".to_owned();
    p.schedule.is_enabled = true;
    p
}

pub fn health(cron: &str) -> JobConfigPayload {
    config(JobType::HealthCheck, cron)
}

// ---- test handlers ----

/// Succeeds with 3 items.
#[derive(Debug, Default)]
pub struct Succeed {
    pub calls: AtomicU32,
}

#[async_trait]
impl JobHandler for Succeed {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        ctx.log
            .info(format!("working in batches of {}", ctx.batch_size));
        ctx.progress.set_total(3);
        ctx.progress.add(3, 0);
        Ok(JobOutcome {
            processed: 3,
            total: Some(3),
            succeeded: 3,
            failed: 0,
            metadata: serde_json::Map::new(),
            partial_reason: None,
        })
    }
}

/// Succeeds with 1 of 4 items failed.
#[derive(Debug, Default)]
pub struct Partial;

#[async_trait]
impl JobHandler for Partial {
    async fn run(&self, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        Ok(JobOutcome {
            processed: 4,
            total: Some(4),
            succeeded: 3,
            failed: 1,
            metadata: serde_json::Map::new(),
            partial_reason: None,
        })
    }
}

/// Fails the first `n` calls, then succeeds.
#[derive(Debug, Default)]
pub struct FailTimes {
    pub n: u32,
    pub calls: AtomicU32,
}

impl FailTimes {
    pub fn new(n: u32) -> Self {
        Self {
            n,
            calls: AtomicU32::new(0),
        }
    }
}

#[async_trait]
impl JobHandler for FailTimes {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call <= self.n {
            ctx.log.error(format!("failing on purpose ({call})"));
            return Err(JobFailure::new(format!("failure number {call}")));
        }
        Ok(JobOutcome::default())
    }
}

/// Sleeps for an hour and ignores cancellation.
#[derive(Debug, Default)]
pub struct Hang;

#[async_trait]
impl JobHandler for Hang {
    async fn run(&self, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(JobOutcome::default())
    }
}

/// Panics on the first call, succeeds afterwards.
#[derive(Debug, Default)]
pub struct PanicOnce {
    pub calls: AtomicU32,
}

#[async_trait]
impl JobHandler for PanicOnce {
    async fn run(&self, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("boom");
        }
        Ok(JobOutcome::default())
    }
}

/// Runs until released or cancelled (cooperatively).
#[derive(Debug, Default)]
pub struct Gate {
    pub release: Notify,
    pub calls: AtomicU32,
}

#[async_trait]
impl JobHandler for Gate {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::select! {
            () = self.release.notified() => Ok(JobOutcome::default()),
            () = ctx.cancel.cancelled() => Err(JobFailure::new("stopped on request")),
        }
    }
}

pub fn uniform(h: Arc<dyn JobHandler>) -> HandlerRegistry {
    HandlerRegistry::uniform(h)
}
