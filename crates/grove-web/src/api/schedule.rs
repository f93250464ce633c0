//! `GET /api/v1/schedule/preview`: what a cron expression means in a zone,
//! from the same schedule module the scheduler and `derived` use.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use grove_core::job_config::{JobConfigPayload, JobType, ScheduleConfig};
use grove_core::plan::JobPlan;
use grove_core::schedule::{DstPolicy, Schedule, ScheduleError, preview, preview_plan};
use grove_core::validate::{Choice, Problem};
use jiff::Timestamp;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::schedule::{SchedulePreview, UpcomingOut};

/// Most runs one preview lists.
pub const MAX_COUNT: usize = 100;

#[utoipa::path(get, path = "/api/v1/schedule/preview", tag = "schedules",
    params(
        ("cron" = String, Query, description = "Cron expression, e.g. 0 2 * * *"),
        ("tz" = Option<String>, Query, description = "IANA time zone, default UTC"),
        ("count" = Option<usize>, Query, description = "Runs to list, 1 to 100, default 5"),
        ("after" = Option<String>, Query, description = "RFC 3339 instant; runs strictly after it, default now"),
        ("dstPolicy" = Option<String>, Query, description = "cron (default) or literal"),
        ("excludeCalendars" = Option<String>, Query, description = "Comma-separated calendar ids whose excluded times the runs skip; each excluded slot is named in the notes"),
        ("jitterSeconds" = Option<u32>, Query, description = "0 to 3600: runs are due up to this many seconds after their slot")),
    responses((status = 200, body = SchedulePreview),
        (status = 422, body = crate::wire::problem::Problem)))]
pub async fn preview_schedule(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<SchedulePreview>> {
    let mut problems = Vec::new();
    let cron = params.get("cron").map(String::as_str).unwrap_or("");
    if cron.trim().is_empty() {
        problems.push(Problem::new("/cron", "is required, e.g. cron=0 2 * * *"));
    }
    let tz = params.get("tz").map(String::as_str).unwrap_or("UTC");
    let count = match params.get("count") {
        None => 5,
        Some(c) => match c.parse::<usize>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
            _ => {
                problems.push(Problem::new(
                    "/count",
                    format!("must be a whole number from 1 to {MAX_COUNT}, got \"{c}\""),
                ));
                5
            }
        },
    };
    let after = match params.get("after") {
        None => state.clock.now(),
        Some(a) => a.parse::<Timestamp>().unwrap_or_else(|_| {
            problems.push(Problem::new(
                "/after",
                format!("must be an RFC 3339 instant such as 2026-03-07T12:00:00Z, got \"{a}\""),
            ));
            state.clock.now()
        }),
    };
    let policy = match params.get("dstPolicy") {
        None => DstPolicy::Cron,
        Some(p) => DstPolicy::from_name(p).unwrap_or_else(|| {
            problems.push(Problem::new(
                "/dstPolicy",
                format!("\"{p}\" is not one of {}", DstPolicy::names()),
            ));
            DstPolicy::Cron
        }),
    };
    let jitter_seconds = match params.get("jitterSeconds") {
        None => 0,
        Some(j) => match j.parse::<u32>() {
            Ok(n) if n <= 3600 => n,
            _ => {
                problems.push(Problem::new(
                    "/jitterSeconds",
                    format!("must be a whole number from 0 to 3600, got \"{j}\""),
                ));
                0
            }
        },
    };
    let calendars = state.app.calendars().await?;
    let exclude: Vec<String> = params
        .get("excludeCalendars")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for id in &exclude {
        if calendars.get(id).is_none() {
            problems.push(Problem::new(
                "/excludeCalendars",
                format!("there is no calendar \"{id}\""),
            ));
        }
    }
    if !cron.trim().is_empty() {
        match Schedule::parse(cron, tz, policy) {
            Ok(schedule) if problems.is_empty() => {
                let p = if exclude.is_empty() && jitter_seconds == 0 {
                    preview(&schedule, after, count)
                } else {
                    let config = ScheduleConfig {
                        cron_expression: Some(cron.to_owned()),
                        timezone: tz.to_owned(),
                        dst_policy: policy,
                        exclude_calendars: exclude,
                        jitter_seconds,
                        ..JobConfigPayload::default_for(JobType::HealthCheck).schedule
                    };
                    match JobPlan::new("preview", &config, &calendars) {
                        Some(plan) => preview_plan(&schedule, &plan, after, count, jitter_seconds),
                        None => preview(&schedule, after, count),
                    }
                };
                return Ok(Json(SchedulePreview::from(&p)));
            }
            Ok(_) => {}
            Err(ScheduleError::Cron(e)) => problems.push(Problem::new("/cron", e.to_string())),
            Err(ScheduleError::TimeZone(e)) => problems.push(Problem::new("/tz", e.to_string())),
        }
    }
    Err(ApiError::Validation(problems))
}

#[derive(Debug, serde::Deserialize)]
pub struct UpcomingQuery {
    count: Option<String>,
}

/// `GET /api/v1/jobs/{id}/upcoming?count=N`
#[utoipa::path(get, path = "/api/v1/jobs/{id}/upcoming", tag = "schedules",
    description = "The next runs of a job exactly as the scheduler fires them: cron or runAt in the job's zone and DST policy, excluded calendars, the pause and jitter; with the slots calendars exclude within the span of the runs returned. Empty while the schedule is disabled. Role: viewer.",
    params(("id" = String, Path), ("count" = Option<u32>, Query, description = "1 to 100, default 10")),
    responses((status = 200, body = UpcomingOut), (status = 400, body = crate::wire::problem::Problem), (status = 404, body = crate::wire::problem::Problem)))]
pub async fn upcoming(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(q): Query<UpcomingQuery>,
) -> ApiResult<Json<UpcomingOut>> {
    let count = crate::api::executions::parse_limit(q.count.as_deref(), 10, MAX_COUNT as u32)?;
    let upcoming = state.app.upcoming(&id, count as usize).await?;
    Ok(Json(UpcomingOut::from(&upcoming)))
}
