/// What went wrong in the store, in terms callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// A write named a version that is no longer current.
    #[error("version conflict: the current version is {current}")]
    Conflict { current: i64 },
    /// The database is busy or unreachable; retrying may help.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::AlreadyExists,
            sqlx::Error::Database(db) if db.message().contains("database is locked") => {
                Self::Unavailable(e.to_string())
            }
            // PostgreSQL: serialization failure, deadlock, too many
            // connections, server shutting down or starting up.
            sqlx::Error::Database(db)
                if matches!(
                    db.code().as_deref(),
                    Some("40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03")
                ) =>
            {
                Self::Unavailable(e.to_string())
            }
            _ => Self::Backend(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
