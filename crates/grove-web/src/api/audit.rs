//! `GET /api/v1/audit`: who did what, newest first, for admins.

use axum::Json;
use axum::extract::{Query, State};
use grove_app::AuditAction;
use grove_core::validate::Choice;
use grove_store::AuditFilter;
use serde::Deserialize;

use crate::api::executions::parse_limit;
use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::access::{AuditEntryOut, AuditPage};
use crate::wire::problem::Problem;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    actor: Option<String>,
    object_id: Option<String>,
    action: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /api/v1/audit`
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    description = "Every mutation and sign-in: time, actor, token, client address, action, object and versions. Newest first. Role: admin.",
    params(("actor" = Option<String>, Query, description = "Only this actor (a token's name)"),
        ("objectId" = Option<String>, Query, description = "Only this object (a config id, run id or token id)"),
        ("action" = Option<String>, Query, description = "Only this action, e.g. update or login.failed"),
        ("limit" = Option<u32>, Query, description = "1–500, default 50"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let filter = audit_filter(q)?;
    let limit = filter.limit;
    let records = state.app.audit_trail(filter).await?;
    let next_cursor = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.seq.to_string()))
        .flatten();
    Ok(Json(AuditPage {
        items: records.iter().map(AuditEntryOut::from).collect(),
        next_cursor,
    }))
}

/// The store's filter of a query; shared with the console's audit page.
pub fn audit_filter(q: AuditQuery) -> ApiResult<AuditFilter> {
    let limit = parse_limit(q.limit.as_deref(), 50, grove_app::audit::MAX_AUDIT_LIMIT)?;
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "cursor \"{c}\" is not a cursor this server handed out (nextCursor)"
            ))
        })?),
    };
    let action = match q.action.filter(|a| !a.is_empty()) {
        None => None,
        Some(a) if AuditAction::from_name(&a).is_some() => Some(a),
        Some(a) => {
            return Err(ApiError::BadRequest(format!(
                "action \"{a}\" is not one of {}",
                AuditAction::names()
            )));
        }
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    Ok(AuditFilter {
        actor: nonempty(q.actor),
        object_id: nonempty(q.object_id),
        action,
        before,
        limit,
    })
}

impl AuditQuery {
    /// A query of the console's filter form.
    pub fn new(
        actor: Option<String>,
        object_id: Option<String>,
        action: Option<String>,
        cursor: Option<String>,
    ) -> Self {
        Self {
            actor,
            object_id,
            action,
            limit: None,
            cursor,
        }
    }
}
