//! One execution, and how the console reads and drives runs: history from
//! the store, Run Now and Retry through the application, the live page over
//! the executions API's server-sent events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_core::job_config::JobConfigPayload;
use grove_core::render::{ExecutionView, LOG_TAIL, execution_to_render_tree, format_duration};
use grove_store::StoredObject;
use maud::html;

use super::form::FormData;
use super::layout::{self, Icon, Nav};
use super::render::{RenderContext, render_tree};
use super::session::{ConsoleUser, refusal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::execution::{Found, find_execution, view};

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
            <JobConfigPayload as serde::Deserialize>::deserialize(&config.payload)
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

/// Run Now; returns the new run's id.
pub(crate) async fn request_run(
    state: &AppState,
    config_id: &str,
    by: &grove_app::Caller,
) -> Result<String, ApiError> {
    Ok(state.app.run_now(config_id, by).await?.id)
}

/// Retry of a finished execution; returns the new run's id.
pub(crate) async fn request_retry(
    state: &AppState,
    run_id: &str,
    by: &grove_app::Caller,
) -> Result<String, ApiError> {
    Ok(state.app.retry(run_id, by).await?.id)
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
    // A retry links to the run it retried, a chained run to its parent.
    let (retry_of, parent) = match state.store.execution_get(&exec.run_id).await {
        Ok(Some(e)) => (e.retry_of, e.parent_run_id),
        _ => (None, None),
    };
    let parent_config = match &parent {
        Some(id) => state
            .store
            .execution_get(id)
            .await
            .ok()
            .flatten()
            .map(|e| e.config_id),
        None => None,
    };
    let now = state.clock.now();
    let ctx = RenderContext {
        tz: layout::zone(&payload.schedule.timezone),
        now,
        retry_action: (user.can_edit() && config_exists)
            .then(|| format!("/console/executions/{}/retry", exec.run_id)),
        csrf: user.csrf.clone(),
        status: Some(exec.status),
    };
    let tree = execution_to_render_tree(&exec, &payload, now);
    let live = !exec.status.is_finished();
    let events = format!("/api/v1/executions/{}/events", exec.run_id);
    let run_api = format!("/api/v1/executions/{}", exec.run_id);
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
            div data-run-status { (layout::run_status(if exec.is_retrying() { "retrying" } else { exec.status.name() })) }
        }
        p class="subtitle" {
            (payload.display_name) " · trigger: " (exec.trigger)
            @if let Some(of) = &retry_of {
                " of " a href={ "/console/executions/" (of) } data-retry-of=(of) { "run " code { (of.chars().take(8).collect::<String>()) } }
            }
            @if let Some(of) = &parent {
                " after " a href={ "/console/executions/" (of) } data-parent-run=(of) { "run " code { (of.chars().take(8).collect::<String>()) } }
                @if let Some(c) = &parent_config { " of " a href={ "/console/jobs/" (c) } { (c) } }
            }
            @if let Some(d) = exec.duration_seconds() { " · took " (format_duration(d)) }
        }
        @if !payload.triggers.is_empty() {
            p class="hint chain-links" {
                "Chains to: "
                @for (i, to) in payload.triggers.on_success.iter().enumerate() {
                    @if i > 0 { ", " } a href={ "/console/jobs/" (to) } { (to) }
                }
                @if !payload.triggers.on_success.is_empty() { " on success" }
                @if !payload.triggers.on_success.is_empty() && !payload.triggers.on_failure.is_empty() { "; " }
                @for (i, to) in payload.triggers.on_failure.iter().enumerate() {
                    @if i > 0 { ", " } a href={ "/console/jobs/" (to) } { (to) }
                }
                @if !payload.triggers.on_failure.is_empty() { " on failure" }
                "."
            }
        }
        div class="panel" {
            div class="panel-body padded" data-events=[live.then_some(events.as_str())] data-run=[live.then_some(run_api.as_str())] data-tz=(payload.schedule.timezone) data-tz-abbr=(now.to_zoned(ctx.tz.clone()).strftime("%Z").to_string()) data-log-tail=(LOG_TAIL) data-live-status=(exec.status.name()) {
                (render_tree(&tree, &ctx))
                @if exec.logs.is_empty() {
                    @if live { div class="log" role="log" aria-label="Log" tabindex="0" {} }
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
    match request_retry(&state, &run_id, &user.actor.caller()).await {
        Ok(new_run) => Redirect::to(&format!("/console/executions/{new_run}")).into_response(),
        Err(ApiError::Unavailable(_)) => {
            Redirect::to(&format!("{back}?notice=engine-unavailable")).into_response()
        }
        Err(e) => refusal(e.status(), "Retry failed", &e.to_string()),
    }
}
