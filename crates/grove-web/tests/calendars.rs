//! Calendars, pauses, jitter and one-off runs through the API.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

fn job(schedule: Value) -> Value {
    json!({
        "meta": {"id": "nightly", "title": "Nightly"},
        "payload": {
            "jobType": "health-check",
            "schedule": schedule,
            "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 1, "maxDelaySeconds": 1},
            "limits": {"batchSize": 10, "timeoutSeconds": 30, "maxConcurrent": 1},
            "parameters": {"checks": ["database"], "alertThreshold": "critical"}
        }
    })
}

async fn create_calendar(app: &TestApp) {
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/calendar",
            Some(json!({"meta": {"id": "holidays", "title": "Holidays"},
                        "payload": {"dates": ["2026-03-03"], "weekly": [{"days": ["SAT", "SUN"], "from": "00:00", "to": "23:59"}]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn a_job_skips_its_calendars_and_upcoming_says_so() {
    let app = TestApp::new().await;
    let types = app.get("/api/v1/types").await;
    assert!(
        types.text.contains("\"calendar\""),
        "the registry lists calendars"
    );
    // An unknown calendar is refused at its pointer.
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(job(json!(
            {"cronExpression": "0 9 * * *", "timezone": "UTC", "isEnabled": true, "excludeCalendars": ["holidays"]}))))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.body["errors"][0]["pointer"],
        "/payload/schedule/excludeCalendars/0"
    );

    create_calendar(&app).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job(json!(
            {"cronExpression": "0 9 * * *", "timezone": "UTC", "isEnabled": true,
             "excludeCalendars": ["holidays"], "jitterSeconds": 120}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Sunday 1 March 2026 12:00 UTC: Monday 2nd, then Wednesday 4th (the
    // 3rd is a holiday).
    let up = app.get("/api/v1/jobs/nightly/upcoming?count=2").await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text);
    let slots: Vec<&str> = up.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scheduledFor"].as_str().unwrap())
        .collect();
    assert_eq!(slots, ["2026-03-02T09:00:00Z", "2026-03-04T09:00:00Z"]);
    assert_eq!(
        up.body["excluded"],
        json!([{"scheduledFor": "2026-03-03T09:00:00Z", "calendar": "holidays"}])
    );
    let due = up.body["runs"][0]["dueAt"].as_str().unwrap().to_owned();
    assert!(
        due.as_str() >= "2026-03-02T09:00:00Z" && due.as_str() < "2026-03-02T09:02:00Z",
        "{due}"
    );
    // derived.nextRunAt is the first run's due instant.
    let obj = app.get("/api/v1/objects/job-config/nightly").await;
    let next: jiff::Timestamp = obj.body["derived"]["nextRunAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(next, due.parse::<jiff::Timestamp>().unwrap());
    assert_eq!(
        app.get("/api/v1/jobs/nightly/upcoming?count=101")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/v1/jobs/nope/upcoming").await.status,
        StatusCode::NOT_FOUND
    );

    // The preview names excluded slots.
    let p = app
        .get("/api/v1/schedule/preview?cron=0+9+*+*+*&tz=UTC&count=2&excludeCalendars=holidays&after=2026-03-02T10:00:00Z")
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(
        p.body["next"],
        json!(["2026-03-04T09:00:00Z", "2026-03-05T09:00:00Z"])
    );
    assert!(
        p.text.contains("Tue 3 Mar: excluded by calendar holidays"),
        "{}",
        p.text
    );
    // The excluded slot itself, for the console to strike through.
    assert_eq!(
        p.body["excluded"],
        json!([{"utc": "2026-03-03T09:00:00Z", "display": "Tue 3 Mar 2026, 09:00 UTC", "calendar": "holidays"}])
    );
    let p = app
        .get("/api/v1/schedule/preview?cron=0+9+*+*+*&excludeCalendars=nope")
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A calendar a job excludes cannot be deleted.
    let r = app
        .call(Method::DELETE, "/api/v1/objects/calendar/holidays", None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("nightly"), "{}", r.text);
}

#[tokio::test]
async fn one_off_runs_and_pauses_are_checked_against_now() {
    let app = TestApp::new().await;
    // Both cronExpression and runAt: refused.
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(job(json!(
            {"cronExpression": "0 9 * * *", "runAt": "2026-03-05T10:00:00Z", "timezone": "UTC", "isEnabled": true}))))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A runAt in the past, enabled: refused.
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job(json!(
            {"runAt": "2026-02-01T10:00:00Z", "timezone": "UTC", "isEnabled": true}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["errors"][0]["pointer"], "/payload/schedule/runAt");
    // Ahead: one run, and the schedule says so.
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job(json!(
            {"runAt": "2026-03-05T10:00:00Z", "timezone": "UTC", "isEnabled": true,
             "pausedUntil": "2026-02-01T00:00:00Z"}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["derived"]["nextRunAt"], "2026-03-05T10:00:00Z");
    assert!(
        r.body["derived"]["scheduleText"]
            .as_str()
            .unwrap()
            .starts_with("Once at 5 Mar 2026 10:00")
    );
    // A pause already over is dropped on save.
    assert!(
        r.body["payload"]["schedule"].get("pausedUntil").is_none(),
        "{}",
        r.text
    );
    let up = app.get("/api/v1/jobs/nightly/upcoming?count=5").await;
    assert_eq!(up.body["runs"].as_array().unwrap().len(), 1);
    // A pause ahead holds the run back.
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/nightly",
            Some(json!({"payload": {"schedule": {"pausedUntil": "2026-03-06T00:00:00Z"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["derived"]["nextRunAt"].is_null(), "{}", r.text);
}
