//! Executions on PostgreSQL: not in this build yet. Every verb answers
//! [`StoreError::Config`] so a PostgreSQL deployment fails loudly when the
//! engine starts instead of losing runs. The SQLite adapter
//! (`sqlite/executions.rs`) and the conformance suite
//! (`tests/conformance/executions.rs`) define the semantics to match; the
//! intended shape here: claims as `SELECT … FOR UPDATE SKIP LOCKED` over
//! due queued executions, `maxConcurrent` enforced per config under
//! `pg_advisory_xact_lock(hash(config_id))` (or a running-count row updated
//! in the claim), slot uniqueness by the `(config_id, scheduled_for)`
//! unique constraint with `ON CONFLICT DO NOTHING`.

use async_trait::async_trait;
use jiff::Timestamp;

use super::PostgresStore;
use crate::StoreError;
use crate::executions::{
    AttemptHeartbeat, CancelOutcome, Claimed, Execution, ExecutionClaim, ExecutionFinish,
    ExecutionInsert, ExecutionPrune, ExecutionStore, HeartbeatReply, InsertOutcome, LeaseRescue,
    LogInsert, LogLine, Rescued, SlotPosition,
};

fn unavailable<T>() -> Result<T, StoreError> {
    Err(StoreError::Config(
        "executions are not available on PostgreSQL in this build yet; use a sqlite:// URL"
            .to_owned(),
    ))
}

#[async_trait]
impl ExecutionStore for PostgresStore {
    async fn execution_insert_slots(
        &self,
        _inserts: Vec<ExecutionInsert>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        unavailable()
    }

    async fn execution_insert(
        &self,
        _insert: ExecutionInsert,
    ) -> Result<InsertOutcome, StoreError> {
        unavailable()
    }

    async fn execution_claim(&self, _params: ExecutionClaim) -> Result<Vec<Claimed>, StoreError> {
        unavailable()
    }

    async fn attempt_heartbeat(
        &self,
        _params: AttemptHeartbeat,
    ) -> Result<HeartbeatReply, StoreError> {
        unavailable()
    }

    async fn execution_finish(&self, _params: ExecutionFinish) -> Result<Execution, StoreError> {
        unavailable()
    }

    async fn execution_cancel(
        &self,
        _id: &str,
        _now: Timestamp,
    ) -> Result<CancelOutcome, StoreError> {
        unavailable()
    }

    async fn execution_get(&self, _id: &str) -> Result<Option<Execution>, StoreError> {
        unavailable()
    }

    async fn execution_list(
        &self,
        _config_id: &str,
        _limit: u32,
    ) -> Result<Vec<Execution>, StoreError> {
        unavailable()
    }

    async fn execution_next_due(&self, _after: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        unavailable()
    }

    async fn lease_rescue(&self, _params: LeaseRescue) -> Result<Vec<Rescued>, StoreError> {
        unavailable()
    }

    async fn execution_prune(&self, _params: ExecutionPrune) -> Result<u64, StoreError> {
        unavailable()
    }

    async fn log_append(&self, _lines: Vec<LogInsert>) -> Result<(), StoreError> {
        unavailable()
    }

    async fn log_list(
        &self,
        _execution_id: &str,
        _after: i64,
        _limit: u32,
    ) -> Result<Vec<LogLine>, StoreError> {
        unavailable()
    }

    async fn slot_positions(&self) -> Result<Vec<SlotPosition>, StoreError> {
        unavailable()
    }

    async fn slot_position_advance(
        &self,
        _config_id: &str,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        unavailable()
    }
}
