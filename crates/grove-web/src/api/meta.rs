//! Health, readiness, the type registry and its metrics.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use grove_app::objects::object_type;
use grove_core::registry;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::wire::problem::Problem;
use crate::wire::service::{Liveness, Readiness, TypeMetrics, TypeRegistry};

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, body = Liveness, description = "The process is up")))]
pub async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /readyz`: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses((status = 200, body = Readiness, description = "The database answers"), (status = 503, body = Readiness, description = "Not ready")))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    // A load balancer needs an answer soon, not after the pool's own
    // connect timeout.
    let ping = tokio::time::timeout(READY_TIMEOUT, state.store.ping())
        .await
        .unwrap_or(Err(grove_store::StoreError::TimedOut(READY_TIMEOUT)));
    let database = state.store.backend();
    match ping {
        Ok(version) => (StatusCode::OK, Json(Readiness::ready(database, version))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness::not_ready(database, e.to_string())),
        ),
    }
}

/// `GET /api/v1/types`
#[utoipa::path(get, path = "/api/v1/types", tag = "registry", responses((status = 200, body = TypeRegistry)))]
pub async fn types() -> Json<TypeRegistry> {
    Json(TypeRegistry {
        items: registry::TYPES.iter().map(|t| t.to_json()).collect(),
    })
}

/// `GET /api/v1/metrics/{type}`
#[utoipa::path(get, path = "/api/v1/metrics/{type}", tag = "registry", params(("type" = String, Path)), responses((status = 200, body = TypeMetrics), (status = 404, body = Problem)))]
pub async fn metrics(
    State(state): State<AppState>,
    Path(type_id): Path<String>,
) -> ApiResult<Json<TypeMetrics>> {
    let def = object_type(&type_id)?;
    let counted = state.app.metrics(def).await?;
    Ok(Json(TypeMetrics {
        r#type: def.id,
        total: counted.total,
        metrics: counted.metrics,
    }))
}
