//! json-render over the API: the component catalog and an execution's
//! status tree.

use axum::Json;
use axum::extract::{Path, State};
use grove_core::render::{execution_to_render_tree, validate_tree};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::execution::find_execution;
use crate::wire::render::RenderNodeOut;

/// `GET /api/v1/render/catalog`: `{components: {Name: {props: <JSON Schema>}}}`.
#[utoipa::path(get, path = "/api/v1/render/catalog", tag = "render", responses((status = 200, body = Object, description = "The json-render catalog: each component's prop schema (JSON Schema)")))]
pub async fn catalog() -> Json<Value> {
    Json(grove_core::render::catalog())
}

/// `GET /api/v1/executions/{runId}/render-tree`: the json-render status
/// tree of an execution, the same tree the console's Status tab renders
/// (validated against the catalog before it is returned).
#[utoipa::path(get, path = "/api/v1/executions/{runId}/render-tree", tag = "render", params(("runId" = String, Path)), responses((status = 200, body = RenderNodeOut, description = "{type: \"root\", children: [{type, props}]}"), (status = 404, body = crate::wire::problem::Problem)))]
pub async fn execution_tree(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> ApiResult<Json<RenderNodeOut>> {
    let found = find_execution(&state, &run_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("execution \"{run_id}\"")))?;
    let tree = execution_to_render_tree(&found.view, &found.config, state.clock.now());
    validate_tree(&tree).map_err(|problems| {
        ApiError::Internal(format!(
            "the render tree does not match the catalog: {problems:?}"
        ))
    })?;
    Ok(Json(RenderNodeOut::from(&tree)))
}
