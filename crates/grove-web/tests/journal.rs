//! The dead-man's switch over HTTP: `GET /api/v1/journal` (filters, order,
//! bad parameters), the `/metrics` lines, alerts in the payload, and the
//! `late` and `silent` badges on the console's cards.

use axum::http::{Method, StatusCode};
use grove_core::registry::JOB_CONFIG;
use grove_store::{JournalAppend, Store};
use serde_json::{Map, Value, json};

use crate::common::{TestApp, assert_problem, pointers};

async fn append(store: &dyn Store, event: &str, subject: &str) -> i64 {
    store
        .journal_append(JournalAppend {
            event_type: event.to_owned(),
            at: "2026-03-01T12:00:00Z".parse().unwrap(),
            subject: subject.to_owned(),
            message: format!("{event} about {subject}"),
            data: json!({"runId": format!("run-{subject}")}),
        })
        .await
        .expect("journal")
}

fn seqs(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_journal_filters_by_type_and_subject_newest_first() {
    let app = TestApp::new().await;
    let late_a = append(&*app.store, "job.late", "a").await;
    let silent_a = append(&*app.store, "job.silent", "a").await;
    let late_b = append(&*app.store, "job.late", "b").await;
    let failed_a = append(&*app.store, "job.failed", "a").await;

    let all = app.get("/api/v1/journal").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(seqs(&all.body), [failed_a, late_b, silent_a, late_a]);
    assert_eq!(all.body["nextCursor"], Value::Null);
    let first = &all.body["items"][0];
    assert_eq!(first["type"], "job.failed");
    assert_eq!(first["subject"], "a");
    assert_eq!(first["message"], "job.failed about a");
    assert_eq!(first["at"], "2026-03-01T12:00:00Z");
    assert_eq!(first["data"], json!({"runId": "run-a"}));

    let late = app.get("/api/v1/journal?type=job.late").await;
    assert_eq!(seqs(&late.body), [late_b, late_a]);
    let of_a = app.get("/api/v1/journal?subject=a").await;
    assert_eq!(seqs(&of_a.body), [failed_a, silent_a, late_a]);
    let alerts = app
        .get("/api/v1/journal?type=job.late,job.silent&subject=a&limit=1")
        .await;
    assert_eq!(seqs(&alerts.body), [silent_a]);
    let cursor = alerts.body["nextCursor"].as_str().expect("a next page");
    let next = app
        .get(&format!(
            "/api/v1/journal?type=job.late,job.silent&subject=a&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(seqs(&next.body), [late_a]);
    let none = app.get("/api/v1/journal?subject=nobody").await;
    assert_eq!(seqs(&none.body), Vec::<i64>::new());
}

#[tokio::test]
async fn the_journal_refuses_bad_parameters_and_anonymous_reads() {
    let app = TestApp::new().await;
    for query in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "type=job.nope",
        "cursor=abc",
        "since=2026",
        "limit=1&limit=2",
    ] {
        let r = app.get(&format!("/api/v1/journal?{query}")).await;
        assert_problem(&r, StatusCode::BAD_REQUEST);
    }
    let r = app.get("/api/v1/journal?type=job.nope").await;
    assert!(
        r.body["detail"].as_str().unwrap().contains("job.late"),
        "{}",
        r.text
    );
    let r = app.get("/api/v1/journal?limit=500").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get_anonymous("/api/v1/journal").await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
}

fn job(alerts: Value) -> Value {
    json!({
        "meta": {"id": "nightly", "title": "Nightly"},
        "payload": {
            "jobType": "health-check",
            "schedule": {"cronExpression": "0 2 * * *", "timezone": "UTC", "isEnabled": true},
            "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 0, "maxDelaySeconds": 0},
            "limits": {"batchSize": 10, "timeoutSeconds": 60, "maxConcurrent": 1},
            "parameters": {"checks": ["database"], "alertThreshold": "error"},
            "alerts": alerts
        }
    })
}

#[tokio::test]
async fn alerts_are_saved_validated_and_shown_in_health_metrics_and_cards() {
    let app = TestApp::new().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job(
                json!({"maxLatenessSeconds": 0, "maxSilenceSeconds": "1h"}),
            )),
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        pointers(&r),
        [
            "/payload/alerts/maxLatenessSeconds",
            "/payload/alerts/maxSilenceSeconds"
        ]
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job(
                json!({"maxLatenessSeconds": 300, "maxSilenceSeconds": 86400}),
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["payload"]["alerts"],
        json!({"maxLatenessSeconds": 300, "maxSilenceSeconds": 86400})
    );
    assert_eq!(r.body["derived"]["health"], "never-run");

    let metrics = app.get_anonymous("/metrics").await;
    assert!(
        metrics
            .text
            .lines()
            .any(|l| l == "grove_jobs_silent{config_id=\"nightly\"} 0"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("# TYPE grove_jobs_silent gauge"));

    // The engine raised job.silent (its engine state): silent everywhere.
    let mut state = Map::new();
    state.insert(
        "silence".to_owned(),
        json!({"at": "2026-03-02T12:00:00Z", "since": "2026-03-01T12:00:00Z", "maxSilenceSeconds": 86400}),
    );
    app.store
        .object_state_merge(JOB_CONFIG, "nightly", state)
        .await
        .unwrap();
    let r = app.get("/api/v1/objects/job-config/nightly").await;
    assert_eq!(r.body["derived"]["health"], "silent");
    assert_eq!(r.body["payload"]["silence"]["maxSilenceSeconds"], 86400);
    let metrics = app.get_anonymous("/metrics").await;
    for line in [
        "grove_jobs_silent{config_id=\"nightly\"} 1",
        "grove_job_configs{health=\"silent\"} 1",
    ] {
        assert!(
            metrics.text.lines().any(|l| l == line),
            "missing {line:?} in:\n{}",
            metrics.text
        );
    }
    // A GET → PUT round trip keeps the engine state out of the payload.
    let mut doc = r.body.clone();
    doc["meta"]["title"] = json!("Nightly check");
    let put = app
        .call_as(
            Method::PUT,
            "/api/v1/objects/job-config/nightly",
            Some(doc),
            Some(crate::common::OPERATOR),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["derived"]["health"], "silent");

    let session = app.sign_in(crate::common::VIEWER).await.expect("a session");
    let page = app
        .send(
            axum::http::Request::builder()
                .uri("/console?type=job-config")
                .header("cookie", format!("grove_session={session}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("badge badge-silent"),
        "the card shows the silent badge"
    );
    assert!(page.text.contains("Silent: no successful run since"));
}

#[test]
fn late_slots_are_a_counter_per_config() {
    use grove_web::api::prometheus::{Scrape, render};
    let scrape = Scrape {
        database_up: true,
        engine_running: true,
        engine: Some(grove_engine::metrics::MetricsSnapshot {
            late_slots: vec![("hourly".to_owned(), 3)],
            ..Default::default()
        }),
        lateness_watched: vec!["daily".to_owned(), "hourly".to_owned()],
        silence: vec![("daily".to_owned(), false)],
        ..Scrape::default()
    };
    let text = render(&scrape);
    assert!(text.contains("# TYPE grove_jobs_late_slots_total counter"));
    for line in [
        "grove_jobs_late_slots_total{config_id=\"daily\"} 0",
        "grove_jobs_late_slots_total{config_id=\"hourly\"} 3",
        "grove_jobs_silent{config_id=\"daily\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}
