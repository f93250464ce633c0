//! `GET /api/v1/schedule/preview`.

use axum::http::StatusCode;

use crate::common::{TestApp, pointers};

#[tokio::test]
async fn preview_lists_runs_with_dst_notes() {
    let app = TestApp::new().await;
    let r = app
        .get("/api/v1/schedule/preview?cron=30%202%20*%20*%20*&tz=America/Los_Angeles&count=2&after=2026-03-07T12:00:00Z")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["next"][0], "2026-03-08T10:00:00Z");
    assert_eq!(r.body["runs"][0]["abbreviation"], "PDT");
    assert_eq!(r.body["runs"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["notes"][0],
        "Sun 8 Mar: 02:30 does not exist in America/Los_Angeles; runs at 03:00 PDT"
    );
    assert!(r.body["description"].as_str().unwrap().contains("2:30 AM"));
}

#[tokio::test]
async fn preview_defaults_to_utc_and_the_clock() {
    let app = TestApp::new().await;
    let r = app
        .get("/api/v1/schedule/preview?cron=0%202%20*%20*%20*")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["timezone"], "UTC");
    assert_eq!(r.body["next"][0], "2026-03-02T02:00:00Z");
    assert_eq!(r.body["next"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn preview_errors_name_the_parameter() {
    let app = TestApp::new().await;
    let r = app
        .get("/api/v1/schedule/preview?cron=61%20*%20*%20*%20*")
        .await;
    assert_eq!(pointers(&r), ["/cron"]);
    let r = app
        .get("/api/v1/schedule/preview?cron=0%200%2030%202%20*")
        .await;
    assert_eq!(pointers(&r), ["/cron"]);
    let r = app
        .get("/api/v1/schedule/preview?cron=*%20*%20*%20*%20*&tz=Mars/Base")
        .await;
    assert_eq!(pointers(&r), ["/tz"]);
    let r = app
        .get("/api/v1/schedule/preview?count=0&after=yesterday")
        .await;
    assert_eq!(pointers(&r), ["/cron", "/count", "/after"]);
}
