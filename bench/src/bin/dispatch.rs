//! Dispatch latency and execution throughput of one engine, on the real
//! clock and a real store.
//!
//! Scenarios (each on a fresh database):
//! - `minute-N`: N enabled every-minute configs all due at the same minute
//!   boundary; latency is from the slot's instant to its handler's start.
//! - `second-N`: N every-second configs for `--seconds`; latency over every
//!   slot of the window.
//! - `throughput`: `--runs` Run Now requests for no-op jobs spread over 100
//!   configs; executions recorded per second, from the first request to the
//!   last execution stored as final.
//!
//! `cargo run --release -p grove-bench --bin dispatch` runs them on SQLite
//! (a temp file); with `-- --postgres postgres://…` it runs them again on
//! PostgreSQL with one instance and with three (three engines in this
//! process, each with its own connection pool, coordinating through the
//! database as separate processes do), each in a fresh schema dropped
//! afterwards.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_trait::async_trait;
use clap::Parser;
use grove_app::App;
use grove_core::clock::SystemClock;
use grove_core::job_config::{JobConfigPayload, JobType};
use grove_core::registry::JOB_CONFIG;
use grove_engine::{
    Engine, EngineSettings, HandlerRegistry, JobContext, JobFailure, JobHandler, JobOutcome,
};
use grove_store::{ObjectInsert, Store};
use jiff::{SignedDuration, Timestamp, Unit};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct Args {
    /// Also run every scenario on this PostgreSQL database, with 1 and with
    /// 3 instances (each scenario in its own schema).
    #[arg(long)]
    postgres: Option<String>,
    /// Every-minute config counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    minute: Vec<usize>,
    /// Every-second config count.
    #[arg(long, default_value_t = 100)]
    second: usize,
    /// How long the every-second scenario runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Run Now requests in the throughput scenario.
    #[arg(long, default_value_t = 5000)]
    runs: usize,
}

/// Records when each run's handler started, and nothing else.
#[derive(Debug, Default)]
struct Recorder {
    started: Mutex<Vec<(String, Timestamp)>>,
}

#[async_trait]
impl JobHandler for Recorder {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let now = Timestamp::now();
        self.started.lock().push((ctx.run_id, now));
        Ok(JobOutcome::default())
    }
}

impl Recorder {
    fn count(&self) -> usize {
        self.started.lock().len()
    }
    fn take(&self) -> Vec<(String, Timestamp)> {
        std::mem::take(&mut *self.started.lock())
    }
}

/// Where a scenario runs.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    Postgres { url: String, instances: usize },
}

impl Backend {
    fn label(&self) -> String {
        match self {
            Self::Sqlite => "sqlite".to_owned(),
            Self::Postgres { instances, .. } => format!("postgres x{instances}"),
        }
    }
}

/// The stores of a scenario (one per instance) and what to clean up.
struct Stores {
    stores: Vec<Arc<dyn Store>>,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

async fn fresh_stores(backend: &Backend) -> anyhow::Result<Stores> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            Ok(Stores {
                stores: vec![grove_store::open(&url).await?],
                _dir: Some(dir),
                schema: None,
            })
        }
        Backend::Postgres { url, instances } => {
            let schema = format!(
                "grove_bench_{}",
                Timestamp::now().as_millisecond().unsigned_abs()
            );
            let sep = if url.contains('?') { '&' } else { '?' };
            let scoped = format!("{url}{sep}schema={schema}&pool_max=8");
            let mut stores = Vec::new();
            for _ in 0..*instances {
                // `open` migrates; the first creates the schema.
                stores.push(grove_store::open(&scoped).await?);
            }
            Ok(Stores {
                stores,
                _dir: None,
                schema: Some((url.clone(), schema)),
            })
        }
    }
}

async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut conn)
    .await?;
    Ok(())
}

struct Running {
    store: Arc<dyn Store>,
    /// The application of each instance: Run Now goes through it.
    apps: Vec<App>,
    recorder: Arc<Recorder>,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<Result<(), grove_engine::EngineError>>>,
    stores: Stores,
}

async fn insert_configs(
    store: &Arc<dyn Store>,
    prefix: &str,
    n: usize,
    cron: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    let mut payload = JobConfigPayload::default_for(JobType::HealthCheck);
    payload.schedule.cron_expression = Some(cron.to_owned());
    payload.schedule.timezone = "UTC".to_owned();
    payload.schedule.is_enabled = enabled;
    payload.limits.max_concurrent = 1;
    let payload = payload.to_value();
    for i in 0..n {
        store
            .object_insert(ObjectInsert {
                object_type: JOB_CONFIG.to_owned(),
                id: format!("{prefix}-{i}"),
                title: format!("Bench {prefix} {i}"),
                description: None,
                tags: vec![],
                payload: payload.clone(),
                actor: None,
                now: Timestamp::now(),
            })
            .await
            .with_context(|| format!("inserting config {prefix}-{i}"))?;
    }
    Ok(())
}

async fn start(stores: Stores) -> Running {
    let recorder = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let mut apps = Vec::new();
    let mut tasks = Vec::new();
    for store in &stores.stores {
        let settings = EngineSettings {
            // No-op jobs: let as many run at once as the store can record.
            max_running: 256,
            ..EngineSettings::default()
        };
        let engine = Engine::new(
            store.clone(),
            Arc::new(SystemClock),
            HandlerRegistry::uniform(recorder.clone()),
            settings,
        );
        apps.push(App::new(
            store.clone(),
            Arc::new(SystemClock),
            engine.handle(),
        ));
        tasks.push(tokio::spawn(engine.run(shutdown.clone())));
    }
    Running {
        store: stores.stores[0].clone(),
        apps,
        recorder,
        shutdown,
        tasks,
        stores,
    }
}

impl Running {
    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        for task in self.tasks {
            task.await??;
        }
        for store in &self.stores.stores {
            store.close().await;
        }
        if let Some((url, schema)) = &self.stores.schema {
            drop_schema(url, schema).await?;
        }
        Ok(())
    }

    /// Waits until the scheduler holds a slot for every config.
    async fn loaded(&self, prefix: &str, n: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        while (0..n).any(|i| {
            let id = format!("{prefix}-{i}");
            self.apps
                .iter()
                .any(|a| a.engine().next_slot(&id).is_none())
        }) {
            if Instant::now() > deadline {
                bail!("the scheduler did not load {n} configs in 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Latency (slot → handler start) of every recorded run whose slot
    /// lies in `[from, to]`.
    async fn latencies(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> anyhow::Result<(Vec<SignedDuration>, usize)> {
        let mut out = Vec::new();
        let mut outside = 0;
        for (run_id, started) in self.recorder.take() {
            let e = self
                .store
                .execution_get(&run_id)
                .await?
                .with_context(|| format!("execution {run_id} vanished"))?;
            match e.scheduled_for {
                Some(slot) if slot >= from && slot <= to => out.push(started.duration_since(slot)),
                _ => outside += 1,
            }
        }
        Ok((out, outside))
    }
}

fn report(name: &str, mut lat: Vec<SignedDuration>, expected: usize) {
    lat.sort();
    let n = lat.len();
    if n == 0 {
        println!("{name:<28} no runs recorded (expected {expected})");
        return;
    }
    let ms = |d: SignedDuration| d.as_secs_f64() * 1000.0;
    let pick = |p: usize| lat[((n * p) / 100).min(n - 1)];
    println!(
        "{name:<28} runs {n:>6}/{expected:<6} min {:>7.2} ms  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        ms(lat[0]),
        ms(pick(50)),
        ms(pick(99)),
        ms(lat[n - 1]),
    );
}

async fn minute(backend: &Backend, n: usize) -> anyhow::Result<()> {
    let prefix = format!("bench-m{n}");
    let stores = fresh_stores(backend).await?;
    insert_configs(&stores.stores[0], &prefix, n, "* * * * *", true).await?;
    let load = Instant::now();
    let run = start(stores).await;
    run.loaded(&prefix, n).await?;
    let load = load.elapsed();
    // The first boundary at least 3 s away, so that loading is not measured.
    let now = Timestamp::now();
    let mut slot = now.round(Unit::Minute)?;
    while slot.duration_since(now) < SignedDuration::from_secs(3) {
        slot += SignedDuration::from_secs(60);
    }
    eprintln!(
        "minute-{n}: {n} configs loaded in {:.2} s; waiting for {slot}",
        load.as_secs_f64()
    );
    let deadline = Instant::now()
        + Duration::try_from(slot.duration_since(Timestamp::now())).unwrap_or_default()
        + Duration::from_secs(120);
    // Earlier boundaries may fire while waiting; they are counted apart.
    let mut measured = Vec::new();
    let mut outside = 0;
    while measured.len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if run.recorder.count() > 0 {
            let (l, o) = run.latencies(slot, slot).await?;
            measured.extend(l);
            outside += o;
        }
    }
    report(&format!("{} minute-{n}", backend.label()), measured, n);
    if outside > 0 {
        eprintln!("  ({outside} runs of an earlier boundary not counted)");
    }
    run.stop().await
}

async fn second(backend: &Backend, args: &Args) -> anyhow::Result<()> {
    let n = args.second;
    let prefix = format!("bench-s{n}");
    let stores = fresh_stores(backend).await?;
    insert_configs(&stores.stores[0], &prefix, n, "* * * * * *", true).await?;
    let run = start(stores).await;
    run.loaded(&prefix, n).await?;
    let from = Timestamp::now().round(Unit::Second)? + SignedDuration::from_secs(2);
    let window = i64::try_from(args.seconds).unwrap_or(20);
    let to = from + SignedDuration::from_secs(window - 1);
    let until = Duration::try_from(to.duration_since(Timestamp::now()))? + Duration::from_secs(2);
    tokio::time::sleep(until).await;
    let (lat, _) = run.latencies(from, to).await?;
    let expected = n * usize::try_from(window).unwrap_or(0);
    report(&format!("{} second-{n}", backend.label()), lat, expected);
    run.stop().await
}

async fn throughput(backend: &Backend, args: &Args) -> anyhow::Result<()> {
    const CONFIGS: usize = 100;
    let stores = fresh_stores(backend).await?;
    insert_configs(&stores.stores[0], "bench-t", CONFIGS, "0 0 1 1 *", false).await?;
    let run = start(stores).await;
    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = args.runs.div_ceil(8);
    for t in 0..8 {
        // Requests arrive at every instance.
        let app = run.apps[t % run.apps.len()].clone();
        let count = per_task.min(args.runs.saturating_sub(t * per_task));
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for i in 0..count {
                let config = format!("bench-t-{}", (t * per_task + i) % CONFIGS);
                ids.push(
                    app.run_now(&config, &grove_app::Caller::named("bench"))
                        .await?
                        .id,
                );
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::new();
    while let Some(r) = tasks.join_next().await {
        ids.extend(r??);
    }
    let enqueued = began.elapsed();
    let mut pending: HashMap<String, ()> = ids.into_iter().map(|id| (id, ())).collect();
    while !pending.is_empty() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut done = Vec::new();
        for id in pending.keys() {
            if let Some(e) = run.store.execution_get(id).await?
                && e.status.is_final()
            {
                done.push(id.clone());
            }
        }
        for id in done {
            pending.remove(&id);
        }
        if began.elapsed() > Duration::from_secs(600) {
            bail!(
                "{} executions still not final after 10 minutes",
                pending.len()
            );
        }
    }
    let total = began.elapsed();
    println!(
        "{:<28} runs {:>6}  enqueued in {:.2} s  all final in {:.2} s  {:>8.0} executions/s",
        format!("{} throughput", backend.label()),
        args.runs,
        enqueued.as_secs_f64(),
        total.as_secs_f64(),
        args.runs as f64 / total.as_secs_f64()
    );
    run.stop().await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut backends = vec![Backend::Sqlite];
    if let Some(url) = &args.postgres {
        for instances in [1, 3] {
            backends.push(Backend::Postgres {
                url: url.clone(),
                instances,
            });
        }
    }
    println!("grove-jobs dispatch bench");
    for backend in &backends {
        for &n in args.minute.iter().filter(|&&n| n > 0) {
            minute(backend, n).await?;
        }
        if args.second > 0 {
            second(backend, &args).await?;
        }
        if args.runs > 0 {
            throughput(backend, &args).await?;
        }
    }
    Ok(())
}
