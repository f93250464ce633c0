//! Grove data: sprout and signal ingestion, a sprout with its aggregates,
//! advancement events and the notifications outbox.
//!
//! Ingestion checks every item and answers item by item: bad items are
//! listed in `rejected` with their index and a JSON pointer, the others are
//! stored; one bad item never rejects the batch.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header;
use grove_store::AdvancementEventFilter;
use serde_json::Value;

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::grove::{
    AdvancementEventList, AdvancementEventOut, IngestReport, NotificationList, NotificationOut,
    SignalBatch, SproutBatch, SproutOut,
};
use crate::wire::problem::Problem;

/// Largest ingestion body: room for [`grove_core::grove::MAX_BATCH_ITEMS`] items with
/// long titles (the general body limit is smaller).
pub const MAX_INGEST_BYTES: usize = 8 * 1024 * 1024;

pub const DEFAULT_LIMIT: u32 = 100;

/// An ingestion body: JSON up to [`MAX_INGEST_BYTES`].
#[derive(Debug, Clone)]
pub struct IngestBody(pub Value);

impl FromRequest<AppState> for IngestBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".to_owned(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(MAX_INGEST_BYTES))?;
        if bytes.len() > MAX_INGEST_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_INGEST_BYTES));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}
pub const MAX_LIMIT: u32 = 1_000;

/// `POST /api/v1/sprouts`: upserts sprouts. `accepted` counts created and
/// updated sprouts, `duplicates` those already stored exactly like this.
#[utoipa::path(post, path = "/api/v1/sprouts", tag = "grove", security(("bearer" = [])),
    request_body = SproutBatch,
    responses((status = 200, body = IngestReport), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upsert_sprouts(
    State(state): State<AppState>,
    _operator: Operator,
    IngestBody(body): IngestBody,
) -> ApiResult<Json<IngestReport>> {
    let report = state.app.ingest_sprouts(&body).await?;
    Ok(Json(IngestReport::from(&report)))
}

/// `POST /api/v1/signals`: records signals. A signal id seen before counts
/// as a duplicate (stored once); a signal about an unknown sprout is rejected.
#[utoipa::path(post, path = "/api/v1/signals", tag = "grove", security(("bearer" = [])),
    request_body = SignalBatch,
    responses((status = 200, body = IngestReport), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn insert_signals(
    State(state): State<AppState>,
    _operator: Operator,
    IngestBody(body): IngestBody,
) -> ApiResult<Json<IngestReport>> {
    let report = state.app.ingest_signals(&body).await?;
    Ok(Json(IngestReport::from(&report)))
}

/// `GET /api/v1/sprouts/{id}`: the sprout, its tier and its aggregates by
/// period and kind.
#[utoipa::path(get, path = "/api/v1/sprouts/{id}", tag = "grove",
    params(("id" = String, Path, description = "Sprout id")),
    responses((status = 200, body = SproutOut), (status = 404, body = Problem)))]
pub async fn get_sprout(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SproutOut>> {
    let sprout = state
        .store
        .sprout_get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("sprout \"{id}\"")))?;
    let aggregates = state.store.aggregate_get(&id).await?;
    Ok(Json(SproutOut::new(&sprout, &aggregates)))
}

fn parse_limit(value: &str) -> ApiResult<u32> {
    value
        .parse::<u32>()
        .ok()
        .filter(|l| (1..=MAX_LIMIT).contains(l))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "limit must be a whole number from 1 to {MAX_LIMIT}, got \"{value}\""
            ))
        })
}

/// `GET /api/v1/advancement-events?sproutId=&runId=&ruleId=&limit=`, newest first.
#[utoipa::path(get, path = "/api/v1/advancement-events", tag = "grove",
    params(("sproutId" = Option<String>, Query, description = "Only this sprout's events"),
        ("runId" = Option<String>, Query, description = "Only this run's events"),
        ("ruleId" = Option<String>, Query, description = "Only this rule's events"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, body = AdvancementEventList), (status = 400, body = Problem)))]
pub async fn advancement_events(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<AdvancementEventList>> {
    let mut filter = AdvancementEventFilter {
        limit: DEFAULT_LIMIT,
        ..AdvancementEventFilter::default()
    };
    for (key, value) in params {
        match key.as_str() {
            "sproutId" => filter.sprout_id = Some(value),
            "runId" => filter.run_id = Some(value),
            "ruleId" => filter.rule_id = Some(value),
            "limit" => filter.limit = parse_limit(&value)?,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter \"{other}\"; use sproutId, runId, ruleId or limit"
                )));
            }
        }
    }
    let events = state.store.advancement_event_list(filter).await?;
    Ok(Json(AdvancementEventList {
        items: events.iter().map(AdvancementEventOut::from).collect(),
    }))
}

/// `GET /api/v1/notifications?recipientId=&limit=`: the outbox, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "grove",
    params(("recipientId" = Option<String>, Query, description = "Only this recipient's notifications"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, body = NotificationList), (status = 400, body = Problem)))]
pub async fn notifications(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<NotificationList>> {
    let mut recipient = None;
    let mut limit = DEFAULT_LIMIT;
    for (key, value) in params {
        match key.as_str() {
            "recipientId" => recipient = Some(value),
            "limit" => limit = parse_limit(&value)?,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter \"{other}\"; use recipientId or limit"
                )));
            }
        }
    }
    let notifications = state
        .store
        .notification_list(recipient.as_deref(), limit)
        .await?;
    Ok(Json(NotificationList {
        items: notifications.iter().map(NotificationOut::from).collect(),
    }))
}
