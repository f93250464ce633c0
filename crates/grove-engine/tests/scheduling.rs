//! Slots: firing, schedule edits, disabled schedules, overlap, misfires,
//! migration mode.

use std::sync::Arc;

use grove_core::job_config::{Health, JobConfigPayload, JobType, MisfirePolicy, OverlapPolicy};
use grove_engine::LEGACY_CONFIG_ID;
use grove_store::{ExecutionStatus, Trigger};

use crate::support::*;

#[tokio::test]
async fn a_slot_fires_at_its_instant_and_records_the_run() {
    let handler = Arc::new(Succeed::default());
    let h = Harness::started(uniform(handler.clone()), "2026-03-01T01:00:00Z").await;
    h.insert_config("nightly", &health("0 2 * * *")).await;
    h.scheduled("nightly", "2026-03-01T02:00:00Z").await;
    h.advance(1800);
    h.set("2026-03-01T02:00:00Z");
    let list = eventually("a finished run", || async {
        let list = h.executions("nightly").await;
        list.first()
            .filter(|e| e.status.is_final())
            .map(|_| list.clone())
    })
    .await;
    assert_eq!(list.len(), 1);
    let e = h.execution(&list[0].id).await;
    assert_eq!(e.status, ExecutionStatus::Success);
    assert_eq!(e.trigger, Trigger::Schedule);
    assert_eq!(e.scheduled_for, Some(at("2026-03-01T02:00:00Z")));
    assert_eq!(e.started_at, Some(at("2026-03-01T02:00:00Z")));
    assert_eq!(e.config_version, 1);
    assert_eq!(e.counts.processed, 3);
    assert_eq!(e.attempts.len(), 1);
    let logs = h.store.log_list(&e.id, 0, 100).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message.contains("job config \"nightly\" version 1")),
        "{logs:?}"
    );
    assert!(logs.iter().any(|l| l.message == "working in batches of 10"));
    // lastExecution is engine state, recorded just after the run ends: no
    // version bump.
    let cfg = eventually("lastExecution to be recorded", || async {
        let cfg = h.config("nightly").await;
        cfg.payload.get("lastExecution").is_some().then_some(cfg)
    })
    .await;
    assert_eq!(cfg.meta.version, 1);
    assert_eq!(cfg.payload["lastExecution"]["status"], "success");
    assert_eq!(cfg.payload["lastExecution"]["runId"], e.id.as_str());
    assert_eq!(cfg.payload["lastExecution"]["consecutiveFailures"], 0);
    h.stop().await;
}

#[tokio::test]
async fn a_schedule_edit_takes_effect_at_once() {
    // AC-F1: 0 2 * * * → 0 3 * * *; the next run is at 03:00.
    let h = Harness::started(
        uniform(Arc::new(Succeed::default())),
        "2026-03-01T01:00:00Z",
    )
    .await;
    h.insert_config("job", &health("0 2 * * *")).await;
    h.scheduled("job", "2026-03-01T02:00:00Z").await;
    h.update_config("job", &health("0 3 * * *")).await;
    h.scheduled("job", "2026-03-01T03:00:00Z").await;
    h.set("2026-03-01T02:00:00Z");
    h.set("2026-03-01T03:00:00Z");
    let runs = eventually("the 03:00 run", || async {
        let list = h.executions("job").await;
        (!list.is_empty()).then_some(list)
    })
    .await;
    assert_eq!(runs.len(), 1, "02:00 must not fire: {runs:?}");
    assert_eq!(runs[0].scheduled_for, Some(at("2026-03-01T03:00:00Z")));
    assert_eq!(runs[0].config_version, 2);
    h.stop().await;
}

#[tokio::test]
async fn a_disabled_schedule_never_fires_but_run_now_runs_it() {
    let h = Harness::started(
        uniform(Arc::new(Succeed::default())),
        "2026-03-01T01:00:00Z",
    )
    .await;
    let mut p = health("0 2 * * *");
    p.schedule.is_enabled = false;
    h.insert_config("off", &p).await;
    h.set("2026-03-01T02:00:00Z");
    h.set("2026-03-01T03:00:00Z");
    let run = h.handle.run_now("off", Some("alice")).await.unwrap();
    assert_eq!(run.status, ExecutionStatus::Queued);
    assert_eq!(run.trigger, Trigger::Manual);
    let done = h.wait_final(&run.id).await;
    assert_eq!(done.status, ExecutionStatus::Success);
    assert_eq!(done.actor.as_deref(), Some("alice"));
    let list = h.executions("off").await;
    assert_eq!(list.len(), 1, "only the manual run: {list:?}");
    let cfg: JobConfigPayload = serde_json::from_value(h.config("off").await.payload).unwrap();
    assert_eq!(cfg.health(), Health::Disabled);
    h.stop().await;
}

async fn overlap(policy: OverlapPolicy) -> (Harness, Arc<Gate>, Vec<grove_store::Execution>) {
    let gate = Arc::new(Gate::default());
    let h = Harness::started(uniform(gate.clone()), "2026-03-01T01:59:30Z").await;
    let mut p = health("* * * * *");
    p.schedule.overlap_policy = policy;
    h.insert_config("busy", &p).await;
    h.scheduled("busy", "2026-03-01T02:00:00Z").await;
    h.set("2026-03-01T02:00:00Z");
    let first = eventually("the first run to start", || async {
        h.executions("busy")
            .await
            .into_iter()
            .find(|e| e.status == ExecutionStatus::Running)
    })
    .await;
    h.scheduled("busy", "2026-03-01T02:01:00Z").await;
    h.set("2026-03-01T02:01:00Z");
    let list = eventually("the second slot", || async {
        let list = h.executions("busy").await;
        (list.len() == 2).then_some(list)
    })
    .await;
    assert_eq!(list[1].id, first.id, "{list:#?}");
    (h, gate, list)
}

#[tokio::test]
async fn overlap_skip_records_a_skipped_execution() {
    let (h, gate, list) = overlap(OverlapPolicy::Skip).await;
    assert_eq!(list[0].status, ExecutionStatus::Skipped);
    assert_eq!(list[0].reason.as_deref(), Some("overlap"));
    assert_eq!(list[0].scheduled_for, Some(at("2026-03-01T02:01:00Z")));
    gate.release.notify_one();
    h.wait_final(&list[1].id).await;
    h.stop().await;
}

#[tokio::test]
async fn overlap_queue_waits_for_the_running_one() {
    let (h, gate, list) = overlap(OverlapPolicy::Queue).await;
    assert_eq!(list[0].status, ExecutionStatus::Queued, "{list:#?}");
    gate.release.notify_one();
    h.wait_final(&list[1].id).await;
    h.wait_for(&list[0].id, "the queued run to start", |e| {
        e.status == ExecutionStatus::Running
    })
    .await;
    gate.release.notify_one();
    let second = h.wait_final(&list[0].id).await;
    assert_eq!(second.status, ExecutionStatus::Success);
    h.stop().await;
}

async fn downtime(policy: MisfirePolicy) -> (Harness, Vec<grove_store::Execution>) {
    let mut h = Harness::new("2026-03-01T00:00:00Z").await;
    let mut p = health("0 * * * *");
    p.schedule.misfire_policy = policy;
    h.insert_config("hourly", &p).await;
    // The service last handled this config at 00:00, then was down until 03:30.
    h.store
        .slot_position_advance("hourly", at("2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    h.clock.set(at("2026-03-01T03:30:00Z"));
    h.start(uniform(Arc::new(Succeed::default())), settings());
    let list = eventually("missed slots", || async {
        let list = h.executions("hourly").await;
        (list.len() == 3 && list.iter().all(|e| e.status.is_final())).then_some(list)
    })
    .await;
    (h, list)
}

#[tokio::test]
async fn misfire_run_once_runs_the_latest_missed_slot_late() {
    let (h, list) = downtime(MisfirePolicy::RunOnce).await;
    let mut by_slot = list.clone();
    by_slot.sort_by_key(|e| e.scheduled_for);
    assert_eq!(by_slot[0].scheduled_for, Some(at("2026-03-01T01:00:00Z")));
    assert_eq!(by_slot[0].status, ExecutionStatus::Skipped);
    assert_eq!(by_slot[0].reason.as_deref(), Some("missed"));
    assert_eq!(by_slot[1].status, ExecutionStatus::Skipped);
    assert_eq!(by_slot[2].scheduled_for, Some(at("2026-03-01T03:00:00Z")));
    assert_eq!(by_slot[2].status, ExecutionStatus::Success);
    assert!(by_slot[2].late);
    // The next slot is still scheduled normally.
    h.scheduled("hourly", "2026-03-01T04:00:00Z").await;
    h.set("2026-03-01T04:00:00Z");
    eventually("the 04:00 run", || async {
        (h.executions("hourly").await.len() == 4).then_some(())
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn misfire_skip_records_every_missed_slot() {
    let (h, list) = downtime(MisfirePolicy::Skip).await;
    assert!(list.iter().all(|e| e.status == ExecutionStatus::Skipped
        && e.reason.as_deref() == Some("missed")
        && !e.late));
    h.stop().await;
}

/// More configs than the scheduler reads in one page (500): start-up
/// follows every one and records each one's missed slot.
#[tokio::test]
async fn configs_beyond_one_page_are_all_followed_and_their_misfires_recorded() {
    const N: usize = 1_101;
    let mut h = Harness::new("2026-03-01T00:00:00Z").await;
    let mut p = health("0 * * * *");
    p.schedule.misfire_policy = MisfirePolicy::Skip;
    for i in 0..N {
        let id = format!("job-{i:04}");
        h.insert_config(&id, &p).await;
        h.store
            .slot_position_advance(&id, at("2026-03-01T00:00:00Z"))
            .await
            .unwrap();
    }
    h.clock.set(at("2026-03-01T01:30:00Z"));
    h.start(uniform(Arc::new(Succeed::default())), settings());
    let skipped = |m: &grove_engine::metrics::MetricsSnapshot| {
        m.finished
            .iter()
            .find(|(s, _)| *s == ExecutionStatus::Skipped)
            .map_or(0, |(_, n)| *n)
    };
    eventually(
        "every config followed, every missed slot recorded",
        || async {
            let m = h.handle.metrics()?;
            (m.scheduled == N && skipped(&m) == N as u64).then_some(())
        },
    )
    .await;
    for id in ["job-0000", "job-0499", "job-0500", "job-1100"] {
        assert_eq!(
            h.handle.next_slot(id),
            Some(at("2026-03-01T02:00:00Z")),
            "{id}"
        );
        let list = h.executions(id).await;
        assert_eq!(list.len(), 1, "{id}: {list:?}");
        assert_eq!(list[0].scheduled_for, Some(at("2026-03-01T01:00:00Z")));
        assert_eq!(list[0].reason.as_deref(), Some("missed"));
    }
    h.stop().await;
}

#[tokio::test]
async fn legacy_fallback_runs_the_advancement_job_on_legacy_defaults() {
    let mut h = Harness::new("2026-03-01T01:00:00Z").await;
    let mut s = settings();
    s.legacy_fallback = true;
    s.legacy_alert_after = std::time::Duration::from_secs(1800);
    h.start(uniform(Arc::new(Succeed::default())), s);
    let since = eventually("legacy mode", || async { h.handle.legacy_in_use() }).await;
    assert_eq!(since, at("2026-03-01T01:00:00Z"));
    h.scheduled(LEGACY_CONFIG_ID, "2026-03-01T02:00:00Z").await;
    h.set("2026-03-01T02:00:00Z");
    let run = eventually("the legacy run", || async {
        let list = h.executions(LEGACY_CONFIG_ID).await;
        list.first().filter(|e| e.status.is_final()).cloned()
    })
    .await;
    assert_eq!(run.scheduled_for, Some(at("2026-03-01T02:00:00Z")));
    assert_eq!(run.payload["limits"]["batchSize"], 100);
    assert_eq!(run.payload["parameters"]["signalPeriod"], "all_time");
    let logs = h.store.log_list(&run.id, 0, 100).await.unwrap();
    assert!(logs.iter().any(|l| l.message.contains("legacy defaults")));
    assert!(
        logs.iter().any(|l| l.message.contains("ALERT")),
        "in use > 30 min: {logs:?}"
    );
    // An enabled advancement-batch config ends migration mode.
    h.insert_config("adv", &config(JobType::AdvancementBatch, "0 2 * * *"))
        .await;
    eventually("legacy mode to end", || async {
        h.handle.legacy_in_use().is_none().then_some(())
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn legacy_fallback_is_off_by_default() {
    let h = Harness::started(
        uniform(Arc::new(Succeed::default())),
        "2026-03-01T01:00:00Z",
    )
    .await;
    let run = h
        .handle
        .run_now("nope", None)
        .await
        .expect_err("unknown config");
    assert!(matches!(run, grove_app::AppError::NotFound(_)));
    assert!(h.handle.legacy_in_use().is_none());
    h.stop().await;
}

/// Every slot of an every-minute job once, across two restarts: one
/// clean, one racing the firing of a slot (the engine may be stopped just
/// before or just after it fires; either way the slot runs exactly once).
#[tokio::test]
async fn every_slot_runs_exactly_once_across_restarts() {
    let handler = Arc::new(Succeed::default());
    let mut h = Harness::new("2026-03-01T01:00:00Z").await;
    h.start(uniform(handler.clone()), settings());
    h.insert_config("minutely", &health("* * * * *")).await;

    let mut expected = Vec::new();
    for minute in 1..=4 {
        h.scheduled("minutely", &format!("2026-03-01T01:{minute:02}:00Z"))
            .await;
        expected.push(walk(&h, minute));
        settled(&h, expected.len()).await;
    }

    // A clean restart at 01:04: the 01:04 slot has run and must not again.
    h.halt().await;
    h.start(uniform(handler.clone()), settings());
    h.scheduled("minutely", "2026-03-01T01:05:00Z").await;
    expected.push(walk(&h, 5));
    settled(&h, expected.len()).await;

    // A restart racing the 01:06 slot.
    h.scheduled("minutely", "2026-03-01T01:06:00Z").await;
    expected.push(walk(&h, 6));
    h.halt().await;
    h.start(uniform(handler.clone()), settings());
    settled(&h, expected.len()).await;
    h.scheduled("minutely", "2026-03-01T01:07:00Z").await;
    for minute in 7..=9 {
        expected.push(walk(&h, minute));
        settled(&h, expected.len()).await;
        if minute < 9 {
            h.scheduled("minutely", &format!("2026-03-01T01:{:02}:00Z", minute + 1))
                .await;
        }
    }

    let mut slots: Vec<_> = h
        .executions("minutely")
        .await
        .into_iter()
        .map(|e| {
            assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
            e.scheduled_for.expect("a scheduled run")
        })
        .collect();
    slots.sort();
    assert_eq!(slots, expected, "each slot once, none lost");
    h.stop().await;
}

/// Sets the clock to 01:`minute` and answers that instant.
fn walk(h: &Harness, minute: u32) -> jiff::Timestamp {
    let slot = format!("2026-03-01T01:{minute:02}:00Z");
    h.set(&slot);
    at(&slot)
}

/// Waits until `n` runs of "minutely" exist and all have ended.
async fn settled(h: &Harness, n: usize) {
    eventually("every slot so far to run", || async {
        let list = h.executions("minutely").await;
        (list.len() >= n && list.iter().all(|e| e.status.is_final())).then_some(())
    })
    .await
}

/// A config written straight to the database (as another process, a CLI
/// `apply`, would), with no call into this engine, is scheduled through the
/// change feed: the resync safety net is an hour away in these tests.
#[tokio::test]
async fn edits_by_another_process_arrive_through_the_change_feed() {
    let mut h = Harness::new("2026-03-01T01:00:00Z").await;
    h.start(uniform(Arc::new(Succeed::default())), settings());
    h.store
        .object_insert(grove_store::ObjectInsert {
            object_type: grove_core::registry::JOB_CONFIG.to_owned(),
            id: "applied".to_owned(),
            title: "Applied elsewhere".to_owned(),
            description: None,
            tags: vec![],
            payload: health("0 4 * * *").to_value(),
            actor: None,
            now: at("2026-03-01T01:00:00Z"),
        })
        .await
        .expect("insert");
    h.scheduled("applied", "2026-03-01T04:00:00Z").await;
    h.stop().await;
}

/// A run queued straight in the database (as `grove-jobs run` in another
/// process queues it), with no call into this engine, starts through the
/// change feed: the executor does not poll, and the safety net is an hour
/// away in these tests.
#[tokio::test]
async fn runs_queued_by_another_process_start_through_the_change_feed() {
    let h = Harness::started(
        uniform(Arc::new(Succeed::default())),
        "2026-03-01T01:00:00Z",
    )
    .await;
    let payload = health("0 4 * * *");
    h.insert_config("queued-elsewhere", &payload).await;
    let queued = h
        .store
        .execution_insert(grove_store::ExecutionInsert {
            id: "run-from-the-cli".to_owned(),
            config_id: "queued-elsewhere".to_owned(),
            trigger: Trigger::Manual,
            scheduled_for: None,
            due_at: None,
            late: false,
            payload: payload.to_value(),
            config_version: 1,
            retry: payload.retry,
            max_concurrent: 1,
            retry_of: None,
            parent_run_id: None,
            overrides: None,
            actor: Some("cli".to_owned()),
            disposition: grove_store::InsertDisposition::Queue,
            now: at("2026-03-01T01:00:00Z"),
        })
        .await
        .expect("insert");
    assert!(matches!(queued, grove_store::InsertOutcome::Queued(_)));
    let e = h.wait_final("run-from-the-cli").await;
    assert_eq!(e.status, ExecutionStatus::Success);
    h.stop().await;
}

/// A crowded instant: more configs due at once than one batch of slots and
/// than `max_running`. Slots start as they are recorded while there is
/// room, the rest are claimed; outcomes wait for the instant's slots. Every
/// slot runs exactly once, within `max_running`, and every config records
/// its `lastExecution`.
#[tokio::test]
async fn a_crowded_instant_runs_every_slot_once_and_records_every_outcome() {
    crowded_instant(75, 8).await;
}

/// More runs end while a crowded instant's slots are recorded than may
/// record their end at once (512): they wait their turn, and every one is
/// recorded.
#[tokio::test]
async fn runs_held_back_by_a_crowded_instant_all_record_their_end() {
    crowded_instant(600, 600).await;
}

/// `n` configs due on one instant, run by an engine with `max_running`.
async fn crowded_instant(n: usize, max_running: usize) {
    let calls = Arc::new(Succeed::default());
    let mut h = Harness::new("2026-03-01T01:59:00Z").await;
    for i in 0..n {
        h.insert_config(&format!("job-{i:03}"), &health("0 2 * * *"))
            .await;
    }
    h.start(
        uniform(calls.clone()),
        grove_engine::EngineSettings {
            max_running,
            ..settings()
        },
    );
    eventually("every config followed", || async {
        (h.handle.metrics()?.scheduled == n).then_some(())
    })
    .await;
    h.set("2026-03-01T02:00:00Z");
    for i in 0..n {
        let id = format!("job-{i:03}");
        let cfg = eventually("lastExecution to be recorded", || async {
            let cfg = h.config(&id).await;
            cfg.payload.get("lastExecution").is_some().then_some(cfg)
        })
        .await;
        assert_eq!(cfg.payload["lastExecution"]["status"], "success", "{id}");
        let runs = h.executions(&id).await;
        assert_eq!(runs.len(), 1, "{id}: {runs:?}");
        assert_eq!(runs[0].scheduled_for, Some(at("2026-03-01T02:00:00Z")));
        assert_eq!(runs[0].status, ExecutionStatus::Success);
        assert_eq!(runs[0].attempt_count, 1);
    }
    assert_eq!(
        calls.calls.load(std::sync::atomic::Ordering::SeqCst),
        n as u32
    );
    h.stop().await;
}
