//! The PostgreSQL dialect: several grove-jobs instances share one database.
//!
//! One pool per process (`pool_max` connections, default
//! [`DEFAULT_POOL_MAX`]). Every verb's Rust is in `crate::sql`; what this
//! dialect adds, and why:
//!
//! - **Concurrency is real.** SQLite has one writer; here writers race. So
//!   rows a transaction will change are read `FOR UPDATE`, claims and
//!   rescues skip rows another instance holds (`FOR UPDATE SKIP LOCKED`),
//!   and per-config decisions take a transaction-scoped advisory lock.
//! - **Sequence numbers are not committed in order.** Two writers can take
//!   seq 10 and 11 and commit 11 first; a reader that saw 11 as the highest
//!   would skip 10 forever (the all_time watermark, the digest cursor). So
//!   readers of "the highest seq" first take `LOCK TABLE … IN SHARE MODE`.
//! - **Migrations take an advisory lock.** Instances that start together
//!   serialise on `pg_advisory_xact_lock`, one migration per transaction
//!   (DDL is transactional here).
//! - **Schemas.** [`PostgresOptions::schema`] (or `?schema=` in the URL)
//!   puts every table in one schema via the connection's `search_path`; the
//!   schema is created at migration if missing. Tests use one schema each.
//! - **Lists** are bound as arrays (`= ANY($n)`); **JSON** is bound as
//!   `json` text, so an operator's key order survives in `json` columns.
//! - **Instances coordinate** through triggers that NOTIFY a per-schema
//!   channel (migration 5, [`feed`]) and a leader lease row.

mod feed;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::pool::PoolConnection;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgTypeInfo,
};
use sqlx::{PgConnection, Postgres, Row as _, Transaction};

use crate::StoreError;
use crate::coordination::ChangeFeed;
use crate::error::Corrupt;
use crate::migrate::{Migration, POSTGRES};
use crate::sql::{Arg, Dialect, Exec, Row, SqlStore, Statement};

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
            .map_err(|source| StoreError::BadUrl {
                what: "for PostgreSQL".to_owned(),
                source,
            })?
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

/// The store on a PostgreSQL database.
pub type PostgresStore = SqlStore<PostgresDb>;

/// A connection pool to one PostgreSQL database (and schema).
#[derive(Debug, Clone)]
pub struct PostgresDb {
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
            .map_err(|source| StoreError::Connect {
                // sqlx retries refused connections until the timeout and
                // then reports only the timeout: say what that means.
                target: match source {
                    sqlx::Error::PoolTimedOut => format!(
                        "PostgreSQL {} (no connection within {} s: is the server running and reachable?)",
                        options.target(),
                        ACQUIRE_TIMEOUT.as_secs()
                    ),
                    _ => format!("PostgreSQL {}", options.target()),
                },
                source,
            })?;
        Ok(SqlStore::new(PostgresDb {
            pool,
            schema: options.schema,
        }))
    }
}

/// JSON bound as text with the `json` type, so PostgreSQL keeps its key
/// order in `json` columns (and casts it where a column is `jsonb`).
struct JsonText(String);

impl sqlx::Type<Postgres> for JsonText {
    fn type_info() -> PgTypeInfo {
        // `json` is a built-in type: its OID is the same in every database.
        PgTypeInfo::with_oid(Oid(114))
    }
}

impl sqlx::Encode<'_, Postgres> for JsonText {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<IsNull, Box<dyn std::error::Error + Send + Sync>> {
        // The binary form of `json` is its text.
        buf.extend(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

fn query(statement: Statement) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql));
    for arg in statement.args {
        query = match arg {
            Arg::Int(v) => query.bind(v),
            Arg::Real(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
            Arg::Json(text) => query.bind(JsonText(text)),
            Arg::TextList(items) => query.bind(items),
        };
    }
    query
}

/// Statements on one connection: a pooled one, or a transaction.
#[derive(Debug)]
pub struct PgExec<C>(C);

impl<C> Exec for PgExec<C>
where
    C: std::ops::DerefMut<Target = PgConnection> + Send,
{
    type Row = PgRow;

    async fn fetch_all(&mut self, statement: Statement) -> Result<Vec<PgRow>, StoreError> {
        Ok(query(statement).fetch_all(&mut *self.0).await?)
    }

    async fn fetch_optional(&mut self, statement: Statement) -> Result<Option<PgRow>, StoreError> {
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

fn column<T>(row: &PgRow, column: &str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).map_err(|source| {
        Corrupt::Column {
            column: column.to_owned(),
            source,
        }
        .into()
    })
}

impl Row for PgRow {
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
        Ok(column::<Option<Value>>(self, name)?.unwrap_or(Value::Null))
    }
}

impl Dialect for PostgresDb {
    type Conn = PgExec<PoolConnection<Postgres>>;
    type Point = Self::Conn;
    type Auto = PgExec<PoolConnection<Postgres>>;
    type Write = PgExec<Transaction<'static, Postgres>>;

    const NAME: &'static str = "postgres";
    const SINGLE_NODE: bool = false;
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const LOCK_CONFIG: Option<&'static str> =
        Some("pg_advisory_xact_lock(hashtextextended('grove-exec:' || v.column1, 0))");
    const INSERT_IN_WITH: bool = true;
    const ADVANCEMENT_APPLY: &'static str = "INSERT INTO advancement_events (id, sprout_id, \
        from_tier, to_tier, rule_id, run_id, signals, at, dry_run) \
        SELECT $1 || ':' || (c.v->>'s'), c.v->>'s', c.v->>'f', c.v->>'t', c.v->>'r', $1, \
          c.v->'g', $2, $3 \
        FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS c(v, k) \
        WHERE EXISTS (SELECT 1 FROM sprouts p WHERE p.id = c.v->>'s' AND p.tier = c.v->>'f') \
          AND NOT EXISTS (SELECT 1 FROM advancement_events e WHERE e.sprout_id = c.v->>'s' \
            AND e.rule_id = c.v->>'r' AND e.from_tier = c.v->>'f' AND NOT e.dry_run) \
        ORDER BY c.k \
        ON CONFLICT DO NOTHING \
        RETURNING sprout_id";
    const MIGRATIONS: &'static [Migration] = POSTGRES;

    fn in_list(param: usize) -> String {
        format!("= ANY(${param})")
    }

    fn json_at(column: &str, path: &[String]) -> String {
        // jsonb, so that equal values group together whatever their spacing.
        format!("({column}::jsonb #> '{{{}}}')::text", path.join(","))
    }

    fn lock_sequence(table: &str) -> Option<String> {
        Some(format!("LOCK TABLE {table} IN SHARE MODE"))
    }

    async fn read(&self) -> Result<Self::Conn, StoreError> {
        Ok(PgExec(self.pool.acquire().await?))
    }

    async fn read_point(&self) -> Result<Self::Point, StoreError> {
        self.read().await
    }

    async fn autocommit(&self) -> Result<Self::Auto, StoreError> {
        Ok(PgExec(self.pool.acquire().await?))
    }

    async fn begin(&self) -> Result<Self::Write, StoreError> {
        Ok(PgExec(self.pool.begin().await?))
    }

    async fn commit(&self, tx: Self::Write) -> Result<(), StoreError> {
        Ok(tx.0.commit().await?)
    }

    async fn migration_lock(&self, tx: &mut Self::Write) -> Result<(), StoreError> {
        // Held until commit or rollback: other instances wait here, then see
        // what this one applied.
        tx.execute(crate::sql::sql("SELECT pg_advisory_xact_lock($1)").bind(MIGRATE_LOCK))
            .await?;
        if let Some(schema) = &self.schema {
            // Checked first, so a role without CREATE on the database can use
            // a schema made for it.
            let exists: bool = crate::sql::scalar(
                tx,
                crate::sql::sql(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS e",
                )
                .bind(schema),
                "e",
            )
            .await?;
            if !exists {
                // The name is validated by `PostgresOptions::schema`.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                    .execute(&mut *tx.0)
                    .await?;
            }
        }
        Ok(())
    }

    async fn change_feed(&self) -> Result<Box<dyn ChangeFeed>, StoreError> {
        Ok(Box::new(feed::PgChangeFeed::listen(&self.pool).await?))
    }

    async fn change_prune(&self) -> Result<(), StoreError> {
        // NOTIFY keeps nothing to prune.
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
