//! The PostgreSQL adapter: several grove-jobs instances share one database.
//!
//! One pool per process (`pool_max` connections, default
//! [`DEFAULT_POOL_MAX`]); every verb is one statement or one short
//! transaction, and the semantics match the SQLite adapter exactly (the
//! conformance suite runs against both). What differs, and why:
//!
//! - **Concurrency is real.** SQLite has one writer; here writers race.
//!   Saves are `UPDATE … WHERE version = $n` (optimistic concurrency), a
//!   versioned delete is one `DELETE … WHERE version = $n`, and engine state
//!   is merged by one `UPDATE` (`state || patch - removed keys`), so no verb
//!   relies on a read followed by a write.
//! - **Migrations take an advisory lock.** Instances that start together
//!   serialise on `pg_advisory_xact_lock` and each applies only what is still
//!   pending, one migration per transaction (DDL is transactional here).
//! - **Schemas.** [`PostgresOptions::schema`] (or `?schema=` in the URL)
//!   puts every table in one schema via the connection's `search_path`; the
//!   schema is created at migration if missing. Tests use one schema each.
//!
//! - **Instances coordinate here** (`coordination.rs`): triggers NOTIFY a
//!   per-schema channel when configs change and executions become
//!   claimable; a lease row elects the maintenance leader.
//!
//! Each entity family has its own file (`objects.rs`, `tokens.rs`,
//! `grove_data.rs`, `executions.rs`) that
//! implements the family's trait for [`PostgresStore`] and holds its SQL,
//! like the SQLite adapter; a new family adds a file here and a numbered
//! migration under `migrations/postgres/` (listed in [`migrate::POSTGRES`]).

mod coordination;
mod executions;
mod grove_data;
mod objects;
mod tokens;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row};

use crate::migrate::{self, POSTGRES};
use crate::{Store, StoreError, to_millis};

/// Connections per process when the URL does not say (`?pool_max=`).
pub const DEFAULT_POOL_MAX: u32 = 10;

/// How long to wait for a connection (at start: for the server to accept).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The advisory lock key migrations hold ("grove-mg" in ASCII). It is
/// database-wide, so migrations of different schemas in one database also
/// take turns; they are short.
const MIGRATE_LOCK: i64 = 0x6772_6f76_652d_6d67;

/// Where and how to connect; parsed from a `postgres://` URL.
///
/// Besides what libpq-style URLs accept (`sslmode`, `application_name`, …),
/// two parameters are grove-jobs' own and are removed before connecting:
/// `pool_max` (connections per process) and `schema` (where the tables live).
#[derive(Clone)]
pub struct PostgresOptions {
    connect: PgConnectOptions,
    pool_max: u32,
    schema: Option<String>,
}

impl PostgresOptions {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut pool_max = DEFAULT_POOL_MAX;
        let mut schema = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("pool_max", v)) => {
                    pool_max = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        StoreError::Config(format!(
                            "pool_max must be a positive number of connections, not \"{v}\""
                        ))
                    })?;
                }
                Some(("schema", v)) => schema = Some(v.to_owned()),
                _ => rest.push(pair),
            }
        }
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        // sqlx's URL errors do not repeat the URL, so no password leaks here.
        let connect = PgConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?
            .application_name("grove-jobs");
        let options = Self {
            connect,
            pool_max,
            schema: None,
        };
        match schema {
            Some(schema) => options.schema(&schema),
            None => Ok(options),
        }
    }

    /// Connections per process.
    pub fn pool_max(mut self, pool_max: u32) -> Self {
        self.pool_max = pool_max.max(1);
        self
    }

    /// Keeps every table in `schema` (lowercase letters, digits and `_`,
    /// not starting with a digit, at most 63 bytes).
    pub fn schema(mut self, schema: &str) -> Result<Self, StoreError> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Config(format!(
                "bad PostgreSQL schema name \"{schema}\": use lowercase letters, digits and _"
            )));
        }
        self.schema = Some(schema.to_owned());
        Ok(self)
    }

    /// `user@host:port/db` (and the schema): what error messages name.
    /// Never the password.
    pub fn target(&self) -> String {
        let c = &self.connect;
        let host = match c.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", c.get_host(), c.get_port()),
        };
        let mut target = format!(
            "{}@{host}/{}",
            c.get_username(),
            c.get_database().unwrap_or(c.get_username())
        );
        if let Some(schema) = &self.schema {
            target.push_str(&format!(" (schema {schema})"));
        }
        target
    }
}

impl fmt::Debug for PostgresOptions {
    // By hand: `PgConnectOptions`' own Debug prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("target", &self.target())
            .field("pool_max", &self.pool_max)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    schema: Option<String>,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names (see
    /// [`PostgresOptions`] for `pool_max` and `schema`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PostgresOptions::from_url(url)?).await
    }

    pub async fn connect_with(options: PostgresOptions) -> Result<Self, StoreError> {
        let mut connect = options.connect.clone();
        if let Some(schema) = &options.schema {
            connect = connect.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_max)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(connect)
            .await
            .map_err(|e| {
                let why = match e {
                    // sqlx retries refused connections until the timeout
                    // and then reports only the timeout.
                    sqlx::Error::PoolTimedOut => format!(
                        "no connection within {} s (is the server running and reachable?)",
                        ACQUIRE_TIMEOUT.as_secs()
                    ),
                    e => e.to_string(),
                };
                StoreError::Unavailable(format!(
                    "cannot connect to PostgreSQL {}: {why}",
                    options.target()
                ))
            })?;
        Ok(Self {
            pool,
            schema: options.schema,
        })
    }

    async fn schema_version(conn: &mut PgConnection) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            .fetch_one(conn)
            .await?;
        Ok(row.try_get("v")?)
    }

    /// Creates the configured schema unless it exists (checked first, so a
    /// role without CREATE on the database can use a schema made for it).
    async fn create_schema(conn: &mut PgConnection, schema: &str) -> Result<(), StoreError> {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(schema)
                .fetch_one(&mut *conn)
                .await?;
        if !exists {
            // The name is validated by `PostgresOptions::schema`.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<i64, StoreError> {
        loop {
            let mut tx = self.pool.begin().await?;
            // Held until commit or rollback: other instances wait here, then
            // see what this one applied.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATE_LOCK)
                .execute(&mut *tx)
                .await?;
            if let Some(schema) = &self.schema {
                Self::create_schema(&mut tx, schema).await?;
            }
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .execute(&mut *tx)
            .await?;
            let current = Self::schema_version(&mut tx).await?;
            if current > migrate::latest(POSTGRES) {
                return Err(StoreError::Config(format!(
                    "the database schema (version {current}) is newer than this build understands ({}); upgrade grove-jobs",
                    migrate::latest(POSTGRES)
                )));
            }
            // The first listed migration not yet recorded: versions only need
            // to increase, and a gap merged later from another branch is
            // still applied.
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
                .fetch_all(&mut *tx)
                .await?;
            let Some(m) = POSTGRES.iter().find(|m| !applied.contains(&m.version)) else {
                tx.commit().await?;
                return Ok(current);
            };
            sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(to_millis(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
    }

    async fn ping(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::schema_version(&mut conn).await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn seed_mark(&self, key: &str, now: Timestamp) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO seeds (key, applied_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
