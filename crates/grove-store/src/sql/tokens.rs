//! API tokens, stored as hashes.

use async_trait::async_trait;
use grove_core::validate::Choice;

use super::{Dialect, Exec, Row, RowExt, SqlStore, scalar, sql};
use crate::{ApiToken, StoreError, TokenStore};

fn token_from_row(row: &impl Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.get("id")?,
        name: row.get("name")?,
        role: row.choice("role")?,
        hash: row.get("token_hash")?,
        created_at: row.get("created_at")?,
    })
}

#[async_trait]
impl<D: Dialect> TokenStore for SqlStore<D> {
    async fn token_insert(&self, t: ApiToken) -> Result<(), StoreError> {
        let mut db = self.db.autocommit().await?;
        db.execute(
            sql(
                "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&t.id)
            .bind(&t.name)
            .bind(t.role.name())
            .bind(&t.hash)
            .bind(t.created_at),
        )
        .await?;
        Ok(())
    }

    async fn token_find(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_optional(
            sql(
                "SELECT id, name, role, token_hash, created_at FROM api_tokens \
                 WHERE token_hash = $1",
            )
            .bind(hash),
        )
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()
    }

    async fn token_count(&self) -> Result<i64, StoreError> {
        let mut db = self.db.read().await?;
        scalar(&mut db, sql("SELECT COUNT(*) AS n FROM api_tokens"), "n").await
    }
}
