//! Who is calling, and what they may do.
//!
//! | route | who |
//! |---|---|
//! | `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json` | anyone |
//! | every other `GET` under `/api/v1` | a viewer token or a console session (anyone with `--public-read`) |
//! | mutations | an operator token; tokens and the audit trail: an admin token |
//!
//! A request authenticates with `Authorization: Bearer <token>`, or, for
//! reads, with the console's session cookie (the console's own pages fetch
//! previews and live events that way). [`api_access`] resolves either once
//! per request and leaves the [`Actor`] in the request's extensions, where
//! the [`Operator`] and [`Admin`] extractors find it. Failed attempts are
//! limited per client address ([`throttle`]) and logged, never with the
//! secret.

pub mod throttle;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use grove_app::Caller;
use grove_core::validate::Choice;
use grove_store::{ApiToken, Role};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    pub token_id: String,
    /// The client's address, when the request came over the network.
    pub address: Option<IpAddr>,
}

impl Actor {
    pub fn new(token: ApiToken, address: Option<IpAddr>) -> Self {
        Self {
            name: token.name,
            role: token.role,
            token_id: token.id,
            address,
        }
    }

    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role; the token \"{}\" has {}",
                role.name(),
                self.name,
                self.role.name()
            )))
        }
    }

    /// Operators and admins see payload secrets whole; viewers redacted.
    pub fn sees_secrets(&self) -> bool {
        self.role >= Role::Operator
    }

    /// The caller use cases record.
    pub fn caller(&self) -> Caller {
        Caller {
            name: self.name.clone(),
            token_id: Some(self.token_id.clone()),
            address: self.address.map(|a| a.to_string()),
        }
    }
}

/// The client's address: the TCP peer (`serve` records it for every
/// connection). In-process callers (tests) have none.
pub fn client_address(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The secret of an `Authorization: Bearer` header; `Err` for a header
/// that is there but is not a bearer token.
fn bearer(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(()),
    )
}

/// Counts and logs a failed authentication; the secret is never logged.
pub fn authentication_failed(state: &AppState, address: Option<IpAddr>, how: &str) {
    state.throttle.failed(address);
    let address = address.map_or_else(|| "in-process".to_owned(), |a| a.to_string());
    tracing::warn!(%address, how, "authentication failed");
}

/// Refuses a client that failed too often lately (429).
pub fn check_throttle(state: &AppState, address: Option<IpAddr>) -> Result<(), ApiError> {
    match state.throttle.blocked(address) {
        Some(wait) => Err(ApiError::TooManyAttempts {
            retry_after: wait.as_secs().max(1),
        }),
        None => Ok(()),
    }
}

/// The actor of a bearer header: `Ok(None)` without one.
pub async fn bearer_actor(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<IpAddr>,
) -> Result<Option<Actor>, ApiError> {
    let Some(secret) = bearer(headers) else {
        return Ok(None);
    };
    check_throttle(state, address)?;
    let Ok(secret) = secret else {
        authentication_failed(
            state,
            address,
            "an Authorization header that is not a bearer token",
        );
        return Err(ApiError::Unauthorized);
    };
    match state.app.authenticate(secret).await? {
        Some(token) => Ok(Some(Actor::new(token, address))),
        None => {
            authentication_failed(state, address, "an unknown or revoked bearer token");
            Err(ApiError::Unauthorized)
        }
    }
}

/// The actor of a console session cookie, if it is live.
pub async fn session_actor(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<IpAddr>,
) -> Result<Option<Actor>, ApiError> {
    let Some(id) = crate::console::session::cookie_session(headers) else {
        return Ok(None);
    };
    let token = state.app.session(&id, state.settings.sessions).await?;
    Ok(token.map(|t| Actor::new(t, address)))
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Middleware of every `/api/v1` route: resolves the caller once; refuses
/// anonymous reads unless the server was started with `--public-read`.
pub async fn api_access(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let address = client_address(request.extensions());
    let actor = match bearer_actor(&state, request.headers(), address).await {
        Ok(Some(actor)) => Some(actor),
        // The cookie is accepted for reads only: a mutation needs a header
        // a browser never sends by itself.
        Ok(None) if is_read(request.method()) => {
            match session_actor(&state, request.headers(), address).await {
                Ok(actor) => actor,
                Err(e) => return e.into_response(),
            }
        }
        Ok(None) => None,
        Err(e) => return e.into_response(),
    };
    match actor {
        Some(actor) => {
            request.extensions_mut().insert(actor);
        }
        None if is_read(request.method()) && !state.settings.public_read => {
            return ApiError::Unauthorized.into_response();
        }
        None => {}
    }
    next.run(request).await
}

/// The caller [`api_access`] found, if any.
fn actor_of(parts: &Parts) -> Result<Actor, ApiError> {
    parts
        .extensions
        .get::<Actor>()
        .cloned()
        .ok_or(ApiError::Unauthorized)
}

/// Anyone [`api_access`] let through: `None` for an anonymous read of a
/// server with `--public-read`.
#[derive(Debug, Clone)]
pub struct Reader(pub Option<Actor>);

impl Reader {
    /// Whether payload secrets may be shown whole.
    pub fn sees_secrets(&self) -> bool {
        self.0.as_ref().is_some_and(Actor::sees_secrets)
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(Self(parts.extensions.get::<Actor>().cloned()))
    }
}

/// An operator (or admin) is required: mutations use this.
#[derive(Debug, Clone)]
pub struct Operator(pub Actor);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let actor = actor_of(parts)?;
        actor.require(Role::Operator)?;
        Ok(Self(actor))
    }
}

/// An admin is required: tokens and the audit trail.
#[derive(Debug, Clone)]
pub struct Admin(pub Actor);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let actor = actor_of(parts)?;
        actor.require(Role::Admin)?;
        Ok(Self(actor))
    }
}
