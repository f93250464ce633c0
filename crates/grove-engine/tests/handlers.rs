//! The builtin handlers of the grove job types run by the engine on real
//! SQLite data: outcome, counts, result metadata, journal events and the
//! job config's own notifications.

use grove_core::job_config::{
    AdvancementParams, Channel, CleanupEntity, CleanupParams, EventType, JobConfigPayload,
    JobParameters, JobType, NotificationDigestParams, SignalAggregationParams, SignalPeriod,
};
use grove_engine::{HandlerRegistry, RUN_NOTIFICATION_RECIPIENT};
use grove_store::{Execution, ExecutionStatus};

use crate::jobs::{grove, now, tier};
use crate::support::*;

/// A harness over the grove data of `jobs::grove`, with the builtin
/// handlers, at that data's "now".
async fn harness() -> Harness {
    let mut h = Harness::on_store(grove().await, &now().to_string());
    let s = settings();
    h.start(HandlerRegistry::builtin(&s), s);
    h
}

async fn run(h: &Harness, id: &str, payload: &JobConfigPayload) -> Execution {
    h.insert_config(id, payload).await;
    let run = h.handle.run_now(id, Some("tester")).await.expect("run now");
    h.wait_final(&run.id).await
}

fn manual(job_type: JobType, parameters: JobParameters) -> JobConfigPayload {
    let mut p = config(job_type, "0 2 * * *");
    p.schedule.is_enabled = false;
    p.retry.max_attempts = 1;
    p.parameters = parameters;
    p
}

/// The journal's events of one type, once there is at least one: the
/// engine journals a run's end just after storing it.
async fn journal(h: &Harness, event: EventType) -> Vec<grove_core::grove::JournalEvent> {
    eventually("a journal event", || async {
        let events = h
            .store
            .journal_since(0, &[event.to_string()], 100)
            .await
            .expect("journal");
        (!events.is_empty()).then_some(events)
    })
    .await
}

#[tokio::test]
async fn advancement_batch_advances_sprouts_and_journals_its_success() {
    let h = harness().await;
    let mut p = manual(
        JobType::AdvancementBatch,
        JobParameters::AdvancementBatch(AdvancementParams {
            lifecycle_model_id: None,
            from_tiers: None,
            signal_period: SignalPeriod::AllTime,
            dry_run: false,
        }),
    );
    p.limits.batch_size = 2;
    let e = run(&h, "advance", &p).await;
    assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
    assert_eq!(e.metadata["advanced"], 2, "{}", e.metadata);
    assert_eq!(e.metadata["batchSize"], 2);
    assert_eq!(e.metadata["perRule"]["r1-seed"], 1);
    assert!(e.counts.processed > 0);
    assert_eq!(e.counts.total, Some(e.counts.processed));
    assert_eq!(tier(&h.store, "a").await, "sprout");
    let events = h
        .store
        .advancement_event_list(grove_store::AdvancementEventFilter {
            run_id: Some(e.id.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("events");
    assert_eq!(events.len(), 2, "the run id is on every event");

    let succeeded = journal(&h, EventType::JobSucceeded).await;
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0].subject, "advance");
    assert_eq!(succeeded[0].data["runId"], e.id.as_str());
    let changed = journal(&h, EventType::ConfigChanged).await;
    assert!(
        changed.iter().any(|c| c.subject == "advance"),
        "{changed:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn signal_aggregation_rolls_up_each_period() {
    let h = harness().await;
    let p = manual(
        JobType::SignalAggregation,
        JobParameters::SignalAggregation(SignalAggregationParams {
            periods: vec![SignalPeriod::AllTime, SignalPeriod::Last7d],
        }),
    );
    let e = run(&h, "aggregate", &p).await;
    assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
    assert!(e.counts.processed > 0, "{e:?}");
    assert!(e.metadata.to_string().contains("last_7d"), "{}", e.metadata);
    h.stop().await;
}

#[tokio::test]
async fn a_digest_whose_webhook_fails_is_partial_but_fills_the_outbox() {
    let h = harness().await;
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let p = manual(
        JobType::NotificationDigest,
        JobParameters::NotificationDigest(NotificationDigestParams {
            event_types: vec![EventType::ConfigChanged],
            recipient_ids: vec!["ops".to_owned()],
            channels: vec![Channel::Outbox, Channel::Webhook],
            webhook_url: Some(format!("http://127.0.0.1:{port}/hook")),
        }),
    );
    let e = run(&h, "digest", &p).await;
    assert_eq!(e.status, ExecutionStatus::Partial, "{e:?}");
    let error = e.error.clone().unwrap_or_default();
    assert!(error.contains("webhook delivery"), "{error}");
    assert_eq!(e.counts.failed, 1);
    assert_eq!(e.metadata["digests"], 1);
    let outbox = h
        .store
        .notification_list(Some("ops"), 10)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].run_id.as_deref(), Some(e.id.as_str()));
    h.stop().await;
}

#[tokio::test]
async fn orphan_cleanup_dry_run_counts_and_archives_nothing() {
    let h = harness().await;
    let p = manual(
        JobType::OrphanCleanup,
        JobParameters::OrphanCleanup(CleanupParams {
            entity_types: vec![
                CleanupEntity::Sprouts,
                CleanupEntity::Signals,
                CleanupEntity::Executions,
            ],
            orphan_threshold_days: 30,
            dry_run: true,
        }),
    );
    let before = h.store.sprout_get("d").await.expect("get");
    let e = run(&h, "cleanup", &p).await;
    assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
    assert_eq!(e.metadata["dryRun"], true, "{}", e.metadata);
    assert_eq!(h.store.sprout_get("d").await.expect("get"), before);
    h.stop().await;
}

/// A run that fails journals `job.failed`, sends the config's own
/// notification (onFailure) to the log and the outbox, and at the
/// auto-disable limit journals `job.disabled`.
#[tokio::test]
async fn a_failed_run_notifies_and_auto_disable_is_journaled() {
    let h = harness().await;
    let mut p = manual(
        JobType::AdvancementBatch,
        JobParameters::AdvancementBatch(AdvancementParams {
            lifecycle_model_id: Some("no-such-model".to_owned()),
            from_tiers: None,
            signal_period: SignalPeriod::AllTime,
            dry_run: false,
        }),
    );
    p.schedule.is_enabled = true;
    p.schedule.auto_disable_after_failures = 1;
    p.notifications.on_failure = true;
    p.notifications.channels = vec![Channel::Log, Channel::Outbox];
    let e = run(&h, "broken", &p).await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    let error = e.error.clone().unwrap_or_default();
    assert!(error.contains("no-such-model"), "{error}");

    let failed = journal(&h, EventType::JobFailed).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data["runId"], e.id.as_str());
    let outbox = eventually("the run's notification", || async {
        let n = h
            .store
            .notification_list(Some(RUN_NOTIFICATION_RECIPIENT), 10)
            .await
            .expect("outbox");
        (!n.is_empty()).then_some(n)
    })
    .await;
    assert_eq!(outbox[0].run_id.as_deref(), Some(e.id.as_str()));
    assert!(
        outbox[0].subject.contains("\"broken\" failed"),
        "{}",
        outbox[0].subject
    );
    // The delivery notes reach the run's log after the outbox row.
    eventually("the notification's note in the run's log", || async {
        let logs = h.store.log_list(&e.id, 0, 100).await.expect("logs");
        logs.iter()
            .any(|l| l.message.starts_with("notification (log)"))
            .then_some(())
    })
    .await;
    let disabled = journal(&h, EventType::JobDisabled).await;
    assert_eq!(disabled[0].subject, "broken");
    h.stop().await;
}

/// Success notifications are off by default: a good run sends none.
#[tokio::test]
async fn success_notifications_are_opt_in() {
    let h = harness().await;
    let mut p = manual(
        JobType::SignalAggregation,
        JobParameters::SignalAggregation(SignalAggregationParams {
            periods: vec![SignalPeriod::AllTime],
        }),
    );
    p.notifications.channels = vec![Channel::Outbox];
    let e = run(&h, "quiet", &p).await;
    assert_eq!(e.status, ExecutionStatus::Success);
    let outbox = h
        .store
        .notification_list(Some(RUN_NOTIFICATION_RECIPIENT), 10)
        .await
        .expect("outbox");
    assert!(outbox.is_empty(), "{outbox:?}");
    h.stop().await;
}
