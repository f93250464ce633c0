//! A fresh store, a test clock, an engine (started or not) and the app
//! over them.

use grove_app::Caller;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use grove_app::App;
use grove_core::clock::TestClock;
use grove_core::job_config::{JobConfigPayload, JobType};
use grove_engine::{Engine, EngineHandle, EngineSettings, HandlerRegistry};
use grove_store::Store;
use grove_store::sqlite::SqliteStore;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const T0: &str = "2026-03-01T01:00:00Z";

pub fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

pub struct TestApp {
    pub app: App,
    pub store: Arc<dyn Store>,
    pub engine: EngineHandle,
    pub clock: Arc<TestClock>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

/// Long real-time intervals: nothing but a wake-up makes the engine look
/// at a config soon.
fn settings() -> EngineSettings {
    EngineSettings {
        resync_interval: Duration::from_secs(3600),
        maintenance_interval: Duration::from_secs(3600),
        ..EngineSettings::default()
    }
}

impl TestApp {
    /// An app with an engine attached but not started: runs are queued
    /// and stay queued.
    pub async fn new() -> Self {
        Self::build(false).await
    }

    /// An app with a running engine.
    pub async fn started() -> Self {
        Self::build(true).await
    }

    async fn build(start: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("grove.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8"))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let store: Arc<dyn Store> = Arc::new(store);
        let clock = Arc::new(TestClock::new(at(T0)));
        let settings = settings();
        let engine = Engine::new(
            store.clone(),
            clock.clone(),
            HandlerRegistry::builtin(&settings),
            settings,
        );
        let handle = engine.handle();
        let shutdown = CancellationToken::new();
        if start {
            tokio::spawn(engine.run(shutdown.clone()));
        }
        Self {
            app: App::new(store.clone(), clock.clone(), handle.clone()),
            store,
            clock,
            engine: handle,
            shutdown,
            _dir: dir,
        }
    }

    /// Creates a health-check job config (schedule off unless `enabled`).
    pub async fn job(&self, id: &str, enabled: bool) -> grove_store::StoredObject {
        self.app
            .create(
                grove_app::objects::object_type("job-config").expect("registered"),
                &job_body(id, "0 2 * * *", enabled),
                &Caller::named("tester"),
            )
            .await
            .expect("create job")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// `{meta, payload}` of a health-check job config.
pub fn job_body(id: &str, cron: &str, enabled: bool) -> Value {
    let mut payload = JobConfigPayload::default_for(JobType::HealthCheck);
    payload.schedule.cron_expression = Some(cron.to_owned());
    payload.schedule.timezone = "UTC".to_owned();
    payload.schedule.is_enabled = enabled;
    json!({"meta": {"id": id, "title": format!("Job {id}")}, "payload": payload.to_value()})
}

/// Polls `f` until it answers `Some`, for up to five seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
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
