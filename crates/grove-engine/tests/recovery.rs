//! Leases and retention: a crashed process's attempts are abandoned and
//! retried; expired leases are found periodically; old executions go.

use std::sync::Arc;

use grove_store::{
    AttemptReason, ExecutionClaim, ExecutionInsert, ExecutionStatus, InsertDisposition, Trigger,
};
use jiff::SignedDuration;

use crate::support::*;

const T0: &str = "2026-03-01T12:00:00Z";

/// An execution claimed by another (dead) process at T0 + 1 h, lease
/// until 30 s later. It only becomes due at T0 + 1 h, so an engine whose
/// clock is earlier cannot claim it first.
async fn claimed_elsewhere(h: &Harness, id: &str) {
    let later = at(T0) + SignedDuration::from_hours(1);
    let p = health("0 2 * * *");
    h.insert_config("c", &p).await;
    h.store
        .execution_insert(ExecutionInsert {
            id: id.to_owned(),
            config_id: "c".to_owned(),
            trigger: Trigger::Manual,
            scheduled_for: None,
            due_at: None,
            late: false,
            payload: p.to_value(),
            config_version: 1,
            retry: p.retry,
            max_concurrent: 1,
            retry_of: None,
            parent_run_id: None,
            overrides: None,
            actor: None,
            disposition: InsertDisposition::Queue,
            now: later,
        })
        .await
        .unwrap();
    let claimed = h
        .store
        .execution_claim(ExecutionClaim {
            owner: "dead-process".to_owned(),
            now: later,
            lease_until: later + SignedDuration::from_secs(30),
            limit: 1,
            returned: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
}

#[tokio::test]
async fn attempts_left_running_by_a_killed_process_are_abandoned_at_start() {
    let mut h = Harness::new(T0).await;
    claimed_elsewhere(&h, "r1").await;
    // Restart (SQLite: one node) right away, lease not yet expired.
    h.start(uniform(Arc::new(Succeed::default())), settings());
    let e = h
        .wait_for("r1", "the abandoned attempt to be requeued", |e| {
            e.status == ExecutionStatus::Queued
        })
        .await;
    assert_eq!(e.attempts[0].reason, Some(AttemptReason::Abandoned));
    assert_eq!(e.available_at, at(T0) + SignedDuration::from_secs(60));
    h.advance(60);
    let e = h.wait_final("r1").await;
    assert_eq!(e.status, ExecutionStatus::Success);
    assert_eq!(e.attempts.len(), 2);
    h.stop().await;
}

#[tokio::test]
async fn expired_leases_are_rescued_while_running() {
    let h = Harness::started(uniform(Arc::new(Succeed::default())), T0).await;
    eventually("the engine to start", || async {
        h.handle.is_running().then_some(())
    })
    .await;
    // Let start-up rescue pass before the other "instance" claims.
    let warm = {
        h.insert_config("warm", &health("0 2 * * *")).await;
        h.handle.run_now("warm", None).await.unwrap()
    };
    h.wait_final(&warm.id).await;
    claimed_elsewhere(&h, "r2").await;
    h.advance(3600 + 29);
    h.advance(2);
    let e = h
        .wait_for("r2", "the expired lease to be rescued", |e| {
            e.status == ExecutionStatus::Queued
        })
        .await;
    assert_eq!(e.attempts[0].reason, Some(AttemptReason::Abandoned));
    h.advance(60);
    assert_eq!(h.wait_final("r2").await.status, ExecutionStatus::Success);
    h.stop().await;
}

#[tokio::test]
async fn retention_keeps_the_newest_executions_per_config() {
    let mut h = Harness::new(T0).await;
    let mut s = settings();
    s.retention_per_config = 3;
    h.start(uniform(Arc::new(Succeed::default())), s);
    h.insert_config("c", &health("0 2 * * *")).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        h.advance(1);
        let run = h.handle.run_now("c", None).await.unwrap();
        h.wait_final(&run.id).await;
        ids.push(run.id);
    }
    h.handle.tick();
    let left = eventually("pruning", || async {
        let list = h.executions("c").await;
        (list.len() == 3).then_some(list)
    })
    .await;
    let kept: Vec<_> = left.iter().rev().map(|e| e.id.clone()).collect();
    assert_eq!(kept, ids[2..]);
    h.stop().await;
}

#[tokio::test]
async fn shutdown_leaves_a_stuck_attempt_to_the_next_start() {
    let mut h = Harness::new(T0).await;
    h.start(uniform(Arc::new(Hang)), settings());
    h.insert_config("c", &health("0 2 * * *")).await;
    let run = h.handle.run_now("c", None).await.unwrap();
    h.wait_for(&run.id, "running", |e| e.status == ExecutionStatus::Running)
        .await;
    let store = h.store.clone();
    h.stop().await;
    let e = store.execution_get(&run.id).await.unwrap().unwrap();
    assert_eq!(e.status, ExecutionStatus::Running, "left for lease rescue");
}
