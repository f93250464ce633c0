//! Who is calling: the bearer token of a request (looked up by its hash)
//! and its role. Tokens are created by [`grove_app::App::create_token`].

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use grove_app::tokens::hash_token;
use grove_core::validate::Choice;
use grove_store::Role;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl Actor {
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
}

/// Resolves the `Authorization: Bearer` header, if any.
pub async fn actor_from_parts(parts: &Parts, state: &AppState) -> Result<Option<Actor>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    let token = state
        .store
        .token_find(&hash_token(secret))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Some(Actor {
        name: token.name,
        role: token.role,
    }))
}

/// An operator (or admin) is required: mutations use this.
#[derive(Debug, Clone)]
pub struct Operator(pub Actor);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = match parts.extensions.get::<Actor>() {
            Some(a) => a.clone(),
            None => actor_from_parts(parts, state)
                .await?
                .ok_or(ApiError::Unauthorized)?,
        };
        actor.require(Role::Operator)?;
        Ok(Self(actor))
    }
}
