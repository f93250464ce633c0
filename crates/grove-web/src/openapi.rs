//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the [`crate::wire`] types the handlers serialise. Every
//! endpoint that lands adds itself to [`ApiDoc`]; a body it sends adds
//! its wire type to the components.

use axum::Json;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{audit, executions, grove, meta, objects, tokens};
use crate::wire::access::{
    AuditEntryOut, AuditPage, TokenCreated, TokenList, TokenOut, TokenRequest,
};
use crate::wire::execution::{
    AttemptOut, BackfillAccepted, BackfillRequest, EngineStatus, ExecutionList, ExecutionOut,
    LegacyConfiguration, LogLineOut, LogPage, RunAccepted, RunOptionsBody, RunResult,
};
use crate::wire::grove::{
    AdvancementEventList, AdvancementEventOut, AggregateOut, IngestReport, JournalEntryOut,
    JournalPage, NotificationList, NotificationOut, RejectedItem, SignalBatch, SignalIn,
    SproutBatch, SproutIn, SproutOut,
};
use crate::wire::live::{CountsOut, RunEventOut};
use crate::wire::object::{
    Derived, GroveObject, ObjectMeta, ObjectPage, RevisionList, RevisionOut,
};
use crate::wire::problem::{FieldProblem, Problem};
use crate::wire::render::RenderNodeOut;
use crate::wire::schedule::{
    ExcludedSlotOut, PreviewExcludedOut, PreviewRunOut, SchedulePreview, UpcomingOut,
    UpcomingRunOut,
};
use crate::wire::service::{Liveness, Readiness, TypeMetrics, TypeRegistry};

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
    info(title = "grove-jobs API", description = "Declarative job configuration and scheduling. Errors are RFC 9457 problem+json. Access: `/healthz`, `/readyz`, `/metrics` and this document are public; every other read needs a viewer token (`Authorization: Bearer <token>`) or a console session, unless the server runs with `--public-read`; mutations need an operator token; tokens and the audit trail need an admin token."),
    paths(
        meta::healthz, meta::readyz, crate::api::schedule::preview_schedule, meta::types, meta::metrics,
        objects::list, objects::create, objects::get, objects::replace, objects::patch, objects::delete,
        objects::duplicate, objects::revisions, objects::restore,
        grove::upsert_sprouts, grove::insert_signals, grove::get_sprout, grove::advancement_events,
        grove::notifications, crate::api::journal::list,
        crate::api::render::catalog,
        executions::run_now, executions::backfill, executions::history, executions::get, executions::logs,
        executions::retry, executions::cancel, executions::events, executions::engine_status,
        crate::api::prometheus::metrics, crate::api::render::execution_tree,
        tokens::list, tokens::create, tokens::revoke, audit::list,
        crate::api::schedule::upcoming,
    ),
    components(schemas(
        Problem, FieldProblem,
        ObjectMeta, Derived, GroveObject, ObjectPage, RevisionOut, RevisionList,
        RunAccepted, BackfillAccepted, BackfillRequest, RunOptionsBody, AttemptOut, RunResult, ExecutionOut, ExecutionList, LogLineOut, LogPage,
        RunEventOut, CountsOut, EngineStatus, LegacyConfiguration,
        SproutIn, SignalIn, SproutBatch, SignalBatch, RejectedItem, IngestReport,
        AggregateOut, SproutOut, AdvancementEventOut, AdvancementEventList,
        NotificationOut, NotificationList, JournalEntryOut, JournalPage,
        RenderNodeOut, PreviewExcludedOut, PreviewRunOut, SchedulePreview, UpcomingOut, UpcomingRunOut, ExcludedSlotOut,
        Liveness, Readiness, TypeMetrics, TypeRegistry,
        TokenOut, TokenList, TokenCreated, TokenRequest, AuditEntryOut, AuditPage,
    )),
    modifiers(&BearerAuth),
    // Every operation needs a token unless it says otherwise (the probes,
    // /metrics); GETs also accept a console session.
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn document() -> Json<Value> {
    Json(document_json())
}

/// The document as served: [`ApiDoc`] with [`problem_responses`] and
/// [`query_bounds`] applied.
pub fn document_json() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    problem_responses(&mut doc);
    query_bounds(&mut doc);
    request_schemas(&mut doc);
    doc
}

/// Request schemas say what the server refuses:
/// - unknown top-level keys of a batch or an object are refused (422), so
///   those schemas declare `additionalProperties: false`;
/// - a batch item that is not a valid sprout or signal does not fail the
///   batch: it comes back in `rejected` (200), so a batch's items accept
///   any value and name the item schema as what is expected;
/// - the schedule preview's `dstPolicy`, `after` and `tz` have the shapes
///   the server reads (the cron text itself is checked by the parser: a
///   422 names the field).
fn request_schemas(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (batch, item) in [("SproutBatch", "SproutIn"), ("SignalBatch", "SignalIn")] {
            if let Some(b) = schemas.get_mut(batch) {
                b["additionalProperties"] = json!(false);
                b["properties"]["items"]["items"] = json!({
                    "description": format!("A {item}; an item that is not one is reported in `rejected`, the others are still taken"),
                });
                b["properties"]["items"]["maxItems"] = json!(grove_core::grove::MAX_BATCH_ITEMS);
            }
        }
        for name in ["GroveObject", "ObjectMeta"] {
            if let Some(o) = schemas.get_mut(name) {
                o["additionalProperties"] = json!(false);
            }
        }
    }
    // `If-Match`: a strong tag the server handed out, a bare version or `*`
    // (a weak tag is answered 412: it never matches).
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for method in METHODS {
                let Some(params) = item
                    .pointer_mut(&format!("/{method}/parameters"))
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                for p in params.iter_mut() {
                    if p["in"] == "header"
                        && p["name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case("if-match"))
                    {
                        p["schema"] = json!({"type": "string", "pattern": "^(\\*|\"[0-9]{1,18}\"|[0-9]{1,18})$"});
                    }
                }
            }
        }
    }
    // The object list: `filter.PATH` is a family of parameters, not one
    // named so (it is described on the operation); `order` and `cursor`
    // take what the server reads.
    if let Some(op) = doc.pointer_mut("/paths/~1api~1v1~1objects~1{type}/get") {
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            params.retain(|p| p["name"] != "filter.PATH");
            for p in params.iter_mut() {
                match p["name"].as_str() {
                    Some("order") => {
                        p["schema"] = json!({"type": "string", "enum": ["asc", "desc"]})
                    }
                    Some("cursor") => {
                        p["schema"] = json!({"type": "string", "pattern": "^[0-9]{1,18}$"})
                    }
                    _ => {}
                }
            }
        }
        op["description"] = json!(
            "Equality filters: any number of `filter.PATH=VALUE` parameters, PATH a field of the type's documents (e.g. `filter.payload.jobType=health-check`, `filter.derived.health=disabled`). `sort` and every filter PATH must name a field of the type (`meta.*`, the payload's fields, `derived.*`); an unknown one is a 400 listing the fields."
        );
    }
    // Duplicate's body ({id, title} of the copy) may be left out.
    if let Some(body) =
        doc.pointer_mut("/paths/~1api~1v1~1objects~1{type}~1{id}~1duplicate/post/requestBody")
    {
        body["required"] = json!(false);
    }
    if let Some(params) = doc
        .pointer_mut("/paths/~1api~1v1~1schedule~1preview/get/parameters")
        .and_then(Value::as_array_mut)
    {
        for p in params.iter_mut() {
            match p["name"].as_str() {
                Some("cron") => p["schema"] = json!({"type": "string", "minLength": 1}),
                Some("dstPolicy") => {
                    p["schema"] = json!({"type": "string", "enum": ["cron", "literal"]})
                }
                Some("after") => p["schema"] = json!({"type": "string", "format": "date-time"}),
                Some("tz") => {
                    p["schema"] =
                        json!({"type": "string", "enum": crate::console::form::timezones()})
                }
                _ => {}
            }
        }
    }
}

const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

/// Why each error status happens, for the operations that can answer it.
fn status_description(status: &str) -> &'static str {
    match status {
        "400" => "Bad request: a path segment, query parameter or body that cannot be read",
        "401" => "No valid bearer token",
        "429" => "Too many failed authentications from this address (Retry-After)",
        "403" => "The token's role may not do this",
        "404" => "No such object, execution or type",
        "409" => "Conflict: a stale version or a state that does not allow this",
        "412" => "Precondition failed: a weak If-Match tag never matches",
        "413" => "The body is larger than the limit",
        "415" => "The body is not JSON",
        "422" => "Validation failed: every problem at its JSON pointer",
        "503" => {
            "Unavailable: too many event streams (see Retry-After) or the database is unreachable"
        }
        _ => "Error",
    }
}

/// Errors are served as `application/problem+json`: every error response
/// of every operation says so, and each operation lists the statuses it
/// really answers, from what it takes:
/// - path parameters: 400 (a segment that cannot be decoded) and 404;
/// - query parameters: 400;
/// - a request body: 400, 413, 415 and 422;
/// - a bearer token: 401 and 403;
/// - an `If-Match` header: 412;
/// - an event stream: 503 with `Retry-After` when the cap is reached.
fn problem_responses(doc: &mut Value) {
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            let params: Vec<(String, String)> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        p["in"].as_str().unwrap_or("").to_owned(),
                        p["name"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            let mut statuses: Vec<&str> = Vec::new();
            if params.iter().any(|(at, _)| at == "path") {
                statuses.extend(["400", "404"]);
            }
            if params.iter().any(|(at, _)| at == "query") {
                statuses.push("400");
            }
            if op.contains_key("requestBody") {
                statuses.extend(["400", "413", "415", "422"]);
            }
            // Every operation needs a token (the document's own security)
            // unless it declares `security: [{}]` (the probes, /metrics).
            let public = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter()
                        .all(|r| r.as_object().is_some_and(serde_json::Map::is_empty))
                });
            if !public {
                statuses.extend(["401", "403", "429"]);
            }
            if params
                .iter()
                .any(|(at, name)| at == "header" && name.eq_ignore_ascii_case("if-match"))
            {
                statuses.push("412");
            }
            if path.ends_with("/events") {
                statuses.push("503");
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            let Some(responses) = responses else { continue };
            for status in statuses {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"description": status_description(status)}));
            }
            for (status, response) in responses.iter_mut() {
                let is_error =
                    status == "default" || status.starts_with('4') || status.starts_with('5');
                if !is_error {
                    continue;
                }
                response["content"] = problem.clone();
                if response["description"].as_str().is_none_or(str::is_empty) {
                    response["description"] = json!(status_description(status));
                }
                if status == "503" && path.ends_with("/events") {
                    response["headers"] = json!({"Retry-After": {
                        "description": "Seconds to wait before opening another stream",
                        "schema": {"type": "integer"}
                    }});
                }
            }
        }
    }
}

/// The bounds the server enforces on page sizes and counts, so that the
/// schema allows exactly what the server accepts (`limit=0` is refused, so
/// the schema says `minimum: 1`).
fn query_bounds(doc: &mut Value) {
    use crate::api::{executions, grove, schedule};
    let objects_max = grove_app::objects::MAX_LIMIT as u64;
    let bounds: &[(&str, &str, u64, u64)] = &[
        ("/api/v1/objects/{type}", "limit", 1, objects_max),
        ("/api/v1/jobs/{id}/executions", "limit", 1, objects_max),
        (
            "/api/v1/executions/{runId}/logs",
            "limit",
            1,
            u64::from(executions::MAX_LOG_LINES),
        ),
        (
            "/api/v1/advancement-events",
            "limit",
            1,
            u64::from(grove::MAX_LIMIT),
        ),
        (
            "/api/v1/notifications",
            "limit",
            1,
            u64::from(grove::MAX_LIMIT),
        ),
        (
            "/api/v1/journal",
            "limit",
            1,
            u64::from(crate::api::journal::MAX_LIMIT),
        ),
        (
            "/api/v1/schedule/preview",
            "count",
            1,
            schedule::MAX_COUNT as u64,
        ),
    ];
    for (path, name, min, max) in bounds {
        let Some(params) = doc
            .pointer_mut(&format!(
                "/paths/{}/get/parameters",
                path.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for p in params
            .iter_mut()
            .filter(|p| p["name"] == *name && p["in"] == "query")
        {
            p["schema"] = json!({"type": "integer", "minimum": min, "maximum": max});
        }
    }
}
