//! Dispatch latency, execution throughput, API latency under load and
//! memory of grove-jobs, on the real clock and a real store.
//!
//! Scenarios (each in a fresh process on a fresh database):
//! - `minute-N`: N enabled every-minute configs all due at the same minute
//!   boundary; latency is from the slot's instant to its handler's start.
//! - `second-N`: N every-second configs for `--seconds`; latency over every
//!   slot of the window.
//! - `throughput`: `--runs` Run Now requests for no-op jobs spread over 100
//!   configs; executions recorded per second, from the first request to the
//!   last execution stored as final.
//! - `api-load`: a real `grove-jobs serve` (the built binary) with
//!   `--api-jobs` every-second jobs firing while `--api-clients` HTTP
//!   clients mix list, create, merge-patch and metrics calls; latency is
//!   the API's, request to full response.
//! - `rss-N`: a real `serve` on a database holding N enabled configs; its
//!   peak resident memory once loaded.
//!
//! `cargo run --release -p grove-bench --bin dispatch` runs them on SQLite
//! (a temp file); with `-- --postgres postgres://…` also on PostgreSQL with
//! each of `--instances` (1 and 3: that many engines in one process, each
//! with its own connection pool, coordinating through the database as
//! separate processes do), each in a fresh schema dropped afterwards.
//! `--json` prints one JSON object per scenario and backend, one a line.
//!
//! Every scenario runs in a child process of its own (this binary with a
//! hidden `--child-scenario`), so that `rss_mib`, the process's peak
//! resident memory (VmHWM), belongs to that scenario alone.

use std::collections::HashMap;
use std::path::PathBuf;
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
use grove_store::{ExecutionInsert, InsertDisposition, ObjectInsert, Store, Trigger};
use jiff::{SignedDuration, Timestamp, Unit};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct Args {
    /// One JSON object per scenario and backend, one a line, on stdout.
    #[arg(long)]
    json: bool,
    /// Also run every scenario on this PostgreSQL database (a scratch one),
    /// with each of `--instances` (each scenario in its own schema).
    #[arg(long)]
    postgres: Option<String>,
    /// Instance counts to run on PostgreSQL (api-load and rss run with 1).
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    instances: Vec<usize>,
    /// Skip SQLite (only with --postgres).
    #[arg(long)]
    no_sqlite: bool,
    /// Scenario kinds to run: minute, second, throughput, api-load, rss.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "minute,second,throughput,api-load,rss"
    )]
    only: Vec<String>,
    /// Every-minute config counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    minute: Vec<usize>,
    /// Every-second config count.
    #[arg(long, default_value_t = 1000)]
    second: usize,
    /// How long the every-second scenario runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Run Now requests in the throughput scenario.
    #[arg(long, default_value_t = 5000)]
    runs: usize,
    /// Concurrent callers asking for those runs in the throughput scenario
    /// (each asks for its next run once its last was accepted).
    #[arg(long, default_value_t = 8)]
    callers: usize,
    /// Finished executions each config of the throughput scenario has
    /// before it starts: a service that has run a while keeps up to its
    /// retention (200 by default) per config.
    #[arg(long, default_value_t = 0)]
    history: usize,
    /// Concurrent HTTP clients in api-load.
    #[arg(long, default_value_t = 32)]
    api_clients: usize,
    /// Every-second jobs firing during api-load.
    #[arg(long, default_value_t = 20)]
    api_jobs: usize,
    /// How long api-load sends requests.
    #[arg(long, default_value_t = 20)]
    api_seconds: u64,
    /// Enabled configs in the rss scenario (daily, so none fires).
    #[arg(long, default_value_t = 10_000)]
    rss_configs: usize,
    /// The grove-jobs binary api-load and rss start [default:
    /// target/release/grove-jobs of this workspace].
    #[arg(long, env = "GROVE_JOBS_BIN")]
    serve_bin: Option<PathBuf>,
    /// Count the SQL statements each scenario runs (from sqlx's statement
    /// log; costs time, so do not compare latencies of such a run) and
    /// report them per execution.
    #[arg(long)]
    count_statements: bool,
    #[arg(long, hide = true)]
    child_scenario: Option<String>,
    #[arg(long, hide = true)]
    child_backend: Option<String>,
    #[arg(long, hide = true, default_value_t = 1)]
    child_instances: usize,
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
    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }
    fn instances(&self) -> usize {
        match self {
            Self::Sqlite => 1,
            Self::Postgres { instances, .. } => *instances,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Scenario {
    Minute(usize),
    Second(usize),
    Throughput,
    ApiLoad,
    Rss(usize),
}

impl Scenario {
    fn name(&self) -> String {
        match self {
            Self::Minute(n) => format!("minute-{n}"),
            Self::Second(n) => format!("second-{n}"),
            Self::Throughput => "throughput".to_owned(),
            Self::ApiLoad => "api-load".to_owned(),
            Self::Rss(n) => format!("rss-{n}"),
        }
    }
    fn parse(s: &str) -> anyhow::Result<Self> {
        let n = |rest: &str| {
            rest.parse::<usize>()
                .with_context(|| format!("scenario {s}"))
        };
        Ok(match s {
            "throughput" => Self::Throughput,
            "api-load" => Self::ApiLoad,
            _ => match s.split_once('-') {
                Some(("minute", rest)) => Self::Minute(n(rest)?),
                Some(("second", rest)) => Self::Second(n(rest)?),
                Some(("rss", rest)) => Self::Rss(n(rest)?),
                _ => bail!("unknown scenario {s}"),
            },
        })
    }
    /// Scenarios that start a real `serve` run once per backend.
    fn single_instance(&self) -> bool {
        matches!(self, Self::ApiLoad | Self::Rss(_))
    }
}

/// What one scenario measured.
#[derive(Debug)]
struct Outcome {
    runs: usize,
    expected: usize,
    latencies: Vec<SignedDuration>,
    executions_per_s: Option<f64>,
    rss_mib: f64,
    extra: serde_json::Map<String, Value>,
    /// Statements counted in the measured part only (--count-statements).
    statements: Option<Vec<(String, u64)>>,
}

impl Outcome {
    fn new(runs: usize, expected: usize, latencies: Vec<SignedDuration>) -> Self {
        Self {
            runs,
            expected,
            latencies,
            executions_per_s: None,
            rss_mib: peak_rss_mib(None).unwrap_or(f64::NAN),
            extra: serde_json::Map::new(),
            statements: None,
        }
    }

    fn to_json(&self, scenario: &Scenario, backend: &Backend) -> Value {
        let (p50, p99, max) = percentiles(&self.latencies);
        let mut v = json!({
            "scenario": scenario.name(),
            "backend": backend.name(),
            "instances": backend.instances(),
            "runs": self.runs,
            "expected": self.expected,
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max,
            "executions_per_s": self.executions_per_s.map(round2),
            "rss_mib": round2(self.rss_mib),
        });
        if let Value::Object(map) = &mut v {
            map.extend(self.extra.clone());
        }
        v
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// p50, p99 and max in milliseconds (null when there is no sample).
fn percentiles(lat: &[SignedDuration]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let mut lat = lat.to_vec();
    lat.sort();
    let n = lat.len();
    if n == 0 {
        return (None, None, None);
    }
    let ms = |d: SignedDuration| round2(d.as_secs_f64() * 1000.0);
    let pick = |p: usize| lat[((n * p) / 100).min(n - 1)];
    (Some(ms(pick(50))), Some(ms(pick(99))), Some(ms(lat[n - 1])))
}

/// Peak resident memory (VmHWM) of this process or of `pid`, in MiB.
fn peak_rss_mib(pid: Option<u32>) -> Option<f64> {
    proc_status_kib(pid, "VmHWM:").map(|kib| kib as f64 / 1024.0)
}

fn proc_status_kib(pid: Option<u32>, key: &str) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// One human-readable line for a JSON outcome.
fn human_line(v: &Value) -> String {
    let label = match (v["backend"].as_str(), v["instances"].as_u64()) {
        (Some("postgres"), Some(n)) => format!("postgres x{n}"),
        (Some(b), _) => b.to_owned(),
        _ => "?".to_owned(),
    };
    let name = format!("{label} {}", v["scenario"].as_str().unwrap_or("?"));
    let ms = |k: &str| {
        v[k].as_f64()
            .map_or_else(|| "      -".to_owned(), |x| format!("{x:>8.2}"))
    };
    let mut line = format!(
        "{name:<28} runs {:>6}/{:<6} p50 {} ms  p99 {} ms  max {} ms  rss {:>7.1} MiB",
        v["runs"],
        v["expected"],
        ms("p50_ms"),
        ms("p99_ms"),
        ms("max_ms"),
        v["rss_mib"].as_f64().unwrap_or(f64::NAN),
    );
    if let Some(x) = v["executions_per_s"].as_f64() {
        line.push_str(&format!("  {x:>8.0} executions/s"));
    }
    if let Some(x) = v["requests_per_s"].as_f64() {
        line.push_str(&format!("  {x:>6.0} requests/s  errors {}", v["errors"]));
    }
    line
}

/// The stores of a scenario (one per instance) and what to clean up.
struct Stores {
    stores: Vec<Arc<dyn Store>>,
    /// The URL a separate process opens to reach the same database.
    url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl Stores {
    async fn close(&self) -> anyhow::Result<()> {
        for store in &self.stores {
            store.close().await;
        }
        if let Some((url, schema)) = &self.schema {
            drop_schema(url, schema).await?;
        }
        Ok(())
    }
}

async fn fresh_stores(backend: &Backend) -> anyhow::Result<Stores> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            Ok(Stores {
                stores: vec![grove_store::open(&url).await?],
                url,
                _dir: Some(dir),
                schema: None,
            })
        }
        Backend::Postgres { url, instances } => {
            let schema = format!(
                "grove_bench_{}_{}",
                Timestamp::now().as_millisecond().unsigned_abs(),
                std::process::id()
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
                url: scoped,
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

/// `per_config` finished executions of each of the `n` configs (skipped
/// slots of the last days: final rows, as a retained history is).
async fn insert_history(
    store: &Arc<dyn Store>,
    prefix: &str,
    n: usize,
    per_config: usize,
) -> anyhow::Result<()> {
    let mut payload = JobConfigPayload::default_for(JobType::HealthCheck);
    payload.limits.max_concurrent = 1;
    let now = Timestamp::now();
    let rows: Vec<ExecutionInsert> = (0..per_config)
        .flat_map(|k| (0..n).map(move |i| (k, i)))
        .map(|(k, i)| {
            let slot = now - SignedDuration::from_mins(i64::try_from(k + 1).unwrap_or(i64::MAX));
            ExecutionInsert {
                id: format!("history-{i}-{k}"),
                config_id: format!("{prefix}-{i}"),
                trigger: Trigger::Schedule,
                scheduled_for: Some(slot),
                due_at: None,
                late: false,
                payload: payload.to_value(),
                config_version: 1,
                retry: payload.retry,
                max_concurrent: 1,
                retry_of: None,
                parent_run_id: None,
                overrides: None,
                actor: None,
                disposition: InsertDisposition::Skip("bench history".to_owned()),
                now: slot,
            }
        })
        .collect();
    for chunk in rows.chunks(1000) {
        store
            .execution_insert_slots(chunk.to_vec())
            .await
            .context("inserting the history")?;
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
        self.stores.close().await
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

async fn minute(backend: &Backend, n: usize) -> anyhow::Result<Outcome> {
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
    if outside > 0 {
        eprintln!("  ({outside} runs of an earlier boundary not counted)");
    }
    let mut out = Outcome::new(measured.len(), n, measured);
    out.extra
        .insert("load_s".to_owned(), json!(round2(load.as_secs_f64())));
    run.stop().await?;
    Ok(out)
}

async fn second(backend: &Backend, n: usize, seconds: u64) -> anyhow::Result<Outcome> {
    let prefix = format!("bench-s{n}");
    let stores = fresh_stores(backend).await?;
    insert_configs(&stores.stores[0], &prefix, n, "* * * * * *", true).await?;
    let run = start(stores).await;
    run.loaded(&prefix, n).await?;
    let from = Timestamp::now().round(Unit::Second)? + SignedDuration::from_secs(2);
    let window = i64::try_from(seconds).unwrap_or(20);
    let to = from + SignedDuration::from_secs(window - 1);
    let until = Duration::try_from(to.duration_since(Timestamp::now()))? + Duration::from_secs(2);
    tokio::time::sleep(until).await;
    let (lat, _) = run.latencies(from, to).await?;
    let expected = n * usize::try_from(window).unwrap_or(0);
    let out = Outcome::new(lat.len(), expected, lat);
    run.stop().await?;
    Ok(out)
}

async fn throughput(
    backend: &Backend,
    runs: usize,
    callers: usize,
    history: usize,
) -> anyhow::Result<Outcome> {
    const CONFIGS: usize = 100;
    let stores = fresh_stores(backend).await?;
    insert_configs(&stores.stores[0], "bench-t", CONFIGS, "0 0 1 1 *", false).await?;
    insert_history(&stores.stores[0], "bench-t", CONFIGS, history).await?;
    let run = start(stores).await;
    // --count-statements: count the measured part only.
    let _ = sqlcount::take();
    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let callers = callers.max(1);
    let per_task = runs.div_ceil(callers);
    for t in 0..callers {
        // Requests arrive at every instance.
        let app = run.apps[t % run.apps.len()].clone();
        let count = per_task.min(runs.saturating_sub(t * per_task));
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for i in 0..count {
                let config = format!("bench-t-{}", (t * per_task + i) % CONFIGS);
                let asked = Timestamp::now();
                let id = app
                    .run_now(&config, &grove_app::Caller::named("bench"))
                    .await?
                    .id;
                ids.push((id, asked));
            }
            anyhow::Ok(ids)
        });
    }
    let mut accepted = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        accepted.extend(r??);
    }
    let enqueued = began.elapsed();
    // Done when the engines have stored every execution as final: their
    // counters say so without loading the store with polling reads.
    let finished = || -> u64 {
        run.apps
            .iter()
            .filter_map(|a| a.engine().metrics())
            .map(|m| m.finished.iter().map(|(_, n)| n).sum::<u64>())
            .sum()
    };
    while finished() < runs as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if began.elapsed() > Duration::from_secs(600) {
            bail!(
                "{} executions still not final after 10 minutes",
                runs as u64 - finished()
            );
        }
    }
    let total = began.elapsed();
    let counted = sqlcount::take();
    // Outside the timing: check that the store agrees.
    for id in accepted.keys() {
        match run.store.execution_get(id).await? {
            Some(e) if e.status.is_final() => {}
            other => bail!(
                "execution {id} counted as finished but stored as {:?}",
                other.map(|e| e.status)
            ),
        }
    }
    // Latency here: Run Now asked → handler started.
    let lat: Vec<SignedDuration> = run
        .recorder
        .take()
        .into_iter()
        .filter_map(|(id, started)| accepted.get(&id).map(|a| started.duration_since(*a)))
        .collect();
    let mut out = Outcome::new(lat.len(), runs, lat);
    out.executions_per_s = Some(runs as f64 / total.as_secs_f64());
    out.statements = Some(counted);
    out.extra.insert("callers".to_owned(), json!(callers));
    out.extra.insert(
        "enqueued_s".to_owned(),
        json!(round2(enqueued.as_secs_f64())),
    );
    out.extra
        .insert("all_final_s".to_owned(), json!(round2(total.as_secs_f64())));
    run.stop().await?;
    Ok(out)
}

mod serve {
    //! A real `grove-jobs serve` child process and an HTTP client for it.

    use std::path::Path;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use anyhow::{Context, bail};
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::{Method, Request, StatusCode, header};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use std::io::{BufRead, BufReader};

    /// The child, killed when this is dropped (also while a panic unwinds).
    #[derive(Debug)]
    pub struct Serve {
        child: std::process::Child,
        pub pid: u32,
        pub base: String,
        pub token: String,
        pub ready_in: Duration,
        client: Client<HttpConnector, Full<Bytes>>,
    }

    impl Drop for Serve {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Serve {
        /// Starts `bin serve` on `database_url`, listening on a free port of
        /// 127.0.0.1; its log goes to `log`.
        pub async fn start(bin: &Path, database_url: &str, log: &Path) -> anyhow::Result<Self> {
            if !bin.exists() {
                bail!(
                    "{} does not exist: build it first (cargo build --release -p grove-jobs) or pass --serve-bin",
                    bin.display()
                );
            }
            let token = format!(
                "bench-admin-{}-{}",
                std::process::id(),
                jiff::Timestamp::now().as_nanosecond()
            );
            let began = Instant::now();
            let mut child = std::process::Command::new(bin)
                .args(["serve", "--bind", "127.0.0.1:0", "--no-seed"])
                .arg("--database-url")
                .arg(database_url)
                .env("GROVE_ADMIN_TOKEN", &token)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(log)?)
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            let pid = child.id();
            let stdout = child.stdout.take().context("no stdout")?;
            let client = Client::builder(TokioExecutor::new()).build_http();
            // From here on, dropping `serve` kills the child.
            let mut serve = Self {
                child,
                pid,
                base: String::new(),
                token,
                ready_in: Duration::ZERO,
                client,
            };
            // A thread reads its stdout to the end (so that it never blocks
            // on a full pipe) and hands over the API line.
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.trim().strip_prefix("API:")
                        && let Some(tx) = tx.take()
                    {
                        let url = rest.split_whitespace().next().unwrap_or_default();
                        let _ = tx.send(url.trim_end_matches("/api/v1").to_owned());
                    }
                }
            });
            let base = match tokio::time::timeout(Duration::from_secs(600), rx).await {
                Ok(Ok(base)) => base,
                Ok(Err(_)) => bail!(
                    "serve ended before it printed its address; its log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                ),
                Err(_) => bail!("serve did not get ready in 10 minutes"),
            };
            if !base.starts_with("http://127.0.0.1:") {
                bail!("serve listens on {base}, not on 127.0.0.1");
            }
            serve.base = base;
            serve.ready_in = began.elapsed();
            Ok(serve)
        }

        /// One authenticated call; the status and the whole body.
        pub async fn call(
            &self,
            method: Method,
            path: &str,
            content_type: &str,
            body: Option<String>,
        ) -> anyhow::Result<(StatusCode, Bytes)> {
            let mut req = Request::builder()
                .method(method)
                .uri(format!("{}{path}", self.base))
                .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
            if body.is_some() {
                req = req.header(header::CONTENT_TYPE, content_type);
            }
            let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
            let resp = self.client.request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok((status, body))
        }

        /// A call that must succeed.
        pub async fn must(
            &self,
            method: Method,
            path: &str,
            body: Option<String>,
        ) -> anyhow::Result<Bytes> {
            let (status, body) = self
                .call(method.clone(), path, "application/json", body)
                .await?;
            if !status.is_success() {
                bail!(
                    "{method} {path}: {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            Ok(body)
        }
    }
}

/// A job config as the API takes it: a health check of the database only.
fn api_job(id: &str, cron: &str, enabled: bool) -> String {
    json!({
        "meta": {"id": id, "title": format!("Bench {id}")},
        "payload": {
            "jobType": "health-check",
            "schedule": {"cronExpression": cron, "timezone": "UTC", "isEnabled": enabled},
            "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 1, "maxDelaySeconds": 1},
            "limits": {"batchSize": 10, "timeoutSeconds": 30, "maxConcurrent": 1},
            "parameters": {"checks": ["database"], "alertThreshold": "critical"}
        }
    })
    .to_string()
}

fn serve_bin(args: &Args) -> PathBuf {
    args.serve_bin.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/grove-jobs")
    })
}

async fn api_load(backend: &Backend, args: &Args) -> anyhow::Result<Outcome> {
    use hyper::Method;
    let stores = fresh_stores(backend).await?;
    // The server process owns the database; this one only cleans up.
    for s in &stores.stores {
        s.close().await;
    }
    let log = tempfile::NamedTempFile::new()?;
    let srv = Arc::new(serve::Serve::start(&serve_bin(args), &stores.url, log.path()).await?);
    for i in 0..args.api_jobs {
        srv.must(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(api_job(&format!("tick-{i}"), "* * * * * *", true)),
        )
        .await?;
    }
    for c in 0..args.api_clients {
        srv.must(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(api_job(&format!("pool-{c}"), "0 3 * * *", false)),
        )
        .await?;
    }
    // Let the every-second jobs start firing first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let began = Instant::now();
    let deadline = began + Duration::from_secs(args.api_seconds);
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..args.api_clients {
        let srv = srv.clone();
        clients.spawn(async move {
            let mut samples: Vec<(&'static str, SignedDuration, bool)> = Vec::new();
            let mut i = 0usize;
            while Instant::now() < deadline {
                let (kind, method, path, ct, body) = match i % 4 {
                    0 => (
                        "list",
                        Method::GET,
                        "/api/v1/objects/job-config?limit=20".to_owned(),
                        "",
                        None,
                    ),
                    1 => (
                        "create",
                        Method::POST,
                        "/api/v1/objects/job-config".to_owned(),
                        "application/json",
                        Some(api_job(&format!("load-{c}-{i}"), "0 3 * * *", false)),
                    ),
                    2 => (
                        "merge-patch",
                        Method::PATCH,
                        format!("/api/v1/objects/job-config/pool-{c}"),
                        "application/merge-patch+json",
                        Some(
                            json!({"payload": {"schedule": {"cronExpression":
                                if i % 8 == 2 { "0 4 * * *" } else { "0 3 * * *" }}}})
                            .to_string(),
                        ),
                    ),
                    _ => (
                        "metrics",
                        Method::GET,
                        "/api/v1/metrics/job-config".to_owned(),
                        "",
                        None,
                    ),
                };
                let t0 = Instant::now();
                let ok =
                    matches!(srv.call(method, &path, ct, body).await, Ok((s, _)) if s.is_success());
                let took = SignedDuration::try_from(t0.elapsed()).unwrap_or_default();
                samples.push((kind, took, ok));
                i += 1;
            }
            samples
        });
    }
    let mut samples = Vec::new();
    while let Some(r) = clients.join_next().await {
        samples.extend(r?);
    }
    let elapsed = began.elapsed();
    let rss = peak_rss_mib(Some(srv.pid)).unwrap_or(f64::NAN);
    let ok = samples.iter().filter(|s| s.2).count();
    let mut by_kind = serde_json::Map::new();
    for kind in ["list", "create", "merge-patch", "metrics"] {
        let lat: Vec<SignedDuration> = samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| s.1)
            .collect();
        let (p50, p99, max) = percentiles(&lat);
        by_kind.insert(
            kind.to_owned(),
            json!({"requests": lat.len(), "p50_ms": p50, "p99_ms": p99, "max_ms": max}),
        );
    }
    let total = samples.len();
    let mut out = Outcome::new(ok, total, samples.into_iter().map(|s| s.1).collect());
    out.rss_mib = rss;
    out.extra
        .insert("clients".to_owned(), json!(args.api_clients));
    out.extra.insert("jobs".to_owned(), json!(args.api_jobs));
    out.extra.insert(
        "requests_per_s".to_owned(),
        json!(round2(total as f64 / elapsed.as_secs_f64())),
    );
    out.extra.insert("errors".to_owned(), json!(total - ok));
    out.extra
        .insert("by_kind".to_owned(), Value::Object(by_kind));
    drop(srv);
    // Give the killed server a moment to release its connections.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stores.close().await?;
    Ok(out)
}

async fn rss(backend: &Backend, args: &Args, n: usize) -> anyhow::Result<Outcome> {
    use hyper::Method;
    let stores = fresh_stores(backend).await?;
    // Enabled, daily: loaded and scheduled, but none fires while measured.
    insert_configs(&stores.stores[0], "bench-r", n, "0 3 * * *", true).await?;
    for s in &stores.stores {
        s.close().await;
    }
    let log = tempfile::NamedTempFile::new()?;
    let srv = serve::Serve::start(&serve_bin(args), &stores.url, log.path()).await?;
    srv.must(Method::GET, "/api/v1/objects/job-config?limit=100", None)
        .await?;
    srv.must(Method::GET, "/api/v1/metrics/job-config", None)
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut out = Outcome::new(n, n, Vec::new());
    out.rss_mib = peak_rss_mib(Some(srv.pid)).unwrap_or(f64::NAN);
    let now = proc_status_kib(Some(srv.pid), "VmRSS:").map_or(f64::NAN, |k| k as f64 / 1024.0);
    out.extra
        .insert("rss_now_mib".to_owned(), json!(round2(now)));
    out.extra.insert(
        "ready_s".to_owned(),
        json!(round2(srv.ready_in.as_secs_f64())),
    );
    drop(srv);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stores.close().await?;
    Ok(out)
}

mod sqlcount {
    //! Counts the statements sqlx (and the SQLite writer) runs, by their text (numbers and quoted
    //! strings kept: the store's statements bind their values).

    use std::collections::HashMap;
    use std::sync::LazyLock;

    use parking_lot::Mutex;
    use tracing::field::{Field, Visit};
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;

    static COUNTS: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Default::default);

    struct Count;

    #[derive(Default)]
    struct Sql {
        summary: String,
        statement: String,
    }

    impl Visit for Sql {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "summary" => value.clone_into(&mut self.summary),
                "db.statement" => value.clone_into(&mut self.statement),
                _ => {}
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "summary" && self.summary.is_empty() {
                self.summary = format!("{value:?}");
            }
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Count {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut sql = Sql::default();
            event.record(&mut sql);
            let text = if sql.statement.trim().is_empty() {
                sql.summary
            } else {
                sql.statement
            };
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            *COUNTS.lock().entry(text).or_default() += 1;
        }
    }

    pub fn install() {
        tracing_subscriber::registry()
            .with(
                // sqlx's statements, and those the SQLite writer runs itself.
                Count.with_filter(
                    Targets::new()
                        .with_target("sqlx::query", tracing::Level::TRACE)
                        .with_target("grove_store::statement", tracing::Level::TRACE),
                ),
            )
            .init();
    }

    /// Counts since the last call, most frequent first.
    pub fn take() -> Vec<(String, u64)> {
        let mut v: Vec<_> = std::mem::take(&mut *COUNTS.lock()).into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// Runs one scenario in this process (the child side).
async fn run_one(args: &Args, scenario: &Scenario, backend: &Backend) -> anyhow::Result<Outcome> {
    match scenario {
        Scenario::Minute(n) => minute(backend, *n).await,
        Scenario::Second(n) => second(backend, *n, args.seconds).await,
        Scenario::Throughput => throughput(backend, args.runs, args.callers, args.history).await,
        Scenario::ApiLoad => api_load(backend, args).await,
        Scenario::Rss(n) => rss(backend, args, *n).await,
    }
}

/// The scenarios the flags ask for, in order.
fn scenarios(args: &Args) -> Vec<Scenario> {
    let wants = |k: &str| args.only.iter().any(|o| o == k);
    let mut out = Vec::new();
    if wants("minute") {
        out.extend(
            args.minute
                .iter()
                .filter(|&&n| n > 0)
                .map(|&n| Scenario::Minute(n)),
        );
    }
    if wants("second") && args.second > 0 {
        out.push(Scenario::Second(args.second));
    }
    if wants("throughput") && args.runs > 0 {
        out.push(Scenario::Throughput);
    }
    if wants("api-load") && args.api_clients > 0 {
        out.push(Scenario::ApiLoad);
    }
    if wants("rss") && args.rss_configs > 0 {
        out.push(Scenario::Rss(args.rss_configs));
    }
    out
}

async fn main_child(args: &Args, scenario: &str) -> anyhow::Result<()> {
    let scenario = Scenario::parse(scenario)?;
    let backend = match args.child_backend.as_deref() {
        Some("postgres") => Backend::Postgres {
            url: args
                .postgres
                .clone()
                .context("--child-backend postgres needs --postgres")?,
            instances: args.child_instances,
        },
        _ => Backend::Sqlite,
    };
    if args.count_statements {
        sqlcount::install();
    }
    let mut outcome = run_one(args, &scenario, &backend).await?;
    if args.count_statements {
        let counts = outcome.statements.take().unwrap_or_else(sqlcount::take);
        let total: u64 = counts.iter().map(|c| c.1).sum();
        let per = outcome.runs.max(1) as f64;
        eprintln!(
            "{} {}: {total} statements, {:.2} per run",
            backend.name(),
            scenario.name(),
            total as f64 / per
        );
        for (sql, n) in &counts {
            let short: String = sql.chars().take(160).collect();
            eprintln!("{n:>9} {:>7.2}/run  {short}", *n as f64 / per);
        }
        outcome.extra.insert("statements".to_owned(), json!(total));
        outcome.extra.insert(
            "statements_per_run".to_owned(),
            json!(round2(total as f64 / per)),
        );
    }
    println!("{}", outcome.to_json(&scenario, &backend));
    Ok(())
}

async fn main_parent(args: &Args) -> anyhow::Result<()> {
    for k in &args.only {
        if !["minute", "second", "throughput", "api-load", "rss"].contains(&k.as_str()) {
            bail!("--only: unknown scenario kind {k}");
        }
    }
    let mut backends = Vec::new();
    if !args.no_sqlite {
        backends.push(Backend::Sqlite);
    }
    if let Some(url) = &args.postgres {
        for &instances in args.instances.iter().filter(|&&n| n > 0) {
            backends.push(Backend::Postgres {
                url: url.clone(),
                instances,
            });
        }
    }
    if !args.json {
        println!("grove-jobs dispatch bench");
    }
    let exe = std::env::current_exe()?;
    let mut failed = 0;
    for backend in &backends {
        for scenario in scenarios(args) {
            if scenario.single_instance() && backend.instances() != 1 {
                continue;
            }
            let name = format!(
                "{} x{} {}",
                backend.name(),
                backend.instances(),
                scenario.name()
            );
            eprintln!("== {name}");
            // The child runs with the same flags, told which one to run.
            let mut cmd = std::process::Command::new(&exe);
            cmd.args(std::env::args_os().skip(1))
                .arg("--child-scenario")
                .arg(scenario.name())
                .arg("--child-backend")
                .arg(backend.name())
                .arg("--child-instances")
                .arg(backend.instances().to_string())
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::inherit());
            // Ctrl-C reaches the child too (same process group); it kills
            // its own server.
            let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
            let line = String::from_utf8_lossy(&out.stdout);
            let parsed: Option<Value> = line
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str(l).ok());
            match parsed {
                Some(v) if out.status.success() => {
                    if args.json {
                        println!("{v}");
                    } else {
                        println!("{}", human_line(&v));
                    }
                }
                _ => {
                    failed += 1;
                    eprintln!("{name} failed ({})", out.status);
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} scenario(s) failed");
    }
    Ok(())
}

/// The allocator `grove-jobs` itself uses, so that the engines measured
/// in this process allocate as the service does.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Ctrl-C drops the running scenario, which kills its child processes.
    tokio::select! {
        r = async {
            match &args.child_scenario {
                Some(s) => main_child(&args, s).await,
                None => main_parent(&args).await,
            }
        } => r,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}
