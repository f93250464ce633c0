use std::sync::Arc;

use grove_core::retry::{BackoffStrategy, RetryPolicy};
use grove_store::{
    AttemptHeartbeat, AttemptOutcome, AttemptReason, AttemptStatus, AuditAppend, AuditFilter,
    CancelOutcome, ClaimBatch, Counts, ExecutionClaim, ExecutionFinish, ExecutionInsert,
    ExecutionPrune, ExecutionStatus, InsertDisposition, InsertOutcome, LeaseRescue, LogInsert,
    LogLevel, Store, StoreError, Trigger,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::at;

/// One conformance test of this file for a factory.
#[macro_export]
macro_rules! executions_test {
    ($fresh:path, $name:ident) => {
        #[tokio::test]
        async fn $name() {
            $crate::conformance::run($fresh().await, $crate::conformance::executions::$name).await
        }
    };
}

#[macro_export]
macro_rules! executions_suite {
    ($fresh:path) => {
        mod executions {
            use super::*;
            $crate::executions_test!($fresh, slots_are_unique_and_advance_the_position);
            $crate::executions_test!($fresh, busy_slot_is_skipped_with_overlap);
            $crate::executions_test!($fresh, a_batch_of_many_configs_is_recorded_as_one_by_one);
            $crate::executions_test!(
                $fresh,
                inserts_of_one_config_in_a_batch_see_those_before_them
            );
            $crate::executions_test!($fresh, runs_and_their_audit_lines_commit_together);
            $crate::executions_test!($fresh, claim_respects_max_concurrent_and_due_time);
            $crate::executions_test!($fresh, a_claim_says_what_it_held_back_and_what_is_next);
            $crate::executions_test!(
                $fresh,
                runs_whose_handlers_returned_hold_no_place_and_make_no_overlap
            );
            $crate::executions_test!(
                $fresh,
                slots_start_at_insert_only_where_a_claim_would_take_them
            );
            $crate::executions_test!($fresh, failed_attempt_is_retried_after_the_policy_delay);
            $crate::executions_test!($fresh, success_and_partial_are_final);
            $crate::executions_test!($fresh, finish_by_a_stranger_is_lease_lost);
            $crate::executions_test!($fresh, heartbeat_renews_and_reports_cancel);
            $crate::executions_test!($fresh, cancel_queued_running_and_final);
            $crate::executions_test!($fresh, expired_leases_are_rescued);
            $crate::executions_test!($fresh, prune_keeps_newest_per_config);
            $crate::executions_test!($fresh, logs_are_listed_in_order);
            $crate::executions_test!($fresh, list_is_newest_first);
            $crate::executions_test!($fresh, backfilled_slots_meet_recorded_ones);
            $crate::executions_test!($fresh, chained_runs_start_once_with_the_end_of_their_parent);
            $crate::executions_test!($fresh, a_rescued_last_attempt_starts_on_failure_targets);
            $crate::executions_test!($fresh, finishes_are_recorded_in_one_batch_each_answered);
            $crate::executions_test!($fresh, outcome_records_merge_state_and_journal_together);
            $crate::executions_test!($fresh, finishes_record_the_outcomes_of_runs_that_ended);
        }
    };
}

fn t0() -> Timestamp {
    at("2026-03-01T02:00:00Z")
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

fn retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        backoff_strategy: BackoffStrategy::Exponential,
        initial_delay_seconds: 10,
        max_delay_seconds: 15,
    }
}

/// What the executor decides its next claim by: whether runs were left
/// behind their config's maxConcurrent, and when the next queued one is due.
pub async fn a_claim_says_what_it_held_back_and_what_is_next(store: Arc<dyn Store>) {
    let empty = store.execution_claim_batch(claim(t0(), 10)).await.unwrap();
    assert_eq!(empty, ClaimBatch::default(), "nothing queued");
    for id in ["a1", "a2"] {
        store
            .execution_insert(insert(id, "c1", None))
            .await
            .unwrap();
    }
    let mut later = insert("l1", "c2", None);
    later.due_at = Some(t0() + secs(90));
    store.execution_insert(later).await.unwrap();
    let mut sooner = insert("l2", "c3", None);
    sooner.due_at = Some(t0() + secs(60));
    store.execution_insert(sooner).await.unwrap();

    let first = store.execution_claim_batch(claim(t0(), 10)).await.unwrap();
    let ids: Vec<&str> = first
        .claimed
        .iter()
        .map(|c| c.execution.id.as_str())
        .collect();
    assert_eq!(ids, ["a1"]);
    assert!(first.held_back, "a2 waits for a1");
    assert_eq!(
        first.next_due,
        Some(t0() + secs(60)),
        "the earlier of l1 and l2"
    );

    store
        .execution_finish(finish("a1", 1, t0(), outcome(AttemptStatus::Success, None)))
        .await
        .unwrap();
    let second = store.execution_claim_batch(claim(t0(), 10)).await.unwrap();
    let ids: Vec<&str> = second
        .claimed
        .iter()
        .map(|c| c.execution.id.as_str())
        .collect();
    assert_eq!(ids, ["a2"]);
    assert!(!second.held_back, "nothing left behind");
    assert_eq!(second.next_due, Some(t0() + secs(60)));

    // A claim that takes its whole limit is followed by another at once:
    // no next due time.
    let at_l2 = store
        .execution_claim_batch(claim(t0() + secs(60), 1))
        .await
        .unwrap();
    assert_eq!(at_l2.claimed.len(), 1);
    assert_eq!(at_l2.next_due, None);
    let none_due = store
        .execution_claim_batch(claim(t0() + secs(60), 1))
        .await
        .unwrap();
    assert!(none_due.claimed.is_empty() && !none_due.held_back);
    assert_eq!(none_due.next_due, Some(t0() + secs(90)), "l1 is next");
}

/// Slots inserted with a start begin running in the insert's transaction,
/// leased as a claim leases them, but only those a claim would take first:
/// due, within the limit, and of a config with nothing else queued or
/// running; the rest are queued (or skipped) as without a start.
pub async fn slots_start_at_insert_only_where_a_claim_would_take_them(store: Arc<dyn Store>) {
    // c2 already has a run queued: its slot must wait behind it.
    store
        .execution_insert(insert("q", "c2", None))
        .await
        .unwrap();
    let slot = t0();
    let mut later = insert("later", "c3", Some(slot));
    later.due_at = Some(slot + secs(5));
    let mut busy = insert("busy", "c2", Some(slot));
    busy.disposition = InsertDisposition::SkipWhenBusy;
    let batch = vec![
        insert("s1", "c1", Some(slot)),
        busy,
        later,
        insert("s4", "c4", Some(slot)),
        insert("s5", "c5", Some(slot)),
    ];
    let out = store
        .execution_insert_starting(batch, claim(slot, 2))
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Started(c) => ("started", c.execution.id.as_str()),
            InsertOutcome::Queued(e) => ("queued", e.id.as_str()),
            InsertOutcome::Skipped(e) => ("skipped", e.id.as_str()),
            InsertOutcome::Duplicate => ("duplicate", ""),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("started", "s1"),
            ("skipped", "busy"),
            ("queued", "later"),
            ("started", "s4"),
            ("queued", "s5"),
        ],
        "s5 is past the limit of two"
    );
    let InsertOutcome::Started(started) = &out[0] else {
        unreachable!()
    };
    assert_eq!(started.attempt, 1);
    assert_eq!(started.execution.status, ExecutionStatus::Running);
    assert_eq!(started.execution.started_at, Some(slot));
    assert_eq!(
        started.execution.payload,
        json!({"jobType": "health-check"})
    );
    let stored = store.execution_get("s1").await.unwrap().unwrap();
    assert_eq!(stored.status, ExecutionStatus::Running);
    assert_eq!(stored.attempt_count, 1);
    assert_eq!(stored.attempts.len(), 1);
    assert_eq!(stored.attempts[0].status, AttemptStatus::Running);
    assert_eq!(stored.attempts[0].lease_owner.as_deref(), Some("me"));
    assert_eq!(stored.attempts[0].lease_expires_at, Some(slot + secs(30)));

    // A started run is one a claim no longer finds, and it finishes as a
    // claimed one does; the same slot again is a duplicate, not a start.
    let claimed = store.execution_claim(claim(slot, 10)).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|c| c.execution.id.as_str()).collect();
    assert_eq!(ids, ["q", "s5"]);
    let done = store
        .execution_finish(finish("s1", 1, slot, outcome(AttemptStatus::Success, None)))
        .await
        .unwrap();
    assert_eq!(done.status, ExecutionStatus::Success);
    let again = store
        .execution_insert_starting(vec![insert("s1b", "c1", Some(slot))], claim(slot, 2))
        .await
        .unwrap();
    assert_eq!(again, [InsertOutcome::Duplicate]);
    // Nothing to start with a limit of none.
    let none = store
        .execution_insert_starting(vec![insert("n", "c6", Some(slot))], claim(slot, 0))
        .await
        .unwrap();
    assert!(matches!(none[..], [InsertOutcome::Queued(_)]));
    let positions = store.slot_positions().await.unwrap();
    assert!(positions.iter().any(|p| p.config_id == "c4"));
}

pub fn insert(id: &str, config: &str, slot: Option<Timestamp>) -> ExecutionInsert {
    ExecutionInsert {
        id: id.to_owned(),
        config_id: config.to_owned(),
        trigger: if slot.is_some() {
            Trigger::Schedule
        } else {
            Trigger::Manual
        },
        scheduled_for: slot,
        due_at: None,
        late: false,
        payload: json!({"jobType": "health-check"}),
        config_version: 3,
        retry: retry(3),
        max_concurrent: 1,
        retry_of: None,
        parent_run_id: None,
        overrides: None,
        actor: None,
        disposition: InsertDisposition::Queue,
        now: slot.unwrap_or_else(t0),
    }
}

pub fn claim(now: Timestamp, limit: u32) -> ExecutionClaim {
    ExecutionClaim {
        owner: "me".to_owned(),
        now,
        lease_until: now + secs(30),
        limit,
        returned: Default::default(),
    }
}

pub fn outcome(status: AttemptStatus, reason: Option<AttemptReason>) -> AttemptOutcome {
    AttemptOutcome {
        status,
        reason,
        error: reason.map(|r| format!("went wrong: {r}")),
        counts: Counts {
            processed: 5,
            total: Some(5),
            succeeded: 4,
            failed: 1,
        },
        metadata: json!({"k": 1}),
    }
}

pub fn finish(id: &str, attempt: u32, now: Timestamp, o: AttemptOutcome) -> ExecutionFinish {
    ExecutionFinish {
        logs: Vec::new(),
        execution_id: id.to_owned(),
        attempt,
        owner: "me".to_owned(),
        now,
        outcome: o,
    }
}

pub async fn slots_are_unique_and_advance_the_position(store: Arc<dyn Store>) {
    let out = store
        .execution_insert_slots(vec![
            insert("e1", "c1", Some(t0())),
            insert("e2", "c1", Some(t0())),
            insert("e3", "c2", Some(t0())),
        ])
        .await
        .unwrap();
    assert!(matches!(&out[0], InsertOutcome::Queued(e) if e.status == ExecutionStatus::Queued));
    assert_eq!(out[1], InsertOutcome::Duplicate);
    assert!(matches!(&out[2], InsertOutcome::Queued(_)));
    // Manual runs have no slot and never collide.
    for id in ["m1", "m2"] {
        let out = store
            .execution_insert(insert(id, "c1", None))
            .await
            .unwrap();
        assert!(matches!(out, InsertOutcome::Queued(e) if e.trigger == Trigger::Manual));
    }
    let mut pos = store.slot_positions().await.unwrap();
    pos.sort_by(|a, b| a.config_id.cmp(&b.config_id));
    assert_eq!(pos.len(), 2);
    assert_eq!(pos[0].last_scheduled_for, t0());
    store
        .slot_position_advance("c1", t0() - secs(60))
        .await
        .unwrap();
    store
        .slot_position_advance("c2", t0() + secs(60))
        .await
        .unwrap();
    let mut pos = store.slot_positions().await.unwrap();
    pos.sort_by(|a, b| a.config_id.cmp(&b.config_id));
    assert_eq!(pos[0].last_scheduled_for, t0(), "never moves backward");
    assert_eq!(pos[1].last_scheduled_for, t0() + secs(60));
    let e = store.execution_get("e1").await.unwrap().unwrap();
    assert_eq!(e.scheduled_for, Some(t0()));
    assert_eq!(e.config_version, 3);
    assert_eq!(e.retry, retry(3));
}

pub async fn busy_slot_is_skipped_with_overlap(store: Arc<dyn Store>) {
    store
        .execution_insert_slots(vec![insert("e1", "c1", Some(t0()))])
        .await
        .unwrap();
    let mut next = insert("e2", "c1", Some(t0() + secs(60)));
    next.disposition = InsertDisposition::SkipWhenBusy;
    let out = store.execution_insert_slots(vec![next]).await.unwrap();
    match &out[0] {
        InsertOutcome::Skipped(e) => {
            assert_eq!(e.status, ExecutionStatus::Skipped);
            assert_eq!(e.reason.as_deref(), Some("overlap"));
            assert!(e.completed_at.is_some());
        }
        other => panic!("expected skipped, got {other:?}"),
    }
    let mut missed = insert("e3", "c2", Some(t0()));
    missed.disposition = InsertDisposition::Skip("missed".to_owned());
    let out = store.execution_insert_slots(vec![missed]).await.unwrap();
    assert!(matches!(&out[0], InsertOutcome::Skipped(e) if e.reason.as_deref() == Some("missed")));
    // Not busy: queued.
    let mut free = insert("e4", "c3", Some(t0()));
    free.disposition = InsertDisposition::SkipWhenBusy;
    let out = store.execution_insert_slots(vec![free]).await.unwrap();
    assert!(matches!(&out[0], InsertOutcome::Queued(_)));
}

/// A batch naming many configs (recorded with set-based statements) gives
/// each insert the outcome it would get alone: overlap, skip, duplicate
/// slot, queued with its due time; every slot advances its position.
pub async fn a_batch_of_many_configs_is_recorded_as_one_by_one(store: Arc<dyn Store>) {
    store
        .execution_insert(insert("busy-run", "busy", None))
        .await
        .unwrap();
    store
        .execution_insert_slots(vec![insert("old", "dup", Some(t0()))])
        .await
        .unwrap();
    let mut batch = Vec::new();
    let mut busy = insert("b", "busy", Some(t0()));
    busy.disposition = InsertDisposition::SkipWhenBusy;
    batch.push(busy);
    let mut missed = insert("m", "missed", Some(t0()));
    missed.disposition = InsertDisposition::Skip("missed".to_owned());
    batch.push(missed);
    batch.push(insert("d", "dup", Some(t0())));
    let mut free = insert("f", "free", Some(t0()));
    free.disposition = InsertDisposition::SkipWhenBusy;
    free.due_at = Some(t0() + secs(5));
    batch.push(free);
    batch.push(insert("manual", "hand", None));
    // More than one multi-row statement holds (1,000 rows each).
    for i in 0..1_050 {
        batch.push(insert(&format!("x{i}"), &format!("cfg-{i}"), Some(t0())));
    }
    let out = store.execution_insert_slots(batch).await.unwrap();
    assert_eq!(out.len(), 1_055);
    assert!(
        matches!(&out[0], InsertOutcome::Skipped(e) if e.id == "b" && e.reason.as_deref() == Some("overlap")),
        "{:?}",
        out[0]
    );
    assert!(
        matches!(&out[1], InsertOutcome::Skipped(e) if e.id == "m" && e.reason.as_deref() == Some("missed") && e.completed_at.is_some())
    );
    assert_eq!(out[2], InsertOutcome::Duplicate);
    let InsertOutcome::Queued(f) = &out[3] else {
        panic!("{:?}", out[3])
    };
    assert_eq!(f.id, "f");
    assert_eq!(f.due_at, Some(t0() + secs(5)));
    assert_eq!(f.available_at, t0() + secs(5));
    assert!(
        matches!(&out[4], InsertOutcome::Queued(e) if e.id == "manual" && e.trigger == Trigger::Manual)
    );
    for (i, o) in out[5..].iter().enumerate() {
        assert!(
            matches!(o, InsertOutcome::Queued(e) if e.id == format!("x{i}") && e.config_id == format!("cfg-{i}")),
            "{o:?}"
        );
    }
    assert!(store.execution_get("d").await.unwrap().is_none());
    let positions = store.slot_positions().await.unwrap();
    // busy, missed, dup, free and the 1,050; not the manual run.
    assert_eq!(positions.len(), 1_054);
    assert!(positions.iter().all(|p| p.last_scheduled_for == t0()));
}

/// A batch that names configs more than once (written in rounds) gives
/// each insert what it would get alone, in the batch's order: the second
/// of a config sees the first (its overlap, its slot).
pub async fn inserts_of_one_config_in_a_batch_see_those_before_them(store: Arc<dyn Store>) {
    let when_free = |id: &str, config: &str| {
        let mut p = insert(id, config, None);
        p.disposition = InsertDisposition::SkipWhenBusy;
        p
    };
    let batch = vec![
        when_free("r1", "rep"),
        insert("s1", "slot", Some(t0())),
        when_free("r2", "rep"),
        insert("o1", "other", None),
        insert("s2", "slot", Some(t0())),
        when_free("r3", "rep"),
        insert("s3", "slot", Some(t0() + secs(60))),
    ];
    let out = store.execution_insert_slots(batch).await.unwrap();
    let seen: Vec<String> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Queued(e) => format!("{} queued", e.id),
            InsertOutcome::Skipped(e) => {
                format!("{} {}", e.id, e.reason.as_deref().unwrap_or("skipped"))
            }
            InsertOutcome::Started(c) => format!("{} started", c.execution.id),
            InsertOutcome::Duplicate => "duplicate".to_owned(),
        })
        .collect();
    assert_eq!(
        seen,
        [
            "r1 queued",
            "s1 queued",
            "r2 overlap",
            "o1 queued",
            "duplicate",
            "r3 overlap",
            "s3 queued"
        ]
    );
    assert!(store.execution_get("s2").await.unwrap().is_none());
    let positions = store.slot_positions().await.unwrap();
    let slot = positions.iter().find(|p| p.config_id == "slot").unwrap();
    assert_eq!(slot.last_scheduled_for, t0() + secs(60));
}

pub async fn runs_and_their_audit_lines_commit_together(store: Arc<dyn Store>) {
    let line = |object: &str| AuditAppend {
        at: t0(),
        actor: Some("ada".to_owned()),
        token_id: None,
        client_addr: None,
        action: "run".to_owned(),
        object_type: Some("job-config".to_owned()),
        object_id: Some(object.to_owned()),
        version_before: None,
        version_after: Some(3),
    };
    // Two runs of one config in a batch are both queued, in order (on
    // PostgreSQL the batch and its lines are one statement).
    let out = store
        .execution_insert_audited(
            vec![
                insert("r1", "a", None),
                insert("r2", "b", None),
                insert("r3", "a", None),
            ],
            vec![line("a"), line("b"), line("a")],
        )
        .await
        .unwrap();
    let queued: Vec<&str> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Queued(e) => e.id.as_str(),
            other => panic!("not queued: {other:?}"),
        })
        .collect();
    assert_eq!(queued, ["r1", "r2", "r3"]);
    let stored = store.execution_get("r3").await.unwrap().expect("r3 stored");
    assert_eq!(
        (stored.config_id.as_str(), stored.status),
        ("a", ExecutionStatus::Queued)
    );
    let claimed = store.execution_claim(claim(t0(), 10)).await.unwrap();
    let mut ids: Vec<&str> = claimed.iter().map(|c| c.execution.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["r1", "r2"], "r3 waits for r1 (maxConcurrent 1)");
    let filter = AuditFilter {
        limit: 10,
        ..Default::default()
    };
    let trail: Vec<AuditAppend> = store
        .audit_list(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    assert_eq!(
        trail,
        [line("a"), line("b"), line("a")],
        "every line, newest first"
    );
}

pub async fn claim_respects_max_concurrent_and_due_time(store: Arc<dyn Store>) {
    for id in ["a1", "a2"] {
        store
            .execution_insert(insert(id, "c1", None))
            .await
            .unwrap();
    }
    let mut two = insert("b1", "c2", None);
    two.max_concurrent = 2;
    store.execution_insert(two.clone()).await.unwrap();
    two.id = "b2".to_owned();
    store.execution_insert(two).await.unwrap();
    // Not yet due.
    assert!(
        store
            .execution_claim(claim(t0() - secs(1), 10))
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = store.execution_claim(claim(t0(), 10)).await.unwrap();
    let mut ids: Vec<_> = claimed.iter().map(|c| c.execution.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["a1", "b1", "b2"]);
    assert!(claimed.iter().all(|c| c.attempt == 1
        && c.execution.status == ExecutionStatus::Running
        && c.execution.started_at == Some(t0())));
    // a2 waits for a1.
    assert!(
        store
            .execution_claim(claim(t0(), 10))
            .await
            .unwrap()
            .is_empty()
    );
    store
        .execution_finish(finish("a1", 1, t0(), outcome(AttemptStatus::Success, None)))
        .await
        .unwrap();
    let claimed = store.execution_claim(claim(t0(), 10)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].execution.id, "a2");
    // The limit caps a claim.
    for i in 0..5 {
        let mut e = insert(&format!("x{i}"), &format!("cx{i}"), None);
        e.max_concurrent = 1;
        store.execution_insert(e).await.unwrap();
    }
    assert_eq!(
        store.execution_claim(claim(t0(), 2)).await.unwrap().len(),
        2
    );
}

/// A run whose handler has returned, named in the claim's `returned`
/// while its end waits to be recorded, lets the next run of its config
/// be claimed, and a slot fired meanwhile neither overlaps nor waits: it
/// starts at its insert. Named under another config, or by nobody, it
/// still counts as running.
pub async fn runs_whose_handlers_returned_hold_no_place_and_make_no_overlap(store: Arc<dyn Store>) {
    for id in ["a1", "a2"] {
        store
            .execution_insert(insert(id, "c1", None))
            .await
            .unwrap();
    }
    let claimed = store.execution_claim(claim(t0(), 10)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].execution.id, "a1");
    let mut elsewhere = claim(t0(), 10);
    elsewhere
        .returned
        .insert("c2".to_owned(), vec!["a1".to_owned()]);
    assert!(
        store.execution_claim(elsewhere).await.unwrap().is_empty(),
        "a1 named under another config still holds c1's place"
    );
    let mut returned = claim(t0(), 10);
    returned
        .returned
        .insert("c1".to_owned(), vec!["a1".to_owned()]);
    let claimed = store.execution_claim(returned.clone()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].execution.id, "a2");
    // a1 and a2 are both running now; a slot of c1 overlaps a2 only.
    let mut slot = insert("s1", "c1", Some(t0()));
    slot.disposition = InsertDisposition::SkipWhenBusy;
    let out = store
        .execution_insert_starting(vec![slot.clone()], returned.clone())
        .await
        .unwrap();
    assert!(
        matches!(&out[0], InsertOutcome::Skipped(e) if e.reason.as_deref() == Some("overlap")),
        "{out:?}"
    );
    returned
        .returned
        .insert("c1".to_owned(), vec!["a1".to_owned(), "a2".to_owned()]);
    slot.id = "s2".to_owned();
    slot.scheduled_for = Some(t0() + secs(60));
    slot.now = t0() + secs(60);
    returned.now = t0() + secs(60);
    let out = store
        .execution_insert_starting(vec![slot], returned)
        .await
        .unwrap();
    match &out[0] {
        InsertOutcome::Started(c) => {
            assert_eq!(c.execution.id, "s2");
            assert_eq!(c.execution.status, ExecutionStatus::Running);
        }
        other => panic!("expected the slot to start, got {other:?}"),
    }
    // Their ends are recorded as usual.
    for id in ["a1", "a2"] {
        let e = store
            .execution_finish(finish(id, 1, t0(), outcome(AttemptStatus::Success, None)))
            .await
            .unwrap();
        assert_eq!(e.status, ExecutionStatus::Success);
    }
}

pub async fn failed_attempt_is_retried_after_the_policy_delay(store: Arc<dyn Store>) {
    store
        .execution_insert(insert("e1", "c1", None))
        .await
        .unwrap();
    let c = store.execution_claim(claim(t0(), 1)).await.unwrap();
    assert_eq!(c[0].attempt, 1);
    let failed = outcome(AttemptStatus::Failed, Some(AttemptReason::Error));
    let e = store
        .execution_finish(finish("e1", 1, t0(), failed.clone()))
        .await
        .unwrap();
    assert_eq!(e.status, ExecutionStatus::Queued);
    assert_eq!(e.available_at, t0() + secs(10), "delay_after(1) = initial");
    assert_eq!(
        store.execution_next_due(t0()).await.unwrap(),
        Some(t0() + secs(10))
    );
    assert!(
        store
            .execution_claim(claim(t0() + secs(9), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let t1 = t0() + secs(10);
    let c = store.execution_claim(claim(t1, 1)).await.unwrap();
    assert_eq!(c[0].attempt, 2);
    assert_eq!(c[0].execution.started_at, Some(t0()), "first start is kept");
    let e = store
        .execution_finish(finish("e1", 2, t1, failed.clone()))
        .await
        .unwrap();
    assert_eq!(e.available_at, t1 + secs(15), "20 s capped at max 15 s");
    let t2 = t1 + secs(15);
    store.execution_claim(claim(t2, 1)).await.unwrap();
    let e = store
        .execution_finish(finish("e1", 3, t2, failed))
        .await
        .unwrap();
    assert_eq!(e.status, ExecutionStatus::Failed, "3 of 3 attempts used");
    assert_eq!(e.completed_at, Some(t2));
    assert_eq!(e.error.as_deref(), Some("went wrong: error"));
    let e = store.execution_get("e1").await.unwrap().unwrap();
    assert_eq!(e.attempts.len(), 3);
    assert!(e.attempts.iter().all(|a| a.status == AttemptStatus::Failed
        && a.reason == Some(AttemptReason::Error)
        && a.completed_at.is_some()));
    assert_eq!(e.attempt_count, 3);
}

pub async fn success_and_partial_are_final(store: Arc<dyn Store>) {
    for id in ["s", "p"] {
        store
            .execution_insert(insert(id, &format!("c{id}"), None))
            .await
            .unwrap();
    }
    store.execution_claim(claim(t0(), 5)).await.unwrap();
    let s = store
        .execution_finish(finish(
            "s",
            1,
            t0() + secs(2),
            outcome(AttemptStatus::Success, None),
        ))
        .await
        .unwrap();
    assert_eq!(s.status, ExecutionStatus::Success);
    assert_eq!(s.counts.processed, 5);
    assert_eq!(s.metadata, json!({"k": 1}));
    let p = store
        .execution_finish(finish("p", 1, t0(), outcome(AttemptStatus::Partial, None)))
        .await
        .unwrap();
    assert_eq!(p.status, ExecutionStatus::Partial);
    assert_eq!(p.counts.failed, 1);
    assert_eq!(store.execution_next_due(t0()).await.unwrap(), None);
}

pub async fn finish_by_a_stranger_is_lease_lost(store: Arc<dyn Store>) {
    store
        .execution_insert(insert("e1", "c1", None))
        .await
        .unwrap();
    store.execution_claim(claim(t0(), 1)).await.unwrap();
    let mut f = finish("e1", 1, t0(), outcome(AttemptStatus::Success, None));
    f.owner = "someone-else".to_owned();
    assert!(matches!(
        store.execution_finish(f).await,
        Err(StoreError::LeaseLost)
    ));
    let f = finish("e1", 2, t0(), outcome(AttemptStatus::Success, None));
    assert!(matches!(
        store.execution_finish(f).await,
        Err(StoreError::LeaseLost)
    ));
}

pub async fn heartbeat_renews_and_reports_cancel(store: Arc<dyn Store>) {
    store
        .execution_insert(insert("e1", "c1", None))
        .await
        .unwrap();
    store.execution_claim(claim(t0(), 1)).await.unwrap();
    let hb = AttemptHeartbeat {
        execution_id: "e1".to_owned(),
        attempt: 1,
        owner: "me".to_owned(),
        now: t0() + secs(20),
        lease_until: t0() + secs(60),
        counts: Some(Counts {
            processed: 3,
            total: Some(10),
            succeeded: 3,
            failed: 0,
        }),
    };
    let reply = store.attempt_heartbeat(hb.clone()).await.unwrap();
    assert!(!reply.cancel_requested);
    // The renewed lease is not expired at +45 s.
    let rescued = store
        .lease_rescue(LeaseRescue {
            now: t0() + secs(45),
            all_running: false,
        })
        .await
        .unwrap();
    assert!(rescued.is_empty());
    let e = store.execution_get("e1").await.unwrap().unwrap();
    assert_eq!(e.counts.processed, 3);
    assert_eq!(e.counts.total, Some(10));
    assert!(matches!(
        store.execution_cancel("e1", t0()).await.unwrap(),
        CancelOutcome::Requested(_)
    ));
    assert!(
        store
            .attempt_heartbeat(hb.clone())
            .await
            .unwrap()
            .cancel_requested
    );
    let stranger = AttemptHeartbeat {
        owner: "other".to_owned(),
        ..hb
    };
    assert!(matches!(
        store.attempt_heartbeat(stranger).await,
        Err(StoreError::LeaseLost)
    ));
}

pub async fn cancel_queued_running_and_final(store: Arc<dyn Store>) {
    store
        .execution_insert(insert("q", "c1", None))
        .await
        .unwrap();
    match store.execution_cancel("q", t0()).await.unwrap() {
        CancelOutcome::Cancelled(e) => {
            assert_eq!(e.status, ExecutionStatus::Cancelled);
            assert_eq!(e.completed_at, Some(t0()));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.execution_cancel("q", t0()).await.unwrap(),
        CancelOutcome::AlreadyFinal(_)
    ));
    assert!(
        store
            .execution_claim(claim(t0(), 5))
            .await
            .unwrap()
            .is_empty()
    );
    store
        .execution_insert(insert("r", "c2", None))
        .await
        .unwrap();
    store.execution_claim(claim(t0(), 5)).await.unwrap();
    assert!(matches!(
        store.execution_cancel("r", t0()).await.unwrap(),
        CancelOutcome::Requested(_)
    ));
    // A failure after a cancel request ends the execution as cancelled, without retry.
    let e = store
        .execution_finish(finish(
            "r",
            1,
            t0(),
            outcome(AttemptStatus::Failed, Some(AttemptReason::Error)),
        ))
        .await
        .unwrap();
    assert_eq!(e.status, ExecutionStatus::Cancelled);
    assert!(matches!(
        store.execution_cancel("nope", t0()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn expired_leases_are_rescued(store: Arc<dyn Store>) {
    let mut once = insert("once", "c1", None);
    once.retry = retry(1);
    store.execution_insert(once).await.unwrap();
    store
        .execution_insert(insert("again", "c2", None))
        .await
        .unwrap();
    store.execution_claim(claim(t0(), 5)).await.unwrap();
    // Lease runs to t0 + 30 s.
    let none = store
        .lease_rescue(LeaseRescue {
            now: t0() + secs(29),
            all_running: false,
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    let now = t0() + secs(31);
    let mut rescued = store
        .lease_rescue(LeaseRescue {
            now,
            all_running: false,
        })
        .await
        .unwrap();
    rescued.sort_by(|a, b| a.execution.id.cmp(&b.execution.id));
    assert_eq!(rescued.len(), 2);
    assert_eq!(rescued[0].execution.id, "again");
    assert_eq!(rescued[0].execution.status, ExecutionStatus::Queued);
    assert_eq!(rescued[0].execution.available_at, now + secs(10));
    assert_eq!(rescued[1].execution.status, ExecutionStatus::Failed);
    let e = store.execution_get("once").await.unwrap().unwrap();
    assert_eq!(e.attempts[0].reason, Some(AttemptReason::Abandoned));
    assert_eq!(e.attempts[0].status, AttemptStatus::Failed);
    // At start-up on one node, every running attempt is abandoned.
    store
        .execution_claim(claim(now + secs(10), 5))
        .await
        .unwrap();
    let all = store
        .lease_rescue(LeaseRescue {
            now: now + secs(10),
            all_running: true,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].attempt, 2);
}

pub async fn prune_keeps_newest_per_config(store: Arc<dyn Store>) {
    for i in 0..5i64 {
        let mut e = insert(&format!("a{i}"), "c1", Some(t0() + secs(i)));
        e.disposition = InsertDisposition::Skip("missed".to_owned());
        store.execution_insert_slots(vec![e]).await.unwrap();
    }
    // A queued one is never pruned, whatever its age.
    let mut q = insert("q", "c2", None);
    q.now = t0() - secs(100);
    store.execution_insert(q).await.unwrap();
    store
        .execution_insert(insert("b", "c2", None))
        .await
        .unwrap();
    store
        .log_append(vec![LogInsert {
            execution_id: "a0".to_owned(),
            attempt: 1,
            at: t0(),
            level: LogLevel::Info,
            message: "old".to_owned(),
        }])
        .await
        .unwrap();
    let n = store
        .execution_prune(ExecutionPrune {
            keep_per_config: 2,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(n, 3);
    let left: Vec<_> = store
        .execution_list("c1", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, ["a4", "a3"]);
    assert_eq!(store.execution_list("c2", 10).await.unwrap().len(), 2);
    assert!(store.log_list("a0", 0, 10).await.unwrap().is_empty());
}

pub async fn logs_are_listed_in_order(store: Arc<dyn Store>) {
    store
        .execution_insert(insert("e1", "c1", None))
        .await
        .unwrap();
    let line = |m: &str, level| LogInsert {
        execution_id: "e1".to_owned(),
        attempt: 1,
        at: t0(),
        level,
        message: m.to_owned(),
    };
    store
        .log_append(vec![
            line("one", LogLevel::Info),
            line("two", LogLevel::Warn),
        ])
        .await
        .unwrap();
    store
        .log_append(vec![line("three", LogLevel::Error)])
        .await
        .unwrap();
    let all = store.log_list("e1", 0, 100).await.unwrap();
    let msgs: Vec<_> = all.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(msgs, ["one", "two", "three"]);
    assert_eq!(all[1].level, LogLevel::Warn);
    let rest = store.log_list("e1", all[0].seq, 100).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(store.log_list("e1", 0, 1).await.unwrap().len(), 1);
}

pub async fn list_is_newest_first(store: Arc<dyn Store>) {
    for i in 0..3i64 {
        let mut e = insert(&format!("e{i}"), "c1", None);
        e.now = t0() + secs(i);
        store.execution_insert(e).await.unwrap();
    }
    store
        .execution_insert(insert("other", "c2", None))
        .await
        .unwrap();
    let ids: Vec<_> = store
        .execution_list("c1", 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["e2", "e1"]);
    assert!(store.execution_get("missing").await.unwrap().is_none());
}

/// A job config `id` whose schedule is `enabled` or not.
async fn job_config(store: &Arc<dyn Store>, id: &str, enabled: bool) {
    use grove_core::job_config::{JobConfigPayload, JobType};
    let mut p = JobConfigPayload::default_for(JobType::HealthCheck);
    p.schedule.is_enabled = enabled;
    store
        .object_insert(grove_store::ObjectInsert {
            object_type: grove_core::registry::JOB_CONFIG.to_owned(),
            id: id.to_owned(),
            title: id.to_owned(),
            description: None,
            tags: vec![],
            payload: p.to_value(),
            actor: None,
            now: t0(),
        })
        .await
        .unwrap();
}

/// A slot fired by the scheduler and the same slot backfilled are one
/// execution; a backfill keeps its overrides.
pub async fn backfilled_slots_meet_recorded_ones(store: Arc<dyn Store>) {
    let slot = t0() - secs(3600);
    store
        .execution_insert(insert("s1", "c1", Some(slot)))
        .await
        .unwrap();
    let mut b1 = insert("b1", "c1", Some(slot));
    b1.trigger = Trigger::Backfill;
    let mut b2 = insert("b2", "c1", Some(slot - secs(3600)));
    b2.trigger = Trigger::Backfill;
    b2.overrides = Some(json!({"limits": {"batchSize": 7}}));
    let out = store.execution_insert_slots(vec![b1, b2]).await.unwrap();
    assert_eq!(out[0], InsertOutcome::Duplicate);
    let InsertOutcome::Queued(e) = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(e.trigger, Trigger::Backfill);
    assert_eq!(e.scheduled_for, Some(slot - secs(3600)));
    let read = store.execution_get("b2").await.unwrap().unwrap();
    assert_eq!(read.overrides, Some(json!({"limits": {"batchSize": 7}})));
    assert_eq!(
        store.execution_get("s1").await.unwrap().unwrap().overrides,
        None
    );
}

/// A run that ends starts the jobs its snapshot chains to, in the same
/// transaction: once per target and parent, with the parent's slot; a
/// disabled target is recorded as skipped; a failed attempt that will be
/// retried starts nothing yet.
pub async fn chained_runs_start_once_with_the_end_of_their_parent(store: Arc<dyn Store>) {
    job_config(&store, "after", true).await;
    job_config(&store, "off", false).await;
    job_config(&store, "alarm", true).await;
    let slot = t0() - secs(60);
    let mut parent = insert("p1", "report", Some(slot));
    parent.payload = json!({"jobType": "health-check",
        "triggers": {"onSuccess": ["after", "off", "deleted"], "onFailure": ["alarm"]}});
    parent.retry = retry(2);
    store.execution_insert(parent).await.unwrap();
    // Attempt 1 fails: retried later, nothing chained.
    store.execution_claim(claim(t0(), 5)).await.unwrap();
    let e = store
        .execution_finish(finish(
            "p1",
            1,
            t0(),
            outcome(AttemptStatus::Failed, Some(AttemptReason::Error)),
        ))
        .await
        .unwrap();
    assert_eq!(e.status, ExecutionStatus::Queued);
    for target in ["after", "off", "alarm"] {
        assert!(store.execution_list(target, 10).await.unwrap().is_empty());
    }
    // Attempt 2 succeeds: onSuccess targets start.
    store
        .execution_claim(claim(t0() + secs(3600), 5))
        .await
        .unwrap();
    let done = store
        .execution_finish(finish(
            "p1",
            2,
            t0() + secs(3600),
            outcome(AttemptStatus::Success, None),
        ))
        .await
        .unwrap();
    assert_eq!(done.status, ExecutionStatus::Success);
    let after = store.execution_list("after", 10).await.unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].trigger, Trigger::Chain);
    assert_eq!(after[0].status, ExecutionStatus::Queued);
    assert_eq!(after[0].parent_run_id.as_deref(), Some("p1"));
    assert_eq!(after[0].scheduled_for, Some(slot), "the parent's slot");
    let off = store.execution_list("off", 10).await.unwrap();
    assert_eq!(off.len(), 1);
    assert_eq!(off[0].status, ExecutionStatus::Skipped);
    assert_eq!(off[0].reason.as_deref(), Some("disabled"));
    assert!(store.execution_list("alarm", 10).await.unwrap().is_empty());
    // The chained run does not take the target's own slot: its scheduler
    // can still fire that instant.
    let own = store
        .execution_insert(insert("own", "after", Some(slot)))
        .await
        .unwrap();
    assert!(matches!(own, InsertOutcome::Queued(_)), "{own:?}");
    // The same parent cannot start a target twice.
    let mut again = insert("again", "after", Some(slot));
    again.trigger = Trigger::Chain;
    again.parent_run_id = Some("p1".to_owned());
    assert_eq!(
        store.execution_insert(again).await.unwrap(),
        InsertOutcome::Duplicate
    );
}

/// A last attempt whose worker vanished fails on rescue, and that failure
/// starts the onFailure targets like any other.
pub async fn a_rescued_last_attempt_starts_on_failure_targets(store: Arc<dyn Store>) {
    job_config(&store, "alarm", true).await;
    let mut parent = insert("p1", "report", None);
    parent.payload = json!({"jobType": "health-check", "triggers": {"onFailure": ["alarm"]}});
    parent.retry = retry(1);
    store.execution_insert(parent).await.unwrap();
    store.execution_claim(claim(t0(), 5)).await.unwrap();
    let rescued = store
        .lease_rescue(LeaseRescue {
            now: t0() + secs(31),
            all_running: false,
        })
        .await
        .unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].execution.status, ExecutionStatus::Failed);
    let alarm = store.execution_list("alarm", 10).await.unwrap();
    assert_eq!(alarm.len(), 1, "{alarm:?}");
    assert_eq!(alarm[0].parent_run_id.as_deref(), Some("p1"));
    assert_eq!(alarm[0].scheduled_for, None);
}

/// Many outcomes in one transaction with their last log lines: each gets
/// its own answer, a lost lease and a repeated finish among them
/// included, and every line is stored.
pub async fn finishes_are_recorded_in_one_batch_each_answered(store: Arc<dyn Store>) {
    for id in ["a", "b", "c"] {
        store
            .execution_insert(insert(id, &format!("c-{id}"), None))
            .await
            .unwrap();
    }
    assert_eq!(
        store.execution_claim(claim(t0(), 5)).await.unwrap().len(),
        3
    );
    let line = |id: &str| LogInsert {
        execution_id: id.to_owned(),
        attempt: 1,
        at: t0(),
        level: LogLevel::Info,
        message: format!("last words of {id}"),
    };
    let mut a = finish(
        "a",
        1,
        t0() + secs(1),
        outcome(AttemptStatus::Success, None),
    );
    a.logs = vec![line("a")];
    let mut stranger = finish(
        "b",
        1,
        t0() + secs(1),
        outcome(AttemptStatus::Success, None),
    );
    stranger.owner = "someone else".to_owned();
    stranger.logs = vec![line("b")];
    let mut c = finish(
        "c",
        1,
        t0() + secs(1),
        outcome(AttemptStatus::Failed, Some(AttemptReason::Error)),
    );
    c.logs = vec![line("c")];
    // The same attempt finished twice in one batch: the second finds it
    // ended (as it would in a later transaction).
    let again = finish(
        "a",
        1,
        t0() + secs(2),
        outcome(AttemptStatus::Failed, Some(AttemptReason::Error)),
    );
    let answers = store
        .execution_finish_many(vec![a, stranger, c, again])
        .await
        .unwrap();
    assert_eq!(answers.len(), 4);
    assert!(
        matches!(answers[3], Err(StoreError::LeaseLost)),
        "{:?}",
        answers[3]
    );
    assert_eq!(
        store.execution_get("a").await.unwrap().unwrap().status,
        ExecutionStatus::Success,
        "the repeated finish changed nothing"
    );
    assert_eq!(
        answers[0].as_ref().unwrap().status,
        ExecutionStatus::Success
    );
    assert!(
        matches!(answers[1], Err(StoreError::LeaseLost)),
        "{:?}",
        answers[1]
    );
    assert_eq!(
        answers[2].as_ref().unwrap().status,
        ExecutionStatus::Queued,
        "retried"
    );
    assert_eq!(
        store.execution_get("b").await.unwrap().unwrap().status,
        ExecutionStatus::Running
    );
    // c's failed attempt ended; its retry is queued as attempt 2.
    let c = store
        .execution_claim(claim(t0() + secs(60), 5))
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].execution.id.as_str(), c[0].attempt), ("c", 2));
    for id in ["a", "b", "c"] {
        let logs = store.log_list(id, 0, 10).await.unwrap();
        assert_eq!(logs.len(), 1, "{id}: {logs:?}");
        assert_eq!(logs[0].message, format!("last words of {id}"));
    }
}

/// Finishes with the outcomes of the runs they end, in one transaction:
/// a run that ended has its record written and answered (`None` for a
/// config that is not stored), a run queued again for a retry has none,
/// a lost lease writes nothing.
pub async fn finishes_record_the_outcomes_of_runs_that_ended(store: Arc<dyn Store>) {
    use grove_store::{FailureStreak, JournalAppend, OutcomeRecord};
    job_config(&store, "kept", true).await;
    for (id, config) in [
        ("r1", "kept"),
        ("r2", "c-r2"),
        ("r3", "unstored"),
        ("r4", "c-r4"),
    ] {
        store
            .execution_insert(insert(id, config, None))
            .await
            .unwrap();
    }
    assert_eq!(
        store.execution_claim(claim(t0(), 5)).await.unwrap().len(),
        4
    );
    let done = |id: &str, status| finish(id, 1, t0() + secs(1), outcome(status, None));
    let mut stranger = done("r4", AttemptStatus::Success);
    stranger.owner = "someone else".to_owned();
    let outcome_of = |e: &grove_store::Execution| {
        e.status.is_final().then(|| OutcomeRecord {
            config_id: e.config_id.clone(),
            state: serde_json::Map::from_iter([(
                "lastExecution".to_owned(),
                json!({"runId": e.id}),
            )]),
            streak: FailureStreak::Reset,
            journal: Some(JournalAppend {
                event_type: "job.succeeded".to_owned(),
                at: t0(),
                subject: e.config_id.clone(),
                message: format!("{} ended", e.id),
                data: json!({}),
            }),
        })
    };
    let answers = store
        .execution_finish_recorded(
            vec![
                done("r1", AttemptStatus::Success),
                finish(
                    "r2",
                    1,
                    t0() + secs(1),
                    outcome(AttemptStatus::Failed, Some(AttemptReason::Error)),
                ),
                done("r3", AttemptStatus::Success),
                stranger,
            ],
            &outcome_of,
        )
        .await
        .unwrap();
    let seen: Vec<_> = answers
        .iter()
        .map(|a| a.as_ref().map(|f| (f.execution.status, f.outcome)))
        .collect();
    assert!(
        matches!(
            seen.as_slice(),
            [
                Ok((ExecutionStatus::Success, Some(Some(0)))),
                Ok((ExecutionStatus::Queued, None)),
                Ok((ExecutionStatus::Success, Some(None))),
                Err(StoreError::LeaseLost),
            ]
        ),
        "{seen:?}"
    );
    let kept = store
        .object_get(grove_core::registry::JOB_CONFIG, "kept")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.payload["lastExecution"],
        json!({"runId": "r1", "consecutiveFailures": 0})
    );
    let journal = store
        .journal_since(0, &["job.succeeded".to_owned()], 10)
        .await
        .unwrap();
    let messages: Vec<&str> = journal.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["r1 ended", "r3 ended"]);
    assert_eq!(
        store.execution_get("r4").await.unwrap().unwrap().status,
        ExecutionStatus::Running,
        "the stranger's finish wrote nothing"
    );
}

/// A batch of outcome records merges each config's state and appends the
/// journal entries, in order; consecutive failures are counted from the
/// stored count, record after record; a config deleted since is passed
/// over, the batch goes on.
pub async fn outcome_records_merge_state_and_journal_together(store: Arc<dyn Store>) {
    use grove_store::{FailureStreak, JournalAppend, OutcomeRecord};
    job_config(&store, "a", true).await;
    job_config(&store, "b", true).await;
    let record = |id: &str, n: u64, streak: FailureStreak| OutcomeRecord {
        config_id: id.to_owned(),
        state: serde_json::Map::from_iter([("lastExecution".to_owned(), json!({"n": n}))]),
        streak,
        journal: Some(JournalAppend {
            event_type: "job.succeeded".to_owned(),
            at: t0(),
            subject: id.to_owned(),
            message: format!("{id} {n}"),
            data: json!({"n": n}),
        }),
    };
    let answers = store
        .outcomes_record(vec![
            record("a", 1, FailureStreak::Extend),
            record("gone", 2, FailureStreak::Extend),
            record("b", 3, FailureStreak::Keep),
            record("a", 4, FailureStreak::Extend),
        ])
        .await
        .unwrap();
    assert_eq!(answers, vec![Some(1), None, Some(0), Some(2)]);
    let a = store
        .object_get(grove_core::registry::JOB_CONFIG, "a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.payload["lastExecution"],
        json!({"n": 4, "consecutiveFailures": 2}),
        "the later record wins, counting both failures"
    );
    let b = store
        .object_get(grove_core::registry::JOB_CONFIG, "b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        b.payload["lastExecution"],
        json!({"n": 3, "consecutiveFailures": 0})
    );
    let journal = store
        .journal_since(0, &["job.succeeded".to_owned()], 10)
        .await
        .unwrap();
    let messages: Vec<&str> = journal.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["a 1", "gone 2", "b 3", "a 4"]);
    // Kept, then reset.
    let answers = store
        .outcomes_record(vec![
            record("a", 5, FailureStreak::Keep),
            record("a", 6, FailureStreak::Reset),
        ])
        .await
        .unwrap();
    assert_eq!(answers, vec![Some(2), Some(0)]);
}
