//! API tokens, stored as hashes; revoked ones are kept (the audit trail
//! names them) but no longer found.

use async_trait::async_trait;
use grove_core::validate::Choice;
use jiff::{SignedDuration, Timestamp};

use super::{Dialect, Exec, Row, RowExt, SqlStore, scalar, sql};
use crate::{ApiToken, StoreError, TokenStore};

/// How stale a "last used" or "last seen" instant may be: touching it more
/// often would cost every authenticated request a write.
pub(crate) const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

pub(crate) const TOKEN_COLUMNS: &str = "id, name, role, token_hash, created_at, last_used_at";

pub(crate) fn token_from_row(row: &impl Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.get("id")?,
        name: row.get("name")?,
        role: row.choice("role")?,
        hash: row.get("token_hash")?,
        created_at: row.get("created_at")?,
        last_used_at: row.get("last_used_at")?,
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
        let mut db = self.db.read_point().await?;
        db.fetch_optional(
            sql(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens \
                 WHERE token_hash = $1 AND revoked_at IS NULL"
            ))
            .bind(hash),
        )
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()
    }

    async fn token_count(&self) -> Result<i64, StoreError> {
        let mut db = self.db.read().await?;
        scalar(
            &mut db,
            sql("SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL"),
            "n",
        )
        .await
    }

    async fn token_list(&self) -> Result<Vec<ApiToken>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(sql(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE revoked_at IS NULL \
             ORDER BY created_at, id"
        )))
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn token_revoke(&self, id: &str, now: Timestamp) -> Result<ApiToken, StoreError> {
        let mut tx = self.db.begin().await?;
        let token = tx
            .fetch_optional(
                sql(format!(
                    "UPDATE api_tokens SET revoked_at = $2 \
                     WHERE id = $1 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
                ))
                .bind(id)
                .bind(now),
            )
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        tx.execute(sql("DELETE FROM console_sessions WHERE token_id = $1").bind(id))
            .await?;
        self.db.commit(tx).await?;
        Ok(token)
    }

    async fn token_touch(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        let mut db = self.db.autocommit().await?;
        db.execute(
            sql("UPDATE api_tokens SET last_used_at = $2 \
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)")
            .bind(id)
            .bind(now)
            .bind(now - TOUCH_EVERY),
        )
        .await?;
        Ok(())
    }
}
