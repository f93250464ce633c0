//! Executions on PostgreSQL. Same semantics as `sqlite/executions.rs` (the
//! conformance suite runs against both); what differs is that several
//! instances write at once, so every "check, then change" is made safe in
//! the database:
//!
//! - **Slots** are unique on `(config_id, scheduled_for)`: an insert of a
//!   slot another instance already recorded does nothing (`Duplicate`).
//! - **Per-config decisions** (the overlap check of a scheduled insert, the
//!   `maxConcurrent` count of a claim) run under a transaction-scoped
//!   advisory lock keyed by the config id, taken in sorted order so two
//!   claimers never wait on each other in a cycle.
//! - **Claims** pick due rows with `FOR UPDATE SKIP LOCKED`: instances
//!   claiming at once take different executions and never block each
//!   other on rows.
//! - **Lease rescue** also skips locked attempts, so two instances rescuing
//!   at once abandon each attempt once.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::PostgresStore;
use crate::executions::{
    Attempt, AttemptHeartbeat, AttemptOutcome, AttemptReason, AttemptStatus, CancelOutcome,
    Claimed, Counts, Execution, ExecutionClaim, ExecutionFinish, ExecutionInsert, ExecutionPrune,
    ExecutionStatus, ExecutionStore, HeartbeatReply, InsertDisposition, InsertOutcome, LeaseRescue,
    LogInsert, LogLevel, LogLine, Rescued, Settlement, SlotPosition, Trigger, settlement,
};
use crate::{StoreError, from_millis, to_millis};

/// The columns [`execution_from_row`] reads, for SELECT and RETURNING.
const COLUMNS: &str = "id, config_id, trigger, status, reason, late, scheduled_for, created_at, \
    started_at, completed_at, available_at, attempt_count, max_concurrent, config_version, \
    payload, retry, items_processed, items_total, items_succeeded, items_failed, error, metadata, \
    retry_of, actor, cancel_requested";

/// Rows per multi-row log insert (5 columns × 1000 stays far below the
/// 65535 bound-parameter limit).
const LOG_ROWS: usize = 1000;

fn opt_ts(row: &PgRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    row.try_get::<Option<i64>, _>(col)?
        .map(from_millis)
        .transpose()
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn execution_from_row(row: &PgRow) -> Result<Execution, StoreError> {
    Ok(Execution {
        id: row.try_get("id")?,
        config_id: row.try_get("config_id")?,
        trigger: Trigger::parse(row.try_get("trigger")?)?,
        status: ExecutionStatus::parse(row.try_get("status")?)?,
        reason: row.try_get("reason")?,
        late: row.try_get("late")?,
        scheduled_for: opt_ts(row, "scheduled_for")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        started_at: opt_ts(row, "started_at")?,
        completed_at: opt_ts(row, "completed_at")?,
        available_at: from_millis(row.try_get("available_at")?)?,
        attempt_count: u32_of(row.try_get("attempt_count")?),
        max_concurrent: u32::try_from(row.try_get::<i64, _>("max_concurrent")?).unwrap_or(1),
        config_version: row.try_get("config_version")?,
        payload: row.try_get("payload")?,
        retry: serde_json::from_value(row.try_get::<Value, _>("retry")?)?,
        counts: Counts {
            processed: u64_of(row.try_get("items_processed")?),
            total: row.try_get::<Option<i64>, _>("items_total")?.map(u64_of),
            succeeded: u64_of(row.try_get("items_succeeded")?),
            failed: u64_of(row.try_get("items_failed")?),
        },
        error: row.try_get("error")?,
        metadata: row.try_get("metadata")?,
        retry_of: row.try_get("retry_of")?,
        actor: row.try_get("actor")?,
        cancel_requested: row.try_get("cancel_requested")?,
        attempts: Vec::new(),
    })
}

fn attempt_from_row(row: &PgRow) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        attempt: u32_of(row.try_get("attempt")?),
        status: AttemptStatus::parse(row.try_get("status")?)?,
        started_at: from_millis(row.try_get("started_at")?)?,
        completed_at: opt_ts(row, "completed_at")?,
        error: row.try_get("error")?,
        reason: row
            .try_get::<Option<String>, _>("reason")?
            .map(|r| AttemptReason::parse(&r))
            .transpose()?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: opt_ts(row, "lease_expires_at")?,
    })
}

type Tx<'a> = Transaction<'a, Postgres>;

async fn get_in(tx: &mut Tx<'_>, id: &str) -> Result<Option<Execution>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM executions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(execution_from_row).transpose()
}

/// Serialises per-config decisions across instances until the transaction
/// ends. Callers locking several configs lock them in sorted order.
async fn lock_config(tx: &mut Tx<'_>, config_id: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('grove-exec:' || $1, 0))")
        .bind(config_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn advance_position(
    tx: &mut Tx<'_>,
    config_id: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO slot_positions (config_id, last_scheduled_for) VALUES ($1, $2) \
         ON CONFLICT (config_id) DO UPDATE SET last_scheduled_for = \
         GREATEST(slot_positions.last_scheduled_for, excluded.last_scheduled_for)",
    )
    .bind(config_id)
    .bind(to_millis(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_in(tx: &mut Tx<'_>, p: ExecutionInsert) -> Result<InsertOutcome, StoreError> {
    let skip_reason = match &p.disposition {
        InsertDisposition::Queue => None,
        InsertDisposition::Skip(reason) => Some(reason.clone()),
        InsertDisposition::SkipWhenBusy => {
            lock_config(tx, &p.config_id).await?;
            let active: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM executions WHERE config_id = $1 \
                 AND status IN ('queued', 'running')",
            )
            .bind(&p.config_id)
            .fetch_one(&mut **tx)
            .await?;
            (active >= i64::from(p.max_concurrent)).then(|| "overlap".to_owned())
        }
    };
    let now = to_millis(p.now);
    let status = if skip_reason.is_some() {
        ExecutionStatus::Skipped
    } else {
        ExecutionStatus::Queued
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO executions (id, config_id, trigger, status, reason, late, scheduled_for, \
         created_at, completed_at, available_at, max_concurrent, config_version, payload, retry, \
         retry_of, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16) ON CONFLICT (config_id, scheduled_for) DO NOTHING RETURNING {COLUMNS}"
    )))
    .bind(&p.id)
    .bind(&p.config_id)
    .bind(p.trigger.as_str())
    .bind(status.as_str())
    .bind(&skip_reason)
    .bind(p.late)
    .bind(p.scheduled_for.map(to_millis))
    .bind(now)
    .bind(skip_reason.as_ref().map(|_| now))
    .bind(now)
    .bind(i64::from(p.max_concurrent))
    .bind(p.config_version)
    .bind(&p.payload)
    .bind(serde_json::to_value(p.retry)?)
    .bind(&p.retry_of)
    .bind(&p.actor)
    .fetch_optional(&mut **tx)
    .await?;
    if let (Some(slot), Trigger::Schedule) = (p.scheduled_for, p.trigger) {
        advance_position(tx, &p.config_id, slot).await?;
    }
    let Some(row) = row else {
        return Ok(InsertOutcome::Duplicate);
    };
    let execution = execution_from_row(&row)?;
    Ok(if skip_reason.is_some() {
        InsertOutcome::Skipped(execution)
    } else {
        InsertOutcome::Queued(execution)
    })
}

/// Ends the running attempt `attempt` and moves its execution on: queued
/// again for a retry, or final. Shared by finish and rescue.
async fn settle(
    tx: &mut Tx<'_>,
    execution: &Execution,
    attempt: u32,
    now: Timestamp,
    outcome: &AttemptOutcome,
) -> Result<Execution, StoreError> {
    let now_ms = to_millis(now);
    sqlx::query(
        "UPDATE execution_attempts SET status = $1, reason = $2, error = $3, completed_at = $4, \
         lease_owner = NULL, lease_expires_at = NULL WHERE execution_id = $5 AND attempt = $6",
    )
    .bind(outcome.status.as_str())
    .bind(outcome.reason.map(AttemptReason::as_str))
    .bind(&outcome.error)
    .bind(now_ms)
    .bind(&execution.id)
    .bind(i64::from(attempt))
    .execute(&mut **tx)
    .await?;
    let Settlement {
        status,
        completed_at,
        available_at,
    } = settlement(execution, attempt, now, outcome.status);
    let (completed_at, available_at) = (completed_at.map(to_millis), to_millis(available_at));
    let c = outcome.counts;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE executions SET status = $1, completed_at = $2, available_at = $3, error = $4, \
         items_processed = $5, items_total = $6, items_succeeded = $7, items_failed = $8, \
         metadata = $9 WHERE id = $10 RETURNING {COLUMNS}"
    )))
    .bind(status.as_str())
    .bind(completed_at)
    .bind(available_at)
    .bind(&outcome.error)
    .bind(i64_of(c.processed))
    .bind(c.total.map(i64_of))
    .bind(i64_of(c.succeeded))
    .bind(i64_of(c.failed))
    .bind(&outcome.metadata)
    .bind(&execution.id)
    .fetch_one(&mut **tx)
    .await?;
    execution_from_row(&row)
}

#[async_trait]
impl ExecutionStore for PostgresStore {
    async fn execution_insert_slots(
        &self,
        inserts: Vec<ExecutionInsert>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(inserts.len());
        for p in inserts {
            out.push(insert_in(&mut tx, p).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_insert(&self, insert: ExecutionInsert) -> Result<InsertOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let out = insert_in(&mut tx, insert).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_claim(&self, p: ExecutionClaim) -> Result<Vec<Claimed>, StoreError> {
        let now = to_millis(p.now);
        let mut tx = self.pool.begin().await?;
        // Candidates in due order, locked so no other instance takes them;
        // some may be held back by maxConcurrent, so look a little further
        // than `limit`.
        let candidates = sqlx::query(
            "SELECT id, config_id, max_concurrent FROM executions \
             WHERE status = 'queued' AND available_at <= $1 \
             ORDER BY available_at, created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(i64::from(p.limit).saturating_mul(4).max(64))
        .fetch_all(&mut *tx)
        .await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let configs: BTreeSet<String> = candidates
            .iter()
            .map(|r| r.try_get("config_id"))
            .collect::<Result<_, _>>()?;
        for config_id in &configs {
            lock_config(&mut tx, config_id).await?;
        }
        // Counted after the locks: every claim of these configs that
        // committed before is seen, none can commit until this one does.
        let configs: Vec<String> = configs.into_iter().collect();
        let mut running: HashMap<String, i64> = sqlx::query(
            "SELECT config_id, COUNT(*) AS n FROM executions \
             WHERE status = 'running' AND config_id = ANY($1) GROUP BY config_id",
        )
        .bind(&configs)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("config_id")?, r.try_get("n")?)))
        .collect::<Result<_, StoreError>>()?;
        let mut chosen: Vec<String> = Vec::new();
        for row in &candidates {
            if chosen.len() >= p.limit as usize {
                break;
            }
            let config_id: String = row.try_get("config_id")?;
            let max: i64 = row.try_get("max_concurrent")?;
            let n = running.entry(config_id).or_insert(0);
            if *n >= max {
                continue;
            }
            *n += 1;
            chosen.push(row.try_get("id")?);
        }
        if chosen.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE executions SET status = 'running', attempt_count = attempt_count + 1, \
             started_at = COALESCE(started_at, $1) WHERE id = ANY($2) RETURNING {COLUMNS}"
        )))
        .bind(now)
        .bind(&chosen)
        .fetch_all(&mut *tx)
        .await?;
        let mut by_id: HashMap<String, Execution> = rows
            .iter()
            .map(|r| execution_from_row(r).map(|e| (e.id.clone(), e)))
            .collect::<Result<_, StoreError>>()?;
        let mut claimed = Vec::with_capacity(chosen.len());
        let mut attempts: Vec<i64> = Vec::with_capacity(chosen.len());
        for id in &chosen {
            let execution = by_id.remove(id).ok_or(StoreError::NotFound)?;
            attempts.push(i64::from(execution.attempt_count));
            claimed.push(Claimed {
                attempt: execution.attempt_count,
                execution,
            });
        }
        sqlx::query(
            "INSERT INTO execution_attempts (execution_id, attempt, status, started_at, \
             lease_owner, lease_expires_at) \
             SELECT id, attempt, 'running', $3, $4, $5 FROM UNNEST($1::text[], $2::bigint[]) \
             AS t (id, attempt)",
        )
        .bind(&chosen)
        .bind(&attempts)
        .bind(now)
        .bind(&p.owner)
        .bind(to_millis(p.lease_until))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn attempt_heartbeat(&self, p: AttemptHeartbeat) -> Result<HeartbeatReply, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE execution_attempts SET lease_expires_at = $1 WHERE execution_id = $2 \
             AND attempt = $3 AND status = 'running' AND lease_owner = $4",
        )
        .bind(to_millis(p.lease_until))
        .bind(&p.execution_id)
        .bind(i64::from(p.attempt))
        .bind(&p.owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let cancel: bool = match p.counts {
            Some(c) => {
                sqlx::query_scalar(
                    "UPDATE executions SET items_processed = $1, items_total = $2, \
                 items_succeeded = $3, items_failed = $4 WHERE id = $5 RETURNING cancel_requested",
                )
                .bind(i64_of(c.processed))
                .bind(c.total.map(i64_of))
                .bind(i64_of(c.succeeded))
                .bind(i64_of(c.failed))
                .bind(&p.execution_id)
                .fetch_one(&mut *tx)
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT cancel_requested FROM executions WHERE id = $1")
                    .bind(&p.execution_id)
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        tx.commit().await?;
        Ok(HeartbeatReply {
            cancel_requested: cancel,
        })
    }

    async fn execution_finish(&self, p: ExecutionFinish) -> Result<Execution, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locks the attempt row: a concurrent rescue either ran first (the
        // attempt is no longer ours) or waits and then finds it ended.
        let owner: Option<Option<String>> = sqlx::query_scalar(
            "SELECT lease_owner FROM execution_attempts WHERE execution_id = $1 AND attempt = $2 \
             AND status = 'running' FOR UPDATE",
        )
        .bind(&p.execution_id)
        .bind(i64::from(p.attempt))
        .fetch_optional(&mut *tx)
        .await?;
        if owner.flatten().as_deref() != Some(p.owner.as_str()) {
            return Err(StoreError::NotFound);
        }
        let execution = get_in(&mut tx, &p.execution_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let after = settle(&mut tx, &execution, p.attempt, p.now, &p.outcome).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn execution_cancel(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<CancelOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM executions WHERE id = $1 FOR UPDATE"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let execution = row
            .as_ref()
            .map(execution_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        let out = match execution.status {
            ExecutionStatus::Queued => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE executions SET status = 'cancelled', cancel_requested = TRUE, \
                     completed_at = $1 WHERE id = $2 RETURNING {COLUMNS}"
                )))
                .bind(to_millis(now))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                CancelOutcome::Cancelled(execution_from_row(&row)?)
            }
            ExecutionStatus::Running => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE executions SET cancel_requested = TRUE WHERE id = $1 RETURNING {COLUMNS}"
                )))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                CancelOutcome::Requested(execution_from_row(&row)?)
            }
            _ => CancelOutcome::AlreadyFinal(execution),
        };
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_get(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(mut execution) = get_in(&mut tx, id).await? else {
            return Ok(None);
        };
        execution.attempts = sqlx::query(
            "SELECT attempt, status, reason, error, started_at, completed_at, lease_owner, \
             lease_expires_at FROM execution_attempts WHERE execution_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(attempt_from_row)
        .collect::<Result<_, _>>()?;
        tx.commit().await?;
        Ok(Some(execution))
    }

    async fn execution_list(
        &self,
        config_id: &str,
        limit: u32,
    ) -> Result<Vec<Execution>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM executions WHERE config_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(config_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(execution_from_row)
        .collect()
    }

    async fn execution_next_due(&self, after: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(available_at) FROM executions WHERE status = 'queued' AND available_at > $1",
        )
        .bind(to_millis(after))
        .fetch_one(&self.pool)
        .await?;
        at.map(from_millis).transpose()
    }

    async fn lease_rescue(&self, p: LeaseRescue) -> Result<Vec<Rescued>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // An attempt being finished (or rescued) elsewhere is locked and
        // skipped: it is not abandoned.
        let rows = sqlx::query(
            "SELECT execution_id, attempt FROM execution_attempts WHERE status = 'running' \
             AND ($1 OR lease_expires_at < $2) ORDER BY execution_id FOR UPDATE SKIP LOCKED",
        )
        .bind(p.all_running)
        .bind(to_millis(p.now))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("execution_id")?;
            let attempt = u32_of(row.try_get("attempt")?);
            let Some(execution) = get_in(&mut tx, &id).await? else {
                continue;
            };
            let outcome = AttemptOutcome::abandoned(&execution);
            let after = settle(&mut tx, &execution, attempt, p.now, &outcome).await?;
            out.push(Rescued {
                execution: after,
                attempt,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_prune(&self, p: ExecutionPrune) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM executions WHERE id IN (\
               SELECT id FROM (\
                 SELECT id, status, ROW_NUMBER() OVER (PARTITION BY config_id \
                   ORDER BY created_at DESC, id DESC) AS n FROM executions) ranked \
               WHERE n > $1 AND status NOT IN ('queued', 'running') LIMIT $2)",
        )
        .bind(i64::from(p.keep_per_config))
        .bind(i64::from(p.limit))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn log_append(&self, lines: Vec<LogInsert>) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for chunk in lines.chunks(LOG_ROWS) {
            let ids: Vec<&str> = chunk.iter().map(|l| l.execution_id.as_str()).collect();
            let attempts: Vec<i64> = chunk.iter().map(|l| i64::from(l.attempt)).collect();
            let ats: Vec<i64> = chunk.iter().map(|l| to_millis(l.at)).collect();
            let levels: Vec<&str> = chunk.iter().map(|l| l.level.as_str()).collect();
            let messages: Vec<&str> = chunk.iter().map(|l| l.message.as_str()).collect();
            sqlx::query(
                "INSERT INTO execution_logs (execution_id, attempt, at, level, message) \
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], \
                 $5::text[])",
            )
            .bind(&ids)
            .bind(&attempts)
            .bind(&ats)
            .bind(&levels)
            .bind(&messages)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn log_list(
        &self,
        execution_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>, StoreError> {
        sqlx::query(
            "SELECT seq, attempt, at, level, message FROM execution_logs \
             WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(execution_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(LogLine {
                seq: r.try_get("seq")?,
                attempt: u32_of(r.try_get("attempt")?),
                at: from_millis(r.try_get("at")?)?,
                level: LogLevel::parse(r.try_get("level")?)?,
                message: r.try_get("message")?,
            })
        })
        .collect()
    }

    async fn slot_positions(&self) -> Result<Vec<SlotPosition>, StoreError> {
        sqlx::query("SELECT config_id, last_scheduled_for FROM slot_positions")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(SlotPosition {
                    config_id: r.try_get("config_id")?,
                    last_scheduled_for: from_millis(r.try_get("last_scheduled_for")?)?,
                })
            })
            .collect()
    }

    async fn slot_position_advance(
        &self,
        config_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        advance_position(&mut tx, config_id, at).await?;
        tx.commit().await?;
        Ok(())
    }
}
