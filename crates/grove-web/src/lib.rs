//! grove-web: the HTTP face of grove-jobs.
//!
//! - [`router`]: every route, given an [`AppState`]; tested in process.
//! - [`api`]: JSON API handlers, one module per resource. Handlers (API and
//!   console alike) translate a request into a use case of
//!   [`grove_app::App`] and its result into a response; neither imports the
//!   other.
//! - [`auth`]: who is calling (bearer tokens, console sessions), their
//!   roles, and the throttling of failed attempts; every `/api/v1` route
//!   stands behind [`auth::api_access`].
//! - [`headers`]: security headers, and the Origin check of console posts.
//! - [`console`]: the operator console (server-rendered HTML, sessions, CSRF).
//! - [`body`]: the JSON body extractor that turns every bad body into a 4xx.
//! - [`error`]: RFC 9457 problem details.
//! - [`wire`]: every JSON body the API sends or reads, built from the
//!   domain types; the OpenAPI document describes these same types.
//! - [`openapi`]: the OpenAPI document served at `/api/openapi.json`.
//! - [`server`]: the HTTP/1 server loop with its limits (header-read
//!   timeout, open connections).
//! - [`views`]: what the API and the console both show (objects as
//!   documents, executions as the render tree sees them).
//! - [`state`]: what every handler reaches: the [`grove_app::App`] whose use
//!   cases every write goes through, and the store for reads.

pub mod api;
pub mod auth;
pub mod body;
pub mod console;
pub mod error;
pub mod headers;
pub mod openapi;
pub mod server;
pub mod state;
pub mod views;
pub mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use tower_http::timeout::TimeoutLayer;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, WebSettings};

/// All routes of the service.
pub fn router(state: AppState) -> Router {
    use api::{meta, prometheus};
    let limit = state.settings.max_body_bytes;
    let request_timeout = state.settings.request_timeout;
    Router::new()
        // Public: probes, metrics and the API's own description.
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/metrics", get(prometheus::metrics))
        .route("/api/openapi.json", get(openapi::document))
        .merge(
            api_routes(request_timeout).route_layer(middleware::from_fn_with_state(
                state.clone(),
                auth::api_access,
            )),
        )
        .merge(console::routes().layer(middleware::from_fn(headers::console)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::map_response(rejections_as_problems))
        // One byte over the limit is enough to know it is too large.
        .layer(DefaultBodyLimit::max(limit + 1))
        .layer(middleware::from_fn(headers::nosniff))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Every `/api/v1` route; [`auth::api_access`] stands in front of them.
fn api_routes(request_timeout: std::time::Duration) -> Router<AppState> {
    use api::{audit, executions, grove, meta, objects, tokens};
    Router::new()
        .route("/api/v1/types", get(meta::types))
        .route(
            "/api/v1/schedule/preview",
            get(api::schedule::preview_schedule),
        )
        .route("/api/v1/metrics/{type}", get(meta::metrics))
        .route(
            "/api/v1/objects/{type}",
            get(objects::list).post(objects::create),
        )
        .route(
            "/api/v1/objects/{type}/{id}",
            get(objects::get)
                .put(objects::replace)
                .patch(objects::patch)
                .delete(objects::delete),
        )
        .route(
            "/api/v1/objects/{type}/{id}/duplicate",
            post(objects::duplicate),
        )
        .route(
            "/api/v1/objects/{type}/{id}/revisions",
            get(objects::revisions),
        )
        .route(
            "/api/v1/objects/{type}/{id}/revisions/{version}/restore",
            post(objects::restore),
        )
        .route(
            "/api/v1/sprouts",
            post(grove::upsert_sprouts).layer(DefaultBodyLimit::max(grove::MAX_INGEST_BYTES + 1)),
        )
        .route("/api/v1/sprouts/{id}", get(grove::get_sprout))
        .route(
            "/api/v1/signals",
            post(grove::insert_signals).layer(DefaultBodyLimit::max(grove::MAX_INGEST_BYTES + 1)),
        )
        .route("/api/v1/advancement-events", get(grove::advancement_events))
        .route("/api/v1/notifications", get(grove::notifications))
        .route("/api/v1/journal", get(api::journal::list))
        .route("/api/v1/render/catalog", get(api::render::catalog))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/jobs/{id}/run", post(executions::run_now))
        .route("/api/v1/jobs/{id}/backfill", post(executions::backfill))
        .route("/api/v1/jobs/{id}/executions", get(executions::history))
        .route("/api/v1/jobs/{id}/upcoming", get(api::schedule::upcoming))
        .route("/api/v1/executions/{run_id}", get(executions::get))
        .route("/api/v1/executions/{run_id}/logs", get(executions::logs))
        .route("/api/v1/executions/{run_id}/retry", post(executions::retry))
        .route(
            "/api/v1/executions/{run_id}/render-tree",
            get(api::render::execution_tree),
        )
        .route(
            "/api/v1/executions/{run_id}/cancel",
            post(executions::cancel),
        )
        .route("/api/v1/engine", get(executions::engine_status))
        // Every route above answers within the request timeout (503 past
        // it); event streams, added below, last as long as their run.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .route(
            "/api/v1/executions/{run_id}/events",
            get(executions::events),
        )
}

/// Every error answer that is not already a problem (axum's plain-text
/// rejections of a path, a query string or a body: `/api/v1/objects/%ff`,
/// `?limit=1&limit=2`) becomes `application/problem+json` at the same
/// status, keeping its headers (`Allow`, `Retry-After`). The console's HTML
/// pages are left as they are.
async fn rejections_as_problems(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = error::printable(&String::from_utf8_lossy(&bytes), 300);
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut problem = ApiError::Other { status, detail }.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
