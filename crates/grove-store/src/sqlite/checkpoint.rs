//! Checkpoints off the writer's path. SQLite's automatic checkpoint runs
//! inside the commit that filled the write-ahead log past a thousand
//! pages: it copies the pages into the database file and syncs it while
//! the writer is held, and in the throughput benchmark that was a third of
//! the time commits held it. Here a thread of its own, on a connection of
//! its own, checkpoints after commits instead (`PASSIVE`: it never waits
//! for the writer nor blocks it, and WAL lets it copy while the writer
//! appends). It runs at most once per [`PAUSE`], so a busy writer costs it
//! a few checkpoints a second and an idle one none.
//!
//! The writer keeps SQLite's own checkpoint as a backstop, at
//! [`BACKSTOP_PAGES`]: should this thread fall behind (or fail), the log
//! stays bounded all the same.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// The least time between two checkpoints.
pub(crate) const PAUSE: Duration = Duration::from_millis(50);

/// Log pages at which the writer's own commit checkpoints after all.
pub(crate) const BACKSTOP_PAGES: u32 = 10_000;

/// Wakes the checkpoint thread; dropping it ends the thread after a last
/// checkpoint, and waits for that.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to the file at `path`.
    pub(crate) fn start(path: &str) -> rusqlite::Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let db = Connection::open_with_flags(path, flags)?;
        // One slot: commits while a checkpoint runs ask for one more, not
        // one each.
        let (wake, woken) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&db, &woken))
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot start the checkpoint thread: {e}")),
                )
            })?;
        Ok(Self {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint after a commit; never waits.
    pub(crate) fn committed(&self) {
        if let Some(Err(TrySendError::Disconnected(()))) =
            self.wake.as_ref().map(|w| w.try_send(()))
        {
            tracing::debug!("the checkpoint thread ended; the writer checkpoints itself");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the checkpoint thread panicked");
        }
    }
}

/// Checkpoints when woken, at most once per [`PAUSE`], and once more when
/// told to end.
fn run(db: &Connection, woken: &Receiver<()>) {
    let mut asked = woken.recv().is_ok();
    while asked {
        checkpoint(db);
        // Commits during the pause ask for the next checkpoint.
        let until = Instant::now() + PAUSE;
        asked = false;
        loop {
            match woken.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(()) => asked = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return checkpoint(db),
            }
        }
        if !asked {
            asked = woken.recv().is_ok();
        }
    }
    checkpoint(db);
}

fn checkpoint(db: &Connection) {
    // A checkpoint another process runs makes this one busy: it is done
    // anyway.
    if let Err(error) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::debug!(%error, "a checkpoint did not run");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After commits, the thread copies the log into the database file
    /// (which only a checkpoint writes, in WAL mode) while the writer,
    /// which never checkpoints here, goes on.
    #[test]
    fn commits_are_checkpointed_by_the_thread() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.db");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
                 CREATE TABLE t (v TEXT);",
            )
            .expect("schema");
        let checkpointer = Checkpointer::start(path.to_str().expect("utf-8")).expect("start");
        for i in 0..200 {
            writer
                .execute("INSERT INTO t (v) VALUES (?1)", [format!("{i:0>2000}")])
                .expect("insert");
            checkpointer.committed();
        }
        // 200 rows of 2 kB: about 100 pages, in the file once copied.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let size = std::fs::metadata(&path).expect("size").len();
            if size >= 100 * 4096 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file holds {size} bytes: not checkpointed"
            );
            std::thread::sleep(PAUSE);
        }
        drop(checkpointer);
    }
}
