//! API tokens on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;

use super::PostgresStore;
use crate::{ApiToken, Role, StoreError, TokenStore, from_millis, to_millis};

#[async_trait]
impl TokenStore for PostgresStore {
    async fn token_insert(&self, t: ApiToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.role.as_str())
        .bind(&t.hash)
        .bind(to_millis(t.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn token_find(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, token_hash, created_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let role: String = r.try_get("role")?;
            Ok(ApiToken {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                role: Role::parse(&role)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown role \"{role}\"")))?,
                hash: r.try_get("token_hash")?,
                created_at: from_millis(r.try_get("created_at")?)?,
            })
        })
        .transpose()
    }

    async fn token_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&self.pool)
            .await?)
    }
}
