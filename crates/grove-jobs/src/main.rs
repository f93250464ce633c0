//! grove-jobs: the one binary. `serve` runs the service; the other
//! subcommands validate files, manage the database and tokens.

mod config;
mod cron_cmd;
mod portable;
mod run_cmd;
mod serve;
mod token_cmd;
mod validate;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use grove_app::App;
use grove_core::clock::SystemClock;

/// Where data lives when no URL is given: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://grove-jobs.db";

#[derive(Debug, Parser)]
#[command(
    name = "grove-jobs",
    version,
    about = "Declarative job configuration and scheduling service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (default: grove-jobs.db in the working directory) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: API, console, scheduler and executor.
    Serve(serve::ServeArgs),
    /// Check job config files; prints `pointer: message` lines and exits 1 when invalid.
    Validate {
        /// Files holding one object {meta, payload} or a list of them.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Create or update objects from JSON files or directories: prints the plan, then applies it.
    Apply {
        /// Files (one object or a list) or directories of *.json files.
        #[arg(short = 'f', long = "file", required = true)]
        files: Vec<std::path::PathBuf>,
        /// Print the plan without changing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Print every object as portable JSON (for backups and `apply` elsewhere).
    Export {
        /// Only this type (job-config or advancement-rule).
        #[arg(long = "type")]
        object_type: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Run a job config now: queue a manual run for the serving instance(s) to pick up.
    Run(run_cmd::RunArgs),
    /// Backfill: queue one run per slot of the job's schedule in [--from, --to) not yet recorded.
    Backfill(run_cmd::BackfillArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DatabaseArgs),
    /// Cron expressions: next runs in a time zone, human text.
    #[command(subcommand)]
    Cron(cron_cmd::CronCommand),
    /// Load a synthetic dataset (sprouts, signals over 90 days, advancement rules) so every job has work.
    Demo {
        /// Number of sprouts.
        #[arg(long, default_value_t = 5_000)]
        sprouts: u32,
        /// Number of signals.
        #[arg(long, default_value_t = 300_000)]
        signals: u64,
        /// Days of history.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Random seed (the same seed gives the same data).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// API tokens.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
}

/// jemalloc instead of the system allocator: the engine allocates and
/// frees many small JSON values per run, and glibc's malloc took about a
/// third of the CPU time in profiles of the throughput benchmark. Its
/// build-time settings are in `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { files } => validate::run(&files),
        Command::Cron(cmd) => cron_cmd::run(cmd, jiff::Timestamp::now()),
        command => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run_async(command)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {}", report(&e));
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// An error and its causes, `outer: inner: …`. Errors that show their
/// cause in their own message also keep it as their source, so a cause
/// whose text its parent already ends with is not repeated.
fn report(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    // A TLS verification failure names rustls' reason; say what to check.
    if out.contains("invalid peer certificate") {
        out.push_str(
            " (the database server's certificate was not accepted: with sslmode=verify-ca or verify-full, sslrootcert must name the certificate authority that signed it, and verify-full also checks the host name)",
        );
    }
    out
}

/// The application for a one-shot command: no engine in this process;
/// what it writes, a serving instance on the same database picks up.
/// `GROVE_OUTBOUND_ALLOW` applies to what it validates, as in `serve`.
fn command_app(store: &Arc<dyn grove_store::Store>) -> App {
    let allow = std::env::var("GROVE_OUTBOUND_ALLOW").unwrap_or_default();
    let policy = grove_core::outbound::OutboundPolicy::parse(&allow).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "GROVE_OUTBOUND_ALLOW is not valid; only public addresses are allowed");
        grove_core::outbound::OutboundPolicy::default()
    });
    App::without_engine(store.clone(), Arc::new(SystemClock)).with_outbound(Arc::new(policy))
}

async fn run_async(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Run(args) => run_cmd::run(args).await,
        Command::Backfill(args) => run_cmd::backfill(args).await,
        Command::Migrate(db) => {
            serve::init_tracing();
            let store = grove_store::open(&db.database_url).await?;
            let version = store.ping().await?;
            println!(
                "database is at schema version {version} ({})",
                store.backend()
            );
            store.close().await;
            Ok(())
        }
        Command::Token(cmd) => token_cmd::run(cmd).await,
        Command::Apply { files, dry_run, db } => {
            let store = grove_store::open(&db.database_url).await?;
            let ok = portable::apply(&command_app(&store), &files, dry_run).await;
            store.close().await;
            anyhow::ensure!(ok?, "the files have problems; nothing was applied");
            Ok(())
        }
        Command::Export { object_type, db } => {
            let store = grove_store::open(&db.database_url).await?;
            let out = portable::export(&*store, object_type.as_deref()).await;
            store.close().await;
            println!("{}", serde_json::to_string_pretty(&out?)?);
            Ok(())
        }
        Command::Demo {
            sprouts,
            signals,
            days,
            seed,
            db,
        } => {
            let store = grove_store::open(&db.database_url).await?;
            let size = grove_store::demo::DemoSize {
                sprouts,
                signals,
                days,
                seed,
            };
            let summary = command_app(&store).load_demo(size).await;
            store.close().await;
            let summary = summary?;
            println!(
                "loaded {} sprouts, {} signals and advancement rules {}",
                summary.sprouts,
                summary.signals,
                summary.rules.join(", ")
            );
            Ok(())
        }
        Command::Validate { .. } | Command::Cron(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::report;

    #[derive(Debug, thiserror::Error)]
    #[error("database error: {0}")]
    struct Shows(#[source] std::io::Error);

    #[test]
    fn a_cause_already_in_its_parents_message_is_not_repeated() {
        let inner = std::io::Error::other("no such table: execution_attempts");
        let e = anyhow::Error::new(Shows(inner)).context("the engine could not start");
        assert_eq!(
            report(&e),
            "the engine could not start: database error: no such table: execution_attempts"
        );
        let plain = anyhow::anyhow!("disk full").context("cannot write");
        assert_eq!(report(&plain), "cannot write: disk full");
    }
}
