//! Calendars, pauses, jitter and one-off runs in the console: the calendar
//! editor, the job editor's schedule fields validated at their field, the
//! preview and Status tab striking excluded slots through, the card's
//! "Paused until …" and "Ran once at …", and the timeline.

use axum::http::StatusCode;
use grove_core::registry::CALENDAR;
use serde_json::json;

use crate::common::{OPERATOR, TestApp};
use crate::console::{Session, field_html, location};

/// The calendar form: whole days, one range row and one weekly row.
fn calendar_form<'a>(range: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
    vec![
        ("version", "0"),
        ("/meta/id", "holidays"),
        ("/meta/title", "Holidays"),
        ("/meta/description", ""),
        ("/payload/timezone", ""),
        ("/payload/dates", "2026-03-03"),
        ("range.from", range.0),
        ("range.to", range.1),
        ("range.from", ""),
        ("range.to", ""),
        ("weekly.row", "0"),
        ("weekly.0.days", "SAT"),
        ("weekly.0.days", "SUN"),
        ("weekly.0.from", "00:00"),
        ("weekly.0.to", "23:59"),
        ("weekly.row", "1"),
        ("weekly.1.from", ""),
        ("weekly.1.to", ""),
    ]
}

/// The new-job form of a health check, with schedule fields overridden.
fn health_form<'a>(id: &'a str, schedule: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = vec![
        ("version", "0"),
        ("jobType", "health-check"),
        ("/meta/id", id),
        ("/meta/title", id),
        ("/payload/displayName", id),
        ("/payload/schedule/timezone", "UTC"),
        ("/payload/schedule/isEnabled", "true"),
        ("/payload/schedule/misfirePolicy", "run-once"),
        ("/payload/schedule/startingDeadlineSeconds", "3600"),
        ("/payload/schedule/dstPolicy", "cron"),
        ("/payload/schedule/overlapPolicy", "skip"),
        ("/payload/schedule/autoDisableAfterFailures", "0"),
        ("/payload/limits/batchSize", "10"),
        ("/payload/limits/timeoutSeconds", "60"),
        ("/payload/limits/maxConcurrent", "1"),
        ("/payload/retry/maxAttempts", "1"),
        ("/payload/retry/backoffStrategy", "fixed"),
        ("/payload/retry/initialDelaySeconds", "1"),
        ("/payload/retry/maxDelaySeconds", "1"),
        ("/payload/parameters/checks", "database"),
        ("/payload/parameters/alertThreshold", "critical"),
        ("/payload/notifications/channels", "log"),
    ];
    f.extend_from_slice(schedule);
    f
}

async fn create_holidays(s: &Session<'_>) {
    let r = s
        .post(
            "/console/calendars",
            &calendar_form(("2026-03-10T18:00", "2026-03-12T06:00")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), "/console/calendars/holidays?notice=created");
}

#[tokio::test]
async fn a_calendar_is_created_edited_and_shown_in_the_console() {
    let app = TestApp::new().await;
    let s = Session::new(&app, OPERATOR).await;
    let page = s.get("/console/calendars/new").await;
    assert_eq!(page.status, StatusCode::OK);
    for name in [
        "/payload/dates",
        "range.from",
        "weekly.0.days",
        "/payload/timezone",
    ] {
        assert!(page.text.contains(&format!("name=\"{name}\"")), "{name}");
    }

    // A range that ends before it starts is refused at its row; nothing is stored.
    let r = s
        .post(
            "/console/calendars",
            &calendar_form(("2026-03-12T06:00", "2026-03-10T18:00")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("range 1 (to): must be after from"),
        "{}",
        r.text
    );
    assert!(r.text.contains("class=\"error-summary\""));
    assert!(
        app.store
            .object_get(CALENDAR, "holidays")
            .await
            .unwrap()
            .is_none()
    );

    create_holidays(&s).await;
    let stored = app
        .store
        .object_get(CALENDAR, "holidays")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.payload,
        json!({"dates": ["2026-03-03"],
               "ranges": [{"from": "2026-03-10T18:00:00", "to": "2026-03-12T06:00:00"}],
               "weekly": [{"days": ["SAT", "SUN"], "from": "00:00:00", "to": "23:59:00"}]})
    );
    // The editor shows what is stored, the card sums it up.
    let page = s.get("/console/calendars/holidays").await;
    assert!(
        page.text.contains("value=\"2026-03-10T18:00:00\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("value=\"SUN\" checked"), "{}", page.text);
    let grid = s.get("/console?type=calendar").await;
    assert!(grid.text.contains("card--calendar"), "{}", grid.text);
    assert!(
        grid.text
            .contains("Excludes 1 day · 1 range · 1 weekly window")
    );
    assert!(s.get("/console/calendars/holidays/revisions").await.status == StatusCode::OK);
}

#[tokio::test]
async fn the_job_editor_takes_calendars_pauses_and_jitter_and_shows_what_runs() {
    let app = TestApp::new().await;
    let s = Session::new(&app, OPERATOR).await;
    create_holidays(&s).await;
    // The editor offers the calendar.
    let page = s.get("/console/jobs/new?jobType=health-check").await;
    let field = field_html(&page.text, "/payload/schedule/excludeCalendars");
    assert!(field.contains("value=\"holidays\""), "{field}");

    // A pause that is not an instant is refused at its field, inline.
    let bad = health_form(
        "daily",
        &[
            ("/payload/schedule/cronExpression", "0 9 * * *"),
            ("/payload/schedule/pausedUntil", "next monday"),
            ("/payload/schedule/jitterSeconds", "4000"),
        ],
    );
    let r = s.post("/console/jobs", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(field_html(&r.text, "/payload/schedule/pausedUntil").contains("aria-invalid=\"true\""));
    assert!(field_html(&r.text, "/payload/schedule/pausedUntil").contains("RFC 3339"));
    let summary = &r.text[r.text.find("error-summary").unwrap()..];
    let summary = &summary[..summary.find("</ul>").unwrap()];
    assert!(
        field_html(&r.text, "/payload/schedule/jitterSeconds").contains("aria-invalid=\"true\""),
        "{summary}"
    );

    // Now 2026-03-01 12:00 UTC (a Sunday). Paused until Monday 10:00, so
    // Monday 09:00 does not run; Tuesday 3 March is a holiday.
    let good = health_form(
        "daily",
        &[
            ("/payload/schedule/cronExpression", "0 9 * * *"),
            ("/payload/schedule/excludeCalendars", "holidays"),
            ("/payload/schedule/pausedUntil", "2026-03-02T10:00:00Z"),
            ("/payload/schedule/jitterSeconds", "120"),
        ],
    );
    let r = s.post("/console/jobs", &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = s.get("/console/jobs/daily").await;
    assert!(page.text.contains("Paused until"), "{}", page.text);
    assert!(
        page.text
            .contains("<s>Tue 3 Mar, 9:00 AM UTC</s> excluded by calendar holidays"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("<li>Wed 4 Mar, 9:00 AM UTC"),
        "{}",
        page.text
    );
    assert!(page.text.contains("up to 120 s after its slot"));
    let grid = s.get("/console?type=job-config").await;
    assert!(
        grid.text.contains("Paused until Tomorrow 10:00 AM UTC"),
        "{}",
        grid.text
    );

    // A calendar in use cannot be deleted; the refusal names the job.
    let r = s
        .post("/console/calendars/holidays/delete", &[("version", "1")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("daily"), "{}", r.text);
    assert!(
        app.store
            .object_get(CALENDAR, "holidays")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_one_off_run_says_when_it_runs_and_that_it_ran() {
    let app = TestApp::new().await;
    let s = Session::new(&app, OPERATOR).await;
    // Both a cron expression and Run Once At: refused, at runAt.
    let both = health_form(
        "once",
        &[
            ("/payload/schedule/cronExpression", "0 9 * * *"),
            ("/payload/schedule/runAt", "2026-03-01T18:00:00Z"),
        ],
    );
    let r = s.post("/console/jobs", &both).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(field_html(&r.text, "/payload/schedule/runAt").contains("not both"));

    let once = health_form(
        "once",
        &[
            ("/payload/schedule/cronExpression", ""),
            ("/payload/schedule/runAt", "2026-03-01T18:00:00Z"),
        ],
    );
    let r = s.post("/console/jobs", &once).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let grid = s.get("/console?type=job-config").await;
    assert!(
        grid.text.contains("<b>1 Mar 18:00</b><span>once</span>"),
        "{}",
        grid.text
    );
    assert!(grid.text.contains("Today 6:00 PM UTC"), "{}", grid.text);

    // An hour after its instant (the session is still fresh).
    app.clock.set("2026-03-01T19:00:00Z".parse().unwrap());
    let grid = s.get("/console?type=job-config").await;
    assert!(grid.text.contains("Ran once at"), "{}", grid.text);
    assert!(grid.text.contains("one-off run done"), "{}", grid.text);
    let page = s.get("/console/jobs/once").await;
    assert!(page.text.contains("Ran once at"), "{}", page.text);
}

#[tokio::test]
async fn the_timeline_strikes_excluded_slots_through() {
    let app = TestApp::new().await;
    let s = Session::new(&app, OPERATOR).await;
    create_holidays(&s).await;
    // Hourly; Sunday (today) is inside the weekend window.
    let hourly = health_form(
        "hourly",
        &[
            ("/payload/schedule/cronExpression", "0 * * * *"),
            ("/payload/schedule/excludeCalendars", "holidays"),
        ],
    );
    assert_eq!(
        s.post("/console/jobs", &hourly).await.status,
        StatusCode::SEE_OTHER
    );
    let page = s.get("/console/timeline").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("tl-mark excluded"), "{}", page.text);
    assert!(page.text.contains("Excluded by calendar"), "{}", page.text);
    // Sunday 13:00 is excluded, Monday 00:00 runs.
    assert!(
        page.text.contains("<s>Today 1:00 PM UTC</s>"),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains("<td>Today 1:00 PM UTC</td>"),
        "{}",
        page.text
    );
}
