//! `grove-jobs run ID [--wait]`: Run Now from the command line.
//!
//! The run is queued in the database by the same use case as the API's
//! Run Now; a serving instance on the same database claims it at once (the
//! database's change feed wakes it, on SQLite as on PostgreSQL). The CLI
//! never executes jobs itself: a second engine on an embedded database
//! would treat the server's running attempts as left over from a crash.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use grove_app::App;
use grove_core::clock::SystemClock;
use grove_store::{Execution, ExecutionStatus};

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
    #[command(flatten)]
    pub db: DatabaseArgs,
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
    let run = app
        .run_now(&args.id, &grove_app::Caller::named("cli"))
        .await?;
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
