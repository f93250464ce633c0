//! API tokens and console sessions.
//!
//! Token secrets have 256 bits of randomness and are stored only as their
//! SHA-256 hash, so a leaked database does not leak usable tokens. A
//! console session is an id of its own, equally random and equally stored
//! hashed, that stands for the token it was opened with: the session
//! cookie never carries the token.

use grove_store::{ApiToken, Role, SessionCheck, SessionInsert, StoreError};
use jiff::SignedDuration;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::audit::{AuditAction, Caller, Target};
use crate::{App, AppError};

/// Token secrets start with this so they are recognisable in configs and leaks.
pub const TOKEN_PREFIX: &str = "gj_";

/// The object type audit lines name for a token.
const TOKEN: &str = "token";

/// A new random token secret.
pub fn generate_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_hex())
}

/// 256 random bits, in hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
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

/// The longest token name.
pub const MAX_TOKEN_NAME: usize = 100;

/// A token just created: its secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

/// How long console sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: SignedDuration,
    /// A session ends this long after sign-in, however busy.
    pub lifetime: SignedDuration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: SignedDuration::from_hours(12),
            lifetime: SignedDuration::from_hours(7 * 24),
        }
    }
}

/// A console session just opened.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session's secret id, for the cookie; stored only hashed.
    pub id: String,
    pub token: ApiToken,
}

impl App {
    /// Creates and stores a token for `by` (an admin).
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        by: &Caller,
    ) -> Result<NewToken, AppError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_TOKEN_NAME
            || name.chars().any(char::is_control)
        {
            return Err(AppError::Validation(vec![
                grove_core::validate::Problem::new(
                    "/name",
                    format!(
                        "must be a name of 1 to {MAX_TOKEN_NAME} printable characters, such as \"ci-deploy\""
                    ),
                ),
            ]));
        }
        let secret = generate_token();
        let token = self.register_token(&secret, name, role).await?;
        self.audit(
            by,
            AuditAction::TokenCreate,
            Target::object(TOKEN, &token.id),
        )
        .await;
        Ok(NewToken { token, secret })
    }

    /// Stores a token with a known secret and returns it; a secret already
    /// registered is left as it is.
    pub async fn register_token(
        &self,
        secret: &str,
        name: &str,
        role: Role,
    ) -> Result<ApiToken, AppError> {
        let hash = hash_token(secret);
        let token = ApiToken {
            id: hash[..16].to_owned(),
            name: name.to_owned(),
            role,
            hash,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        match self.store.token_insert(token.clone()).await {
            Ok(()) | Err(StoreError::AlreadyExists) => Ok(token),
            Err(e) => Err(e.into()),
        }
    }

    /// The tokens not revoked, oldest first.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>, AppError> {
        Ok(self.store.token_list().await?)
    }

    /// Revokes a token: it stops working at once, and so do the console
    /// sessions opened with it.
    pub async fn revoke_token(&self, id: &str, by: &Caller) -> Result<ApiToken, AppError> {
        let token = match self.store.token_revoke(id, self.clock.now()).await {
            Err(StoreError::NotFound) => {
                return Err(AppError::not_found(format!("token \"{id}\"")));
            }
            other => other?,
        };
        self.audit(by, AuditAction::TokenRevoke, Target::object(TOKEN, id))
            .await;
        Ok(token)
    }

    /// The token a secret stands for, unless it is unknown or revoked;
    /// records its use.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>, AppError> {
        let Some(token) = self.store.token_find(&hash_token(secret)).await? else {
            return Ok(None);
        };
        self.store.token_touch(&token.id, self.clock.now()).await?;
        Ok(Some(token))
    }

    /// The admin token a service starts with: `given` (e.g. from the
    /// environment) is registered as it is, and a bootstrap token given
    /// before with another secret is revoked; otherwise a database without
    /// any token gets a generated one, whose secret is returned so it can
    /// be shown once.
    pub async fn bootstrap_admin_token(
        &self,
        given: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        if let Some(secret) = given {
            let current = self
                .register_token(secret, BOOTSTRAP_ADMIN, Role::Admin)
                .await?;
            let by = Caller::named(BOOTSTRAP_ADMIN);
            for old in self.store.token_list().await? {
                if old.name == BOOTSTRAP_ADMIN && old.hash != current.hash {
                    self.revoke_token(&old.id, &by).await?;
                }
            }
            return Ok(None);
        }
        if self.store.token_count().await? == 0 {
            let by = Caller::named(GENERATED_ADMIN);
            let new = self.create_token(GENERATED_ADMIN, Role::Admin, &by).await?;
            return Ok(Some(new.secret));
        }
        Ok(None)
    }

    /// Signs in to the console with a token secret: a new session, or
    /// `None` when the token is not valid. Both are recorded in the audit
    /// trail (`login`, `login.failed`).
    pub async fn open_session(
        &self,
        secret: &str,
        policy: SessionPolicy,
        by: &Caller,
    ) -> Result<Option<Session>, AppError> {
        let Some(token) = self.authenticate(secret).await? else {
            self.audit(by, AuditAction::LoginFailed, Target::default())
                .await;
            return Ok(None);
        };
        let id = random_hex();
        let now = self.clock.now();
        self.store
            .session_insert(SessionInsert {
                hash: hash_token(&id),
                token_id: token.id.clone(),
                now,
                expires_at: now + policy.lifetime,
            })
            .await?;
        let by = Caller {
            name: token.name.clone(),
            token_id: Some(token.id.clone()),
            address: by.address.clone(),
        };
        self.audit(&by, AuditAction::Login, Target::object(TOKEN, &token.id))
            .await;
        Ok(Some(Session { id, token }))
    }

    /// The token a live console session stands for.
    pub async fn session(
        &self,
        session_id: &str,
        policy: SessionPolicy,
    ) -> Result<Option<ApiToken>, AppError> {
        let now = self.clock.now();
        let check = SessionCheck {
            now,
            idle_since: now - policy.idle,
        };
        Ok(self
            .store
            .session_find(&hash_token(session_id), check)
            .await?)
    }

    /// Signs out: the session ends.
    pub async fn close_session(&self, session_id: &str, by: &Caller) -> Result<(), AppError> {
        self.store.session_delete(&hash_token(session_id)).await?;
        self.audit(by, AuditAction::Logout, Target::default()).await;
        Ok(())
    }
}
