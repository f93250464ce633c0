//! Console sessions and the audit trail.

use async_trait::async_trait;

use super::tokens::{TOUCH_EVERY, token_from_row};
use super::{Dialect, Exec, RowExt, SqlStore, Statement, sql};
use crate::{
    AccessStore, ApiToken, AuditAppend, AuditFilter, AuditRecord, SessionCheck, SessionInsert,
    StoreError,
};

const AUDIT_COLUMNS: &str = "seq, at, actor, token_id, client_addr, action, object_type, \
                             object_id, version_before, version_after";

#[async_trait]
impl<D: Dialect> AccessStore for SqlStore<D> {
    async fn session_insert(&self, s: SessionInsert) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        // Sessions past their absolute end are of no use to anyone.
        tx.execute(sql("DELETE FROM console_sessions WHERE expires_at <= $1").bind(s.now))
            .await?;
        tx.execute(
            sql(
                "INSERT INTO console_sessions (id_hash, token_id, created_at, last_seen_at, \
                 expires_at) VALUES ($1, $2, $3, $3, $4)",
            )
            .bind(&s.hash)
            .bind(&s.token_id)
            .bind(s.now)
            .bind(s.expires_at),
        )
        .await?;
        self.db.commit(tx).await
    }

    async fn session_find(
        &self,
        hash: &str,
        check: SessionCheck,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut db = self.db.read().await?;
        let token = db
            .fetch_optional(
                sql(
                    "SELECT t.id, t.name, t.role, t.token_hash, t.created_at, t.last_used_at \
                     FROM console_sessions s JOIN api_tokens t ON t.id = s.token_id \
                     WHERE s.id_hash = $1 AND t.revoked_at IS NULL \
                       AND s.expires_at > $2 AND s.last_seen_at > $3",
                )
                .bind(hash)
                .bind(check.now)
                .bind(check.idle_since),
            )
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()?;
        drop(db);
        if token.is_some() {
            self.db
                .autocommit()
                .await?
                .execute(
                    sql("UPDATE console_sessions SET last_seen_at = $2 \
                         WHERE id_hash = $1 AND last_seen_at <= $3")
                    .bind(hash)
                    .bind(check.now)
                    .bind(check.now - TOUCH_EVERY),
                )
                .await?;
        }
        Ok(token)
    }

    async fn session_delete(&self, hash: &str) -> Result<(), StoreError> {
        self.db
            .autocommit()
            .await?
            .execute(sql("DELETE FROM console_sessions WHERE id_hash = $1").bind(hash))
            .await?;
        Ok(())
    }

    async fn audit_append(&self, e: AuditAppend) -> Result<(), StoreError> {
        self.db
            .autocommit()
            .await?
            .execute(audit_insert(std::slice::from_ref(&e)))
            .await?;
        Ok(())
    }

    async fn audit_append_many(&self, entries: Vec<AuditAppend>) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        audit_append_in(&mut tx, &entries).await?;
        self.db.commit(tx).await?;
        Ok(())
    }

    async fn audit_list(&self, f: AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        // Each filter is `$n IS NULL OR column = $n`: one statement text,
        // whichever filters are given.
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log \
                 WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR object_id = $2) \
                   AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR seq < $4) \
                 ORDER BY seq DESC LIMIT $5"
            ))
            .bind(f.actor)
            .bind(f.object_id)
            .bind(f.action)
            .bind(f.before)
            .bind(i64::from(f.limit)),
        )
        .await?
        .iter()
        .map(|row| {
            Ok(AuditRecord {
                seq: row.get("seq")?,
                entry: AuditAppend {
                    at: row.get("at")?,
                    actor: row.get("actor")?,
                    token_id: row.get("token_id")?,
                    client_addr: row.get("client_addr")?,
                    action: row.get("action")?,
                    object_type: row.get("object_type")?,
                    object_id: row.get("object_id")?,
                    version_before: row.get("version_before")?,
                    version_after: row.get("version_after")?,
                },
            })
        })
        .collect()
    }
}

/// Appends audit lines inside a caller's transaction.
pub(crate) async fn audit_append_in(
    tx: &mut impl Exec,
    entries: &[AuditAppend],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(super::BULK_ROWS) {
        tx.execute(audit_insert(chunk)).await?;
    }
    Ok(())
}

/// One multi-row insert of audit lines.
fn audit_insert(lines: &[AuditAppend]) -> Statement {
    bind_audit_lines(sql(audit_insert_text(lines.len(), 1)), lines)
}

/// The insert of `n` audit lines, its parameters numbered from `first`
/// (bound by [`bind_audit_lines`]).
pub(crate) fn audit_insert_text(n: usize, first: usize) -> String {
    format!(
        "INSERT INTO audit_log (at, actor, token_id, client_addr, action, \
         object_type, object_id, version_before, version_after) VALUES {}",
        super::values(n, 9, first)
    )
}

/// Binds the values of `lines` to [`audit_insert_text`]'s parameters.
pub(crate) fn bind_audit_lines(mut insert: Statement, lines: &[AuditAppend]) -> Statement {
    for e in lines {
        insert = insert
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.token_id)
            .bind(&e.client_addr)
            .bind(&e.action)
            .bind(&e.object_type)
            .bind(&e.object_id)
            .bind(e.version_before)
            .bind(e.version_after);
    }
    insert
}
