//! Backfill, per-run overrides and chained jobs through the API, over a
//! real engine on a real SQLite file (the store tests cover PostgreSQL).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::executions::EngineApp;

async fn backfill(t: &EngineApp, id: &str, body: Value) -> crate::common::Reply {
    t.app
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{id}/backfill"),
            Some(body),
        )
        .await
}

fn pointers(r: &crate::common::Reply) -> Vec<String> {
    crate::common::pointers(r)
}

#[tokio::test]
async fn backfill_runs_each_past_slot_once_and_counts_what_was_recorded() {
    // Now is 2026-03-01 12:00 UTC; the job runs daily at 02:00, schedule off.
    let t = EngineApp::new().await;
    t.create_job("nightly", 5).await;
    let r = backfill(
        &t,
        "nightly",
        json!({"from": "2026-02-20T00:00:00Z", "to": "2026-02-25T00:00:00Z"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["slots"], 5);
    assert_eq!(r.body["alreadyRecorded"], 0);
    let ids: Vec<String> = r.body["runIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 5);
    let first = t.wait_final(&ids[0]).await;
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(first["trigger"], "backfill");
    assert_eq!(first["scheduledFor"], "2026-02-20T02:00:00Z");
    let last = t.wait_final(&ids[4]).await;
    assert_eq!(last["scheduledFor"], "2026-02-24T02:00:00Z");

    // An overlapping range runs only the slots not yet recorded.
    let r = backfill(
        &t,
        "nightly",
        json!({"from": "2026-02-23T00:00:00Z", "to": "2026-02-27T00:00:00Z"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["slots"], 4);
    assert_eq!(r.body["alreadyRecorded"], 2);
    assert_eq!(r.body["runIds"].as_array().unwrap().len(), 2);
    let history = t.app.get("/api/v1/jobs/nightly/executions?limit=100").await;
    let slots: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["scheduledFor"].as_str().unwrap())
        .collect();
    assert_eq!(slots.len(), 7, "every slot once: {slots:?}");
    let mut unique = slots.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 7);
}

#[tokio::test]
async fn backfill_refuses_bad_ranges_at_their_field() {
    let t = EngineApp::new().await;
    t.create_job("nightly", 5).await;
    let cases = [
        (
            json!({"from": "2026-02-25T00:00:00Z", "to": "2026-02-20T00:00:00Z"}),
            "/to",
        ),
        (
            json!({"from": "2026-02-25T00:00:00Z", "to": "2026-03-05T00:00:00Z"}),
            "/to",
        ),
        (
            json!({"from": "yesterday", "to": "2026-02-20T00:00:00Z"}),
            "/from",
        ),
        (json!({"to": "2026-02-20T00:00:00Z"}), "/from"),
        // 02:00 daily for four years: more than 1,000 slots.
        (
            json!({"from": "2022-01-01T00:00:00Z", "to": "2026-02-20T00:00:00Z"}),
            "/from",
        ),
        (
            json!({"from": "2026-02-20T00:00:00Z", "to": "2026-02-21T00:00:00Z", "params": {}}),
            "/params",
        ),
    ];
    for (body, pointer) in cases {
        let r = backfill(&t, "nightly", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert!(
            pointers(&r).contains(&pointer.to_owned()),
            "{body}: {}",
            r.text
        );
    }
    let r = backfill(
        &t,
        "nope",
        json!({"from": "2026-02-20T00:00:00Z", "to": "2026-02-21T00:00:00Z"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let history = t.app.get("/api/v1/jobs/nightly/executions").await;
    assert_eq!(history.body["items"], json!([]), "nothing was queued");
}

#[tokio::test]
async fn run_now_with_options_runs_the_merged_config_and_retry_reuses_it() {
    let t = EngineApp::new().await;
    t.create_job("job", 5).await;
    // A bad option: refused with a pointer into the body, nothing queued.
    let r = t
        .app
        .call(
            Method::POST,
            "/api/v1/jobs/job/run",
            Some(json!({"limits": {"batchSize": 0}, "parameters": {"checks": ["nope"]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let p = pointers(&r);
    assert!(p.contains(&"/limits/batchSize".to_owned()), "{p:?}");
    assert!(
        p.iter().any(|p| p.starts_with("/parameters/checks")),
        "{p:?}"
    );
    let history = t.app.get("/api/v1/jobs/job/executions").await;
    assert_eq!(history.body["items"], json!([]));

    // The test job fails when its batch size is 13: the override reaches it.
    let r = t
        .app
        .call(
            Method::POST,
            "/api/v1/jobs/job/run",
            Some(json!({"limits": {"batchSize": 13}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let run = t.wait_final(r.body["runId"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["overrides"], json!({"limits": {"batchSize": 13}}));
    let retry = t
        .app
        .call(
            Method::POST,
            &format!(
                "/api/v1/executions/{}/retry",
                run["runId"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{}", retry.text);
    let again = t.wait_final(retry.body["runId"].as_str().unwrap()).await;
    assert_eq!(again["overrides"], json!({"limits": {"batchSize": 13}}));
    assert_eq!(again["status"], "failed");
    // The stored config is untouched; a plain Run Now succeeds.
    let plain = t.run("job").await;
    assert_eq!(t.wait_final(&plain).await["status"], "success");
}

#[tokio::test]
async fn chained_jobs_run_once_per_parent_with_its_slot() {
    let t = EngineApp::new().await;
    t.create_job("report", 5).await;
    t.create_job("cleanup", 5).await;
    t.create_job("alarm", 5).await;
    // Targets must exist; a chain must not come back.
    let patch = |id: &str, triggers: Value| {
        let t = &t;
        let id = id.to_owned();
        async move {
            t.app
                .call(
                    Method::PATCH,
                    &format!("/api/v1/objects/job-config/{id}"),
                    Some(json!({"payload": {"triggers": triggers}})),
                )
                .await
        }
    };
    let r = patch("report", json!({"onSuccess": ["cleanup", "ghost"]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(pointers(&r), ["/payload/triggers/onSuccess/1"]);
    let r = patch(
        "report",
        json!({"onSuccess": ["cleanup"], "onFailure": ["alarm"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = patch("cleanup", json!({"onSuccess": ["report"]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("cleanup → report → cleanup"), "{}", r.text);

    // cleanup's schedule is off: chained, it is recorded as skipped
    // (disabled). Turn it on and backfill one slot of report.
    let r = t
        .app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/cleanup",
            Some(json!({"payload": {"schedule": {"isEnabled": true}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = backfill(
        &t,
        "report",
        json!({"from": "2026-02-27T00:00:00Z", "to": "2026-02-28T00:00:00Z"}),
    )
    .await;
    let parent = r.body["runIds"][0].as_str().unwrap().to_owned();
    assert_eq!(t.wait_final(&parent).await["status"], "success");
    let child = wait_for_chained(&t, "cleanup", &parent).await;
    assert_eq!(child["trigger"], "chain");
    assert_eq!(child["scheduledFor"], "2026-02-27T02:00:00Z");
    let child = t.wait_final(child["runId"].as_str().unwrap()).await;
    assert_eq!(child["status"], "success");
    // Success does not start onFailure targets.
    let alarm = t.app.get("/api/v1/jobs/alarm/executions").await;
    assert_eq!(alarm.body["items"], json!([]));

    // A failed last attempt starts onFailure; alarm's schedule is off.
    let r = t
        .app
        .call(
            Method::POST,
            "/api/v1/jobs/report/run",
            Some(json!({"limits": {"batchSize": 13}})),
        )
        .await;
    let failed = r.body["runId"].as_str().unwrap().to_owned();
    assert_eq!(t.wait_final(&failed).await["status"], "failed");
    let alarm = wait_for_chained(&t, "alarm", &failed).await;
    assert_eq!(alarm["status"], "skipped");
    assert_eq!(alarm["reason"], "disabled");
    assert_eq!(alarm["scheduledFor"], Value::Null, "Run Now has no slot");
}

/// The execution of `target` that `parent` started (10 s at most).
async fn wait_for_chained(t: &EngineApp, target: &str, parent: &str) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let h = t
            .app
            .get(&format!("/api/v1/jobs/{target}/executions?limit=100"))
            .await;
        let found: Vec<&Value> = h.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["parentRunId"] == parent)
            .collect();
        if let [one] = found.as_slice() {
            return (*one).clone();
        }
        assert!(found.len() < 2, "one chained run per parent: {}", h.text);
        assert!(tokio::time::Instant::now() < deadline, "{}", h.text);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_status_tab_backfills_runs_with_options_and_links_chained_jobs() {
    use crate::common::OPERATOR;
    use crate::console::{Session, location};
    let t = EngineApp::new().await;
    t.create_job("nightly", 5).await;
    t.create_job("cleanup", 5).await;
    let r = t
        .app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/nightly",
            Some(json!({"payload": {"triggers": {"onSuccess": ["cleanup"]}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = Session::new(&t.app, OPERATOR).await;
    let page = s.get("/console/jobs/nightly").await;
    assert!(page.text.contains("Run with options…"), "{}", page.text);
    assert!(page.text.contains("Backfill…"));
    assert!(
        page.text.contains("after each run that succeeds"),
        "{}",
        page.text
    );
    let downstream = s.get("/console/jobs/cleanup").await;
    assert!(
        downstream
            .text
            .contains("Started by <a href=\"/console/jobs/nightly\">nightly</a> when it succeeds"),
        "{}",
        downstream.text
    );

    // Backfill two days, in the job's zone (UTC).
    let r = s
        .post(
            "/console/jobs/nightly/backfill",
            &[("from", "2026-02-20T00:00"), ("to", "2026-02-22T00:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        location(&r),
        "/console/jobs/nightly?queued=2&slots=2&recorded=0#status"
    );
    let page = s
        .get("/console/jobs/nightly?queued=2&slots=2&recorded=0")
        .await;
    assert!(
        page.text.contains("Backfill: 2 runs queued for 2 slots."),
        "{}",
        page.text
    );
    // A range reaching into the future is refused at its field, with the form again.
    let r = s
        .post(
            "/console/jobs/nightly/backfill",
            &[("from", "2026-02-20T00:00"), ("to", "2026-03-20T00:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("<code>/to</code>"), "{}", r.text);
    assert!(r.text.contains("value=\"2026-03-20T00:00\""));

    // Run with options: bad JSON is refused, good options open the run.
    let r = s
        .post(
            "/console/jobs/nightly/run-with",
            &[("options", "{\"limits\": ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("is not JSON"), "{}", r.text);
    let r = s
        .post(
            "/console/jobs/nightly/run-with",
            &[("options", "{\"limits\": {\"batchSize\": 13}}")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let run_id = location(&r)
        .trim_start_matches("/console/executions/")
        .to_owned();
    let run = t.wait_final(&run_id).await;
    assert_eq!(run["overrides"], json!({"limits": {"batchSize": 13}}));
    assert_eq!(run["status"], "failed");

    // The chained run's page links to its parent.
    let parent = t.run("nightly").await;
    assert_eq!(t.wait_final(&parent).await["status"], "success");
    let child = wait_for_chained(&t, "cleanup", &parent).await;
    let page = s
        .get(&format!(
            "/console/executions/{}",
            child["runId"].as_str().unwrap()
        ))
        .await;
    assert!(
        page.text.contains(&format!("data-parent-run=\"{parent}\"")),
        "{}",
        page.text
    );
}
