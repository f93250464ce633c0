//! Coordination: the change feed (the dialect's), the leader lease and
//! the live instances.
//! A single-node database (SQLite) has one process, which always leads.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Dialect, Exec, RowExt, SqlStore, sql};
use crate::{ChangeFeed, CoordinationStore, StoreError};

#[async_trait]
impl<D: Dialect> CoordinationStore for SqlStore<D> {
    async fn change_feed(&self) -> Result<Box<dyn ChangeFeed>, StoreError> {
        self.db.change_feed().await
    }

    async fn leader_acquire(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        if D::SINGLE_NODE {
            return Ok(Some(1));
        }
        // One statement: take a free or expired lease (next term), renew our
        // own (same term), or change nothing and return no row.
        let mut db = self.db.autocommit().await?;
        let term = db
            .fetch_optional(
                sql(
                    "INSERT INTO leader_leases AS l (name, holder, term, expires_at) \
                     VALUES ($1, $2, 1, $4) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                       term = l.term + CASE WHEN l.holder = excluded.holder THEN 0 ELSE 1 END, \
                       expires_at = excluded.expires_at \
                     WHERE l.holder = excluded.holder OR l.expires_at < $3 \
                     RETURNING term",
                )
                .bind(name)
                .bind(holder)
                .bind(now)
                .bind(until),
            )
            .await?
            .map(|r| r.get("term"))
            .transpose()?;
        Ok(term)
    }

    async fn leader_resign(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        if D::SINGLE_NODE {
            return Ok(());
        }
        let mut db = self.db.autocommit().await?;
        db.execute(
            sql("UPDATE leader_leases SET expires_at = 0 WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder),
        )
        .await?;
        Ok(())
    }

    async fn instance_heartbeat(
        &self,
        instance: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        if D::SINGLE_NODE {
            return Ok(vec![instance.to_owned()]);
        }
        // One statement: forget registrations that expired, renew ours,
        // read the live ones. The CTEs' changes are not visible to the
        // outer SELECT (one snapshot), hence the expiry filter and the
        // union with our own row.
        let mut db = self.db.autocommit().await?;
        let rows = db
            .fetch_all(
                sql(
                    "WITH gone AS (DELETE FROM instances WHERE expires_at < $2), \
                     me AS (INSERT INTO instances (id, expires_at) VALUES ($1, $3) \
                       ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at \
                       RETURNING id) \
                     SELECT id FROM instances WHERE expires_at >= $2 \
                     UNION SELECT id FROM me ORDER BY id",
                )
                .bind(instance)
                .bind(now)
                .bind(until),
            )
            .await?;
        rows.iter().map(|r| r.get("id")).collect()
    }

    async fn instance_leave(&self, instance: &str) -> Result<(), StoreError> {
        if D::SINGLE_NODE {
            return Ok(());
        }
        let mut db = self.db.autocommit().await?;
        db.execute(sql("DELETE FROM instances WHERE id = $1").bind(instance))
            .await?;
        Ok(())
    }
}
