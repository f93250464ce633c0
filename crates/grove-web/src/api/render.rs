//! json-render over the API: the component catalog.

use axum::Json;
use serde_json::Value;

/// `GET /api/v1/render/catalog`: `{components: {Name: {props: <JSON Schema>}}}`.
#[utoipa::path(get, path = "/api/v1/render/catalog", tag = "render", responses((status = 200, description = "The json-render catalog: each component's prop schema (JSON Schema)")))]
pub async fn catalog() -> Json<Value> {
    Json(grove_core::render::catalog())
}
