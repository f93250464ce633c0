//! Counters of this process's engine, read by `GET /metrics`.
//!
//! Process-local and reset at start, as Prometheus expects of counters;
//! totals across instances are the sum over instances.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use grove_store::ExecutionStatus;
use jiff::{SignedDuration, Timestamp};

/// Upper bounds (seconds) of the dispatch-latency histogram buckets.
pub const DISPATCH_BUCKETS: [f64; 10] =
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0];

/// Final statuses counted by [`EngineMetrics::finished`].
pub const FINAL_STATUSES: [ExecutionStatus; 5] = [
    ExecutionStatus::Success,
    ExecutionStatus::Partial,
    ExecutionStatus::Failed,
    ExecutionStatus::Cancelled,
    ExecutionStatus::Skipped,
];

#[derive(Debug, Default)]
pub(crate) struct EngineMetrics {
    attempts_started: AtomicU64,
    finished: [AtomicU64; FINAL_STATUSES.len()],
    /// Cumulative counts per bucket, then the +Inf bucket.
    dispatch: [AtomicU64; DISPATCH_BUCKETS.len() + 1],
    dispatch_sum_micros: AtomicU64,
    /// Late slots (`job.late`) raised in this process, by config id.
    late_slots: parking_lot::Mutex<BTreeMap<String, u64>>,
}

impl EngineMetrics {
    /// An attempt started at `started`; the first attempt of a scheduled
    /// run adds its dispatch latency (due instant — slot plus jitter — → start).
    pub(crate) fn attempt_started(
        &self,
        slot: Option<Timestamp>,
        attempt: u32,
        started: Timestamp,
    ) {
        self.attempts_started.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = slot.filter(|_| attempt == 1) else {
            return;
        };
        let latency = started.duration_since(slot).max(SignedDuration::ZERO);
        let secs = latency.as_secs_f64();
        let bucket = DISPATCH_BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(DISPATCH_BUCKETS.len());
        self.dispatch[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.dispatch_sum_micros
            .fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self, status: ExecutionStatus) {
        if let Some(i) = FINAL_STATUSES.iter().position(|&s| s == status) {
            self.finished[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A slot of `config_id` was late or missed (the dead-man's switch).
    pub(crate) fn late_slot(&self, config_id: &str) {
        *self
            .late_slots
            .lock()
            .entry(config_id.to_owned())
            .or_default() += 1;
    }

    pub(crate) fn snapshot(
        &self,
        running: usize,
        scheduled: usize,
        owned: usize,
        instances: usize,
    ) -> MetricsSnapshot {
        let mut cumulative = 0;
        let dispatch_buckets = self
            .dispatch
            .iter()
            .map(|c| {
                cumulative += c.load(Ordering::Relaxed);
                cumulative
            })
            .collect();
        MetricsSnapshot {
            attempts_started: self.attempts_started.load(Ordering::Relaxed),
            finished: FINAL_STATUSES
                .iter()
                .zip(&self.finished)
                .map(|(&s, c)| (s, c.load(Ordering::Relaxed)))
                .collect(),
            dispatch_buckets,
            dispatch_sum_seconds: self.dispatch_sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            running,
            scheduled,
            owned,
            instances,
            late_slots: self
                .late_slots
                .lock()
                .iter()
                .map(|(id, n)| (id.clone(), *n))
                .collect(),
        }
    }
}

/// A point-in-time copy of the engine's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub attempts_started: u64,
    /// Executions that ended in this process, by final status.
    pub finished: Vec<(ExecutionStatus, u64)>,
    /// Cumulative counts for [`DISPATCH_BUCKETS`], then +Inf (the total).
    pub dispatch_buckets: Vec<u64>,
    pub dispatch_sum_seconds: f64,
    /// Attempts running in this process now.
    pub running: usize,
    /// Configs the scheduler holds a next slot for.
    pub scheduled: usize,
    /// Of those, the configs whose slots this instance fires: its share
    /// among the live instances (all of them on SQLite).
    pub owned: usize,
    /// Live instances, this one included, as last read.
    pub instances: usize,
    /// Late slots raised in this process, by config id (in id order).
    pub late_slots: Vec<(String, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn latency_lands_in_cumulative_buckets_and_retries_do_not_count() {
        let m = EngineMetrics::default();
        let slot = ts("2026-03-01T02:00:00Z");
        m.attempt_started(Some(slot), 1, ts("2026-03-01T02:00:00.003Z"));
        m.attempt_started(Some(slot), 1, ts("2026-03-01T02:00:02Z"));
        m.attempt_started(Some(slot), 2, ts("2026-03-01T02:05:00Z"));
        m.attempt_started(None, 1, ts("2026-03-01T02:05:00Z"));
        m.finished(ExecutionStatus::Failed);
        m.finished(ExecutionStatus::Running);
        let s = m.snapshot(1, 7, 3, 2);
        assert_eq!(s.attempts_started, 4);
        assert_eq!(s.dispatch_buckets, vec![0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        assert!((s.dispatch_sum_seconds - 2.003).abs() < 1e-9);
        assert_eq!(
            s.finished.iter().map(|(_, n)| n).sum::<u64>(),
            1,
            "only final statuses count"
        );
        assert_eq!((s.running, s.scheduled, s.owned, s.instances), (1, 7, 3, 2));
        assert!(s.late_slots.is_empty());
        m.late_slot("b");
        m.late_slot("a");
        m.late_slot("b");
        assert_eq!(
            m.snapshot(0, 0, 0, 1).late_slots,
            vec![("a".to_owned(), 1), ("b".to_owned(), 2)]
        );
    }
}
