//! `health-check`: runs the configured checks, grades each ok / warning /
//! error / critical, and fails the run (naming the checks) when any grade
//! reaches `alertThreshold`; lower non-ok grades make the run `partial`.
//!
//! - `database`: a store ping — round-trip latency and schema version.
//! - `storage`: the data directory is writable (a file is created and
//!   removed) and has free space: `warning` under 10 %, `error` under 5 %.
//! - `api`: GET `endpoints.api` (or the service's own `/readyz` when
//!   [`EngineSettings::self_url`](crate::EngineSettings) is set); skipped
//!   with a warning when neither is known.
//! - `rag`: GET `endpoints.rag`; non-2xx or refused → `error`; slow answers
//!   are bounded by the attempt's deadline; skipped with a warning when no
//!   endpoint is configured.
//!
//! Skipped checks have no grade and never reach the threshold. Grades reach
//! the result metadata (`checks`) also when the run fails; an alert is
//! journaled as a `health.alert` event for notification digests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use grove_core::job_config::{
    AlertThreshold, EventType, HealthCheckKind, HealthCheckParams, JobParameters, JobType, Severity,
};
use grove_core::outbound::OutboundPolicy;
use serde_json::{Value, json};

use super::JobHandler;
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::http;
use crate::jobs::journal_event;

/// Answers slower than this grade `warning`.
const SLOW: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct HealthCheck {
    data_dir: PathBuf,
    self_url: Option<String>,
    outbound: Arc<OutboundPolicy>,
}

impl HealthCheck {
    pub fn new(settings: &crate::EngineSettings) -> Self {
        Self {
            data_dir: settings.data_dir.clone(),
            self_url: settings.self_url.clone(),
            outbound: settings.outbound.clone(),
        }
    }
}

/// One check's result.
#[derive(Debug, Clone)]
struct Graded {
    name: HealthCheckKind,
    grade: Option<Severity>,
    detail: String,
    latency_ms: Option<u64>,
}

impl Graded {
    fn to_json(&self) -> Value {
        json!({
            "check": self.name.to_string(),
            "grade": self.grade.map_or_else(|| "skipped".to_owned(), |g| g.to_string()),
            "detail": self.detail,
            "latencyMs": self.latency_ms,
        })
    }
}

fn threshold(t: AlertThreshold) -> Severity {
    match t {
        AlertThreshold::Warning => Severity::Warning,
        AlertThreshold::Error => Severity::Error,
        AlertThreshold::Critical => Severity::Critical,
    }
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Ok => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
        Severity::Critical => 3,
    }
}

/// The share (0–1) of the file system holding `dir` that unprivileged
/// writers can still use.
fn free_share(dir: &std::path::Path) -> Result<f64, String> {
    let st = rustix::fs::statvfs(dir).map_err(|e| e.to_string())?;
    if st.f_blocks == 0 {
        return Err("the file system reports no blocks".to_owned());
    }
    Ok(st.f_bavail as f64 / st.f_blocks as f64)
}

/// Free space grades: `warning` under 10 %, `error` under 5 %.
fn storage_grade(free: f64) -> Severity {
    if free < 0.05 {
        Severity::Error
    } else if free < 0.10 {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn http_check(
    ctx: &JobContext,
    name: HealthCheckKind,
    url: &str,
    target: http::Target<'_>,
) -> Graded {
    let started = Instant::now();
    let answer = tokio::select! {
        r = tokio::time::timeout(ctx.remaining(), http::get_status(url, target)) => r.ok(),
        () = ctx.cancel.cancelled() => None,
    };
    let latency = started.elapsed();
    let (grade, detail) = match answer {
        None => (
            Severity::Error,
            format!("{url}: no answer before the attempt's deadline"),
        ),
        Some(Err(e)) => (Severity::Error, e),
        Some(Ok(code)) if !(200..300).contains(&code) => {
            (Severity::Error, format!("{url} answered HTTP {code}"))
        }
        Some(Ok(code)) if latency > SLOW => (
            Severity::Warning,
            format!("{url} answered HTTP {code} slowly ({} ms)", millis(latency)),
        ),
        Some(Ok(code)) => (Severity::Ok, format!("{url} answered HTTP {code}")),
    };
    Graded {
        name,
        grade: Some(grade),
        detail,
        latency_ms: Some(millis(latency)),
    }
}

impl HealthCheck {
    async fn database(&self, ctx: &JobContext) -> Graded {
        let started = Instant::now();
        let ping = tokio::time::timeout(ctx.remaining(), ctx.store.ping()).await;
        let latency = started.elapsed();
        let (grade, detail) = match ping {
            Err(_) => (
                Severity::Critical,
                "the database did not answer before the deadline".to_owned(),
            ),
            Ok(Err(e)) => (
                Severity::Critical,
                format!("the database is unreachable: {e}"),
            ),
            Ok(Ok(version)) if latency > SLOW => (
                Severity::Warning,
                format!(
                    "{} schema version {version}, slow round trip",
                    ctx.store.backend()
                ),
            ),
            Ok(Ok(version)) => (
                Severity::Ok,
                format!("{} schema version {version}", ctx.store.backend()),
            ),
        };
        Graded {
            name: HealthCheckKind::Database,
            grade: Some(grade),
            detail,
            latency_ms: Some(millis(latency)),
        }
    }

    async fn storage(&self, ctx: &JobContext) -> Graded {
        let probe = self.data_dir.join(format!(".grove-health-{}", ctx.run_id));
        let started = Instant::now();
        let written = tokio::fs::write(&probe, b"ok").await;
        let _ = tokio::fs::remove_file(&probe).await;
        let dir = self.data_dir.display();
        let (grade, detail) = match (written, free_share(&self.data_dir)) {
            (Err(e), _) => (Severity::Critical, format!("{dir} is not writable: {e}")),
            (Ok(()), Err(e)) => (
                Severity::Warning,
                format!("{dir} is writable; free space unknown: {e}"),
            ),
            (Ok(()), Ok(free)) => {
                let grade = storage_grade(free);
                (
                    grade,
                    format!("{dir} is writable; {:.1} % free", free * 100.0),
                )
            }
        };
        Graded {
            name: HealthCheckKind::Storage,
            grade: Some(grade),
            detail,
            latency_ms: Some(millis(started.elapsed())),
        }
    }

    fn skipped(ctx: &JobContext, name: HealthCheckKind, why: &str) -> Graded {
        ctx.log.warn(format!("{name} check skipped: {why}"));
        Graded {
            name,
            grade: None,
            detail: why.to_owned(),
            latency_ms: None,
        }
    }
}

#[async_trait]
impl JobHandler for HealthCheck {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::HealthCheck(params) = &ctx.config.parameters else {
            return Err(JobFailure::wrong_parameters(JobType::HealthCheck));
        };
        let HealthCheckParams {
            checks,
            alert_threshold,
            endpoints,
        } = params.clone();
        ctx.progress.set_total(checks.len() as u64);
        let mut results = Vec::with_capacity(checks.len());
        for check in checks {
            if ctx.is_cancelled() {
                return Err(JobFailure::new("cancelled before every check ran"));
            }
            let graded = match check {
                HealthCheckKind::Database => self.database(&ctx).await,
                HealthCheckKind::Storage => self.storage(&ctx).await,
                HealthCheckKind::Api => {
                    // The service's own /readyz is always allowed; an
                    // operator's endpoint follows the outbound policy.
                    let url = match endpoints.api.clone() {
                        Some(u) => Some((u, http::Target::Policy(&self.outbound))),
                        None => self.self_url.as_ref().map(|u| {
                            (
                                format!("{}/readyz", u.trim_end_matches('/')),
                                http::Target::OwnService,
                            )
                        }),
                    };
                    match url {
                        Some((url, target)) => http_check(&ctx, check, &url, target).await,
                        None => Self::skipped(
                            &ctx,
                            check,
                            "no endpoints.api is configured and the service's own URL is unknown",
                        ),
                    }
                }
                HealthCheckKind::Rag => match endpoints.rag.clone() {
                    Some(url) => {
                        http_check(&ctx, check, &url, http::Target::Policy(&self.outbound)).await
                    }
                    None => Self::skipped(&ctx, check, "no endpoints.rag is configured"),
                },
            };
            match graded.grade {
                Some(Severity::Ok) => {
                    ctx.log.info(format!("{check}: ok — {}", graded.detail));
                    ctx.progress.add(1, 0);
                }
                Some(g) if rank(g) >= rank(Severity::Error) => {
                    ctx.log.error(format!("{check}: {g} — {}", graded.detail));
                    ctx.progress.add(0, 1);
                }
                Some(g) => {
                    ctx.log.warn(format!("{check}: {g} — {}", graded.detail));
                    ctx.progress.add(1, 0);
                }
                None => ctx.progress.add(1, 0),
            }
            results.push(graded);
        }
        let limit = threshold(alert_threshold);
        let alerting: Vec<String> = results
            .iter()
            .filter_map(|r| {
                r.grade
                    .filter(|g| rank(*g) >= rank(limit))
                    .map(|g| format!("{} ({g}: {})", r.name, r.detail))
            })
            .collect();
        let mut metadata = serde_json::Map::new();
        metadata.insert(
            "checks".to_owned(),
            Value::Array(results.iter().map(Graded::to_json).collect()),
        );
        if !alerting.is_empty() {
            let message = format!(
                "health alert: {} check{} at or above {alert_threshold}: {}",
                alerting.len(),
                if alerting.len() == 1 { "" } else { "s" },
                alerting.join("; ")
            );
            ctx.log.error(message.clone());
            let data = json!({"runId": ctx.run_id, "checks": metadata["checks"].clone()});
            let journaled = journal_event(
                &*ctx.store,
                EventType::HealthAlert,
                &ctx.config_id,
                &message,
                data,
                ctx.clock.now(),
            )
            .await;
            if let Err(e) = journaled {
                ctx.log
                    .warn(format!("the health.alert event could not be recorded: {e}"));
            }
            return Err(JobFailure::Failed { message, metadata });
        }
        let counts = ctx.progress.snapshot();
        Ok(JobOutcome {
            processed: counts.processed,
            total: counts.total,
            succeeded: counts.succeeded,
            failed: counts.failed,
            metadata,
            partial_reason: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_grades_at_ten_and_five_percent() {
        assert_eq!(storage_grade(0.5), Severity::Ok);
        assert_eq!(storage_grade(0.10), Severity::Ok);
        assert_eq!(storage_grade(0.099), Severity::Warning);
        assert_eq!(storage_grade(0.05), Severity::Warning);
        assert_eq!(storage_grade(0.049), Severity::Error);
    }

    #[test]
    fn the_share_of_a_real_file_system_is_a_fraction() {
        let share = free_share(std::path::Path::new(".")).expect("statvfs");
        assert!((0.0..=1.0).contains(&share), "{share}");
    }
}
