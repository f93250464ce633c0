//! The dead-man's switch (`payload.alerts`): alerts for the runs that did
//! not happen when they should have.
//!
//! - **Late slots** (`alerts.maxLatenessSeconds`): a scheduled slot whose
//!   first attempt starts more than that many seconds after its due
//!   instant (slot plus jitter) raises `job.late` when the attempt starts
//!   ([`slot_started`], from the executor); a slot recorded as `skipped`
//!   with reason `missed` (downtime) raises it when it is recorded
//!   ([`slots_missed`], from the scheduler). Only one instance claims an
//!   execution and only one records a slot, so each late slot is raised
//!   once. The config's `lateSlot` (engine state) holds the latest one
//!   until a later slot starts in time; `derived.health` shows `late`.
//! - **Silence** (`alerts.maxSilenceSeconds`): an enabled job with no
//!   `success` or `partial` run for that long raises `job.silent`, checked
//!   by the maintenance leader at each round ([`SilenceWatch::check`]), so
//!   it fires even when nothing runs. The silence counts from the later of
//!   the last success (`lastSuccessAt`) and the start of the watch: when
//!   the alert was set and the schedule enabled, read from the config's
//!   revisions. It is raised once: `silence` (engine state) is set, and
//!   only the next success clears it (or the watch ending: the alert
//!   removed, the schedule disabled); `derived.health` shows `silent`.
//!
//! Both go to the journal (`GET /api/v1/journal`), to `/metrics`, and
//! through the config's notification channels when
//! `notifications.onFailure` is on. Best effort, like every announcement:
//! a journal or delivery problem is logged and changes no run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use grove_core::job_config::{EventType, JobConfigPayload, LateSlot, Silence};
use grove_core::registry::JOB_CONFIG;
use grove_store::{Execution, OBJECT_PAGE, ObjectPages, StoredObject, Trigger};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::announce::{self, Note};
use crate::jobs::journal_event;
use crate::{EngineError, Shared};

fn max_lateness(e: &Execution) -> Option<u64> {
    e.payload
        .pointer("/alerts/maxLatenessSeconds")
        .and_then(Value::as_u64)
}

/// Whether the start of this attempt is one [`slot_started`] looks at: the
/// first attempt of a scheduled slot whose config watches lateness.
pub(crate) fn watches_lateness(e: &Execution, attempt: u32) -> bool {
    attempt == 1
        && e.trigger == Trigger::Schedule
        && e.scheduled_for.is_some()
        && max_lateness(e).is_some()
}

/// Seconds from `due` to `at`, never negative.
fn seconds_after(due: Timestamp, at: Timestamp) -> u64 {
    u64::try_from(at.duration_since(due).as_secs()).unwrap_or(0)
}

/// The first attempt of a scheduled slot started at `started`: late raises
/// `job.late`; in time ends the config's `lateSlot`.
pub(crate) async fn slot_started(shared: Arc<Shared>, e: Execution, started: Timestamp) {
    let (Some(slot), Some(max)) = (e.scheduled_for, max_lateness(&e)) else {
        return;
    };
    let due = e.due_at.unwrap_or(slot);
    let lateness = seconds_after(due, started);
    if lateness > max {
        let late = LateSlot {
            run_id: e.id.clone(),
            scheduled_for: slot,
            due_at: due,
            lateness_seconds: lateness,
            missed: false,
            at: started,
        };
        let message = format!(
            "job \"{}\" started {} late for its slot {slot} (due {due}; alerts.maxLatenessSeconds is {max})",
            e.config_id,
            words(lateness)
        );
        raise_late(&shared, &e, late, max, &message, true).await;
        return;
    }
    // In time: the latest slot is no longer late.
    let stored = shared.store.object_get(JOB_CONFIG, &e.config_id).await;
    if let Ok(Some(obj)) = stored
        && obj.payload.get("lateSlot").is_some_and(|v| !v.is_null())
    {
        merge(&shared, &e.config_id, "lateSlot", Value::Null).await;
    }
}

/// Slots the scheduler recorded as `skipped`; those with reason `missed`
/// of configs that watch lateness raise `job.late`, one journal entry per
/// slot and one notification per config.
pub(crate) async fn slots_missed(shared: &Arc<Shared>, skipped: &[Execution]) {
    let mut by_config: BTreeMap<&str, Vec<&Execution>> = BTreeMap::new();
    for e in skipped {
        if e.reason.as_deref() == Some("missed") && max_lateness(e).is_some() {
            by_config.entry(&e.config_id).or_default().push(e);
        }
    }
    for (config_id, missed) in by_config {
        let count = missed.len();
        for (i, e) in missed.into_iter().enumerate() {
            let (Some(slot), Some(max)) = (e.scheduled_for, max_lateness(e)) else {
                continue;
            };
            let due = e.due_at.unwrap_or(slot);
            let at = e.completed_at.unwrap_or(e.created_at);
            let late = LateSlot {
                run_id: e.id.clone(),
                scheduled_for: slot,
                due_at: due,
                lateness_seconds: seconds_after(due, at),
                missed: true,
                at,
            };
            let last = i + 1 == count;
            let message = if last && count > 1 {
                format!(
                    "job \"{config_id}\" missed {count} slots, the latest {slot} (due {due}): the service was not running"
                )
            } else {
                format!(
                    "job \"{config_id}\" missed its slot {slot} (due {due}): the service was not running"
                )
            };
            raise_late(shared, e, late, max, &message, last).await;
        }
    }
}

async fn raise_late(
    shared: &Arc<Shared>,
    e: &Execution,
    late: LateSlot,
    max: u64,
    message: &str,
    notify: bool,
) {
    shared.metrics.late_slot(&e.config_id);
    tracing::warn!(job = %e.config_id, run = %e.id, "{message}");
    let data = json!({
        "runId": late.run_id,
        "scheduledFor": late.scheduled_for,
        "dueAt": late.due_at,
        "latenessSeconds": late.lateness_seconds,
        "maxLatenessSeconds": max,
        "missed": late.missed,
    });
    let at = shared.clock.now();
    if let Err(err) = journal_event(
        &*shared.store,
        EventType::JobLate,
        &e.config_id,
        message,
        data.clone(),
        at,
    )
    .await
    {
        tracing::warn!(job = %e.config_id, error = %err, "cannot journal a late slot");
    }
    merge(
        shared,
        &e.config_id,
        "lateSlot",
        serde_json::to_value(&late).unwrap_or(Value::Null),
    )
    .await;
    if !notify {
        return;
    }
    let Ok(payload) = <JobConfigPayload as serde::Deserialize>::deserialize(&e.payload) else {
        return;
    };
    let mut body = data;
    body["subject"] = json!(message);
    body["event"] = json!(EventType::JobLate);
    body["jobId"] = json!(e.config_id);
    let note = Note {
        id: format!("{}:late", e.id),
        config_id: &e.config_id,
        subject: message,
        body,
        run: Some(e),
    };
    announce::alert(shared, &payload, note).await;
}

async fn merge(shared: &Shared, config_id: &str, key: &str, value: Value) {
    let mut state = Map::new();
    state.insert(key.to_owned(), value);
    if let Err(err) = shared
        .store
        .object_state_merge(JOB_CONFIG, config_id, state)
        .await
    {
        tracing::warn!(job = %config_id, error = %err, "cannot record {key}");
    }
}

/// A duration in words: "95 seconds", "2 hours 5 minutes".
fn words(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    let unit = |n: u64, one: &str| -> Option<String> {
        (n > 0).then(|| format!("{n} {one}{}", if n == 1 { "" } else { "s" }))
    };
    if seconds < 120 {
        return unit(seconds, "second").unwrap_or_else(|| "0 seconds".to_owned());
    }
    let parts: Vec<String> = [(d, "day"), (h, "hour"), (m, "minute")]
        .into_iter()
        .filter_map(|(n, u)| unit(n, u))
        .take(2)
        .collect();
    parts.join(" ")
}

/// Where each watched config's silence watch began, by config and version
/// (read from its revisions once per version).
#[derive(Debug, Default)]
pub(crate) struct SilenceWatch {
    since: HashMap<String, (i64, Timestamp)>,
}

/// Whether a payload (as stored, or as a revision) watches silence now.
fn watching(payload: &Value) -> bool {
    payload
        .pointer("/alerts/maxSilenceSeconds")
        .is_some_and(Value::is_u64)
        && payload.pointer("/schedule/isEnabled") == Some(&Value::Bool(true))
}

impl SilenceWatch {
    /// One round of the silence check over every job config.
    pub(crate) async fn check(&mut self, shared: &Arc<Shared>) -> Result<(), EngineError> {
        let mut seen = HashSet::new();
        // A page at a time: thousands of configs are never all in memory.
        let mut pages = ObjectPages::new(&*shared.store, JOB_CONFIG, OBJECT_PAGE);
        while let Some(page) = pages.next_page().await? {
            for obj in &page {
                if obj.payload.pointer("/alerts/maxSilenceSeconds").is_none()
                    && obj.payload.get("silence").is_none_or(Value::is_null)
                {
                    // Neither watched nor raised: nothing to decode.
                    continue;
                }
                let Ok(payload) =
                    <JobConfigPayload as serde::Deserialize>::deserialize(&obj.payload)
                else {
                    continue;
                };
                let max = payload
                    .alerts
                    .and_then(|a| a.max_silence_seconds)
                    .filter(|_| payload.schedule.is_enabled);
                let Some(max) = max else {
                    // Not watched (any more): a raised alert ends with the watch.
                    if payload.silence.is_some() {
                        merge(shared, &obj.meta.id, "silence", Value::Null).await;
                    }
                    continue;
                };
                seen.insert(obj.meta.id.clone());
                if payload.silence.is_some() {
                    // Raised; only the next success clears it.
                    continue;
                }
                let since = self.since(shared, obj).await?;
                let last_success = last_success(&payload);
                let from = last_success.map_or(since, |s| s.max(since));
                let silent_for = shared.clock.now().duration_since(from);
                let limit = SignedDuration::from_secs(i64::try_from(max).unwrap_or(i64::MAX));
                if silent_for >= limit {
                    raise_silent(shared, &obj.meta.id, max, from).await?;
                }
            }
        }
        self.since.retain(|id, _| seen.contains(id));
        Ok(())
    }

    /// When the config's current watch began: the oldest of its latest
    /// revisions that all watch silence (the alert set, the schedule on).
    async fn since(
        &mut self,
        shared: &Shared,
        obj: &StoredObject,
    ) -> Result<Timestamp, EngineError> {
        if let Some((version, since)) = self.since.get(&obj.meta.id)
            && *version == obj.meta.version
        {
            return Ok(*since);
        }
        let revisions = shared.store.revision_list(JOB_CONFIG, &obj.meta.id).await?;
        let mut since = obj.meta.updated_at;
        for r in revisions.iter().filter(|r| r.version <= obj.meta.version) {
            if !watching(&r.payload) {
                break;
            }
            since = r.at;
        }
        self.since
            .insert(obj.meta.id.clone(), (obj.meta.version, since));
        Ok(since)
    }
}

/// When the last `success` or `partial` run ended, as far as the config
/// knows (`lastSuccessAt`, or a successful `lastExecution` written before
/// it existed).
fn last_success(payload: &JobConfigPayload) -> Option<Timestamp> {
    payload.last_success_at.or_else(|| {
        payload
            .last_execution
            .as_ref()
            .filter(|l| {
                matches!(
                    l.status,
                    grove_core::job_config::RunStatus::Success
                        | grove_core::job_config::RunStatus::Partial
                )
            })
            .and_then(|l| l.completed_at)
    })
}

async fn raise_silent(
    shared: &Arc<Shared>,
    config_id: &str,
    max: u64,
    from: Timestamp,
) -> Result<(), EngineError> {
    // Read again just before raising: a run may have succeeded meanwhile.
    let Some(obj) = shared.store.object_get(JOB_CONFIG, config_id).await? else {
        return Ok(());
    };
    let Ok(payload) = <JobConfigPayload as serde::Deserialize>::deserialize(&obj.payload) else {
        return Ok(());
    };
    let last_success = last_success(&payload);
    if payload.silence.is_some() || last_success.is_some_and(|s| s > from) {
        return Ok(());
    }
    let now = shared.clock.now();
    let silent_for = seconds_after(from, now);
    let message = match last_success {
        Some(at) => format!(
            "job \"{config_id}\" has had no successful run for {} (since {at}; alerts.maxSilenceSeconds is {max})",
            words(silent_for)
        ),
        None => format!(
            "job \"{config_id}\" has had no successful run in the {} since it was set to alert (at {from}; alerts.maxSilenceSeconds is {max})",
            words(silent_for)
        ),
    };
    tracing::warn!(job = %config_id, "{message}");
    let data = json!({
        "since": from,
        "lastSuccessAt": last_success,
        "silentForSeconds": silent_for,
        "maxSilenceSeconds": max,
    });
    let silence = Silence {
        at: now,
        since: from,
        max_silence_seconds: max,
    };
    // State first: a leader that stops right after never raises it twice.
    merge(
        shared,
        config_id,
        "silence",
        serde_json::to_value(&silence).unwrap_or(Value::Null),
    )
    .await;
    if let Err(err) = journal_event(
        &*shared.store,
        EventType::JobSilent,
        config_id,
        &message,
        data.clone(),
        now,
    )
    .await
    {
        tracing::warn!(job = %config_id, error = %err, "cannot journal a silence");
    }
    let mut body = data;
    body["subject"] = json!(message);
    body["event"] = json!(EventType::JobSilent);
    body["jobId"] = json!(config_id);
    let note = Note {
        id: format!("{config_id}:silent:{}", from.as_millisecond()),
        config_id,
        subject: &message,
        body,
        run: None,
    };
    announce::alert(shared, &payload, note).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(words(0), "0 seconds");
        assert_eq!(words(1), "1 second");
        assert_eq!(words(95), "95 seconds");
        assert_eq!(words(3_600), "1 hour");
        assert_eq!(words(7_500), "2 hours 5 minutes");
        assert_eq!(words(90_061), "1 day 1 hour");
    }

    #[test]
    fn a_watch_needs_the_alert_and_an_enabled_schedule() {
        let p = |alerts: Value, enabled: bool| json!({"alerts": alerts, "schedule": {"isEnabled": enabled}});
        assert!(watching(&p(json!({"maxSilenceSeconds": 60}), true)));
        assert!(!watching(&p(json!({"maxSilenceSeconds": 60}), false)));
        assert!(!watching(&p(json!({"maxLatenessSeconds": 60}), true)));
        assert!(!watching(&json!({"schedule": {"isEnabled": true}})));
    }
}
