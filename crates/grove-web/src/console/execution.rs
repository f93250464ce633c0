//! One execution, and the hooks where the engine plugs in.
//!
//! The engine (executions, Run Now, Retry, SSE under `/api/v1/executions`)
//! is built in parallel. Until its store and handle are on main, the console
//! reads executions from each job's `lastExecution` and answers Run Now and
//! Retry with a notice; the functions marked "engine hook" are the only
//! places to change when it lands.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_core::render::{ExecutionView, execution_to_render_tree, format_duration};
use grove_store::StoredObject;
use maud::html;

use super::form::FormData;
use super::layout::{self, Icon, Nav};
use super::render::{RenderContext, render_tree};
use super::session::{ConsoleUser, refusal};
use crate::error::ApiError;
use crate::state::AppState;

/// Engine hook: the newest executions of a job config, newest first.
pub(crate) async fn recent_executions(
    _state: &AppState,
    config: &StoredObject,
    limit: usize,
) -> Vec<ExecutionView> {
    serde_json::from_value::<JobConfigPayload>(config.payload.clone())
        .ok()
        .and_then(|p| p.last_execution)
        .map(|last| ExecutionView::from_last_execution(&config.meta.id, &last))
        .into_iter()
        .take(limit)
        .collect()
}

/// Engine hook: whether a run of this config is in progress.
pub(crate) fn is_running(executions: &[ExecutionView]) -> bool {
    executions.first().is_some_and(|e| !e.status.is_finished())
}

/// Engine hook: one execution and its job config.
pub(crate) async fn find_execution(
    state: &AppState,
    run_id: &str,
) -> Result<Option<(ExecutionView, StoredObject)>, ApiError> {
    for config in state.store.object_list(JOB_CONFIG).await? {
        if let Some(e) = recent_executions(state, &config, 200)
            .await
            .into_iter()
            .find(|e| e.run_id == run_id)
        {
            return Ok(Some((e, config)));
        }
    }
    Ok(None)
}

/// Engine hook: Run Now; returns the new run's id.
pub(crate) async fn request_run(
    _state: &AppState,
    _config_id: &str,
    _actor: &str,
) -> Result<String, ApiError> {
    Err(ApiError::Unavailable(
        "the engine does not accept manual runs on this server yet".to_owned(),
    ))
}

/// Engine hook: Retry of a finished execution; returns the new run's id.
pub(crate) async fn request_retry(
    _state: &AppState,
    _run_id: &str,
    _actor: &str,
) -> Result<String, ApiError> {
    Err(ApiError::Unavailable(
        "the engine does not accept retries on this server yet".to_owned(),
    ))
}

/// Engine hook: whether the advancement job runs on the legacy defaults
/// (server setting `legacyFallback` on and no enabled advancement-batch
/// config). The engine exposes this flag; until then it is never shown.
pub(crate) fn legacy_configuration_in_use(_state: &AppState) -> bool {
    false
}

/// `GET /console/executions/{runId}`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(run_id): Path<String>,
) -> Response {
    let found = match find_execution(&state, &run_id).await {
        Ok(f) => f,
        Err(e) => return refusal(e.status(), "Error", &e.to_string()),
    };
    let Some((exec, config)) = found else {
        return refusal(
            StatusCode::NOT_FOUND,
            "Execution not found",
            &format!("There is no execution with run id \"{run_id}\"."),
        );
    };
    let Ok(payload) = serde_json::from_value::<JobConfigPayload>(config.payload.clone()) else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unreadable job configuration",
            "The stored job configuration does not decode.",
        );
    };
    let now = state.clock.now();
    let ctx = RenderContext {
        tz: layout::zone(&payload.schedule.timezone),
        now,
        retry_action: user
            .can_edit()
            .then(|| format!("/console/executions/{}/retry", exec.run_id)),
        csrf: user.csrf.clone(),
    };
    let tree = execution_to_render_tree(&exec, &payload, now);
    let live = !exec.status.is_finished();
    let events = format!("/api/v1/executions/{}/events", exec.run_id);
    let body = html! {
        div class="crumbs" {
            a href="/console" { "Console" } " / "
            a href={ "/console/jobs/" (config.meta.id) } { (payload.display_name) } " / execution"
        }
        div class="editor-head" {
            h1 { span class="icon-lg" { (Icon::Hourglass.svg()) } "Run " code { (exec.run_id.chars().take(8).collect::<String>()) } }
            div { (layout::run_status(exec.status.name())) }
        }
        p class="subtitle" {
            (payload.display_name) " · trigger: " (exec.trigger)
            @if let Some(d) = exec.duration_seconds() { " · took " (format_duration(d)) }
        }
        div class="panel" {
            div class="panel-body" style="padding-top:16px" data-events=[live.then_some(events.as_str())] {
                (render_tree(&tree, &ctx))
                @if exec.logs.is_empty() {
                    @if live { div class="log" role="log" aria-label="Log" {} }
                    @else { p class="hint" { "No log lines were stored for this run." } }
                }
            }
        }
    };
    layout::page("Execution", &user, Nav::Jobs, "", body).into_response()
}

/// `POST /console/executions/{runId}/retry`
pub async fn retry(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(run_id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let back = match find_execution(&state, &run_id).await {
        Ok(Some((_, config))) => format!("/console/jobs/{}", config.meta.id),
        _ => "/console".to_owned(),
    };
    match request_retry(&state, &run_id, &user.actor.name).await {
        Ok(new_run) => Redirect::to(&format!("/console/executions/{new_run}")).into_response(),
        Err(ApiError::Unavailable(_)) => {
            Redirect::to(&format!("{back}?notice=engine-unavailable")).into_response()
        }
        Err(e) => refusal(e.status(), "Retry failed", &e.to_string()),
    }
}
