//! advancement-batch: evaluates every enabled advancement rule against the
//! signal aggregates of `signalPeriod` for sprouts in `fromTiers`, in pages
//! of `batchSize` sprouts, and advances those that qualify.
//!
//! A sprout advances at most one tier per run (the first qualifying rule by
//! rule id wins) and never twice by the same rule from the same tier; the
//! store enforces both, so a retried run is idempotent. Each advancement
//! writes an event with the rule, the run and the signal values that met
//! the rule; `dryRun` writes the events marked as dry-run and changes no tier.

use std::collections::BTreeMap;

use grove_core::advancement_rule::AdvancementRulePayload;
use grove_core::grove::evaluate;
use grove_core::job_config::{AdvancementParams, EventType, SignalPeriod};
use grove_core::lifecycle::LifecycleModel;
use grove_core::registry::ADVANCEMENT_RULE;
use grove_core::validate::{Checker, Choice};
use grove_store::{AdvancementApply, AdvancementCandidate, SproutPage};
use serde_json::{Value, json};

use super::aggregation::{refresh_period, staleness};
use crate::context::{JobContext, JobFailure, JobOutcome};

/// An enabled rule of the run's lifecycle model.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub id: String,
    pub payload: AdvancementRulePayload,
}

/// The enabled, valid rules of a model, by id. Invalid stored rules are
/// skipped with a warning (they were valid when saved; a newer build may
/// read them differently).
pub async fn load_rules(
    model: &LifecycleModel,
    ctx: &JobContext,
) -> Result<Vec<LoadedRule>, JobFailure> {
    let mut rules = Vec::new();
    for obj in ctx.store.object_list(ADVANCEMENT_RULE).await? {
        let mut c = Checker::new();
        let decoded = AdvancementRulePayload::decode(&obj.payload, &mut c);
        let payload = match c.finish(decoded) {
            Ok(p) => p,
            Err(problems) => {
                let first = problems
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                ctx.log.warn(format!(
                    "rule \"{}\" is skipped: it is not valid ({first})",
                    obj.meta.id
                ));
                continue;
            }
        };
        let rule_model = payload
            .lifecycle_model_id
            .as_deref()
            .unwrap_or(grove_core::lifecycle::DEFAULT_MODEL.id);
        if payload.is_enabled && rule_model == model.id {
            rules.push(LoadedRule {
                id: obj.meta.id,
                payload,
            });
        }
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rules)
}

/// Runs advancement-batch.
pub async fn run(params: &AdvancementParams, ctx: &JobContext) -> Result<JobOutcome, JobFailure> {
    let store = &*ctx.store;
    let model = LifecycleModel::find(params.lifecycle_model_id.as_deref()).ok_or_else(|| {
        JobFailure::new(format!(
            "unknown lifecycle model \"{}\"",
            params.lifecycle_model_id.as_deref().unwrap_or_default()
        ))
    })?;
    let period = params.signal_period;
    let rules = load_rules(model, ctx).await?;
    let wanted: Vec<String> = match &params.from_tiers {
        Some(t) if !t.is_empty() => t.clone(),
        _ => model.tiers.iter().map(|t| (*t).to_owned()).collect(),
    };
    // Only tiers some rule starts from can advance.
    let tiers: Vec<String> = wanted
        .into_iter()
        .filter(|t| rules.iter().any(|r| &r.payload.from_tier == t))
        .collect();
    let mut per_rule: BTreeMap<String, u64> = rules.iter().map(|r| (r.id.clone(), 0)).collect();
    let mut meta = json!({
        "batchSize": ctx.batch_size,
        "signalPeriod": period.name(),
        "dryRun": params.dry_run,
        "tiers": tiers,
        "rules": rules.len(),
        "batches": 0,
        "evaluated": 0,
        "advanced": 0,
        "skipped": 0,
        "perRule": {},
        "aggregates": "fresh",
    });
    if rules.is_empty() || tiers.is_empty() {
        ctx.log
            .warn("no enabled advancement rule applies to the selected tiers; nothing to evaluate");
        ctx.progress.set_total(0);
        return Ok(super::succeeded(0, meta));
    }

    // The total is known up front: the sprouts to evaluate, plus every
    // sprout when the period's aggregates must be rebuilt first.
    let total = store.sprout_count(&tiers).await?;
    let stale = staleness(period, ctx).await?;
    let rebuild_needed = stale.is_some()
        && !(period == SignalPeriod::AllTime && store.aggregate_status(period).await?.is_some());
    let extra = if rebuild_needed {
        store.sprout_count(&[]).await?
    } else {
        0
    };
    ctx.progress.set_total(total + extra);
    if let Some(why) = stale {
        ctx.log.warn(format!("{why}; computing them now before evaluating (run signal-aggregation on a schedule to avoid this)"));
        let out = refresh_period(period, ctx).await?;
        if out.cancelled {
            meta["aggregates"] = json!("cancelled");
            return Err(super::stopped(0, meta));
        }
        meta["aggregates"] = json!(out.mode);
    }

    ctx.log.info(format!(
        "evaluating {} rule(s) on {total} sprout(s) in {} by {period} signals{}",
        rules.len(),
        tiers.join(", "),
        if params.dry_run { " (dry run)" } else { "" }
    ));

    // Only the kinds some rule reads are fetched.
    let mut kinds: Vec<String> = Vec::new();
    for rule in &rules {
        for cond in &rule.payload.conditions {
            if let Some(kind) = cond.kind() {
                let name = kind.name().to_owned();
                if !kinds.contains(&name) {
                    kinds.push(name);
                }
            }
        }
    }
    let (mut evaluated, mut advanced, mut skipped, mut batches) = (0u64, 0u64, 0u64, 0u64);
    let mut after: Option<String> = None;
    let mut cancelled = false;
    loop {
        if ctx.is_cancelled() {
            cancelled = true;
            break;
        }
        let page = store
            .sprout_page_for_advancement(SproutPage {
                period,
                tiers: tiers.clone(),
                after_id: after.take(),
                limit: ctx.batch_size,
                kinds: kinds.clone(),
            })
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.id.clone());
        batches += 1;
        let mut candidates = Vec::new();
        for sprout in &page {
            for rule in rules.iter().filter(|r| r.payload.from_tier == sprout.tier) {
                if let Some(held) = evaluate(&rule.payload, &sprout.counts) {
                    candidates.push(AdvancementCandidate {
                        sprout_id: sprout.id.clone(),
                        from_tier: sprout.tier.clone(),
                        to_tier: rule.payload.to_tier.clone(),
                        rule_id: rule.id.clone(),
                        signals: serde_json::to_value(&held).unwrap_or(Value::Null),
                    });
                    break;
                }
            }
        }
        if !candidates.is_empty() {
            let rule_ids: Vec<String> = candidates.iter().map(|c| c.rule_id.clone()).collect();
            let applied = store
                .advancement_apply(AdvancementApply {
                    run_id: ctx.run_id.clone(),
                    dry_run: params.dry_run,
                    at: ctx.clock.now(),
                    items: candidates,
                })
                .await?;
            for (rule_id, ok) in rule_ids.iter().zip(applied) {
                if ok {
                    advanced += 1;
                    *per_rule.entry(rule_id.clone()).or_default() += 1;
                } else {
                    skipped += 1;
                }
            }
        }
        evaluated += page.len() as u64;
        ctx.progress.add(page.len() as u64, 0);
    }

    meta["batches"] = json!(batches);
    meta["evaluated"] = json!(evaluated);
    meta["advanced"] = json!(advanced);
    meta["skipped"] = json!(skipped);
    meta["perRule"] = json!(per_rule);
    ctx.log.info(format!(
        "{evaluated} sprout(s) evaluated in {batches} batch(es), {advanced} {}{}",
        if params.dry_run {
            "would advance"
        } else {
            "advanced"
        },
        if cancelled {
            "; cancelled before the end"
        } else {
            ""
        }
    ));
    if advanced > 0 {
        super::journal_event(
            store,
            EventType::Advancement,
            &ctx.run_id,
            &format!(
                "{advanced} sprout(s) {} by {period} signals",
                if params.dry_run {
                    "would advance (dry run)"
                } else {
                    "advanced"
                }
            ),
            json!({ "runId": ctx.run_id, "dryRun": params.dry_run, "perRule": per_rule }),
            ctx.clock.now(),
        )
        .await?;
    }
    if cancelled {
        return Err(super::stopped(evaluated, meta));
    }
    Ok(super::succeeded(evaluated, meta))
}
