//! The embedded SQLite dialect: one file, one process.
//!
//! SQLite has one writer at a time and no LISTEN/NOTIFY. So:
//!
//! - Writes go through exactly one connection, each in a `BEGIN IMMEDIATE`
//!   transaction: writers queue in-process instead of failing with
//!   SQLITE_BUSY, and a transaction that reads before it writes never has
//!   to be upgraded. Its statements run on the caller's thread, with no
//!   hand-off to a worker thread ([`writer`]). Reads run beside the writer
//!   (WAL): point reads by key on a few read-only connections of our own,
//!   also on the caller's thread ([`readers`]); scans and pages on a pool
//!   of sqlx connections, whose worker threads a long read may hold
//!   without holding up the async threads. The busy timeout covers the
//!   remaining case: another process (a CLI command) writing to the file.
//! - With a single writer no row or config locks are needed
//!   ([`Dialect::LOCK_ROWS`] and friends are empty), and sequence numbers
//!   commit in order.
//! - Lists are bound as one JSON array and read with `json_each`, so a
//!   batch never runs into the bound-parameter limit.
//! - The change feed reads a `changes` table written by triggers
//!   (migration 6) and the writer's `PRAGMA data_version` when the database
//!   file changes; see [`feed`].

mod checkpoint;
mod connection;
mod feed;
mod readers;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, SqliteConnection};

use crate::StoreError;
use crate::coordination::ChangeFeed;
use crate::error::Corrupt;
use crate::migrate::{Migration, SQLITE};
use crate::sql::{Arg, Dialect, Exec, Row, SqlStore, Statement};
use readers::{ReaderExec, Readers};
use writer::{Writer, WriterExec};

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The store on an SQLite file.
pub type SqliteStore = SqlStore<SqliteDb>;

/// Connections to one SQLite file.
#[derive(Debug)]
pub struct SqliteDb {
    path: String,
    read: SqlitePool,
    point: Readers,
    write: Writer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`. Does not migrate.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|source| StoreError::BadUrl {
                what: format!("for the SQLite file \"{path}\""),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let connect = |source| StoreError::Connect {
            target: format!("SQLite file \"{path}\""),
            source,
        };
        // Opened first: it creates the file and sets WAL mode.
        let write = Writer::open(path, BUSY_TIMEOUT).map_err(connect)?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(connect)?;
        Ok(SqlStore::new(SqliteDb {
            path: path.to_owned(),
            read,
            point: Readers::new(path, BUSY_TIMEOUT),
            write,
        }))
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
        .fetch_one(&self.db.read)
        .await?;
        let groups: i64 = row.try_get("groups")?;
        let signals: i64 = row.try_get("signals")?;
        Ok((crate::sql::count(groups), crate::sql::count(signals)))
    }
}

fn query(
    statement: Statement,
) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql));
    for arg in statement.args {
        query = match arg {
            Arg::Int(v) => query.bind(v),
            Arg::Real(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
            Arg::Json(text) => query.bind(text),
            // Read with `json_each` (see `in_list`).
            Arg::TextList(items) => query.bind(Value::from(items).to_string()),
        };
    }
    query
}

/// Statements on a pooled read connection.
#[derive(Debug)]
pub struct SqliteExec<C>(C);

impl<C> Exec for SqliteExec<C>
where
    C: std::ops::DerefMut<Target = SqliteConnection> + Send,
{
    type Row = SqliteRow;

    async fn fetch_all(&mut self, statement: Statement) -> Result<Vec<SqliteRow>, StoreError> {
        Ok(query(statement).fetch_all(&mut *self.0).await?)
    }

    async fn fetch_optional(
        &mut self,
        statement: Statement,
    ) -> Result<Option<SqliteRow>, StoreError> {
        Ok(query(statement).fetch_optional(&mut *self.0).await?)
    }

    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        Ok(query(statement)
            .execute(&mut *self.0)
            .await?
            .rows_affected())
    }

    async fn execute_script(&mut self, script: &'static str) -> Result<(), StoreError> {
        sqlx::raw_sql(script).execute(&mut *self.0).await?;
        Ok(())
    }
}

fn column<T>(row: &SqliteRow, column: &str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    // Unchecked: SQLite's types are per value, not per column (an
    // expression's type is whatever its value is).
    row.try_get_unchecked(column).map_err(|source| {
        Corrupt::Column {
            column: column.to_owned(),
            source,
        }
        .into()
    })
}

impl Row for SqliteRow {
    fn int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        column(self, name)
    }

    fn real(&self, name: &str) -> Result<Option<f64>, StoreError> {
        column(self, name)
    }

    fn text(&self, name: &str) -> Result<Option<String>, StoreError> {
        column(self, name)
    }

    fn boolean(&self, name: &str) -> Result<bool, StoreError> {
        column(self, name)
    }

    fn json(&self, name: &str) -> Result<Value, StoreError> {
        json_text(name, column(self, name)?)
    }
}

/// A JSON column as SQLite stores it, TEXT (NULL reads as `Value::Null`).
fn json_text(column: &str, text: Option<String>) -> Result<Value, StoreError> {
    let Some(text) = text else {
        return Ok(Value::Null);
    };
    serde_json::from_str(&text).map_err(|source| {
        Corrupt::Json {
            column: column.to_owned(),
            source,
        }
        .into()
    })
}

impl Dialect for SqliteDb {
    type Conn = SqliteExec<PoolConnection<Sqlite>>;
    type Point = ReaderExec;
    type Auto = WriterExec;
    type Write = WriterExec;

    const NAME: &'static str = "sqlite";
    const SINGLE_NODE: bool = true;
    const LOCK_ROWS: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const LOCK_CONFIG: Option<&'static str> = None;
    const INSERT_IN_WITH: bool = false;
    const ADVANCEMENT_APPLY: &'static str = "INSERT INTO advancement_events (id, sprout_id, \
        from_tier, to_tier, rule_id, run_id, signals, at, dry_run) \
        SELECT $1 || ':' || c.s, c.s, c.f, c.t, c.r, $1, c.g, $2, $3 FROM \
          (SELECT key AS k, value ->> '$.s' AS s, value ->> '$.f' AS f, value ->> '$.t' AS t, \
           value ->> '$.r' AS r, json(value -> '$.g') AS g FROM json_each($4)) c \
        WHERE EXISTS (SELECT 1 FROM sprouts p WHERE p.id = c.s AND p.tier = c.f) \
          AND NOT EXISTS (SELECT 1 FROM advancement_events e WHERE e.sprout_id = c.s \
            AND e.rule_id = c.r AND e.from_tier = c.f AND e.dry_run = FALSE) \
        ORDER BY c.k \
        ON CONFLICT DO NOTHING \
        RETURNING sprout_id";
    const MIGRATIONS: &'static [Migration] = SQLITE;

    fn in_list(param: usize) -> String {
        format!("IN (SELECT value FROM json_each(${param}))")
    }

    fn json_at(column: &str, path: &[String]) -> String {
        // `->` answers JSON text (`json_extract` answers SQL values, and
        // `true` would read as 1).
        format!("{column} -> '$.{}'", path.join("."))
    }

    fn lock_sequence(_table: &str) -> Option<String> {
        None
    }

    async fn read(&self) -> Result<Self::Conn, StoreError> {
        Ok(SqliteExec(self.read.acquire().await?))
    }

    async fn read_point(&self) -> Result<Self::Point, StoreError> {
        self.point.acquire().await
    }

    async fn autocommit(&self) -> Result<Self::Auto, StoreError> {
        self.write.autocommit().await
    }

    async fn begin(&self) -> Result<Self::Write, StoreError> {
        self.write.begin().await
    }

    async fn commit(&self, tx: Self::Write) -> Result<(), StoreError> {
        tx.commit().await
    }

    async fn migration_lock(&self, _tx: &mut Self::Write) -> Result<(), StoreError> {
        // BEGIN IMMEDIATE already holds the database's one write lock.
        Ok(())
    }

    async fn change_feed(&self) -> Result<Box<dyn ChangeFeed>, StoreError> {
        Ok(Box::new(
            feed::SqliteFeed::start(&self.path, self.point.clone(), self.write.clone()).await?,
        ))
    }

    async fn change_prune(&self) -> Result<(), StoreError> {
        // A cancel request matters only while its run is running (while it
        // has a running attempt: the attempts' index finds those, where the
        // executions have none by status).
        self.autocommit()
            .await?
            .execute(crate::sql::sql(
                "DELETE FROM changes WHERE topic = 'cancel' AND subject NOT IN \
                 (SELECT execution_id FROM execution_attempts WHERE status = 'running')",
            ))
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.read.close().await;
        self.point.close();
        self.write.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store as _;

    /// Pruning the change feed keeps the cancel requests of runs still
    /// running, and only those.
    #[tokio::test]
    async fn pruning_keeps_the_cancel_requests_of_running_runs_only() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.db");
        let path = path.to_str().expect("utf-8");
        let store = SqliteStore::open(path).await.expect("open");
        store.migrate().await.expect("migrate");
        let db = rusqlite::Connection::open(path).expect("file");
        db.execute_batch(
            "INSERT INTO executions (id, config_id, trigger, status, created_at, available_at, \
             max_concurrent, config_version, payload, retry) VALUES \
             ('on', 'c', 'manual', 'running', 0, 0, 1, 1, '{}', '{}'), \
             ('off', 'c', 'manual', 'cancelled', 0, 0, 1, 1, '{}', '{}'); \
             INSERT INTO execution_attempts (execution_id, attempt, status, started_at) VALUES \
             ('on', 1, 'running', 0), ('off', 1, 'cancelled', 0); \
             INSERT INTO changes (seq, topic, subject) VALUES \
             (1, 'cancel', 'on'), (2, 'cancel', 'off'), (3, 'config', 'c');",
        )
        .expect("rows");
        store.db.change_prune().await.expect("prune");
        let mut kept = db
            .prepare("SELECT topic, subject FROM changes ORDER BY seq")
            .expect("select");
        let kept: Vec<(String, String)> = kept
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("read");
        assert_eq!(
            kept,
            [
                ("cancel".to_owned(), "on".to_owned()),
                ("config".to_owned(), "c".to_owned())
            ]
        );
        store.db.close().await;
    }
}
