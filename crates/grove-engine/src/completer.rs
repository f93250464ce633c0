//! Group commit of attempt outcomes. An executor hands its outcome (with
//! the attempt's last log lines) to the completer; whichever executor finds
//! nobody recording becomes the recorder and writes everything that has
//! gathered meanwhile in one store transaction
//! ([`grove_store::ExecutionStore::execution_finish_many`]), then the next
//! gathering, until none is left. A burst of short runs so costs one commit
//! per batch instead of two per run, with no timer and no added wait when
//! runs are few. An outcome is acknowledged (its executor goes on) only
//! after the commit that holds it.

use std::sync::atomic::{AtomicBool, Ordering};

use grove_store::{Execution, ExecutionFinish, Store, StoreError};
use parking_lot::Mutex;
use tokio::sync::oneshot;

/// Most outcomes one transaction records.
const MAX_BATCH: usize = 256;

#[derive(Debug)]
struct Pending {
    finish: ExecutionFinish,
    reply: oneshot::Sender<Result<Execution, StoreError>>,
}

#[derive(Debug, Default)]
pub(crate) struct Completer {
    pending: Mutex<Vec<Pending>>,
    /// Whether an executor is recording a batch now.
    recording: AtomicBool,
}

/// Gives the recorder's role back even when its future is dropped midway.
struct Recording<'a>(&'a AtomicBool);

impl Drop for Recording<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Completer {
    /// Records one outcome, in a batch with whatever else is waiting; the
    /// answer is what [`grove_store::ExecutionStore::execution_finish`]
    /// would have given.
    pub(crate) async fn finish(
        &self,
        store: &dyn Store,
        finish: ExecutionFinish,
    ) -> Result<Execution, StoreError> {
        let (reply, answer) = oneshot::channel();
        let retry = finish.clone();
        self.pending.lock().push(Pending { finish, reply });
        while !self.pending.lock().is_empty()
            && self
                .recording
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            let _role = Recording(&self.recording);
            loop {
                let batch: Vec<Pending> = {
                    let mut pending = self.pending.lock();
                    let n = pending.len().min(MAX_BATCH);
                    pending.drain(..n).collect()
                };
                if batch.is_empty() {
                    break;
                }
                record(store, batch).await;
            }
        }
        match answer.await {
            Ok(result) => result,
            // The recorder went away with our outcome unrecorded (its
            // task was dropped): record it alone.
            Err(_) => store.execution_finish(retry).await,
        }
    }
}

async fn record(store: &dyn Store, batch: Vec<Pending>) {
    let finishes: Vec<ExecutionFinish> = batch.iter().map(|p| p.finish.clone()).collect();
    match store.execution_finish_many(finishes).await {
        Ok(results) => {
            for (pending, result) in batch.into_iter().zip(results) {
                let _ = pending.reply.send(result);
            }
        }
        // The transaction failed as a whole: each outcome alone, so each
        // gets its own answer (and one bad outcome cannot block others).
        Err(_) => {
            for pending in batch {
                let result = store.execution_finish(pending.finish).await;
                let _ = pending.reply.send(result);
            }
        }
    }
}
