//! Who did what: the caller of every use case, and the audit trail each
//! mutation and sign-in writes.
//!
//! The trail is written by the use case that made the change, so no front
//! end can forget it. Runs an operator queues (Run Now, Retry, Backfill)
//! commit in one transaction with their line. Other lines are written
//! after the change they record has committed; a failure to write one is
//! logged and does not undo or fail the change (which has already happened
//! and must be reported as such).

use grove_core::validate::Choice;
use grove_store::{AuditAppend, AuditFilter, AuditRecord};

use crate::{App, AppError};

/// Who asks for a use case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// Recorded as the actor: the token's name, or what a CLI command
    /// acts as (`cli`, `apply`).
    pub name: String,
    /// The token the request authenticated with, if any.
    pub token_id: Option<String>,
    /// The client's network address, if the request came over the network.
    pub address: Option<String>,
}

impl Caller {
    /// A caller known only by name (a CLI command, a test).
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }
}

grove_core::choice_enum!(
    /// What an audit line records.
    AuditAction {
        Create => "create",
        Update => "update",
        Delete => "delete",
        Restore => "restore",
        Duplicate => "duplicate",
        Run => "run",
        Retry => "retry",
        Cancel => "cancel",
        Backfill => "backfill",
        TokenCreate => "token.create",
        TokenRevoke => "token.revoke",
        Login => "login",
        LoginFailed => "login.failed",
        Logout => "logout",
    }
);

/// What an action was done to, and the versions around it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target<'a> {
    pub object_type: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

impl<'a> Target<'a> {
    pub(crate) fn object(object_type: &'a str, object_id: &'a str) -> Self {
        Self {
            object_type: Some(object_type),
            object_id: Some(object_id),
            ..Self::default()
        }
    }

    pub(crate) fn versions(self, before: Option<i64>, after: Option<i64>) -> Self {
        Self {
            before,
            after,
            ..self
        }
    }
}

/// At most this many lines per read of the trail.
pub const MAX_AUDIT_LIMIT: u32 = 500;

impl App {
    /// Writes one line of the audit trail for `by`.
    pub(crate) async fn audit(&self, by: &Caller, action: AuditAction, target: Target<'_>) {
        let entry = self.audit_line(by, action, target);
        if let Err(error) = self.append_audit(entry).await {
            tracing::error!(
                %error,
                action = action.name(),
                actor = by.name,
                "could not write the audit trail"
            );
        }
    }

    /// The line that records `by` doing `action` to `target` now.
    pub(crate) fn audit_line(
        &self,
        by: &Caller,
        action: AuditAction,
        target: Target<'_>,
    ) -> AuditAppend {
        AuditAppend {
            at: self.clock.now(),
            actor: (!by.name.is_empty()).then(|| by.name.clone()),
            token_id: by.token_id.clone(),
            client_addr: by.address.clone(),
            action: action.name().to_owned(),
            object_type: target.object_type.map(str::to_owned),
            object_id: target.object_id.map(str::to_owned),
            version_before: target.before,
            version_after: target.after,
        }
    }

    /// Lines of the audit trail, newest first (`filter.limit` at most
    /// [`MAX_AUDIT_LIMIT`]).
    pub async fn audit_trail(&self, mut filter: AuditFilter) -> Result<Vec<AuditRecord>, AppError> {
        filter.limit = filter.limit.clamp(1, MAX_AUDIT_LIMIT);
        Ok(self.store.audit_list(filter).await?)
    }
}
