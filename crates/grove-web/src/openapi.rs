//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the schema types below. Every endpoint that lands adds
//! itself to [`ApiDoc`].

use axum::Json;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api::grove::{self, schema as grove_schema};
use crate::api::{executions, meta, objects};

/// RFC 9457 problem details.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    #[schema(example = "about:blank")]
    r#type: String,
    #[schema(example = "Validation failed")]
    title: String,
    #[schema(example = 422)]
    status: u16,
    detail: String,
    /// Validation failures (422 only).
    errors: Option<Vec<FieldProblem>>,
    /// The current object (409 only).
    current: Option<Value>,
}

/// One validation failure.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct FieldProblem {
    /// JSON pointer into the request body.
    #[schema(example = "/payload/schedule/cronExpression")]
    pointer: String,
    #[schema(example = "minute field \"61\": value must be between 0 and 59")]
    message: String,
}

/// `meta` of a Grove object (server-written apart from title, description, tags and id on create).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct ObjectMeta {
    id: String,
    r#type: String,
    title: String,
    description: Option<String>,
    version: i64,
    created_at: String,
    updated_at: String,
    created_by: Option<String>,
    updated_by: Option<String>,
    tags: Option<Vec<String>>,
}

/// Read-only fields of job configs, computed by the schedule module.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct Derived {
    next_run_at: Option<String>,
    #[schema(example = "Daily at 2:00 AM (UTC)")]
    schedule_text: String,
    #[schema(example = "healthy")]
    health: String,
}

/// A Grove object: `{meta, payload}`; job configs also carry `derived`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct GroveObject {
    meta: ObjectMeta,
    /// The type's payload (see `GET /api/v1/types` for defaults).
    payload: Value,
    derived: Option<Derived>,
}

/// A page of objects.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct ObjectPage {
    items: Vec<GroveObject>,
    /// Matches before paging.
    total: usize,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// `{runId, status, trigger}` of a queued (or cancelled) run.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct RunAccepted {
    run_id: String,
    #[schema(example = "queued")]
    status: String,
    #[schema(example = "manual")]
    trigger: String,
}

/// One attempt of an execution.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct AttemptOut {
    attempt: u32,
    /// running, success, partial, failed, cancelled
    status: String,
    started_at: String,
    completed_at: Option<String>,
    error: Option<String>,
    /// error, timeout, abandoned, cancelled
    reason: Option<String>,
}

/// An execution: one run of a job config.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct ExecutionOut {
    run_id: String,
    config_id: String,
    /// queued, running, success, partial, failed, cancelled, skipped
    status: String,
    /// schedule, manual, retry
    trigger: String,
    scheduled_for: Option<String>,
    /// A missed slot run after downtime.
    late: bool,
    /// Why it was skipped: missed, overlap.
    reason: Option<String>,
    created_at: String,
    started_at: Option<String>,
    completed_at: Option<String>,
    duration_ms: Option<i64>,
    items_processed: u64,
    items_total: Option<u64>,
    items_succeeded: u64,
    items_failed: u64,
    error: Option<String>,
    config_version: i64,
    attempt_count: u32,
    max_attempts: u32,
    retry_of: Option<String>,
    actor: Option<String>,
    cancel_requested: bool,
    /// Empty in lists.
    attempts: Vec<AttemptOut>,
    /// `{metadata: {...}}`, handler-defined.
    result: Value,
}

/// History, newest first.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ExecutionList {
    items: Vec<ExecutionOut>,
}

/// A log line of an execution.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct LogLineOut {
    seq: i64,
    attempt: u32,
    timestamp: String,
    /// debug, info, warn, error
    level: String,
    message: String,
}

/// Log lines, oldest first.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct LogPage {
    items: Vec<LogLineOut>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "grove-jobs API", description = "Declarative job configuration and scheduling. Errors are RFC 9457 problem+json; mutations need `Authorization: Bearer <token>`."),
    paths(
        meta::healthz, meta::readyz, crate::api::schedule::preview_schedule, meta::types, meta::metrics,
        objects::list, objects::create, objects::get, objects::replace, objects::patch, objects::delete,
        objects::duplicate, objects::revisions, objects::restore,
        grove::upsert_sprouts, grove::insert_signals, grove::get_sprout, grove::advancement_events,
        grove::notifications,
        crate::api::render::catalog,
        executions::run_now, executions::history, executions::get, executions::logs,
        executions::retry, executions::cancel, executions::events, executions::engine_status,
        crate::api::prometheus::metrics, crate::api::render::execution_tree,
    ),
    components(schemas(RunAccepted, AttemptOut, ExecutionOut, ExecutionList, LogLineOut, LogPage,
        Problem, FieldProblem, ObjectMeta, Derived, GroveObject, ObjectPage,
        grove_schema::SproutBatch, grove_schema::SignalBatch, grove_schema::IngestReport,
        grove_schema::SproutOut, grove_schema::AdvancementEventList, grove_schema::NotificationList)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
