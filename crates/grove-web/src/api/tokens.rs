//! `/api/v1/tokens`: API tokens, for admins. A token's secret is shown
//! once, in the answer that creates it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use grove_core::validate::{Choice, Problem as FieldIssue};
use grove_store::Role;

use crate::auth::Admin;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::access::{TokenCreated, TokenList, TokenOut, TokenRequest};
use crate::wire::problem::Problem;

/// `GET /api/v1/tokens`
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    description = "The tokens not revoked, oldest first, never with their secrets. Role: admin.",
    responses((status = 200, body = TokenList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> ApiResult<Json<TokenList>> {
    let tokens = state.app.tokens().await?;
    Ok(Json(TokenList {
        items: tokens.iter().map(TokenOut::from).collect(),
    }))
}

/// `POST /api/v1/tokens`
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    description = "Creates a token; its secret is in this answer only. Role: admin.",
    request_body = TokenRequest,
    responses((status = 201, body = TokenCreated), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(actor): Admin,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut problems = Vec::new();
    let name = body.get("name").and_then(|v| v.as_str());
    if name.is_none() {
        problems.push(FieldIssue::new(
            "/name",
            "is required: a name such as \"ci-deploy\"",
        ));
    }
    let role = body
        .get("role")
        .and_then(|v| v.as_str())
        .and_then(Role::from_name);
    if role.is_none() {
        problems.push(FieldIssue::new(
            "/role",
            format!("must be one of {}", Role::names()),
        ));
    }
    let (Some(name), Some(role)) = (name, role) else {
        return Err(ApiError::Validation(problems));
    };
    let new = state.app.create_token(name, role, &actor.caller()).await?;
    let body = TokenCreated {
        token: TokenOut::from(&new.token),
        secret: new.secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/v1/tokens/{id}`
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    description = "Revokes a token: it stops working at once, and the console sessions opened with it end. Role: admin.",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Admin(actor): Admin,
) -> ApiResult<StatusCode> {
    state.app.revoke_token(&id, &actor.caller()).await?;
    Ok(StatusCode::NO_CONTENT)
}
