//! API tokens: secrets with 256 bits of randomness, stored only as their
//! SHA-256 hash, so a leaked database does not leak usable tokens.

use grove_store::{ApiToken, Role, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{App, AppError};

/// Token secrets start with this so they are recognisable in configs and leaks.
pub const TOKEN_PREFIX: &str = "gj_";

/// A new random token secret.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex(&bytes))
}

/// Hex SHA-256 of a secret, as stored (and looked up).
pub fn hash_token(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names of the bootstrap admin tokens, as operators see them.
const BOOTSTRAP_ADMIN: &str = "bootstrap-admin";
const GENERATED_ADMIN: &str = "generated-admin";

impl App {
    /// Creates and stores a token; returns its secret, which is shown once
    /// and never stored.
    pub async fn create_token(&self, name: &str, role: Role) -> Result<String, AppError> {
        let secret = generate_token();
        self.register_token(&secret, name, role).await?;
        Ok(secret)
    }

    /// Stores a token with a known secret; a secret already registered is
    /// left as it is.
    pub async fn register_token(
        &self,
        secret: &str,
        name: &str,
        role: Role,
    ) -> Result<(), AppError> {
        let hash = hash_token(secret);
        let token = ApiToken {
            id: hash[..16].to_owned(),
            name: name.to_owned(),
            role,
            hash,
            created_at: self.clock.now(),
        };
        match self.store.token_insert(token).await {
            Ok(()) | Err(StoreError::AlreadyExists) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The admin token a service starts with: `given` (e.g. from the
    /// environment) is registered as it is; otherwise a database without
    /// any token gets a generated one, whose secret is returned so it can
    /// be shown once.
    pub async fn bootstrap_admin_token(
        &self,
        given: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        if let Some(secret) = given {
            self.register_token(secret, BOOTSTRAP_ADMIN, Role::Admin)
                .await?;
            return Ok(None);
        }
        if self.store.token_count().await? == 0 {
            return Ok(Some(self.create_token(GENERATED_ADMIN, Role::Admin).await?));
        }
        Ok(None)
    }
}
