//! Console sessions and the audit trail.
//!
//! A console session is an opaque random id of its own (never an API
//! token), stored as its SHA-256 hash, that stands for the token it was
//! opened with: revoking the token ends it. It expires after an idle
//! period and at an absolute instant, whichever comes first.
//!
//! The audit trail records who did what: every mutation and every sign-in.
//! It is kept apart from executions and objects, so retention and
//! orphan-cleanup never remove a line of it.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::{ApiToken, StoreError};

/// A session to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInsert {
    /// Hex SHA-256 of the session id.
    pub hash: String,
    pub token_id: String,
    pub now: Timestamp,
    /// The absolute end of the session.
    pub expires_at: Timestamp,
}

/// Which sessions are still alive at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCheck {
    pub now: Timestamp,
    /// A session not seen since this instant has been idle too long.
    pub idle_since: Timestamp,
}

/// One line of the audit trail to write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditAppend {
    pub at: Timestamp,
    /// The token's name (or the name a CLI command acts as).
    pub actor: Option<String>,
    pub token_id: Option<String>,
    pub client_addr: Option<String>,
    /// `create`, `update`, `delete`, `run`, `login.failed`, …
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
}

/// One stored line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditAppend,
}

/// Which lines to read: newest first, below `before` (a cursor).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
    /// Only lines with a lower `seq` than this.
    pub before: Option<i64>,
    pub limit: u32,
}

#[async_trait]
pub trait AccessStore {
    /// Opens a session; sessions that have expired by `now` are removed.
    async fn session_insert(&self, session: SessionInsert) -> Result<(), StoreError>;

    /// The token a live session stands for; `None` when the session is
    /// unknown, idle too long, past its end, or its token was revoked.
    /// Marks the session as seen (at most once a minute).
    async fn session_find(
        &self,
        hash: &str,
        check: SessionCheck,
    ) -> Result<Option<ApiToken>, StoreError>;

    /// Ends a session (logout); ending an unknown one is not an error.
    async fn session_delete(&self, hash: &str) -> Result<(), StoreError>;

    async fn audit_append(&self, entry: AuditAppend) -> Result<(), StoreError>;

    /// Many lines in one transaction (group commit), in order; the error
    /// means none was written.
    async fn audit_append_many(&self, entries: Vec<AuditAppend>) -> Result<(), StoreError>;

    /// Lines matching the filter, newest first.
    async fn audit_list(&self, filter: AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;
}
