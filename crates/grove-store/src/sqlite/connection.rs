//! One rusqlite connection as the store's statements use it, on the
//! caller's thread: the writer's ([`super::writer`]) and each reader's
//! ([`super::readers`]).
//!
//! sqlx runs each SQLite connection on a worker thread of its own and
//! hands it every statement over a channel: two thread wake-ups per
//! statement, which profiles of the throughput benchmark put at a quarter
//! to a third of all CPU time (futex waits and wake-ups), more than SQLite
//! itself spent. Here a statement runs where it is asked for, with no
//! hand-off at all.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::config::DbConfig;
use rusqlite::types::Value as Cell;
use serde_json::Value;

use crate::StoreError;
use crate::error::Corrupt;
use crate::sql::{Arg, Row, Statement};

/// Prepared statements kept per connection: the distinct texts of the
/// verbs, with the multi-row variants of the batches (the throughput
/// benchmark ran about 860 distinct texts; at 512 the cache evicted and
/// statements were parsed again, about 5 % of its CPU time).
const CACHED_STATEMENTS: usize = 2048;

/// An open connection, and which argument each statement's parameters
/// take.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) db: Connection,
    /// Per statement text, the argument (1-based; 0: none, NULL) of each
    /// parameter in SQLite's order. Worked out once per text: SQLite finds
    /// a parameter's name by a walk of the list, so naming every parameter
    /// of a multi-row insert on every run would cost its square.
    bindings: HashMap<String, Arc<[usize]>>,
}

impl Conn {
    pub(crate) fn new(db: Connection) -> rusqlite::Result<Self> {
        db.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        // The query planner's stability guarantee: plans do not depend on
        // the values bound. Without it SQLite plans a statement again
        // whenever a value it may plan by is bound anew, as a `LIMIT $2`
        // is on every claim: the prepared statement is discarded and its
        // text parsed on every run (3 % of the throughput benchmark's
        // CPU time, all of it on the writer). Nothing here gains from
        // value-dependent plans: the store runs no `ANALYZE`.
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        Ok(Self {
            db,
            bindings: HashMap::new(),
        })
    }

    /// Runs statements without arguments. A single statement (the
    /// writer's `BEGIN`, `SAVEPOINT`, `RELEASE` and `COMMIT`, several per
    /// transaction) is prepared once and kept: SQLite parses a script anew
    /// on every call.
    pub(crate) fn batch(&mut self, script: &str) -> Result<(), StoreError> {
        log_statement(script);
        if script.contains(';') {
            return Ok(self.db.execute_batch(script).map_err(driver)?);
        }
        Ok(self.one(script).map_err(driver)?)
    }

    /// Runs one statement without arguments, prepared once.
    pub(crate) fn one(&mut self, statement: &str) -> rusqlite::Result<()> {
        self.db.prepare_cached(statement)?.raw_execute().map(|_| ())
    }

    /// Runs `statement`, handing each row to `row` (which says whether to
    /// go on), and returns the number of rows changed.
    pub(crate) fn run(
        &mut self,
        statement: Statement,
        row: &mut impl FnMut(CopiedRow) -> bool,
    ) -> Result<u64, StoreError> {
        log_statement(&statement.sql);
        let mut prepared = self.db.prepare_cached(&statement.sql).map_err(driver)?;
        let order = match self.bindings.get(&*statement.sql) {
            Some(order) => order.clone(),
            None => {
                let order = parameter_order(&prepared)?;
                if self.bindings.len() >= CACHED_STATEMENTS {
                    self.bindings.clear();
                }
                self.bindings
                    .insert(statement.sql.clone().into_owned(), order.clone());
                order
            }
        };
        let cells: Vec<Cell> = statement.args.into_iter().map(cell).collect();
        for (i, n) in order.iter().enumerate() {
            let value = n
                .checked_sub(1)
                .and_then(|n| cells.get(n))
                .unwrap_or(&Cell::Null);
            prepared.raw_bind_parameter(i + 1, value).map_err(driver)?;
        }
        let columns: Arc<[String]> = prepared
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = prepared.raw_query();
        while let Some(r) = rows.next().map_err(driver)? {
            let cells = (0..columns.len())
                .map(|i| r.get::<_, Cell>(i))
                .collect::<Result<Vec<Cell>, _>>()
                .map_err(driver)?;
            if !row(CopiedRow {
                columns: columns.clone(),
                cells,
            }) {
                break;
            }
        }
        drop(rows);
        drop(prepared);
        Ok(self.db.changes())
    }

    /// Every row of `statement`.
    pub(crate) fn fetch_all(&mut self, statement: Statement) -> Result<Vec<CopiedRow>, StoreError> {
        let mut all = Vec::new();
        self.run(statement, &mut |row| {
            all.push(row);
            true
        })?;
        Ok(all)
    }

    /// The first row of `statement`, if any.
    pub(crate) fn fetch_optional(
        &mut self,
        statement: Statement,
    ) -> Result<Option<CopiedRow>, StoreError> {
        let mut first = None;
        self.run(statement, &mut |row| {
            first = Some(row);
            false
        })?;
        Ok(first)
    }
}

/// An argument as SQLite stores it.
fn cell(arg: Arg) -> Cell {
    match arg {
        Arg::Int(v) => v.map_or(Cell::Null, Cell::Integer),
        Arg::Real(v) => v.map_or(Cell::Null, Cell::Real),
        Arg::Text(v) => v.map_or(Cell::Null, Cell::Text),
        Arg::Bool(v) => Cell::Integer(i64::from(v)),
        Arg::Json(text) => Cell::Text(text),
        // Read with `json_each` (see `Dialect::in_list`).
        Arg::TextList(items) => Cell::Text(Value::from(items).to_string()),
    }
}

/// Reports each statement at TRACE level, as sqlx's `sqlx::query` events
/// do for its connections (the benchmark counts both).
pub(crate) fn log_statement(text: &str) {
    tracing::trace!(target: "grove_store::statement", { db.statement = text }, "statement");
}

/// The argument each parameter of `statement` takes, as sqlx binds them:
/// `$3` (or `?3`) the third wherever it appears (SQLite itself numbers
/// named parameters by first use), an unnumbered `?` the next one.
fn parameter_order(statement: &rusqlite::Statement<'_>) -> Result<Arc<[usize]>, StoreError> {
    let mut next = 0;
    (1..=statement.parameter_count())
        .map(|i| match statement.parameter_name(i) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| StoreError::Config(format!("unsupported SQL parameter {name}"))),
            None => {
                next += 1;
                Ok(next)
            }
        })
        .collect()
}

/// A row read, with its values copied out.
#[derive(Debug, Clone)]
pub struct CopiedRow {
    columns: Arc<[String]>,
    cells: Vec<Cell>,
}

impl CopiedRow {
    fn cell(&self, column: &str) -> Result<&Cell, StoreError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .map(|i| &self.cells[i])
            .ok_or_else(|| unreadable(column, "no such column in the result"))
    }
}

/// A column whose value cannot be read as asked.
fn unreadable(column: &str, why: &str) -> StoreError {
    Corrupt::Column {
        column: column.to_owned(),
        source: sqlx::Error::Decode(why.into()),
    }
    .into()
}

/// SQLite's types are per value, not per column: each read converts as
/// SQLite's own `sqlite3_column_*` functions do.
impl Row for CopiedRow {
    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match self.cell(column)? {
            Cell::Null => Ok(None),
            Cell::Integer(v) => Ok(Some(*v)),
            #[allow(clippy::cast_possible_truncation)]
            Cell::Real(v) => Ok(Some(*v as i64)),
            Cell::Text(t) => t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| unreadable(column, "text that is not an integer")),
            Cell::Blob(_) => Err(unreadable(column, "a blob, not an integer")),
        }
    }

    fn real(&self, column: &str) -> Result<Option<f64>, StoreError> {
        match self.cell(column)? {
            Cell::Null => Ok(None),
            #[allow(clippy::cast_precision_loss)]
            Cell::Integer(v) => Ok(Some(*v as f64)),
            Cell::Real(v) => Ok(Some(*v)),
            Cell::Text(t) => t
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| unreadable(column, "text that is not a number")),
            Cell::Blob(_) => Err(unreadable(column, "a blob, not a number")),
        }
    }

    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match self.cell(column)? {
            Cell::Null => Ok(None),
            Cell::Integer(v) => Ok(Some(v.to_string())),
            Cell::Real(v) => Ok(Some(v.to_string())),
            Cell::Text(t) => Ok(Some(t.clone())),
            Cell::Blob(b) => String::from_utf8(b.clone())
                .map(Some)
                .map_err(|_| unreadable(column, "a blob that is not UTF-8 text")),
        }
    }

    fn boolean(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.int(column)?.unwrap_or(0) != 0)
    }

    fn json(&self, column: &str) -> Result<Value, StoreError> {
        super::json_text(column, self.text(column)?)
    }
}

/// rusqlite's error as the driver error every store error keeps: its
/// extended result code is what [`StoreError`] reads (busy, a unique
/// violation).
pub(crate) fn driver(error: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Database(Box::new(SqliteError(error)))
}

/// A failure of a connection.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SqliteError(rusqlite::Error);

impl SqliteError {
    fn extended_code(&self) -> Option<i32> {
        match &self.0 {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.extended_code),
            _ => None,
        }
    }
}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        match &self.0 {
            rusqlite::Error::SqliteFailure(_, Some(message)) => message,
            _ => "SQLite failed",
        }
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.extended_code().map(|c| Cow::Owned(c.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.extended_code() {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;
    use crate::sql::sql;

    /// A statement whose plan SQLite could make by a bound value (here a
    /// `LIMIT` and a range on an indexed column, as the queue's claim has)
    /// is kept prepared however its values change: parsing it again on
    /// every run was the claim's largest cost on the writer.
    #[test]
    fn statements_are_not_planned_again_for_new_values() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Connection::open(dir.path().join("p.db")).expect("open");
        db.execute_batch(
            "CREATE TABLE q (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, status TEXT NOT NULL); \
             CREATE INDEX q_due ON q (at) WHERE status = 'queued'; \
             INSERT INTO q (at, status) VALUES (1, 'queued'), (2, 'queued'), (3, 'done');",
        )
        .expect("schema");
        let mut conn = Conn::new(db).expect("conn");
        let text = "SELECT id FROM q WHERE status = 'queued' AND at <= $1 ORDER BY at LIMIT $2";
        for (at, limit) in [(1_i64, 10_i64), (2, 20), (3, 30), (4, 1)] {
            let rows = conn
                .fetch_all(sql(text).bind(at).bind(limit))
                .expect("query");
            assert_eq!(rows.len() as i64, at.min(2).min(limit));
        }
        let prepared = conn.db.prepare_cached(text).expect("cached");
        assert_eq!(prepared.get_status(StatementStatus::RePrepare), 0);
    }
}
