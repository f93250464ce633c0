//! `/api/v1/objects/{type}`: list, create, read, replace, merge-patch,
//! delete, duplicate, revisions and restore of Grove objects.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use grove_core::merge_patch;
use grove_core::object::is_valid_id;
use grove_core::query::{Condition, compare_values, get_path, matches_search, parse_bare_value};
use grove_core::registry::{self, JOB_CONFIG, TypeDef, ValidObject};
use grove_core::validate::Problem;
use grove_store::{ObjectInsert, ObjectUpdate, StoreError, StoredObject};
use serde_json::{Value, json};

use super::present::{etag, parse_if_match, present};
use crate::auth::Operator;
use crate::body::{JsonBody, OptionalJsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

pub(crate) fn type_def(type_id: &str) -> ApiResult<&'static TypeDef> {
    registry::find(type_id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown object type \"{type_id}\"; known types: {}",
            registry::type_ids()
        ))
    })
}

pub(crate) async fn load(state: &AppState, def: &TypeDef, id: &str) -> ApiResult<StoredObject> {
    state
        .store
        .object_get(def.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{} \"{id}\"", def.id)))
}

fn object_response(state: &AppState, status: StatusCode, obj: &StoredObject) -> Response {
    let mut response = (status, Json(present(obj, state.clock.now()))).into_response();
    if let Ok(tag) = HeaderValue::from_str(&etag(obj.meta.version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

fn created_response(state: &AppState, obj: &StoredObject) -> Response {
    let mut response = object_response(state, StatusCode::CREATED, obj);
    let location = format!("/api/v1/objects/{}/{}", obj.meta.object_type, obj.meta.id);
    if let Ok(loc) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, loc);
    }
    response
}

pub(crate) fn notify_engine(state: &AppState, def: &TypeDef, id: &str) {
    if def.id == JOB_CONFIG {
        state.engine.config_changed(id);
    }
}

/// `GET /api/v1/objects/{type}`
#[utoipa::path(get, path = "/api/v1/objects/{type}", tag = "objects",
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"),
        ("q" = Option<String>, Query, description = "Case-insensitive search over the type's search fields"),
        ("filter.PATH" = Option<String>, Query, description = "Equality filter on a field path, e.g. filter.payload.jobType=health-check"),
        ("sort" = Option<String>, Query, description = "Field path to sort by, e.g. meta.title"),
        ("order" = Option<String>, Query, description = "asc or desc"),
        ("limit" = Option<usize>, Query, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = crate::openapi::ObjectPage), (status = 400, body = crate::openapi::Problem), (status = 404, body = crate::openapi::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Path(type_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Value>> {
    let def = type_def(&type_id)?;
    let (page, total, next) = list_presented(&state, def, &params).await?;
    Ok(Json(json!({
        "items": page,
        "total": total,
        "nextCursor": next,
    })))
}

/// Lists objects of a type as presented (`{meta, payload, derived?}`), with
/// the API's query parameters (q, filter.PATH, sort, order, limit, cursor):
/// the page, the total and the next cursor.
pub(crate) async fn list_presented(
    state: &AppState,
    def: &TypeDef,
    params: &[(String, String)],
) -> ApiResult<(Vec<Value>, usize, Option<String>)> {
    let query = ListQuery::parse(params)?;
    let now = state.clock.now();
    let mut items: Vec<Value> = state
        .store
        .object_list(def.id)
        .await?
        .iter()
        .map(|o| present(o, now))
        .filter(|v| query.filters.iter().all(|c| c.matches(v)))
        .filter(|v| {
            query
                .q
                .as_deref()
                .is_none_or(|q| matches_search(v, def.search_fields, q))
        })
        .collect();
    if let Some(path) = &query.sort {
        let descending = query.descending.unwrap_or_else(|| {
            def.sort_options
                .iter()
                .find(|s| s.field == path)
                .is_some_and(|s| s.direction == "desc")
        });
        items.sort_by(|a, b| {
            let (x, y) = (get_path(a, path), get_path(b, path));
            // Missing values sort last in either direction.
            match (x.is_none_or(Value::is_null), y.is_none_or(Value::is_null)) {
                (false, false) if descending => compare_values(y, x),
                _ => compare_values(x, y),
            }
        });
    }
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .collect();
    let next = query.offset + page.len();
    Ok((page, total, (next < total).then(|| next.to_string())))
}

#[derive(Debug, Default)]
struct ListQuery {
    q: Option<String>,
    filters: Vec<Condition>,
    sort: Option<String>,
    descending: Option<bool>,
    limit: usize,
    offset: usize,
}

fn is_object_path(path: &str) -> bool {
    ["meta.", "payload.", "derived."]
        .iter()
        .any(|p| path.starts_with(p) && path.len() > p.len())
        && !path.split('.').any(str::is_empty)
}

impl ListQuery {
    fn parse(params: &[(String, String)]) -> ApiResult<Self> {
        let mut q = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        for (key, value) in params {
            match key.as_str() {
                "q" => q.q = Some(value.clone()).filter(|v| !v.trim().is_empty()),
                "sort" => {
                    if !is_object_path(value) {
                        return Err(ApiError::BadRequest(format!(
                            "sort \"{value}\" must be a field path such as meta.title or payload.schedule.cronExpression"
                        )));
                    }
                    q.sort = Some(value.clone());
                }
                "order" => {
                    q.descending = Some(match value.as_str() {
                        "asc" => false,
                        "desc" => true,
                        other => {
                            return Err(ApiError::BadRequest(format!(
                                "order must be asc or desc, got \"{other}\""
                            )));
                        }
                    })
                }
                "limit" => {
                    q.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=MAX_LIMIT).contains(l))
                        .ok_or_else(|| {
                            ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIMIT}, got \"{value}\""))
                        })?;
                }
                "cursor" => {
                    q.offset = value.parse::<usize>().map_err(|_| {
                        ApiError::BadRequest(format!(
                            "cursor \"{value}\" is not one this server handed out"
                        ))
                    })?;
                }
                k => match k.strip_prefix("filter.") {
                    Some(path) if is_object_path(path) => q.filters.push(Condition {
                        path: path.to_owned(),
                        negated: false,
                        value: parse_bare_value(value),
                    }),
                    Some(path) => {
                        return Err(ApiError::BadRequest(format!(
                            "filter.{path}: the path must start with meta., payload. or derived."
                        )));
                    }
                    None => {
                        return Err(ApiError::BadRequest(format!(
                            "unknown query parameter \"{k}\"; use q, filter.PATH, sort, order, limit or cursor"
                        )));
                    }
                },
            }
        }
        Ok(q)
    }
}

/// `POST /api/v1/objects/{type}`
#[utoipa::path(post, path = "/api/v1/objects/{type}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule")), request_body(content = crate::openapi::GroveObject, description = "meta.id optional; meta.version ignored"),
    responses((status = 201, body = crate::openapi::GroveObject, headers(("Location" = String), ("ETag" = String))),
        (status = 409, body = crate::openapi::Problem), (status = 422, body = crate::openapi::Problem), (status = 401, body = crate::openapi::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Path(type_id): Path<String>,
    Operator(actor): Operator,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let def = type_def(&type_id)?;
    let valid = def.validate(&body).map_err(ApiError::Validation)?;
    let id = match valid.meta.id.clone() {
        Some(id) => id,
        None => free_id(&state, def, &slug(&valid.meta.title)).await?,
    };
    let obj = insert(&state, def, id, valid, Some(actor.name)).await?;
    notify_engine(&state, def, &obj.meta.id);
    Ok(created_response(&state, &obj))
}

pub(crate) async fn insert(
    state: &AppState,
    def: &TypeDef,
    id: String,
    valid: ValidObject,
    actor: Option<String>,
) -> ApiResult<StoredObject> {
    let result = state
        .store
        .object_insert(ObjectInsert {
            object_type: def.id.to_owned(),
            id: id.clone(),
            title: valid.meta.title,
            description: valid.meta.description,
            tags: valid.meta.tags,
            payload: valid.payload,
            actor,
            now: state.clock.now(),
        })
        .await;
    match result {
        Err(StoreError::AlreadyExists) => {
            let current = state.store.object_get(def.id, &id).await?;
            Err(ApiError::Conflict {
                message: format!("{} \"{id}\" already exists", def.id),
                current: current.map(|c| present(&c, state.clock.now())),
            })
        }
        other => Ok(other?),
    }
}

/// A URL-safe id from a title: "Daily Advancement" → "daily-advancement".
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let out: String = out.chars().take(60).collect();
    if out.is_empty() {
        "object".to_owned()
    } else {
        out
    }
}

/// `base`, or `base-2`, `base-3`, … whichever is free.
pub(crate) async fn free_id(state: &AppState, def: &TypeDef, base: &str) -> ApiResult<String> {
    let taken: Vec<String> = state
        .store
        .object_list(def.id)
        .await?
        .into_iter()
        .map(|o| o.meta.id)
        .collect();
    let mut candidate = base.to_owned();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

/// `GET /api/v1/objects/{type}/{id}`
#[utoipa::path(get, path = "/api/v1/objects/{type}/{id}", tag = "objects", params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id")),
    responses((status = 200, body = crate::openapi::GroveObject, headers(("ETag" = String))), (status = 404, body = crate::openapi::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let def = type_def(&type_id)?;
    let obj = load(&state, def, &id).await?;
    Ok(object_response(&state, StatusCode::OK, &obj))
}

/// The version a write is conditional on: `If-Match`, else the body's
/// integer `meta.version`, else none (unconditional).
fn expected_version(headers: &HeaderMap, body: Option<&Value>) -> ApiResult<Option<i64>> {
    if let Some(value) = headers.get(header::IF_MATCH) {
        let text = value.to_str().unwrap_or("");
        return parse_if_match(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "If-Match \"{text}\" is not an entity tag this server handed out (e.g. \"3\")"
            ))
        });
    }
    Ok(body
        .and_then(|b| b.pointer("/meta/version"))
        .and_then(Value::as_i64))
}

async fn conflict(state: &AppState, def: &TypeDef, id: &str, current_version: i64) -> ApiError {
    let current = state.store.object_get(def.id, id).await.ok().flatten();
    ApiError::Conflict {
        message: format!(
            "{} \"{id}\" was changed by someone else: it is now at version {current_version}; reload it, reapply your change and save again",
            def.id
        ),
        current: current.map(|c| present(&c, state.clock.now())),
    }
}

pub(crate) async fn save(
    state: &AppState,
    def: &TypeDef,
    id: &str,
    expected: i64,
    valid: ValidObject,
    actor: Option<String>,
) -> ApiResult<StoredObject> {
    if let Some(body_id) = &valid.meta.id
        && body_id != id
    {
        return Err(ApiError::Validation(vec![Problem::new(
            "/meta/id",
            format!("must be \"{id}\" (the id in the URL) or left out, got \"{body_id}\""),
        )]));
    }
    let result = state
        .store
        .object_update(ObjectUpdate {
            object_type: def.id.to_owned(),
            id: id.to_owned(),
            expected_version: expected,
            title: valid.meta.title,
            description: valid.meta.description,
            tags: valid.meta.tags,
            payload: valid.payload,
            actor,
            now: state.clock.now(),
        })
        .await;
    let obj = match result {
        Err(StoreError::Conflict { current }) => {
            return Err(conflict(state, def, id, current).await);
        }
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found(format!("{} \"{id}\"", def.id)));
        }
        other => other?,
    };
    notify_engine(state, def, id);
    Ok(obj)
}

/// `PUT /api/v1/objects/{type}/{id}`
#[utoipa::path(put, path = "/api/v1/objects/{type}/{id}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("If-Match" = Option<String>, Header, description = "ETag of the version edited; else meta.version")),
    request_body = crate::openapi::GroveObject,
    responses((status = 200, body = crate::openapi::GroveObject), (status = 409, body = crate::openapi::Problem, description = "stale: carries the current object"),
        (status = 422, body = crate::openapi::Problem), (status = 404, body = crate::openapi::Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let def = type_def(&type_id)?;
    let current = load(&state, def, &id).await?;
    let expected = expected_version(&headers, Some(&body))?.unwrap_or(current.meta.version);
    let valid = def.validate(&body).map_err(ApiError::Validation)?;
    let obj = save(&state, def, &id, expected, valid, Some(actor.name)).await?;
    Ok(object_response(&state, StatusCode::OK, &obj))
}

/// `PATCH /api/v1/objects/{type}/{id}` (JSON merge patch, RFC 7396)
#[utoipa::path(patch, path = "/api/v1/objects/{type}/{id}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("If-Match" = Option<String>, Header, description = "ETag of the version edited")),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "JSON merge patch (RFC 7396) of {meta, payload}"),
    responses((status = 200, body = crate::openapi::GroveObject), (status = 409, body = crate::openapi::Problem),
        (status = 422, body = crate::openapi::Problem), (status = 404, body = crate::openapi::Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
    JsonBody(patch): JsonBody,
) -> ApiResult<Response> {
    let def = type_def(&type_id)?;
    if !patch.is_object() {
        return Err(ApiError::BadRequest(
            "a merge patch must be a JSON object such as {\"payload\": {\"limits\": {\"batchSize\": 50}}}".to_owned(),
        ));
    }
    let current = load(&state, def, &id).await?;
    let expected = expected_version(&headers, Some(&patch))?.unwrap_or(current.meta.version);
    let mut merged = json!({ "meta": current.meta, "payload": current.payload });
    merge_patch::apply(&mut merged, &patch);
    let valid = def.validate(&merged).map_err(ApiError::Validation)?;
    let obj = save(&state, def, &id, expected, valid, Some(actor.name)).await?;
    Ok(object_response(&state, StatusCode::OK, &obj))
}

/// `DELETE /api/v1/objects/{type}/{id}`
#[utoipa::path(delete, path = "/api/v1/objects/{type}/{id}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("If-Match" = Option<String>, Header, description = "Only delete this version")),
    responses((status = 204), (status = 404, body = crate::openapi::Problem), (status = 409, body = crate::openapi::Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    Operator(_actor): Operator,
) -> ApiResult<StatusCode> {
    let def = type_def(&type_id)?;
    let expected = expected_version(&headers, None)?;
    match state.store.object_delete(def.id, &id, expected).await {
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{} \"{id}\"", def.id))),
        Err(StoreError::Conflict { current }) => Err(conflict(&state, def, &id, current).await),
        other => {
            other?;
            notify_engine(&state, def, &id);
            Ok(StatusCode::NO_CONTENT)
        }
    }
}

/// `POST /api/v1/objects/{type}/{id}/duplicate`: a copy under a new id; a
/// copied job config starts disabled so the same work is not scheduled twice.
/// An optional body `{"id", "title"}` names the copy.
#[utoipa::path(post, path = "/api/v1/objects/{type}/{id}/duplicate", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id")), request_body(content = Object, description = "Optional {id, title} of the copy"),
    responses((status = 201, body = crate::openapi::GroveObject), (status = 404, body = crate::openapi::Problem), (status = 409, body = crate::openapi::Problem)))]
pub async fn duplicate(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    Operator(actor): Operator,
    OptionalJsonBody(options): OptionalJsonBody,
) -> ApiResult<Response> {
    let def = type_def(&type_id)?;
    let source = load(&state, def, &id).await?;
    let mut problems = Vec::new();
    let new_id = options.get("id").and_then(Value::as_str).map(str::to_owned);
    if let Some(new_id) = &new_id
        && !is_valid_id(new_id)
    {
        problems.push(Problem::new(
            "/id",
            format!("\"{new_id}\" is not a valid id"),
        ));
    }
    let title = match options.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        Some(_) => {
            problems.push(Problem::new("/title", "must be a non-empty string"));
            String::new()
        }
        None => format!("{} (copy)", source.meta.title),
    };
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let mut payload = source.payload.clone();
    if def.id == JOB_CONFIG {
        payload["schedule"]["isEnabled"] = json!(false);
        if let Some(name) = payload.get("displayName").and_then(Value::as_str) {
            payload["displayName"] = json!(format!("{name} (copy)"));
        }
    }
    let raw = json!({
        "meta": {"title": title, "description": source.meta.description, "tags": source.meta.tags},
        "payload": payload,
    });
    let valid = def.validate(&raw).map_err(ApiError::Validation)?;
    let new_id = match new_id {
        Some(i) => i,
        None => free_id(&state, def, &format!("{}-copy", source.meta.id)).await?,
    };
    let obj = insert(&state, def, new_id, valid, Some(actor.name)).await?;
    notify_engine(&state, def, &obj.meta.id);
    Ok(created_response(&state, &obj))
}

/// `GET /api/v1/objects/{type}/{id}/revisions`
#[utoipa::path(get, path = "/api/v1/objects/{type}/{id}/revisions", tag = "objects", params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id")),
    responses((status = 200, description = "{items: [{version, title, description, tags, payload, actor, at}]}, newest first"), (status = 404, body = crate::openapi::Problem)))]
pub async fn revisions(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let def = type_def(&type_id)?;
    load(&state, def, &id).await?;
    let items = state.store.revision_list(def.id, &id).await?;
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/objects/{type}/{id}/revisions/{version}/restore`: saves
/// the revision's content as a new version.
#[utoipa::path(post, path = "/api/v1/objects/{type}/{id}/revisions/{version}/restore", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("version" = i64, Path, description = "Revision to restore")),
    responses((status = 200, body = crate::openapi::GroveObject, description = "saved as a new version"), (status = 404, body = crate::openapi::Problem), (status = 422, body = crate::openapi::Problem)))]
pub async fn restore(
    State(state): State<AppState>,
    Path((type_id, id, version)): Path<(String, String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
) -> ApiResult<Response> {
    let def = type_def(&type_id)?;
    let version: i64 = version.parse().map_err(|_| {
        ApiError::BadRequest(format!("revision \"{version}\" must be a version number"))
    })?;
    let current = load(&state, def, &id).await?;
    let revision = state
        .store
        .revision_get(def.id, &id, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("revision {version} of {} \"{id}\"", def.id)))?;
    let expected = expected_version(&headers, None)?.unwrap_or(current.meta.version);
    let raw = json!({
        "meta": {"title": revision.title, "description": revision.description, "tags": revision.tags},
        "payload": revision.payload,
    });
    let valid = def.validate(&raw).map_err(ApiError::Validation)?;
    let obj = save(&state, def, &id, expected, valid, Some(actor.name)).await?;
    Ok(object_response(&state, StatusCode::OK, &obj))
}
