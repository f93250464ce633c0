//! The dispatch bench's every-second and one-instant workloads on
//! tokio-cron-scheduler (in memory, no database), printing the same JSON
//! lines as `grove-bench`'s `dispatch --json` (backend
//! `tokio-cron-scheduler`).
//!
//! - `second-N`: N every-second cron jobs (`* * * * * *`) for `--seconds`;
//!   latency over every slot of the window.
//! - `minute-N`: N every-minute cron jobs (`0 * * * * *`), all due on one
//!   minute boundary at least 3 s after they are added; latency over the
//!   N runs of that boundary.
//!
//! The handler records its job and its start time. tokio-cron-scheduler
//! does not tell a handler which tick it runs for, so a run's slot is its
//! start time rounded down to the second (minute): right while a run
//! starts less than a second (minute) late, which is the case in every run
//! measured so far. A slot counts once per job; a job's missed ticks show
//! as `runs` below `expected`.
//!
//! Each scenario runs in a child process of its own, so that `rss_mib`
//! (peak resident memory, VmHWM) belongs to that scenario.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use tokio_cron_scheduler::{Job, JobScheduler};

#[derive(Debug, Parser)]
struct Args {
    /// One JSON object per scenario, one a line, on stdout.
    #[arg(long)]
    json: bool,
    /// Every-minute job counts to measure (0 skips).
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    minute: Vec<usize>,
    /// Every-second job count (0 skips).
    #[arg(long, default_value_t = 1000)]
    second: usize,
    /// How long the every-second scenario runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, hide = true)]
    child_scenario: Option<String>,
}

/// Seconds since the epoch, as a float.
fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[derive(Debug, Default)]
struct Recorder {
    started: Mutex<Vec<(usize, f64)>>,
}

impl Recorder {
    fn take(&self) -> Vec<(usize, f64)> {
        std::mem::take(&mut *self.started.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn count(&self) -> usize {
        self.started.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

async fn scheduler_with(
    n: usize,
    cron: &str,
    rec: &Arc<Recorder>,
) -> anyhow::Result<(JobScheduler, Duration)> {
    let began = Instant::now();
    let sched = JobScheduler::new().await?;
    for i in 0..n {
        let rec = rec.clone();
        let job = Job::new_async(cron, move |_id, _sched| {
            let rec = rec.clone();
            Box::pin(async move {
                let t = now_s();
                rec.started
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, t));
            })
        })?;
        sched.add(job).await?;
    }
    sched.start().await?;
    Ok((sched, began.elapsed()))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// p50, p99 and max of latencies in seconds, as milliseconds.
fn percentiles(mut lat: Vec<f64>) -> (Option<f64>, Option<f64>, Option<f64>) {
    lat.sort_by(f64::total_cmp);
    let n = lat.len();
    if n == 0 {
        return (None, None, None);
    }
    let pick = |p: usize| round2(lat[((n * p) / 100).min(n - 1)] * 1000.0);
    (
        Some(pick(50)),
        Some(pick(99)),
        Some(round2(lat[n - 1] * 1000.0)),
    )
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| round2(kib / 1024.0))
}

fn outcome(scenario: &str, lat: Vec<f64>, expected: usize, extra: Value) -> Value {
    let runs = lat.len();
    let (p50, p99, max) = percentiles(lat);
    let mut v = json!({
        "scenario": scenario,
        "backend": "tokio-cron-scheduler",
        "instances": 1,
        "runs": runs,
        "expected": expected,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": max,
        "executions_per_s": null,
        "rss_mib": peak_rss_mib(),
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut v, extra) {
        map.extend(more);
    }
    v
}

async fn second(n: usize, seconds: u64) -> anyhow::Result<Value> {
    let rec = Arc::new(Recorder::default());
    let (mut sched, load) = scheduler_with(n, "* * * * * *", &rec).await?;
    let from = now_s().floor() + 2.0;
    let to = from + seconds as f64 - 1.0;
    tokio::time::sleep(Duration::from_secs_f64((to + 2.0 - now_s()).max(0.0))).await;
    let mut seen = HashSet::new();
    let mut lat = Vec::new();
    for (job, t) in rec.take() {
        let slot = t.floor();
        if slot >= from && slot <= to && seen.insert((job, slot as i64)) {
            lat.push(t - slot);
        }
    }
    sched.shutdown().await?;
    Ok(outcome(
        &format!("second-{n}"),
        lat,
        n * usize::try_from(seconds)?,
        json!({"load_s": round2(load.as_secs_f64())}),
    ))
}

async fn minute(n: usize) -> anyhow::Result<Value> {
    let rec = Arc::new(Recorder::default());
    let (mut sched, load) = scheduler_with(n, "0 * * * * *", &rec).await?;
    let now = now_s();
    let mut slot = (now / 60.0).ceil() * 60.0;
    if slot - now < 3.0 {
        slot += 60.0;
    }
    eprintln!(
        "minute-{n}: {n} jobs added in {:.2} s; waiting for the boundary {:.0} s away",
        load.as_secs_f64(),
        slot - now
    );
    let deadline = Instant::now() + Duration::from_secs_f64(slot - now + 120.0);
    let mut seen = HashSet::new();
    let mut lat = Vec::new();
    while lat.len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if rec.count() == 0 {
            continue;
        }
        for (job, t) in rec.take() {
            if (t / 60.0).floor() * 60.0 == slot && seen.insert(job) {
                lat.push(t - slot);
            }
        }
    }
    sched.shutdown().await?;
    Ok(outcome(
        &format!("minute-{n}"),
        lat,
        n,
        json!({"load_s": round2(load.as_secs_f64())}),
    ))
}

fn human_line(v: &Value) -> String {
    let ms = |k: &str| {
        v[k].as_f64()
            .map_or_else(|| "      -".to_owned(), |x| format!("{x:>8.2}"))
    };
    format!(
        "{:<28} runs {:>6}/{:<6} p50 {} ms  p99 {} ms  max {} ms  rss {:>7.1} MiB",
        format!(
            "tokio-cron-scheduler {}",
            v["scenario"].as_str().unwrap_or("?")
        ),
        v["runs"],
        v["expected"],
        ms("p50_ms"),
        ms("p99_ms"),
        ms("max_ms"),
        v["rss_mib"].as_f64().unwrap_or(f64::NAN),
    )
}

async fn child(args: &Args, scenario: &str) -> anyhow::Result<()> {
    let v = match scenario.split_once('-') {
        Some(("second", n)) => second(n.parse()?, args.seconds).await?,
        Some(("minute", n)) => minute(n.parse()?).await?,
        _ => bail!("unknown scenario {scenario}"),
    };
    println!("{v}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(s) = &args.child_scenario {
        return child(&args, s).await;
    }
    let mut scenarios = Vec::new();
    if args.second > 0 {
        scenarios.push(format!("second-{}", args.second));
    }
    scenarios.extend(
        args.minute
            .iter()
            .filter(|&&n| n > 0)
            .map(|n| format!("minute-{n}")),
    );
    let exe = std::env::current_exe()?;
    let mut failed = 0;
    for scenario in scenarios {
        eprintln!("== tokio-cron-scheduler {scenario}");
        let out = tokio::process::Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .arg("--child-scenario")
            .arg(&scenario)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .output()
            .await
            .context("running a scenario")?;
        let line = String::from_utf8_lossy(&out.stdout);
        match line
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            Some(v) if out.status.success() => {
                if args.json {
                    println!("{v}");
                } else {
                    println!("{}", human_line(&v));
                }
            }
            _ => {
                failed += 1;
                eprintln!("{scenario} failed ({})", out.status);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} scenario(s) failed");
    }
    Ok(())
}
