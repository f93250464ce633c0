//! API tokens: stored as SHA-256 hashes, never in clear.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

grove_core::choice_enum!(
    /// What a token may do: viewers look, operators edit and run, admins
    /// also manage tokens. Ordered: a higher role can do what a lower one can.
    Role { Viewer => "viewer", Operator => "operator", Admin => "admin" }
);

impl PartialOrd for Role {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Role {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    pub created_at: Timestamp,
    /// When a request last authenticated with it (to the minute).
    pub last_used_at: Option<Timestamp>,
}

#[async_trait]
pub trait TokenStore {
    /// `AlreadyExists` if the hash is already registered.
    async fn token_insert(&self, token: ApiToken) -> Result<(), StoreError>;

    /// The token with this hash, unless it was revoked.
    async fn token_find(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;

    /// How many tokens are not revoked.
    async fn token_count(&self) -> Result<i64, StoreError>;

    /// The tokens not revoked, oldest first.
    async fn token_list(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token and ends its console sessions, in one transaction.
    /// `NotFound` if there is no such token or it was revoked already.
    async fn token_revoke(&self, id: &str, now: Timestamp) -> Result<ApiToken, StoreError>;

    /// Records a use of the token. Written at most once a minute per token
    /// (`now` minus a minute is the staleness a row may have), so
    /// authenticated reads do not each cost a write.
    async fn token_touch(&self, id: &str, now: Timestamp) -> Result<(), StoreError>;
}
