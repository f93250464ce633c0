//! What went wrong in the store, in terms callers act on, each with its
//! cause kept (`source()`), never flattened into text.

use std::time::Duration;

/// A store verb's failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// A write named a version that is no longer current.
    #[error("version conflict: the current version is {current}")]
    Conflict { current: i64 },
    /// The attempt is no longer running under the caller's lease: another
    /// instance rescued it, or it was settled already.
    #[error("the attempt's lease was lost: it is no longer running under this owner")]
    LeaseLost,
    /// The database is busy or unreachable; retrying may help.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database did not answer in time.
    #[error("the database did not answer within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// The database cannot be reached or opened at all.
    #[error("cannot open the database {target}: {source}")]
    Connect {
        /// What was being opened (`user@host:port/db`, a file); never a password.
        target: String,
        #[source]
        source: sqlx::Error,
    },
    /// Something stored cannot be read back.
    #[error("stored data is not readable: {0}")]
    Corrupt(#[from] Corrupt),
    /// A URL, a schema name or the schema version is not usable.
    #[error("configuration: {0}")]
    Config(String),
    /// A database URL or path the driver cannot read.
    #[error("bad database URL {what}: {source}")]
    BadUrl {
        /// What was given, without a password.
        what: String,
        #[source]
        source: sqlx::Error,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Backend(#[source] sqlx::Error),
}

/// Why stored data cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Corrupt {
    #[error("column {column}: {source}")]
    Json {
        column: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("column {column} holds {millis}, which is not an instant: {source}")]
    Timestamp {
        column: String,
        millis: i64,
        #[source]
        source: jiff::Error,
    },
    #[error("column {column} holds the unknown {kind} \"{text}\"")]
    UnknownText {
        column: String,
        kind: &'static str,
        text: String,
    },
    #[error("column {column} is NULL")]
    Null { column: String },
    #[error("column {column} cannot be read: {source}")]
    Column {
        column: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{what}: {source}")]
    Document {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// SQLite result codes that mean "another connection holds the lock":
/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
const SQLITE_BUSY_CODES: &[&str] = &["5", "6", "261", "262", "517", "773"];

/// PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock,
/// too many connections, server shutting down or starting up.
const POSTGRES_RETRY_CODES: &[&str] = &["40001", "40P01", "53300", "57P01", "57P02", "57P03"];

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let retryable = match &e {
            sqlx::Error::RowNotFound => return Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => return Self::AlreadyExists,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                SQLITE_BUSY_CODES.contains(&code.as_ref())
                    || POSTGRES_RETRY_CODES.contains(&code.as_ref())
            }),
            _ => false,
        };
        if retryable {
            Self::Unavailable(e)
        } else {
            Self::Backend(e)
        }
    }
}

impl StoreError {
    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::TimedOut(_))
    }
}
