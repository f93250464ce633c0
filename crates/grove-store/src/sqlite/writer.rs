//! The writer connection, driven in the caller's own thread.
//!
//! The writer is the one connection every write queues for. A transaction
//! takes it, and its statements then run one after another on the
//! caller's thread ([`super::connection`]). Reads run beside it (WAL):
//! point reads on connections of our own ([`super::readers`]), the rest
//! on sqlx's pool.
//!
//! Statements are short (group commit gathers many runs into a few
//! statements), so they run on the async thread like any other CPU work;
//! the one wait that can be long, another process holding the database's
//! write lock, is bounded by the busy timeout.
//!
//! Transactions share commits. A commit writes every page its
//! transaction touched to the log, and profiles of the throughput
//! benchmark put those writes, with the locking around them, at about a
//! fifth of all CPU time: most verbs touch the same few pages of the
//! executions table and its indexes. So a transaction is a savepoint
//! inside a transaction it shares with the transactions queued behind
//! it: its `commit` releases the savepoint and waits, and one `COMMIT`,
//! once the writer is free, makes all of them durable together (a
//! [`Group`]). Nobody waits for a timer: a transaction that finds the
//! writer idle commits as soon as it is done, at the cost of one task
//! switch. A transaction that fails or is dropped rolls back its own
//! savepoint only; each is acknowledged only after the `COMMIT` that holds
//! it, and a failed `COMMIT` fails every transaction of its group.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, ffi};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard, watch};

use super::checkpoint::{self, Checkpointer};
use super::connection::{Conn, CopiedRow, driver};
use crate::StoreError;
use crate::sql::{Exec, Statement};

/// This process's one connection that writes the file (`None` once
/// closed).
#[derive(Debug, Clone)]
pub(crate) struct Writer(Arc<Mutex<Option<Open>>>);

/// The open connection, with the group written on it.
#[derive(Debug)]
struct Open {
    conn: Conn,
    /// The transaction open on the connection, shared by the transactions
    /// written in it since its `BEGIN`.
    group: Option<Group>,
    /// The number the next group gets.
    next_group: u64,
    /// Checkpoints the log after commits, off the writer's path.
    checkpointer: Checkpointer,
}

/// Transactions written, each in a savepoint, inside one database
/// transaction, and waiting for its `COMMIT`.
#[derive(Debug)]
struct Group {
    number: u64,
    /// How the `COMMIT` went, once it ran (`Err`: nothing of the group was
    /// written).
    outcome: watch::Sender<Option<Result<(), Failure>>>,
    /// Whether a task waiting to commit the group was started.
    committer: bool,
}

/// A failure that ended a group, kept to hand a copy to each of its
/// transactions.
#[derive(Debug, Clone)]
struct Failure {
    code: ffi::Error,
    message: String,
}

impl Failure {
    fn of(error: &rusqlite::Error) -> Self {
        let code = match error {
            rusqlite::Error::SqliteFailure(code, _) => *code,
            _ => ffi::Error::new(ffi::SQLITE_ERROR),
        };
        Self {
            code,
            message: error.to_string(),
        }
    }

    fn error(&self) -> StoreError {
        driver(rusqlite::Error::SqliteFailure(
            self.code,
            Some(self.message.clone()),
        ))
        .into()
    }
}

impl Open {
    /// Commits the group open on the connection, if any, and tells its
    /// transactions how that went.
    fn commit_group(&mut self) -> Result<(), StoreError> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        super::connection::log_statement("COMMIT");
        let outcome = self.conn.one("COMMIT").map_err(|e| {
            if !self.conn.db.is_autocommit()
                && let Err(error) = self.conn.one("ROLLBACK")
            {
                tracing::warn!(%error, "could not roll back a transaction whose commit failed");
            }
            Failure::of(&e)
        });
        if outcome.is_ok() {
            self.checkpointer.committed();
        }
        group.outcome.send_replace(Some(outcome.clone()));
        outcome.map_err(|f| f.error())
    }

    /// After a statement failed: SQLite may have rolled the whole
    /// transaction back (a full disk, an I/O error), and then the group
    /// ends, its transactions told that they were not written.
    fn notice_rollback(&mut self, error: &impl std::fmt::Display) {
        if self.conn.db.is_autocommit()
            && let Some(group) = self.group.take()
        {
            let failure = Failure {
                code: ffi::Error::new(ffi::SQLITE_ABORT),
                message: format!("rolled back with a transaction that failed: {error}"),
            };
            group.outcome.send_replace(Some(Err(failure)));
        }
    }
}

impl Writer {
    /// Opens (creating if missing) the file for writing, in WAL mode.
    pub(crate) fn open(path: &str, busy_timeout: Duration) -> Result<Self, sqlx::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(driver)?;
        conn.busy_timeout(busy_timeout).map_err(driver)?;
        // Temporary storage in memory: each transaction's savepoint keeps
        // the pages it changed in a statement journal, which would
        // otherwise be a temporary file written page by page.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {};",
            checkpoint::BACKSTOP_PAGES
        ))
        .map_err(driver)?;
        let checkpointer = Checkpointer::start(path).map_err(driver)?;
        Ok(Self(Arc::new(Mutex::new(Some(Open {
            conn: Conn::new(conn).map_err(driver)?,
            group: None,
            next_group: 0,
            checkpointer,
        })))))
    }

    /// The writer, held, with the open group (if any) left as it is.
    async fn hold(&self) -> Result<WriterExec, StoreError> {
        let held = self.0.clone().lock_owned().await;
        let conn = OwnedMutexGuard::try_map(held, Option::as_mut)
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
        Ok(WriterExec {
            writer: self.clone(),
            open: conn,
            in_transaction: false,
        })
    }

    /// The writer, for statements that each commit on their own: the
    /// group open before them commits first.
    pub(crate) async fn autocommit(&self) -> Result<WriterExec, StoreError> {
        let mut exec = self.hold().await?;
        exec.open.commit_group()?;
        Ok(exec)
    }

    /// The writer in a transaction of its own, a savepoint in the group's
    /// `BEGIN IMMEDIATE` transaction: that holds the database's write lock
    /// from the start, so a transaction that reads before it writes never
    /// has to be upgraded.
    pub(crate) async fn begin(&self) -> Result<WriterExec, StoreError> {
        let mut exec = self.hold().await?;
        if exec.open.group.is_none() {
            exec.batch("BEGIN IMMEDIATE")?;
            let open = &mut *exec.open;
            open.next_group += 1;
            open.group = Some(Group {
                number: open.next_group,
                outcome: watch::Sender::new(None),
                committer: false,
            });
        }
        exec.batch("SAVEPOINT own")?;
        exec.in_transaction = true;
        Ok(exec)
    }

    /// `PRAGMA data_version`: it moves when another connection (another
    /// process) committed, not for this writer's own commits. (Inside an
    /// open group it reads the same: the group holds the write lock, so no
    /// other connection committed since it began.)
    pub(crate) async fn data_version(&self) -> Result<i64, StoreError> {
        let exec = self.hold().await?;
        Ok(exec
            .open
            .conn
            .db
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(driver)?)
    }

    /// Commits the group numbered `number` if it is still open, once the
    /// transactions queued for the writer before this call had their turn.
    async fn commit_later(self, number: u64) {
        let mut held = self.0.lock().await;
        if let Some(open) = held.as_mut()
            && open.group.as_ref().is_some_and(|g| g.number == number)
            && let Err(error) = open.commit_group()
        {
            tracing::warn!(%error, "a shared SQLite commit failed; its transactions report it");
        }
    }

    /// Closes the connection once the transaction in flight, if any, has
    /// ended and the open group committed; later writes fail as on a
    /// closed pool.
    pub(crate) async fn close(&self) {
        let mut held = self.0.lock().await;
        if let Some(open) = held.as_mut()
            && let Err(error) = open.commit_group()
        {
            tracing::warn!(%error, "the last shared SQLite commit failed");
        }
        if let Some(open) = held.take()
            && let Err((_, error)) = open.conn.db.close()
        {
            tracing::warn!(%error, "could not close the SQLite writer");
        }
    }
}

/// The writer, held: in a transaction (its savepoint rolled back when
/// dropped without [`WriterExec::commit`]) or committing each statement
/// on its own.
#[derive(Debug)]
pub struct WriterExec {
    writer: Writer,
    open: OwnedMappedMutexGuard<Option<Open>, Open>,
    in_transaction: bool,
}

impl WriterExec {
    /// Runs statements without arguments.
    fn batch(&mut self, script: &str) -> Result<(), StoreError> {
        let outcome = self.open.conn.batch(script);
        self.noticed(outcome)
    }

    /// A statement's outcome, after a failure's effect on the group (see
    /// `Open::notice_rollback`).
    fn noticed<T>(&mut self, outcome: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(error) = &outcome {
            self.open.notice_rollback(error);
        }
        outcome
    }

    /// Releases the transaction's savepoint and waits for the commit of
    /// its group; when that fails, nothing of it was written.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        self.batch("RELEASE own")?;
        self.in_transaction = false;
        let Some(group) = self.open.group.as_mut() else {
            // SQLite rolled the group back (the savepoint's release found
            // no transaction to end): nothing of it was written.
            return Err(StoreError::Unavailable(sqlx::Error::WorkerCrashed));
        };
        let mut outcome = group.outcome.subscribe();
        if !group.committer {
            // The commit queues for the writer behind everyone already
            // waiting: they write in the same group first.
            group.committer = true;
            tokio::spawn(self.writer.clone().commit_later(group.number));
        }
        drop(self);
        let outcome = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?
            .clone();
        match outcome {
            Some(Err(failure)) => Err(failure.error()),
            _ => Ok(()),
        }
    }
}

impl Drop for WriterExec {
    fn drop(&mut self) {
        // Only this transaction's own writes are undone (unless SQLite
        // already rolled back the whole group).
        if self.in_transaction
            && !self.open.conn.db.is_autocommit()
            && let Err(error) = self.batch("ROLLBACK TO own; RELEASE own")
        {
            tracing::warn!(%error, "could not roll back an abandoned SQLite transaction");
        }
        // A group that no committed transaction waits for (each failed
        // or was dropped) ends now, so that the write lock is given back.
        if self.open.group.as_ref().is_some_and(|g| !g.committer)
            && let Err(error) = self.open.commit_group()
        {
            tracing::warn!(%error, "could not end an abandoned SQLite transaction");
        }
    }
}

impl Exec for WriterExec {
    type Row = CopiedRow;

    async fn fetch_all(&mut self, statement: Statement) -> Result<Vec<CopiedRow>, StoreError> {
        let outcome = self.open.conn.fetch_all(statement);
        self.noticed(outcome)
    }

    async fn fetch_optional(
        &mut self,
        statement: Statement,
    ) -> Result<Option<CopiedRow>, StoreError> {
        let outcome = self.open.conn.fetch_optional(statement);
        self.noticed(outcome)
    }

    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        let outcome = self.open.conn.run(statement, &mut |_| true);
        self.noticed(outcome)
    }

    async fn execute_script(&mut self, script: &'static str) -> Result<(), StoreError> {
        self.batch(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{RowExt, sql};

    fn writer(dir: &tempfile::TempDir) -> Writer {
        let path = dir.path().join("w.db");
        Writer::open(path.to_str().expect("utf-8"), Duration::from_secs(1)).expect("open")
    }

    /// A writer on a fresh file holding a table `t` of ids.
    async fn writer_with_table(dir: &tempfile::TempDir) -> Writer {
        let w = writer(dir);
        let mut db = w.autocommit().await.expect("writer");
        db.execute_script("CREATE TABLE t (id TEXT PRIMARY KEY)")
            .await
            .expect("create");
        w
    }

    #[tokio::test]
    async fn parameters_bind_by_their_number_wherever_they_first_appear() {
        let dir = tempfile::tempdir().expect("dir");
        let mut db = writer(&dir).autocommit().await.expect("writer");
        let row = db
            .fetch_optional(
                sql("SELECT $3 AS c, $1 AS a, $3 + $2 AS sum")
                    .bind(1_i64)
                    .bind(2_i64)
                    .bind(30_i64),
            )
            .await
            .expect("select")
            .expect("a row");
        assert_eq!(row.get::<i64>("c").expect("c"), 30);
        assert_eq!(row.get::<i64>("a").expect("a"), 1);
        assert_eq!(row.get::<i64>("sum").expect("sum"), 32);
    }

    #[tokio::test]
    async fn a_transaction_dropped_before_commit_is_rolled_back() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer_with_table(&dir).await;
        let mut tx = w.begin().await.expect("begin");
        tx.execute(sql("INSERT INTO t (id) VALUES ($1)").bind("dropped"))
            .await
            .expect("insert");
        drop(tx);
        let mut tx = w
            .begin()
            .await
            .expect("begin again: the write lock was given back");
        tx.execute(sql("INSERT INTO t (id) VALUES ($1)").bind("kept"))
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
        let mut db = w.autocommit().await.expect("writer");
        let ids: Vec<String> = db
            .fetch_all(sql("SELECT id FROM t ORDER BY id"))
            .await
            .expect("select")
            .iter()
            .map(|r| r.get("id"))
            .collect::<Result<_, _>>()
            .expect("ids");
        assert_eq!(ids, ["kept"]);
        // A driver error keeps its meaning for the store's callers.
        let again = db
            .execute(sql("INSERT INTO t (id) VALUES ($1)").bind("kept"))
            .await;
        assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
    }

    fn ids_seen_by_another_connection(dir: &tempfile::TempDir) -> Vec<String> {
        let other = Connection::open(dir.path().join("w.db")).expect("open");
        let mut select = other
            .prepare("SELECT id FROM t ORDER BY id")
            .expect("prepare");
        select
            .query_map([], |r| r.get(0))
            .expect("select")
            .collect::<Result<_, _>>()
            .expect("ids")
    }

    /// A transaction queued while another commits writes in the same
    /// group; its failure undoes its own writes only, and the group's
    /// commit is durable (seen by another connection) before `commit`
    /// answers.
    #[tokio::test(flavor = "current_thread")]
    async fn transactions_queued_together_share_one_commit_and_fail_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer_with_table(&dir).await;
        let mut first = w.begin().await.expect("begin");
        first
            .execute(sql("INSERT INTO t (id) VALUES ('a')"))
            .await
            .expect("insert");
        let queued = {
            let w = w.clone();
            tokio::spawn(async move {
                let mut tx = w.begin().await?;
                tx.execute(sql("INSERT INTO t (id) VALUES ('b')")).await?;
                tx.execute(sql("INSERT INTO t (id) VALUES ('a')")).await?;
                tx.commit().await
            })
        };
        // The second transaction now waits for the writer.
        tokio::task::yield_now().await;
        first.commit().await.expect("the group commits");
        let second = queued.await.expect("task");
        assert!(
            matches!(second, Err(StoreError::AlreadyExists)),
            "{second:?}"
        );
        assert_eq!(ids_seen_by_another_connection(&dir), ["a"]);
        let groups = w.0.lock().await.as_ref().expect("open").next_group;
        assert_eq!(groups, 1, "both transactions were written in one group");
    }

    /// Many concurrent transactions: every committed one is durable when
    /// its commit answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_transactions_are_each_durable_when_acknowledged() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer_with_table(&dir).await;
        let dir = Arc::new(dir);
        let mut tasks = Vec::new();
        for i in 0..64 {
            let (w, dir) = (w.clone(), dir.clone());
            tasks.push(tokio::spawn(async move {
                let id = format!("{i:02}");
                let mut tx = w.begin().await.expect("begin");
                tx.execute(sql("INSERT INTO t (id) VALUES ($1)").bind(&id))
                    .await
                    .expect("insert");
                tx.commit().await.expect("commit");
                let seen =
                    tokio::task::spawn_blocking(move || ids_seen_by_another_connection(&dir))
                        .await
                        .expect("read");
                assert!(seen.contains(&id), "{id} acknowledged but not durable");
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let groups = w.0.lock().await.as_ref().expect("open").next_group;
        assert!((1..=64).contains(&groups), "{groups} groups");
    }

    #[tokio::test]
    async fn a_closed_writer_refuses_work() {
        let dir = tempfile::tempdir().expect("dir");
        let w = writer(&dir);
        w.close().await;
        assert!(matches!(
            w.begin().await,
            Err(StoreError::Unavailable(sqlx::Error::PoolClosed))
        ));
    }
}
