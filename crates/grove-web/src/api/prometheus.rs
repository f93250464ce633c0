//! `GET /metrics`: Prometheus text exposition (format 0.0.4).
//!
//! Job configs by health come from the database (the same for every
//! instance); engine counters are this process's own since it started.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_engine::metrics::{DISPATCH_BUCKETS, MetricsSnapshot};
use grove_store::{OBJECT_PAGE, ObjectPages};

use crate::state::AppState;

/// What one scrape reports.
#[derive(Debug, Default)]
pub struct Scrape {
    pub database_up: bool,
    /// `(health, count)`, health as the API spells it.
    pub configs_by_health: Vec<(String, u64)>,
    pub engine_running: bool,
    pub engine: Option<MetricsSnapshot>,
    /// Configs that watch lateness (`alerts.maxLatenessSeconds`), in id order.
    pub lateness_watched: Vec<String>,
    /// `(config id, silent)` of configs that watch silence
    /// (`alerts.maxSilenceSeconds`), in id order.
    pub silence: Vec<(String, bool)>,
}

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "health", security(()), responses((status = 200, content_type = "text/plain", description = "Prometheus metrics: grove_database_up, grove_job_configs{health}, grove_engine_running, grove_executions_finished_total{status}, grove_attempts_started_total, grove_attempts_running, grove_scheduler_configs, grove_scheduler_configs_owned, grove_instances_live, grove_dispatch_latency_seconds, grove_jobs_late_slots_total{config_id}, grove_jobs_silent{config_id}")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut scrape = Scrape {
        engine_running: state.engine.is_running(),
        engine: state.engine.metrics(),
        ..Scrape::default()
    };
    // A page at a time: thousands of configs are never all in memory.
    let mut pages = ObjectPages::new(&*state.store, JOB_CONFIG, OBJECT_PAGE);
    let mut counts: Vec<(String, u64)> = Vec::new();
    scrape.database_up = loop {
        let page = match pages.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break true,
            Err(_) => break false,
        };
        for obj in page {
            let payload = serde_json::from_value::<JobConfigPayload>(obj.payload).ok();
            let alerts = payload.as_ref().and_then(|p| p.alerts).unwrap_or_default();
            if alerts.max_lateness_seconds.is_some() {
                scrape.lateness_watched.push(obj.meta.id.clone());
            }
            if let (Some(p), Some(_)) = (&payload, alerts.max_silence_seconds) {
                let silent = p.schedule.is_enabled && p.silence.is_some();
                scrape.silence.push((obj.meta.id.clone(), silent));
            }
            let health = payload
                .and_then(|p| serde_json::to_value(p.health()).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unreadable".to_owned());
            match counts.iter_mut().find(|(h, _)| *h == health) {
                Some((_, n)) => *n += 1,
                None => counts.push((health, 1)),
            }
        }
    };
    if scrape.database_up {
        counts.sort();
        scrape.configs_by_health = counts;
    } else {
        // A partial read would under-count: report no configs instead.
        scrape.lateness_watched.clear();
        scrape.silence.clear();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&scrape),
    )
}

/// A label value, escaped as the exposition format wants (config ids
/// never need it; the escaping keeps the output valid whatever).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The exposition text of a scrape.
pub fn render(s: &Scrape) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "grove_database_up",
        "gauge",
        "Whether the database answered this scrape.",
    );
    let _ = writeln!(out, "grove_database_up {}", u8::from(s.database_up));
    family(
        &mut out,
        "grove_job_configs",
        "gauge",
        "Job configs by health.",
    );
    for (health, n) in &s.configs_by_health {
        let _ = writeln!(out, "grove_job_configs{{health=\"{health}\"}} {n}");
    }
    family(
        &mut out,
        "grove_engine_running",
        "gauge",
        "Whether this process runs the scheduler and executor.",
    );
    let _ = writeln!(out, "grove_engine_running {}", u8::from(s.engine_running));
    family(
        &mut out,
        "grove_jobs_silent",
        "gauge",
        "Whether a job that watches silence (alerts.maxSilenceSeconds) is silent now (job.silent raised, no success since).",
    );
    for (id, silent) in &s.silence {
        let _ = writeln!(
            out,
            "grove_jobs_silent{{config_id=\"{}\"}} {}",
            label(id),
            u8::from(*silent)
        );
    }
    let Some(e) = &s.engine else {
        return out;
    };
    family(
        &mut out,
        "grove_jobs_late_slots_total",
        "counter",
        "Slots that started later than alerts.maxLatenessSeconds after they were due, or were missed, raised in this process.",
    );
    let mut late: Vec<(&str, u64)> = e
        .late_slots
        .iter()
        .map(|(id, n)| (id.as_str(), *n))
        .collect();
    for id in &s.lateness_watched {
        if !late.iter().any(|(l, _)| l == id) {
            late.push((id, 0));
        }
    }
    late.sort();
    for (id, n) in late {
        let _ = writeln!(
            out,
            "grove_jobs_late_slots_total{{config_id=\"{}\"}} {n}",
            label(id)
        );
    }
    family(
        &mut out,
        "grove_executions_finished_total",
        "counter",
        "Executions that ended in this process, by final status.",
    );
    for (status, n) in &e.finished {
        let _ = writeln!(
            out,
            "grove_executions_finished_total{{status=\"{status}\"}} {n}"
        );
    }
    family(
        &mut out,
        "grove_attempts_started_total",
        "counter",
        "Attempts started in this process.",
    );
    let _ = writeln!(out, "grove_attempts_started_total {}", e.attempts_started);
    family(
        &mut out,
        "grove_attempts_running",
        "gauge",
        "Attempts running in this process now.",
    );
    let _ = writeln!(out, "grove_attempts_running {}", e.running);
    family(
        &mut out,
        "grove_scheduler_configs",
        "gauge",
        "Job configs the scheduler holds a next slot for.",
    );
    let _ = writeln!(out, "grove_scheduler_configs {}", e.scheduled);
    family(
        &mut out,
        "grove_scheduler_configs_owned",
        "gauge",
        "Job configs whose slots this instance fires: its share among the live instances.",
    );
    let _ = writeln!(out, "grove_scheduler_configs_owned {}", e.owned);
    family(
        &mut out,
        "grove_instances_live",
        "gauge",
        "Live instances on this database, this one included, as this instance last read them.",
    );
    let _ = writeln!(out, "grove_instances_live {}", e.instances);
    family(
        &mut out,
        "grove_dispatch_latency_seconds",
        "histogram",
        "From a scheduled slot's instant to its first attempt's start.",
    );
    for (le, n) in DISPATCH_BUCKETS.iter().zip(&e.dispatch_buckets) {
        let _ = writeln!(
            out,
            "grove_dispatch_latency_seconds_bucket{{le=\"{le}\"}} {n}"
        );
    }
    let total = e.dispatch_buckets.last().copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "grove_dispatch_latency_seconds_bucket{{le=\"+Inf\"}} {total}"
    );
    let _ = writeln!(
        out,
        "grove_dispatch_latency_seconds_sum {}",
        e.dispatch_sum_seconds
    );
    let _ = writeln!(out, "grove_dispatch_latency_seconds_count {total}");
    out
}
