//! signal-aggregation: per sprout, per kind, count and last-seen for each
//! requested period.
//!
//! `all_time` is incremental once it has been computed: only signals
//! recorded since the last run (by insertion sequence) are added. A rebuild
//! (the first run, or after signals were archived) and the windowed periods
//! (`last_30d`, `last_7d`, whose window moves with the clock) are computed
//! in ranges of `batchSize` sprouts, one transaction each.

use grove_core::job_config::{SignalAggregationParams, SignalPeriod};
use grove_core::validate::Choice;
use grove_store::{AggregateIncrement, AggregateRebuildRange, AggregateStatus, StoreError};
use jiff::SignedDuration;
use serde_json::{Map, Value, json};

use crate::context::{JobContext, JobFailure, JobOutcome};

/// How old a windowed period's aggregates may be before advancement
/// recomputes them.
pub const WINDOW_STALE_AFTER: SignedDuration = SignedDuration::from_hours(1);

/// How one period was brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodOutcome {
    pub mode: &'static str,
    pub sprouts: u64,
    pub signals: u64,
    pub batches: u64,
    pub watermark: i64,
    pub cancelled: bool,
}

impl PeriodOutcome {
    fn to_value(&self) -> Value {
        json!({
            "mode": self.mode,
            "sprouts": self.sprouts,
            "signals": self.signals,
            "batches": self.batches,
            "watermark": self.watermark,
            "complete": !self.cancelled,
        })
    }
}

/// Why a period's aggregates cannot be used as they are; `None` when fresh.
pub async fn staleness(
    period: SignalPeriod,
    ctx: &JobContext,
) -> Result<Option<String>, StoreError> {
    let store = &*ctx.store;
    let Some(status) = store.aggregate_status(period).await? else {
        return Ok(Some(format!("{period} aggregates were never computed")));
    };
    let max_seq = store.signal_max_seq().await?;
    if status.watermark < max_seq {
        return Ok(Some(format!(
            "{period} aggregates miss {} newer signals",
            max_seq - status.watermark
        )));
    }
    if period != SignalPeriod::AllTime && historical(ctx) {
        return Ok(Some(format!(
            "this run computes {period} as of its slot {}",
            ctx.as_of()
        )));
    }
    if period != SignalPeriod::AllTime
        && ctx.clock.now().duration_since(status.computed_at) > WINDOW_STALE_AFTER
    {
        return Ok(Some(format!(
            "{period} aggregates were computed at {}, over an hour before this run",
            status.computed_at
        )));
    }
    Ok(None)
}

/// Whether the run computes as of a slot well in the past (a backfill):
/// its windows end at the slot, not now.
fn historical(ctx: &JobContext) -> bool {
    ctx.clock.now().duration_since(ctx.as_of()) > WINDOW_STALE_AFTER
}

/// Brings one period up to date: incrementally for all_time when it can,
/// else a rebuild in ranges of `batch_size` sprouts. The last_7d and
/// last_30d windows end at the run's slot ([`JobContext::as_of`]); one
/// computed as of a past slot is recorded as computed then, so the next
/// live run finds it stale and rebuilds it.
pub async fn refresh_period(
    period: SignalPeriod,
    ctx: &JobContext,
) -> Result<PeriodOutcome, StoreError> {
    let store = &*ctx.store;
    let max_seq = store.signal_max_seq().await?;
    let now = ctx.clock.now();
    if period == SignalPeriod::AllTime
        && let Some(status) = store.aggregate_status(period).await?
        && status.watermark <= max_seq
    {
        let signals = store
            .aggregate_increment(AggregateIncrement {
                after_seq: status.watermark,
                max_seq,
                run_id: ctx.run_id.clone(),
                now,
            })
            .await?;
        store
            .aggregate_status_set(AggregateStatus {
                period,
                watermark: max_seq,
                window_start: None,
                run_id: ctx.run_id.clone(),
                computed_at: now,
            })
            .await?;
        return Ok(PeriodOutcome {
            mode: "incremental",
            sprouts: 0,
            signals,
            batches: 1,
            watermark: max_seq,
            cancelled: false,
        });
    }
    // A rebuild: until it completes, readers see the period as missing.
    store.aggregate_status_clear(period).await?;
    let as_of = ctx.as_of();
    let past = period != SignalPeriod::AllTime && historical(ctx);
    let window_start = period.window_start(if past { as_of } else { now });
    let window_end = past.then_some(as_of);
    let mut out = PeriodOutcome {
        mode: "rebuild",
        sprouts: 0,
        signals: 0,
        batches: 0,
        watermark: max_seq,
        cancelled: false,
    };
    let mut after = None;
    loop {
        if ctx.is_cancelled() {
            out.cancelled = true;
            return Ok(out);
        }
        let range = store
            .aggregate_rebuild_range(AggregateRebuildRange {
                period,
                window_start,
                window_end,
                after_sprout: after.take(),
                limit: ctx.batch_size,
                max_seq,
                run_id: ctx.run_id.clone(),
                now,
            })
            .await?;
        let Some(last) = range.last_sprout else {
            break;
        };
        out.batches += 1;
        out.sprouts += range.sprouts;
        out.signals += range.signals;
        ctx.progress.add(range.sprouts, 0);
        after = Some(last);
    }
    store
        .aggregate_status_set(AggregateStatus {
            period,
            watermark: max_seq,
            window_start,
            run_id: ctx.run_id.clone(),
            computed_at: if past { as_of } else { now },
        })
        .await?;
    Ok(out)
}

/// Runs signal-aggregation for every requested period.
pub async fn run(
    params: &SignalAggregationParams,
    ctx: &JobContext,
) -> Result<JobOutcome, JobFailure> {
    let store = &*ctx.store;
    let mut periods: Vec<SignalPeriod> = Vec::new();
    for p in &params.periods {
        if !periods.contains(p) {
            periods.push(*p);
        }
    }
    if periods.is_empty() {
        return Err(JobFailure::new(
            "no periods to aggregate; list at least one of all_time, last_30d, last_7d",
        ));
    }
    // The total: every sprout once per period that needs a rebuild.
    let sprouts = store.sprout_count(&[]).await?;
    let mut rebuilds = 0;
    for p in &periods {
        let incremental =
            *p == SignalPeriod::AllTime && store.aggregate_status(*p).await?.is_some();
        if !incremental {
            rebuilds += 1;
        }
    }
    ctx.progress.set_total(sprouts * rebuilds);

    let mut meta = Map::new();
    let (mut processed, mut signals) = (0, 0);
    let mut cancelled = false;
    for period in periods {
        if ctx.is_cancelled() {
            cancelled = true;
            break;
        }
        let out = refresh_period(period, ctx).await?;
        ctx.log.info(format!(
            "{period}: {} over {} sprouts, {} signals in {} batch(es)",
            out.mode, out.sprouts, out.signals, out.batches
        ));
        processed += out.sprouts;
        signals += out.signals;
        meta.insert(period.name().to_owned(), out.to_value());
        if out.cancelled {
            cancelled = true;
            break;
        }
    }
    let metadata = json!({
        "batchSize": ctx.batch_size,
        "periods": meta,
        "sprouts": sprouts,
        "signalsAggregated": signals,
    });
    if cancelled {
        return Err(super::stopped(processed, metadata));
    }
    Ok(super::succeeded(processed, metadata))
}
