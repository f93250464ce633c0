//! Executions on SQLite. Every write verb is one transaction on the
//! single-connection writer pool, so "check, then change" (the overlap
//! check, `maxConcurrent` in claims, the retry decision) cannot race: only
//! one writer exists. (PostgreSQL needs `FOR UPDATE SKIP LOCKED` and a
//! per-config lock for the same guarantees.)

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::SqliteStore;
use crate::executions::{
    Attempt, AttemptHeartbeat, AttemptReason, AttemptStatus, CancelOutcome, Claimed, Counts,
    Execution, ExecutionClaim, ExecutionFinish, ExecutionInsert, ExecutionPrune, ExecutionStatus,
    ExecutionStore, HeartbeatReply, InsertDisposition, InsertOutcome, LeaseRescue, LogInsert,
    LogLevel, LogLine, Rescued, Settlement, SlotPosition, Trigger, settlement,
};
use crate::{StoreError, from_millis, to_millis};

/// The columns [`execution_from_row`] reads, for SELECT and RETURNING.
macro_rules! columns {
    () => {
        "id, config_id, trigger, status, reason, late, scheduled_for, created_at, started_at, \
         completed_at, available_at, attempt_count, max_concurrent, config_version, payload, \
         retry, items_processed, items_total, items_succeeded, items_failed, error, metadata, \
         retry_of, actor, cancel_requested"
    };
}

const SELECT: &str = concat!("SELECT ", columns!(), " FROM executions");

fn opt_ts(row: &SqliteRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
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

fn execution_from_row(row: &SqliteRow) -> Result<Execution, StoreError> {
    Ok(Execution {
        id: row.try_get("id")?,
        config_id: row.try_get("config_id")?,
        trigger: Trigger::parse(row.try_get("trigger")?)?,
        status: ExecutionStatus::parse(row.try_get("status")?)?,
        reason: row.try_get("reason")?,
        late: row.try_get::<i64, _>("late")? != 0,
        scheduled_for: opt_ts(row, "scheduled_for")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        started_at: opt_ts(row, "started_at")?,
        completed_at: opt_ts(row, "completed_at")?,
        available_at: from_millis(row.try_get("available_at")?)?,
        attempt_count: u32::try_from(row.try_get::<i64, _>("attempt_count")?).unwrap_or(0),
        max_concurrent: u32::try_from(row.try_get::<i64, _>("max_concurrent")?).unwrap_or(1),
        config_version: row.try_get("config_version")?,
        payload: serde_json::from_str(row.try_get("payload")?)?,
        retry: serde_json::from_str(row.try_get("retry")?)?,
        counts: Counts {
            processed: u64_of(row.try_get("items_processed")?),
            total: row.try_get::<Option<i64>, _>("items_total")?.map(u64_of),
            succeeded: u64_of(row.try_get("items_succeeded")?),
            failed: u64_of(row.try_get("items_failed")?),
        },
        error: row.try_get("error")?,
        metadata: serde_json::from_str(row.try_get("metadata")?)?,
        retry_of: row.try_get("retry_of")?,
        actor: row.try_get("actor")?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        attempts: Vec::new(),
    })
}

fn attempt_from_row(row: &SqliteRow) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        attempt: u32::try_from(row.try_get::<i64, _>("attempt")?).unwrap_or(0),
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

async fn get_in(
    tx: &mut Transaction<'_, Sqlite>,
    id: &str,
) -> Result<Option<Execution>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = ?")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(execution_from_row).transpose()
}

async fn active_count(
    tx: &mut Transaction<'_, Sqlite>,
    config_id: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM executions WHERE config_id = ? AND status IN ('queued', 'running')",
    )
    .bind(config_id)
    .fetch_one(&mut **tx)
    .await?)
}

async fn advance_position(
    tx: &mut Transaction<'_, Sqlite>,
    config_id: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO slot_positions (config_id, last_scheduled_for) VALUES (?, ?) \
         ON CONFLICT (config_id) DO UPDATE SET last_scheduled_for = \
         MAX(last_scheduled_for, excluded.last_scheduled_for)",
    )
    .bind(config_id)
    .bind(to_millis(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_in(
    tx: &mut Transaction<'_, Sqlite>,
    p: ExecutionInsert,
) -> Result<InsertOutcome, StoreError> {
    let skip_reason = match &p.disposition {
        InsertDisposition::Queue => None,
        InsertDisposition::Skip(reason) => Some(reason.clone()),
        InsertDisposition::SkipWhenBusy => {
            let busy = active_count(tx, &p.config_id).await? >= i64::from(p.max_concurrent);
            busy.then(|| "overlap".to_owned())
        }
    };
    let now = to_millis(p.now);
    let status = if skip_reason.is_some() {
        ExecutionStatus::Skipped
    } else {
        ExecutionStatus::Queued
    };
    let row = sqlx::query(concat!(
        "INSERT INTO executions (id, config_id, trigger, status, reason, late, scheduled_for, \
         created_at, completed_at, available_at, max_concurrent, config_version, payload, retry, \
         retry_of, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (config_id, scheduled_for) DO NOTHING RETURNING ",
        columns!()
    ))
    .bind(&p.id)
    .bind(&p.config_id)
    .bind(p.trigger.as_str())
    .bind(status.as_str())
    .bind(&skip_reason)
    .bind(i64::from(p.late))
    .bind(p.scheduled_for.map(to_millis))
    .bind(now)
    .bind(skip_reason.as_ref().map(|_| now))
    .bind(now)
    .bind(i64::from(p.max_concurrent))
    .bind(p.config_version)
    .bind(serde_json::to_string(&p.payload)?)
    .bind(serde_json::to_string(&p.retry)?)
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
    tx: &mut Transaction<'_, Sqlite>,
    execution: &Execution,
    attempt: u32,
    now: Timestamp,
    outcome: &crate::executions::AttemptOutcome,
) -> Result<(), StoreError> {
    let now_ms = to_millis(now);
    sqlx::query(
        "UPDATE execution_attempts SET status = ?, reason = ?, error = ?, completed_at = ?, \
         lease_owner = NULL, lease_expires_at = NULL WHERE execution_id = ? AND attempt = ?",
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
    sqlx::query(
        "UPDATE executions SET status = ?, completed_at = ?, available_at = ?, error = ?, \
         items_processed = ?, items_total = ?, items_succeeded = ?, items_failed = ?, \
         metadata = ? WHERE id = ?",
    )
    .bind(status.as_str())
    .bind(completed_at)
    .bind(available_at)
    .bind(&outcome.error)
    .bind(i64_of(c.processed))
    .bind(c.total.map(i64_of))
    .bind(i64_of(c.succeeded))
    .bind(i64_of(c.failed))
    .bind(serde_json::to_string(&outcome.metadata)?)
    .bind(&execution.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl ExecutionStore for SqliteStore {
    async fn execution_insert_slots(
        &self,
        inserts: Vec<ExecutionInsert>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut tx = self.write.begin().await?;
        let mut out = Vec::with_capacity(inserts.len());
        for p in inserts {
            out.push(insert_in(&mut tx, p).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_insert(&self, insert: ExecutionInsert) -> Result<InsertOutcome, StoreError> {
        let mut tx = self.write.begin().await?;
        let out = insert_in(&mut tx, insert).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_claim(&self, p: ExecutionClaim) -> Result<Vec<Claimed>, StoreError> {
        let now = to_millis(p.now);
        let mut tx = self.write.begin().await?;
        // Candidates in due order; some may be held back by maxConcurrent,
        // so look a little further than `limit`.
        let candidates = sqlx::query(
            "SELECT id, config_id, max_concurrent FROM executions \
             WHERE status = 'queued' AND available_at <= ? \
             ORDER BY available_at, created_at, id LIMIT ?",
        )
        .bind(now)
        .bind(i64::from(p.limit).saturating_mul(4).max(64))
        .fetch_all(&mut *tx)
        .await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let running: HashMap<String, i64> = sqlx::query(
            "SELECT config_id, COUNT(*) AS n FROM executions WHERE status = 'running' \
             GROUP BY config_id",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("config_id")?, r.try_get("n")?)))
        .collect::<Result<_, StoreError>>()?;
        let mut running = running;
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
            return Ok(Vec::new());
        }
        // Two statements for the whole batch: the claim's cost, and so the
        // delay before the first handler starts, barely grows with its size.
        let marks = vec!["?"; chosen.len()].join(", ");
        let sql = format!(
            "UPDATE executions SET status = 'running', attempt_count = attempt_count + 1, \
             started_at = COALESCE(started_at, ?) WHERE id IN ({marks}) RETURNING {}",
            columns!()
        );
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
        for id in &chosen {
            update = update.bind(id);
        }
        let mut by_id: HashMap<String, Execution> = update
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| execution_from_row(r).map(|e| (e.id.clone(), e)))
            .collect::<Result<_, StoreError>>()?;
        let values = vec!["(?, ?, 'running', ?, ?, ?)"; chosen.len()].join(", ");
        let sql = format!(
            "INSERT INTO execution_attempts (execution_id, attempt, status, started_at, \
             lease_owner, lease_expires_at) VALUES {values}"
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        let mut claimed = Vec::with_capacity(chosen.len());
        for id in &chosen {
            let execution = by_id.remove(id).ok_or(StoreError::NotFound)?;
            insert = insert
                .bind(id.clone())
                .bind(i64::from(execution.attempt_count))
                .bind(now)
                .bind(p.owner.clone())
                .bind(to_millis(p.lease_until));
            claimed.push(Claimed {
                attempt: execution.attempt_count,
                execution,
            });
        }
        insert.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn attempt_heartbeat(&self, p: AttemptHeartbeat) -> Result<HeartbeatReply, StoreError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE execution_attempts SET lease_expires_at = ? WHERE execution_id = ? \
             AND attempt = ? AND status = 'running' AND lease_owner = ?",
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
        if let Some(c) = p.counts {
            sqlx::query(
                "UPDATE executions SET items_processed = ?, items_total = ?, \
                 items_succeeded = ?, items_failed = ? WHERE id = ?",
            )
            .bind(i64_of(c.processed))
            .bind(c.total.map(i64_of))
            .bind(i64_of(c.succeeded))
            .bind(i64_of(c.failed))
            .bind(&p.execution_id)
            .execute(&mut *tx)
            .await?;
        }
        let cancel: i64 =
            sqlx::query_scalar("SELECT cancel_requested FROM executions WHERE id = ?")
                .bind(&p.execution_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(HeartbeatReply {
            cancel_requested: cancel != 0,
        })
    }

    async fn execution_finish(&self, p: ExecutionFinish) -> Result<Execution, StoreError> {
        let mut tx = self.write.begin().await?;
        let owner: Option<Option<String>> = sqlx::query_scalar(
            "SELECT lease_owner FROM execution_attempts WHERE execution_id = ? AND attempt = ? \
             AND status = 'running'",
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
        settle(&mut tx, &execution, p.attempt, p.now, &p.outcome).await?;
        let after = get_in(&mut tx, &p.execution_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(after)
    }

    async fn execution_cancel(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<CancelOutcome, StoreError> {
        let mut tx = self.write.begin().await?;
        let execution = get_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let out = match execution.status {
            ExecutionStatus::Queued => {
                sqlx::query(
                    "UPDATE executions SET status = 'cancelled', cancel_requested = 1, \
                     completed_at = ? WHERE id = ?",
                )
                .bind(to_millis(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                CancelOutcome::Cancelled(get_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?)
            }
            ExecutionStatus::Running => {
                sqlx::query("UPDATE executions SET cancel_requested = 1 WHERE id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                CancelOutcome::Requested(get_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?)
            }
            _ => CancelOutcome::AlreadyFinal(execution),
        };
        tx.commit().await?;
        Ok(out)
    }

    async fn execution_get(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = ?")))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        let Some(mut execution) = row.as_ref().map(execution_from_row).transpose()? else {
            return Ok(None);
        };
        execution.attempts = sqlx::query(
            "SELECT attempt, status, reason, error, started_at, completed_at, lease_owner, \
             lease_expires_at FROM execution_attempts WHERE execution_id = ? ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(attempt_from_row)
        .collect::<Result<_, _>>()?;
        Ok(Some(execution))
    }

    async fn execution_list(
        &self,
        config_id: &str,
        limit: u32,
    ) -> Result<Vec<Execution>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE config_id = ? ORDER BY created_at DESC, id DESC LIMIT ?"
        )))
        .bind(config_id)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(execution_from_row)
        .collect()
    }

    async fn execution_next_due(&self, after: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(available_at) FROM executions WHERE status = 'queued' AND available_at > ?",
        )
        .bind(to_millis(after))
        .fetch_one(&self.read)
        .await?;
        at.map(from_millis).transpose()
    }

    async fn lease_rescue(&self, p: LeaseRescue) -> Result<Vec<Rescued>, StoreError> {
        let mut tx = self.write.begin().await?;
        let rows = sqlx::query(
            "SELECT execution_id, attempt FROM execution_attempts WHERE status = 'running' \
             AND (? OR lease_expires_at < ?)",
        )
        .bind(p.all_running)
        .bind(to_millis(p.now))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("execution_id")?;
            let attempt = u32::try_from(row.try_get::<i64, _>("attempt")?).unwrap_or(0);
            let Some(execution) = get_in(&mut tx, &id).await? else {
                continue;
            };
            let outcome = crate::executions::AttemptOutcome::abandoned(&execution);
            settle(&mut tx, &execution, attempt, p.now, &outcome).await?;
            let after = get_in(&mut tx, &id).await?.ok_or(StoreError::NotFound)?;
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
                   ORDER BY created_at DESC, id DESC) AS n FROM executions) \
               WHERE n > ? AND status NOT IN ('queued', 'running') LIMIT ?)",
        )
        .bind(i64::from(p.keep_per_config))
        .bind(i64::from(p.limit))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    async fn log_append(&self, lines: Vec<LogInsert>) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        // One multi-row statement per chunk (well under SQLite's bound
        // parameter limit): a run's lines cost one write, not one each.
        const ROWS: usize = 200;
        let mut tx = self.write.begin().await?;
        for chunk in lines.chunks(ROWS) {
            let values = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO execution_logs (execution_id, attempt, at, level, message) \
                 VALUES {values}"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for l in chunk {
                q = q
                    .bind(l.execution_id.clone())
                    .bind(i64::from(l.attempt))
                    .bind(to_millis(l.at))
                    .bind(l.level.as_str())
                    .bind(l.message.clone());
            }
            q.execute(&mut *tx).await?;
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
             WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(execution_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(LogLine {
                seq: r.try_get("seq")?,
                attempt: u32::try_from(r.try_get::<i64, _>("attempt")?).unwrap_or(0),
                at: from_millis(r.try_get("at")?)?,
                level: LogLevel::parse(r.try_get("level")?)?,
                message: r.try_get("message")?,
            })
        })
        .collect()
    }

    async fn slot_positions(&self) -> Result<Vec<SlotPosition>, StoreError> {
        sqlx::query("SELECT config_id, last_scheduled_for FROM slot_positions")
            .fetch_all(&self.read)
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
        let mut tx = self.write.begin().await?;
        advance_position(&mut tx, config_id, at).await?;
        tx.commit().await?;
        Ok(())
    }
}
