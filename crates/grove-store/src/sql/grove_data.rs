//! Grove data: sprouts, signals, aggregates, advancement events, the
//! journal, the notifications outbox and the archive.
//!
//! Lists are bound whole ([`Dialect::in_list`]), so a batch never runs into
//! a bound-parameter limit; bulk loads use multi-row `INSERT`s of
//! [`super::BULK_ROWS`] rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use grove_core::grove::JournalEvent;
use grove_core::job_config::SignalPeriod;
use grove_core::validate::Choice;
use jiff::Timestamp;
use serde_json::Value;

use super::archive::{
    self, AdvancementEventDoc, AttemptDoc, ExecutionDoc, LogDoc, SignalDoc, SproutDoc,
};
use super::{
    BULK_ROWS, Dialect, Exec, Row, RowExt, SqlStore, Statement, count, fetch_one, scalar, sql,
    values,
};
use crate::StoreError;
use crate::grove_data::*;

fn sprout_from_row(r: &impl Row) -> Result<Sprout, StoreError> {
    Ok(Sprout {
        id: r.get("id")?,
        title: r.get("title")?,
        tier: r.get("tier")?,
        parent_id: r.get("parent_id")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        archived: false,
    })
}

const EVENT_COLUMNS: &str =
    "id, sprout_id, from_tier, to_tier, rule_id, run_id, signals, at, dry_run";

fn event_from_row(r: &impl Row) -> Result<AdvancementEvent, StoreError> {
    Ok(AdvancementEvent {
        id: r.get("id")?,
        sprout_id: r.get("sprout_id")?,
        from_tier: r.get("from_tier")?,
        to_tier: r.get("to_tier")?,
        rule_id: r.get("rule_id")?,
        run_id: r.get("run_id")?,
        signals: r.get("signals")?,
        at: r.get("at")?,
        dry_run: r.get("dry_run")?,
    })
}

fn notification_from_row(r: &impl Row) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.get("id")?,
        recipient_id: r.get("recipient_id")?,
        channel: r.get("channel")?,
        subject: r.get("subject")?,
        body: r.get("body")?,
        run_id: r.get("run_id")?,
        created_at: r.get("created_at")?,
    })
}

fn journal_from_row(r: &impl Row) -> Result<JournalEvent, StoreError> {
    Ok(JournalEvent {
        seq: r.get("seq")?,
        event_type: r.get("event_type")?,
        at: r.get("at")?,
        subject: r.get("subject")?,
        message: r.get("message")?,
        data: r.get("data")?,
    })
}

fn period_column(r: &impl Row) -> Result<SignalPeriod, StoreError> {
    r.choice("period")
}

/// `FROM … WHERE` selecting orphans of an entity over alias `o`; `$1` is
/// the idle cutoff (only sprouts use it: signals, events and executions are
/// orphaned when their owner is gone).
fn orphan_clause(entity: ArchiveEntity) -> &'static str {
    match entity {
        ArchiveEntity::Sprouts => {
            "FROM sprouts o WHERE o.updated_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM signals g WHERE g.sprout_id = o.id AND g.at >= $1)"
        }
        ArchiveEntity::Signals => {
            "FROM signals o WHERE CAST($1 AS BIGINT) IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM sprouts s WHERE s.id = o.sprout_id)"
        }
        ArchiveEntity::AdvancementEvents => {
            "FROM advancement_events o WHERE CAST($1 AS BIGINT) IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM sprouts s WHERE s.id = o.sprout_id)"
        }
        ArchiveEntity::Executions => {
            "FROM executions o WHERE CAST($1 AS BIGINT) IS NOT NULL \
             AND o.status NOT IN ('queued', 'running') \
             AND o.config_id <> 'legacy-advancement-batch' AND NOT EXISTS \
             (SELECT 1 FROM objects c WHERE c.object_type = 'job-config' AND c.id = o.config_id)"
        }
    }
}

fn table_of(entity: ArchiveEntity) -> &'static str {
    match entity {
        ArchiveEntity::Sprouts => "sprouts",
        ArchiveEntity::Signals => "signals",
        ArchiveEntity::AdvancementEvents => "advancement_events",
        ArchiveEntity::Executions => "executions",
    }
}

/// The archive documents of rows `ids` of `entity`, in id order.
async fn archive_docs<D: Dialect>(
    tx: &mut D::Write,
    entity: ArchiveEntity,
    ids: &[String],
) -> Result<Vec<(String, Value)>, StoreError> {
    let in_ids = D::in_list(1);
    let table = table_of(entity);
    let rows = tx
        .fetch_all(
            sql(format!(
                "SELECT * FROM {table} WHERE id {in_ids} ORDER BY id"
            ))
            .bind(ids),
        )
        .await?;
    let mut docs = Vec::with_capacity(rows.len());
    match entity {
        ArchiveEntity::Sprouts => {
            for r in &rows {
                let doc = SproutDoc::from_row(r)?;
                docs.push((doc.id.clone(), archive::to_json(&doc)?));
            }
        }
        ArchiveEntity::Signals => {
            for r in &rows {
                let doc = SignalDoc::from_row(r)?;
                docs.push((doc.id.clone(), archive::to_json(&doc)?));
            }
        }
        ArchiveEntity::AdvancementEvents => {
            for r in &rows {
                let doc = AdvancementEventDoc::from_row(r)?;
                docs.push((doc.id.clone(), archive::to_json(&doc)?));
            }
        }
        ArchiveEntity::Executions => {
            let mut executions: Vec<ExecutionDoc> = rows
                .iter()
                .map(ExecutionDoc::from_row)
                .collect::<Result<_, _>>()?;
            let index: HashMap<String, usize> = executions
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id.clone(), i))
                .collect();
            let in_ids = D::in_list(1);
            for r in tx
                .fetch_all(
                    sql(format!(
                        "SELECT execution_id, attempt, status, reason, error, started_at, \
                         completed_at FROM execution_attempts WHERE execution_id {in_ids} \
                         ORDER BY execution_id, attempt"
                    ))
                    .bind(ids),
                )
                .await?
            {
                if let Some(i) = index.get(&r.get::<String>("execution_id")?) {
                    executions[*i].attempts.push(AttemptDoc::from_row(&r)?);
                }
            }
            for r in tx
                .fetch_all(
                    sql(format!(
                        "SELECT execution_id, attempt, at, level, message FROM execution_logs \
                         WHERE execution_id {in_ids} ORDER BY seq"
                    ))
                    .bind(ids),
                )
                .await?
            {
                if let Some(i) = index.get(&r.get::<String>("execution_id")?) {
                    executions[*i].logs.push(LogDoc::from_row(&r)?);
                }
            }
            for doc in &executions {
                docs.push((doc.id.clone(), archive::to_json(doc)?));
            }
        }
    }
    Ok(docs)
}

/// Re-inserts one archived row (with an execution's attempts and logs);
/// `false` if its id is live again.
async fn restore_doc<E: Exec>(
    tx: &mut E,
    entity: ArchiveEntity,
    data: Value,
) -> Result<bool, StoreError> {
    let insert = match entity {
        ArchiveEntity::Sprouts => {
            let d: SproutDoc = archive::from_json(data)?;
            sql(
                "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(d.id)
            .bind(d.title)
            .bind(d.tier)
            .bind(d.parent_id)
            .bind(d.created_at)
            .bind(d.updated_at)
        }
        ArchiveEntity::Signals => {
            let d: SignalDoc = archive::from_json(data)?;
            sql(
                "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(d.id)
            .bind(d.sprout_id)
            .bind(d.kind)
            .bind(d.at)
            .bind(d.value)
            .bind(d.received_at)
        }
        ArchiveEntity::AdvancementEvents => {
            let d: AdvancementEventDoc = archive::from_json(data)?;
            sql(
                "INSERT INTO advancement_events (id, sprout_id, from_tier, to_tier, rule_id, \
                 run_id, signals, at, dry_run) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(d.id)
            .bind(d.sprout_id)
            .bind(d.from_tier)
            .bind(d.to_tier)
            .bind(d.rule_id)
            .bind(d.run_id)
            .bind_json(&d.signals)
            .bind(d.at)
            .bind(d.dry_run)
        }
        ArchiveEntity::Executions => {
            let d: ExecutionDoc = archive::from_json(data)?;
            return restore_execution(tx, d).await;
        }
    };
    Ok(tx.execute(insert).await? == 1)
}

async fn restore_execution<E: Exec>(tx: &mut E, d: ExecutionDoc) -> Result<bool, StoreError> {
    let inserted = tx
        .execute(
            sql(
                "INSERT INTO executions (id, config_id, trigger, status, reason, late, \
                 scheduled_for, created_at, started_at, completed_at, available_at, \
                 attempt_count, max_concurrent, config_version, payload, retry, items_processed, \
                 items_total, items_succeeded, items_failed, error, metadata, retry_of, actor, \
                 cancel_requested, due_at, parent_run_id, parent_scheduled_for, overrides) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&d.id)
            .bind(d.config_id)
            .bind(d.trigger)
            .bind(d.status)
            .bind(d.reason)
            .bind(d.late)
            .bind(d.scheduled_for)
            .bind(d.created_at)
            .bind(d.started_at)
            .bind(d.completed_at)
            .bind(d.available_at)
            .bind(d.attempt_count)
            .bind(d.max_concurrent)
            .bind(d.config_version)
            .bind_json(&d.payload)
            .bind_json(&d.retry)
            .bind(d.items_processed)
            .bind(d.items_total)
            .bind(d.items_succeeded)
            .bind(d.items_failed)
            .bind(d.error)
            .bind_json(&d.metadata)
            .bind(d.retry_of)
            .bind(d.actor)
            .bind(d.cancel_requested)
            .bind(d.due_at)
            .bind(d.parent_run_id)
            .bind(d.parent_scheduled_for)
            .bind_json(&d.overrides),
        )
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    for a in d.attempts {
        tx.execute(
            sql(
                "INSERT INTO execution_attempts (execution_id, attempt, status, reason, error, \
                 started_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&d.id)
            .bind(a.attempt)
            .bind(a.status)
            .bind(a.reason)
            .bind(a.error)
            .bind(a.started_at)
            .bind(a.completed_at),
        )
        .await?;
    }
    for chunk in d.logs.chunks(BULK_ROWS) {
        let mut insert = sql(format!(
            "INSERT INTO execution_logs (execution_id, attempt, at, level, message) VALUES {}",
            values(chunk.len(), 5, 1)
        ));
        for l in chunk {
            insert = insert
                .bind(&d.id)
                .bind(l.attempt)
                .bind(l.at)
                .bind(l.level.as_str())
                .bind(l.message.as_str());
        }
        tx.execute(insert).await?;
    }
    Ok(true)
}

impl<D: Dialect> SqlStore<D> {
    /// Rows of `statement` over a table whose sequence numbers it reads
    /// up to the highest, safely where they can commit out of order.
    async fn read_in_sequence<T: FromRow>(
        &self,
        table: &str,
        statement: Statement,
    ) -> Result<Vec<T>, StoreError> {
        match D::lock_sequence(table) {
            Some(lock) => {
                let mut tx = self.db.begin().await?;
                tx.execute(sql(lock)).await?;
                let rows = tx.fetch_all(statement).await?;
                self.db.commit(tx).await?;
                rows.iter().map(T::from_row).collect()
            }
            None => {
                let rows = self.db.read().await?.fetch_all(statement).await?;
                rows.iter().map(T::from_row).collect()
            }
        }
    }
}

/// What one row reads as, from whichever connection it came.
trait FromRow: Sized {
    fn from_row(row: &impl Row) -> Result<Self, StoreError>;
}

impl FromRow for JournalEvent {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        journal_from_row(row)
    }
}

/// The highest sequence number of a table (`m`).
struct MaxSeq(i64);

impl FromRow for MaxSeq {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        row.get("m").map(MaxSeq)
    }
}

/// Journal entries in multi-row inserts (a statement per
/// [`BULK_ROWS`]), in order.
pub(crate) async fn journal_insert_many_in<E: Exec>(
    exec: &mut E,
    entries: &[&JournalAppend],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(BULK_ROWS) {
        let mut insert = sql(format!(
            "INSERT INTO journal (event_type, at, subject, message, data) VALUES {}",
            values(chunk.len(), 5, 1)
        ));
        for e in chunk {
            insert = insert
                .bind(&e.event_type)
                .bind(e.at)
                .bind(&e.subject)
                .bind(&e.message)
                .bind_json(&e.data);
        }
        exec.execute(insert).await?;
    }
    Ok(())
}

/// Appends a journal entry in `exec`'s transaction; its `seq`.
pub(crate) async fn journal_insert_in<E: Exec>(
    exec: &mut E,
    e: &JournalAppend,
) -> Result<i64, StoreError> {
    scalar(
        exec,
        sql(
            "INSERT INTO journal (event_type, at, subject, message, data) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        )
        .bind(&e.event_type)
        .bind(e.at)
        .bind(&e.subject)
        .bind(&e.message)
        .bind_json(&e.data),
        "seq",
    )
    .await
}

#[async_trait]
impl<D: Dialect> GroveDataStore for SqlStore<D> {
    async fn sprout_upsert_batch(
        &self,
        items: Vec<SproutUpsert>,
        now: Timestamp,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let mut out = Vec::with_capacity(items.len());
        let mut tx = self.db.begin().await?;
        for s in items {
            let inserted = tx
                .execute(
                    sql(
                        "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&s.id)
                    .bind(&s.title)
                    .bind(&s.tier)
                    .bind(&s.parent_id)
                    .bind(s.created_at)
                    .bind(now),
                )
                .await?;
            if inserted == 1 {
                out.push(UpsertOutcome::Created);
                continue;
            }
            let updated = tx
                .execute(
                    sql(
                        "UPDATE sprouts SET title = $2, tier = $3, parent_id = $4, updated_at = $5 \
                         WHERE id = $1 AND (title IS DISTINCT FROM $2 OR tier IS DISTINCT FROM $3 \
                         OR parent_id IS DISTINCT FROM $4)",
                    )
                    .bind(&s.id)
                    .bind(&s.title)
                    .bind(&s.tier)
                    .bind(&s.parent_id)
                    .bind(now),
                )
                .await?;
            out.push(if updated == 1 {
                UpsertOutcome::Updated
            } else {
                UpsertOutcome::Unchanged
            });
        }
        self.db.commit(tx).await?;
        Ok(out)
    }

    async fn sprout_get(&self, id: &str) -> Result<Option<Sprout>, StoreError> {
        let mut db = self.db.read().await?;
        let live = db
            .fetch_optional(
                sql(
                    "SELECT id, title, tier, parent_id, created_at, updated_at FROM sprouts \
                     WHERE id = $1",
                )
                .bind(id),
            )
            .await?;
        if let Some(r) = live {
            return sprout_from_row(&r).map(Some);
        }
        let archived = db
            .fetch_optional(
                sql("SELECT data FROM archive WHERE entity = 'sprouts' AND id = $1").bind(id),
            )
            .await?;
        let Some(row) = archived else {
            return Ok(None);
        };
        let d: SproutDoc = archive::from_json(row.get("data")?)?;
        let instant = |ms: i64| {
            Timestamp::from_millisecond(ms).map_err(|source| {
                StoreError::from(crate::error::Corrupt::Timestamp {
                    column: "archive.data".to_owned(),
                    millis: ms,
                    source,
                })
            })
        };
        Ok(Some(Sprout {
            id: id.to_owned(),
            title: d.title,
            tier: d.tier,
            parent_id: d.parent_id,
            created_at: instant(d.created_at)?,
            updated_at: instant(d.updated_at)?,
            archived: true,
        }))
    }

    async fn sprout_count(&self, tiers: &[String]) -> Result<u64, StoreError> {
        let statement = if tiers.is_empty() {
            sql("SELECT COUNT(*) AS n FROM sprouts")
        } else {
            sql(format!(
                "SELECT COUNT(*) AS n FROM sprouts WHERE tier {}",
                D::in_list(1)
            ))
            .bind(tiers)
        };
        let mut db = self.db.read().await?;
        Ok(count(scalar(&mut db, statement, "n").await?))
    }

    async fn sprout_page_for_advancement(
        &self,
        page: SproutPage,
    ) -> Result<Vec<SproutSignals>, StoreError> {
        // Two range reads instead of a join: the page of sprouts by id, then
        // the aggregates of that id range in primary-key order (a join with
        // its sort costs several times more on large tables).
        let after = page.after_id.unwrap_or_default();
        let sprouts = if page.tiers.is_empty() {
            sql("SELECT id, tier FROM sprouts WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(&after)
                .bind(page.limit)
        } else {
            sql(format!(
                "SELECT id, tier FROM sprouts WHERE id > $1 AND tier {} ORDER BY id LIMIT $2",
                D::in_list(3)
            ))
            .bind(&after)
            .bind(page.limit)
            .bind(page.tiers.as_slice())
        };
        let mut db = self.db.read().await?;
        let mut out: Vec<SproutSignals> = db
            .fetch_all(sprouts)
            .await?
            .iter()
            .map(|r| {
                Ok(SproutSignals {
                    id: r.get("id")?,
                    tier: r.get("tier")?,
                    counts: BTreeMap::new(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let Some(last) = out.last().map(|s| s.id.clone()) else {
            return Ok(out);
        };
        let base = "SELECT sprout_id, kind, count FROM signal_aggregates \
                    WHERE period = $1 AND sprout_id > $2 AND sprout_id <= $3";
        let aggregates = if page.kinds.is_empty() {
            sql(base)
        } else {
            sql(format!("{base} AND kind {}", D::in_list(4)))
        }
        .bind(page.period.name())
        .bind(&after)
        .bind(&last);
        let aggregates = if page.kinds.is_empty() {
            aggregates
        } else {
            aggregates.bind(page.kinds.as_slice())
        };
        let index: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        for r in db.fetch_all(aggregates).await? {
            if let Some(i) = index.get(&r.get::<String>("sprout_id")?) {
                out[*i].counts.insert(r.get("kind")?, r.get("count")?);
            }
        }
        Ok(out)
    }

    async fn signal_insert_batch(
        &self,
        items: Vec<SignalInsert>,
        now: Timestamp,
    ) -> Result<Vec<SignalOutcome>, StoreError> {
        let mut known: HashMap<String, bool> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        let mut tx = self.db.begin().await?;
        for s in items {
            let exists = match known.get(&s.sprout_id) {
                Some(e) => *e,
                None => {
                    let e: bool = scalar(
                        &mut tx,
                        sql("SELECT EXISTS (SELECT 1 FROM sprouts WHERE id = $1) AS e")
                            .bind(&s.sprout_id),
                        "e",
                    )
                    .await?;
                    known.insert(s.sprout_id.clone(), e);
                    e
                }
            };
            if !exists {
                out.push(SignalOutcome::UnknownSprout);
                continue;
            }
            let inserted = tx
                .execute(
                    sql(
                        "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&s.id)
                    .bind(&s.sprout_id)
                    .bind(&s.kind)
                    .bind(s.at)
                    .bind(s.value)
                    .bind(now),
                )
                .await?;
            out.push(if inserted == 1 {
                SignalOutcome::Accepted
            } else {
                SignalOutcome::Duplicate
            });
        }
        self.db.commit(tx).await?;
        Ok(out)
    }

    async fn signal_max_seq(&self) -> Result<i64, StoreError> {
        let rows: Vec<MaxSeq> = self
            .read_in_sequence(
                "signals",
                sql("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) AS m FROM signals"),
            )
            .await?;
        Ok(rows.first().map_or(0, |m| m.0))
    }

    async fn signal_count(&self) -> Result<u64, StoreError> {
        let mut db = self.db.read().await?;
        Ok(count(
            scalar(&mut db, sql("SELECT COUNT(*) AS n FROM signals"), "n").await?,
        ))
    }

    async fn grove_bulk_load(&self, load: GroveBulkLoad) -> Result<(u64, u64), StoreError> {
        let now = load.now.unwrap_or_else(Timestamp::now);
        let mut tx = self.db.begin().await?;
        let mut sprouts = 0;
        for chunk in load.sprouts.chunks(BULK_ROWS) {
            let mut insert = sql(format!(
                "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                 VALUES {} ON CONFLICT (id) DO NOTHING",
                values(chunk.len(), 6, 1)
            ));
            for s in chunk {
                insert = insert
                    .bind(&s.id)
                    .bind(&s.title)
                    .bind(&s.tier)
                    .bind(&s.parent_id)
                    .bind(s.created_at)
                    .bind(s.created_at);
            }
            sprouts += tx.execute(insert).await?;
        }
        let mut signals = 0;
        for chunk in load.signals.chunks(BULK_ROWS) {
            let mut insert = sql(format!(
                "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                 VALUES {} ON CONFLICT (id) DO NOTHING",
                values(chunk.len(), 6, 1)
            ));
            for s in chunk {
                insert = insert
                    .bind(&s.id)
                    .bind(&s.sprout_id)
                    .bind(&s.kind)
                    .bind(s.at)
                    .bind(s.value)
                    .bind(now);
            }
            signals += tx.execute(insert).await?;
        }
        self.db.commit(tx).await?;
        Ok((sprouts, signals))
    }

    async fn aggregate_rebuild_range(
        &self,
        p: AggregateRebuildRange,
    ) -> Result<RangeOutcome, StoreError> {
        let after = p.after_sprout.unwrap_or_default();
        let mut tx = self.db.begin().await?;
        let bounds = fetch_one(
            &mut tx,
            sql("SELECT COUNT(*) AS n, MAX(id) AS last FROM \
                 (SELECT id FROM sprouts WHERE id > $1 ORDER BY id LIMIT $2) page")
            .bind(&after)
            .bind(p.limit),
        )
        .await?;
        let n: i64 = bounds.get("n")?;
        let Some(last) = bounds.get::<Option<String>>("last")? else {
            self.db.commit(tx).await?;
            return Ok(RangeOutcome {
                last_sprout: None,
                sprouts: 0,
                signals: 0,
            });
        };
        let period = p.period.name();
        tx.execute(
            sql(
                "DELETE FROM signal_aggregates WHERE period = $1 AND sprout_id > $2 \
                 AND sprout_id <= $3",
            )
            .bind(period)
            .bind(&after)
            .bind(&last),
        )
        .await?;
        tx.execute(
            sql(
                "INSERT INTO signal_aggregates (period, sprout_id, kind, count, last_seen, \
                 run_id, computed_at) \
                 SELECT $1, sprout_id, kind, COUNT(*), MAX(at), $6, $7 FROM signals \
                 WHERE sprout_id > $2 AND sprout_id <= $3 AND seq <= $4 AND at >= $5 \
                 AND at < $8 GROUP BY sprout_id, kind",
            )
            .bind(period)
            .bind(&after)
            .bind(&last)
            .bind(p.max_seq)
            .bind(p.window_start.map_or(i64::MIN, |t| t.as_millisecond()))
            .bind(&p.run_id)
            .bind(p.now)
            .bind(p.window_end.map_or(i64::MAX, |t| t.as_millisecond())),
        )
        .await?;
        let signals: i64 = scalar(
            &mut tx,
            sql(
                "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS n FROM signal_aggregates \
                 WHERE period = $1 AND sprout_id > $2 AND sprout_id <= $3",
            )
            .bind(period)
            .bind(&after)
            .bind(&last),
            "n",
        )
        .await?;
        self.db.commit(tx).await?;
        Ok(RangeOutcome {
            last_sprout: Some(last),
            sprouts: count(n),
            signals: count(signals),
        })
    }

    async fn aggregate_increment(&self, p: AggregateIncrement) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        let added: i64 = scalar(
            &mut tx,
            sql(
                "SELECT COUNT(*) AS n FROM signals s WHERE s.seq > $1 AND s.seq <= $2 \
                 AND EXISTS (SELECT 1 FROM sprouts p WHERE p.id = s.sprout_id)",
            )
            .bind(p.after_seq)
            .bind(p.max_seq),
            "n",
        )
        .await?;
        tx.execute(
            sql("INSERT INTO signal_aggregates AS a (period, sprout_id, kind, count, last_seen, \
                 run_id, computed_at) \
                 SELECT 'all_time', s.sprout_id, s.kind, COUNT(*), MAX(s.at), $3, $4 FROM signals s \
                 WHERE s.seq > $1 AND s.seq <= $2 \
                 AND EXISTS (SELECT 1 FROM sprouts p WHERE p.id = s.sprout_id) \
                 GROUP BY s.sprout_id, s.kind \
                 ON CONFLICT (period, sprout_id, kind) DO UPDATE SET \
                   count = a.count + excluded.count, \
                   last_seen = CASE WHEN excluded.last_seen > a.last_seen \
                     THEN excluded.last_seen ELSE a.last_seen END, \
                   run_id = excluded.run_id, computed_at = excluded.computed_at")
            .bind(p.after_seq)
            .bind(p.max_seq)
            .bind(&p.run_id)
            .bind(p.now),
        )
        .await?;
        self.db.commit(tx).await?;
        Ok(count(added))
    }

    async fn aggregate_status(
        &self,
        period: SignalPeriod,
    ) -> Result<Option<AggregateStatus>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_optional(
            sql(
                "SELECT period, watermark, window_start, run_id, computed_at FROM aggregate_state \
                 WHERE period = $1",
            )
            .bind(period.name()),
        )
        .await?
        .map(|r| {
            Ok(AggregateStatus {
                period: period_column(&r)?,
                watermark: r.get("watermark")?,
                window_start: r.get("window_start")?,
                run_id: r.get("run_id")?,
                computed_at: r.get("computed_at")?,
            })
        })
        .transpose()
    }

    async fn aggregate_status_set(&self, s: AggregateStatus) -> Result<(), StoreError> {
        let mut db = self.db.autocommit().await?;
        db.execute(
            sql(
                "INSERT INTO aggregate_state (period, watermark, window_start, run_id, \
                 computed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (period) DO UPDATE SET \
                 watermark = excluded.watermark, window_start = excluded.window_start, \
                 run_id = excluded.run_id, computed_at = excluded.computed_at",
            )
            .bind(s.period.name())
            .bind(s.watermark)
            .bind(s.window_start)
            .bind(&s.run_id)
            .bind(s.computed_at),
        )
        .await?;
        Ok(())
    }

    async fn aggregate_status_clear(&self, period: SignalPeriod) -> Result<(), StoreError> {
        let mut db = self.db.autocommit().await?;
        db.execute(sql("DELETE FROM aggregate_state WHERE period = $1").bind(period.name()))
            .await?;
        Ok(())
    }

    async fn aggregate_get(&self, sprout_id: &str) -> Result<Vec<Aggregate>, StoreError> {
        let mut db = self.db.read().await?;
        let mut out: Vec<Aggregate> = db
            .fetch_all(
                sql(
                    "SELECT period, kind, count, last_seen, run_id, computed_at \
                     FROM signal_aggregates WHERE sprout_id = $1",
                )
                .bind(sprout_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Aggregate {
                    period: period_column(r)?,
                    kind: r.get("kind")?,
                    count: r.get("count")?,
                    last_seen: r.get("last_seen")?,
                    run_id: r.get("run_id")?,
                    computed_at: r.get("computed_at")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        // By period and kind, byte by byte (collations differ per database).
        out.sort_by(|a, b| (a.period.name(), &a.kind).cmp(&(b.period.name(), &b.kind)));
        Ok(out)
    }

    async fn advancement_apply(&self, p: AdvancementApply) -> Result<Vec<bool>, StoreError> {
        if p.items.is_empty() {
            return Ok(Vec::new());
        }
        let candidates: Vec<Value> = p
            .items
            .iter()
            .map(|c| {
                serde_json::json!({
                    "s": c.sprout_id, "f": c.from_tier, "t": c.to_tier, "r": c.rule_id,
                    "g": c.signals,
                })
            })
            .collect();
        let mut tx = self.db.begin().await?;
        // One statement for the whole batch. Eligible: still at from_tier and
        // never advanced by this rule from this tier; the event id
        // (run:sprout) makes a second advancement in the same run a conflict,
        // and conflicts are skipped.
        let applied: Vec<String> = tx
            .fetch_all(
                sql(D::ADVANCEMENT_APPLY)
                    .bind(&p.run_id)
                    .bind(p.at)
                    .bind(p.dry_run)
                    .bind_json(&Value::Array(candidates)),
            )
            .await?
            .iter()
            .map(|r| r.get("sprout_id"))
            .collect::<Result<_, _>>()?;
        if !p.dry_run && !applied.is_empty() {
            tx.execute(
                sql(format!(
                    "UPDATE sprouts SET tier = (SELECT e.to_tier FROM advancement_events e \
                     WHERE e.id = $1 || ':' || sprouts.id) WHERE id {}",
                    D::in_list(2)
                ))
                .bind(&p.run_id)
                .bind(applied.as_slice()),
            )
            .await?;
        }
        self.db.commit(tx).await?;
        let mut applied: HashSet<String> = applied.into_iter().collect();
        Ok(p.items
            .iter()
            .map(|c| applied.remove(&c.sprout_id))
            .collect())
    }

    async fn advancement_event_list(
        &self,
        f: AdvancementEventFilter,
    ) -> Result<Vec<AdvancementEvent>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(format!(
                "SELECT {EVENT_COLUMNS} FROM advancement_events \
                 WHERE ($1 IS NULL OR sprout_id = $1) AND ($2 IS NULL OR run_id = $2) \
                 AND ($3 IS NULL OR rule_id = $3) ORDER BY at DESC, id DESC LIMIT $4"
            ))
            .bind(&f.sprout_id)
            .bind(&f.run_id)
            .bind(&f.rule_id)
            .bind(f.limit),
        )
        .await?
        .iter()
        .map(event_from_row)
        .collect()
    }

    async fn journal_append(&self, e: JournalAppend) -> Result<i64, StoreError> {
        let mut db = self.db.autocommit().await?;
        journal_insert_in(&mut db, &e).await
    }

    async fn journal_since(
        &self,
        after_seq: i64,
        types: &[String],
        limit: u32,
    ) -> Result<Vec<JournalEvent>, StoreError> {
        let statement = if types.is_empty() {
            sql(
                "SELECT seq, event_type, at, subject, message, data FROM journal \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(limit)
        } else {
            sql(format!(
                "SELECT seq, event_type, at, subject, message, data FROM journal \
                 WHERE seq > $1 AND event_type {} ORDER BY seq LIMIT $2",
                D::in_list(3)
            ))
            .bind(after_seq)
            .bind(limit)
            .bind(types)
        };
        self.read_in_sequence("journal", statement).await
    }

    async fn journal_list(&self, f: JournalFilter) -> Result<Vec<JournalEvent>, StoreError> {
        // One statement text whichever filters are given; the type list is
        // bound whole, so an empty one means every type.
        let any_type = f.types.is_empty();
        let statement = sql(format!(
            "SELECT seq, event_type, at, subject, message, data FROM journal \
             WHERE ($1 IS NULL OR subject = $1) AND ($2 IS NULL OR seq < $2) \
             AND ($3 OR event_type {}) ORDER BY seq DESC LIMIT $5",
            D::in_list(4)
        ))
        .bind(f.subject)
        .bind(f.before)
        .bind(any_type)
        .bind(f.types)
        .bind(f.limit);
        let mut db = self.db.read().await?;
        db.fetch_all(statement)
            .await?
            .iter()
            .map(journal_from_row)
            .collect()
    }

    async fn digest_cursor_get(&self, key: &str) -> Result<Option<i64>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_optional(sql("SELECT last_seq FROM digest_cursors WHERE key = $1").bind(key))
            .await?
            .map(|r| r.get("last_seq"))
            .transpose()
    }

    async fn digest_cursor_set(
        &self,
        key: &str,
        seq: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut db = self.db.autocommit().await?;
        db.execute(
            sql(
                "INSERT INTO digest_cursors AS d (key, last_seq, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET last_seq = CASE WHEN excluded.last_seq > \
                 d.last_seq THEN excluded.last_seq ELSE d.last_seq END, \
                 updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(seq)
            .bind(now),
        )
        .await?;
        Ok(())
    }

    async fn notification_insert(&self, n: Notification) -> Result<bool, StoreError> {
        let mut db = self.db.autocommit().await?;
        let inserted = db
            .execute(
                sql(
                    "INSERT INTO notifications (id, recipient_id, channel, subject, body, \
                     run_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&n.id)
                .bind(&n.recipient_id)
                .bind(&n.channel)
                .bind(&n.subject)
                .bind_json(&n.body)
                .bind(&n.run_id)
                .bind(n.created_at),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn notification_list(
        &self,
        recipient_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(
                "SELECT id, recipient_id, channel, subject, body, run_id, created_at \
                 FROM notifications WHERE ($1 IS NULL OR recipient_id = $1) \
                 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(recipient_id)
            .bind(limit),
        )
        .await?
        .iter()
        .map(notification_from_row)
        .collect()
    }

    async fn orphan_count(&self, q: OrphanQuery) -> Result<u64, StoreError> {
        let mut db = self.db.read().await?;
        let n = scalar(
            &mut db,
            sql(format!("SELECT COUNT(*) AS n {}", orphan_clause(q.entity))).bind(q.idle_before),
            "n",
        )
        .await?;
        Ok(count(n))
    }

    async fn orphan_sample(&self, q: OrphanQuery, limit: u32) -> Result<Vec<String>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(format!(
                "SELECT o.id {} ORDER BY o.id LIMIT $2",
                orphan_clause(q.entity)
            ))
            .bind(q.idle_before)
            .bind(limit),
        )
        .await?
        .iter()
        .map(|r| r.get("id"))
        .collect()
    }

    async fn archive_orphans(&self, p: ArchiveOrphans) -> Result<Vec<String>, StoreError> {
        let entity = p.query.entity;
        let mut tx = self.db.begin().await?;
        // Skipping locked rows: two cleanups at once split the work.
        let ids: Vec<String> = tx
            .fetch_all(
                sql(format!(
                    "SELECT o.id {} AND o.id > $3 ORDER BY o.id LIMIT $2{}",
                    orphan_clause(entity),
                    D::SKIP_LOCKED
                ))
                .bind(p.query.idle_before)
                .bind(p.limit)
                .bind(p.after_id.as_deref().unwrap_or("")),
            )
            .await?
            .iter()
            .map(|r| r.get("id"))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            self.db.commit(tx).await?;
            return Ok(ids);
        }
        let docs = archive_docs::<D>(&mut tx, entity, &ids).await?;
        for chunk in docs.chunks(BULK_ROWS) {
            let mut insert = sql(format!(
                "INSERT INTO archive (entity, id, data, reason, run_id, archived_at) VALUES {} \
                 ON CONFLICT (entity, id) DO UPDATE SET data = excluded.data, \
                 reason = excluded.reason, run_id = excluded.run_id, \
                 archived_at = excluded.archived_at",
                values(chunk.len(), 6, 1)
            ));
            for (id, data) in chunk {
                insert = insert
                    .bind(entity.name())
                    .bind(id)
                    .bind_json(data)
                    .bind(&p.reason)
                    .bind(&p.run_id)
                    .bind(p.now);
            }
            tx.execute(insert).await?;
        }
        let in_ids = D::in_list(1);
        let table = table_of(entity);
        tx.execute(sql(format!("DELETE FROM {table} WHERE id {in_ids}")).bind(ids.as_slice()))
            .await?;
        match entity {
            ArchiveEntity::Sprouts => {
                tx.execute(
                    sql(format!(
                        "DELETE FROM signal_aggregates WHERE sprout_id {in_ids}"
                    ))
                    .bind(ids.as_slice()),
                )
                .await?;
            }
            ArchiveEntity::Signals => {
                // Counts went down: every period must be rebuilt before it is trusted.
                tx.execute(sql("DELETE FROM aggregate_state")).await?;
            }
            ArchiveEntity::AdvancementEvents | ArchiveEntity::Executions => {}
        }
        self.db.commit(tx).await?;
        Ok(ids)
    }

    async fn archive_restore(
        &self,
        entity: ArchiveEntity,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut restored = 0;
        for id in ids {
            let archived = tx
                .fetch_optional(
                    sql("SELECT data FROM archive WHERE entity = $1 AND id = $2")
                        .bind(entity.name())
                        .bind(id),
                )
                .await?;
            let Some(row) = archived else {
                continue;
            };
            if restore_doc(&mut tx, entity, row.get("data")?).await? {
                tx.execute(
                    sql("DELETE FROM archive WHERE entity = $1 AND id = $2")
                        .bind(entity.name())
                        .bind(id),
                )
                .await?;
                restored += 1;
            }
        }
        self.db.commit(tx).await?;
        Ok(restored)
    }

    async fn archive_list(
        &self,
        entity: ArchiveEntity,
        limit: u32,
    ) -> Result<Vec<ArchivedRow>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(
                "SELECT entity, id, data, reason, run_id, archived_at FROM archive \
                 WHERE entity = $1 ORDER BY archived_at DESC, id LIMIT $2",
            )
            .bind(entity.name())
            .bind(limit),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(ArchivedRow {
                entity: r.get("entity")?,
                id: r.get("id")?,
                data: r.get("data")?,
                reason: r.get("reason")?,
                run_id: r.get("run_id")?,
                archived_at: r.get("archived_at")?,
            })
        })
        .collect()
    }
}
