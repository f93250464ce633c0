//! Grove data on PostgreSQL. Same semantics as `sqlite/grove_data.rs`
//! (the conformance suite runs against both); what differs:
//!
//! - **Sequence numbers are not committed in order.** Two writers can take
//!   seq 10 and 11 and commit 11 first; a reader that saw 11 as the highest
//!   would skip 10 forever (the all_time watermark, the digest cursor). So
//!   the readers of "the highest seq" (`signal_max_seq`, `journal_since`)
//!   first take `LOCK TABLE … IN SHARE MODE` in a short transaction: it
//!   waits for in-flight inserts to commit and holds new ones back for the
//!   duration of one read.
//! - Lists are bound as arrays (`= ANY($n)`), JSON as JSONB.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use grove_core::grove::JournalEvent;
use grove_core::job_config::SignalPeriod;
use grove_core::validate::Choice;
use jiff::Timestamp;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::PostgresStore;
use crate::grove_data::*;
use crate::{StoreError, from_millis, to_millis};

/// Rows per multi-row insert (7 columns × 1000 stays below the 65535
/// bound-parameter limit).
const BULK_ROWS: usize = 1000;

fn period_of(s: &str) -> Result<SignalPeriod, StoreError> {
    SignalPeriod::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("unknown period \"{s}\"")))
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

fn sprout_from_row(r: &PgRow) -> Result<Sprout, StoreError> {
    Ok(Sprout {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        tier: r.try_get("tier")?,
        parent_id: r.try_get("parent_id")?,
        created_at: from_millis(r.try_get("created_at")?)?,
        updated_at: from_millis(r.try_get("updated_at")?)?,
        archived: false,
    })
}

const EVENT_COLUMNS: &str =
    "id, sprout_id, from_tier, to_tier, rule_id, run_id, signals::text AS signals, at, dry_run";

fn event_from_row(r: &PgRow) -> Result<AdvancementEvent, StoreError> {
    Ok(AdvancementEvent {
        id: r.try_get("id")?,
        sprout_id: r.try_get("sprout_id")?,
        from_tier: r.try_get("from_tier")?,
        to_tier: r.try_get("to_tier")?,
        rule_id: r.try_get("rule_id")?,
        run_id: r.try_get("run_id")?,
        signals: serde_json::from_str(r.try_get("signals")?)?,
        at: from_millis(r.try_get("at")?)?,
        dry_run: r.try_get("dry_run")?,
    })
}

fn notification_from_row(r: &PgRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        channel: r.try_get("channel")?,
        subject: r.try_get("subject")?,
        body: serde_json::from_str(r.try_get("body")?)?,
        run_id: r.try_get("run_id")?,
        created_at: from_millis(r.try_get("created_at")?)?,
    })
}

/// The `FROM … WHERE` selecting orphans; `$1` is the idle cutoff (signals
/// and events ignore it: they are orphaned when their sprout is gone).
fn orphan_clause(entity: ArchiveEntity) -> &'static str {
    match entity {
        ArchiveEntity::Sprouts => {
            "FROM sprouts o WHERE o.updated_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM signals g WHERE g.sprout_id = o.id AND g.at >= $1)"
        }
        ArchiveEntity::Signals => {
            "FROM signals o WHERE $1::bigint IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM sprouts s WHERE s.id = o.sprout_id)"
        }
        ArchiveEntity::AdvancementEvents => {
            "FROM advancement_events o WHERE $1::bigint IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM sprouts s WHERE s.id = o.sprout_id)"
        }
        ArchiveEntity::Executions => {
            "FROM executions o WHERE $1::bigint IS NOT NULL \
             AND o.status NOT IN ('queued', 'running') \
             AND o.config_id <> 'legacy-advancement-batch' AND NOT EXISTS \
             (SELECT 1 FROM objects c WHERE c.object_type = 'job-config' AND c.id = o.config_id)"
        }
    }
}

/// The archived JSON of one row, over alias `o` (same keys as on SQLite).
fn archive_json(entity: ArchiveEntity) -> &'static str {
    match entity {
        ArchiveEntity::Sprouts => {
            "jsonb_build_object('id', o.id, 'title', o.title, 'tier', o.tier, 'parentId', o.parent_id, \
             'createdAt', o.created_at, 'updatedAt', o.updated_at)"
        }
        ArchiveEntity::Signals => {
            "jsonb_build_object('id', o.id, 'sproutId', o.sprout_id, 'kind', o.kind, 'at', o.at, \
             'value', o.value, 'receivedAt', o.received_at)"
        }
        ArchiveEntity::AdvancementEvents => {
            "jsonb_build_object('id', o.id, 'sproutId', o.sprout_id, 'fromTier', o.from_tier, \
             'toTier', o.to_tier, 'ruleId', o.rule_id, 'runId', o.run_id, \
             'signals', o.signals, 'at', o.at, 'dryRun', o.dry_run)"
        }
        // Every column, then the attempts and log lines (deleted with it).
        ArchiveEntity::Executions => {
            "to_jsonb(o) - 'payload' - 'retry' - 'metadata' || jsonb_build_object( \
             'payload', o.payload, 'retry', o.retry, 'metadata', o.metadata, \
             'attempts', COALESCE((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.attempt) \
                 FROM execution_attempts a WHERE a.execution_id = o.id), '[]'::jsonb), \
             'logs', COALESCE((SELECT jsonb_agg(jsonb_build_object('attempt', l.attempt, \
                 'at', l.at, 'level', l.level, 'message', l.message) ORDER BY l.seq) \
                 FROM execution_logs l WHERE l.execution_id = o.id), '[]'::jsonb))"
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

/// Re-inserts an archived execution (its columns were archived under their
/// own names), its attempts and its log lines; `false` if the id is live
/// again.
async fn restore_execution(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO executions SELECT (jsonb_populate_record(NULL::executions, a.data)).* \
         FROM archive a WHERE a.entity = 'executions' AND a.id = $1 ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO execution_attempts SELECT (jsonb_populate_record(NULL::execution_attempts, t)).* \
         FROM archive a, jsonb_array_elements(a.data->'attempts') t \
         WHERE a.entity = 'executions' AND a.id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO execution_logs (execution_id, attempt, at, level, message) \
         SELECT $1, (t->>'attempt')::bigint, (t->>'at')::bigint, t->>'level', t->>'message' \
         FROM archive a, jsonb_array_elements(a.data->'logs') WITH ORDINALITY AS x(t, n) \
         WHERE a.entity = 'executions' AND a.id = $1 ORDER BY x.n",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM archive WHERE entity = 'executions' AND id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

async fn restore_one(
    tx: &mut Transaction<'_, Postgres>,
    entity: ArchiveEntity,
    id: &str,
) -> Result<bool, StoreError> {
    let sql = match entity {
        ArchiveEntity::Executions => return restore_execution(tx, id).await,
        ArchiveEntity::Sprouts => {
            "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
             SELECT a.id, a.data->>'title', a.data->>'tier', a.data->>'parentId', \
             (a.data->>'createdAt')::bigint, (a.data->>'updatedAt')::bigint \
             FROM archive a WHERE a.entity = $1 AND a.id = $2 ON CONFLICT (id) DO NOTHING"
        }
        ArchiveEntity::Signals => {
            "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
             SELECT a.id, a.data->>'sproutId', a.data->>'kind', (a.data->>'at')::bigint, \
             (a.data->>'value')::double precision, (a.data->>'receivedAt')::bigint \
             FROM archive a WHERE a.entity = $1 AND a.id = $2 ON CONFLICT (id) DO NOTHING"
        }
        ArchiveEntity::AdvancementEvents => {
            "INSERT INTO advancement_events (id, sprout_id, from_tier, to_tier, rule_id, run_id, signals, at, dry_run) \
             SELECT a.id, a.data->>'sproutId', a.data->>'fromTier', a.data->>'toTier', \
             a.data->>'ruleId', a.data->>'runId', a.data->'signals', (a.data->>'at')::bigint, \
             (a.data->>'dryRun')::boolean \
             FROM archive a WHERE a.entity = $1 AND a.id = $2 ON CONFLICT DO NOTHING"
        }
    };
    let done = sqlx::query(sql)
        .bind(entity.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM archive WHERE entity = $1 AND id = $2")
        .bind(entity.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

#[async_trait]
impl GroveDataStore for PostgresStore {
    async fn sprout_upsert_batch(
        &self,
        items: Vec<SproutUpsert>,
        now: Timestamp,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let mut out = Vec::with_capacity(items.len());
        let mut tx = self.pool.begin().await?;
        for s in items {
            let inserted = sqlx::query(
                "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&s.id)
            .bind(&s.title)
            .bind(&s.tier)
            .bind(&s.parent_id)
            .bind(to_millis(s.created_at))
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                out.push(UpsertOutcome::Created);
                continue;
            }
            let updated = sqlx::query(
                "UPDATE sprouts SET title = $2, tier = $3, parent_id = $4, updated_at = $5 \
                 WHERE id = $1 AND (title IS DISTINCT FROM $2 OR tier IS DISTINCT FROM $3 \
                 OR parent_id IS DISTINCT FROM $4)",
            )
            .bind(&s.id)
            .bind(&s.title)
            .bind(&s.tier)
            .bind(&s.parent_id)
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            out.push(if updated == 1 {
                UpsertOutcome::Updated
            } else {
                UpsertOutcome::Unchanged
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn sprout_get(&self, id: &str) -> Result<Option<Sprout>, StoreError> {
        let row = sqlx::query(
            "SELECT id, title, tier, parent_id, created_at, updated_at FROM sprouts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return sprout_from_row(&r).map(Some);
        }
        let archived: Option<String> = sqlx::query_scalar(
            "SELECT data::text FROM archive WHERE entity = 'sprouts' AND id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(data) = archived else {
            return Ok(None);
        };
        let v: Value = serde_json::from_str(&data)?;
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let millis = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
        Ok(Some(Sprout {
            id: id.to_owned(),
            title: text("title").unwrap_or_default(),
            tier: text("tier").unwrap_or_default(),
            parent_id: text("parentId"),
            created_at: from_millis(millis("createdAt"))?,
            updated_at: from_millis(millis("updatedAt"))?,
            archived: true,
        }))
    }

    async fn sprout_count(&self, tiers: &[String]) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sprouts WHERE cardinality($1::text[]) = 0 OR tier = ANY($1)",
        )
        .bind(tiers)
        .fetch_one(&self.pool)
        .await?;
        Ok(count(n))
    }

    async fn sprout_page_for_advancement(
        &self,
        page: SproutPage,
    ) -> Result<Vec<SproutSignals>, StoreError> {
        let after = page.after_id.unwrap_or_default();
        let rows = sqlx::query(
            "SELECT id, tier FROM sprouts WHERE id > $1 \
             AND (cardinality($3::text[]) = 0 OR tier = ANY($3)) ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(i64::from(page.limit))
        .bind(&page.tiers)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<SproutSignals> = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(SproutSignals {
                id: r.try_get("id")?,
                tier: r.try_get("tier")?,
                counts: BTreeMap::new(),
            });
        }
        let Some(last) = out.last().map(|s| s.id.clone()) else {
            return Ok(out);
        };
        let aggregates = sqlx::query(
            "SELECT sprout_id, kind, count FROM signal_aggregates \
             WHERE period = $1 AND sprout_id > $2 AND sprout_id <= $3 \
             AND (cardinality($4::text[]) = 0 OR kind = ANY($4))",
        )
        .bind(page.period.name())
        .bind(&after)
        .bind(&last)
        .bind(&page.kinds)
        .fetch_all(&self.pool)
        .await?;
        let index: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        for r in aggregates {
            let sprout_id: String = r.try_get("sprout_id")?;
            if let Some(i) = index.get(&sprout_id) {
                out[*i]
                    .counts
                    .insert(r.try_get("kind")?, r.try_get("count")?);
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
        let mut tx = self.pool.begin().await?;
        for s in items {
            let exists = match known.get(&s.sprout_id) {
                Some(e) => *e,
                None => {
                    let e: bool =
                        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sprouts WHERE id = $1)")
                            .bind(&s.sprout_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    known.insert(s.sprout_id.clone(), e);
                    e
                }
            };
            if !exists {
                out.push(SignalOutcome::UnknownSprout);
                continue;
            }
            let done = sqlx::query(
                "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&s.id)
            .bind(&s.sprout_id)
            .bind(&s.kind)
            .bind(to_millis(s.at))
            .bind(s.value)
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
            out.push(if done.rows_affected() == 1 {
                SignalOutcome::Accepted
            } else {
                SignalOutcome::Duplicate
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn signal_max_seq(&self) -> Result<i64, StoreError> {
        // See the module doc: wait for in-flight inserts first.
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE signals IN SHARE MODE")
            .execute(&mut *tx)
            .await?;
        let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::bigint FROM signals")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(max)
    }

    async fn signal_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signals")
            .fetch_one(&self.pool)
            .await?;
        Ok(count(n))
    }

    async fn grove_bulk_load(&self, load: GroveBulkLoad) -> Result<(u64, u64), StoreError> {
        let now = to_millis(load.now.unwrap_or_else(Timestamp::now));
        let placeholders = |rows: usize, cols: usize| {
            (0..rows)
                .map(|r| {
                    let cells: Vec<String> =
                        (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
                    format!("({})", cells.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut tx = self.pool.begin().await?;
        let mut sprouts = 0;
        for chunk in load.sprouts.chunks(BULK_ROWS) {
            let sql = format!(
                "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                 VALUES {} ON CONFLICT (id) DO NOTHING",
                placeholders(chunk.len(), 6)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                q = q
                    .bind(&s.id)
                    .bind(&s.title)
                    .bind(&s.tier)
                    .bind(&s.parent_id)
                    .bind(to_millis(s.created_at))
                    .bind(to_millis(s.created_at));
            }
            sprouts += q.execute(&mut *tx).await?.rows_affected();
        }
        let mut signals = 0;
        for chunk in load.signals.chunks(BULK_ROWS) {
            let sql = format!(
                "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                 VALUES {} ON CONFLICT (id) DO NOTHING",
                placeholders(chunk.len(), 6)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                q = q
                    .bind(&s.id)
                    .bind(&s.sprout_id)
                    .bind(&s.kind)
                    .bind(to_millis(s.at))
                    .bind(s.value)
                    .bind(now);
            }
            signals += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok((sprouts, signals))
    }

    async fn aggregate_rebuild_range(
        &self,
        p: AggregateRebuildRange,
    ) -> Result<RangeOutcome, StoreError> {
        let after = p.after_sprout.unwrap_or_default();
        let mut tx = self.pool.begin().await?;
        let bounds = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(id) AS last FROM \
             (SELECT id FROM sprouts WHERE id > $1 ORDER BY id LIMIT $2) page",
        )
        .bind(&after)
        .bind(i64::from(p.limit))
        .fetch_one(&mut *tx)
        .await?;
        let n: i64 = bounds.try_get("n")?;
        let Some(last) = bounds.try_get::<Option<String>, _>("last")? else {
            tx.commit().await?;
            return Ok(RangeOutcome {
                last_sprout: None,
                sprouts: 0,
                signals: 0,
            });
        };
        sqlx::query(
            "DELETE FROM signal_aggregates WHERE period = $1 AND sprout_id > $2 AND sprout_id <= $3",
        )
        .bind(p.period.name())
        .bind(&after)
        .bind(&last)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO signal_aggregates (period, sprout_id, kind, count, last_seen, run_id, computed_at) \
             SELECT $1, sprout_id, kind, COUNT(*), MAX(at), $6, $7 FROM signals \
             WHERE sprout_id > $2 AND sprout_id <= $3 AND seq <= $4 AND at >= $5 \
             GROUP BY sprout_id, kind",
        )
        .bind(p.period.name())
        .bind(&after)
        .bind(&last)
        .bind(p.max_seq)
        .bind(p.window_start.map_or(i64::MIN, to_millis))
        .bind(&p.run_id)
        .bind(to_millis(p.now))
        .execute(&mut *tx)
        .await?;
        let signals: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(count), 0)::bigint FROM signal_aggregates \
             WHERE period = $1 AND sprout_id > $2 AND sprout_id <= $3",
        )
        .bind(p.period.name())
        .bind(&after)
        .bind(&last)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RangeOutcome {
            last_sprout: Some(last),
            sprouts: count(n),
            signals: count(signals),
        })
    }

    async fn aggregate_increment(&self, p: AggregateIncrement) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let added: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM signals s WHERE s.seq > $1 AND s.seq <= $2 \
             AND EXISTS (SELECT 1 FROM sprouts p WHERE p.id = s.sprout_id)",
        )
        .bind(p.after_seq)
        .bind(p.max_seq)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO signal_aggregates AS a (period, sprout_id, kind, count, last_seen, run_id, computed_at) \
             SELECT 'all_time', s.sprout_id, s.kind, COUNT(*), MAX(s.at), $3, $4 FROM signals s \
             WHERE s.seq > $1 AND s.seq <= $2 AND EXISTS (SELECT 1 FROM sprouts p WHERE p.id = s.sprout_id) \
             GROUP BY s.sprout_id, s.kind \
             ON CONFLICT (period, sprout_id, kind) DO UPDATE SET \
               count = a.count + EXCLUDED.count, last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen), \
               run_id = EXCLUDED.run_id, computed_at = EXCLUDED.computed_at",
        )
        .bind(p.after_seq)
        .bind(p.max_seq)
        .bind(&p.run_id)
        .bind(to_millis(p.now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(count(added))
    }

    async fn aggregate_status(
        &self,
        period: SignalPeriod,
    ) -> Result<Option<AggregateStatus>, StoreError> {
        let row = sqlx::query(
            "SELECT period, watermark, window_start, run_id, computed_at FROM aggregate_state WHERE period = $1",
        )
        .bind(period.name())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AggregateStatus {
                period: period_of(r.try_get("period")?)?,
                watermark: r.try_get("watermark")?,
                window_start: r
                    .try_get::<Option<i64>, _>("window_start")?
                    .map(from_millis)
                    .transpose()?,
                run_id: r.try_get("run_id")?,
                computed_at: from_millis(r.try_get("computed_at")?)?,
            })
        })
        .transpose()
    }

    async fn aggregate_status_set(&self, s: AggregateStatus) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO aggregate_state (period, watermark, window_start, run_id, computed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (period) DO UPDATE SET watermark = EXCLUDED.watermark, \
             window_start = EXCLUDED.window_start, run_id = EXCLUDED.run_id, computed_at = EXCLUDED.computed_at",
        )
        .bind(s.period.name())
        .bind(s.watermark)
        .bind(s.window_start.map(to_millis))
        .bind(&s.run_id)
        .bind(to_millis(s.computed_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn aggregate_status_clear(&self, period: SignalPeriod) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM aggregate_state WHERE period = $1")
            .bind(period.name())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn aggregate_get(&self, sprout_id: &str) -> Result<Vec<Aggregate>, StoreError> {
        let rows = sqlx::query(
            "SELECT period, kind, count, last_seen, run_id, computed_at FROM signal_aggregates \
             WHERE sprout_id = $1 ORDER BY period COLLATE \"C\", kind COLLATE \"C\"",
        )
        .bind(sprout_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Aggregate {
                    period: period_of(r.try_get("period")?)?,
                    kind: r.try_get("kind")?,
                    count: r.try_get("count")?,
                    last_seen: from_millis(r.try_get("last_seen")?)?,
                    run_id: r.try_get("run_id")?,
                    computed_at: from_millis(r.try_get("computed_at")?)?,
                })
            })
            .collect()
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
                    "s": c.sprout_id, "f": c.from_tier, "t": c.to_tier, "r": c.rule_id, "g": c.signals,
                })
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        // As on SQLite: one statement per batch; the event id (run:sprout)
        // and the once-per-rule-and-tier index turn repeats into skipped
        // conflicts.
        let applied: Vec<String> = sqlx::query_scalar(
            "INSERT INTO advancement_events (id, sprout_id, from_tier, to_tier, rule_id, run_id, signals, at, dry_run) \
             SELECT $1 || ':' || (c.v->>'s'), c.v->>'s', c.v->>'f', c.v->>'t', c.v->>'r', $1, c.v->'g', $2, $3 \
             FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS c(v, k) \
             WHERE EXISTS (SELECT 1 FROM sprouts p WHERE p.id = c.v->>'s' AND p.tier = c.v->>'f') \
               AND NOT EXISTS (SELECT 1 FROM advancement_events e WHERE e.sprout_id = c.v->>'s' \
                 AND e.rule_id = c.v->>'r' AND e.from_tier = c.v->>'f' AND NOT e.dry_run) \
             ORDER BY c.k \
             ON CONFLICT DO NOTHING \
             RETURNING sprout_id",
        )
        .bind(&p.run_id)
        .bind(to_millis(p.at))
        .bind(p.dry_run)
        .bind(Value::Array(candidates))
        .fetch_all(&mut *tx)
        .await?;
        if !p.dry_run && !applied.is_empty() {
            sqlx::query(
                "UPDATE sprouts SET tier = e.to_tier FROM advancement_events e \
                 WHERE e.id = $1 || ':' || sprouts.id AND sprouts.id = ANY($2)",
            )
            .bind(&p.run_id)
            .bind(&applied)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
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
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM advancement_events \
             WHERE ($1::text IS NULL OR sprout_id = $1) AND ($2::text IS NULL OR run_id = $2) \
             AND ($3::text IS NULL OR rule_id = $3) ORDER BY at DESC, id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&f.sprout_id)
            .bind(&f.run_id)
            .bind(&f.rule_id)
            .bind(i64::from(f.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn journal_append(&self, e: JournalAppend) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO journal (event_type, at, subject, message, data) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        )
        .bind(&e.event_type)
        .bind(to_millis(e.at))
        .bind(&e.subject)
        .bind(&e.message)
        .bind(&e.data)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn journal_since(
        &self,
        after_seq: i64,
        types: &[String],
        limit: u32,
    ) -> Result<Vec<JournalEvent>, StoreError> {
        // See the module doc: wait for in-flight appends first.
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE journal IN SHARE MODE")
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "SELECT seq, event_type, at, subject, message, data::text AS data FROM journal \
             WHERE seq > $1 AND (cardinality($2::text[]) = 0 OR event_type = ANY($2)) \
             ORDER BY seq LIMIT $3",
        )
        .bind(after_seq)
        .bind(types)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(JournalEvent {
                    seq: r.try_get("seq")?,
                    event_type: r.try_get("event_type")?,
                    at: from_millis(r.try_get("at")?)?,
                    subject: r.try_get("subject")?,
                    message: r.try_get("message")?,
                    data: serde_json::from_str(r.try_get("data")?)?,
                })
            })
            .collect()
    }

    async fn digest_cursor_get(&self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT last_seq FROM digest_cursors WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn digest_cursor_set(
        &self,
        key: &str,
        seq: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO digest_cursors AS d (key, last_seq, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET last_seq = GREATEST(d.last_seq, EXCLUDED.last_seq), \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(key)
        .bind(seq)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn notification_insert(&self, n: Notification) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO notifications (id, recipient_id, channel, subject, body, run_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&n.id)
        .bind(&n.recipient_id)
        .bind(&n.channel)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(&n.run_id)
        .bind(to_millis(n.created_at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn notification_list(
        &self,
        recipient_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, recipient_id, channel, subject, body::text AS body, run_id, created_at \
             FROM notifications WHERE ($1::text IS NULL OR recipient_id = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(recipient_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(notification_from_row).collect()
    }

    async fn orphan_count(&self, q: OrphanQuery) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) {}", orphan_clause(q.entity));
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(q.idle_before))
            .fetch_one(&self.pool)
            .await?;
        Ok(count(n))
    }

    async fn orphan_sample(&self, q: OrphanQuery, limit: u32) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT o.id {} ORDER BY o.id LIMIT $2",
            orphan_clause(q.entity)
        );
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(q.idle_before))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn archive_orphans(&self, p: ArchiveOrphans) -> Result<Vec<String>, StoreError> {
        let entity = p.query.entity;
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED: two cleanups at once split the work instead of waiting.
        let sql = format!(
            "SELECT o.id {} AND o.id > $3 ORDER BY o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED",
            orphan_clause(entity)
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(p.query.idle_before))
            .bind(i64::from(p.limit))
            .bind(p.after_id.as_deref().unwrap_or(""))
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(ids);
        }
        let table = table_of(entity);
        let insert = format!(
            "INSERT INTO archive (entity, id, data, reason, run_id, archived_at) \
             SELECT $1, o.id, {}, $2, $3, $4 FROM {table} o WHERE o.id = ANY($5) \
             ON CONFLICT (entity, id) DO UPDATE SET data = EXCLUDED.data, reason = EXCLUDED.reason, \
             run_id = EXCLUDED.run_id, archived_at = EXCLUDED.archived_at",
            archive_json(entity)
        );
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(entity.as_str())
            .bind(&p.reason)
            .bind(&p.run_id)
            .bind(to_millis(p.now))
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        let delete = format!("DELETE FROM {table} WHERE id = ANY($1)");
        sqlx::query(sqlx::AssertSqlSafe(delete))
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        match entity {
            ArchiveEntity::Sprouts => {
                sqlx::query("DELETE FROM signal_aggregates WHERE sprout_id = ANY($1)")
                    .bind(&ids)
                    .execute(&mut *tx)
                    .await?;
            }
            ArchiveEntity::Signals => {
                sqlx::query("DELETE FROM aggregate_state")
                    .execute(&mut *tx)
                    .await?;
            }
            ArchiveEntity::AdvancementEvents | ArchiveEntity::Executions => {}
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn archive_restore(
        &self,
        entity: ArchiveEntity,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut restored = 0;
        for id in ids {
            if restore_one(&mut tx, entity, id).await? {
                restored += 1;
            }
        }
        tx.commit().await?;
        Ok(restored)
    }

    async fn archive_list(
        &self,
        entity: ArchiveEntity,
        limit: u32,
    ) -> Result<Vec<ArchivedRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT entity, id, data::text AS data, reason, run_id, archived_at FROM archive \
             WHERE entity = $1 ORDER BY archived_at DESC, id LIMIT $2",
        )
        .bind(entity.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ArchivedRow {
                    entity: r.try_get("entity")?,
                    id: r.try_get("id")?,
                    data: serde_json::from_str(r.try_get("data")?)?,
                    reason: r.try_get("reason")?,
                    run_id: r.try_get("run_id")?,
                    archived_at: from_millis(r.try_get("archived_at")?)?,
                })
            })
            .collect()
    }
}
