//! The service's own answers: liveness, readiness and a type's registry
//! metrics.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `GET /healthz`: the process is up.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// `GET /readyz`: whether the database answers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// ready, not-ready
    #[schema(example = "ready")]
    pub status: &'static str,
    /// sqlite, postgres
    #[schema(example = "sqlite")]
    pub database: &'static str,
    /// The schema version the database reports (ready only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub schema_version: Option<i64>,
    /// Why it is not ready (not-ready only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
}

impl Readiness {
    pub fn ready(database: &'static str, schema_version: i64) -> Self {
        Self {
            status: "ready",
            database,
            schema_version: Some(schema_version),
            error: None,
        }
    }

    pub fn not_ready(database: &'static str, error: String) -> Self {
        Self {
            status: "not-ready",
            database,
            schema_version: None,
            error: Some(error),
        }
    }
}

/// `GET /api/v1/metrics/{type}`: the registry's metrics of a type.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TypeMetrics {
    #[schema(example = "job-config")]
    pub r#type: &'static str,
    /// Objects of the type.
    pub total: usize,
    /// `[{id, label, icon, query, value}]`, as the registry declares them.
    #[schema(value_type = Vec<Object>)]
    pub metrics: Vec<Value>,
}

/// `GET /api/v1/types`: the type registry.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TypeRegistry {
    /// One entry per object type: label, icon, colour, default payload,
    /// filters, sort options and metrics, as the registry declares them.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
}
