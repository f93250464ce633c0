//! Following what every process on the database changes: the store's
//! change feed (LISTEN/NOTIFY on PostgreSQL; on SQLite a table written by
//! triggers, read when a commit rings) wakes this process's scheduler and
//! executor at once, whoever made the change — this process, another
//! instance, a CLI command. This process's own writes also arrive through
//! `EngineHandle::changed`, which calls [`apply`] just as the feed does, so
//! they take effect even while the feed reconnects. One difference: runs
//! the feed announces wake the executor through `feed_runs`, which claims
//! a moment later, since a write made here has already woken it.
//!
//! Notifications can be lost (a dropped connection, a restart of the
//! database), so after every (re)connection the scheduler re-reads every
//! config and the executor looks for due work; a periodic resync
//! (`EngineSettings::resync_interval`, minutes) is only a safety net.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use grove_store::Change;
use tokio_util::sync::CancellationToken;

use crate::Shared;

/// Back-off bounds while the database cannot be reached.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(10);

pub(crate) async fn follow(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut delay = RETRY_FIRST;
    loop {
        let feed = tokio::select! {
            () = shutdown.cancelled() => return,
            feed = shared.store.change_feed() => feed,
        };
        let mut feed = match feed {
            Ok(feed) => feed,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot listen for changes");
                if sleep_or_stop(&shutdown, &mut delay).await {
                    return;
                }
                continue;
            }
        };
        // Whatever happened while not listening was missed.
        resync(&shared);
        delay = RETRY_FIRST;
        loop {
            let change = tokio::select! {
                () = shutdown.cancelled() => return,
                change = feed.next() => change,
            };
            match change {
                Ok(Change::Runs) => {
                    delay = RETRY_FIRST;
                    shared.feed_runs.notify_one();
                }
                Ok(change) => {
                    delay = RETRY_FIRST;
                    apply(&shared, change);
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "lost the change feed");
                    if sleep_or_stop(&shutdown, &mut delay).await {
                        return;
                    }
                    // The feed reconnects on the next call; it answers
                    // `Reconnected` then.
                }
            }
        }
    }
}

/// Sleeps `delay` (doubling it for next time); `true` if shut down meanwhile.
async fn sleep_or_stop(shutdown: &CancellationToken, delay: &mut Duration) -> bool {
    let stopped = tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(*delay) => false,
    };
    *delay = (*delay * 2).min(RETRY_MAX);
    stopped
}

/// What one change means to this process, whether it came over the feed
/// or from a write made here (`EngineHandle::changed`).
pub(crate) fn apply(shared: &Shared, change: Change) {
    match change {
        Change::Config(id) => {
            shared.changes.lock().ids.insert(id);
            shared.scheduler_wake.notify_one();
        }
        Change::Calendar(id) => {
            shared.changes.lock().calendars.insert(id);
            shared.scheduler_wake.notify_one();
        }
        Change::Runs => shared.executor_wake.notify_one(),
        Change::Cancel(run_id) => {
            if let Some(token) = shared.running.lock().get(&run_id) {
                token.cancel();
            }
        }
        Change::Reconnected => resync(shared),
    }
}

fn resync(shared: &Shared) {
    shared.resync_requested.store(true, Ordering::SeqCst);
    shared.scheduler_wake.notify_one();
    shared.executor_wake.notify_one();
}
