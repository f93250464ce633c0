//! Maintenance: lease rescue, retention and the dead-man's switch's
//! silence check (see `deadman`), run by the leader only. On
//! SQLite (one process) this process always leads; with several instances
//! on PostgreSQL they elect one through a lease row that the leader renews
//! at each round and gives up at shutdown. Were two ever to run it at once
//! (a leader paused past its lease), nothing breaks: rescue skips attempts
//! another transaction holds and prune is one idempotent statement.

use std::sync::Arc;

use grove_store::{ExecutionPrune, LeaseRescue};
use tokio_util::sync::CancellationToken;

use crate::deadman::SilenceWatch;
use crate::executor::record_outcome;
use crate::{EngineError, Shared};

/// The name of the maintenance leader's lease.
const LEADER_LEASE: &str = "maintenance";

/// Executions deleted per prune transaction.
const PRUNE_BATCH: u32 = 1_000;

pub(crate) struct Maintenance {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Maintenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maintenance").finish_non_exhaustive()
    }
}

/// Abandons attempts whose lease expired (with `all_running`: every running
/// attempt — a single-node store at start-up, where nothing else can be
/// running them) and moves their executions on per their retry policy.
pub(crate) async fn rescue(shared: &Arc<Shared>, all_running: bool) -> Result<usize, EngineError> {
    let rescued = shared
        .store
        .lease_rescue(LeaseRescue {
            now: shared.clock.now(),
            all_running,
        })
        .await?;
    for r in &rescued {
        tracing::warn!(
            job = %r.execution.config_id,
            run = %r.execution.id,
            attempt = r.attempt,
            status = %r.execution.status,
            "attempt abandoned: its lease expired"
        );
        if r.execution.status.is_final() {
            shared.events.end(
                &r.execution.id,
                r.execution.status,
                r.execution.error.clone(),
            );
            record_outcome(shared, &r.execution).await;
        }
    }
    if !rescued.is_empty() {
        shared.executor_wake.notify_one();
    }
    Ok(rescued.len())
}

/// Deletes executions beyond the newest `retention_per_config` per config.
pub(crate) async fn prune(shared: &Shared) -> Result<u64, EngineError> {
    let mut total = 0;
    loop {
        let n = shared
            .store
            .execution_prune(ExecutionPrune {
                keep_per_config: shared.settings.retention_per_config,
                limit: PRUNE_BATCH,
            })
            .await?;
        total += n;
        if n < u64::from(PRUNE_BATCH) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

impl Maintenance {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// How long a leadership lasts without renewal: long enough to survive
    /// a round's work, short enough that a dead leader is replaced about as
    /// fast as its attempts' leases expire.
    fn leadership_term(&self) -> jiff::SignedDuration {
        let s = &self.shared.settings;
        let d = s.lease.max(s.maintenance_interval * 3);
        jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX)
    }

    /// Takes or renews the leadership; whether this process leads now.
    async fn lead(&self, leading: &mut Option<i64>) -> bool {
        let now = self.shared.clock.now();
        let until = now.saturating_add(self.leadership_term()).unwrap_or(now);
        let term = self
            .shared
            .store
            .leader_acquire(LEADER_LEASE, &self.shared.owner, now, until)
            .await;
        let term = match term {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the maintenance leadership");
                None
            }
        };
        if term != *leading {
            match term {
                Some(t) => {
                    tracing::info!(term = t, "leading maintenance (lease rescue, retention)")
                }
                None => tracing::info!("another instance leads maintenance"),
            }
            *leading = term;
        }
        term.is_some()
    }

    pub(crate) async fn run(self, shutdown: CancellationToken) -> Result<(), EngineError> {
        let mut leading = None;
        let mut silence = SilenceWatch::default();
        loop {
            if !self.lead(&mut leading).await {
                self.shared.events.collect();
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = self.shared.maintenance_wake.notified() => {}
                    () = tokio::time::sleep(self.shared.settings.maintenance_interval) => {}
                }
                continue;
            }
            if let Err(e) = rescue(&self.shared, false).await {
                tracing::warn!(error = %e, "lease rescue failed");
            }
            match prune(&self.shared).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "pruned old executions"),
                Err(e) => tracing::warn!(error = %e, "pruning executions failed"),
            }
            if let Err(e) = silence.check(&self.shared).await {
                tracing::warn!(error = %e, "the silence check (alerts.maxSilenceSeconds) failed");
            }
            self.shared.events.collect();
            tokio::select! {
                () = shutdown.cancelled() => {
                    // Hand over at once instead of after the lease expires.
                    let owner = &self.shared.owner;
                    if let Err(e) = self.shared.store.leader_resign(LEADER_LEASE, owner).await {
                        tracing::warn!(error = %e, "cannot resign the maintenance leadership");
                    }
                    return Ok(());
                }
                () = self.shared.maintenance_wake.notified() => {}
                () = tokio::time::sleep(self.shared.settings.maintenance_interval) => {}
            }
        }
    }
}
