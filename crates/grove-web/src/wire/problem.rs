//! RFC 9457 problem details, the body of every error answer
//! (`application/problem+json`); built by [`crate::ApiError`].

use serde::Serialize;
use utoipa::ToSchema;

use super::object::GroveObject;

/// One validation failure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON pointer into the request body.
    #[schema(example = "/payload/schedule/cronExpression")]
    pub pointer: String,
    #[schema(example = "minute field \"61\": value must be between 0 and 59")]
    pub message: String,
}

impl From<&grove_core::validate::Problem> for FieldProblem {
    fn from(p: &grove_core::validate::Problem) -> Self {
        Self {
            pointer: p.pointer.clone(),
            message: p.message.clone(),
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    #[schema(example = "about:blank")]
    pub r#type: &'static str,
    #[schema(example = "Validation failed")]
    pub title: &'static str,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: String,
    /// Validation failures (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldProblem>>,
    /// The current object (a stale write's 409 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub current: Option<Box<GroveObject>>,
}
