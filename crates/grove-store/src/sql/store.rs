//! The [`Store`] trait's own verbs: migrations, the round trip, seeds.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Dialect, Exec, SqlStore, scalar, sql};
use crate::migrate;
use crate::{Store, StoreError};

/// The schema version: the highest migration applied.
async fn schema_version<E: Exec>(exec: &mut E) -> Result<i64, StoreError> {
    scalar(
        exec,
        sql("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM schema_migrations"),
        "v",
    )
    .await
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    async fn migrate(&self) -> Result<i64, StoreError> {
        let latest = migrate::latest(D::MIGRATIONS);
        // One migration per transaction, under the dialect's lock: instances
        // starting together take turns, and each applies what is still
        // pending. Every listed version not yet recorded runs, in list
        // order, so a gap merged later from another branch is applied too.
        loop {
            let mut tx = self.db.begin().await?;
            self.db.migration_lock(&mut tx).await?;
            tx.execute_script(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .await?;
            let current = schema_version(&mut tx).await?;
            if current > latest {
                return Err(StoreError::Config(format!(
                    "the database schema (version {current}) is newer than this build understands ({latest}); upgrade grove-jobs"
                )));
            }
            let applied: Vec<i64> = tx
                .fetch_all(sql("SELECT version FROM schema_migrations"))
                .await?
                .iter()
                .map(|r| super::RowExt::get(r, "version"))
                .collect::<Result<_, _>>()?;
            let Some(m) = D::MIGRATIONS.iter().find(|m| !applied.contains(&m.version)) else {
                self.db.commit(tx).await?;
                return Ok(current);
            };
            tx.execute_script(m.sql).await?;
            tx.execute(
                sql(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(Timestamp::now()),
            )
            .await?;
            self.db.commit(tx).await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
    }

    async fn ping(&self) -> Result<i64, StoreError> {
        let mut db = self.db.read().await?;
        schema_version(&mut db).await
    }

    fn backend(&self) -> &'static str {
        D::NAME
    }

    async fn seed_mark(&self, key: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut db = self.db.autocommit().await?;
        let inserted = db
            .execute(
                sql("INSERT INTO seeds (key, applied_at) VALUES ($1, $2) \
                     ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(now),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn close(&self) {
        self.db.close().await;
    }
}
