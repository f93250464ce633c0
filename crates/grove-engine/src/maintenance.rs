//! Maintenance: lease rescue and retention. SQLite is one node, so this
//! process is always the one that runs it; with several instances only a
//! leader needs to (a later change), but running it everywhere is safe:
//! rescue and prune are single transactions whose effects do not depend on
//! who runs them.

use std::sync::Arc;

use grove_store::{ExecutionPrune, LeaseRescue};
use tokio_util::sync::CancellationToken;

use crate::executor::record_outcome;
use crate::{EngineError, Shared};

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

    pub(crate) async fn run(self, shutdown: CancellationToken) -> Result<(), EngineError> {
        loop {
            if let Err(e) = rescue(&self.shared, false).await {
                tracing::warn!(error = %e, "lease rescue failed");
            }
            match prune(&self.shared).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "pruned old executions"),
                Err(e) => tracing::warn!(error = %e, "pruning executions failed"),
            }
            self.shared.events.collect();
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = self.shared.maintenance_wake.notified() => {}
                () = tokio::time::sleep(self.shared.settings.maintenance_interval) => {}
            }
        }
    }
}
