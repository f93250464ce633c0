//! Executions, attempts, log lines and the scheduler's slot positions.
//!
//! Every write verb is one transaction, and every "check, then change" in
//! it is safe however many instances write at once:
//!
//! - **Slots** are unique on `(config_id, scheduled_for)`: inserting a slot
//!   another instance already recorded does nothing (`Duplicate`).
//! - **Per-config decisions** (the overlap check of a scheduled insert, the
//!   `maxConcurrent` count of a claim) run under the dialect's config lock
//!   ([`Dialect::LOCK_CONFIG`]), taken in sorted order so two claimers never
//!   wait on each other in a cycle. SQLite has one writer and needs none.
//! - **Claims and rescues** read candidates with [`Dialect::SKIP_LOCKED`]:
//!   instances claiming at once take different executions.
//! - **The retry decision** is [`settlement`], made in the transaction that
//!   records the failed attempt.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use grove_core::execution::new_run_id;
use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_core::validate::Choice;
use jiff::Timestamp;

use super::{Arg, Dialect, Exec, Row, RowExt, SqlStore, Statement, fetch_one, placeholders, sql};
use crate::StoreError;
use crate::access::AuditAppend;
use crate::executions::{
    Attempt, AttemptHeartbeat, AttemptOutcome, CancelOutcome, ClaimBatch, Claimed, Counts,
    Execution, ExecutionClaim, ExecutionFinish, ExecutionInsert, ExecutionPrune, ExecutionStatus,
    ExecutionStore, Finished, HeartbeatReply, InsertDisposition, InsertOutcome, LeaseRescue,
    LogInsert, LogLine, OutcomeOf, OutcomeRecord, Rescued, Returned, Settlement, SlotPosition,
    Trigger, settlement,
};

/// The columns [`execution_from_row`] reads, with `$payload` for the
/// payload's.
macro_rules! execution_columns {
    ($payload:literal) => {
        concat!(
            "id, config_id, trigger, status, reason, late, scheduled_for, due_at, created_at, \
             started_at, completed_at, available_at, attempt_count, max_concurrent, \
             config_version, ",
            $payload,
            ", retry, items_processed, items_total, items_succeeded, items_failed, error, \
             metadata, retry_of, actor, cancel_requested, parent_run_id, parent_scheduled_for, \
             overrides"
        )
    };
}

/// The columns [`execution_from_row`] reads, for SELECT and RETURNING.
const COLUMNS: &str = execution_columns!("payload");

/// [`COLUMNS`] with the payload read as null: for rows whose payload the
/// statement's caller already holds (an insert's) or does not look at (a
/// finish's settlement). The payload is the config snapshot, the largest
/// column, and decoding it was the most costly part of reading a row.
const COLUMNS_BUT_PAYLOAD: &str = execution_columns!("NULL AS payload");

const ATTEMPT_COLUMNS: &str = "attempt, status, reason, error, started_at, completed_at, \
    lease_owner, lease_expires_at";

/// Rows per multi-row log insert (5 parameters a row stays far below both
/// databases' parameter limits).
const LOG_ROWS: usize = 1000;

pub(crate) fn execution_from_row(row: &impl Row) -> Result<Execution, StoreError> {
    Ok(Execution {
        id: row.get("id")?,
        config_id: row.get("config_id")?,
        trigger: row.choice("trigger")?,
        status: row.choice("status")?,
        reason: row.get("reason")?,
        late: row.get("late")?,
        // A chained run's slot is its parent's, stored outside the slot key.
        scheduled_for: row
            .get::<Option<Timestamp>>("scheduled_for")?
            .or(row.get("parent_scheduled_for")?),
        due_at: row.get("due_at")?,
        created_at: row.get("created_at")?,
        started_at: row.get("started_at")?,
        completed_at: row.get("completed_at")?,
        available_at: row.get("available_at")?,
        attempt_count: row.get("attempt_count")?,
        max_concurrent: u32::try_from(row.get::<i64>("max_concurrent")?).unwrap_or(1),
        config_version: row.get("config_version")?,
        payload: row.get("payload")?,
        retry: row.decode("retry")?,
        counts: Counts {
            processed: row.get("items_processed")?,
            total: row.get("items_total")?,
            succeeded: row.get("items_succeeded")?,
            failed: row.get("items_failed")?,
        },
        error: row.get("error")?,
        metadata: row.get("metadata")?,
        retry_of: row.get("retry_of")?,
        parent_run_id: row.get("parent_run_id")?,
        overrides: Some(row.get::<serde_json::Value>("overrides")?).filter(|v| !v.is_null()),
        actor: row.get("actor")?,
        cancel_requested: row.get("cancel_requested")?,
        attempts: Vec::new(),
    })
}

pub(crate) fn attempt_from_row(row: &impl Row) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        attempt: row.get("attempt")?,
        status: row.choice("status")?,
        started_at: row.get("started_at")?,
        completed_at: row.get("completed_at")?,
        error: row.get("error")?,
        reason: row
            .get::<Option<String>>("reason")?
            .map(|_| row.choice("reason"))
            .transpose()?,
        lease_owner: row.get("lease_owner")?,
        lease_expires_at: row.get("lease_expires_at")?,
    })
}

/// One multi-row insert of log lines.
fn log_insert(lines: &[LogInsert]) -> Statement {
    let mut insert = sql(format!(
        "INSERT INTO execution_logs (execution_id, attempt, at, level, message) VALUES {}",
        super::values(lines.len(), 5, 1)
    ));
    for l in lines {
        insert = insert
            .bind(&l.execution_id)
            .bind(l.attempt)
            .bind(l.at)
            .bind(l.level.name())
            .bind(&l.message);
    }
    insert
}

/// One execution, read in `exec`'s transaction (`lock`: a row-lock suffix).
async fn get_in<E: Exec>(
    exec: &mut E,
    id: &str,
    lock: &str,
) -> Result<Option<Execution>, StoreError> {
    exec.fetch_optional(
        sql(format!(
            "SELECT {COLUMNS} FROM executions WHERE id = $1{lock}"
        ))
        .bind(id),
    )
    .await?
    .as_ref()
    .map(execution_from_row)
    .transpose()
}

/// Locks `configs` until the transaction ends (given sorted: every
/// locker takes them in one order, so none waits on another in a cycle);
/// nothing on a single-writer database.
async fn lock_configs<D: Dialect>(
    tx: &mut D::Write,
    configs: impl IntoIterator<Item = &String>,
) -> Result<(), StoreError> {
    let Some(lock) = D::LOCK_CONFIG else {
        return Ok(());
    };
    // One statement for many: a VALUES list is scanned in its order, so
    // the locks are taken in the (sorted) order given.
    let configs: Vec<&String> = configs.into_iter().collect();
    for chunk in configs.chunks(super::BULK_ROWS) {
        let mut statement = sql(format!(
            "SELECT {lock} FROM (VALUES {}) AS v",
            super::values(chunk.len(), 1, 1)
        ));
        for config_id in chunk {
            statement = statement.bind(*config_id);
        }
        tx.execute(statement).await?;
    }
    Ok(())
}

/// How many runs of a config are queued and how many running.
#[derive(Debug, Default, Clone, Copy)]
struct Active {
    queued: i64,
    running: i64,
}

impl Active {
    fn total(self) -> i64 {
        self.queued + self.running
    }
}

/// The count of queued and running runs by config and status for the
/// configs of list `$1`, leaving out (`leaving_out`) the runs of list `$2`,
/// from indexes that hold those runs only: on SQLite the index of active
/// runs (migration 15), whose condition it repeats as SQLite needs to use
/// it; on PostgreSQL its indexes of queued and of running runs by config.
/// The lists are bound whole, so the statement's text is one of two
/// whatever the batch (a text per count of configs and of runs left out
/// was most of the distinct statements a busy writer prepared).
pub(crate) fn active_count<D: Dialect>(leaving_out: bool) -> String {
    let but = if leaving_out {
        format!(" AND NOT (id {})", D::in_list(2))
    } else {
        String::new()
    };
    format!(
        "SELECT config_id, status, COUNT(*) AS n FROM executions \
         WHERE status IN ('queued', 'running') AND config_id {}{but} \
         GROUP BY config_id, status",
        D::in_list(1)
    )
}

/// The queued and running runs of each of `configs` (sorted, as locked),
/// read in `tx` from the index of active runs ([`active_count`]), never
/// from the retained history; the caller's `returned` runs (whose handlers
/// have returned) are not counted. A config with none is absent.
async fn active_in<D: Dialect, E: Exec>(
    tx: &mut E,
    configs: &BTreeSet<String>,
    returned: &Returned,
) -> Result<HashMap<String, Active>, StoreError> {
    let configs: Vec<&String> = configs.iter().collect();
    let mut active: HashMap<String, Active> = HashMap::new();
    for chunk in configs.chunks(super::BULK_ROWS) {
        let ended: Vec<String> = chunk
            .iter()
            .filter_map(|c| returned.get(*c))
            .flatten()
            .cloned()
            .collect();
        let listed: Vec<String> = chunk.iter().map(|c| (*c).clone()).collect();
        let mut count = sql(active_count::<D>(!ended.is_empty())).bind(listed);
        if !ended.is_empty() {
            count = count.bind(ended);
        }
        for row in tx.fetch_all(count).await? {
            let a = active.entry(row.get("config_id")?).or_default();
            let n: i64 = row.get("n")?;
            match row.choice("status")? {
                ExecutionStatus::Running => a.running += n,
                _ => a.queued += n,
            }
        }
    }
    Ok(active)
}

async fn advance_position<E: Exec>(
    tx: &mut E,
    config_id: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        sql(
            "INSERT INTO slot_positions AS p (config_id, last_scheduled_for) VALUES ($1, $2) \
             ON CONFLICT (config_id) DO UPDATE SET last_scheduled_for = \
             CASE WHEN excluded.last_scheduled_for > p.last_scheduled_for \
             THEN excluded.last_scheduled_for ELSE p.last_scheduled_for END",
        )
        .bind(config_id)
        .bind(at),
    )
    .await?;
    Ok(())
}

/// Columns of an execution insert, in the order [`bind_insert`] binds.
const INSERT_COLUMNS: &str = "id, config_id, trigger, status, reason, late, scheduled_for, \
     created_at, completed_at, available_at, max_concurrent, config_version, payload, retry, \
     retry_of, actor, due_at, parent_run_id, parent_scheduled_for, overrides, attempt_count, \
     started_at";
const INSERT_WIDTH: usize = 22;

/// The insert of `rows` executions ([`bind_insert`] binds each), a row
/// whose slot or chain key is taken left out, returning the rows inserted
/// without their payload.
fn insert_text(rows: usize) -> String {
    format!(
        "INSERT INTO executions ({INSERT_COLUMNS}) VALUES {} \
         ON CONFLICT DO NOTHING RETURNING {COLUMNS_BUT_PAYLOAD}",
        super::values(rows, INSERT_WIDTH, 1)
    )
}

/// How one inserted row begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Begin {
    Queued,
    Skipped,
    /// Running its first attempt, started at this instant.
    Started(Timestamp),
}

impl Begin {
    /// Skipped when there is a reason to skip, queued otherwise.
    fn unless_skipped(skip: Option<&str>) -> Self {
        if skip.is_some() {
            Self::Skipped
        } else {
            Self::Queued
        }
    }
}

/// Binds one row of [`INSERT_COLUMNS`]: queued, skipped for `skip_reason`,
/// or started (its attempt row is inserted beside it).
fn bind_insert(
    statement: Statement,
    p: &ExecutionInsert,
    skip_reason: Option<&str>,
    begin: Begin,
) -> Statement {
    let (status, started_at) = match begin {
        Begin::Started(at) => (ExecutionStatus::Running, Some(at)),
        Begin::Skipped => (ExecutionStatus::Skipped, None),
        Begin::Queued => (ExecutionStatus::Queued, None),
    };
    // A chained run keeps its parent's slot outside the slot key.
    let (slot, parent_slot) = match p.trigger {
        Trigger::Chain => (None, p.scheduled_for),
        _ => (p.scheduled_for, None),
    };
    statement
        .bind(&p.id)
        .bind(&p.config_id)
        .bind(p.trigger.name())
        .bind(status.name())
        .bind(skip_reason)
        .bind(p.late)
        .bind(slot)
        .bind(p.now)
        .bind(skip_reason.map(|_| p.now))
        .bind(p.due_at.unwrap_or(p.now))
        .bind(p.max_concurrent)
        .bind(p.config_version)
        .bind_json(&p.payload)
        .bind_json(&serde_json::to_value(p.retry).unwrap_or_default())
        .bind(&p.retry_of)
        .bind(&p.actor)
        .bind(p.due_at)
        .bind(&p.parent_run_id)
        .bind(parent_slot)
        .bind(match &p.overrides {
            Some(v) => Arg::json(v),
            None => Arg::Json(String::from("null")),
        })
        .bind(i64::from(started_at.is_some()))
        .bind(started_at)
}

/// Why an insert is recorded as skipped rather than queued, given how
/// many of its config's executions are queued or running.
fn skip_reason(p: &ExecutionInsert, active: impl FnOnce() -> i64) -> Option<String> {
    match &p.disposition {
        InsertDisposition::Queue => None,
        InsertDisposition::Skip(reason) => Some(reason.clone()),
        InsertDisposition::SkipWhenBusy => {
            (active() >= i64::from(p.max_concurrent)).then(|| "overlap".to_owned())
        }
    }
}

/// The outcome of an insert from the row it returned (none: a key was
/// taken), read without its payload ([`COLUMNS_BUT_PAYLOAD`]): the
/// inserted `payload` is moved in.
fn insert_outcome(
    row: Option<&impl Row>,
    payload: serde_json::Value,
    begin: Begin,
) -> Result<InsertOutcome, StoreError> {
    let Some(row) = row else {
        return Ok(InsertOutcome::Duplicate);
    };
    let mut execution = execution_from_row(row)?;
    execution.payload = payload;
    Ok(match begin {
        Begin::Skipped => InsertOutcome::Skipped(execution),
        Begin::Queued => InsertOutcome::Queued(execution),
        Begin::Started(_) => InsertOutcome::Started(Claimed {
            attempt: execution.attempt_count,
            execution,
        }),
    })
}

async fn insert_in<D: Dialect>(
    tx: &mut D::Write,
    mut p: ExecutionInsert,
) -> Result<InsertOutcome, StoreError> {
    let mut active = 0;
    if p.disposition == InsertDisposition::SkipWhenBusy {
        lock_configs::<D>(tx, [&p.config_id]).await?;
        let config = BTreeSet::from([p.config_id.clone()]);
        active = active_in::<D, _>(tx, &config, &Returned::new())
            .await?
            .get(&p.config_id)
            .map_or(0, |a| a.total());
    }
    let skip = skip_reason(&p, || active);
    let begin = Begin::unless_skipped(skip.as_deref());
    // Either key may be taken: the slot (another instance fired it, or a
    // backfill meets a recorded slot) or the chain (this parent already
    // started this target).
    let row = tx
        .fetch_optional(bind_insert(sql(insert_text(1)), &p, skip.as_deref(), begin))
        .await?;
    if let (Some(slot), Trigger::Schedule) = (p.scheduled_for, p.trigger) {
        advance_position(tx, &p.config_id, slot).await?;
    }
    insert_outcome(row.as_ref(), std::mem::take(&mut p.payload), begin)
}

/// Running attempts `(execution id, attempt number)` started at
/// `lease.now` and leased to `lease.owner` until `lease.lease_until`: what
/// a claim, or a start at insert, gives each run it takes.
fn attempts_insert(lease: &ExecutionClaim, attempts: &[(&str, u32)]) -> Statement {
    let values: Vec<String> = (0..attempts.len())
        .map(|i| format!("(${}, ${}, 'running', $1, $2, $3)", 4 + 2 * i, 5 + 2 * i))
        .collect();
    let mut insert = sql(format!(
        "INSERT INTO execution_attempts (execution_id, attempt, status, started_at, \
         lease_owner, lease_expires_at) VALUES {}",
        values.join(", ")
    ))
    .bind(lease.now)
    .bind(&lease.owner)
    .bind(lease.lease_until);
    for (id, attempt) in attempts {
        insert = insert.bind(*id).bind(*attempt);
    }
    insert
}

/// Many inserts as `insert_in` makes them, each seeing the ones before
/// it of its config (their overlap count, their slot and chain keys: all
/// are per config). A batch that names configs more than once is written
/// in rounds, each holding at most one insert per config in the batch's
/// order: the first of each config, then the second, and so on.
///
/// With `start`, some inserts begin running at once ([`insert_distinct_in`]).
async fn insert_many_in<D: Dialect>(
    tx: &mut D::Write,
    inserts: Vec<ExecutionInsert>,
    mut start: Option<ExecutionClaim>,
) -> Result<Vec<InsertOutcome>, StoreError> {
    let n = inserts.len();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rounds: Vec<(Vec<usize>, Vec<ExecutionInsert>)> = Vec::new();
    for (i, p) in inserts.into_iter().enumerate() {
        let nth = seen.entry(p.config_id.clone()).or_insert(0);
        if rounds.len() <= *nth {
            rounds.push((Vec::new(), Vec::new()));
        }
        let (at, batch) = &mut rounds[*nth];
        *nth += 1;
        at.push(i);
        batch.push(p);
    }
    let mut out: Vec<Option<InsertOutcome>> = (0..n).map(|_| None).collect();
    for (at, batch) in rounds {
        for (i, outcome) in at
            .into_iter()
            .zip(insert_distinct_in::<D>(tx, batch, start.as_ref()).await?)
        {
            if let (Some(s), InsertOutcome::Started(_)) = (&mut start, &outcome) {
                s.limit = s.limit.saturating_sub(1);
            }
            out[i] = Some(outcome);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Whether `p` is inserted as it is, reading nothing first: no overlap to
/// count, no slot position to move, no slot or chain key another insert of
/// its batch could take (a run asked for, a retry).
fn stands_alone(p: &ExecutionInsert) -> bool {
    p.disposition != InsertDisposition::SkipWhenBusy
        && p.scheduled_for.is_none()
        && p.parent_run_id.is_none()
}

/// Inserts that [stand alone](stands_alone) and their audit lines in one
/// statement, which commits on its own (the audit lines' insert in its
/// `WITH`, where [`Dialect::INSERT_IN_WITH`]): at most
/// [`super::BULK_ROWS`] of each. A Run Now batch on PostgreSQL made four
/// round trips (`BEGIN`, two inserts, `COMMIT`), each waiting for the
/// server's turn on a busy machine.
async fn insert_audited_at_once<E: Exec>(
    db: &mut E,
    inserts: Vec<ExecutionInsert>,
    audit: &[AuditAppend],
) -> Result<Vec<InsertOutcome>, StoreError> {
    let with = if audit.is_empty() {
        String::new()
    } else {
        let first = inserts.len() * INSERT_WIDTH + 1;
        format!(
            "WITH audit AS ({}) ",
            super::access::audit_insert_text(audit.len(), first)
        )
    };
    let mut insert = sql(format!("{with}{}", insert_text(inserts.len())));
    let mut begins = Vec::with_capacity(inserts.len());
    for p in &inserts {
        let skip = skip_reason(p, || 0);
        let begin = Begin::unless_skipped(skip.as_deref());
        insert = bind_insert(insert, p, skip.as_deref(), begin);
        begins.push(begin);
    }
    insert = super::access::bind_audit_lines(insert, audit);
    let mut rows: HashMap<String, _> = HashMap::with_capacity(inserts.len());
    for row in db.fetch_all(insert).await? {
        rows.insert(row.get::<String>("id")?, row);
    }
    inserts
        .into_iter()
        .zip(begins)
        .map(|(p, begin)| insert_outcome(rows.get(&p.id), p.payload, begin))
        .collect()
}

/// Inserts of distinct configs, in a few set-based statements: one count
/// of the busy configs, a multi-row insert per [`super::BULK_ROWS`], one
/// multi-row position upsert.
///
/// With `start`, up to `start.limit` of them begin running at once, leased
/// to `start.owner` as a claim would lease them: those due by `start.now`
/// whose config has nothing else queued or running (so that no run of a
/// config overtakes one queued before it, and `max_concurrent` holds).
/// Their attempts are one more multi-row insert.
async fn insert_distinct_in<D: Dialect>(
    tx: &mut D::Write,
    inserts: Vec<ExecutionInsert>,
    start: Option<&ExecutionClaim>,
) -> Result<Vec<InsertOutcome>, StoreError> {
    if inserts.len() < 2 && start.is_none() {
        let mut out = Vec::with_capacity(inserts.len());
        for p in inserts {
            out.push(insert_in::<D>(tx, p).await?);
        }
        return Ok(out);
    }
    // Sorted, as every claimer locks them. A queued insert's config is
    // counted only when it may start: the scheduler passes a start of 0
    // places when its executor is full.
    let busy: BTreeSet<String> = inserts
        .iter()
        .filter(|p| match p.disposition {
            InsertDisposition::SkipWhenBusy => true,
            InsertDisposition::Queue => start.is_some_and(|s| s.limit > 0),
            InsertDisposition::Skip(_) => false,
        })
        .map(|p| p.config_id.clone())
        .collect();
    let mut active: HashMap<String, Active> = HashMap::new();
    if !busy.is_empty() {
        lock_configs::<D>(tx, &busy).await?;
        let none = Returned::new();
        let returned = start.map_or(&none, |s| &s.returned);
        active = active_in::<D, _>(tx, &busy, returned).await?;
    }
    let skips: Vec<Option<String>> = inserts
        .iter()
        .map(|p| skip_reason(p, || active.get(&p.config_id).map_or(0, |a| a.total())))
        .collect();
    let mut room = start.map_or(0, |s| s.limit as usize);
    let begins: Vec<Begin> = inserts
        .iter()
        .zip(&skips)
        .map(|(p, skip)| match start {
            _ if skip.is_some() => Begin::Skipped,
            Some(s)
                if room > 0
                    && p.max_concurrent > 0
                    && p.due_at.unwrap_or(p.now) <= s.now
                    && !active.contains_key(&p.config_id) =>
            {
                room -= 1;
                Begin::Started(s.now)
            }
            _ => Begin::Queued,
        })
        .collect();
    let mut rows: HashMap<String, _> = HashMap::with_capacity(inserts.len());
    for (chunk, chunk_begins) in inserts.chunks(super::BULK_ROWS).zip(
        skips
            .chunks(super::BULK_ROWS)
            .zip(begins.chunks(super::BULK_ROWS)),
    ) {
        let mut insert = sql(insert_text(chunk.len()));
        let (chunk_skips, chunk_begins) = chunk_begins;
        for ((p, skip), begin) in chunk.iter().zip(chunk_skips).zip(chunk_begins) {
            insert = bind_insert(insert, p, skip.as_deref(), *begin);
        }
        for row in tx.fetch_all(insert).await? {
            rows.insert(row.get::<String>("id")?, row);
        }
    }
    if let Some(s) = start {
        // The first attempt of each run that began (and was inserted: a
        // slot already recorded is a duplicate, not a start).
        let begun: Vec<&String> = inserts
            .iter()
            .zip(&begins)
            .filter(|(p, b)| matches!(b, Begin::Started(_)) && rows.contains_key(&p.id))
            .map(|(p, _)| &p.id)
            .collect();
        for chunk in begun.chunks(super::BULK_ROWS) {
            let firsts: Vec<(&str, u32)> = chunk.iter().map(|id| (id.as_str(), 1)).collect();
            tx.execute(attempts_insert(s, &firsts)).await?;
        }
    }
    // Every config here appears once: one position per row.
    let positions: Vec<(&String, Timestamp)> = inserts
        .iter()
        .filter(|p| p.trigger == Trigger::Schedule)
        .filter_map(|p| p.scheduled_for.map(|slot| (&p.config_id, slot)))
        .collect();
    for chunk in positions.chunks(super::BULK_ROWS) {
        let mut upsert = sql(format!(
            "INSERT INTO slot_positions AS p (config_id, last_scheduled_for) VALUES {} \
             ON CONFLICT (config_id) DO UPDATE SET last_scheduled_for = \
             CASE WHEN excluded.last_scheduled_for > p.last_scheduled_for \
             THEN excluded.last_scheduled_for ELSE p.last_scheduled_for END",
            super::values(chunk.len(), 2, 1)
        ));
        for (config_id, slot) in chunk {
            upsert = upsert.bind(*config_id).bind(*slot);
        }
        tx.execute(upsert).await?;
    }
    inserts
        .into_iter()
        .zip(begins)
        .map(|(p, begin)| insert_outcome(rows.get(&p.id), p.payload, begin))
        .collect()
}

/// One running attempt to end: its execution as read in the transaction,
/// which attempt, when, and how it ended.
struct Ending<'a> {
    execution: &'a Execution,
    attempt: u32,
    now: Timestamp,
    outcome: &'a AttemptOutcome,
}

/// Ends each running attempt with its outcome and moves its execution on
/// per [`settlement`]: queued again for a retry, or final. Shared by
/// finish and rescue. Two statements for a chunk of endings (attempts,
/// then executions, each an `UPDATE … FROM (VALUES …)`); the executions
/// may not repeat. Returns the executions afterwards, by id.
async fn settle_in<E: Exec>(
    tx: &mut E,
    endings: &[Ending<'_>],
) -> Result<HashMap<String, Execution>, StoreError> {
    let mut settled = HashMap::with_capacity(endings.len());
    for chunk in endings.chunks(super::BULK_ROWS) {
        // VALUES columns are column1, column2, … on both databases.
        let mut attempts = sql(format!(
            "UPDATE execution_attempts SET status = v.column3, reason = v.column4, \
             error = v.column5, completed_at = v.column6, lease_owner = NULL, \
             lease_expires_at = NULL FROM (VALUES {}) AS v \
             WHERE execution_attempts.execution_id = v.column1 \
             AND execution_attempts.attempt = v.column2",
            super::values(chunk.len(), 6, 1)
        ));
        for e in chunk {
            attempts = attempts
                .bind(&e.execution.id)
                .bind(e.attempt)
                .bind(e.outcome.status.name())
                .bind(e.outcome.reason.map(|r| r.name()))
                .bind(&e.outcome.error)
                .bind(e.now);
        }
        tx.execute(attempts).await?;
        let mut executions = sql(format!(
            "UPDATE executions SET status = v.column2, completed_at = v.column3, \
             available_at = v.column4, error = v.column5, items_processed = v.column6, \
             items_total = v.column7, items_succeeded = v.column8, items_failed = v.column9, \
             metadata = v.column10 FROM (VALUES {}) AS v WHERE executions.id = v.column1 \
             RETURNING {COLUMNS}",
            super::values(chunk.len(), 10, 1)
        ));
        for e in chunk {
            let Settlement {
                status,
                completed_at,
                available_at,
            } = settlement(e.execution, e.attempt, e.now, e.outcome.status);
            let c = e.outcome.counts;
            executions = executions
                .bind(&e.execution.id)
                .bind(status.name())
                .bind(completed_at)
                .bind(available_at)
                .bind(&e.outcome.error)
                .bind(c.processed)
                .bind(c.total)
                .bind(c.succeeded)
                .bind(c.failed)
                .bind_json(&e.outcome.metadata);
        }
        for row in tx.fetch_all(executions).await? {
            let after = execution_from_row(&row)?;
            settled.insert(after.id.clone(), after);
        }
    }
    Ok(settled)
}

/// The executions of `ids` as their settlement reads them (no payload:
/// [`COLUMNS_BUT_PAYLOAD`]), read in `tx`, by id.
async fn settling_in<E: Exec>(
    tx: &mut E,
    ids: &[&str],
) -> Result<HashMap<String, Execution>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::BULK_ROWS) {
        let mut select = sql(format!(
            "SELECT {COLUMNS_BUT_PAYLOAD} FROM executions WHERE id IN {}",
            placeholders(1, chunk.len())
        ));
        for id in chunk {
            select = select.bind(*id);
        }
        for row in tx.fetch_all(select).await? {
            let e = execution_from_row(&row)?;
            out.insert(e.id.clone(), e);
        }
    }
    Ok(out)
}

/// Writes runs' outcomes on their configs (see
/// [`ExecutionStore::outcomes_record`]): each config's state is read once
/// and written once, however many of its runs the batch holds (coalesced
/// per config); the journal entries go in multi-row inserts.
async fn outcomes_in<D: Dialect>(
    tx: &mut D::Write,
    records: &[OutcomeRecord],
) -> Result<Vec<Option<u32>>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let ids: BTreeSet<String> = records.iter().map(|r| r.config_id.clone()).collect();
    let mut states = super::objects::states_in::<D>(tx, JOB_CONFIG, &ids).await?;
    let mut changed = BTreeSet::new();
    let mut answers = Vec::with_capacity(records.len());
    let mut journal = Vec::new();
    for r in records {
        if let Some(entry) = &r.journal {
            journal.push(entry);
        }
        let Some(stored) = states.get_mut(&r.config_id) else {
            answers.push(None);
            continue;
        };
        let before = stored
            .get("lastExecution")
            .and_then(|l| l.get("consecutiveFailures"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let failures = r.streak.after(before);
        let mut state = r.state.clone();
        if let Some(serde_json::Value::Object(last)) = state.get_mut("lastExecution") {
            last.insert("consecutiveFailures".to_owned(), failures.into());
        }
        super::objects::apply_state(stored, state);
        changed.insert(r.config_id.as_str());
        answers.push(Some(failures));
    }
    let writes: Vec<(&str, serde_json::Value)> = changed
        .into_iter()
        .filter_map(|id| Some((id, serde_json::Value::Object(states.remove(id)?))))
        .collect();
    super::objects::states_write_in::<D>(tx, JOB_CONFIG, &writes).await?;
    super::grove_data::journal_insert_many_in(tx, &journal).await?;
    Ok(answers)
}

/// Finishes of distinct executions in a batch's transaction, in a few
/// statements for all of them: their attempts' owners (locked), their
/// executions, then [`settle_in`]. Each answer is `Err(LeaseLost)`
/// (nothing written for it) when its attempt is no longer running under
/// its owner.
async fn finish_in<D: Dialect>(
    tx: &mut D::Write,
    finishes: &[ExecutionFinish],
) -> Result<Vec<Result<Execution, StoreError>>, StoreError> {
    // Locks the attempt rows: a concurrent rescue either ran first (the
    // attempt is no longer ours) or waits and then finds it ended.
    let lock = D::LOCK_ROWS;
    let mut owners = sql(format!(
        "SELECT execution_id, attempt, lease_owner FROM execution_attempts \
         WHERE status = 'running' AND execution_id IN {}{lock}",
        placeholders(1, finishes.len())
    ));
    for f in finishes {
        owners = owners.bind(&f.execution_id);
    }
    // An execution has at most one running attempt: its number and owner.
    let mut running: HashMap<String, (u32, Option<String>)> = HashMap::new();
    for row in tx.fetch_all(owners).await? {
        running.insert(
            row.get("execution_id")?,
            (row.get("attempt")?, row.get("lease_owner")?),
        );
    }
    let owned: Vec<bool> = finishes
        .iter()
        .map(|f| {
            running
                .get(&f.execution_id)
                .is_some_and(|(attempt, owner)| {
                    *attempt == f.attempt && owner.as_deref() == Some(f.owner.as_str())
                })
        })
        .collect();
    let ours: Vec<&ExecutionFinish> = finishes
        .iter()
        .zip(&owned)
        .filter_map(|(f, owned)| owned.then_some(f))
        .collect();
    let ids: Vec<&str> = ours.iter().map(|f| f.execution_id.as_str()).collect();
    let before = settling_in(tx, &ids).await?;
    let endings: Vec<Ending<'_>> = ours
        .iter()
        .filter_map(|f| {
            Some(Ending {
                execution: before.get(&f.execution_id)?,
                attempt: f.attempt,
                now: f.now,
                outcome: &f.outcome,
            })
        })
        .collect();
    let mut after = settle_in(tx, &endings).await?;
    let mut out = Vec::with_capacity(finishes.len());
    for (f, owned) in finishes.iter().zip(owned) {
        out.push(match after.remove(&f.execution_id) {
            Some(e) if owned => {
                chain_in::<D>(tx, &e, f.now).await?;
                Ok(e)
            }
            _ if !owned => Err(StoreError::LeaseLost),
            _ => Err(StoreError::NotFound),
        });
    }
    Ok(out)
}

/// Starts the jobs an execution that just became final chains to (its
/// snapshot's `triggers`), in the transaction that made it final, so a
/// crash cannot lose them: one execution per target, trigger `chain`, with
/// the parent's slot; `skipped` (reason `disabled`) when the target's
/// schedule is off. `(config_id, parent_run_id)` is unique, so a target
/// already started by this parent gets nothing more; a target deleted
/// since is passed over. Returns the queued runs.
async fn chain_in<D: Dialect>(
    tx: &mut D::Write,
    ended: &Execution,
    now: Timestamp,
) -> Result<Vec<Execution>, StoreError> {
    let list = match ended.status {
        ExecutionStatus::Success | ExecutionStatus::Partial => "onSuccess",
        ExecutionStatus::Failed => "onFailure",
        _ => return Ok(Vec::new()),
    };
    let targets: Vec<String> = ended.payload["triggers"][list]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut queued = Vec::new();
    for target in targets {
        let row = tx
            .fetch_optional(
                sql("SELECT version, payload FROM objects WHERE object_type = $1 AND id = $2")
                    .bind(JOB_CONFIG)
                    .bind(&target),
            )
            .await?;
        let Some(row) = row else { continue };
        let Ok(config) = serde_json::from_value::<JobConfigPayload>(row.get("payload")?) else {
            continue;
        };
        let disposition = if config.schedule.is_enabled {
            InsertDisposition::Queue
        } else {
            InsertDisposition::Skip("disabled".to_owned())
        };
        let insert = ExecutionInsert {
            id: new_run_id(),
            config_id: target,
            trigger: Trigger::Chain,
            scheduled_for: ended.scheduled_for,
            due_at: None,
            late: false,
            payload: config.to_value(),
            config_version: row.get("version")?,
            retry: config.retry,
            max_concurrent: config.limits.max_concurrent,
            retry_of: None,
            parent_run_id: Some(ended.id.clone()),
            overrides: None,
            actor: None,
            disposition,
            now,
        };
        if let InsertOutcome::Queued(e) = insert_in::<D>(tx, insert).await? {
            queued.push(e);
        }
    }
    Ok(queued)
}

/// The earliest `available_at` of a queued execution strictly after `$1`,
/// from the queue's partial index (`executions_queue`).
pub(crate) const NEXT_DUE: &str = "SELECT MIN(available_at) AS at FROM executions \
     WHERE status = 'queued' AND available_at > $1";

/// The queued executions due by `$1`, at most `$2`, in claim order, from
/// the queue's partial index; `lock` is the dialect's row-lock suffix.
pub(crate) fn queue_head(lock: &str) -> String {
    format!(
        "SELECT id, config_id, max_concurrent FROM executions \
         WHERE status = 'queued' AND available_at <= $1 \
         ORDER BY available_at, created_at, id LIMIT $2{lock}"
    )
}

/// The earliest `available_at` of a queued execution strictly after `after`.
async fn next_due_in<E: Exec>(
    db: &mut E,
    after: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    fetch_one(db, sql(NEXT_DUE).bind(after)).await?.get("at")
}

#[async_trait]
impl<D: Dialect> ExecutionStore for SqlStore<D> {
    async fn execution_insert_slots(
        &self,
        inserts: Vec<ExecutionInsert>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        self.execution_insert_audited(inserts, Vec::new()).await
    }

    async fn execution_insert_starting(
        &self,
        inserts: Vec<ExecutionInsert>,
        start: ExecutionClaim,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut tx = self.db.begin().await?;
        let out = insert_many_in::<D>(&mut tx, inserts, Some(start)).await?;
        self.db.commit(tx).await?;
        Ok(out)
    }

    async fn execution_insert_audited(
        &self,
        inserts: Vec<ExecutionInsert>,
        audit: Vec<AuditAppend>,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        if D::INSERT_IN_WITH
            && !inserts.is_empty()
            && inserts.len() <= super::BULK_ROWS
            && audit.len() <= super::BULK_ROWS
            && inserts.iter().all(stands_alone)
        {
            let mut db = self.db.autocommit().await?;
            return insert_audited_at_once(&mut db, inserts, &audit).await;
        }
        let mut tx = self.db.begin().await?;
        let out = insert_many_in::<D>(&mut tx, inserts, None).await?;
        super::access::audit_append_in(&mut tx, &audit).await?;
        self.db.commit(tx).await?;
        Ok(out)
    }

    async fn execution_insert(&self, insert: ExecutionInsert) -> Result<InsertOutcome, StoreError> {
        let mut tx = self.db.begin().await?;
        let out = insert_in::<D>(&mut tx, insert).await?;
        self.db.commit(tx).await?;
        Ok(out)
    }

    async fn execution_claim_batch(&self, p: ExecutionClaim) -> Result<ClaimBatch, StoreError> {
        let mut tx = self.db.begin().await?;
        // Candidates in due order, locked so no other instance takes them;
        // some may be held back by maxConcurrent, so look a little further
        // than `limit`.
        let candidates = tx
            .fetch_all(
                sql(queue_head(D::SKIP_LOCKED))
                    .bind(p.now)
                    .bind(i64::from(p.limit).saturating_mul(4).max(64)),
            )
            .await?;
        if candidates.is_empty() {
            let next_due = next_due_in(&mut tx, p.now).await?;
            self.db.commit(tx).await?;
            return Ok(ClaimBatch {
                next_due,
                ..ClaimBatch::default()
            });
        }
        let configs: BTreeSet<String> = candidates
            .iter()
            .map(|r| r.get("config_id"))
            .collect::<Result<_, _>>()?;
        lock_configs::<D>(&mut tx, &configs).await?;
        // Counted after the locks: every claim of these configs that
        // committed before is seen, none can commit until this one does.
        let mut running: HashMap<String, i64> = active_in::<D, _>(&mut tx, &configs, &p.returned)
            .await?
            .into_iter()
            .map(|(config, a)| (config, a.running))
            .collect();
        let mut chosen: Vec<String> = Vec::new();
        let mut held_back = false;
        for row in &candidates {
            if chosen.len() >= p.limit as usize {
                break;
            }
            let max: i64 = row.get("max_concurrent")?;
            let n = running.entry(row.get("config_id")?).or_insert(0);
            if *n >= max {
                held_back = true;
                continue;
            }
            *n += 1;
            chosen.push(row.get("id")?);
        }
        // A claim that took its whole limit is followed by another at once;
        // one that took less says when to look again.
        let next_due = if chosen.len() < p.limit as usize {
            next_due_in(&mut tx, p.now).await?
        } else {
            None
        };
        if chosen.is_empty() {
            self.db.commit(tx).await?;
            return Ok(ClaimBatch {
                claimed: Vec::new(),
                held_back,
                next_due,
            });
        }
        // Two statements for the whole batch: the claim's cost, and so the
        // delay before the first handler starts, barely grows with its size.
        let mut update = sql(format!(
            "UPDATE executions SET status = 'running', attempt_count = attempt_count + 1, \
             started_at = COALESCE(started_at, $1) WHERE id IN {} RETURNING {COLUMNS}",
            placeholders(2, chosen.len())
        ))
        .bind(p.now);
        for id in &chosen {
            update = update.bind(id);
        }
        let mut by_id: HashMap<String, Execution> = tx
            .fetch_all(update)
            .await?
            .iter()
            .map(|r| execution_from_row(r).map(|e| (e.id.clone(), e)))
            .collect::<Result<_, StoreError>>()?;
        let mut claimed = Vec::with_capacity(chosen.len());
        for id in &chosen {
            let execution = by_id.remove(id).ok_or(StoreError::NotFound)?;
            claimed.push(Claimed {
                attempt: execution.attempt_count,
                execution,
            });
        }
        let attempts: Vec<(&str, u32)> = claimed
            .iter()
            .map(|c| (c.execution.id.as_str(), c.attempt))
            .collect();
        tx.execute(attempts_insert(&p, &attempts)).await?;
        self.db.commit(tx).await?;
        Ok(ClaimBatch {
            claimed,
            held_back,
            next_due,
        })
    }

    async fn attempt_heartbeat(&self, p: AttemptHeartbeat) -> Result<HeartbeatReply, StoreError> {
        let mut tx = self.db.begin().await?;
        let renewed = tx
            .execute(
                sql(
                    "UPDATE execution_attempts SET lease_expires_at = $1 WHERE execution_id = $2 \
                     AND attempt = $3 AND status = 'running' AND lease_owner = $4",
                )
                .bind(p.lease_until)
                .bind(&p.execution_id)
                .bind(p.attempt)
                .bind(&p.owner),
            )
            .await?;
        if renewed == 0 {
            return Err(StoreError::LeaseLost);
        }
        let statement = match p.counts {
            Some(c) => sql(
                "UPDATE executions SET items_processed = $1, items_total = $2, \
                            items_succeeded = $3, items_failed = $4 WHERE id = $5 \
                            RETURNING cancel_requested",
            )
            .bind(c.processed)
            .bind(c.total)
            .bind(c.succeeded)
            .bind(c.failed),
            None => sql("SELECT cancel_requested FROM executions WHERE id = $1"),
        };
        let cancel_requested = fetch_one(&mut tx, statement.bind(&p.execution_id))
            .await?
            .get("cancel_requested")?;
        self.db.commit(tx).await?;
        Ok(HeartbeatReply { cancel_requested })
    }

    async fn execution_finish_recorded(
        &self,
        finishes: Vec<ExecutionFinish>,
        outcome_of: OutcomeOf<'_>,
    ) -> Result<Vec<Result<Finished, StoreError>>, StoreError> {
        let mut tx = self.db.begin().await?;
        // Every attempt's remaining lines in one multi-row insert per chunk.
        let lines: Vec<LogInsert> = finishes.iter().flat_map(|f| f.logs.clone()).collect();
        for chunk in lines.chunks(LOG_ROWS) {
            tx.execute(log_insert(chunk)).await?;
        }
        // Executions named twice (never by the executor) go one at a time,
        // so each finish sees the one before.
        let ids: BTreeSet<&str> = finishes.iter().map(|f| f.execution_id.as_str()).collect();
        let rows = if ids.len() == finishes.len() {
            super::BULK_ROWS
        } else {
            1
        };
        let mut ended = Vec::with_capacity(finishes.len());
        for chunk in finishes.chunks(rows) {
            ended.extend(finish_in::<D>(&mut tx, chunk).await?);
        }
        // The runs' outcomes on their configs, after every finish of the
        // batch (one read and one write per config).
        let (at, records): (Vec<usize>, Vec<OutcomeRecord>) = ended
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, outcome_of(e.as_ref().ok()?)?)))
            .unzip();
        let mut recorded = vec![None; ended.len()];
        for (i, failures) in at
            .into_iter()
            .zip(outcomes_in::<D>(&mut tx, &records).await?)
        {
            recorded[i] = Some(failures);
        }
        self.db.commit(tx).await?;
        Ok(ended
            .into_iter()
            .zip(recorded)
            .map(|(e, outcome)| e.map(|execution| Finished { execution, outcome }))
            .collect())
    }

    async fn outcomes_record(
        &self,
        records: Vec<OutcomeRecord>,
    ) -> Result<Vec<Option<u32>>, StoreError> {
        let mut tx = self.db.begin().await?;
        let answers = outcomes_in::<D>(&mut tx, &records).await?;
        self.db.commit(tx).await?;
        Ok(answers)
    }

    async fn execution_cancel(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<CancelOutcome, StoreError> {
        let mut tx = self.db.begin().await?;
        let execution = get_in(&mut tx, id, D::LOCK_ROWS)
            .await?
            .ok_or(StoreError::NotFound)?;
        let change = match execution.status {
            ExecutionStatus::Queued => sql(format!(
                "UPDATE executions SET status = 'cancelled', cancel_requested = TRUE, \
                 completed_at = $2 WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .bind(id)
            .bind(now),
            ExecutionStatus::Running => sql(format!(
                "UPDATE executions SET cancel_requested = TRUE WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .bind(id),
            _ => {
                self.db.commit(tx).await?;
                return Ok(CancelOutcome::AlreadyFinal(execution));
            }
        };
        let after = execution_from_row(&fetch_one(&mut tx, change).await?)?;
        self.db.commit(tx).await?;
        Ok(match execution.status {
            ExecutionStatus::Queued => CancelOutcome::Cancelled(after),
            _ => CancelOutcome::Requested(after),
        })
    }

    async fn execution_get(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        let mut db = self.db.read_point().await?;
        let Some(mut execution) = get_in(&mut db, id, "").await? else {
            return Ok(None);
        };
        execution.attempts = db
            .fetch_all(
                sql(format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM execution_attempts WHERE execution_id = $1 \
                     ORDER BY attempt"
                ))
                .bind(id),
            )
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
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(format!(
                "SELECT {COLUMNS} FROM executions WHERE config_id = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT $2"
            ))
            .bind(config_id)
            .bind(limit),
        )
        .await?
        .iter()
        .map(execution_from_row)
        .collect()
    }

    async fn execution_next_due(&self, after: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let mut db = self.db.read().await?;
        next_due_in(&mut db, after).await
    }

    async fn lease_rescue(&self, p: LeaseRescue) -> Result<Vec<Rescued>, StoreError> {
        let mut tx = self.db.begin().await?;
        // An attempt being finished (or rescued) elsewhere is locked and
        // skipped: it is not abandoned.
        let skip_locked = D::SKIP_LOCKED;
        let rows = tx
            .fetch_all(
                sql(format!(
                    "SELECT execution_id, attempt FROM execution_attempts \
                     WHERE status = 'running' AND ($1 OR lease_expires_at < $2) \
                     ORDER BY execution_id{skip_locked}"
                ))
                .bind(p.all_running)
                .bind(p.now),
            )
            .await?;
        let found: Vec<(String, u32)> = rows
            .iter()
            .map(|r| Ok((r.get("execution_id")?, r.get("attempt")?)))
            .collect::<Result<_, StoreError>>()?;
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        let before = settling_in(&mut tx, &ids).await?;
        let outcomes: Vec<(&Execution, u32, AttemptOutcome)> = found
            .iter()
            .filter_map(|(id, attempt)| {
                let e = before.get(id)?;
                Some((e, *attempt, AttemptOutcome::abandoned(e)))
            })
            .collect();
        let endings: Vec<Ending<'_>> = outcomes
            .iter()
            .map(|(execution, attempt, outcome)| Ending {
                execution,
                attempt: *attempt,
                now: p.now,
                outcome,
            })
            .collect();
        let mut after = settle_in(&mut tx, &endings).await?;
        let mut out = Vec::with_capacity(endings.len());
        for (id, attempt) in found {
            if let Some(execution) = after.remove(&id) {
                chain_in::<D>(&mut tx, &execution, p.now).await?;
                out.push(Rescued { execution, attempt });
            }
        }
        self.db.commit(tx).await?;
        Ok(out)
    }

    async fn execution_prune(&self, p: ExecutionPrune) -> Result<u64, StoreError> {
        let mut db = self.db.autocommit().await?;
        let deleted = db
            .execute(
                sql("DELETE FROM executions WHERE id IN (\
                       SELECT id FROM (\
                         SELECT id, status, ROW_NUMBER() OVER (PARTITION BY config_id \
                           ORDER BY created_at DESC, id DESC) AS n FROM executions) ranked \
                       WHERE n > $1 AND status NOT IN ('queued', 'running') LIMIT $2)")
                .bind(p.keep_per_config)
                .bind(p.limit),
            )
            .await?;
        drop(db);
        self.db.change_prune().await?;
        Ok(deleted)
    }

    async fn log_append(&self, lines: Vec<LogInsert>) -> Result<(), StoreError> {
        // One multi-row statement per chunk: a run's lines cost one write,
        // not one each; a single chunk (the usual case) needs no transaction.
        match lines.len() {
            0 => Ok(()),
            n if n <= LOG_ROWS => {
                let mut db = self.db.autocommit().await?;
                db.execute(log_insert(&lines)).await?;
                Ok(())
            }
            _ => {
                let mut tx = self.db.begin().await?;
                for chunk in lines.chunks(LOG_ROWS) {
                    tx.execute(log_insert(chunk)).await?;
                }
                self.db.commit(tx).await
            }
        }
    }

    async fn log_list(
        &self,
        execution_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(
                "SELECT seq, attempt, at, level, message FROM execution_logs \
                 WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(execution_id)
            .bind(after)
            .bind(limit),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(LogLine {
                seq: r.get("seq")?,
                attempt: r.get("attempt")?,
                at: r.get("at")?,
                level: r.choice("level")?,
                message: r.get("message")?,
            })
        })
        .collect()
    }

    async fn slot_positions(&self) -> Result<Vec<SlotPosition>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(sql(
            "SELECT config_id, last_scheduled_for FROM slot_positions",
        ))
        .await?
        .iter()
        .map(|r| {
            Ok(SlotPosition {
                config_id: r.get("config_id")?,
                last_scheduled_for: r.get("last_scheduled_for")?,
            })
        })
        .collect()
    }

    async fn slot_position_advance(
        &self,
        config_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut db = self.db.autocommit().await?;
        advance_position(&mut db, config_id, at).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{NEXT_DUE, active_count, queue_head};
    use crate::sqlite::SqliteDb;

    /// SQLite's plan of `query` with `params`, step by step.
    fn plan(db: &rusqlite::Connection, query: &str, params: &[String]) -> Vec<String> {
        db.prepare(&format!("EXPLAIN QUERY PLAN {query}"))
            .expect("plan")
            .query_map(rusqlite::params_from_iter(params), |row| {
                row.get::<_, String>(3)
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("details")
    }

    /// SQLite uses a partial index only for a query that repeats its
    /// condition: the active runs' count and the claim's look at the queue
    /// must be served by theirs, not by a walk through every retained
    /// execution (or a sort of every queued one).
    #[test]
    fn active_and_queued_runs_are_read_from_their_partial_indexes_on_sqlite() {
        let db = rusqlite::Connection::open_in_memory().expect("open");
        for m in crate::migrate::SQLITE {
            db.execute_batch(m.sql).expect(m.name);
        }
        for n in [1, 3] {
            let configs: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
            let configs = vec![serde_json::Value::from(configs).to_string()];
            let steps = plan(&db, &active_count::<SqliteDb>(false), &configs);
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("COVERING INDEX executions_active")),
                "{steps:?}"
            );
            // Leaving out runs whose handlers returned reads their ids from
            // the table, for the active rows the index found only.
            let mut with_returned = configs.clone();
            with_returned.push(serde_json::json!(["r1", "r2"]).to_string());
            let steps = plan(&db, &active_count::<SqliteDb>(true), &with_returned);
            assert!(
                steps.iter().any(|s| s.contains("INDEX executions_active")),
                "{steps:?}"
            );
        }
        let now = ["0".to_owned()];
        let steps = plan(&db, NEXT_DUE, &now);
        assert!(
            steps
                .iter()
                .any(|s| s.contains("COVERING INDEX executions_queue")),
            "{steps:?}"
        );
        let steps = plan(&db, &queue_head(""), &["0".to_owned(), "64".to_owned()]);
        assert!(
            steps.iter().any(|s| s.contains("INDEX executions_queue")),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "claim order is index order: {steps:?}"
        );
    }
}
