//! SQLite's change feed. Whenever the operating system reports that the
//! database file or its write-ahead log changed — a commit, by another
//! process (`grove-jobs run`, `apply`) or by this one — the feed reads:
//!
//! - the rows of the `changes` table (written by triggers, migration 6)
//!   above the last sequence it saw: configs created, saved or deleted, and
//!   cancel requests;
//! - `PRAGMA data_version` on this process's writer connection, which moves
//!   only when *another* connection committed: then runs may have been
//!   queued elsewhere, and the feed reports [`Change::Runs`] (this process's
//!   own runs reach its engine directly).
//!
//! A change made anywhere on the file is therefore seen within
//! milliseconds, without polling. Bursts of commits are read together:
//! after a ring the feed waits [`GATHER`] for more before it reads, so a
//! busy writer costs the feed at most one read per [`GATHER`]. The watch
//! is taken down for that wait and set up again before the read: while a
//! directory is watched, every write to the log (two per page) reports an
//! event to the kernel's watch queue, which profiles of the throughput
//! benchmark put at a third of the time commits held the writer. The read
//! after the watch is back sees every commit of the wait. Where no
//! file watcher can be set up (an unsupported file system, a watch limit
//! reached), the feed falls back to looking every [`FALLBACK_INTERVAL`] and
//! says so in the log.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use notify::{RecursiveMode, Watcher};
use tokio::sync::watch;

use super::readers::Readers;
use super::writer::Writer;
use crate::sql::{Exec, RowExt, scalar, sql};
use crate::{Change, ChangeFeed, StoreError};

/// How often to look without a file watcher.
pub const FALLBACK_INTERVAL: Duration = Duration::from_millis(500);

/// How long a ring waits for the rings of the same burst before reading.
pub const GATHER: Duration = Duration::from_millis(10);

/// Changes read per query.
const PAGE: i64 = 1000;

pub(crate) struct SqliteFeed {
    read: Readers,
    /// This process's one writer connection.
    write: Writer,
    /// The highest `seq` already turned into changes.
    last: i64,
    /// The writer connection's `data_version` when last read.
    data_version: i64,
    pending: VecDeque<Change>,
    doorbell: watch::Receiver<u64>,
    /// Kept alive for as long as the feed: dropping it stops watching.
    watcher: Option<notify::RecommendedWatcher>,
    /// The directory watched (the database file's).
    dir: PathBuf,
    /// Whether the watch is down for a [`GATHER`] wait.
    paused: bool,
}

impl std::fmt::Debug for SqliteFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteFeed")
            .field("last", &self.last)
            .field("watching", &self.watcher.is_some())
            .finish_non_exhaustive()
    }
}

impl SqliteFeed {
    /// A feed of changes committed from now on.
    pub(crate) async fn start(
        path: &str,
        read: Readers,
        write: Writer,
    ) -> Result<Self, StoreError> {
        let (doorbell, rung) = watch::channel(0u64);
        let last: i64 = scalar(
            &mut read.acquire().await?,
            sql("SELECT COALESCE(MAX(seq), 0) AS last FROM changes"),
            "last",
        )
        .await?;
        let data_version = write.data_version().await?;
        let file = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let watcher = match watch_file(&file, &dir, doorbell) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    path,
                    error = %e,
                    interval_ms = FALLBACK_INTERVAL.as_millis() as u64,
                    "cannot watch the database file for other processes' changes; looking at intervals instead"
                );
                None
            }
        };
        Ok(Self {
            read,
            write,
            last,
            data_version,
            pending: VecDeque::new(),
            doorbell: rung,
            watcher,
            dir,
            paused: false,
        })
    }

    /// Takes the watch down (`false`) or sets it up again (`true`). Should
    /// that fail, the feed goes on looking at intervals.
    fn watching(&mut self, on: bool) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        // Already watching (or already paused), as asked.
        if self.paused != on {
            return;
        }
        self.paused = !on;
        let done = if on {
            watcher.watch(&self.dir, RecursiveMode::NonRecursive)
        } else {
            watcher.unwatch(&self.dir)
        };
        if let Err(e) = done {
            tracing::warn!(
                error = %e,
                interval_ms = FALLBACK_INTERVAL.as_millis() as u64,
                "cannot watch the database file any more; looking at intervals instead"
            );
            self.watcher = None;
        }
    }

    /// Turns rows committed since the last read into pending changes.
    async fn read_new(&mut self) -> Result<(), StoreError> {
        let rows = self
            .read
            .acquire()
            .await?
            .fetch_all(
                sql("SELECT seq, topic, subject FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(self.last)
                    .bind(PAGE),
            )
            .await?;
        for row in rows {
            self.last = row.get("seq")?;
            let topic: String = row.get("topic")?;
            let subject: String = row.get("subject")?;
            match Change::from_topic(&topic, &subject) {
                Some(change) => self.pending.push_back(change),
                None => tracing::debug!(topic, "ignoring an unknown change topic"),
            }
        }
        let version = self.write.data_version().await?;
        if version != self.data_version {
            self.data_version = version;
            self.pending.push_back(Change::Runs);
        }
        Ok(())
    }
}

/// Rings `doorbell` whenever the database file `path` or its write-ahead
/// log changes. Watches the file's directory `dir` (the log file comes
/// and goes).
fn watch_file(
    path: &Path,
    dir: &Path,
    doorbell: watch::Sender<u64>,
) -> notify::Result<notify::RecommendedWatcher> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let ours = event.paths.iter().any(|p| {
            let file = p.file_name().map(|n| n.to_string_lossy());
            match (&file, &name) {
                (Some(file), Some(name)) => {
                    file == name || file.strip_prefix(name.as_str()) == Some("-wal")
                }
                _ => false,
            }
        });
        if ours && event.kind.is_modify() {
            doorbell.send_modify(|rung| *rung = rung.wrapping_add(1));
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

#[async_trait]
impl ChangeFeed for SqliteFeed {
    async fn next(&mut self) -> Result<Change, StoreError> {
        loop {
            if let Some(change) = self.pending.pop_front() {
                return Ok(change);
            }
            // Watching again (also after a wait that was cancelled), and
            // marked seen, before reading: a commit after the read rings.
            self.watching(true);
            self.doorbell.borrow_and_update();
            self.read_new().await?;
            if !self.pending.is_empty() {
                continue;
            }
            let rung = if self.watcher.is_some() {
                self.doorbell.changed().await
            } else {
                tokio::select! {
                    rung = self.doorbell.changed() => rung,
                    () = tokio::time::sleep(FALLBACK_INTERVAL) => Ok(()),
                }
            };
            if rung.is_err() {
                // The store was closed.
                return Err(StoreError::Unavailable(sqlx::Error::PoolClosed));
            }
            self.watching(false);
            tokio::time::sleep(GATHER).await;
        }
    }
}
