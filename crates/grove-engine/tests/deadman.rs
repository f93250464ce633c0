//! The dead-man's switch (`payload.alerts`), on SQLite and on PostgreSQL:
//! a slot that starts late or is missed raises `job.late`; a job without a
//! success for `maxSilenceSeconds` raises `job.silent` once, and again only
//! after a success. Both reach the journal, the config's engine state
//! (`derived.health`), the metrics and the outbox.

use std::sync::Arc;

use grove_core::grove::JournalEvent;
use grove_core::job_config::{AlertSettings, Channel, Health, JobConfigPayload, MisfirePolicy};
use grove_engine::RUN_NOTIFICATION_RECIPIENT;
use grove_store::{ExecutionStatus, JournalFilter, Store};

use crate::support::*;

fn alerting(cron: &str, lateness: Option<u64>, silence: Option<u64>) -> JobConfigPayload {
    let mut p = health(cron);
    p.alerts = Some(AlertSettings {
        max_lateness_seconds: lateness,
        max_silence_seconds: silence,
    });
    p.notifications.on_failure = true;
    p.notifications.channels = vec![Channel::Log, Channel::Outbox];
    p
}

async fn journal(store: &dyn Store, event: &str, subject: &str) -> Vec<JournalEvent> {
    store
        .journal_list(JournalFilter {
            types: vec![event.to_owned()],
            subject: Some(subject.to_owned()),
            before: None,
            limit: 100,
        })
        .await
        .expect("journal")
}

async fn payload(h: &Harness, id: &str) -> JobConfigPayload {
    serde_json::from_value(h.config(id).await.payload).expect("payload")
}

async fn late_slot_raises_job_late(store: Arc<dyn Store>) {
    let mut h = Harness::on_store(store, "2026-03-01T00:30:00Z");
    h.start(uniform(Arc::new(Succeed::default())), settings());
    h.insert_config("hourly", &alerting("0 * * * *", Some(60), None))
        .await;
    h.scheduled("hourly", "2026-03-01T01:00:00Z").await;

    // The 01:00 slot starts five minutes after it was due.
    h.set("2026-03-01T01:05:00Z");
    let events = eventually("job.late", || async {
        let events = journal(&*h.store, "job.late", "hourly").await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    assert_eq!(events.len(), 1);
    let run = h.executions("hourly").await.remove(0);
    let data = &events[0].data;
    assert_eq!(data["runId"], run.id.as_str());
    assert_eq!(data["scheduledFor"], "2026-03-01T01:00:00Z");
    assert_eq!(data["dueAt"], "2026-03-01T01:00:00Z");
    assert_eq!(data["latenessSeconds"], 300);
    assert_eq!(data["maxLatenessSeconds"], 60);
    assert_eq!(data["missed"], false);
    assert!(
        events[0].message.contains("started 5 minutes late"),
        "{}",
        events[0].message
    );
    h.wait_final(&run.id).await;
    let p = eventually("lateSlot", || async {
        let p = payload(&h, "hourly").await;
        p.late_slot.is_some().then_some(p)
    })
    .await;
    assert_eq!(p.health(), Health::Late, "late wins over a successful run");
    let notes = eventually("the late notification", || async {
        let notes = h
            .store
            .notification_list(Some(RUN_NOTIFICATION_RECIPIENT), 10)
            .await
            .unwrap();
        notes
            .iter()
            .any(|n| n.id == format!("{}:late", run.id))
            .then_some(notes)
    })
    .await;
    let note = notes.iter().find(|n| n.id.ends_with(":late")).unwrap();
    assert_eq!(note.body["event"], "job.late");
    assert_eq!(note.run_id.as_deref(), Some(run.id.as_str()));
    let metrics = h.handle.metrics().expect("metrics");
    assert_eq!(metrics.late_slots, vec![("hourly".to_owned(), 1)]);

    // The 02:00 slot starts on time: no new event, and the job is not late
    // any more.
    h.scheduled("hourly", "2026-03-01T02:00:00Z").await;
    h.set("2026-03-01T02:00:00Z");
    eventually("an on-time slot to clear lateSlot", || async {
        let p = payload(&h, "hourly").await;
        let done = h.executions("hourly").await.len() == 2;
        (done && p.late_slot.is_none()).then_some(())
    })
    .await;
    assert_eq!(journal(&*h.store, "job.late", "hourly").await.len(), 1);
    h.stop().await;
}

async fn missed_slots_raise_job_late(store: Arc<dyn Store>) {
    let mut h = Harness::on_store(store, "2026-03-01T00:00:00Z");
    let mut p = alerting("0 * * * *", Some(600), None);
    p.schedule.misfire_policy = MisfirePolicy::Skip;
    h.insert_config("hourly", &p).await;
    // The service last handled this config at 00:00, then was down until 03:30.
    h.store
        .slot_position_advance("hourly", at("2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    h.clock.set(at("2026-03-01T03:30:00Z"));
    h.start(uniform(Arc::new(Succeed::default())), settings());
    let events = eventually("job.late for each missed slot", || async {
        let events = journal(&*h.store, "job.late", "hourly").await;
        (events.len() == 3).then_some(events)
    })
    .await;
    let slots: Vec<&str> = events
        .iter()
        .map(|e| e.data["scheduledFor"].as_str().unwrap())
        .collect();
    assert_eq!(
        slots,
        [
            "2026-03-01T03:00:00Z",
            "2026-03-01T02:00:00Z",
            "2026-03-01T01:00:00Z"
        ],
        "newest first"
    );
    assert!(events.iter().all(|e| e.data["missed"] == true));
    assert_eq!(events[0].data["latenessSeconds"], 1800);
    assert!(
        events[0].message.contains("missed 3 slots"),
        "{}",
        events[0].message
    );
    let skipped = h.executions("hourly").await;
    assert!(skipped.iter().all(|e| e.status == ExecutionStatus::Skipped));
    let late = eventually("lateSlot", || async {
        payload(&h, "hourly").await.late_slot
    })
    .await;
    assert!(late.missed);
    // One notification for the batch of missed slots, not one per slot.
    let notes = eventually("the late notification", || async {
        let notes = h
            .store
            .notification_list(Some(RUN_NOTIFICATION_RECIPIENT), 10)
            .await
            .unwrap();
        (!notes.is_empty()).then_some(notes)
    })
    .await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        h.handle.metrics().unwrap().late_slots,
        vec![("hourly".to_owned(), 3)]
    );
    h.stop().await;
}

async fn silence_raises_job_silent_once_until_a_success(store: Arc<dyn Store>) {
    let mut h = Harness::on_store(store, "2026-03-01T00:00:00Z");
    h.start(uniform(Arc::new(Succeed::default())), settings());
    // A yearly schedule: nothing runs by itself during the test.
    h.insert_config("quiet", &alerting("0 0 1 1 *", None, Some(3600)))
        .await;
    // A second watch, silent later: a probe that a maintenance round ran.
    h.insert_config("probe", &alerting("0 0 1 1 *", None, Some(7200)))
        .await;

    h.advance(1800);
    h.advance(1800);
    let first = eventually("job.silent", || async {
        let events = journal(&*h.store, "job.silent", "quiet").await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].data["since"], "2026-03-01T00:00:00Z");
    assert_eq!(first[0].data["lastSuccessAt"], serde_json::Value::Null);
    assert_eq!(first[0].data["maxSilenceSeconds"], 3600);
    assert_eq!(first[0].data["silentForSeconds"], 3600);
    let p = payload(&h, "quiet").await;
    assert_eq!(p.health(), Health::Silent);
    assert!(journal(&*h.store, "job.silent", "probe").await.is_empty());

    // Later rounds do not raise it again: the probe's own silence shows a
    // round ran after.
    h.advance(3600);
    eventually("the probe's job.silent", || async {
        (!journal(&*h.store, "job.silent", "probe").await.is_empty()).then_some(())
    })
    .await;
    assert_eq!(journal(&*h.store, "job.silent", "quiet").await.len(), 1);

    // A success ends the silence; an hour without one raises it again.
    let run = h.handle.run_now("quiet", None).await.expect("run now");
    assert_eq!(h.wait_final(&run.id).await.status, ExecutionStatus::Success);
    let p = eventually("the silence to end", || async {
        let p = payload(&h, "quiet").await;
        p.silence.is_none().then_some(p)
    })
    .await;
    assert_eq!(p.health(), Health::Healthy);
    assert_eq!(p.last_success_at, Some(at("2026-03-01T02:00:00Z")));
    h.advance(1800);
    h.advance(1800);
    let again = eventually("job.silent again", || async {
        let events = journal(&*h.store, "job.silent", "quiet").await;
        (events.len() == 2).then_some(events)
    })
    .await;
    assert_eq!(
        again[0].data["since"], "2026-03-01T02:00:00Z",
        "newest first"
    );
    assert_eq!(again[0].data["lastSuccessAt"], "2026-03-01T02:00:00Z");
    // The outbox is written after the journal: wait for it too.
    eventually("the second silence's notification", || async {
        let notes = h
            .store
            .notification_list(Some(RUN_NOTIFICATION_RECIPIENT), 20)
            .await
            .unwrap();
        let quiet = notes
            .iter()
            .filter(|n| n.id.starts_with("quiet:silent:"))
            .count();
        assert!(quiet <= 2, "one notification per silence: {notes:?}");
        (quiet == 2).then_some(())
    })
    .await;

    // Disabling the job ends the watch and the alert.
    let mut off = alerting("0 0 1 1 *", None, Some(3600));
    off.schedule.is_enabled = false;
    h.update_config("quiet", &off).await;
    h.advance(60);
    eventually("the disabled job's silence to end", || async {
        payload(&h, "quiet").await.silence.is_none().then_some(())
    })
    .await;
    assert_eq!(payload(&h, "quiet").await.health(), Health::Disabled);
    h.stop().await;
}

async fn the_watch_counts_from_when_the_alert_was_set(store: Arc<dyn Store>) {
    let mut h = Harness::on_store(store, "2026-03-01T00:00:00Z");
    h.start(uniform(Arc::new(Succeed::default())), settings());
    h.insert_config("job", &alerting("0 0 1 1 *", None, None))
        .await;
    // A day without alerts, then the alert is set.
    h.advance(86_400);
    h.update_config("job", &alerting("0 0 1 1 *", None, Some(3600)))
        .await;
    h.advance(1800);
    // A later save that keeps the alert does not restart the watch.
    h.update_config("job", &alerting("0 0 1 1 *", Some(60), Some(3600)))
        .await;
    h.advance(1800);
    let events = eventually("job.silent", || async {
        let events = journal(&*h.store, "job.silent", "job").await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    assert_eq!(events[0].data["since"], "2026-03-02T00:00:00Z");
    assert_eq!(events[0].at, at("2026-03-02T01:00:00Z"));
    h.stop().await;
}

macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let (store, dir) = crate::support::fresh_store().await;
                super::$name(store).await;
                drop(dir);
            })+
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                let Some(store) = crate::support::postgres_store(&format!("deadman {}", stringify!($name))).await else {
                    return;
                };
                super::$name(store).await;
            })+
        }
    };
}

on_both_backends!(
    late_slot_raises_job_late,
    missed_slots_raise_job_late,
    silence_raises_job_silent_once_until_a_success,
    the_watch_counts_from_when_the_alert_was_set,
);
