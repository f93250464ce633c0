//! What several instances on one database need from it beyond storage:
//! a feed of changes made by any of them (so each wakes at once), and a
//! leader lease (so one of them does maintenance), and the set of live
//! instances (so they divide the firing of slots among them).
//!
//! Changes are announced by the database itself, in triggers, so no write
//! path can forget one: on PostgreSQL they NOTIFY a channel that each
//! instance LISTENs on; on SQLite they are recorded in a `changes` table
//! that each process reads by sequence when a commit (its own, or another
//! process's, seen as the database file changing) rings its doorbell. The
//! leader lease is a term-scoped row on PostgreSQL, and so is each live
//! instance's registration; SQLite has one process, which always leads
//! and fires every slot.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

/// Something another instance (or this one) changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A job config was created, saved or deleted.
    Config(String),
    /// A calendar was created, saved or deleted: the jobs excluding it
    /// are planned again.
    Calendar(String),
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
    /// A feed of changes made by every process on this database,
    /// including this one, from now on.
    async fn change_feed(&self) -> Result<Box<dyn ChangeFeed>, StoreError>;

    /// Takes or renews the lease `name` for `holder` until `until`, unless
    /// another holder's lease is still valid at `now`. Returns the term
    /// (incremented each time the lease changes hands) when `holder` leads.
    async fn leader_acquire(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<i64>, StoreError>;

    /// Gives the lease up at once (at shutdown), so another instance need
    /// not wait for it to expire.
    async fn leader_resign(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Registers `instance` as live until `until` (or renews it) and
    /// returns every instance live at `now`, this one included, in id
    /// order: the set among which the firing of slots is divided. A
    /// single-node store (one process) answers `[instance]`.
    async fn instance_heartbeat(
        &self,
        instance: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<String>, StoreError>;

    /// Takes `instance` out of the live set at once (at shutdown), so the
    /// others take its share over without waiting for it to expire.
    async fn instance_leave(&self, instance: &str) -> Result<(), StoreError>;
}

impl Change {
    /// The change a database announces as `topic` about `subject`
    /// (`config` + id, `calendar` + id, `runs`, `cancel` + run id); `None` for topics this
    /// build does not know.
    pub fn from_topic(topic: &str, subject: &str) -> Option<Self> {
        match topic {
            "config" => Some(Self::Config(subject.to_owned())),
            "calendar" => Some(Self::Calendar(subject.to_owned())),
            "runs" => Some(Self::Runs),
            "cancel" => Some(Self::Cancel(subject.to_owned())),
            _ => None,
        }
    }
}
