//! The JSON body extractor: every way a body can be wrong becomes a 4xx
//! problem, never axum's plain-text rejection or a 500.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body, parsed as a value (typed decoding and validation come after,
/// so every problem can be reported with its pointer).
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

/// Media types accepted for JSON bodies.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence == "application/merge-patch+json"
        || essence.ends_with("+json")
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !is_json(&content_type) {
            return Err(ApiError::UnsupportedMediaType(if content_type.is_empty() {
                "send the body as JSON with Content-Type: application/json".to_owned()
            } else {
                format!("Content-Type \"{content_type}\" is not accepted; send application/json")
            }));
        }
        let limit = state.settings.max_body_bytes;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(limit))?;
        if bytes.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Ok(Self(value))
    }
}

/// A JSON body that may be absent (empty body): `Value::Null` then.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody(pub Value);

impl FromRequest<AppState> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let has_body = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v != "0")
            && req.headers().contains_key(header::CONTENT_TYPE);
        if !has_body {
            return Ok(Self(Value::Null));
        }
        JsonBody::from_request(req, state).await.map(|b| Self(b.0))
    }
}
