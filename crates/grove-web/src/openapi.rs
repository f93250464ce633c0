//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the [`crate::wire`] types the handlers serialise. Every
//! endpoint that lands adds itself to [`ApiDoc`]; a body it sends adds
//! its wire type to the components.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{audit, executions, grove, meta, objects, tokens};
use crate::wire::access::{
    AuditEntryOut, AuditPage, TokenCreated, TokenList, TokenOut, TokenRequest,
};
use crate::wire::execution::{
    AttemptOut, EngineStatus, ExecutionList, ExecutionOut, LegacyConfiguration, LogLineOut,
    LogPage, RunAccepted, RunResult,
};
use crate::wire::grove::{
    AdvancementEventList, AdvancementEventOut, AggregateOut, IngestReport, NotificationList,
    NotificationOut, RejectedItem, SignalBatch, SignalIn, SproutBatch, SproutIn, SproutOut,
};
use crate::wire::live::{CountsOut, RunEventOut};
use crate::wire::object::{
    Derived, GroveObject, ObjectMeta, ObjectPage, RevisionList, RevisionOut,
};
use crate::wire::problem::{FieldProblem, Problem};
use crate::wire::render::RenderNodeOut;
use crate::wire::schedule::{
    ExcludedSlotOut, PreviewRunOut, SchedulePreview, UpcomingOut, UpcomingRunOut,
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
        grove::notifications,
        crate::api::render::catalog,
        executions::run_now, executions::history, executions::get, executions::logs,
        executions::retry, executions::cancel, executions::events, executions::engine_status,
        crate::api::prometheus::metrics, crate::api::render::execution_tree,
        tokens::list, tokens::create, tokens::revoke, audit::list,
        crate::api::schedule::upcoming,
    ),
    components(schemas(
        Problem, FieldProblem,
        ObjectMeta, Derived, GroveObject, ObjectPage, RevisionOut, RevisionList,
        RunAccepted, AttemptOut, RunResult, ExecutionOut, ExecutionList, LogLineOut, LogPage,
        RunEventOut, CountsOut, EngineStatus, LegacyConfiguration,
        SproutIn, SignalIn, SproutBatch, SignalBatch, RejectedItem, IngestReport,
        AggregateOut, SproutOut, AdvancementEventOut, AdvancementEventList,
        NotificationOut, NotificationList,
        RenderNodeOut, PreviewRunOut, SchedulePreview, UpcomingOut, UpcomingRunOut, ExcludedSlotOut,
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
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
