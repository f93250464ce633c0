//! Throughput of advancement-batch and signal-aggregation on generated data,
//! next to the floor: one `GROUP BY` over the same signals table.
//!
//! ```text
//! cargo run --release -p grove-engine --example grove_bench -- \
//!     [--sprouts N] [--signals N] [--days N] [--batch N] [--db PATH]
//! ```
//!
//! Defaults: 100,000 sprouts, 2,000,000 signals over 90 days, batch 5,000,
//! a fresh SQLite file in the temp directory (reused when `--db` names an
//! existing one, so generation can be skipped on a second run).

use std::sync::Arc;
use std::time::Instant;

use grove_core::clock::{Clock, SystemClock};
use grove_core::job_config::{AdvancementParams, SignalAggregationParams, SignalPeriod};
use grove_engine::{JobContext, jobs};
use grove_store::demo::{self, DemoSize};
use grove_store::sqlite::SqliteStore;
use grove_store::{GroveDataStore, Store};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rate(n: u64, secs: f64) -> String {
    format!("{:.0}/s", n as f64 / secs.max(1e-9))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let sprouts = arg(&args, "--sprouts", 100_000);
    let signals = arg(&args, "--signals", 2_000_000);
    let days = arg(&args, "--days", 90);
    let batch = arg(&args, "--batch", 5_000) as u32;
    let path = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| {
            let p = std::env::temp_dir().join(format!("grove-bench-{sprouts}-{signals}.db"));
            let _ = std::fs::remove_file(&p);
            p.to_string_lossy().into_owned()
        });
    let now = jiff::Timestamp::now();
    let store = Arc::new(SqliteStore::open(&path).await?);
    store.migrate().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let context =
        |run_id: &str| JobContext::standalone(store.clone(), clock.clone(), run_id, batch);

    let t = Instant::now();
    let size = DemoSize {
        sprouts: u32::try_from(sprouts)?,
        signals,
        days: u32::try_from(days)?,
        seed: 1,
    };
    let made = demo::generate(&*store, size, now).await?;
    let gen_secs = t.elapsed().as_secs_f64();
    println!(
        "generated {} sprouts and {} signals in {gen_secs:.1} s ({} signals)",
        made.sprouts,
        made.signals,
        rate(made.signals, gen_secs)
    );
    let total_signals = store.signal_count().await?;

    let t = Instant::now();
    let (groups, scanned) = store.signal_group_scan().await?;
    let floor = t.elapsed().as_secs_f64();
    println!(
        "floor: GROUP BY over {scanned} signals ({groups} groups) in {floor:.2} s ({})",
        rate(scanned, floor)
    );

    let t = Instant::now();
    let r = jobs::aggregation::run(
        &SignalAggregationParams {
            periods: vec![SignalPeriod::AllTime],
        },
        &context("bench-agg"),
    )
    .await?;
    let agg = t.elapsed().as_secs_f64();
    println!(
        "signal-aggregation all_time ({}): {total_signals} signals in {agg:.2} s ({}), {:.2}x the floor",
        r.metadata["periods"]["all_time"]["mode"],
        rate(total_signals, agg),
        agg / floor
    );

    let t = Instant::now();
    jobs::aggregation::run(
        &SignalAggregationParams {
            periods: vec![SignalPeriod::AllTime],
        },
        &context("bench-agg-2"),
    )
    .await?;
    println!(
        "signal-aggregation all_time again (incremental, nothing new): {:.3} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let r = jobs::advancement::run(
        &AdvancementParams {
            lifecycle_model_id: None,
            from_tiers: None,
            signal_period: SignalPeriod::AllTime,
            dry_run: false,
        },
        &context("bench-adv"),
    )
    .await?;
    let adv = t.elapsed().as_secs_f64();
    let evaluated = r.metadata["evaluated"].as_u64().unwrap_or(0);
    println!(
        "advancement-batch: {evaluated} sprouts evaluated, {} advanced, {} batches in {adv:.2} s ({}), {:.2}x the floor",
        r.metadata["advanced"],
        r.metadata["batches"],
        rate(evaluated, adv),
        adv / floor
    );
    println!("advancement perRule: {}", r.metadata["perRule"]);
    store.close().await;
    Ok(())
}
