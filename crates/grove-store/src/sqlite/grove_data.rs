//! Grove data on SQLite.
//!
//! Lists of ids are bound as one JSON array and read with `json_each`, so a
//! batch never runs into SQLite's bound-parameter limit. Bulk loads use
//! multi-row `INSERT`s of [`BULK_ROWS`] rows.

use std::collections::BTreeMap;

use async_trait::async_trait;
use grove_core::grove::JournalEvent;
use grove_core::job_config::SignalPeriod;
use grove_core::validate::Choice;
use jiff::Timestamp;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::SqliteStore;
use crate::grove_data::*;
use crate::{StoreError, from_millis, to_millis};

/// Rows per multi-row insert (7 columns × 1000 stays far below SQLite's
/// 32766 bound parameters).
const BULK_ROWS: usize = 1000;

fn period_of(s: &str) -> Result<SignalPeriod, StoreError> {
    SignalPeriod::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("unknown period \"{s}\"")))
}

fn json_list(items: &[String]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(items)?)
}

fn sprout_from_row(r: &SqliteRow) -> Result<Sprout, StoreError> {
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

fn event_from_row(r: &SqliteRow) -> Result<AdvancementEvent, StoreError> {
    Ok(AdvancementEvent {
        id: r.try_get("id")?,
        sprout_id: r.try_get("sprout_id")?,
        from_tier: r.try_get("from_tier")?,
        to_tier: r.try_get("to_tier")?,
        rule_id: r.try_get("rule_id")?,
        run_id: r.try_get("run_id")?,
        signals: serde_json::from_str(r.try_get("signals")?)?,
        at: from_millis(r.try_get("at")?)?,
        dry_run: r.try_get::<i64, _>("dry_run")? != 0,
    })
}

fn notification_from_row(r: &SqliteRow) -> Result<Notification, StoreError> {
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

/// The `WHERE` clause selecting orphans of an entity; `?1` is the idle cutoff
/// (unused by signals and events, which are orphaned when their sprout is gone).
fn orphan_clause(entity: ArchiveEntity) -> &'static str {
    match entity {
        ArchiveEntity::Sprouts => {
            "FROM sprouts o WHERE o.updated_at < ?1 AND NOT EXISTS \
             (SELECT 1 FROM signals g WHERE g.sprout_id = o.id AND g.at >= ?1)"
        }
        ArchiveEntity::Signals => {
            "FROM signals o WHERE ?1 = ?1 AND NOT EXISTS (SELECT 1 FROM sprouts s WHERE s.id = o.sprout_id)"
        }
        ArchiveEntity::AdvancementEvents => {
            "FROM advancement_events o WHERE ?1 = ?1 AND NOT EXISTS \
             (SELECT 1 FROM sprouts s WHERE s.id = o.sprout_id)"
        }
        ArchiveEntity::Executions => {
            "FROM executions o WHERE ?1 = ?1 AND o.status NOT IN ('queued', 'running') \
             AND o.config_id <> 'legacy-advancement-batch' AND NOT EXISTS \
             (SELECT 1 FROM objects c WHERE c.object_type = 'job-config' AND c.id = o.config_id)"
        }
    }
}

/// The archived JSON of one row, as SQL over alias `o`.
fn archive_json(entity: ArchiveEntity) -> &'static str {
    match entity {
        ArchiveEntity::Sprouts => {
            "json_object('id', o.id, 'title', o.title, 'tier', o.tier, 'parentId', o.parent_id, \
             'createdAt', o.created_at, 'updatedAt', o.updated_at)"
        }
        ArchiveEntity::Signals => {
            "json_object('id', o.id, 'sproutId', o.sprout_id, 'kind', o.kind, 'at', o.at, \
             'value', o.value, 'receivedAt', o.received_at)"
        }
        ArchiveEntity::AdvancementEvents => {
            "json_object('id', o.id, 'sproutId', o.sprout_id, 'fromTier', o.from_tier, \
             'toTier', o.to_tier, 'ruleId', o.rule_id, 'runId', o.run_id, \
             'signals', json(o.signals), 'at', o.at, 'dryRun', o.dry_run)"
        }
        // Every column, then the attempts and log lines (deleted with it).
        ArchiveEntity::Executions => {
            "json_object('id', o.id, 'configId', o.config_id, 'trigger', o.trigger, \
             'status', o.status, 'reason', o.reason, 'late', o.late, \
             'scheduledFor', o.scheduled_for, 'createdAt', o.created_at, \
             'startedAt', o.started_at, 'completedAt', o.completed_at, \
             'availableAt', o.available_at, 'attemptCount', o.attempt_count, \
             'maxConcurrent', o.max_concurrent, 'configVersion', o.config_version, \
             'payload', json(o.payload), 'retry', json(o.retry), \
             'itemsProcessed', o.items_processed, 'itemsTotal', o.items_total, \
             'itemsSucceeded', o.items_succeeded, 'itemsFailed', o.items_failed, \
             'error', o.error, 'metadata', json(o.metadata), 'retryOf', o.retry_of, \
             'actor', o.actor, 'cancelRequested', o.cancel_requested, \
             'attempts', (SELECT json_group_array(json_object('attempt', a.attempt, \
                 'status', a.status, 'reason', a.reason, 'error', a.error, \
                 'startedAt', a.started_at, 'completedAt', a.completed_at)) \
                 FROM execution_attempts a WHERE a.execution_id = o.id), \
             'logs', (SELECT json_group_array(json_object('attempt', l.attempt, 'at', l.at, \
                 'level', l.level, 'message', l.message)) \
                 FROM (SELECT * FROM execution_logs WHERE execution_id = o.id ORDER BY seq) l))"
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

/// Re-inserts an archived execution, its attempts and its log lines;
/// `false` if the id is live again.
async fn restore_execution(tx: &mut Transaction<'_, Sqlite>, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO executions (id, config_id, trigger, status, reason, late, scheduled_for, \
         created_at, started_at, completed_at, available_at, attempt_count, max_concurrent, \
         config_version, payload, retry, items_processed, items_total, items_succeeded, \
         items_failed, error, metadata, retry_of, actor, cancel_requested) \
         SELECT a.id, d ->> '$.configId', d ->> '$.trigger', d ->> '$.status', d ->> '$.reason', \
         d ->> '$.late', d ->> '$.scheduledFor', d ->> '$.createdAt', d ->> '$.startedAt', \
         d ->> '$.completedAt', d ->> '$.availableAt', d ->> '$.attemptCount', \
         d ->> '$.maxConcurrent', d ->> '$.configVersion', d -> '$.payload', d -> '$.retry', \
         d ->> '$.itemsProcessed', d ->> '$.itemsTotal', d ->> '$.itemsSucceeded', \
         d ->> '$.itemsFailed', d ->> '$.error', d -> '$.metadata', d ->> '$.retryOf', \
         d ->> '$.actor', d ->> '$.cancelRequested' \
         FROM (SELECT id, data AS d FROM archive WHERE entity = 'executions' AND id = ?1) a \
         WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO execution_attempts (execution_id, attempt, status, reason, error, \
         started_at, completed_at) \
         SELECT ?1, t.value ->> '$.attempt', t.value ->> '$.status', t.value ->> '$.reason', \
         t.value ->> '$.error', t.value ->> '$.startedAt', t.value ->> '$.completedAt' \
         FROM archive a, json_each(a.data, '$.attempts') t \
         WHERE a.entity = 'executions' AND a.id = ?1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO execution_logs (execution_id, attempt, at, level, message) \
         SELECT ?1, t.value ->> '$.attempt', t.value ->> '$.at', t.value ->> '$.level', \
         t.value ->> '$.message' FROM archive a, json_each(a.data, '$.logs') t \
         WHERE a.entity = 'executions' AND a.id = ?1 ORDER BY t.key",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM archive WHERE entity = 'executions' AND id = ?1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// Re-inserts one archived row from its JSON; `false` if the id is live again.
async fn restore_one(
    tx: &mut Transaction<'_, Sqlite>,
    entity: ArchiveEntity,
    id: &str,
) -> Result<bool, StoreError> {
    let sql = match entity {
        ArchiveEntity::Sprouts => {
            "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
             SELECT a.id, json_extract(a.data, '$.title'), json_extract(a.data, '$.tier'), \
             json_extract(a.data, '$.parentId'), json_extract(a.data, '$.createdAt'), \
             json_extract(a.data, '$.updatedAt') FROM archive a WHERE a.entity = ?1 AND a.id = ?2 \
             ON CONFLICT (id) DO NOTHING"
        }
        ArchiveEntity::Signals => {
            "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
             SELECT a.id, json_extract(a.data, '$.sproutId'), json_extract(a.data, '$.kind'), \
             json_extract(a.data, '$.at'), json_extract(a.data, '$.value'), \
             json_extract(a.data, '$.receivedAt') FROM archive a WHERE a.entity = ?1 AND a.id = ?2 \
             ON CONFLICT (id) DO NOTHING"
        }
        ArchiveEntity::Executions => return restore_execution(tx, id).await,
        ArchiveEntity::AdvancementEvents => {
            "INSERT INTO advancement_events (id, sprout_id, from_tier, to_tier, rule_id, run_id, signals, at, dry_run) \
             SELECT a.id, json_extract(a.data, '$.sproutId'), json_extract(a.data, '$.fromTier'), \
             json_extract(a.data, '$.toTier'), json_extract(a.data, '$.ruleId'), \
             json_extract(a.data, '$.runId'), json(json_extract(a.data, '$.signals')), \
             json_extract(a.data, '$.at'), json_extract(a.data, '$.dryRun') \
             FROM archive a WHERE a.entity = ?1 AND a.id = ?2 ON CONFLICT DO NOTHING"
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
    sqlx::query("DELETE FROM archive WHERE entity = ? AND id = ?")
        .bind(entity.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

#[async_trait]
impl GroveDataStore for SqliteStore {
    async fn sprout_upsert_batch(
        &self,
        items: Vec<SproutUpsert>,
        now: Timestamp,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let mut out = Vec::with_capacity(items.len());
        let mut tx = self.write.begin().await?;
        for s in items {
            let inserted = sqlx::query(
                "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
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
                "UPDATE sprouts SET title = ?2, tier = ?3, parent_id = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND (title IS NOT ?2 OR tier IS NOT ?3 OR parent_id IS NOT ?4)",
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
            "SELECT id, title, tier, parent_id, created_at, updated_at FROM sprouts WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        if let Some(r) = row {
            return sprout_from_row(&r).map(Some);
        }
        let archived: Option<String> =
            sqlx::query_scalar("SELECT data FROM archive WHERE entity = 'sprouts' AND id = ?")
                .bind(id)
                .fetch_optional(&self.read)
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
        let n: i64 = if tiers.is_empty() {
            sqlx::query_scalar("SELECT COUNT(*) FROM sprouts")
                .fetch_one(&self.read)
                .await?
        } else {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM sprouts WHERE tier IN (SELECT value FROM json_each(?))",
            )
            .bind(json_list(tiers)?)
            .fetch_one(&self.read)
            .await?
        };
        Ok(n.max(0) as u64)
    }

    async fn sprout_page_for_advancement(
        &self,
        page: SproutPage,
    ) -> Result<Vec<SproutSignals>, StoreError> {
        // Two range reads instead of a join: the page of sprouts by id, then
        // the aggregates of that id range in primary-key order (a join with
        // its sort costs several times more on large tables).
        let tier_filter = if page.tiers.is_empty() {
            ""
        } else {
            "AND tier IN (SELECT value FROM json_each(?3))"
        };
        let after = page.after_id.unwrap_or_default();
        let sql = format!(
            "SELECT id, tier FROM sprouts WHERE id > ?1 {tier_filter} ORDER BY id LIMIT ?2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&after)
            .bind(i64::from(page.limit))
            .bind(json_list(&page.tiers)?)
            .fetch_all(&self.read)
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
             WHERE period = ?1 AND sprout_id > ?2 AND sprout_id <= ?3 \
             AND (?4 = '[]' OR kind IN (SELECT value FROM json_each(?4)))",
        )
        .bind(page.period.name())
        .bind(&after)
        .bind(&last)
        .bind(json_list(&page.kinds)?)
        .fetch_all(&self.read)
        .await?;
        let index: std::collections::HashMap<String, usize> = out
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
        let mut known: BTreeMap<String, bool> = BTreeMap::new();
        let mut out = Vec::with_capacity(items.len());
        let mut tx = self.write.begin().await?;
        for s in items {
            let exists = match known.get(&s.sprout_id) {
                Some(e) => *e,
                None => {
                    let e: i64 =
                        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sprouts WHERE id = ?)")
                            .bind(&s.sprout_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    known.insert(s.sprout_id.clone(), e != 0);
                    e != 0
                }
            };
            if !exists {
                out.push(SignalOutcome::UnknownSprout);
                continue;
            }
            let done = sqlx::query(
                "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
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
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM signals")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn signal_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signals")
            .fetch_one(&self.read)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn grove_bulk_load(&self, load: GroveBulkLoad) -> Result<(u64, u64), StoreError> {
        let now = to_millis(load.now.unwrap_or_else(Timestamp::now));
        let mut tx = self.write.begin().await?;
        let mut sprouts = 0;
        for chunk in load.sprouts.chunks(BULK_ROWS) {
            let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO sprouts (id, title, tier, parent_id, created_at, updated_at) \
                 VALUES {values} ON CONFLICT (id) DO NOTHING"
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
            let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO signals (id, sprout_id, kind, at, value, received_at) \
                 VALUES {values} ON CONFLICT (id) DO NOTHING"
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
        let mut tx = self.write.begin().await?;
        let bounds = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(id) AS last FROM \
             (SELECT id FROM sprouts WHERE id > ? ORDER BY id LIMIT ?)",
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
            "DELETE FROM signal_aggregates WHERE period = ? AND sprout_id > ? AND sprout_id <= ?",
        )
        .bind(p.period.name())
        .bind(&after)
        .bind(&last)
        .execute(&mut *tx)
        .await?;
        let window = p.window_start.map_or(i64::MIN, to_millis);
        sqlx::query(
            "INSERT INTO signal_aggregates (period, sprout_id, kind, count, last_seen, run_id, computed_at) \
             SELECT ?1, sprout_id, kind, COUNT(*), MAX(at), ?6, ?7 FROM signals \
             WHERE sprout_id > ?2 AND sprout_id <= ?3 AND seq <= ?4 AND at >= ?5 \
             GROUP BY sprout_id, kind",
        )
        .bind(p.period.name())
        .bind(&after)
        .bind(&last)
        .bind(p.max_seq)
        .bind(window)
        .bind(&p.run_id)
        .bind(to_millis(p.now))
        .execute(&mut *tx)
        .await?;
        let signals: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(count), 0) FROM signal_aggregates \
             WHERE period = ? AND sprout_id > ? AND sprout_id <= ?",
        )
        .bind(p.period.name())
        .bind(&after)
        .bind(&last)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RangeOutcome {
            last_sprout: Some(last),
            sprouts: n.max(0) as u64,
            signals: signals.max(0) as u64,
        })
    }

    async fn aggregate_increment(&self, p: AggregateIncrement) -> Result<u64, StoreError> {
        let mut tx = self.write.begin().await?;
        let added: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM signals s WHERE s.seq > ? AND s.seq <= ? \
             AND EXISTS (SELECT 1 FROM sprouts p WHERE p.id = s.sprout_id)",
        )
        .bind(p.after_seq)
        .bind(p.max_seq)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO signal_aggregates (period, sprout_id, kind, count, last_seen, run_id, computed_at) \
             SELECT 'all_time', s.sprout_id, s.kind, COUNT(*), MAX(s.at), ?3, ?4 FROM signals s \
             WHERE s.seq > ?1 AND s.seq <= ?2 AND EXISTS (SELECT 1 FROM sprouts p WHERE p.id = s.sprout_id) \
             GROUP BY s.sprout_id, s.kind \
             ON CONFLICT (period, sprout_id, kind) DO UPDATE SET \
               count = count + excluded.count, last_seen = MAX(last_seen, excluded.last_seen), \
               run_id = excluded.run_id, computed_at = excluded.computed_at",
        )
        .bind(p.after_seq)
        .bind(p.max_seq)
        .bind(&p.run_id)
        .bind(to_millis(p.now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(added.max(0) as u64)
    }

    async fn aggregate_status(
        &self,
        period: SignalPeriod,
    ) -> Result<Option<AggregateStatus>, StoreError> {
        let row = sqlx::query(
            "SELECT period, watermark, window_start, run_id, computed_at FROM aggregate_state WHERE period = ?",
        )
        .bind(period.name())
        .fetch_optional(&self.read)
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
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (period) DO UPDATE SET watermark = excluded.watermark, \
             window_start = excluded.window_start, run_id = excluded.run_id, computed_at = excluded.computed_at",
        )
        .bind(s.period.name())
        .bind(s.watermark)
        .bind(s.window_start.map(to_millis))
        .bind(&s.run_id)
        .bind(to_millis(s.computed_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn aggregate_status_clear(&self, period: SignalPeriod) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM aggregate_state WHERE period = ?")
            .bind(period.name())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn aggregate_get(&self, sprout_id: &str) -> Result<Vec<Aggregate>, StoreError> {
        let rows = sqlx::query(
            "SELECT period, kind, count, last_seen, run_id, computed_at FROM signal_aggregates \
             WHERE sprout_id = ? ORDER BY period, kind",
        )
        .bind(sprout_id)
        .fetch_all(&self.read)
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
                    "s": c.sprout_id, "f": c.from_tier, "t": c.to_tier, "r": c.rule_id,
                    "g": serde_json::to_string(&c.signals).unwrap_or_else(|_| "null".to_owned()),
                })
            })
            .collect();
        let mut tx = self.write.begin().await?;
        // One statement for the whole batch. Eligible: still at from_tier and
        // never advanced by this rule from this tier; the event id
        // (run:sprout) makes a second advancement in the same run a conflict,
        // and conflicts are skipped.
        let applied: Vec<String> = sqlx::query_scalar(
            "INSERT INTO advancement_events (id, sprout_id, from_tier, to_tier, rule_id, run_id, signals, at, dry_run) \
             SELECT ?1 || ':' || c.s, c.s, c.f, c.t, c.r, ?1, c.g, ?2, ?3 FROM \
               (SELECT key AS k, json_extract(value, '$.s') AS s, json_extract(value, '$.f') AS f, \
                json_extract(value, '$.t') AS t, json_extract(value, '$.r') AS r, \
                json_extract(value, '$.g') AS g FROM json_each(?4)) c \
             WHERE EXISTS (SELECT 1 FROM sprouts p WHERE p.id = c.s AND p.tier = c.f) \
               AND NOT EXISTS (SELECT 1 FROM advancement_events e WHERE e.sprout_id = c.s \
                 AND e.rule_id = c.r AND e.from_tier = c.f AND e.dry_run = 0) \
             ORDER BY c.k \
             ON CONFLICT DO NOTHING \
             RETURNING sprout_id",
        )
        .bind(&p.run_id)
        .bind(to_millis(p.at))
        .bind(i64::from(p.dry_run))
        .bind(serde_json::to_string(&candidates)?)
        .fetch_all(&mut *tx)
        .await?;
        if !p.dry_run && !applied.is_empty() {
            sqlx::query(
                "UPDATE sprouts SET tier = (SELECT e.to_tier FROM advancement_events e \
                 WHERE e.id = ?1 || ':' || sprouts.id) WHERE id IN (SELECT value FROM json_each(?2))",
            )
            .bind(&p.run_id)
            .bind(json_list(&applied)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let mut applied: std::collections::HashSet<String> = applied.into_iter().collect();
        Ok(p.items
            .iter()
            .map(|c| applied.remove(&c.sprout_id))
            .collect())
    }

    async fn advancement_event_list(
        &self,
        f: AdvancementEventFilter,
    ) -> Result<Vec<AdvancementEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, sprout_id, from_tier, to_tier, rule_id, run_id, signals, at, dry_run \
             FROM advancement_events WHERE (?1 IS NULL OR sprout_id = ?1) \
             AND (?2 IS NULL OR run_id = ?2) AND (?3 IS NULL OR rule_id = ?3) \
             ORDER BY at DESC, id DESC LIMIT ?4",
        )
        .bind(&f.sprout_id)
        .bind(&f.run_id)
        .bind(&f.rule_id)
        .bind(i64::from(f.limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn journal_append(&self, e: JournalAppend) -> Result<i64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO journal (event_type, at, subject, message, data) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&e.event_type)
        .bind(to_millis(e.at))
        .bind(&e.subject)
        .bind(&e.message)
        .bind(serde_json::to_string(&e.data)?)
        .execute(&self.write)
        .await?;
        Ok(done.last_insert_rowid())
    }

    async fn journal_since(
        &self,
        after_seq: i64,
        types: &[String],
        limit: u32,
    ) -> Result<Vec<JournalEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, event_type, at, subject, message, data FROM journal WHERE seq > ?1 \
             AND (json_array_length(?2) = 0 OR event_type IN (SELECT value FROM json_each(?2))) \
             ORDER BY seq LIMIT ?3",
        )
        .bind(after_seq)
        .bind(json_list(types)?)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
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
            sqlx::query_scalar("SELECT last_seq FROM digest_cursors WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.read)
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
            "INSERT INTO digest_cursors (key, last_seq, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq), \
             updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(seq)
        .bind(to_millis(now))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn notification_insert(&self, n: Notification) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO notifications (id, recipient_id, channel, subject, body, run_id, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&n.id)
        .bind(&n.recipient_id)
        .bind(&n.channel)
        .bind(&n.subject)
        .bind(serde_json::to_string(&n.body)?)
        .bind(&n.run_id)
        .bind(to_millis(n.created_at))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn notification_list(
        &self,
        recipient_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, recipient_id, channel, subject, body, run_id, created_at FROM notifications \
             WHERE (?1 IS NULL OR recipient_id = ?1) ORDER BY created_at DESC, id DESC LIMIT ?2",
        )
        .bind(recipient_id)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(notification_from_row).collect()
    }

    async fn orphan_count(&self, q: OrphanQuery) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) {}", orphan_clause(q.entity));
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(q.idle_before))
            .fetch_one(&self.read)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn orphan_sample(&self, q: OrphanQuery, limit: u32) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT o.id {} ORDER BY o.id LIMIT ?2",
            orphan_clause(q.entity)
        );
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(q.idle_before))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?)
    }

    async fn archive_orphans(&self, p: ArchiveOrphans) -> Result<Vec<String>, StoreError> {
        let entity = p.query.entity;
        let mut tx = self.write.begin().await?;
        let sql = format!(
            "SELECT o.id {} AND o.id > ?3 ORDER BY o.id LIMIT ?2",
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
        let list = json_list(&ids)?;
        let table = table_of(entity);
        let insert = format!(
            "INSERT INTO archive (entity, id, data, reason, run_id, archived_at) \
             SELECT ?1, o.id, {}, ?2, ?3, ?4 FROM {table} o WHERE o.id IN (SELECT value FROM json_each(?5)) \
             ON CONFLICT (entity, id) DO UPDATE SET data = excluded.data, reason = excluded.reason, \
             run_id = excluded.run_id, archived_at = excluded.archived_at",
            archive_json(entity)
        );
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(entity.as_str())
            .bind(&p.reason)
            .bind(&p.run_id)
            .bind(to_millis(p.now))
            .bind(&list)
            .execute(&mut *tx)
            .await?;
        let delete = format!("DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))");
        sqlx::query(sqlx::AssertSqlSafe(delete))
            .bind(&list)
            .execute(&mut *tx)
            .await?;
        match entity {
            ArchiveEntity::Sprouts => {
                sqlx::query(
                    "DELETE FROM signal_aggregates WHERE sprout_id IN (SELECT value FROM json_each(?))",
                )
                .bind(&list)
                .execute(&mut *tx)
                .await?;
            }
            ArchiveEntity::Signals => {
                // Counts went down: every period must be rebuilt before it is trusted.
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
        let mut tx = self.write.begin().await?;
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
            "SELECT entity, id, data, reason, run_id, archived_at FROM archive WHERE entity = ? \
             ORDER BY archived_at DESC, id LIMIT ?",
        )
        .bind(entity.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
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
