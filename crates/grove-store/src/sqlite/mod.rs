//! The embedded SQLite adapter.
//!
//! SQLite is one node: there is no LISTEN/NOTIFY and only one writer at a
//! time. Writes therefore go through a pool of exactly one connection (so
//! writers queue in-process instead of failing with SQLITE_BUSY), reads use
//! a separate pool; WAL lets readers proceed while the writer writes. The
//! busy timeout covers the remaining case: another process (a CLI command)
//! writing to the same file.

mod executions;
mod grove_data;
mod objects;
mod tokens;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Executor, Row};

use crate::migrate::{self, SQLITE};
use crate::{Store, StoreError, to_millis};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| StoreError::Config(format!("bad SQLite path \"{path}\": {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open SQLite database \"{path}\": {e}"))
            })?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open SQLite database \"{path}\": {e}"))
            })?;
        Ok(Self { read, write })
    }

    /// The benchmark floor: one `GROUP BY` over every signal, as the
    /// aggregation would read them, with nothing written. Returns (groups,
    /// signals).
    pub async fn signal_group_scan(&self) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS groups, COALESCE(SUM(n), 0) AS signals FROM \
             (SELECT sprout_id, kind, COUNT(*) AS n, MAX(at) AS last_seen FROM signals \
              GROUP BY sprout_id, kind)",
        )
        .fetch_one(&self.read)
        .await?;
        let groups: i64 = row.try_get("groups")?;
        let signals: i64 = row.try_get("signals")?;
        Ok((groups.max(0) as u64, signals.max(0) as u64))
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(&self.write)
            .await?;
        Ok(row.try_get("v")?)
    }
}

/// One process: the single-node defaults (no feed, always the leader).
impl crate::CoordinationStore for SqliteStore {}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<i64, StoreError> {
        self.write
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .await?;
        let current = self.schema_version().await?;
        if current > migrate::latest(SQLITE) {
            return Err(StoreError::Config(format!(
                "the database schema (version {current}) is newer than this build understands ({}); upgrade grove-jobs",
                migrate::latest(SQLITE)
            )));
        }
        // Every listed migration not yet recorded runs, in list order: versions
        // only need to increase, and a gap (a version merged later from
        // another branch) is applied when it appears.
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&self.write)
            .await?;
        for m in SQLITE.iter().filter(|m| !applied.contains(&m.version)) {
            let mut tx = self.write.begin().await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(to_millis(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        self.schema_version().await
    }

    async fn ping(&self) -> Result<i64, StoreError> {
        self.schema_version().await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn seed_mark(&self, key: &str, now: Timestamp) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO seeds (key, applied_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(to_millis(now))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
