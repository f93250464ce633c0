//! Bearer tokens: generated with 256 bits of randomness, stored as SHA-256.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use grove_core::validate::Choice;
use grove_store::{ApiToken, Role, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Token secrets start with this so they are recognisable in configs and leaks.
pub const TOKEN_PREFIX: &str = "gj_";

/// A new random token secret.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex(&bytes))
}

/// Hex SHA-256 of a secret, as stored.
pub fn hash_token(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates and stores a token; returns the secret (shown once).
pub async fn create_token(
    store: &dyn grove_store::Store,
    name: &str,
    role: Role,
    now: jiff::Timestamp,
) -> Result<String, StoreError> {
    let secret = generate_token();
    register_token(store, &secret, name, role, now).await?;
    Ok(secret)
}

/// Stores a token with a known secret (the bootstrap admin token); a secret
/// already registered is left as it is.
pub async fn register_token(
    store: &dyn grove_store::Store,
    secret: &str,
    name: &str,
    role: Role,
    now: jiff::Timestamp,
) -> Result<(), StoreError> {
    let hash = hash_token(secret);
    let token = ApiToken {
        id: hash[..16].to_owned(),
        name: name.to_owned(),
        role,
        hash,
        created_at: now,
    };
    match store.token_insert(token).await {
        Ok(()) | Err(StoreError::AlreadyExists) => Ok(()),
        Err(e) => Err(e),
    }
}

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
