//! `GET /api/v1/schedule/preview`: what a cron expression means in a zone,
//! from the same schedule module the scheduler and `derived` use.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use grove_core::schedule::{DstPolicy, Schedule, ScheduleError, preview};
use grove_core::validate::{Choice, Problem};
use jiff::Timestamp;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::schedule::SchedulePreview;

/// Most runs one preview lists.
pub const MAX_COUNT: usize = 100;

#[utoipa::path(get, path = "/api/v1/schedule/preview", tag = "schedules",
    params(
        ("cron" = String, Query, description = "Cron expression, e.g. 0 2 * * *"),
        ("tz" = Option<String>, Query, description = "IANA time zone, default UTC"),
        ("count" = Option<usize>, Query, description = "Runs to list, 1 to 100, default 5"),
        ("after" = Option<String>, Query, description = "RFC 3339 instant; runs strictly after it, default now"),
        ("dstPolicy" = Option<String>, Query, description = "cron (default) or literal")),
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
    if !cron.trim().is_empty() {
        match Schedule::parse(cron, tz, policy) {
            Ok(schedule) if problems.is_empty() => {
                let p = preview(&schedule, after, count);
                return Ok(Json(SchedulePreview::from(&p)));
            }
            Ok(_) => {}
            Err(ScheduleError::Cron(e)) => problems.push(Problem::new("/cron", e.to_string())),
            Err(ScheduleError::TimeZone(e)) => problems.push(Problem::new("/tz", e.to_string())),
        }
    }
    Err(ApiError::Validation(problems))
}
