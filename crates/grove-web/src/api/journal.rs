//! `GET /api/v1/journal?type=&subject=&limit=&cursor=`: the event journal,
//! newest first — runs that ended, jobs disabled, config changes, and the
//! dead-man's switch's `job.late` and `job.silent`.

use axum::Json;
use axum::extract::{Query, State};
use grove_core::job_config::EventType;
use grove_core::validate::Choice;
use grove_store::JournalFilter;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::grove::{JournalEntryOut, JournalPage};
use crate::wire::problem::Problem;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// `GET /api/v1/journal`
#[utoipa::path(get, path = "/api/v1/journal", tag = "journal",
    description = "The event journal, newest first: job.succeeded, job.failed, job.disabled, job.late and job.silent (the dead-man's switch, `payload.alerts`), advancement, config.changed, health.alert. Role: viewer.",
    params(("type" = Option<String>, Query, description = "Only these event types, comma-separated (e.g. job.late,job.silent)"),
        ("subject" = Option<String>, Query, description = "Only entries about this subject (a job config id)"),
        ("limit" = Option<u32>, Query, description = "1–500, default 50"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = JournalPage), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<JournalPage>> {
    let filter = journal_filter(params)?;
    let limit = filter.limit;
    let events = state.store.journal_list(filter).await?;
    let next_cursor = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(JournalPage {
        items: events.iter().map(JournalEntryOut::from).collect(),
        next_cursor,
    }))
}

fn journal_filter(params: Vec<(String, String)>) -> ApiResult<JournalFilter> {
    let mut filter = JournalFilter {
        limit: DEFAULT_LIMIT,
        ..JournalFilter::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in params {
        if seen.contains(&key) {
            return Err(ApiError::BadRequest(format!(
                "query parameter \"{key}\" is given twice"
            )));
        }
        seen.push(key.clone());
        match key.as_str() {
            "type" => {
                for name in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if EventType::from_name(name).is_none() {
                        return Err(ApiError::BadRequest(format!(
                            "type \"{name}\" is not one of {}",
                            EventType::names()
                        )));
                    }
                    if !filter.types.iter().any(|t| t == name) {
                        filter.types.push(name.to_owned());
                    }
                }
            }
            "subject" => filter.subject = Some(value).filter(|s| !s.is_empty()),
            "limit" => {
                filter.limit = match value.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}, got \"{value}\""
                        )));
                    }
                }
            }
            "cursor" => {
                if !value.is_empty() {
                    let before = value.parse::<i64>().map_err(|_| {
                        ApiError::BadRequest(format!(
                            "cursor \"{value}\" is not a cursor this server handed out (nextCursor)"
                        ))
                    })?;
                    filter.before = Some(before);
                }
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter \"{other}\"; use type, subject, limit or cursor"
                )));
            }
        }
    }
    Ok(filter)
}
