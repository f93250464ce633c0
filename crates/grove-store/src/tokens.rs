//! API tokens: stored as SHA-256 hashes, never in clear.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

/// What a token may do: viewers look, operators edit and run, admins also
/// manage tokens.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Self::Viewer),
            "operator" => Some(Self::Operator),
            "admin" => Some(Self::Admin),
            _ => None,
        }
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
}

#[async_trait]
pub trait TokenStore {
    /// `AlreadyExists` if the hash is already registered.
    async fn token_insert(&self, token: ApiToken) -> Result<(), StoreError>;

    async fn token_find(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;

    async fn token_count(&self) -> Result<i64, StoreError>;
}
