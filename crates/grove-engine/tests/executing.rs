//! Attempts: retries, timeouts, panics, partial results, cancel, retry of
//! an execution, live events, auto-disable.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use grove_app::AppError;
use grove_core::job_config::{Health, JobConfigPayload};
use grove_core::retry::BackoffStrategy;
use grove_engine::{EngineSettings, RunEvent};
use grove_store::{AttemptReason, AttemptStatus, Execution, ExecutionStatus, Trigger};
use jiff::SignedDuration;

use crate::support::*;

const T0: &str = "2026-03-01T12:00:00Z";

#[tokio::test]
async fn retries_follow_the_policy_exactly() {
    let handler = Arc::new(FailTimes::new(2));
    let h = Harness::started(uniform(handler.clone()), T0).await;
    let mut p = health("0 2 * * *");
    p.retry.max_attempts = 3;
    p.retry.backoff_strategy = BackoffStrategy::Exponential;
    p.retry.initial_delay_seconds = 10;
    p.retry.max_delay_seconds = 3600;
    h.insert_config("flaky", &p).await;
    let run = h.handle.run_now("flaky", None).await.unwrap();
    let e = h
        .wait_for(&run.id, "attempt 1 to fail", |e| {
            e.status == ExecutionStatus::Queued && e.attempt_count == 1
        })
        .await;
    assert_eq!(e.available_at, at(T0) + SignedDuration::from_secs(10));
    h.advance(9);
    h.advance(1);
    let e = h
        .wait_for(&run.id, "attempt 2 to fail", |e| {
            e.status == ExecutionStatus::Queued && e.attempt_count == 2
        })
        .await;
    assert_eq!(e.available_at, at(T0) + SignedDuration::from_secs(10 + 20));
    h.advance(20);
    let e = h.wait_final(&run.id).await;
    assert_eq!(e.status, ExecutionStatus::Success);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3);
    let statuses: Vec<_> = e.attempts.iter().map(|a| (a.status, a.reason)).collect();
    assert_eq!(
        statuses,
        [
            (AttemptStatus::Failed, Some(AttemptReason::Error)),
            (AttemptStatus::Failed, Some(AttemptReason::Error)),
            (AttemptStatus::Success, None),
        ]
    );
    assert_eq!(e.attempts[0].error.as_deref(), Some("failure number 1"));
    assert_eq!(e.started_at, Some(at(T0)));
    let logs = h.store.log_list(&run.id, 0, 100).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message.contains("attempt 2 will start at"))
    );
    assert!(
        logs.iter()
            .any(|l| l.message == "failing on purpose (2)" && l.attempt == 2)
    );
    h.stop().await;
}

#[tokio::test]
async fn repeated_failures_disable_the_schedule() {
    let h = Harness::started(uniform(Arc::new(FailTimes::new(100))), T0).await;
    let mut p = health("0 2 * * *");
    p.retry.max_attempts = 1;
    p.schedule.auto_disable_after_failures = 2;
    h.insert_config("broken", &p).await;
    let first = h.handle.run_now("broken", None).await.unwrap();
    let e = h.wait_final(&first.id).await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("failure number 1"));
    // lastExecution is recorded just after the run ends.
    let cfg = eventually("the first failure to be recorded", || async {
        let cfg = h.config("broken").await;
        (cfg.payload["lastExecution"]["consecutiveFailures"] == 1).then_some(cfg)
    })
    .await;
    assert_eq!(cfg.payload["schedule"]["isEnabled"], true);
    let second = h.handle.run_now("broken", None).await.unwrap();
    h.wait_final(&second.id).await;
    // The schedule is disabled first, then the reason is recorded beside it.
    let cfg = eventually("the schedule to be disabled, with its reason", || async {
        let cfg = h.config("broken").await;
        (cfg.payload["schedule"]["isEnabled"] == false && cfg.payload["autoDisabled"].is_object())
            .then_some(cfg)
    })
    .await;
    assert_eq!(cfg.meta.version, 2);
    assert_eq!(cfg.meta.updated_by.as_deref(), Some("engine"));
    assert_eq!(cfg.payload["lastExecution"]["consecutiveFailures"], 2);
    let reason = cfg.payload["autoDisabled"]["reason"].as_str().unwrap();
    assert!(reason.contains("2 consecutive failed runs"), "{reason}");
    let typed: JobConfigPayload = serde_json::from_value(cfg.payload).unwrap();
    assert_eq!(typed.health(), Health::Critical);
    h.stop().await;
}

#[tokio::test]
async fn a_handler_that_ignores_cancellation_is_aborted_at_its_timeout() {
    let h = Harness::started(uniform(Arc::new(Hang)), T0).await;
    let mut p = health("0 2 * * *");
    p.retry.max_attempts = 1;
    p.limits.timeout_seconds = 1;
    h.insert_config("stuck", &p).await;
    let run = h.handle.run_now("stuck", None).await.unwrap();
    let e = h.wait_final(&run.id).await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.attempts[0].reason, Some(AttemptReason::Timeout));
    let err = e.error.unwrap();
    assert!(err.contains("timed out after 1 s"), "{err}");
    assert!(err.contains("aborted"), "{err}");
    h.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_fails_its_attempt_and_the_engine_goes_on() {
    let h = Harness::started(uniform(Arc::new(PanicOnce::default())), T0).await;
    let mut p = health("0 2 * * *");
    p.retry.max_attempts = 1;
    h.insert_config("panicky", &p).await;
    let run = h.handle.run_now("panicky", None).await.unwrap();
    let e = h.wait_final(&run.id).await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_deref(), Some("the handler panicked: boom"));
    let again = h.handle.run_now("panicky", None).await.unwrap();
    assert_eq!(
        h.wait_final(&again.id).await.status,
        ExecutionStatus::Success
    );
    h.stop().await;
}

#[tokio::test]
async fn failed_items_make_a_partial_run() {
    let h = Harness::started(uniform(Arc::new(Partial)), T0).await;
    h.insert_config("some", &health("0 2 * * *")).await;
    let run = h.handle.run_now("some", None).await.unwrap();
    let e = h.wait_final(&run.id).await;
    assert_eq!(e.status, ExecutionStatus::Partial);
    assert_eq!(e.counts.failed, 1);
    assert_eq!(e.counts.succeeded, 3);
    assert_eq!(e.error.as_deref(), Some("1 of 4 items failed"));
    h.stop().await;
}

#[tokio::test]
async fn cancel_stops_a_running_execution_and_retry_reruns_it() {
    let gate = Arc::new(Gate::default());
    let h = Harness::started(uniform(gate.clone()), T0).await;
    h.insert_config("long", &health("0 2 * * *")).await;
    let run = h.handle.run_now("long", None).await.unwrap();
    let mut events = h.handle.subscribe(&run.id).unwrap();
    h.wait_for(&run.id, "running", |e| e.status == ExecutionStatus::Running)
        .await;
    assert!(matches!(
        h.handle.retry(&run.id, None).await,
        Err(AppError::NotFinished { .. })
    ));
    h.handle.cancel(&run.id).await.unwrap();
    let e = h.wait_final(&run.id).await;
    assert_eq!(e.status, ExecutionStatus::Cancelled);
    assert_eq!(e.attempts[0].status, AttemptStatus::Cancelled);
    assert_eq!(e.attempts[0].reason, Some(AttemptReason::Cancelled));
    assert!(matches!(
        h.handle.cancel(&run.id).await,
        Err(AppError::AlreadyEnded { .. })
    ));
    assert!(matches!(
        h.handle.cancel("no-such-run").await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        h.handle.retry("no-such-run", None).await,
        Err(AppError::NotFound(_))
    ));
    // Live events: a phase, log lines, then the end.
    let mut names = Vec::new();
    while let Ok(ev) = events.recv().await {
        let end = matches!(ev, RunEvent::End { .. });
        names.push(ev.name());
        if end {
            break;
        }
    }
    assert!(names.contains(&"log"), "{names:?}");
    assert_eq!(names.last(), Some(&"end"));
    let again = h.handle.retry(&run.id, Some("bob")).await.unwrap();
    assert_eq!(again.trigger, Trigger::Retry);
    assert_eq!(again.retry_of.as_deref(), Some(run.id.as_str()));
    h.wait_for(&again.id, "running", |e| {
        e.status == ExecutionStatus::Running
    })
    .await;
    gate.release.notify_one();
    assert_eq!(
        h.wait_final(&again.id).await.status,
        ExecutionStatus::Success
    );
    h.stop().await;
}

/// Two runs of a config with maxConcurrent 1: the first running (held by
/// the gate), the second asked for after it started, so it waits queued.
async fn one_running_one_queued() -> (Harness, Arc<Gate>, Execution, Execution) {
    let gate = Arc::new(Gate::default());
    let h = Harness::started(uniform(gate.clone()), T0).await;
    h.insert_config("one-at-a-time", &health("0 2 * * *")).await;
    let first = h.handle.run_now("one-at-a-time", None).await.unwrap();
    h.wait_for(&first.id, "running", |e| {
        e.status == ExecutionStatus::Running
    })
    .await;
    let second = h.handle.run_now("one-at-a-time", None).await.unwrap();
    (h, gate, first, second)
}

/// The executor looks at the queue again when a run ends only if its last
/// claim left a run behind its config's maxConcurrent: that run must start
/// as soon as the one before it ends (the resync safety net is an hour).
#[tokio::test]
async fn a_run_held_back_by_max_concurrent_starts_when_the_one_before_ends() {
    let (h, gate, _first, second) = one_running_one_queued().await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        h.store
            .execution_get(&second.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ExecutionStatus::Queued,
        "maxConcurrent 1 holds it back"
    );
    gate.release.notify_one();
    h.wait_for(&second.id, "running", |e| {
        e.status == ExecutionStatus::Running
    })
    .await;
    gate.release.notify_one();
    assert_eq!(
        h.wait_final(&second.id).await.status,
        ExecutionStatus::Success
    );
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
    h.stop().await;
}

#[tokio::test]
async fn a_queued_execution_can_be_cancelled() {
    let (h, gate, first, second) = one_running_one_queued().await;
    let cancelled = h.handle.cancel(&second.id).await.unwrap();
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    gate.release.notify_one();
    h.wait_final(&first.id).await;
    assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
    h.stop().await;
}

/// `max_running` bounds the handlers running at once in one process: with
/// one allowed, a second config's run waits queued while the first
/// handler runs, and starts once that handler has returned (its place is
/// given back then, not only after the outcome is recorded; the resync
/// safety net is an hour).
#[tokio::test]
async fn max_running_bounds_the_handlers_running_at_once() {
    let gate = Arc::new(Gate::default());
    let mut h = Harness::new(T0).await;
    h.start(
        uniform(gate.clone()),
        EngineSettings {
            max_running: 1,
            ..settings()
        },
    );
    h.insert_config("first", &health("0 2 * * *")).await;
    h.insert_config("second", &health("0 2 * * *")).await;
    let first = h.handle.run_now("first", None).await.unwrap();
    h.wait_for(&first.id, "running", |e| {
        e.status == ExecutionStatus::Running
    })
    .await;
    let second = h.handle.run_now("second", None).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let waiting = h.store.execution_get(&second.id).await.unwrap().unwrap();
    assert_eq!(
        waiting.status,
        ExecutionStatus::Queued,
        "one handler at a time"
    );
    assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
    gate.release.notify_one();
    h.wait_for(&second.id, "running", |e| {
        e.status == ExecutionStatus::Running
    })
    .await;
    assert_eq!(
        h.wait_final(&first.id).await.status,
        ExecutionStatus::Success
    );
    gate.release.notify_one();
    assert_eq!(
        h.wait_final(&second.id).await.status,
        ExecutionStatus::Success
    );
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
    h.stop().await;
}
