//! Group commit. Executors (and the application's Run Now and audit
//! trail) hand what they would write alone (an attempt's
//! outcome with its last log lines; a finished run's `lastExecution` and
//! journal entry) to a [`GroupCommit`]; whichever caller finds nobody
//! recording becomes the recorder and writes everything that has gathered
//! meanwhile in one store transaction, then the next gathering, until none
//! is left. A burst of short runs so costs one commit per batch instead of
//! one per run and step, with no timer and no added wait when runs are
//! few. Each caller goes on only after the commit that holds its item.
//!
//! A recorder whose future is dropped midway (its request timed out, its
//! client went away) hands the role on: the callers still waiting are
//! woken, and one of them records what is left.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::{Notify, oneshot};

/// Most items one transaction records.
const MAX_BATCH: usize = 256;

/// Items of type `I` waiting to be recorded, each with where its answer
/// `A` goes.
#[derive(Debug)]
pub struct GroupCommit<I, A> {
    pending: Mutex<Vec<(I, oneshot::Sender<A>)>>,
    /// Whether a caller is recording a batch now.
    recording: AtomicBool,
    /// Told whenever a recorder gives the role back, finished or dropped:
    /// a caller whose item is still pending then tries to take it.
    released: Notify,
}

impl<I, A> Default for GroupCommit<I, A> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            recording: AtomicBool::new(false),
            released: Notify::new(),
        }
    }
}

/// Gives the recorder's role back even when its future is dropped midway,
/// and tells the callers waiting.
struct Recording<'a>(&'a AtomicBool, &'a Notify);

impl Drop for Recording<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
        self.1.notify_waiters();
    }
}

impl<I, A> GroupCommit<I, A> {
    /// Records `item` in a batch with whatever else is waiting; `record`
    /// writes one batch and answers each item, in order. `None` when the
    /// recorder that took the item went away before answering (its task
    /// was dropped): the caller records it alone.
    pub async fn submit<F, Fut>(&self, item: I, record: F) -> Option<A>
    where
        F: Fn(Vec<I>) -> Fut,
        Fut: Future<Output = Vec<A>>,
    {
        let (reply, mut answer) = oneshot::channel();
        self.pending.lock().push((item, reply));
        loop {
            // Listening before looking at the role: a recorder that gives
            // it back after this caller found it taken is heard.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            self.record_pending(&record).await;
            tokio::select! {
                answered = &mut answer => return answered.ok(),
                () = released => {}
            }
        }
    }

    /// Takes the recorder's role, if free, and records batches until none
    /// is pending.
    async fn record_pending<F, Fut>(&self, record: &F)
    where
        F: Fn(Vec<I>) -> Fut,
        Fut: Future<Output = Vec<A>>,
    {
        while !self.pending.lock().is_empty()
            && self
                .recording
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            let _role = Recording(&self.recording, &self.released);
            loop {
                let batch: Vec<(I, oneshot::Sender<A>)> = {
                    let mut pending = self.pending.lock();
                    let n = pending.len().min(MAX_BATCH);
                    pending.drain(..n).collect()
                };
                if batch.is_empty() {
                    break;
                }
                let (items, replies): (Vec<I>, Vec<oneshot::Sender<A>>) = batch.into_iter().unzip();
                for (reply, answer) in replies.into_iter().zip(record(items).await) {
                    let _ = reply.send(answer);
                }
            }
        }
    }

    /// [`Self::submit`] for store writes: `together` writes a whole batch
    /// in one transaction (`None` when it failed as a whole), `alone` one
    /// item in its own. A failed batch is written again item by item, so
    /// that each item gets its own answer, and an item whose recorder went
    /// away is written alone.
    pub async fn write<T, TF, L, LF>(&self, item: I, together: T, alone: L) -> A
    where
        I: Clone,
        T: Fn(Vec<I>) -> TF,
        TF: Future<Output = Option<Vec<A>>>,
        L: Fn(I) -> LF,
        LF: Future<Output = A>,
    {
        let (together, alone) = (&together, &alone);
        let record = move |batch: Vec<I>| async move {
            if let Some(answers) = together(batch.clone()).await {
                return answers;
            }
            let mut answers = Vec::with_capacity(batch.len());
            for item in batch {
                answers.push(alone(item).await);
            }
            answers
        };
        match self.submit(item.clone(), record).await {
            Some(answer) => answer,
            None => alone(item).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Concurrent callers are answered, each with its own answer, in fewer
    /// batches than items.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_items_share_batches_and_get_their_answers() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::default();
        let batches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..200_u32 {
            let (group, batches) = (group.clone(), batches.clone());
            tasks.push(tokio::spawn(async move {
                group
                    .submit(i, |items| {
                        let batches = batches.clone();
                        async move {
                            batches.fetch_add(1, Ordering::Relaxed);
                            tokio::task::yield_now().await;
                            items.into_iter().map(|n| n * 2).collect()
                        }
                    })
                    .await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), Some(i as u32 * 2));
        }
        let n = batches.load(Ordering::Relaxed);
        assert!((1..=200).contains(&n), "{n} batches");
    }

    /// A recorder dropped in the middle of a batch (its request went
    /// away) leaves what was queued behind it to a caller still waiting,
    /// which records it rather than waiting for the next caller to come.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_recorder_dropped_midway_hands_its_role_on() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::default();
        let recording = Arc::new(tokio::sync::Notify::new());
        let first = {
            let (group, recording) = (group.clone(), recording.clone());
            tokio::spawn(async move {
                group
                    .submit(1, |items| {
                        let recording = recording.clone();
                        async move {
                            recording.notify_one();
                            std::future::pending::<()>().await;
                            items
                        }
                    })
                    .await
            })
        };
        recording.notified().await;
        let second = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .submit(2, |items| async move {
                        items.into_iter().map(|n| n * 10).collect()
                    })
                    .await
            })
        };
        // The second item is queued behind the first batch.
        while group.pending.lock().is_empty() {
            tokio::task::yield_now().await;
        }
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        let answered = tokio::time::timeout(std::time::Duration::from_secs(5), second)
            .await
            .expect("the waiting caller recorded its own item");
        assert_eq!(answered.unwrap(), Some(20));
    }

    /// A batch that fails as a whole is written item by item: every
    /// caller still gets its own answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_batch_is_written_item_by_item() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::default();
        let alone = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..50_u32 {
            let (group, alone) = (group.clone(), alone.clone());
            tasks.push(tokio::spawn(async move {
                group
                    .write(
                        i,
                        |_| async {
                            tokio::task::yield_now().await;
                            None
                        },
                        |n| {
                            alone.fetch_add(1, Ordering::Relaxed);
                            async move { n + 1 }
                        },
                    )
                    .await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i as u32 + 1);
        }
        assert_eq!(alone.load(Ordering::Relaxed), 50);
    }
}
