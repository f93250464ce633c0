//! grove-store: the one storage seam of grove-jobs.
//!
//! - [`Store`]: the trait every backend implements, used as `Arc<dyn Store>`;
//!   the union of one trait per entity family, each with its types in its
//!   own file: [`ObjectStore`] (`objects.rs`), [`TokenStore`] (`tokens.rs`),
//!   [`ExecutionStore`] (`executions.rs`), [`GroveDataStore`]
//!   (`grove_data.rs`: sprouts, signals, aggregates, advancement events,
//!   journal, notifications outbox, archive) and [`CoordinationStore`]
//!   (`coordination.rs`: the change feed and the leader lease) and
//!   [`AccessStore`] (`access.rs`: console sessions, the audit trail).
//! - [`sql`]: every verb's Rust, written once over a [`sql::Dialect`];
//!   SQL that both databases accept is inline there.
//! - [`sqlite`], [`postgres`]: the two dialects — connections, binding, row
//!   decoding, the SQL that differs, and each one's change feed.
//! - [`migrate`]: migrations embedded in the binary, one list per dialect.
//! - [`seed`], [`demo`]: default job configs; a synthetic grove dataset.
//! - [`open`]: picks the backend from a database URL.
//!
//! Instants are stored as integer unix milliseconds (INTEGER in SQLite,
//! BIGINT in PostgreSQL); callers pass `now` explicitly (the clock is
//! injected above). See `docs/architecture.md` for how to add a backend.

mod access;
mod coordination;
pub mod demo;
mod error;
pub mod executions;
mod grove_data;
pub mod migrate;
mod objects;
pub mod postgres;
pub mod seed;
pub mod sql;
pub mod sqlite;
mod tokens;

use std::sync::Arc;

use async_trait::async_trait;

pub use access::{AccessStore, AuditAppend, AuditFilter, AuditRecord, SessionCheck, SessionInsert};
pub use coordination::{Change, ChangeFeed, CoordinationStore};
pub use error::{Corrupt, StoreError};
pub use executions::{
    Attempt, AttemptHeartbeat, AttemptOutcome, AttemptReason, AttemptStatus, CancelOutcome,
    ClaimBatch, Claimed, Counts, Execution, ExecutionClaim, ExecutionFinish, ExecutionInsert,
    ExecutionPrune, ExecutionStatus, ExecutionStore, FailureStreak, Finished, HeartbeatReply,
    InsertDisposition, InsertOutcome, LeaseRescue, LogInsert, LogLevel, LogLine, OutcomeOf,
    OutcomeRecord, Rescued, Returned, SlotPosition, Trigger,
};
pub use grove_data::{
    AdvancementApply, AdvancementCandidate, AdvancementEvent, AdvancementEventFilter, Aggregate,
    AggregateIncrement, AggregateRebuildRange, AggregateStatus, ArchiveEntity, ArchiveOrphans,
    ArchivedRow, GroveBulkLoad, GroveDataStore, JournalAppend, JournalFilter, Notification,
    OrphanQuery, RangeOutcome, SignalInsert, SignalOutcome, Sprout, SproutPage, SproutSignals,
    SproutUpsert, UpsertOutcome,
};
pub use objects::{
    FieldCount, FieldPath, OBJECT_PAGE, ObjectInsert, ObjectPages, ObjectStore, ObjectUpdate,
    Revision, StoredObject,
};
pub use tokens::{ApiToken, Role, TokenStore};

/// Everything the service stores.
#[async_trait]
pub trait Store:
    ObjectStore
    + TokenStore
    + AccessStore
    + GroveDataStore
    + ExecutionStore
    + CoordinationStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Applies pending migrations; returns the schema version.
    async fn migrate(&self) -> Result<i64, StoreError>;

    /// A round trip to the database; returns the schema version.
    async fn ping(&self) -> Result<i64, StoreError>;

    /// Which backend this is ("sqlite", "postgres").
    fn backend(&self) -> &'static str;

    /// Marks a one-time seed as done; `true` if it was not done before.
    async fn seed_mark(&self, key: &str, now: jiff::Timestamp) -> Result<bool, StoreError>;

    /// Closes connections (flushes the SQLite WAL).
    async fn close(&self);
}

/// Where the data lives, parsed from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`, `sqlite:PATH` or a bare path.
    Sqlite(String),
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?pool_max=N&schema=NAME&…]`
    /// (or `postgresql://`); see [`postgres::PostgresOptions`].
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || url.contains("://") && !url.starts_with("sqlite://") {
            return Err(StoreError::Config(format!(
                "unsupported database URL \"{url}\"; use sqlite://PATH or postgres://USER@HOST/DB"
            )));
        }
        Ok(Self::Sqlite(path.to_owned()))
    }
}

/// Opens (and migrates) the store a URL names.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            let store = sqlite::SqliteStore::open(&path).await?;
            store.migrate().await?;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(url) => {
            let store = postgres::PostgresStore::connect(&url).await?;
            store.migrate().await?;
            Ok(Arc::new(store))
        }
    }
}
