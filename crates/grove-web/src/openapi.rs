//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the schema types below. Every endpoint that lands adds
//! itself to [`ApiDoc`].

use axum::Json;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api::grove::{self, schema as grove_schema};
use crate::api::{meta, objects};

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
    ),
    components(schemas(Problem, FieldProblem, ObjectMeta, Derived, GroveObject, ObjectPage,
        grove_schema::SproutBatch, grove_schema::SignalBatch, grove_schema::IngestReport,
        grove_schema::SproutOut, grove_schema::AdvancementEventList, grove_schema::NotificationList)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
