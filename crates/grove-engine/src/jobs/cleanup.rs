//! orphan-cleanup: archives entities of `entityTypes` whose owner is gone
//! or that have been idle beyond `orphanThresholdDays`. Archived rows move
//! to the archive table (restorable, never hard-deleted); `dryRun` only
//! counts and lists samples.
//!
//! - `sprouts`: not updated and without signals for the threshold.
//! - `signals`, `advancement-events`: their sprout is gone (archived).
//! - `executions`: finished executions whose job config was deleted,
//!   archived with their attempts and log lines (the engine's retention
//!   separately prunes old executions of live configs).
//!
//! Entities are processed in that order, so the signals and events of
//! sprouts archived by the same run are archived with them.

use grove_core::job_config::{CleanupEntity, CleanupParams};
use grove_core::validate::Choice;
use grove_store::{ArchiveEntity, ArchiveOrphans, OrphanQuery};
use jiff::SignedDuration;
use serde_json::{Map, json};

use crate::context::{JobContext, JobFailure, JobOutcome};

/// Samples listed per entity in a dry run.
pub const SAMPLES: u32 = 10;

const ORDER: &[(CleanupEntity, ArchiveEntity)] = &[
    (CleanupEntity::Sprouts, ArchiveEntity::Sprouts),
    (CleanupEntity::Signals, ArchiveEntity::Signals),
    (
        CleanupEntity::AdvancementEvents,
        ArchiveEntity::AdvancementEvents,
    ),
    (CleanupEntity::Executions, ArchiveEntity::Executions),
];

/// Runs orphan-cleanup.
pub async fn run(params: &CleanupParams, ctx: &JobContext) -> Result<JobOutcome, JobFailure> {
    let store = &*ctx.store;
    let days = i64::from(params.orphan_threshold_days.max(1));
    let idle_before = ctx
        .clock
        .now()
        .checked_sub(SignedDuration::from_hours(24 * days))
        .map_err(|e| JobFailure::new(format!("orphanThresholdDays {days}: {e}")))?;
    let selected: Vec<(CleanupEntity, ArchiveEntity)> = ORDER
        .iter()
        .copied()
        .filter(|(e, _)| params.entity_types.contains(e))
        .collect();

    // Counted up front, for progress.
    let mut counts = Vec::new();
    let mut total = 0;
    for (_, archive) in &selected {
        let n = store
            .orphan_count(OrphanQuery {
                entity: *archive,
                idle_before,
            })
            .await?;
        counts.push(n);
        total += n;
    }
    ctx.progress.set_total(total);

    let mut meta = Map::new();
    let (mut processed, mut batches) = (0u64, 0u64);
    let mut cancelled = false;
    for ((entity, archive), found) in selected.iter().zip(counts) {
        let query = OrphanQuery {
            entity: *archive,
            idle_before,
        };
        if params.dry_run {
            let samples = store.orphan_sample(query, SAMPLES).await?;
            ctx.log
                .info(format!("dry run: {found} {entity} would be archived"));
            ctx.progress.add(found, 0);
            processed += found;
            meta.insert(
                entity.name().to_owned(),
                json!({ "found": found, "archived": 0, "samples": samples }),
            );
            continue;
        }
        let mut archived = 0u64;
        let mut after: Option<String> = None;
        loop {
            if ctx.is_cancelled() {
                cancelled = true;
                break;
            }
            let moved = store
                .archive_orphans(ArchiveOrphans {
                    query: query.clone(),
                    after_id: after.take(),
                    limit: ctx.batch_size,
                    reason: reason(*entity, days),
                    run_id: Some(ctx.run_id.clone()),
                    now: ctx.clock.now(),
                })
                .await?;
            let Some(last) = moved.last() else {
                break;
            };
            after = Some(last.clone());
            batches += 1;
            archived += moved.len() as u64;
            ctx.progress.add(moved.len() as u64, 0);
        }
        processed += archived;
        ctx.log.info(format!("archived {archived} {entity}"));
        meta.insert(
            entity.name().to_owned(),
            json!({ "found": found, "archived": archived }),
        );
        if cancelled {
            break;
        }
    }
    let metadata = json!({
        "dryRun": params.dry_run,
        "orphanThresholdDays": days,
        "idleBefore": idle_before,
        "batchSize": ctx.batch_size,
        "batches": batches,
        "entities": meta,
    });
    if cancelled {
        return Err(super::stopped(processed, metadata));
    }
    Ok(super::succeeded(processed, metadata))
}

fn reason(entity: CleanupEntity, days: i64) -> String {
    match entity {
        CleanupEntity::Sprouts => format!("idle for more than {days} days"),
        CleanupEntity::Executions => "its job config is gone".to_owned(),
        _ => "its sprout is gone".to_owned(),
    }
}
