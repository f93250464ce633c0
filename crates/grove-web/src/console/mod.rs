//! The operator console: server-rendered HTML (maud) from the same process,
//! progressively enhanced with a little JavaScript of our own and
//! server-sent events. No build step, no third-party JS or CSS.
//!
//! - [`session`]: token login, the session cookie, CSRF tokens, roles.
//! - [`layout`]: the page shell, icons, badges and time formatting.
//! - [`grid`]: `/console`, the cards of every object with filters and metrics.
//! - [`job_editor`], [`rule_editor`]: the tabbed editors (Configuration | Status).
//! - [`calendar_editor`]: calendars, the excluded times jobs skip.
//! - [`execution`]: one execution, live over SSE; Run Now and Retry.
//!
//! Pages read from the store and write through the use cases of
//! [`grove_app::App`], like the API; the two share only [`crate::views`].
//! - [`operations`]: Backfill, Run with options… and chained-job links.
//! - [`timeline`]: the next 24 hours of scheduled runs.
//! - [`admin`]: API tokens and the audit trail (admins only).
//! - [`revisions`]: history, diff and restore.
//! - [`render`]: the json-render registry (component → HTML renderer).
//! - [`assets`]: the console's CSS and JS.
//! - [`form`]: HTML form fields ↔ JSON, and field-level error display.

pub mod admin;
pub mod assets;
pub mod calendar_editor;
pub mod execution;
pub mod form;
pub mod grid;
pub mod job_editor;
pub mod layout;
pub mod operations;
pub mod render;
pub mod revisions;
pub mod rule_editor;
pub mod session;
pub mod timeline;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::state::AppState;

/// Every console route (merged into [`crate::router`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(grid::page))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route("/console/assets/{file}", get(assets::serve))
        .route("/console/jobs", post(job_editor::create))
        .route("/console/jobs/new", get(job_editor::new_page))
        .route(
            "/console/jobs/{id}",
            get(job_editor::page).post(job_editor::save),
        )
        .route("/console/jobs/{id}/duplicate", post(job_editor::duplicate))
        .route(
            "/console/jobs/{id}/delete",
            get(job_editor::delete_page).post(job_editor::delete),
        )
        .route("/console/jobs/{id}/run", post(job_editor::run_now))
        .route("/console/jobs/{id}/run-with", post(operations::run_with))
        .route("/console/jobs/{id}/backfill", post(operations::backfill))
        .route("/console/jobs/{id}/enabled", post(job_editor::set_enabled))
        .route("/console/rules", post(rule_editor::create))
        .route("/console/rules/new", get(rule_editor::new_page))
        .route(
            "/console/rules/{id}",
            get(rule_editor::page).post(rule_editor::save),
        )
        .route(
            "/console/rules/{id}/duplicate",
            post(rule_editor::duplicate),
        )
        .route(
            "/console/rules/{id}/delete",
            get(rule_editor::delete_page).post(rule_editor::delete),
        )
        .route(
            "/console/rules/{id}/enabled",
            post(rule_editor::set_enabled),
        )
        .route("/console/calendars", post(calendar_editor::create))
        .route("/console/calendars/new", get(calendar_editor::new_page))
        .route(
            "/console/calendars/{id}",
            get(calendar_editor::page).post(calendar_editor::save),
        )
        .route(
            "/console/calendars/{id}/duplicate",
            post(calendar_editor::duplicate),
        )
        .route(
            "/console/calendars/{id}/delete",
            get(calendar_editor::delete_page).post(calendar_editor::delete),
        )
        .route("/console/{kind}/{id}/revisions", get(revisions::page))
        .route(
            "/console/{kind}/{id}/revisions/{version}/restore",
            post(revisions::restore),
        )
        .route("/console/executions/{run_id}", get(execution::page))
        .route("/console/executions/{run_id}/retry", post(execution::retry))
        .route("/console/timeline", get(timeline::page))
        .route(
            "/console/tokens",
            get(admin::tokens_page).post(admin::create_token),
        )
        .route("/console/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/console/audit", get(admin::audit_page))
}
