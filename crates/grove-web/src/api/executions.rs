//! Runs of job configs: Run Now, history, one execution with its attempts,
//! its logs, live events (server-sent events), retry and cancel.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use grove_app::objects::MAX_LIMIT;
use grove_core::registry::JOB_CONFIG;
use grove_engine::LEGACY_CONFIG_ID;
use grove_store::Execution;
use serde::Deserialize;
use tokio::sync::broadcast;

use grove_app::RunOptions;

use crate::auth::Operator;
use crate::body::{JsonBody, OptionalJsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::execution::{
    BackfillAccepted, BackfillRequest, EngineStatus, ExecutionList, ExecutionOut, LogLineOut,
    LogPage, RunAccepted, RunOptionsBody,
};
use crate::wire::live::RunEventOut;
use crate::wire::problem::Problem;

/// History entries when `limit` is not given.
pub const DEFAULT_HISTORY: u32 = 20;
/// Log lines per page.
pub const MAX_LOG_LINES: u32 = 5_000;

/// `Retry-After` when every event stream permit is taken.
pub const STREAM_RETRY_AFTER_SECS: u32 = 5;

fn run_reply(status: StatusCode, e: &Execution) -> Response {
    (status, Json(RunAccepted::from(e))).into_response()
}

/// `POST /api/v1/jobs/{id}/run`: 202 `{runId, status}`.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/run", tag = "executions", params(("id" = String, Path, description = "Job config id")),
    request_body(content = Option<RunOptionsBody>, description = "Optional per-run options, merged (JSON merge patch) over the stored config and validated as a whole; 422 with pointers into this body, nothing queued"),
    security(("bearer" = [])), responses((status = 202, body = RunAccepted, description = "Queued; runs with the config as stored now (and the options)"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "The stored config cannot be run"), (status = 422, body = Problem, description = "The options do not validate"), (status = 503, body = Problem, description = "No engine in this process")))]
pub async fn run_now(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Operator(actor): Operator,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Response> {
    let options = match &body {
        serde_json::Value::Null => RunOptions::none(),
        body => RunOptions::from_body(body, &[]).map_err(ApiError::Validation)?,
    };
    let e = state.app.run_with(&id, &options, &actor.caller()).await?;
    Ok(run_reply(StatusCode::ACCEPTED, &e))
}

/// `POST /api/v1/jobs/{id}/backfill`: 202 `{runIds, slots, alreadyRecorded}`.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/backfill", tag = "executions",
    description = "One execution (trigger backfill) per slot of the job's schedule in [from, to), calendars applied and no jitter, whether or not the schedule is enabled; slots that already have an execution are counted in alreadyRecorded and not run again. At most 1,000 slots; to must not be after now. Role: operator.",
    params(("id" = String, Path, description = "Job config id")),
    request_body(content = BackfillRequest),
    security(("bearer" = [])),
    responses((status = 202, body = BackfillAccepted), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem, description = "The stored config cannot be run"), (status = 422, body = Problem, description = "A field is wrong: from/to, more than 1,000 slots, or options that do not validate"), (status = 503, body = Problem, description = "No engine in this process")))]
pub async fn backfill(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Operator(actor): Operator,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut problems = Vec::new();
    let mut instant = |key: &str| -> Option<jiff::Timestamp> {
        match body.get(key) {
            None | Some(serde_json::Value::Null) => {
                problems.push(grove_core::validate::Problem::new(
                    format!("/{key}"),
                    "is required: an RFC 3339 instant such as 2026-11-01T00:00:00Z",
                ));
                None
            }
            Some(v) => match v.as_str().and_then(|s| s.parse().ok()) {
                Some(t) => Some(t),
                None => {
                    problems.push(grove_core::validate::Problem::new(
                        format!("/{key}"),
                        format!("must be an RFC 3339 instant with an offset, such as 2026-11-01T00:00:00Z, got {v}"),
                    ));
                    None
                }
            },
        }
    };
    let from = instant("from");
    let to = instant("to");
    let options = match RunOptions::from_body(&body, &["from", "to"]) {
        Ok(o) => Some(o),
        Err(p) => {
            problems.extend(p);
            None
        }
    };
    let (Some(from), Some(to), Some(options), true) = (from, to, options, problems.is_empty())
    else {
        return Err(ApiError::Validation(problems));
    };
    let done = state
        .app
        .backfill(&id, from, to, &options, &actor.caller())
        .await?;
    let reply = BackfillAccepted {
        run_ids: done.runs.iter().map(|e| e.id.clone()).collect(),
        slots: done.slots,
        already_recorded: done.already_recorded,
    };
    Ok((StatusCode::ACCEPTED, Json(reply)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    limit: Option<String>,
}

pub(crate) fn parse_limit(raw: Option<&str>, default: u32, max: u32) -> ApiResult<u32> {
    match raw {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "limit must be a whole number from 1 to {max}, got \"{s}\""
            ))),
        },
    }
}

/// `GET /api/v1/jobs/{id}/executions?limit=`: newest first.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/executions", tag = "executions", params(("id" = String, Path), ("limit" = Option<u32>, Query, description = "1–500, default 20")), responses((status = 200, body = ExecutionList), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<ExecutionList>> {
    let max = u32::try_from(MAX_LIMIT).unwrap_or(500);
    let limit = parse_limit(q.limit.as_deref(), DEFAULT_HISTORY, max)?;
    if id != LEGACY_CONFIG_ID && state.store.object_get(JOB_CONFIG, &id).await?.is_none() {
        return Err(ApiError::not_found(format!("job config \"{id}\"")));
    }
    let now = state.clock.now();
    let items = state
        .store
        .execution_list(&id, limit)
        .await?
        .iter()
        .map(|e| ExecutionOut::new(e, now))
        .collect();
    Ok(Json(ExecutionList { items }))
}

async fn load(state: &AppState, run_id: &str) -> ApiResult<Execution> {
    state
        .store
        .execution_get(run_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("execution \"{run_id}\"")))
}

/// `GET /api/v1/executions/{runId}`.
#[utoipa::path(get, path = "/api/v1/executions/{runId}", tag = "executions", params(("runId" = String, Path)), responses((status = 200, body = ExecutionOut), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> ApiResult<Json<ExecutionOut>> {
    let e = load(&state, &run_id).await?;
    Ok(Json(ExecutionOut::new(&e, state.clock.now())))
}

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/executions/{runId}/logs?after=&limit=`: oldest first;
/// `after` is the `seq` of the last line already seen.
#[utoipa::path(get, path = "/api/v1/executions/{runId}/logs", tag = "executions", params(("runId" = String, Path), ("after" = Option<i64>, Query, description = "seq of the last line already seen"), ("limit" = Option<u32>, Query)), responses((status = 200, body = LogPage), (status = 404, body = Problem)))]
pub async fn logs(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<LogPage>> {
    load(&state, &run_id).await?;
    let after = match q.after.as_deref() {
        None => 0,
        Some(s) => s.parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!("after must be a log line's seq, got \"{s}\""))
        })?,
    };
    let limit = parse_limit(q.limit.as_deref(), MAX_LOG_LINES, MAX_LOG_LINES)?;
    let lines = state.store.log_list(&run_id, after, limit).await?;
    Ok(Json(LogPage {
        items: lines.iter().map(LogLineOut::from).collect(),
    }))
}

/// `POST /api/v1/executions/{runId}/retry`: 202 with the new run; 409
/// while the execution is queued or running.
#[utoipa::path(post, path = "/api/v1/executions/{runId}/retry", tag = "executions", params(("runId" = String, Path)), security(("bearer" = [])), responses((status = 202, body = RunAccepted, description = "A new run (trigger retry)"), (status = 404, body = Problem), (status = 409, body = Problem, description = "Still queued or running, or the stored config cannot be run"), (status = 503, body = Problem, description = "No engine in this process")))]
pub async fn retry(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    Operator(actor): Operator,
) -> ApiResult<Response> {
    let e = state.app.retry(&run_id, &actor.caller()).await?;
    Ok(run_reply(StatusCode::ACCEPTED, &e))
}

/// `POST /api/v1/executions/{runId}/cancel`: 200 when a queued execution
/// was cancelled, 202 when a running one was asked to stop; 409 when it
/// had already ended.
#[utoipa::path(post, path = "/api/v1/executions/{runId}/cancel", tag = "executions", params(("runId" = String, Path)), security(("bearer" = [])), responses((status = 200, body = RunAccepted, description = "A queued run was cancelled"), (status = 202, body = RunAccepted, description = "A running run was asked to stop"), (status = 404, body = Problem), (status = 409, body = Problem, description = "Already ended"), (status = 503, body = Problem, description = "No engine in this process")))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    Operator(actor): Operator,
) -> ApiResult<Response> {
    let e = state.app.cancel(&run_id, &actor.caller()).await?;
    let status = if e.status.is_final() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok(run_reply(status, &e))
}

enum Phase {
    /// The stored state, sent first.
    Snapshot(Box<Execution>),
    Live,
    Done,
}

/// `GET /api/v1/executions/{runId}/events`: server-sent events. First a
/// `snapshot` (the execution as stored), then `phase`, `progress` and
/// `log` events as they happen, then `end`; the stream closes when the
/// run ends or the engine stops.
#[utoipa::path(get, path = "/api/v1/executions/{runId}/events", tag = "executions", params(("runId" = String, Path)), responses((status = 200, content_type = "text/event-stream", description = "Server-sent events: `snapshot` (ExecutionOut), then `phase`, `progress`, `log` and `end` (RunEventOut)"), (status = 404, body = Problem)))]
pub async fn events(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // A permit per open stream, held until the stream is dropped: past the
    // cap a client is told to come back rather than holding memory forever.
    let permit = state
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy {
            detail: format!(
                "{} event streams are open, the most this server keeps; retry shortly",
                state.settings.max_event_streams
            ),
            retry_after_secs: STREAM_RETRY_AFTER_SECS,
        })?;
    // Subscribe before reading, so nothing between the two is lost.
    let rx = state.engine.subscribe(&run_id).ok();
    let e = load(&state, &run_id).await?;
    let now = state.clock.now();
    let engine = state.engine.clone();
    let stream = futures::stream::unfold(
        (Phase::Snapshot(Box::new(e)), rx),
        move |(phase, mut rx)| {
            let engine = engine.clone();
            async move {
                match phase {
                    Phase::Done => None,
                    Phase::Snapshot(e) => {
                        let event = Event::default()
                            .event("snapshot")
                            .json_data(ExecutionOut::new(&e, now))
                            .unwrap_or_default();
                        let next = if e.status.is_final() || rx.is_none() {
                            Phase::Done
                        } else {
                            Phase::Live
                        };
                        Some((Ok(event), (next, rx)))
                    }
                    Phase::Live => {
                        let receiver = rx.as_mut()?;
                        loop {
                            let got = tokio::select! {
                                r = receiver.recv() => r,
                                () = engine.stopped() => return None,
                            };
                            match got {
                                Ok(ev) => {
                                    let ev = RunEventOut::from(&ev);
                                    let next = if matches!(ev, RunEventOut::End { .. }) {
                                        Phase::Done
                                    } else {
                                        Phase::Live
                                    };
                                    let event = Event::default()
                                        .event(ev.name())
                                        .json_data(&ev)
                                        .unwrap_or_default();
                                    return Some((Ok(event), (next, rx)));
                                }
                                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                                Err(broadcast::error::RecvError::Closed) => return None,
                            }
                        }
                    }
                }
            }
        },
    );
    let stream = futures::StreamExt::map(stream, move |event| {
        let _held = &permit;
        event
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// `GET /api/v1/engine`: whether the engine runs here and whether the
/// advancement job uses legacy defaults (migration mode).
#[utoipa::path(get, path = "/api/v1/engine", tag = "executions", responses((status = 200, body = EngineStatus)))]
pub async fn engine_status(State(state): State<AppState>) -> Json<EngineStatus> {
    Json(EngineStatus::new(
        state.engine.is_running(),
        state.engine.legacy_in_use(),
    ))
}
