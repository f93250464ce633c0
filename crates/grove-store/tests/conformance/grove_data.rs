use std::sync::Arc;

use grove_core::job_config::SignalPeriod;
use grove_store::demo::{self, DemoSize};
use grove_store::{
    AdvancementApply, AdvancementCandidate, AdvancementEventFilter, AggregateIncrement,
    AggregateRebuildRange, AggregateStatus, ArchiveEntity, ArchiveOrphans, JournalAppend,
    JournalFilter, Notification, OrphanQuery, SignalInsert, SignalOutcome, SproutPage,
    SproutUpsert, Store, UpsertOutcome,
};
use jiff::Timestamp;
use serde_json::json;

use super::at;

#[macro_export]
macro_rules! grove_data_suite {
    ($fresh:path) => {
        mod grove_data {
            use super::*;
            #[tokio::test]
            async fn sprouts_upsert_report_outcomes() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::sprouts_upsert_report_outcomes,
                )
                .await
            }
            #[tokio::test]
            async fn signals_dedupe_and_reject_unknown_sprouts() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::signals_dedupe_and_reject_unknown_sprouts,
                )
                .await
            }
            #[tokio::test]
            async fn aggregates_rebuild_in_ranges_and_increment() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::aggregates_rebuild_in_ranges_and_increment,
                )
                .await
            }
            #[tokio::test]
            async fn advancement_pages_filter_tiers_and_carry_counts() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::advancement_pages_filter_tiers_and_carry_counts,
                )
                .await
            }
            #[tokio::test]
            async fn advancement_applies_once_per_run_and_rule() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::advancement_applies_once_per_run_and_rule,
                )
                .await
            }
            #[tokio::test]
            async fn journal_cursor_and_outbox() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::journal_cursor_and_outbox,
                )
                .await
            }
            #[tokio::test]
            async fn journal_lists_newest_first_by_type_and_subject() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::journal_lists_newest_first_by_type_and_subject,
                )
                .await
            }
            #[tokio::test]
            async fn executions_of_deleted_configs_archive_and_restore() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::executions_of_deleted_configs_archive_and_restore,
                )
                .await
            }
            #[tokio::test]
            async fn job_config_changes_are_journaled() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::job_config_changes_are_journaled,
                )
                .await
            }
            #[tokio::test]
            async fn orphans_archive_and_restore() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::orphans_archive_and_restore,
                )
                .await
            }
            #[tokio::test]
            async fn demo_dataset_is_deterministic() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::demo_dataset_is_deterministic,
                )
                .await
            }
            #[tokio::test]
            async fn empty_tables_answer_empty() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::grove_data::empty_tables_answer_empty,
                )
                .await
            }
        }
    };
}

pub fn sprout(id: &str, tier: &str) -> SproutUpsert {
    SproutUpsert {
        id: id.to_owned(),
        title: format!("Sprout {id}"),
        tier: tier.to_owned(),
        parent_id: None,
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

pub fn signal(id: &str, sprout_id: &str, kind: &str, when: &str) -> SignalInsert {
    SignalInsert {
        id: id.to_owned(),
        sprout_id: sprout_id.to_owned(),
        kind: kind.to_owned(),
        at: at(when),
        value: None,
    }
}

fn now() -> Timestamp {
    at("2026-03-31T00:00:00Z")
}

pub async fn sprouts_upsert_report_outcomes(store: Arc<dyn Store>) {
    let out = store
        .sprout_upsert_batch(vec![sprout("a", "seed"), sprout("b", "tree")], now())
        .await
        .unwrap();
    assert_eq!(out, vec![UpsertOutcome::Created, UpsertOutcome::Created]);
    let mut changed = sprout("a", "sprout");
    changed.created_at = at("2020-01-01T00:00:00Z");
    let out = store
        .sprout_upsert_batch(vec![changed, sprout("b", "tree")], now())
        .await
        .unwrap();
    assert_eq!(out, vec![UpsertOutcome::Updated, UpsertOutcome::Unchanged]);
    let a = store.sprout_get("a").await.unwrap().unwrap();
    assert_eq!(a.tier, "sprout");
    assert_eq!(
        a.created_at,
        at("2026-01-01T00:00:00Z"),
        "created_at is kept"
    );
    assert!(!a.archived);
    assert_eq!(store.sprout_get("zz").await.unwrap(), None);
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 2);
    assert_eq!(store.sprout_count(&["tree".to_owned()]).await.unwrap(), 1);
}

pub async fn signals_dedupe_and_reject_unknown_sprouts(store: Arc<dyn Store>) {
    store
        .sprout_upsert_batch(vec![sprout("a", "seed")], now())
        .await
        .unwrap();
    let out = store
        .signal_insert_batch(
            vec![
                signal("1", "a", "retrieval", "2026-03-01T00:00:00Z"),
                signal("2", "ghost", "retrieval", "2026-03-01T00:00:00Z"),
                signal("1", "a", "retrieval", "2026-03-01T00:00:00Z"),
                signal("3", "a", "citation", "2026-03-02T00:00:00Z"),
            ],
            now(),
        )
        .await
        .unwrap();
    use SignalOutcome::*;
    assert_eq!(out, vec![Accepted, UnknownSprout, Duplicate, Accepted]);
    let again = store
        .signal_insert_batch(
            vec![signal("3", "a", "citation", "2026-03-02T00:00:00Z")],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(again, vec![Duplicate], "a retried upload is counted once");
    assert_eq!(store.signal_count().await.unwrap(), 2);
    // Sequence numbers only grow (PostgreSQL may skip some on conflicts).
    assert!(store.signal_max_seq().await.unwrap() >= 2);
}

async fn rebuild(store: &Arc<dyn Store>, period: SignalPeriod, limit: u32, run: &str) -> u64 {
    let max_seq = store.signal_max_seq().await.unwrap();
    let mut after = None;
    let mut signals = 0;
    loop {
        let r = store
            .aggregate_rebuild_range(AggregateRebuildRange {
                period,
                window_start: period.window_start(now()),
                window_end: None,
                after_sprout: after.clone(),
                limit,
                max_seq,
                run_id: run.to_owned(),
                now: now(),
            })
            .await
            .unwrap();
        signals += r.signals;
        match r.last_sprout {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    signals
}

pub async fn aggregates_rebuild_in_ranges_and_increment(store: Arc<dyn Store>) {
    store
        .sprout_upsert_batch(
            vec![
                sprout("a", "seed"),
                sprout("b", "seed"),
                sprout("c", "seed"),
            ],
            now(),
        )
        .await
        .unwrap();
    store
        .signal_insert_batch(
            vec![
                signal("1", "a", "retrieval", "2026-03-30T00:00:00Z"),
                signal("2", "a", "retrieval", "2026-01-01T00:00:00Z"),
                signal("3", "b", "citation", "2026-03-29T00:00:00Z"),
                signal("4", "c", "view", "2026-03-10T00:00:00Z"),
            ],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(rebuild(&store, SignalPeriod::AllTime, 2, "r1").await, 4);
    assert_eq!(rebuild(&store, SignalPeriod::Last7d, 1, "r1").await, 2);
    let a = store.aggregate_get("a").await.unwrap();
    let all_time: Vec<_> = a
        .iter()
        .filter(|x| x.period == SignalPeriod::AllTime)
        .collect();
    assert_eq!(all_time.len(), 1);
    assert_eq!(all_time[0].count, 2);
    assert_eq!(all_time[0].last_seen, at("2026-03-30T00:00:00Z"));
    assert_eq!(all_time[0].run_id, "r1");
    let week: Vec<_> = a
        .iter()
        .filter(|x| x.period == SignalPeriod::Last7d)
        .collect();
    assert_eq!(week[0].count, 1);

    store
        .aggregate_status_set(AggregateStatus {
            period: SignalPeriod::AllTime,
            watermark: 4,
            window_start: None,
            run_id: "r1".to_owned(),
            computed_at: now(),
        })
        .await
        .unwrap();
    store
        .signal_insert_batch(
            vec![
                signal("5", "a", "retrieval", "2026-03-30T12:00:00Z"),
                signal("6", "b", "upvote", "2026-03-30T12:00:00Z"),
            ],
            now(),
        )
        .await
        .unwrap();
    let added = store
        .aggregate_increment(AggregateIncrement {
            after_seq: 4,
            max_seq: 6,
            run_id: "r2".to_owned(),
            now: now(),
        })
        .await
        .unwrap();
    assert_eq!(added, 2);
    let a = store.aggregate_get("a").await.unwrap();
    let ret = a
        .iter()
        .find(|x| x.period == SignalPeriod::AllTime)
        .unwrap();
    assert_eq!((ret.count, ret.run_id.as_str()), (3, "r2"));
    assert_eq!(ret.last_seen, at("2026-03-30T12:00:00Z"));
    let status = store
        .aggregate_status(SignalPeriod::AllTime)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.watermark, 4);
    store
        .aggregate_status_clear(SignalPeriod::AllTime)
        .await
        .unwrap();
    assert_eq!(
        store.aggregate_status(SignalPeriod::AllTime).await.unwrap(),
        None
    );
    // A full rebuild agrees with the increments.
    assert_eq!(rebuild(&store, SignalPeriod::AllTime, 100, "r3").await, 6);
    let a = store.aggregate_get("a").await.unwrap();
    let ret = a
        .iter()
        .find(|x| x.period == SignalPeriod::AllTime)
        .unwrap();
    assert_eq!(ret.count, 3);
}

pub async fn advancement_pages_filter_tiers_and_carry_counts(store: Arc<dyn Store>) {
    store
        .sprout_upsert_batch(
            vec![
                sprout("a", "seed"),
                sprout("b", "tree"),
                sprout("c", "seed"),
                sprout("d", "seed"),
            ],
            now(),
        )
        .await
        .unwrap();
    store
        .signal_insert_batch(
            vec![
                signal("1", "a", "retrieval", "2026-03-30T00:00:00Z"),
                signal("2", "a", "citation", "2026-03-30T00:00:00Z"),
                signal("3", "c", "retrieval", "2026-03-30T00:00:00Z"),
            ],
            now(),
        )
        .await
        .unwrap();
    rebuild(&store, SignalPeriod::AllTime, 10, "r").await;
    let page = |after: Option<&str>| SproutPage {
        period: SignalPeriod::AllTime,
        tiers: vec!["seed".to_owned()],
        after_id: after.map(str::to_owned),
        limit: 2,
        kinds: vec![],
    };
    let p1 = store.sprout_page_for_advancement(page(None)).await.unwrap();
    assert_eq!(
        p1.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec!["a", "c"]
    );
    assert_eq!(p1[0].counts.get("retrieval"), Some(&1));
    assert_eq!(p1[0].counts.get("citation"), Some(&1));
    let p2 = store
        .sprout_page_for_advancement(page(Some("c")))
        .await
        .unwrap();
    assert_eq!(p2.len(), 1);
    assert_eq!(p2[0].id, "d");
    assert!(p2[0].counts.is_empty());
    let all = store
        .sprout_page_for_advancement(SproutPage {
            tiers: vec![],
            limit: 10,
            ..page(None)
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    let only = store
        .sprout_page_for_advancement(SproutPage {
            kinds: vec!["citation".to_owned()],
            ..page(None)
        })
        .await
        .unwrap();
    assert_eq!(only[0].id, "a");
    assert_eq!(only[0].counts.len(), 1);
    assert_eq!(only[0].counts.get("citation"), Some(&1));
    assert_eq!(
        only[1].id, "c",
        "sprouts without those kinds are still listed"
    );
    assert!(only[1].counts.is_empty());
}

fn candidate(sprout: &str, from: &str, to: &str, rule: &str) -> AdvancementCandidate {
    AdvancementCandidate {
        sprout_id: sprout.to_owned(),
        from_tier: from.to_owned(),
        to_tier: to.to_owned(),
        rule_id: rule.to_owned(),
        signals: json!([{"signal": "retrievals", "value": 12}]),
    }
}

pub async fn advancement_applies_once_per_run_and_rule(store: Arc<dyn Store>) {
    store
        .sprout_upsert_batch(vec![sprout("a", "seed"), sprout("b", "seed")], now())
        .await
        .unwrap();
    let apply = |run: &str, dry: bool, items| AdvancementApply {
        run_id: run.to_owned(),
        dry_run: dry,
        at: now(),
        items,
    };
    // Dry run: events marked, no tier changes.
    let out = store
        .advancement_apply(apply(
            "dry",
            true,
            vec![candidate("a", "seed", "sprout", "r1")],
        ))
        .await
        .unwrap();
    assert_eq!(out, vec![true]);
    assert_eq!(store.sprout_get("a").await.unwrap().unwrap().tier, "seed");

    let out = store
        .advancement_apply(apply(
            "run1",
            false,
            vec![
                candidate("a", "seed", "sprout", "r1"),
                // Same sprout again in the same run: at most one tier per run.
                candidate("a", "sprout", "sapling", "r2"),
                // Stale tier: not applied.
                candidate("b", "tree", "grove", "r4"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(out, vec![true, false, false]);
    assert_eq!(store.sprout_get("a").await.unwrap().unwrap().tier, "sprout");

    // Moved back by a client, the same rule never advances it again.
    store
        .sprout_upsert_batch(vec![sprout("a", "seed")], now())
        .await
        .unwrap();
    let out = store
        .advancement_apply(apply(
            "run2",
            false,
            vec![candidate("a", "seed", "sprout", "r1")],
        ))
        .await
        .unwrap();
    assert_eq!(out, vec![false]);

    let events = store
        .advancement_event_list(AdvancementEventFilter {
            sprout_id: Some("a".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    let real = events.iter().find(|e| !e.dry_run).unwrap();
    assert_eq!(
        (
            real.run_id.as_str(),
            real.rule_id.as_str(),
            real.to_tier.as_str()
        ),
        ("run1", "r1", "sprout")
    );
    assert_eq!(real.signals[0]["value"], 12);
    let by_run = store
        .advancement_event_list(AdvancementEventFilter {
            run_id: Some("dry".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_run.len(), 1);
    assert!(by_run[0].dry_run);
    let by_rule = store
        .advancement_event_list(AdvancementEventFilter {
            rule_id: Some("r4".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(by_rule.is_empty());
}

pub async fn journal_lists_newest_first_by_type_and_subject(store: Arc<dyn Store>) {
    let append = |t: &str, subject: &str| JournalAppend {
        event_type: t.to_owned(),
        at: now(),
        subject: subject.to_owned(),
        message: format!("{t} about {subject}"),
        data: json!({"subject": subject}),
    };
    let late_a = store.journal_append(append("job.late", "a")).await.unwrap();
    let silent_a = store
        .journal_append(append("job.silent", "a"))
        .await
        .unwrap();
    let late_b = store.journal_append(append("job.late", "b")).await.unwrap();
    let late_a2 = store.journal_append(append("job.late", "a")).await.unwrap();
    let seqs = |events: Vec<grove_core::grove::JournalEvent>| -> Vec<i64> {
        events.iter().map(|e| e.seq).collect()
    };
    let list =
        |types: &[&str], subject: Option<&str>, before: Option<i64>, limit: u32| JournalFilter {
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            subject: subject.map(str::to_owned),
            before,
            limit,
        };
    let all = store
        .journal_list(list(&[], None, None, 100))
        .await
        .unwrap();
    assert_eq!(
        seqs(all),
        vec![late_a2, late_b, silent_a, late_a],
        "newest first"
    );
    let late = store
        .journal_list(list(&["job.late"], None, None, 100))
        .await
        .unwrap();
    assert_eq!(seqs(late), vec![late_a2, late_b, late_a]);
    let of_a = store
        .journal_list(list(&[], Some("a"), None, 100))
        .await
        .unwrap();
    assert_eq!(seqs(of_a), vec![late_a2, silent_a, late_a]);
    let late_of_a = store
        .journal_list(list(&["job.late", "job.silent"], Some("a"), None, 2))
        .await
        .unwrap();
    assert_eq!(seqs(late_of_a), vec![late_a2, silent_a], "limited");
    let page = store
        .journal_list(list(&[], Some("a"), Some(silent_a), 100))
        .await
        .unwrap();
    assert_eq!(seqs(page), vec![late_a], "before a sequence number");
    assert!(
        store
            .journal_list(list(&["job.late"], Some("nobody"), None, 100))
            .await
            .unwrap()
            .is_empty()
    );
    let first = &store.journal_list(list(&[], None, None, 1)).await.unwrap()[0];
    assert_eq!(
        (first.event_type.as_str(), first.subject.as_str()),
        ("job.late", "a")
    );
    assert_eq!(first.data, json!({"subject": "a"}));
}

pub async fn journal_cursor_and_outbox(store: Arc<dyn Store>) {
    let append = |t: &str| JournalAppend {
        event_type: t.to_owned(),
        at: now(),
        subject: "job-1".to_owned(),
        message: format!("{t} happened"),
        data: json!({"k": 1}),
    };
    let s1 = store.journal_append(append("job.failed")).await.unwrap();
    let s2 = store
        .journal_append(append("config.changed"))
        .await
        .unwrap();
    assert!(s2 > s1);
    let all = store.journal_since(0, &[], 100).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].data, json!({"k": 1}));
    let failed = store
        .journal_since(0, &["job.failed".to_owned()], 100)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(store.journal_since(s2, &[], 100).await.unwrap().is_empty());

    assert_eq!(store.digest_cursor_get("d").await.unwrap(), None);
    store.digest_cursor_set("d", s2, now()).await.unwrap();
    store.digest_cursor_set("d", s1, now()).await.unwrap();
    assert_eq!(
        store.digest_cursor_get("d").await.unwrap(),
        Some(s2),
        "a cursor never goes back"
    );

    let n = Notification {
        id: "run1:ops".to_owned(),
        recipient_id: "ops".to_owned(),
        channel: "outbox".to_owned(),
        subject: "digest".to_owned(),
        body: json!({"total": 2}),
        run_id: Some("run1".to_owned()),
        created_at: now(),
    };
    assert!(store.notification_insert(n.clone()).await.unwrap());
    assert!(!store.notification_insert(n.clone()).await.unwrap());
    assert_eq!(
        store.notification_list(Some("ops"), 10).await.unwrap(),
        vec![n]
    );
    assert!(
        store
            .notification_list(Some("x"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.notification_list(None, 10).await.unwrap().len(), 1);
}

/// Finished executions whose job config was deleted are archived with their
/// attempts and logs, and come back whole on restore; queued ones and
/// those of live configs stay.
pub async fn executions_of_deleted_configs_archive_and_restore(store: Arc<dyn Store>) {
    use grove_core::registry::JOB_CONFIG;
    use grove_store::{
        AttemptOutcome, AttemptStatus, Counts, ExecutionClaim, ExecutionFinish, LogInsert,
        LogLevel, ObjectInsert,
    };
    let payload = grove_core::job_config::JobConfigPayload::default_for(
        grove_core::job_config::JobType::HealthCheck,
    )
    .to_value();
    for id in ["gone", "kept"] {
        store
            .object_insert(ObjectInsert {
                object_type: JOB_CONFIG.to_owned(),
                id: id.to_owned(),
                title: id.to_owned(),
                description: None,
                tags: vec![],
                payload: payload.clone(),
                actor: None,
                now: now(),
            })
            .await
            .unwrap();
        let mut e = super::executions::insert(&format!("run-{id}"), id, None);
        e.now = now();
        store.execution_insert(e).await.unwrap();
    }
    let claimed = store
        .execution_claim(ExecutionClaim {
            owner: "w".to_owned(),
            now: now(),
            lease_until: now() + jiff::SignedDuration::from_secs(60),
            limit: 10,
            returned: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    for id in ["gone", "kept"] {
        let run = format!("run-{id}");
        let line = |m: &str| LogInsert {
            execution_id: run.clone(),
            attempt: 1,
            at: now(),
            level: LogLevel::Info,
            message: m.to_owned(),
        };
        store
            .log_append(vec![line("first"), line("second")])
            .await
            .unwrap();
        store
            .execution_finish(ExecutionFinish {
                logs: Vec::new(),
                execution_id: run.clone(),
                attempt: 1,
                owner: "w".to_owned(),
                now: now(),
                outcome: AttemptOutcome {
                    status: AttemptStatus::Success,
                    reason: None,
                    error: None,
                    counts: Counts {
                        processed: 3,
                        total: Some(3),
                        succeeded: 3,
                        failed: 0,
                    },
                    metadata: json!({"k": [1, 2]}),
                },
            })
            .await
            .unwrap();
    }
    // A queued run of the deleted config is not finished: it stays.
    let mut queued = super::executions::insert("run-gone-queued", "gone", None);
    queued.now = now();
    queued.max_concurrent = 5;
    store.execution_insert(queued).await.unwrap();
    let before = store.execution_get("run-gone").await.unwrap().unwrap();
    store.object_delete(JOB_CONFIG, "gone", None).await.unwrap();

    let q = OrphanQuery {
        entity: ArchiveEntity::Executions,
        idle_before: now(),
    };
    assert_eq!(store.orphan_count(q.clone()).await.unwrap(), 1);
    let moved = store
        .archive_orphans(ArchiveOrphans {
            query: q.clone(),
            after_id: None,
            limit: 10,
            reason: "its job config is gone".to_owned(),
            run_id: None,
            now: now(),
        })
        .await
        .unwrap();
    assert_eq!(moved, vec!["run-gone".to_owned()]);
    assert!(store.execution_get("run-gone").await.unwrap().is_none());
    assert!(
        store
            .execution_get("run-gone-queued")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.execution_get("run-kept").await.unwrap().is_some());
    assert_eq!(store.orphan_count(q).await.unwrap(), 0);

    let restored = store
        .archive_restore(ArchiveEntity::Executions, &["run-gone".to_owned()])
        .await
        .unwrap();
    assert_eq!(restored, 1);
    let after = store.execution_get("run-gone").await.unwrap().unwrap();
    assert_eq!(after, before, "restored whole");
    let logs = store.log_list("run-gone", 0, 10).await.unwrap();
    let messages: Vec<&str> = logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, vec!["first", "second"]);
}

/// Every create, save and delete of a job config, and nothing else,
/// appends a `config.changed` event (the database does it, so every path
/// that saves a config is covered).
pub async fn job_config_changes_are_journaled(store: Arc<dyn Store>) {
    use grove_core::registry::{ADVANCEMENT_RULE, JOB_CONFIG};
    use grove_store::{ObjectInsert, ObjectUpdate};
    let payload = grove_core::job_config::JobConfigPayload::default_for(
        grove_core::job_config::JobType::HealthCheck,
    )
    .to_value();
    let insert = |object_type: &str, id: &str| ObjectInsert {
        object_type: object_type.to_owned(),
        id: id.to_owned(),
        title: id.to_owned(),
        description: None,
        tags: vec![],
        payload: payload.clone(),
        actor: Some("alice".to_owned()),
        now: now(),
    };
    store.object_insert(insert(JOB_CONFIG, "hc")).await.unwrap();
    store
        .object_update(ObjectUpdate {
            object_type: JOB_CONFIG.to_owned(),
            id: "hc".to_owned(),
            expected_version: 1,
            title: "hc".to_owned(),
            description: None,
            tags: vec![],
            payload: payload.clone(),
            actor: Some("bob".to_owned()),
            now: now(),
        })
        .await
        .unwrap();
    // Engine state is not a config change.
    let mut state = serde_json::Map::new();
    state.insert("lastExecution".to_owned(), json!({"status": "success"}));
    store
        .object_state_merge(JOB_CONFIG, "hc", state)
        .await
        .unwrap();
    store.object_delete(JOB_CONFIG, "hc", None).await.unwrap();
    // Other types are not job configs.
    let rule = grove_core::advancement_rule::AdvancementRulePayload::default_payload().to_value();
    let mut other = insert(ADVANCEMENT_RULE, "r");
    other.payload = rule;
    store.object_insert(other).await.unwrap();

    let events = store
        .journal_since(0, &["config.changed".to_owned()], 100)
        .await
        .unwrap();
    let changes: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.subject.as_str(), e.data["change"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(
        changes,
        vec![("hc", "created"), ("hc", "updated"), ("hc", "deleted")]
    );
    assert_eq!(
        events[0].message,
        "job config \"hc\" created by alice (version 1)"
    );
    assert_eq!(
        events[1].message,
        "job config \"hc\" updated by bob (version 1 → 2)"
    );
    assert_eq!(events[1].data["actor"], "bob");
    assert_eq!(events[1].at, now());
}

pub async fn orphans_archive_and_restore(store: Arc<dyn Store>) {
    let old = SproutUpsert {
        created_at: at("2025-01-01T00:00:00Z"),
        ..sprout("old", "seed")
    };
    store
        .sprout_upsert_batch(vec![old], at("2025-01-01T00:00:00Z"))
        .await
        .unwrap();
    store
        .sprout_upsert_batch(vec![sprout("busy", "seed"), sprout("fresh", "seed")], now())
        .await
        .unwrap();
    store
        .signal_insert_batch(
            vec![
                signal("1", "old", "retrieval", "2025-01-02T00:00:00Z"),
                signal("2", "busy", "retrieval", "2026-03-30T00:00:00Z"),
            ],
            now(),
        )
        .await
        .unwrap();
    store
        .advancement_apply(AdvancementApply {
            run_id: "run".to_owned(),
            dry_run: false,
            at: now(),
            items: vec![candidate("old", "seed", "sprout", "r1")],
        })
        .await
        .unwrap();
    let cutoff = at("2026-01-01T00:00:00Z");
    let q = |entity| OrphanQuery {
        entity,
        idle_before: cutoff,
    };
    assert_eq!(
        store.orphan_count(q(ArchiveEntity::Sprouts)).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .orphan_sample(q(ArchiveEntity::Sprouts), 10)
            .await
            .unwrap(),
        vec!["old".to_owned()]
    );
    assert_eq!(
        store.orphan_count(q(ArchiveEntity::Signals)).await.unwrap(),
        0
    );

    let archive = |entity| ArchiveOrphans {
        query: q(entity),
        after_id: None,
        limit: 10,
        reason: "idle".to_owned(),
        run_id: Some("clean".to_owned()),
        now: now(),
    };
    let moved = store
        .archive_orphans(archive(ArchiveEntity::Sprouts))
        .await
        .unwrap();
    assert_eq!(moved, vec!["old".to_owned()]);
    let got = store.sprout_get("old").await.unwrap().unwrap();
    assert!(got.archived);
    assert_eq!(got.tier, "sprout");
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 2);
    // Now its signal and event are orphans.
    assert_eq!(
        store.orphan_count(q(ArchiveEntity::Signals)).await.unwrap(),
        1
    );
    let past_it = store
        .archive_orphans(ArchiveOrphans {
            after_id: Some("9".to_owned()),
            ..archive(ArchiveEntity::Signals)
        })
        .await
        .unwrap();
    assert!(past_it.is_empty(), "the cursor skips ids at or before it");
    let moved = store
        .archive_orphans(archive(ArchiveEntity::Signals))
        .await
        .unwrap();
    assert_eq!(moved, vec!["1".to_owned()]);
    let moved = store
        .archive_orphans(archive(ArchiveEntity::AdvancementEvents))
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(store.signal_count().await.unwrap(), 1);
    let rows = store
        .archive_list(ArchiveEntity::Signals, 10)
        .await
        .unwrap();
    assert_eq!(rows[0].data["sproutId"], "old");
    assert_eq!(rows[0].run_id.as_deref(), Some("clean"));

    // Restore everything; nothing was lost.
    let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        store
            .archive_restore(ArchiveEntity::Sprouts, &ids(&["old", "nope"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .archive_restore(ArchiveEntity::Signals, &ids(&["1"]))
            .await
            .unwrap(),
        1
    );
    let event_ids: Vec<String> = store
        .archive_list(ArchiveEntity::AdvancementEvents, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        store
            .archive_restore(ArchiveEntity::AdvancementEvents, &event_ids)
            .await
            .unwrap(),
        1
    );
    let old = store.sprout_get("old").await.unwrap().unwrap();
    assert!(!old.archived);
    assert_eq!(old.tier, "sprout");
    assert_eq!(store.signal_count().await.unwrap(), 2);
    let events = store
        .advancement_event_list(AdvancementEventFilter {
            sprout_id: Some("old".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].signals[0]["value"], 12);
    assert!(
        store
            .archive_list(ArchiveEntity::Sprouts, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn demo_dataset_is_deterministic(store: Arc<dyn Store>) {
    let size = DemoSize {
        sprouts: 300,
        signals: 5_000,
        days: 90,
        seed: 7,
    };
    let s = demo::generate(store.as_ref(), size, now()).await.unwrap();
    assert_eq!((s.sprouts, s.signals, s.rules.len()), (300, 5_000, 4));
    let again = demo::generate(store.as_ref(), size, now()).await.unwrap();
    assert_eq!((again.sprouts, again.signals, again.rules.len()), (0, 0, 0));
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 300);
    assert_eq!(store.signal_count().await.unwrap(), 5_000);
    assert_eq!(
        store.object_list("advancement-rule").await.unwrap().len(),
        4
    );
    // Every signal is within the window and names a real sprout.
    assert_eq!(
        store
            .orphan_count(OrphanQuery {
                entity: ArchiveEntity::Signals,
                idle_before: now(),
            })
            .await
            .unwrap(),
        0
    );
    assert!(rebuild(&store, SignalPeriod::Last30d, 1000, "r").await > 0);
}

pub async fn empty_tables_answer_empty(store: Arc<dyn Store>) {
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 0);
    assert_eq!(store.signal_max_seq().await.unwrap(), 0);
    assert_eq!(rebuild(&store, SignalPeriod::AllTime, 10, "r").await, 0);
    assert!(
        store
            .sprout_page_for_advancement(SproutPage {
                period: SignalPeriod::AllTime,
                tiers: vec![],
                after_id: None,
                limit: 10,
                kinds: vec![],
            })
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .aggregate_increment(AggregateIncrement {
                after_seq: 0,
                max_seq: 0,
                run_id: "r".to_owned(),
                now: now(),
            })
            .await
            .unwrap(),
        0
    );
    assert!(store.aggregate_get("x").await.unwrap().is_empty());
    assert!(store.journal_since(0, &[], 10).await.unwrap().is_empty());
    assert!(
        store
            .archive_orphans(ArchiveOrphans {
                query: OrphanQuery {
                    entity: ArchiveEntity::Sprouts,
                    idle_before: now(),
                },
                after_id: None,
                limit: 10,
                reason: "idle".to_owned(),
                run_id: None,
                now: now(),
            })
            .await
            .unwrap()
            .is_empty()
    );
    // Both backends number their migrations alike.
    assert_eq!(
        store.migrate().await.unwrap(),
        grove_store::migrate::latest(grove_store::migrate::SQLITE),
        "migrating again is a no-op"
    );
}
