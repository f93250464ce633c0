//! grove-app: the use cases of grove-jobs, the one place where a write
//! happens. The API, the console and the CLI translate their input into
//! these calls and the result back into their output; none of them calls a
//! store write verb itself.
//!
//! - [`App`]: the store, the clock and the engine handle, cheap to clone;
//!   its methods are the use cases, grouped by what they do:
//! - [`objects`]: create, replace, merge-patch, delete, duplicate and
//!   restore Grove objects (validated through the type registry, with
//!   optimistic concurrency), read one, list those matching a query.
//! - [`runs`]: Run Now, Retry of a finished execution, Cancel.
//! - [`apply`]: the declarative plan (create / update / unchanged) of a set
//!   of portable documents, and carrying it out.
//! - [`ingest`]: sprout and signal batches, answered item by item.
//! - [`tokens`]: API tokens (random secrets, stored hashed): create, list,
//!   revoke, authenticate, the bootstrap admin token; console sessions.
//! - [`audit`]: the [`Caller`] of every use case and the audit trail each
//!   mutation and sign-in writes.
//! - [`seeding`]: the default job configs of a fresh database, and the demo
//!   dataset.
//! - [`error`]: [`AppError`], what a use case can refuse or fail with.
//!
//! **One wake path.** After every write the app tells the engine what
//! changed through [`grove_engine::EngineHandle::changed`], with the same
//! [`Change`] the database's change feed delivers for another process's
//! writes; `App::wake` is the only caller. With no engine in this process
//! (CLI commands) that is a no-op and the serving instances learn of the
//! write from the database.

pub mod apply;
pub mod audit;
pub mod error;
pub mod ingest;
pub mod objects;
pub mod runs;
pub mod seeding;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Arc;

use grove_core::clock::Clock;
use grove_core::job_config::outbound_urls;
use grove_core::outbound::OutboundPolicy;
use grove_core::registry::{JOB_CONFIG, TypeDef, ValidObject};
use grove_core::validate::Problem;
use grove_engine::{EngineHandle, GroupCommit};
use grove_store::{
    AuditAppend, Change, ExecutionInsert, InsertOutcome, Store, StoreError, StoredObject,
};

pub use audit::{AuditAction, Caller};
pub use error::AppError;
pub use runs::{Backfill, MAX_BACKFILL_SLOTS, RunOptions};

/// Where the runs this app queues are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    /// By the engine behind the app's handle (`serve`, tests); with a
    /// detached handle, run use cases refuse: nothing here would run them.
    ThisProcess,
    /// By a serving instance on the same database (CLI commands): runs are
    /// queued and left for it.
    OtherProcesses,
}

/// The application: every use case, over one store, clock and engine.
#[derive(Debug, Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    engine: EngineHandle,
    runner: Runner,
    /// Where configs may make the service send requests; a literal address
    /// outside it is refused at validation.
    outbound: Arc<OutboundPolicy>,
    /// Writes of concurrent requests gathered into shared transactions.
    batches: Arc<Batches>,
}

/// Group commit for the writes every Run Now makes (its execution and its
/// audit line): concurrent requests share one transaction each, on
/// SQLite's single writer instead of queueing one commit apiece. Each
/// request is answered only after the commit that holds its write.
#[derive(Debug, Default)]
struct Batches {
    /// The stored configs Run Now requests read, in one statement per
    /// batch of requests.
    configs: GroupCommit<String, Result<Option<StoredObject>, StoreError>>,
    runs: GroupCommit<(ExecutionInsert, AuditAppend), Result<InsertOutcome, StoreError>>,
    audit: GroupCommit<AuditAppend, Result<(), StoreError>>,
    /// Metrics calls: those that arrive while a type is being counted
    /// share the next count.
    metrics: GroupCommit<&'static TypeDef, Result<objects::TypeTally, AppError>>,
}

impl App {
    /// An app whose runs the engine behind `engine` carries out. Given a
    /// detached handle, Run Now, Retry and Cancel answer
    /// [`grove_engine::EngineError::NotRunning`].
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, engine: EngineHandle) -> Self {
        Self {
            store,
            clock,
            engine,
            runner: Runner::ThisProcess,
            outbound: Arc::default(),
            batches: Arc::default(),
        }
    }

    /// The same app with an outbound allow-list (the default allows only
    /// public addresses).
    pub fn with_outbound(mut self, policy: Arc<OutboundPolicy>) -> Self {
        self.outbound = policy;
        self
    }

    /// The outbound address policy validation checks URLs against.
    pub fn outbound(&self) -> &Arc<OutboundPolicy> {
        &self.outbound
    }

    /// Validates an object for `def`, then the URLs of its payload against
    /// the outbound policy (a literal address outside it is a problem at
    /// the URL's pointer; names are checked when a request is made).
    pub fn validate_object(
        &self,
        def: &TypeDef,
        raw: &serde_json::Value,
    ) -> Result<ValidObject, Vec<Problem>> {
        let valid = def.validate(raw)?;
        if def.id != JOB_CONFIG {
            return Ok(valid);
        }
        let problems: Vec<Problem> = outbound_urls(&valid.payload)
            .into_iter()
            .filter_map(|(pointer, url)| {
                self.outbound
                    .check_url(&url)
                    .err()
                    .map(|why| Problem::new(pointer, why))
            })
            .collect();
        if problems.is_empty() {
            Ok(valid)
        } else {
            Err(problems)
        }
    }

    /// An app for a one-shot command with no engine in this process: runs
    /// are queued for the serving instances on the same database, and
    /// waking the engine is a no-op.
    pub fn without_engine(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            engine: EngineHandle::new(),
            runner: Runner::OtherProcesses,
            outbound: Arc::default(),
            batches: Arc::default(),
        }
    }

    /// The stored job config `config_id`, read in one statement with
    /// those of concurrent requests (a read per request was a fifth of
    /// Run Now's cost on SQLite).
    async fn read_config(&self, config_id: &str) -> Result<Option<StoredObject>, StoreError> {
        let store = &*self.store;
        self.batches
            .configs
            .write(
                config_id.to_owned(),
                |ids| async move {
                    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                    let found = store.object_get_many(JOB_CONFIG, &refs).await.ok()?;
                    Some(answer_by_id(&ids, found))
                },
                |id| async move { store.object_get(JOB_CONFIG, &id).await },
            )
            .await
    }

    /// Inserts an execution with the audit line of who asked for it, in a
    /// transaction shared with other requests' (group commit), to the end
    /// (see [`to_the_end`]).
    async fn insert_run(
        &self,
        insert: ExecutionInsert,
        line: AuditAppend,
    ) -> Result<InsertOutcome, StoreError> {
        let app = self.clone();
        to_the_end(async move {
            let store = &*app.store;
            let audited = |batch: Vec<(ExecutionInsert, AuditAppend)>| async move {
                let (inserts, lines) = batch.into_iter().unzip();
                store.execution_insert_audited(inserts, lines).await
            };
            app.batches
                .runs
                .write(
                    (insert, line),
                    |batch| async move {
                        let outcomes = audited(batch).await.ok()?;
                        Some(outcomes.into_iter().map(Ok).collect())
                    },
                    |one| async move {
                        // One outcome per insert: this `NotFound` cannot occur.
                        let mut outcomes = audited(vec![one]).await?;
                        outcomes.pop().ok_or(StoreError::NotFound)
                    },
                )
                .await
        })
        .await
    }

    /// Appends an audit line in a transaction shared with other requests'
    /// (group commit), to the end (see [`to_the_end`]).
    async fn append_audit(&self, entry: AuditAppend) -> Result<(), StoreError> {
        let app = self.clone();
        to_the_end(async move {
            let store = &*app.store;
            app.batches
                .audit
                .write(
                    entry,
                    |batch| async move {
                        let n = batch.len();
                        store.audit_append_many(batch).await.ok()?;
                        Some((0..n).map(|_| Ok(())).collect())
                    },
                    |entry| store.audit_append(entry),
                )
                .await
        })
        .await
    }

    /// The store, for reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Tells the engine what a write just changed. Every use case that
    /// writes calls this, and nothing else wakes the engine.
    fn wake(&self, change: Change) {
        self.engine.changed(change);
    }
}

/// Runs a shared write on a task of its own, so that it goes to its end
/// even when its caller stops waiting (its request timed out, its client
/// went away). A caller dropped while it records a group commit's batch,
/// after the batch committed, would leave the batch's other callers to
/// write their items again: a second audit line, and a Run Now answered
/// as recorded twice although it was queued once.
async fn to_the_end<T: Send + 'static>(
    write: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::spawn(write).await {
        Ok(written) => written,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels the task, and this
            // caller goes with it.
            Err(_) => std::future::pending().await,
        },
    }
}

/// Each id's object among `found`, in the order of `ids`; an id asked for
/// twice gets a copy, an id not found `None`.
fn answer_by_id(
    ids: &[String],
    found: Vec<StoredObject>,
) -> Vec<Result<Option<StoredObject>, StoreError>> {
    let mut by_id: HashMap<String, StoredObject> =
        found.into_iter().map(|o| (o.meta.id.clone(), o)).collect();
    let last: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            Ok(if last.get(id.as_str()) == Some(&i) {
                by_id.remove(id)
            } else {
                by_id.get(id).cloned()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use grove_core::object::ObjectMeta;

    fn object(id: &str) -> StoredObject {
        StoredObject {
            meta: ObjectMeta {
                id: id.to_owned(),
                object_type: JOB_CONFIG.to_owned(),
                title: id.to_owned(),
                description: None,
                version: 1,
                created_at: jiff::Timestamp::UNIX_EPOCH,
                updated_at: jiff::Timestamp::UNIX_EPOCH,
                created_by: None,
                updated_by: None,
                tags: Vec::new(),
            },
            payload: serde_json::json!({ "id": id }),
        }
    }

    #[test]
    fn each_asker_gets_its_object_in_order_even_when_asked_twice() {
        let ids: Vec<String> = ["b", "x", "a", "b"].map(str::to_owned).to_vec();
        let answers: Vec<Option<String>> = answer_by_id(&ids, vec![object("a"), object("b")])
            .into_iter()
            .map(|a| a.expect("no error").map(|o| o.meta.id))
            .collect();
        assert_eq!(
            answers,
            [
                Some("b".to_owned()),
                None,
                Some("a".to_owned()),
                Some("b".to_owned())
            ]
        );
    }
}
