//! What several instances on one database need from it beyond storage:
//! a feed of changes made by any of them (so each wakes at once), and a
//! leader lease (so one of them does maintenance).
//!
//! Both have single-node defaults: an embedded database has one process,
//! which changes everything itself and is always the leader. The
//! PostgreSQL adapter implements them with LISTEN/NOTIFY (notifications
//! sent by triggers, so no write path can forget one) and a term-scoped
//! lease row.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

/// Something another instance (or this one) changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A job config was created, saved or deleted.
    Config(String),
    /// Executions became claimable: one was queued, re-queued for a retry,
    /// or one ended (freeing room under its config's `maxConcurrent`).
    Runs,
    /// An operator asked to cancel this running execution.
    Cancel(String),
    /// The feed lost its connection and is back: changes in between were
    /// missed, so everything must be looked at again.
    Reconnected,
}

/// A stream of [`Change`]s.
#[async_trait]
pub trait ChangeFeed: Send + std::fmt::Debug {
    /// The next change; an error when the database cannot be reached (the
    /// caller backs off and asks again: the feed reconnects).
    async fn next(&mut self) -> Result<Change, StoreError>;
}

/// Coordination verbs of a store.
#[async_trait]
pub trait CoordinationStore {
    /// A feed of changes made by every instance, or `None` when this store
    /// has a single process (it sees its own changes directly).
    async fn change_feed(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError> {
        Ok(None)
    }

    /// Takes or renews the lease `name` for `holder` until `until`, unless
    /// another holder's lease is still valid at `now`. Returns the term
    /// (incremented each time the lease changes hands) when `holder` leads.
    async fn leader_acquire(
        &self,
        _name: &str,
        _holder: &str,
        _now: Timestamp,
        _until: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        Ok(Some(1))
    }

    /// Gives the lease up at once (at shutdown), so another instance need
    /// not wait for it to expire.
    async fn leader_resign(&self, _name: &str, _holder: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
