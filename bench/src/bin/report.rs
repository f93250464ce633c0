//! Writes the measured part of docs/benchmarks.md and its SVG chart from
//! the JSON lines of `dispatch --json` and of the tokio-cron-scheduler peer
//! (`bench/peers`).
//!
//! ```sh
//! cargo run --release -p grove-bench --bin report -- \
//!     --doc docs/benchmarks.md --svg docs/img/benchmarks.svg grove.jsonl peers.jsonl
//! ```
//!
//! Only the text between `<!-- results:begin -->` and `<!-- results:end -->`
//! is replaced; the rest of the document (how to run, the profile notes) is
//! kept. A document without the markers gets them appended.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use serde_json::Value;

#[derive(Debug, Parser)]
struct Args {
    /// The markdown document to update.
    #[arg(long, default_value = "docs/benchmarks.md")]
    doc: PathBuf,
    /// The SVG chart to write (linked from the document relative to it).
    #[arg(long, default_value = "docs/img/benchmarks.svg")]
    svg: PathBuf,
    /// What to say about the machine [default: CPU model and core count
    /// from /proc/cpuinfo, as seen where this runs].
    #[arg(long)]
    machine: Option<String>,
    /// The date of the run [default: today, UTC].
    #[arg(long)]
    date: Option<String>,
    /// A sentence added after the machine (e.g. the load average).
    #[arg(long)]
    note: Option<String>,
    /// JSON-lines files (dispatch --json, peers --json).
    files: Vec<PathBuf>,
}

const BEGIN: &str = "<!-- results:begin -->";
const END: &str = "<!-- results:end -->";

/// The issue's targets (2 cores, release): (scenario prefix, backend,
/// instances, what, limit). `p99` limits are in ms.
const TARGETS: &[(&str, &str, u64, &str, f64)] = &[
    ("second-1000", "sqlite", 1, "p99", 100.0),
    ("second-1000", "postgres", 1, "p99", 250.0),
    ("second-1000", "postgres", 3, "p99", 250.0),
    ("minute-10000", "sqlite", 1, "p99", 1500.0),
    ("minute-10000", "postgres", 1, "p99", 3000.0),
    ("throughput", "sqlite", 1, "exec/s", 10_000.0),
    ("throughput", "postgres", 1, "exec/s", 3000.0),
    ("api-load", "sqlite", 1, "p99", 100.0),
    ("api-load", "postgres", 1, "p99", 150.0),
    ("rss-10000", "sqlite", 1, "rss", 100.0),
    ("rss-10000", "postgres", 1, "rss", 100.0),
];

fn label(v: &Value) -> String {
    match (v["backend"].as_str(), v["instances"].as_u64()) {
        (Some("postgres"), Some(n)) => format!("grove-jobs, PostgreSQL x{n}"),
        (Some("sqlite"), _) => "grove-jobs, SQLite".to_owned(),
        (Some(other), _) => other.to_owned(),
        _ => "?".to_owned(),
    }
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v[k].as_f64()
}

fn fmt_ms(x: Option<f64>) -> String {
    match x {
        None => "–".to_owned(),
        Some(x) if x >= 1000.0 => format!("{:.2} s", x / 1000.0),
        Some(x) => format!("{x:.1} ms"),
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({model})")
}

fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

/// Workloads shown in the chart: the ones both systems ran.
fn chart_workloads(rows: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if r["backend"] == "tokio-cron-scheduler"
            && let Some(s) = r["scenario"].as_str()
            && !out.iter().any(|o| o == s)
        {
            out.push(s.to_owned());
        }
    }
    out
}

const COLORS: &[&str] = &["#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Two panels: p99 (log scale) and runs on time (%), one group of bars per
/// workload, one bar per system.
fn svg(rows: &[Value]) -> String {
    let workloads = chart_workloads(rows);
    let mut systems: Vec<String> = Vec::new();
    for r in rows {
        let l = label(r);
        if workloads.iter().any(|w| r["scenario"] == w.as_str()) && !systems.contains(&l) {
            systems.push(l);
        }
    }
    let find = |w: &str, s: &str| {
        rows.iter()
            .find(|r| r["scenario"] == w && label(r) == s)
            .cloned()
    };
    let (pw, ph, top, left, gap) = (420.0, 260.0, 50.0, 70.0, 90.0);
    let width = left + 2.0 * pw + gap + 20.0;
    let legend_h = 22.0 * systems.len() as f64;
    let height = top + ph + 60.0 + legend_h;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    // p99, log scale from 1 ms to the next power of ten above the max.
    let max_p99 = rows
        .iter()
        .filter_map(|r| num(r, "p99_ms"))
        .fold(1.0_f64, f64::max);
    let decades = max_p99.log10().ceil().max(1.0);
    let panels: [(&str, f64); 2] = [
        ("p99 latency, ms (log scale)", left),
        ("runs on time, % of expected", left + pw + gap),
    ];
    for (pi, (title, x0)) in panels.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>"#,
            x0,
            top - 20.0,
            esc(title)
        );
        let _ = writeln!(
            out,
            r##"<line x1="{x0}" y1="{top}" x2="{x0}" y2="{}" stroke="#333"/><line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="#333"/>"##,
            top + ph,
            top + ph,
            x0 + pw,
            top + ph
        );
        // Grid and axis labels.
        let ticks: Vec<(f64, String)> = if pi == 0 {
            (0..=decades as i32)
                .map(|d| {
                    let v = 10f64.powi(d);
                    let label = if v >= 1000.0 {
                        format!("{} s", v / 1000.0)
                    } else {
                        format!("{v}")
                    };
                    (f64::from(d) / decades, label)
                })
                .collect()
        } else {
            (0..=4)
                .map(|i| (f64::from(i) / 4.0, format!("{}", i * 25)))
                .collect()
        };
        for (frac, text) in ticks {
            let y = top + ph - frac * ph;
            let _ = writeln!(
                out,
                r##"<line x1="{x0}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                x0 + pw,
                x0 - 6.0,
                y + 4.0,
                esc(&text)
            );
        }
        let group_w = pw / workloads.len().max(1) as f64;
        let bar_w = (group_w * 0.8) / systems.len().max(1) as f64;
        for (wi, w) in workloads.iter().enumerate() {
            let gx = x0 + wi as f64 * group_w + group_w * 0.1;
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                gx + group_w * 0.4,
                top + ph + 18.0,
                esc(w)
            );
            for (si, s) in systems.iter().enumerate() {
                let x = gx + si as f64 * bar_w;
                let Some(r) = find(w, s) else { continue };
                let (frac, text) = if pi == 0 {
                    match num(&r, "p99_ms") {
                        Some(p) => (
                            (p.max(1.0).log10() / decades).clamp(0.0, 1.0),
                            fmt_ms(Some(p)),
                        ),
                        None => (0.0, "no runs".to_owned()),
                    }
                } else {
                    let runs = num(&r, "runs").unwrap_or(0.0);
                    let expected = num(&r, "expected").unwrap_or(0.0).max(1.0);
                    let pct = (runs / expected * 100.0).min(100.0);
                    (pct / 100.0, format!("{pct:.0}%"))
                };
                let h = frac * ph;
                let _ = writeln!(
                    out,
                    r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                    top + ph - h,
                    bar_w - 2.0,
                    COLORS[si % COLORS.len()],
                    esc(s),
                    esc(&text)
                );
                let _ = writeln!(
                    out,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                    x + bar_w / 2.0 - 1.0,
                    top + ph - h - 4.0,
                    esc(&text)
                );
            }
        }
    }
    for (si, s) in systems.iter().enumerate() {
        let y = top + ph + 40.0 + si as f64 * 22.0;
        let _ = writeln!(
            out,
            r#"<rect x="{left}" y="{y}" width="14" height="14" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            COLORS[si % COLORS.len()],
            left + 20.0,
            y + 12.0,
            esc(s)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn results_section(rows: &[Value], args: &Args, svg_rel: &str) -> String {
    let mut md = String::new();
    let date = args.date.clone().unwrap_or_else(today);
    let machine = args.machine.clone().unwrap_or_else(machine);
    let note = args
        .note
        .as_deref()
        .map_or(String::new(), |n| format!(" {n}"));
    let _ = writeln!(
        md,
        "Measured {date} on {machine}, release build, one run of each scenario; both systems in the same session.{note}\n"
    );
    let _ = writeln!(
        md,
        "![p99 latency and runs on time per workload, grove-jobs and tokio-cron-scheduler]({svg_rel})\n"
    );
    let _ = writeln!(
        md,
        "| scenario | system | runs (of expected) | p50 | p99 | max | executions/s | peak RSS |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    let mut order: Vec<String> = Vec::new();
    for r in rows {
        if let Some(s) = r["scenario"].as_str()
            && !order.iter().any(|o| o == s)
        {
            order.push(s.to_owned());
        }
    }
    for s in &order {
        for r in rows.iter().filter(|r| r["scenario"] == s.as_str()) {
            let runs = r["runs"].as_u64().unwrap_or(0);
            let expected = r["expected"].as_u64().unwrap_or(0);
            let pct = if expected > 0 {
                format!(" ({:.1} %)", runs as f64 * 100.0 / expected as f64)
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "| {s} | {} | {runs} / {expected}{pct} | {} | {} | {} | {} | {} |",
                label(r),
                fmt_ms(num(r, "p50_ms")),
                fmt_ms(num(r, "p99_ms")),
                fmt_ms(num(r, "max_ms")),
                num(r, "executions_per_s").map_or("–".to_owned(), |x| format!("{x:.0}")),
                num(r, "rss_mib").map_or("–".to_owned(), |x| format!("{x:.1} MiB")),
            );
        }
    }
    let _ = writeln!(md, "\nAgainst the throughput issue's targets:\n");
    let _ = writeln!(md, "| scenario | backend | target | measured | |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for &(scenario, backend, instances, what, limit) in TARGETS {
        let Some(r) = rows.iter().find(|r| {
            r["scenario"] == scenario
                && r["backend"] == backend
                && r["instances"].as_u64() == Some(instances)
        }) else {
            continue;
        };
        let all_runs = r["runs"] == r["expected"];
        let (target, measured, ok) = match what {
            "p99" => {
                let p = num(r, "p99_ms");
                let runs_note = if scenario.starts_with("second") || scenario.starts_with("minute")
                {
                    format!(", {} / {} runs", r["runs"], r["expected"])
                } else {
                    String::new()
                };
                (
                    format!("p99 ≤ {}", fmt_ms(Some(limit))),
                    format!("p99 {}{runs_note}", fmt_ms(p)),
                    p.is_some_and(|p| p <= limit) && (all_runs || scenario == "api-load"),
                )
            }
            "exec/s" => {
                let x = num(r, "executions_per_s").unwrap_or(0.0);
                (format!("≥ {limit:.0}/s"), format!("{x:.0}/s"), x >= limit)
            }
            _ => {
                let x = num(r, "rss_mib").unwrap_or(f64::INFINITY);
                (
                    format!("≤ {limit:.0} MiB"),
                    format!("{x:.1} MiB"),
                    x <= limit,
                )
            }
        };
        let backend = if backend == "postgres" {
            format!("PostgreSQL x{instances}")
        } else {
            "SQLite".to_owned()
        };
        let _ = writeln!(
            md,
            "| {scenario} | {backend} | {target} | {measured} | {} |",
            if ok { "met" } else { "**not met**" }
        );
    }
    let api: Vec<&Value> = rows
        .iter()
        .filter(|r| r["scenario"] == "api-load")
        .collect();
    if !api.is_empty() {
        let _ = writeln!(md, "\napi-load by call:\n");
        let _ = writeln!(md, "| backend | call | requests | p50 | p99 | max |");
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        for r in api {
            if let Some(kinds) = r["by_kind"].as_object() {
                for (k, v) in kinds {
                    let _ = writeln!(
                        md,
                        "| {} | {k} | {} | {} | {} | {} |",
                        label(r),
                        v["requests"],
                        fmt_ms(num(v, "p50_ms")),
                        fmt_ms(num(v, "p99_ms")),
                        fmt_ms(num(v, "max_ms")),
                    );
                }
            }
        }
    }
    let _ = writeln!(md, "\nThe raw JSON lines of this run:\n\n```json");
    for r in rows {
        let _ = writeln!(md, "{r}");
    }
    let _ = writeln!(md, "```");
    md
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rows = Vec::new();
    for f in &args.files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
            rows.push(
                serde_json::from_str::<Value>(line)
                    .with_context(|| format!("in {}: {line}", f.display()))?,
            );
        }
    }
    anyhow::ensure!(!rows.is_empty(), "no results in {:?}", args.files);
    if let Some(dir) = args.svg.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.svg, svg(&rows))?;
    let doc_dir = args
        .doc
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let svg_rel = args
        .svg
        .strip_prefix(&doc_dir)
        .unwrap_or(&args.svg)
        .display()
        .to_string();
    let section = results_section(&rows, &args, &svg_rel);
    let old = std::fs::read_to_string(&args.doc).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{BEGIN}\n{section}{}", &old[..b], &old[e..]),
        _ => format!("{old}\n{BEGIN}\n{section}{END}\n"),
    };
    std::fs::write(&args.doc, new)?;
    eprintln!("wrote {} and {}", args.doc.display(), args.svg.display());
    Ok(())
}
