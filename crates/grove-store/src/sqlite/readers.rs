//! The point readers: read-only connections to the file, beside the
//! writer, for reads of a few rows by key (a config, an execution, a
//! token, the change feed's new rows). WAL lets them read while the
//! writer writes, each statement seeing the last commit before it began.
//!
//! Their statements run on the caller's thread, as the writer's do
//! ([`super::connection`]): through sqlx every statement cost two thread
//! wake-ups, and in the throughput benchmark, where Run Now reads its
//! config, the process spent a quarter more CPU time for the same work.
//! Scans and pages stay on sqlx's pool: a long read there holds one of
//! its threads, never an async worker (in-thread, metrics' counts made
//! the API's p99 under load twice as long). A connection is opened when
//! first needed and kept for the next read; at most [`MAX_READERS`] are
//! open, and a read waits for one beyond that.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::connection::{Conn, CopiedRow, driver};
use crate::StoreError;
use crate::sql::{Exec, Statement};

/// Read connections open at most.
pub(crate) const MAX_READERS: usize = 4;

/// The pool of read connections to one file.
#[derive(Debug, Clone)]
pub(crate) struct Readers(Arc<Pool>);

#[derive(Debug)]
struct Pool {
    path: String,
    busy_timeout: Duration,
    /// Connections open and not in use.
    idle: Mutex<Vec<Conn>>,
    /// One per connection that may be in use; closed with the store.
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(crate) fn new(path: &str, busy_timeout: Duration) -> Self {
        Self(Arc::new(Pool {
            path: path.to_owned(),
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(MAX_READERS)),
        }))
    }

    /// A read connection, for as long as the answer is held.
    pub(crate) async fn acquire(&self) -> Result<ReaderExec, StoreError> {
        let closed = || StoreError::Unavailable(sqlx::Error::PoolClosed);
        let permit = self
            .0
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        let idle = self.0.idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(|source| StoreError::Connect {
                target: format!("SQLite file \"{}\"", self.0.path),
                source,
            })?,
        };
        Ok(ReaderExec {
            conn: Some(conn),
            pool: self.0.clone(),
            _permit: permit,
        })
    }

    fn open(&self) -> Result<Conn, sqlx::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let db = Connection::open_with_flags(&self.0.path, flags).map_err(driver)?;
        db.busy_timeout(self.0.busy_timeout).map_err(driver)?;
        Conn::new(db).map_err(driver)
    }

    /// Refuses reads from now on and closes the idle connections (one in
    /// use closes when its read ends).
    pub(crate) fn close(&self) {
        self.0.permits.close();
        self.0.idle().clear();
    }
}

impl Pool {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // The list stays whole whatever panicked while it was held.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A read connection in use; back to the pool when dropped.
#[derive(Debug)]
pub struct ReaderExec {
    conn: Option<Conn>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl ReaderExec {
    /// The connection (taken only as the reader drops).
    fn conn(&mut self) -> Result<&mut Conn, StoreError> {
        self.conn
            .as_mut()
            .ok_or(StoreError::Unavailable(sqlx::Error::PoolClosed))
    }
}

impl Drop for ReaderExec {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // A read left unfinished (a failed statement) must not hold its
        // snapshot into the next one.
        if !conn.db.is_autocommit() {
            return;
        }
        if !self.pool.permits.is_closed() {
            self.pool.idle().push(conn);
        }
    }
}

impl Exec for ReaderExec {
    type Row = CopiedRow;

    async fn fetch_all(&mut self, statement: Statement) -> Result<Vec<CopiedRow>, StoreError> {
        self.conn()?.fetch_all(statement)
    }

    async fn fetch_optional(
        &mut self,
        statement: Statement,
    ) -> Result<Option<CopiedRow>, StoreError> {
        self.conn()?.fetch_optional(statement)
    }

    async fn execute(&mut self, statement: Statement) -> Result<u64, StoreError> {
        self.conn()?.run(statement, &mut |_| true)
    }

    async fn execute_script(&mut self, script: &'static str) -> Result<(), StoreError> {
        self.conn()?.batch(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{RowExt, sql};
    use crate::sqlite::writer::Writer;

    /// The ids in `t`, as a point read sees them.
    async fn ids_seen(readers: &Readers) -> Vec<String> {
        readers
            .acquire()
            .await
            .expect("reader")
            .fetch_all(sql("SELECT id FROM t ORDER BY id"))
            .await
            .expect("select")
            .iter()
            .map(|r| r.get("id"))
            .collect::<Result<_, _>>()
            .expect("ids")
    }

    /// A point read is a connection of its own: it sees what the writer
    /// committed, nothing of a transaction still open, and its connection
    /// is kept for the next read.
    #[tokio::test]
    async fn a_point_read_sees_commits_only_and_keeps_its_connection() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("r.db");
        let path = path.to_str().expect("utf-8");
        let writer = Writer::open(path, Duration::from_secs(1)).expect("writer");
        let mut db = writer.autocommit().await.expect("writer");
        db.execute_script("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('kept')")
            .await
            .expect("create");
        drop(db);
        let readers = Readers::new(path, Duration::from_secs(1));
        let mut open = writer.begin().await.expect("begin");
        open.execute(sql("INSERT INTO t (id) VALUES ('open')"))
            .await
            .expect("insert");
        assert_eq!(ids_seen(&readers).await, ["kept"]);
        open.commit().await.expect("commit");
        assert_eq!(ids_seen(&readers).await, ["kept", "open"]);
        assert_eq!(readers.0.idle().len(), 1, "one connection, kept");
        // Read-only: a write through a reader fails and loses nothing.
        let mut reader = readers.acquire().await.expect("reader");
        assert!(reader.execute(sql("DELETE FROM t")).await.is_err());
        drop(reader);
        readers.close();
        assert!(matches!(
            readers.acquire().await,
            Err(StoreError::Unavailable(sqlx::Error::PoolClosed))
        ));
        writer.close().await;
    }
}
