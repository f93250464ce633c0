//! One execution, and how the console reads and drives runs: history from
//! the store, Run Now and Retry through the engine, the live page over the
//! executions API's server-sent events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_core::render::{self, ExecutionView, LogLine, execution_to_render_tree, format_duration};
use grove_store::{Execution, StoredObject};
use maud::html;

use super::form::FormData;
use super::layout::{self, Icon, Nav};
use super::render::{RenderContext, render_tree};
use super::session::{ConsoleUser, refusal};
use crate::error::ApiError;
use crate::state::AppState;

/// Log lines shown on the execution page (the newest of a longer log are
/// in the API).
const PAGE_LOG_LINES: u32 = 1_000;

/// The console's view of a stored execution.
pub(crate) fn view(e: &Execution, logs: Vec<LogLine>) -> ExecutionView {
    use grove_store::ExecutionStatus as S;
    let status = match e.status {
        S::Queued => render::ExecutionStatus::Queued,
        S::Running => render::ExecutionStatus::Running,
        S::Success => render::ExecutionStatus::Success,
        S::Partial => render::ExecutionStatus::Partial,
        S::Failed => render::ExecutionStatus::Failed,
        S::Cancelled => render::ExecutionStatus::Cancelled,
        S::Skipped => render::ExecutionStatus::Skipped,
    };
    ExecutionView {
        run_id: e.id.clone(),
        config_id: e.config_id.clone(),
        status,
        trigger: e.trigger.to_string(),
        started_at: e.started_at,
        completed_at: e.completed_at,
        items_processed: e.counts.processed,
        items_total: e.counts.total,
        errors: e.counts.failed,
        attempts: e.attempt_count.max(1),
        error: e
            .error
            .clone()
            .or_else(|| e.reason.clone().map(|r| format!("skipped: {r}"))),
        logs,
    }
}

/// The newest executions of a job config, newest first. Falls back to the
/// config's `lastExecution` when the history cannot be read.
pub(crate) async fn recent_executions(
    state: &AppState,
    config: &StoredObject,
    limit: usize,
) -> Vec<ExecutionView> {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    match state.store.execution_list(&config.meta.id, limit).await {
        Ok(list) => list.iter().map(|e| view(e, Vec::new())).collect(),
        Err(e) => {
            tracing::warn!(job = %config.meta.id, error = %e, "cannot read the execution history");
            serde_json::from_value::<JobConfigPayload>(config.payload.clone())
                .ok()
                .and_then(|p| p.last_execution)
                .map(|last| ExecutionView::from_last_execution(&config.meta.id, &last))
                .into_iter()
                .collect()
        }
    }
}

/// Whether a run of this config is queued or in progress.
pub(crate) fn is_running(executions: &[ExecutionView]) -> bool {
    executions.iter().any(|e| !e.status.is_finished())
}

/// One execution as the console shows it.
pub(crate) struct Found {
    pub view: ExecutionView,
    /// The config as stored now, or the snapshot the execution was created
    /// with when the config is gone (deleted, or the legacy job).
    pub config: JobConfigPayload,
    /// Whether `view.config_id` still names a stored job config (link it).
    pub config_exists: bool,
}

/// One execution with its log, and its job config.
pub(crate) async fn find_execution(
    state: &AppState,
    run_id: &str,
) -> Result<Option<Found>, ApiError> {
    let Some(e) = state.store.execution_get(run_id).await? else {
        return Ok(None);
    };
    let stored = state.store.object_get(JOB_CONFIG, &e.config_id).await?;
    let current = stored
        .as_ref()
        .and_then(|o| serde_json::from_value::<JobConfigPayload>(o.payload.clone()).ok());
    let config = match current {
        Some(c) => c,
        None => serde_json::from_value::<JobConfigPayload>(e.payload.clone()).map_err(|err| {
            ApiError::Internal(format!(
                "execution \"{run_id}\" carries a job configuration that does not decode: {err}"
            ))
        })?,
    };
    let logs = state
        .store
        .log_list(run_id, 0, PAGE_LOG_LINES)
        .await?
        .into_iter()
        .map(|l| LogLine {
            timestamp: l.at,
            level: l.level.to_string(),
            message: l.message,
        })
        .collect();
    Ok(Some(Found {
        view: view(&e, logs),
        config,
        config_exists: stored.is_some(),
    }))
}

/// Run Now; returns the new run's id.
pub(crate) async fn request_run(
    state: &AppState,
    config_id: &str,
    actor: &str,
) -> Result<String, ApiError> {
    Ok(state.engine.run_now(config_id, Some(actor)).await?.id)
}

/// Retry of a finished execution; returns the new run's id.
pub(crate) async fn request_retry(
    state: &AppState,
    run_id: &str,
    actor: &str,
) -> Result<String, ApiError> {
    Ok(state.engine.retry(run_id, Some(actor)).await?.id)
}

/// Whether the advancement job runs on the legacy defaults (server setting
/// `legacyFallback` on and no enabled advancement-batch config).
pub(crate) fn legacy_configuration_in_use(state: &AppState) -> bool {
    state.engine.legacy_in_use().is_some()
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
    let Some(Found {
        view: exec,
        config: payload,
        config_exists,
    }) = found
    else {
        return refusal(
            StatusCode::NOT_FOUND,
            "Execution not found",
            &format!("There is no execution with run id \"{run_id}\"."),
        );
    };
    let now = state.clock.now();
    let ctx = RenderContext {
        tz: layout::zone(&payload.schedule.timezone),
        now,
        retry_action: (user.can_edit() && config_exists)
            .then(|| format!("/console/executions/{}/retry", exec.run_id)),
        csrf: user.csrf.clone(),
    };
    let tree = execution_to_render_tree(&exec, &payload, now);
    let live = !exec.status.is_finished();
    let events = format!("/api/v1/executions/{}/events", exec.run_id);
    let body = html! {
        // Without JavaScript a running execution's page reloads itself; with
        // it, the script follows the server-sent events instead.
        @if live { noscript { meta http-equiv="refresh" content="3"; } }
        div class="crumbs" {
            a href="/console" { "Console" } " / "
            @if config_exists {
                a href={ "/console/jobs/" (exec.config_id) } { (payload.display_name) }
            } @else {
                (payload.display_name)
            }
            " / execution"
        }
        div class="editor-head" {
            h1 { span class="icon-lg" { (Icon::Hourglass.svg()) } "Run " code { (exec.run_id.chars().take(8).collect::<String>()) } }
            div data-run-status { (layout::run_status(exec.status.name())) }
        }
        p class="subtitle" {
            (payload.display_name) " · trigger: " (exec.trigger)
            @if let Some(d) = exec.duration_seconds() { " · took " (format_duration(d)) }
        }
        div class="panel" {
            div class="panel-body" style="padding-top:16px" data-events=[live.then_some(events.as_str())] data-live-status=(exec.status.name()) {
                (render_tree(&tree, &ctx))
                @if exec.logs.is_empty() {
                    @if live { div class="log" role="log" aria-label="Log" {} }
                    @else { p class="hint" { "No log lines were stored for this run." } }
                }
                @if live {
                    p class="hint" { "This page follows the run as it happens. " a href={ "/console/executions/" (exec.run_id) } { "Reload" } }
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
        Ok(Some(found)) if found.config_exists => format!("/console/jobs/{}", found.view.config_id),
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
