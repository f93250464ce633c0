//! The one implementation of every store verb, over a [`Dialect`].
//!
//! Each verb's Rust — its transaction, binds, row mapping and outcome
//! logic — is written once, in this module's files, against a small seam:
//!
//! - a [`Statement`]: SQL text and its bound [`Arg`]s;
//! - a [`Row`]: typed column reads ([`RowExt::get`]);
//! - [`Exec`]: runs statements, on a read connection or a write transaction.
//!
//! A backend (`sqlite/`, `postgres/`) implements the seam for its sqlx
//! driver and names, in its [`Dialect`], only what differs between
//! databases: a few SQL fragments and statements, row locking, how a list
//! is bound, its migrations and its change feed. SQL that both databases
//! accept is written inline here with numbered parameters (`$1`), which
//! SQLite accepts too — as *named* parameters, which SQLite numbers in
//! the order they first appear; its executors (sqlx's, and the writer's)
//! bind each by its name instead, so `$n` is the n-th argument wherever it
//! first appears. Instants are integer unix milliseconds in both.
//!
//! Why a seam of our own rather than generics over `sqlx::Database`: the
//! trait bounds those need (per bound type, per decoded type, per
//! executor) would be restated on every verb, and `sqlx::Any` has no JSON
//! or list types. This seam is five methods a backend implements once.

mod access;
mod archive;
mod coordination;
mod executions;
mod grove_data;
mod objects;
mod store;
mod tokens;

use std::borrow::Cow;
use std::future::Future;

use grove_core::validate::Choice;
use jiff::Timestamp;
use serde_json::Value;

use crate::StoreError;
use crate::coordination::ChangeFeed;
use crate::error::Corrupt;
use crate::migrate::Migration;

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(bool),
    /// JSON, as its text: serialised once here, so key order survives on
    /// every backend (PostgreSQL binds it as `json`).
    Json(String),
    /// A list of texts, for a [`Dialect::in_list`] fragment.
    TextList(Vec<String>),
}

impl Arg {
    pub fn json(value: &Value) -> Self {
        Self::Json(value.to_string())
    }
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),+ $(,)?) => {
        $(impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                $e
            }
        })+
    };
}

arg_from!(
    i64 => |v| Arg::Int(Some(v)),
    u32 => |v| Arg::Int(Some(i64::from(v))),
    u64 => |v| Arg::Int(Some(i64::try_from(v).unwrap_or(i64::MAX))),
    Option<i64> => |v| Arg::Int(v),
    Option<u64> => |v| Arg::Int(v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
    Option<f64> => |v| Arg::Real(v),
    bool => |v| Arg::Bool(v),
    &str => |v| Arg::Text(Some(v.to_owned())),
    String => |v| Arg::Text(Some(v)),
    &String => |v| Arg::Text(Some(v.clone())),
    Option<&str> => |v| Arg::Text(v.map(str::to_owned)),
    Option<String> => |v| Arg::Text(v),
    &Option<String> => |v| Arg::Text(v.clone()),
    Timestamp => |v| Arg::Int(Some(v.as_millisecond())),
    Option<Timestamp> => |v| Arg::Int(v.map(|t| t.as_millisecond())),
    &[String] => |v| Arg::TextList(v.to_vec()),
    Vec<String> => |v| Arg::TextList(v),
);

/// SQL text and its arguments, in parameter order (`$1` is the first).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub args: Vec<Arg>,
}

/// A statement with no arguments yet.
pub fn sql(text: impl Into<Cow<'static, str>>) -> Statement {
    Statement {
        sql: text.into(),
        args: Vec::new(),
    }
}

impl Statement {
    /// Binds the next parameter.
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds the next parameter as JSON.
    pub fn bind_json(mut self, value: &Value) -> Self {
        self.args.push(Arg::json(value));
        self
    }
}

/// One result row, read by column name. Backends implement the primitive
/// reads; [`RowExt::get`] builds typed reads on them.
pub trait Row: Send + Sync {
    fn int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn real(&self, column: &str) -> Result<Option<f64>, StoreError>;
    fn text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn boolean(&self, column: &str) -> Result<bool, StoreError>;
    /// A JSON column (TEXT on SQLite, `json`/`jsonb` on PostgreSQL); SQL
    /// NULL reads as `Value::Null`.
    fn json(&self, column: &str) -> Result<Value, StoreError>;
}

/// A type one column reads as.
pub trait Column: Sized {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError>;
}

fn required<T>(value: Option<T>, column: &str) -> Result<T, StoreError> {
    value.ok_or_else(|| {
        Corrupt::Null {
            column: column.to_owned(),
        }
        .into()
    })
}

fn instant(millis: i64, column: &str) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(millis).map_err(|source| {
        Corrupt::Timestamp {
            column: column.to_owned(),
            millis,
            source,
        }
        .into()
    })
}

impl Column for Option<i64> {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        row.int(column)
    }
}

impl Column for i64 {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        required(row.int(column)?, column)
    }
}

/// Counts and small numbers: negative or oversized values read as 0.
impl Column for u32 {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        Ok(u32::try_from(i64::read(row, column)?).unwrap_or(0))
    }
}

impl Column for u64 {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        Ok(u64::try_from(i64::read(row, column)?).unwrap_or(0))
    }
}

impl Column for Option<u64> {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        Ok(row.int(column)?.map(|v| u64::try_from(v).unwrap_or(0)))
    }
}

impl Column for Option<f64> {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        row.real(column)
    }
}

impl Column for Option<String> {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        row.text(column)
    }
}

impl Column for String {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        required(row.text(column)?, column)
    }
}

impl Column for bool {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        row.boolean(column)
    }
}

impl Column for Value {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        row.json(column)
    }
}

impl Column for Timestamp {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        instant(i64::read(row, column)?, column)
    }
}

impl Column for Option<Timestamp> {
    fn read(row: &dyn Row, column: &str) -> Result<Self, StoreError> {
        row.int(column)?.map(|ms| instant(ms, column)).transpose()
    }
}

/// Typed reads on any [`Row`].
pub trait RowExt: Row + Sized {
    fn get<T: Column>(&self, column: &str) -> Result<T, StoreError> {
        T::read(self, column)
    }

    /// A text column holding one of an enum's spellings.
    fn choice<T: Choice>(&self, column: &str) -> Result<T, StoreError> {
        let text: String = self.get(column)?;
        T::from_name(&text).ok_or_else(|| {
            Corrupt::UnknownText {
                column: column.to_owned(),
                kind: std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("value"),
                text,
            }
            .into()
        })
    }

    /// A JSON column decoded into `T`.
    fn decode<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, StoreError> {
        serde_json::from_value(self.json(column)?).map_err(|source| {
            Corrupt::Json {
                column: column.to_owned(),
                source,
            }
            .into()
        })
    }
}

impl<R: Row> RowExt for R {}

/// Runs statements on one connection (a read connection or a write
/// transaction).
pub trait Exec: Send {
    type Row: Row;

    fn fetch_all(
        &mut self,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;

    fn fetch_optional(
        &mut self,
        statement: Statement,
    ) -> impl Future<Output = Result<Option<Self::Row>, StoreError>> + Send;

    /// Returns the number of rows changed.
    fn execute(
        &mut self,
        statement: Statement,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Runs a script of several statements without arguments (migrations).
    fn execute_script(
        &mut self,
        script: &'static str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The one row a statement must return.
pub async fn fetch_one<E: Exec>(exec: &mut E, statement: Statement) -> Result<E::Row, StoreError> {
    exec.fetch_optional(statement)
        .await?
        .ok_or(StoreError::NotFound)
}

/// One column of the one row a statement returns.
pub async fn scalar<E: Exec, T: Column>(
    exec: &mut E,
    statement: Statement,
    column: &str,
) -> Result<T, StoreError> {
    fetch_one(exec, statement).await?.get(column)
}

/// What differs between databases. Everything else is in this module.
pub trait Dialect: Send + Sync + std::fmt::Debug + 'static {
    /// A pooled connection for reads.
    type Conn: Exec;
    /// A connection for point reads: a few rows by key, short enough to
    /// run on the caller's thread where the driver allows it.
    type Point: Exec;
    /// A connection for writes of a single statement (each commits on its
    /// own).
    type Auto: Exec;
    /// A write transaction.
    type Write: Exec;

    /// "sqlite", "postgres".
    const NAME: &'static str;
    /// One process owns the database (SQLite): it is always the leader and,
    /// at start-up, every running attempt was left by a crash.
    const SINGLE_NODE: bool;
    /// Appended to a `SELECT` that reads rows the transaction will change,
    /// so concurrent writers wait (`FOR UPDATE`); empty where the database
    /// has a single writer.
    const LOCK_ROWS: &'static str;
    /// Like [`Self::LOCK_ROWS`], but rows another transaction holds are
    /// skipped instead of waited for (`FOR UPDATE SKIP LOCKED`).
    const SKIP_LOCKED: &'static str;
    /// Serialises decisions about one job config (overlap, `maxConcurrent`)
    /// until the transaction ends: an expression locking the config id
    /// `v.column1`, evaluated for each row of a `VALUES` list. `None` where
    /// the database has a single writer.
    const LOCK_CONFIG: Option<&'static str>;
    /// A `WITH` may hold an `INSERT` (PostgreSQL's data-modifying `WITH`):
    /// two inserts then go as one statement, which commits on its own, in
    /// one round trip instead of four (`BEGIN`, each insert, `COMMIT`).
    /// Where the database is in this process (SQLite) a transaction costs
    /// no round trip, and a `WITH` cannot hold an `INSERT` anyway.
    const INSERT_IN_WITH: bool;
    /// Records each advancement candidate of a batch bound as JSON
    /// (`$4`: `[{"s": sprout, "f": from, "t": to, "r": rule, "g": signals}]`)
    /// unless the sprout moved or the rule already applied; returns the
    /// sprout ids recorded. JSON table functions differ per database.
    const ADVANCEMENT_APPLY: &'static str;
    /// The schema, oldest first.
    const MIGRATIONS: &'static [Migration];

    /// The test, after a column, that it is one of the texts of parameter
    /// `$param` (bound as [`Arg::TextList`]): `= ANY($3)`,
    /// `IN (SELECT value FROM json_each($3))`.
    fn in_list(param: usize) -> String;

    /// The JSON text at `path` in the JSON column `column`, NULL where
    /// there is no such field (a JSON `null` is the text `null`). The
    /// segments are those of a [`crate::FieldPath`], safe in SQL text.
    fn json_at(column: &str, path: &[String]) -> String;

    /// Run first in a transaction that reads the highest sequence number of
    /// `table` (and rows up to it), where sequence values can commit out of
    /// order: PostgreSQL waits for in-flight inserts with
    /// `LOCK TABLE … IN SHARE MODE`. `None`: reads need no transaction.
    fn lock_sequence(table: &str) -> Option<String>;

    /// A connection for reads.
    fn read(&self) -> impl Future<Output = Result<Self::Conn, StoreError>> + Send;
    /// A connection for point reads ([`Self::Point`]).
    fn read_point(&self) -> impl Future<Output = Result<Self::Point, StoreError>> + Send;
    /// A connection for a write of one statement, which commits on its own:
    /// no `BEGIN`/`COMMIT` round trips around it.
    fn autocommit(&self) -> impl Future<Output = Result<Self::Auto, StoreError>> + Send;
    fn begin(&self) -> impl Future<Output = Result<Self::Write, StoreError>> + Send;
    fn commit(&self, tx: Self::Write) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Taken first in a migration transaction, so instances starting
    /// together migrate one at a time (creates the schema if needed).
    fn migration_lock(
        &self,
        tx: &mut Self::Write,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A feed of changes made by every process on this database.
    fn change_feed(&self) -> impl Future<Output = Result<Box<dyn ChangeFeed>, StoreError>> + Send;

    /// Drops bookkeeping the change feed no longer needs (maintenance).
    fn change_prune(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// A store on a SQL database: every verb, over dialect `D`.
#[derive(Debug)]
pub struct SqlStore<D: Dialect> {
    pub(crate) db: D,
}

impl<D: Dialect> SqlStore<D> {
    pub(crate) fn new(db: D) -> Self {
        Self { db }
    }
}

/// Rows one multi-row insert carries at most: at 20 parameters a row (the
/// widest, an execution) 20,000 parameters, below both databases' limits
/// (SQLite 32,766; PostgreSQL 65,535).
pub(crate) const BULK_ROWS: usize = 1000;

/// Placeholders `($first, …), (…)` for `rows` rows of `columns`
/// parameters each: a multi-row `VALUES` list.
pub(crate) fn values(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (0..columns)
                .map(|c| format!("${}", first + r * columns + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($first, …, $(first + n - 1))`: a list of `n` parameters of their own.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Counts read as `i64` and reported as `u64`.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
