//! The scheduler fires exactly what `upcoming` says: over a daylight-saving
//! change, with an excluded calendar, a pause and jitter, on SQLite and on
//! PostgreSQL. Excluded and paused slots are never executions; each run is
//! due (and starts) at its slot plus its jitter.

use std::sync::Arc;

use grove_app::App;
use grove_core::registry::CALENDAR;
use grove_store::{Change, ExecutionStatus, ObjectInsert, ObjectUpdate, Store};
use serde_json::json;

use crate::support::*;

async fn fires_what_upcoming_says(store: Arc<dyn Store>) {
    // Saturday 7 March 2026, New York; the clocks spring forward at 02:00
    // on Sunday 8 March.
    let mut h = Harness::on_store(store, "2026-03-07T12:00:00Z");
    h.start(uniform(Arc::new(Succeed::default())), settings());
    h.store
        .object_insert(ObjectInsert {
            object_type: CALENDAR.to_owned(),
            id: "maintenance".to_owned(),
            title: "Maintenance".to_owned(),
            description: None,
            tags: vec![],
            payload: json!({"weekly": [{"days": ["SUN"], "from": "05:00", "to": "07:00"}],
                            "dates": ["2026-03-09"]}),
            actor: Some("tester".to_owned()),
            now: h.clock.now_ts(),
        })
        .await
        .expect("calendar");
    h.handle.changed(Change::Calendar("maintenance".to_owned()));
    let mut p = health("0 */2 * * *");
    p.schedule.timezone = "America/New_York".to_owned();
    p.schedule.is_enabled = true;
    p.schedule.jitter_seconds = 600;
    p.schedule.exclude_calendars = vec!["maintenance".to_owned()];
    p.schedule.paused_until = Some(at("2026-03-07T23:00:00Z"));
    p.limits.max_concurrent = 5;
    h.insert_config("every-2h", &p).await;

    let app = App::new(
        h.store.clone(),
        Arc::new(h.clock.clone()),
        (*h.handle).clone(),
    );
    let plan = app.upcoming("every-2h", 16).await.expect("upcoming");
    assert_eq!(plan.runs.len(), 16);
    // The pause: nothing before 18:00 New York time on Saturday.
    assert_eq!(plan.runs[0].scheduled_for, at("2026-03-07T23:00:00Z"));
    // The calendar: Sunday 06:00 and all of Monday 9 March are excluded.
    let excluded: Vec<String> = plan
        .excluded
        .iter()
        .map(|e| e.scheduled_for.to_string())
        .collect();
    assert!(
        excluded.contains(&"2026-03-08T10:00:00Z".to_owned()),
        "{excluded:?}"
    );
    assert!(
        excluded
            .iter()
            .all(|_| plan.excluded.iter().all(|e| e.calendar == "maintenance"))
    );
    // The spring-forward gap: 02:00 does not exist and the hours are a
    // wildcard step, so they follow real time: 00:00 EST, 04:00 EDT, then
    // 08:00 EDT (06:00 is in the maintenance window).
    let sunday: Vec<String> = plan
        .runs
        .iter()
        .map(|r| r.scheduled_for.to_string())
        .filter(|t| t.starts_with("2026-03-08"))
        .collect();
    let around_the_change = [
        "2026-03-08T05:00:00Z",
        "2026-03-08T08:00:00Z",
        "2026-03-08T12:00:00Z",
    ];
    assert!(
        sunday.windows(3).any(|w| w == around_the_change),
        "{sunday:?}"
    );
    assert!(plan.runs.iter().all(|r| {
        let offset = r.due_at.duration_since(r.scheduled_for).as_secs();
        (0..600).contains(&offset)
    }));

    // Walk the clock from due instant to due instant.
    let first = plan.runs[0];
    h.scheduled("every-2h", &first.due_at.to_string()).await;
    // Between the first slot and its due instant, the calendar changes
    // (in a way that does not touch these runs): the re-plan keeps the
    // slot that has not fired yet.
    assert!(
        first.due_at > first.scheduled_for,
        "this test needs some jitter on the first slot"
    );
    h.clock
        .set(first.scheduled_for + jiff::SignedDuration::from_millis(1));
    h.store
        .object_update(ObjectUpdate {
            object_type: CALENDAR.to_owned(),
            id: "maintenance".to_owned(),
            expected_version: 1,
            title: "Maintenance".to_owned(),
            description: None,
            tags: vec![],
            payload: json!({"weekly": [{"days": ["SUN"], "from": "05:00", "to": "07:00"}],
                            "dates": ["2026-03-09", "2027-01-01"]}),
            actor: Some("tester".to_owned()),
            now: h.clock.now_ts(),
        })
        .await
        .expect("calendar edit");
    h.handle.changed(Change::Calendar("maintenance".to_owned()));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    h.scheduled("every-2h", &first.due_at.to_string()).await;
    for (i, run) in plan.runs.iter().enumerate() {
        h.set(&run.due_at.to_string());
        eventually("the run of this slot", || async {
            let list = h.executions("every-2h").await;
            (list.len() == i + 1 && list.iter().all(|e| e.status.is_final())).then_some(())
        })
        .await;
    }
    let mut fired: Vec<_> = h
        .executions("every-2h")
        .await
        .into_iter()
        .map(|e| {
            assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
            assert_eq!(e.started_at, e.due_at, "started when due");
            (e.scheduled_for.expect("scheduled"), e.due_at.expect("due"))
        })
        .collect();
    fired.sort();
    let expected: Vec<_> = plan
        .runs
        .iter()
        .map(|r| (r.scheduled_for, r.due_at))
        .collect();
    assert_eq!(
        fired, expected,
        "every run upcoming named, and nothing else"
    );
    h.stop().await;
}

#[tokio::test]
async fn the_scheduler_fires_what_upcoming_says_on_sqlite() {
    let (store, dir) = fresh_store().await;
    fires_what_upcoming_says(store).await;
    drop(dir);
}

#[tokio::test]
async fn the_scheduler_fires_what_upcoming_says_on_postgres() {
    let Some(store) = postgres_store("plans").await else {
        return;
    };
    fires_what_upcoming_says(store).await;
}
