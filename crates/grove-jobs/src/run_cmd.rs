//! `grove-jobs run ID [--set parameters.dryRun=true] [--wait]`: Run Now
//! from the command line, with per-run options; `grove-jobs backfill ID
//! --from --to`: one run per past slot.
//!
//! The run is queued in the database by the same use case as the API's
//! Run Now; a serving instance on the same database claims it at once (the
//! database's change feed wakes it, on SQLite as on PostgreSQL). The CLI
//! never executes jobs itself: a second engine on an embedded database
//! would treat the server's running attempts as left over from a crash.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use grove_app::{App, AppError, RunOptions};
use grove_core::clock::SystemClock;
use grove_core::validate::Problem;
use grove_store::{Execution, ExecutionStatus};
use serde_json::{Map, Value};

use crate::DatabaseArgs;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The job config's id.
    pub id: String,
    /// Wait until the run ends; exit 1 unless it succeeded (or was partial).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up waiting after this many seconds (the run goes on).
    #[arg(long, requires = "wait")]
    pub timeout: Option<u64>,
    /// A per-run option, `parameters.FIELD=VALUE` or `limits.FIELD=VALUE`
    /// (VALUE as JSON, else text); repeat for more. Merged over the stored
    /// config for this run only.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The job config's id.
    pub id: String,
    /// RFC 3339: the first slot at or after it runs.
    #[arg(long)]
    pub from: String,
    /// RFC 3339, not after now: slots before it run.
    #[arg(long)]
    pub to: String,
    /// A per-run option for every backfilled run, as for `run --set`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `--set a.b=1 --set a.c=x` as `{"a": {"b": 1, "c": "x"}}`.
fn options_of(sets: &[String]) -> anyhow::Result<RunOptions> {
    let mut root = Map::new();
    for set in sets {
        let (path, raw) = set.split_once('=').with_context(|| {
            format!("--set {set}: expected PATH=VALUE, e.g. parameters.dryRun=true")
        })?;
        let value: Value =
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        let keys: Vec<&str> = path.split('.').collect();
        let mut cur = &mut root;
        for (i, key) in keys.iter().enumerate() {
            if key.is_empty() {
                anyhow::bail!("--set {set}: the path has an empty part");
            }
            if i + 1 == keys.len() {
                cur.insert((*key).to_owned(), value.clone());
            } else {
                let next = cur
                    .entry((*key).to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !next.is_object() {
                    *next = Value::Object(Map::new());
                }
                cur = next.as_object_mut().expect("an object");
            }
        }
    }
    RunOptions::from_body(&Value::Object(root), &[]).map_err(refused)
}

/// Problems as one error, a line each: "/parameters/signalPeriod: …".
fn refused(problems: Vec<Problem>) -> anyhow::Error {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("  {}: {}", p.pointer, p.message))
        .collect();
    anyhow::anyhow!("refused, nothing queued:\n{}", lines.join("\n"))
}

fn explained(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(problems) => refused(problems),
        other => other.into(),
    }
}

pub async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    let from = args.from.parse().with_context(|| {
        format!(
            "--from {}: not an RFC 3339 instant such as 2026-11-01T00:00:00Z",
            args.from
        )
    })?;
    let to = args.to.parse().with_context(|| {
        format!(
            "--to {}: not an RFC 3339 instant such as 2026-11-08T00:00:00Z",
            args.to
        )
    })?;
    let options = options_of(&args.set)?;
    let store = grove_store::open(&args.db.database_url).await?;
    let app = App::without_engine(store.clone(), Arc::new(SystemClock));
    let done = app
        .backfill(
            &args.id,
            from,
            to,
            &options,
            &grove_app::Caller::named("cli"),
        )
        .await;
    store.close().await;
    let done = done.map_err(explained)?;
    println!(
        "backfill of \"{}\": {} slot(s) in [{from}, {to}), {} queued, {} already recorded",
        args.id,
        done.slots,
        done.runs.len(),
        done.already_recorded
    );
    for run in &done.runs {
        if let Some(slot) = run.scheduled_for {
            println!("  run {} for {slot}", run.id);
        }
    }
    Ok(())
}

/// How often `--wait` looks at the execution.
const POLL: Duration = Duration::from_millis(250);

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let store = grove_store::open(&args.db.database_url).await?;
    let app = App::without_engine(store.clone(), Arc::new(SystemClock));
    let result = trigger_and_wait(&args, &app).await;
    store.close().await;
    result
}

async fn trigger_and_wait(args: &RunArgs, app: &App) -> anyhow::Result<()> {
    let options = options_of(&args.set)?;
    let run = app
        .run_with(&args.id, &options, &grove_app::Caller::named("cli"))
        .await
        .map_err(explained)?;
    println!("run {} of \"{}\": {}", run.id, args.id, run.status);
    if !args.wait || run.status.is_final() {
        return verdict(&run, args.wait);
    }
    eprintln!("waiting for a running `grove-jobs serve` on this database to run it…");
    let deadline = args
        .timeout
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let mut last = run.status;
    loop {
        tokio::time::sleep(POLL).await;
        let now = app
            .store()
            .execution_get(&run.id)
            .await?
            .with_context(|| format!("run {} disappeared", run.id))?;
        if now.status != last {
            last = now.status;
            if !now.status.is_final() {
                println!("run {}: {}", run.id, now.status);
            }
        }
        if now.status.is_final() {
            return verdict(&now, true);
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            anyhow::bail!(
                "run {} is still {} after {} s; it goes on — see GET /api/v1/executions/{}",
                run.id,
                now.status,
                args.timeout.unwrap_or_default(),
                run.id
            );
        }
    }
}

/// Prints how the run ended; an error unless it succeeded (fully or partly).
fn verdict(run: &Execution, waited: bool) -> anyhow::Result<()> {
    if !waited {
        return Ok(());
    }
    let duration = run
        .started_at
        .zip(run.completed_at)
        .map(|(a, b)| format!(" in {} ms", b.duration_since(a).as_millis()))
        .unwrap_or_default();
    println!(
        "run {}: {}, {} processed ({} failed){duration}",
        run.id, run.status, run.counts.processed, run.counts.failed
    );
    match run.status {
        ExecutionStatus::Success | ExecutionStatus::Partial => Ok(()),
        status => {
            let error = run.error.as_deref().unwrap_or("no error recorded");
            anyhow::bail!("run {} ended {status}: {error}", run.id)
        }
    }
}
