//! `/api/v1/objects/{type}`: list, create, read, replace, merge-patch,
//! delete, duplicate, revisions and restore of Grove objects. Each handler
//! translates the request into a use case of [`grove_app::App`] and its
//! result into a response.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use grove_app::objects::{CopyNames, ObjectQuery, object_type};
use grove_core::plan::Calendars;
use grove_core::registry::{JOB_CONFIG, TypeDef};
use grove_store::StoredObject;
use serde_json::Value;

use crate::auth::{Operator, Reader};
use crate::body::{JsonBody, OptionalJsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::{IfMatch, etag, parse_if_match};
use crate::wire::object::{GroveObject, ObjectPage, RevisionList};
use crate::wire::problem::Problem;

async fn object_response(
    state: &AppState,
    status: StatusCode,
    obj: &StoredObject,
) -> ApiResult<Response> {
    object_response_for(state, status, obj, true).await
}

/// The calendars a job config's `derived` needs (none for other types).
async fn calendars_for(state: &AppState, object_type: &str) -> ApiResult<Calendars> {
    Ok(if object_type == JOB_CONFIG {
        state.app.calendars().await?
    } else {
        Calendars::default()
    })
}

/// `whole`: whether the caller may see payload secrets whole.
async fn object_response_for(
    state: &AppState,
    status: StatusCode,
    obj: &StoredObject,
    whole: bool,
) -> ApiResult<Response> {
    let calendars = calendars_for(state, &obj.meta.object_type).await?;
    let body = GroveObject::planned(obj, state.clock.now(), &calendars);
    let body = if whole { body } else { body.redacted() };
    let mut response = (status, Json(body)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&etag(obj.meta.version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    Ok(response)
}

async fn created_response(state: &AppState, obj: &StoredObject) -> ApiResult<Response> {
    let mut response = object_response(state, StatusCode::CREATED, obj).await?;
    let location = format!("/api/v1/objects/{}/{}", obj.meta.object_type, obj.meta.id);
    if let Ok(loc) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(response)
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
    responses((status = 200, body = ObjectPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Path(type_id): Path<String>,
    reader: Reader,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Json<ObjectPage>> {
    let def = object_type(&type_id)?;
    let query = ObjectQuery::parse(&params)?;
    let calendars = calendars_for(&state, def.id).await?;
    let page = ObjectPage::planned(&state.app.list(def, &query).await?, &calendars);
    Ok(Json(if reader.sees_secrets() {
        page
    } else {
        page.redacted()
    }))
}

/// `POST /api/v1/objects/{type}`
#[utoipa::path(post, path = "/api/v1/objects/{type}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule")), request_body(content = GroveObject, description = "meta.id optional; meta.version ignored"),
    responses((status = 201, body = GroveObject, headers(("Location" = String), ("ETag" = String))),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Path(type_id): Path<String>,
    Operator(actor): Operator,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let def = object_type(&type_id)?;
    let obj = state.app.create(def, &body, &actor.caller()).await?;
    created_response(&state, &obj).await
}

/// `GET /api/v1/objects/{type}/{id}`
#[utoipa::path(get, path = "/api/v1/objects/{type}/{id}", tag = "objects", params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id")),
    responses((status = 200, body = GroveObject, headers(("ETag" = String))), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    reader: Reader,
) -> ApiResult<Response> {
    let def = object_type(&type_id)?;
    let obj = state.app.object(def, &id).await?;
    object_response_for(&state, StatusCode::OK, &obj, reader.sees_secrets()).await
}

/// The version a write is conditional on: `If-Match`, else the body's
/// integer `meta.version`, else none (the version stored now).
fn expected_version(headers: &HeaderMap, body: Option<&Value>) -> ApiResult<Option<i64>> {
    if let Some(value) = headers.get(header::IF_MATCH) {
        let text = value.to_str().unwrap_or("");
        return match parse_if_match(text) {
            Some(IfMatch::Any) => Ok(None),
            Some(IfMatch::Version(v)) => Ok(Some(v)),
            Some(IfMatch::Weak) => Err(ApiError::PreconditionFailed(format!(
                "If-Match {text} is a weak entity tag, and a weak tag never matches If-Match; send the strong tag from ETag (e.g. \"3\")"
            ))),
            None => Err(ApiError::BadRequest(format!(
                "If-Match \"{text}\" is not an entity tag this server handed out (e.g. \"3\")"
            ))),
        };
    }
    Ok(body
        .and_then(|b| b.pointer("/meta/version"))
        .and_then(Value::as_i64))
}

/// [`expected_version`] for a write to an object that must exist: a
/// missing object is reported before a malformed `If-Match`.
async fn expected_version_of(
    state: &AppState,
    def: &TypeDef,
    id: &str,
    headers: &HeaderMap,
    body: Option<&Value>,
) -> ApiResult<Option<i64>> {
    match expected_version(headers, body) {
        Ok(v) => Ok(v),
        Err(e) => {
            state.app.object(def, id).await?;
            Err(e)
        }
    }
}

/// `PUT /api/v1/objects/{type}/{id}`
#[utoipa::path(put, path = "/api/v1/objects/{type}/{id}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("If-Match" = Option<String>, Header, description = "ETag of the version edited; else meta.version")),
    request_body = GroveObject,
    responses((status = 200, body = GroveObject), (status = 409, body = Problem, description = "stale: carries the current object"),
        (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let def = object_type(&type_id)?;
    let expected = expected_version_of(&state, def, &id, &headers, Some(&body)).await?;
    let obj = state
        .app
        .replace(def, &id, &body, expected, &actor.caller())
        .await?;
    object_response(&state, StatusCode::OK, &obj).await
}

/// `PATCH /api/v1/objects/{type}/{id}` (JSON merge patch, RFC 7396)
#[utoipa::path(patch, path = "/api/v1/objects/{type}/{id}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("If-Match" = Option<String>, Header, description = "ETag of the version edited")),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "JSON merge patch (RFC 7396) of {meta, payload}"),
    responses((status = 200, body = GroveObject), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 404, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
    JsonBody(patch): JsonBody,
) -> ApiResult<Response> {
    let def = object_type(&type_id)?;
    let expected = if patch.is_object() {
        expected_version_of(&state, def, &id, &headers, Some(&patch)).await?
    } else {
        // The use case refuses a patch that is not an object first.
        None
    };
    let obj = state
        .app
        .patch(def, &id, &patch, expected, &actor.caller())
        .await?;
    object_response(&state, StatusCode::OK, &obj).await
}

/// `DELETE /api/v1/objects/{type}/{id}`
#[utoipa::path(delete, path = "/api/v1/objects/{type}/{id}", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("If-Match" = Option<String>, Header, description = "Only delete this version")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
) -> ApiResult<StatusCode> {
    let def = object_type(&type_id)?;
    let expected = expected_version(&headers, None)?;
    state
        .app
        .delete(def, &id, expected, &actor.caller())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/objects/{type}/{id}/duplicate`: a copy under a new id; a
/// copied job config starts disabled so the same work is not scheduled twice.
/// An optional body `{"id", "title"}` names the copy.
#[utoipa::path(post, path = "/api/v1/objects/{type}/{id}/duplicate", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id")), request_body(content = Object, description = "Optional {id, title} of the copy"),
    responses((status = 201, body = GroveObject), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn duplicate(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    Operator(actor): Operator,
    OptionalJsonBody(options): OptionalJsonBody,
) -> ApiResult<Response> {
    let def = object_type(&type_id)?;
    let names = copy_names(&options)?;
    let obj = state
        .app
        .duplicate(def, &id, names, &actor.caller())
        .await?;
    created_response(&state, &obj).await
}

/// The optional `{id, title}` body of a duplicate: absent, or an object
/// with only those keys (anything else is a 422 at its pointer).
fn copy_names(body: &Value) -> ApiResult<CopyNames> {
    use grove_core::validate::Problem as FieldProblem;
    let map = match body {
        Value::Null => {
            return Ok(CopyNames {
                id: None,
                title: None,
            });
        }
        Value::Object(map) => map,
        _ => {
            return Err(ApiError::Validation(vec![FieldProblem::new(
                "",
                "must be an object {\"id\"?, \"title\"?} naming the copy, or no body at all",
            )]));
        }
    };
    let mut problems = Vec::new();
    for key in map.keys().filter(|k| *k != "id" && *k != "title") {
        problems.push(FieldProblem::new(
            grove_core::validate::child_pointer("", key),
            format!("unknown field \"{key}\"; expected id or title"),
        ));
    }
    let id = match map.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problems.push(FieldProblem::new("/id", "must be a string"));
            None
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    Ok(CopyNames {
        id,
        // A title that is not a string is refused like a blank one.
        title: map
            .get("title")
            .map(|t| t.as_str().unwrap_or_default().to_owned()),
    })
}

/// `GET /api/v1/objects/{type}/{id}/revisions`
#[utoipa::path(get, path = "/api/v1/objects/{type}/{id}/revisions", tag = "objects", params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id")),
    responses((status = 200, body = RevisionList, description = "Newest first"), (status = 404, body = Problem)))]
pub async fn revisions(
    State(state): State<AppState>,
    Path((type_id, id)): Path<(String, String)>,
    reader: Reader,
) -> ApiResult<Json<RevisionList>> {
    let def = object_type(&type_id)?;
    let list = RevisionList::new(&state.app.revisions(def, &id).await?);
    Ok(Json(if reader.sees_secrets() {
        list
    } else {
        list.redacted()
    }))
}

/// `POST /api/v1/objects/{type}/{id}/revisions/{version}/restore`: saves
/// the revision's content as a new version.
#[utoipa::path(post, path = "/api/v1/objects/{type}/{id}/revisions/{version}/restore", tag = "objects", security(("bearer" = [])),
    params(("type" = String, Path, description = "Object type: job-config or advancement-rule"), ("id" = String, Path, description = "Object id"), ("version" = i64, Path, description = "Revision to restore")),
    responses((status = 200, body = GroveObject, description = "saved as a new version"), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn restore(
    State(state): State<AppState>,
    Path((type_id, id, version)): Path<(String, String, String)>,
    headers: HeaderMap,
    Operator(actor): Operator,
) -> ApiResult<Response> {
    let def = object_type(&type_id)?;
    let version: i64 = version.parse().map_err(|_| {
        ApiError::BadRequest(format!("revision \"{version}\" must be a version number"))
    })?;
    let expected = expected_version_of(&state, def, &id, &headers, None).await?;
    let obj = state
        .app
        .restore(def, &id, version, expected, &actor.caller())
        .await?;
    object_response(&state, StatusCode::OK, &obj).await
}
