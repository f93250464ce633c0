//! Grove data: sprout and signal ingestion, a sprout with its aggregates,
//! advancement events and the notifications outbox.
//!
//! Ingestion checks every item and answers item by item: bad items are
//! listed in `rejected` with their index and a JSON pointer, the others are
//! stored; one bad item never rejects the batch.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header;
use grove_store::AdvancementEventFilter;
use serde_json::{Map, Value, json};

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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
    request_body = schema::SproutBatch,
    responses((status = 200, body = schema::IngestReport), (status = 401, body = crate::openapi::Problem),
        (status = 413, body = crate::openapi::Problem), (status = 422, body = crate::openapi::Problem)))]
pub async fn upsert_sprouts(
    State(state): State<AppState>,
    _operator: Operator,
    IngestBody(body): IngestBody,
) -> ApiResult<Json<Value>> {
    let report = state.app.ingest_sprouts(&body).await?;
    Ok(Json(json!({
        "accepted": report.created + report.updated,
        "duplicates": report.unchanged,
        "created": report.created,
        "updated": report.updated,
        "rejected": report.rejected,
    })))
}

/// `POST /api/v1/signals`: records signals. A signal id seen before counts
/// as a duplicate (stored once); a signal about an unknown sprout is rejected.
#[utoipa::path(post, path = "/api/v1/signals", tag = "grove", security(("bearer" = [])),
    request_body = schema::SignalBatch,
    responses((status = 200, body = schema::IngestReport), (status = 401, body = crate::openapi::Problem),
        (status = 413, body = crate::openapi::Problem), (status = 422, body = crate::openapi::Problem)))]
pub async fn insert_signals(
    State(state): State<AppState>,
    _operator: Operator,
    IngestBody(body): IngestBody,
) -> ApiResult<Json<Value>> {
    let report = state.app.ingest_signals(&body).await?;
    Ok(Json(json!({
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
    })))
}

/// `GET /api/v1/sprouts/{id}`: the sprout, its tier and its aggregates by
/// period and kind.
#[utoipa::path(get, path = "/api/v1/sprouts/{id}", tag = "grove",
    params(("id" = String, Path, description = "Sprout id")),
    responses((status = 200, body = schema::SproutOut), (status = 404, body = crate::openapi::Problem)))]
pub async fn get_sprout(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let sprout = state
        .store
        .sprout_get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("sprout \"{id}\"")))?;
    let mut periods: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for a in state.store.aggregate_get(&id).await? {
        periods.entry(a.period.to_string()).or_default().insert(
            a.kind.clone(),
            json!({
                "count": a.count,
                "lastSeen": a.last_seen,
                "runId": a.run_id,
                "computedAt": a.computed_at,
            }),
        );
    }
    let mut out = serde_json::to_value(&sprout).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["aggregates"] = json!(periods);
    Ok(Json(out))
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
    responses((status = 200, body = schema::AdvancementEventList), (status = 400, body = crate::openapi::Problem)))]
pub async fn advancement_events(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Value>> {
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
    let items = state.store.advancement_event_list(filter).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/notifications?recipientId=&limit=`: the outbox, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "grove",
    params(("recipientId" = Option<String>, Query, description = "Only this recipient's notifications"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, body = schema::NotificationList), (status = 400, body = crate::openapi::Problem)))]
pub async fn notifications(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Value>> {
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
    let items = state
        .store
        .notification_list(recipient.as_deref(), limit)
        .await?;
    Ok(Json(json!({ "items": items })))
}

/// Schemas of the grove endpoints, for the OpenAPI document only.
pub mod schema {
    #![allow(dead_code)]
    use serde_json::Value;
    use utoipa::ToSchema;

    /// One sprout to create or update.
    #[derive(Debug, ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct SproutIn {
        #[schema(example = "kb-1042")]
        id: String,
        title: String,
        /// A tier of a lifecycle model (default: seed, sprout, sapling, tree, grove).
        #[schema(example = "seed")]
        tier: String,
        parent_id: Option<String>,
        /// RFC 3339; defaults to now.
        created_at: Option<String>,
    }

    /// One observed signal; `id` is the client's, so a retried upload counts once.
    #[derive(Debug, ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct SignalIn {
        id: String,
        sprout_id: String,
        /// retrieval, citation, query, view or upvote (plurals accepted).
        #[schema(example = "retrieval")]
        kind: String,
        /// RFC 3339.
        at: String,
        value: Option<f64>,
    }

    /// `{items: [...]}`, at most 10,000 items.
    #[derive(Debug, ToSchema)]
    pub struct SproutBatch {
        items: Vec<SproutIn>,
    }

    /// `{items: [...]}`, at most 10,000 items.
    #[derive(Debug, ToSchema)]
    pub struct SignalBatch {
        items: Vec<SignalIn>,
    }

    /// An item that was not stored, with where it is wrong.
    #[derive(Debug, ToSchema)]
    pub struct RejectedItem {
        index: usize,
        #[schema(example = "/items/3/tier")]
        pointer: String,
        message: String,
    }

    /// What happened to a batch, item by item.
    #[derive(Debug, ToSchema)]
    pub struct IngestReport {
        accepted: u64,
        /// Already stored (signals: the id was seen before; sprouts: unchanged).
        duplicates: u64,
        rejected: Vec<RejectedItem>,
    }

    /// A sprout with its aggregates: `{period: {kind: {count, lastSeen, runId, computedAt}}}`.
    #[derive(Debug, ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct SproutOut {
        id: String,
        title: String,
        tier: String,
        parent_id: Option<String>,
        created_at: String,
        updated_at: String,
        archived: bool,
        aggregates: Value,
    }

    /// Why a sprout advanced (or would have, in a dry run).
    #[derive(Debug, ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct AdvancementEventOut {
        id: String,
        sprout_id: String,
        from_tier: String,
        to_tier: String,
        rule_id: String,
        run_id: String,
        /// `[{signal, operator, threshold, value}]`: the values that met the rule.
        signals: Value,
        at: String,
        dry_run: bool,
    }

    #[derive(Debug, ToSchema)]
    pub struct AdvancementEventList {
        items: Vec<AdvancementEventOut>,
    }

    /// A digest in the outbox.
    #[derive(Debug, ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct NotificationOut {
        id: String,
        recipient_id: String,
        channel: String,
        subject: String,
        body: Value,
        run_id: Option<String>,
        created_at: String,
    }

    #[derive(Debug, ToSchema)]
    pub struct NotificationList {
        items: Vec<NotificationOut>,
    }
}
