//! The object API: every endpoint and its error paths.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{OPERATOR, TestApp, VIEWER, assert_problem, pointers};

fn job(id: &str, cron: &str) -> Value {
    json!({
        "meta": {"id": id, "type": "job-config", "title": format!("Job {id}")},
        "payload": {
            "jobType": "signal-aggregation",
            "schedule": {"cronExpression": cron, "timezone": "Europe/Berlin", "isEnabled": true},
            "retry": {"maxAttempts": 3, "backoffStrategy": "fixed", "initialDelaySeconds": 10, "maxDelaySeconds": 60},
            "limits": {"batchSize": 500, "timeoutSeconds": 600, "maxConcurrent": 1},
            "parameters": {"periods": ["all_time", "last_7d"]}
        }
    })
}

fn rule(id: &str) -> Value {
    json!({
        "meta": {"id": id, "title": "Seed to Sprout"},
        "payload": {
            "fromTier": "seed", "toTier": "sprout",
            "conditions": [{"signal": "retrievals", "operator": ">=", "threshold": 10}],
            "match": "all"
        }
    })
}

#[tokio::test]
async fn health_readiness_and_types() {
    let app = TestApp::new().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["database"], "sqlite");
    let r = app.get("/api/v1/types").await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items[0]["type"], "job-config");
    assert_eq!(items[0]["color"], "#E65100");
    assert_eq!(
        items[0]["metrics"][0]["query"],
        "count(where: payload.schedule.isEnabled=true)"
    );
    assert_eq!(items[0]["defaultPayload"]["schedule"]["isEnabled"], false);
    assert_eq!(items[1]["type"], "advancement-rule");
    assert_eq!(items[1]["color"], "#1976D2");
}

#[tokio::test]
async fn seeded_configs_are_listed_with_derived_fields() {
    let app = TestApp::seeded().await;
    let r = app.get("/api/v1/objects/job-config").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["total"], 5);
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["meta"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "advancement-batch",
            "health-check",
            "notification-digest",
            "orphan-cleanup",
            "signal-aggregation"
        ]
    );
    let adv = app
        .get("/api/v1/objects/job-config/advancement-batch")
        .await;
    assert_eq!(adv.status, StatusCode::OK);
    assert_eq!(adv.headers["etag"], "\"1\"");
    let p = &adv.body["payload"];
    assert_eq!(
        p["schedule"],
        json!({
            "cronExpression": "0 2 * * *", "timezone": "UTC", "isEnabled": true,
            "misfirePolicy": "run-once", "startingDeadlineSeconds": 3600, "dstPolicy": "cron",
            "overlapPolicy": "skip", "autoDisableAfterFailures": 5
        })
    );
    assert_eq!(p["retry"]["maxDelaySeconds"], 3600);
    assert_eq!(
        p["limits"],
        json!({"batchSize": 100, "timeoutSeconds": 3600, "maxConcurrent": 1})
    );
    assert_eq!(
        p["parameters"],
        json!({"jobType": "advancement-batch", "signalPeriod": "all_time", "dryRun": false})
    );
    assert_eq!(p["displayName"], "Daily Advancement Batch");
    assert_eq!(adv.body["meta"]["version"], 1);
    // The test clock says 2026-03-01T12:00Z: the next 02:00 UTC is tomorrow.
    assert_eq!(adv.body["derived"]["nextRunAt"], "2026-03-02T02:00:00Z");
    assert_eq!(adv.body["derived"]["health"], "never-run");
    assert!(
        adv.body["derived"]["scheduleText"]
            .as_str()
            .unwrap()
            .contains("UTC")
    );
    let other = app.get("/api/v1/objects/job-config/health-check").await;
    assert_eq!(other.body["payload"]["schedule"]["isEnabled"], false);
    assert_eq!(other.body["derived"]["health"], "disabled");
    assert_eq!(other.body["derived"]["nextRunAt"], Value::Null);
}

#[tokio::test]
async fn create_read_and_location() {
    let app = TestApp::new().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job("agg", "*/15 * * * *")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers["location"], "/api/v1/objects/job-config/agg");
    assert_eq!(r.body["meta"]["version"], 1);
    assert_eq!(r.body["meta"]["createdBy"], "ops");
    assert_eq!(
        r.body["payload"]["parameters"]["jobType"],
        "signal-aggregation"
    );
    assert_eq!(r.body["payload"]["displayName"], "Job agg");
    assert_eq!(r.body["derived"]["nextRunAt"], "2026-03-01T12:15:00Z");
    let got = app.get("/api/v1/objects/job-config/agg").await;
    assert_eq!(got.body["payload"], r.body["payload"]);
}

#[tokio::test]
async fn create_generates_an_id_and_ignores_client_version() {
    let app = TestApp::new().await;
    let mut body = job("x", "0 * * * *");
    body["meta"] =
        json!({"title": "Hourly Rollup", "version": "1.0", "createdAt": "1999-01-01T00:00:00Z"});
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["meta"]["id"], "hourly-rollup");
    assert_eq!(r.body["meta"]["version"], 1);
    assert_eq!(r.body["meta"]["createdAt"], "2026-03-01T12:00:00Z");
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(body))
        .await;
    assert_eq!(r.body["meta"]["id"], "hourly-rollup-2");
}

#[tokio::test]
async fn brief_seeding_json_is_accepted_as_is() {
    let app = TestApp::new().await;
    let body = json!({
        "meta": {"id": "adv2", "type": "job-config", "version": "1.0", "title": "Daily Advancement Batch",
                 "description": "Daily evaluation of sprouts for tier advancement"},
        "payload": grove_core::job_config::seed_advancement_payload(),
    });
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["payload"]["notifications"],
        json!({"onSuccess": false, "onFailure": true, "channels": ["log"]})
    );
}

#[tokio::test]
async fn duplicate_id_conflicts_with_current_object() {
    let app = TestApp::new().await;
    app.call(
        Method::POST,
        "/api/v1/objects/job-config",
        Some(job("a", "0 * * * *")),
    )
    .await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(job("a", "5 * * * *")),
        )
        .await;
    let body = assert_problem(&r, StatusCode::CONFLICT);
    assert_eq!(
        body["current"]["payload"]["schedule"]["cronExpression"],
        "0 * * * *"
    );
}

#[tokio::test]
async fn validation_reports_every_problem_with_pointers() {
    let app = TestApp::new().await;
    let mut body = job("bad", "61 * * * *");
    body["payload"]["schedule"]["timezone"] = json!("Mars/Olympus");
    body["payload"]["retry"]["maxAttempts"] = json!(0);
    body["payload"]["retry"]["initialDelaySeconds"] = json!(100);
    body["payload"]["limits"]["batchSize"] = json!(-5);
    body["payload"]["limits"]["timeoutSecs"] = json!(5);
    body["payload"]["parameters"]["periods"] = json!(["yesterday"]);
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(body))
        .await;
    let mut got = pointers(&r);
    got.sort();
    assert_eq!(
        got,
        [
            "/payload/limits/batchSize",
            "/payload/limits/timeoutSecs",
            "/payload/parameters/periods/0",
            "/payload/retry/initialDelaySeconds",
            "/payload/retry/maxAttempts",
            "/payload/schedule/cronExpression",
            "/payload/schedule/timezone",
        ]
    );
    let text = r.text.clone();
    assert!(
        text.contains("did you mean \\\"timeoutSeconds\\\""),
        "{text}"
    );
    assert!(text.contains("unknown time zone"), "{text}");
    // Nothing was written.
    assert_eq!(app.get("/api/v1/objects/job-config").await.body["total"], 0);
}

#[tokio::test]
async fn parameters_job_type_must_match() {
    let app = TestApp::new().await;
    let mut body = job("m", "0 * * * *");
    body["payload"]["parameters"]["jobType"] = json!("health-check");
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(body))
        .await;
    assert_eq!(pointers(&r), ["/payload/parameters/jobType"]);
}

#[tokio::test]
async fn meta_type_must_match_the_path_and_types_must_exist() {
    let app = TestApp::new().await;
    let mut body = job("m", "0 * * * *");
    body["meta"]["type"] = json!("advancement-rule");
    let r = app
        .call(Method::POST, "/api/v1/objects/job-config", Some(body))
        .await;
    assert_eq!(pointers(&r), ["/meta/type"]);
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/widget",
            Some(job("w", "0 * * * *")),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    let r = app.get("/api/v1/objects/widget").await;
    assert_problem(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn malformed_bodies_are_4xx_problems() {
    let app = TestApp::new().await;
    let r = app
        .raw(
            Method::POST,
            "/api/v1/objects/job-config",
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    let r = app
        .raw(
            Method::POST,
            "/api/v1/objects/job-config",
            Some("text/plain"),
            b"{}".to_vec(),
        )
        .await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .raw(
            Method::POST,
            "/api/v1/objects/job-config",
            None,
            b"{}".to_vec(),
        )
        .await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!(
        "{{\"meta\": {{\"title\": \"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = app
        .raw(
            Method::POST,
            "/api/v1/objects/job-config",
            Some("application/json"),
            big.into_bytes(),
        )
        .await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(json!([1, 2])),
        )
        .await;
    assert_eq!(pointers(&r), [""]);
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(json!({"meta": {"title": "t"}})),
        )
        .await;
    assert_eq!(pointers(&r), ["/payload"]);
    let r = app.get("/api/v1/nothing-here").await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    let r = app.call(Method::DELETE, "/api/v1/types", None).await;
    assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn mutations_need_a_token_with_the_operator_role() {
    let app = TestApp::new().await;
    let path = "/api/v1/objects/job-config";
    let r = app
        .call_as(Method::POST, path, Some(job("a", "0 * * * *")), None, &[])
        .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let r = app
        .call_as(
            Method::POST,
            path,
            Some(job("a", "0 * * * *")),
            Some("gj_wrong"),
            &[],
        )
        .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
    let r = app
        .call_as(
            Method::POST,
            path,
            Some(job("a", "0 * * * *")),
            Some(VIEWER),
            &[],
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app
        .call_as(
            Method::POST,
            path,
            Some(job("a", "0 * * * *")),
            Some(OPERATOR),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for (method, p) in [
        (Method::PUT, "/api/v1/objects/job-config/a"),
        (Method::PATCH, "/api/v1/objects/job-config/a"),
        (Method::DELETE, "/api/v1/objects/job-config/a"),
        (Method::POST, "/api/v1/objects/job-config/a/duplicate"),
        (
            Method::POST,
            "/api/v1/objects/job-config/a/revisions/1/restore",
        ),
    ] {
        let r = app
            .call_as(method.clone(), p, Some(json!({})), None, &[])
            .await;
        assert_problem(&r, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.get("/api/v1/objects/job-config/a").await.body["meta"]["version"],
        1
    );
}

#[tokio::test]
async fn get_put_round_trips_and_bumps_version() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    let mut obj = app.get(path).await.body;
    obj["payload"]["schedule"]["cronExpression"] = json!("0 3 * * *");
    let r = app.call(Method::PUT, path, Some(obj)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["meta"]["version"], 2);
    assert_eq!(r.headers["etag"], "\"2\"");
    assert_eq!(r.body["derived"]["nextRunAt"], "2026-03-02T03:00:00Z");
    assert_eq!(r.body["meta"]["updatedBy"], "ops");
}

#[tokio::test]
async fn stale_writes_conflict_with_the_current_object() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    let original = app.get(path).await.body;
    let mut first = original.clone();
    first["payload"]["limits"]["batchSize"] = json!(50);
    assert_eq!(
        app.call(Method::PUT, path, Some(first)).await.status,
        StatusCode::OK
    );
    // A second editor saves from the version they loaded (meta.version 1).
    let mut second = original.clone();
    second["payload"]["limits"]["batchSize"] = json!(75);
    let r = app.call(Method::PUT, path, Some(second.clone())).await;
    let body = assert_problem(&r, StatusCode::CONFLICT);
    assert_eq!(body["current"]["meta"]["version"], 2);
    assert_eq!(body["current"]["payload"]["limits"]["batchSize"], 50);
    // If-Match takes precedence over the body's version.
    let r = app
        .call_as(
            Method::PUT,
            path,
            Some(second.clone()),
            Some(OPERATOR),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = app
        .call_as(
            Method::PUT,
            path,
            Some(second),
            Some(OPERATOR),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["payload"]["limits"]["batchSize"], 75);
    let r = app
        .call_as(
            Method::PATCH,
            path,
            Some(json!({})),
            Some(OPERATOR),
            &[("if-match", "banana")],
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_weak_if_match_never_matches() {
    // RFC 9110 §13.1.1: If-Match uses the strong comparison, so W/"1" fails
    // the precondition even though version 1 is the one stored.
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    let original = app.get(path).await.body;
    assert_eq!(original["meta"]["version"], 1);
    for (method, body) in [
        (Method::PUT, Some(original.clone())),
        (Method::PATCH, Some(json!({"meta": {"title": "Renamed"}}))),
        (Method::DELETE, None),
    ] {
        let r = app
            .call_as(
                method.clone(),
                path,
                body,
                Some(OPERATOR),
                &[("if-match", "W/\"1\"")],
            )
            .await;
        let problem = assert_problem(&r, StatusCode::PRECONDITION_FAILED);
        assert!(
            problem["detail"].as_str().unwrap().contains("weak"),
            "{method}: {problem}"
        );
    }
    // Nothing changed, and the strong tag still works.
    let now = app.get(path).await;
    assert_eq!(now.body["meta"]["version"], 1);
    assert_eq!(now.body["meta"]["title"], original["meta"]["title"]);
    let r = app
        .call_as(
            Method::PATCH,
            path,
            Some(json!({"meta": {"title": "Renamed"}})),
            Some(OPERATOR),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn hostile_strings_are_refused_at_their_pointer() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    for (patch, pointer) in [
        (
            json!({"meta": {"title": "\u{200b}\u{200d}\u{feff}"}}),
            "/meta/title",
        ),
        (json!({"meta": {"title": "abc\u{202e}def"}}), "/meta/title"),
        (json!({"meta": {"title": "abc\u{0}def"}}), "/meta/title"),
        (
            json!({"payload": {"displayName": "\u{200b}"}}),
            "/payload/displayName",
        ),
        (
            json!({"payload": {"schedule": {"timezone": "localtime"}}}),
            "/payload/schedule/timezone",
        ),
        (
            json!({"payload": {"schedule": {"timezone": "Factory"}}}),
            "/payload/schedule/timezone",
        ),
        (
            json!({"payload": {"schedule": {"cronExpression": "30/4294967295 * * * *"}}}),
            "/payload/schedule/cronExpression",
        ),
    ] {
        let r = app
            .call_as(
                Method::PATCH,
                path,
                Some(patch.clone()),
                Some(OPERATOR),
                &[],
            )
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            pointers(&r).contains(&pointer.to_owned()),
            "{patch}: {}",
            r.text
        );
    }
    let r = app
        .get("/api/v1/schedule/preview?cron=0%202%20*%20*%20*&tz=localtime")
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
}

#[tokio::test]
async fn unknown_sort_and_filter_paths_are_refused() {
    let app = TestApp::seeded().await;
    let base = "/api/v1/objects/job-config";
    for bad in [
        "sort=meta.nope",
        "sort=payload.schedule.cron",
        "filter.payload.nope=1",
        "filter.derived.colour=red",
    ] {
        let r = app.get(&format!("{base}?{bad}")).await;
        let problem = assert_problem(&r, StatusCode::BAD_REQUEST);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("meta.title") && detail.contains("payload.schedule.cronExpression"),
            "{bad}: {detail}"
        );
    }
    for good in [
        "sort=payload.lastExecution.completedAt",
        "filter.payload.parameters.dryRun=false",
        "sort=derived.nextRunAt",
    ] {
        let r = app.get(&format!("{base}?{good}")).await;
        assert_eq!(r.status, StatusCode::OK, "{good}: {}", r.text);
    }
}

#[tokio::test]
async fn merge_patch_changes_only_what_it_names() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    let r = app
        .call_as(
            Method::PATCH,
            path,
            Some(json!({"payload": {"limits": {"batchSize": 50}}})),
            Some(OPERATOR),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["payload"]["limits"],
        json!({"batchSize": 50, "timeoutSeconds": 3600, "maxConcurrent": 1})
    );
    assert_eq!(r.body["meta"]["version"], 2);
    let r = app
        .call(
            Method::PATCH,
            path,
            Some(json!({"payload": {"schedule": {"isEnabled": false}}})),
        )
        .await;
    assert_eq!(r.body["derived"]["health"], "disabled");
    let r = app
        .call(
            Method::PATCH,
            path,
            Some(json!({"payload": {"limits": {"batchSize": 0}}})),
        )
        .await;
    assert_eq!(pointers(&r), ["/payload/limits/batchSize"]);
    let r = app
        .call(
            Method::PATCH,
            path,
            Some(json!({"payload": {"retry": null}})),
        )
        .await;
    assert_eq!(pointers(&r), ["/payload/retry"]);
    let r = app.call(Method::PATCH, path, Some(json!([1]))).await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(path).await.body["meta"]["version"], 3);
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/nope",
            Some(json!({})),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn read_only_fields_sent_back_are_ignored() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    let mut obj = app.get(path).await.body;
    obj["payload"]["lastExecution"] = json!({"status": "failed", "runId": "forged"});
    obj["derived"]["health"] = json!("critical");
    obj["meta"]["createdAt"] = json!("2000-01-01T00:00:00Z");
    let r = app.call(Method::PUT, path, Some(obj)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["payload"].get("lastExecution").is_none());
    assert_eq!(r.body["derived"]["health"], "never-run");
    assert_ne!(r.body["meta"]["createdAt"], "2000-01-01T00:00:00Z");
}

#[tokio::test]
async fn put_cannot_change_the_id() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    let mut obj = app.get(path).await.body;
    obj["meta"]["id"] = json!("other");
    let r = app.call(Method::PUT, path, Some(obj)).await;
    assert_eq!(pointers(&r), ["/meta/id"]);
}

#[tokio::test]
async fn delete_then_404() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/health-check";
    let r = app
        .call_as(
            Method::DELETE,
            path,
            None,
            Some(OPERATOR),
            &[("if-match", "\"9\"")],
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = app.call(Method::DELETE, path, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_problem(&app.get(path).await, StatusCode::NOT_FOUND);
    assert_problem(
        &app.call(Method::DELETE, path, None).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn duplicate_makes_a_disabled_copy() {
    let app = TestApp::seeded().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config/advancement-batch/duplicate",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["meta"]["id"], "advancement-batch-copy");
    assert_eq!(r.body["meta"]["title"], "Daily Advancement Batch (copy)");
    assert_eq!(r.body["payload"]["schedule"]["isEnabled"], false);
    assert_eq!(
        r.headers["location"],
        "/api/v1/objects/job-config/advancement-batch-copy"
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config/advancement-batch/duplicate",
            Some(json!({"id": "staging", "title": "Staging"})),
        )
        .await;
    assert_eq!(r.body["meta"]["id"], "staging");
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config/advancement-batch/duplicate",
            Some(json!({"id": "staging"})),
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config/advancement-batch/duplicate",
            Some(json!({"id": "a b"})),
        )
        .await;
    assert_eq!(pointers(&r), ["/id"]);
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config/missing/duplicate",
            None,
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn revisions_list_and_restore_as_a_new_version() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/advancement-batch";
    app.call(
        Method::PATCH,
        path,
        Some(json!({"payload": {"schedule": {"cronExpression": "0 3 * * *"}}})),
    )
    .await;
    app.call(
        Method::PATCH,
        path,
        Some(json!({"payload": {"limits": {"batchSize": 10}}})),
    )
    .await;
    let r = app.get(&format!("{path}/revisions")).await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(items[2]["actor"], "seed");
    assert_eq!(items[0]["actor"], "ops");
    let r = app
        .call(Method::POST, &format!("{path}/revisions/1/restore"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["meta"]["version"], 4);
    assert_eq!(r.body["payload"]["schedule"]["cronExpression"], "0 2 * * *");
    assert_eq!(r.body["payload"]["limits"]["batchSize"], 100);
    assert_problem(
        &app.call(Method::POST, &format!("{path}/revisions/99/restore"), None)
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.call(Method::POST, &format!("{path}/revisions/x/restore"), None)
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert_problem(
        &app.get("/api/v1/objects/job-config/missing/revisions")
            .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn list_searches_filters_sorts_and_pages() {
    let app = TestApp::seeded().await;
    let base = "/api/v1/objects/job-config";
    let r = app.get(&format!("{base}?q=ORPHAN")).await;
    assert_eq!(r.body["total"], 1);
    let r = app
        .get(&format!("{base}?filter.payload.schedule.isEnabled=false"))
        .await;
    assert_eq!(r.body["total"], 4);
    let r = app
        .get(&format!(
            "{base}?filter.payload.jobType=health-check&filter.payload.schedule.isEnabled=false"
        ))
        .await;
    assert_eq!(r.body["total"], 1);
    let r = app
        .get(&format!("{base}?filter.derived.health=disabled"))
        .await;
    assert_eq!(r.body["total"], 4);
    let r = app.get(&format!("{base}?sort=meta.title&order=desc")).await;
    let titles: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["meta"]["title"].as_str().unwrap())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort_by_key(|t| std::cmp::Reverse(t.to_lowercase()));
    assert_eq!(titles, sorted);
    let r = app.get(&format!("{base}?sort=meta.id&limit=2")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["nextCursor"], "2");
    let r = app
        .get(&format!("{base}?sort=meta.id&limit=2&cursor=4"))
        .await;
    assert_eq!(r.body["items"][0]["meta"]["id"], "signal-aggregation");
    assert_eq!(r.body["nextCursor"], Value::Null);
    for bad in [
        "limit=0",
        "limit=abc",
        "cursor=x",
        "order=up",
        "sort=title",
        "filter.title=x",
        "colour=red",
    ] {
        let r = app.get(&format!("{base}?{bad}")).await;
        assert_problem(&r, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn metrics_count_with_the_registry_queries() {
    let app = TestApp::seeded().await;
    let r = app.get("/api/v1/metrics/job-config").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["metrics"][0]["id"], "enabled");
    assert_eq!(r.body["metrics"][0]["value"], 1);
    assert_eq!(r.body["metrics"][1]["id"], "failed");
    assert_eq!(r.body["metrics"][1]["value"], 0);
    // Engine state counts: a failed last execution.
    let mut state = serde_json::Map::new();
    state.insert(
        "lastExecution".into(),
        json!({"status": "failed", "runId": "r1", "itemsProcessed": 0, "errors": 1,
        "startedAt": null, "completedAt": null}),
    );
    app.store
        .object_state_merge("job-config", "health-check", state)
        .await
        .unwrap();
    let r = app.get("/api/v1/metrics/job-config").await;
    assert_eq!(r.body["metrics"][1]["value"], 1);
    assert_problem(
        &app.get("/api/v1/metrics/widget").await,
        StatusCode::NOT_FOUND,
    );
}

/// Metrics calls share counts while others run; a shared count must
/// still begin after each call it answers arrived, so that every call
/// sees every create acknowledged before it asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_metrics_calls_each_see_the_writes_acknowledged_before_them() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let app = Arc::new(TestApp::new().await);
    let acknowledged = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for writer in 0..4 {
        let (app, acknowledged) = (app.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                let r = app
                    .call(
                        Method::POST,
                        "/api/v1/objects/job-config",
                        Some(job(&format!("w{writer}-{i}"), "0 3 * * *")),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for _ in 0..8 {
        let (app, acknowledged) = (app.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..15 {
                let before = acknowledged.load(Ordering::SeqCst);
                let r = app.get("/api/v1/metrics/job-config").await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                let total = r.body["total"].as_u64().unwrap();
                let enabled = r.body["metrics"][0]["value"].as_u64().unwrap();
                assert!(
                    total >= before,
                    "{total} counted, {before} acknowledged before"
                );
                assert_eq!(enabled, total, "every config created is enabled");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = app.get("/api/v1/metrics/job-config").await;
    assert_eq!(r.body["total"], 60);
}

#[tokio::test]
async fn advancement_rules_are_objects_too() {
    let app = TestApp::new().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/advancement-rule",
            Some(rule("seed-sprout")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["payload"]["isEnabled"], true);
    assert!(r.body.get("derived").is_none());
    let mut bad = rule("bad");
    bad["payload"]["toTier"] = json!("seed");
    bad["payload"]["conditions"][0]["signal"] = json!("likes");
    bad["payload"]["conditions"][0]["operator"] = json!("=>");
    let r = app
        .call(Method::POST, "/api/v1/objects/advancement-rule", Some(bad))
        .await;
    let mut got = pointers(&r);
    got.sort();
    assert_eq!(
        got,
        [
            "/payload/conditions/0/operator",
            "/payload/conditions/0/signal",
            "/payload/toTier"
        ]
    );
    let r = app.get("/api/v1/metrics/advancement-rule").await;
    assert_eq!(r.body["metrics"][0]["value"], 1);
}

#[tokio::test]
async fn openapi_document_lists_the_paths() {
    let app = TestApp::new().await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/objects/{type}",
        "/api/v1/objects/{type}/{id}",
        "/api/v1/objects/{type}/{id}/duplicate",
        "/api/v1/objects/{type}/{id}/revisions",
        "/api/v1/objects/{type}/{id}/revisions/{version}/restore",
        "/api/v1/metrics/{type}",
        "/api/v1/types",
        "/healthz",
        "/readyz",
    ] {
        assert!(r.body["paths"].get(path).is_some(), "missing {path}");
    }
}

#[tokio::test]
async fn outbound_urls_outside_the_policy_are_refused_at_their_pointer() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/health-check";
    let pointer = "/payload/parameters/endpoints/rag";
    for (url, says) in [
        ("http://127.0.0.1:22/", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://[fd00::1]/", "unique-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
        ("http://224.0.0.1/", "multicast"),
        ("http://localhost:9000/", "loopback"),
        ("http://2130706433/", "number"),
        ("http://0/", "number"),
        ("http://127.1/", "number"),
        ("http://0x7f.0.0.1/", "number"),
        ("http://user:pw@rag.example.com/", "password"),
        ("http://rag.example.com:99999/", "port"),
        ("http://rag.example.com:0/", "port"),
        ("ftp://rag.example.com/", "http"),
    ] {
        let patch = json!({"payload": {"parameters": {"endpoints": {"rag": url}}}});
        let r = app.call(Method::PATCH, path, Some(patch)).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
        let errors = r.body["errors"].as_array().unwrap();
        let problem = errors
            .iter()
            .find(|e| e["pointer"] == pointer)
            .unwrap_or_else(|| panic!("{url}: {}", r.text));
        let message = problem["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    // Webhook URLs follow the same rules.
    let r = app
        .call(
            Method::PATCH,
            path,
            Some(json!({"payload": {"notifications": {"channels": ["webhook"], "webhookUrl": "http://127.0.0.1:9/hook"}}})),
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(pointers(&r).contains(&"/payload/notifications/webhookUrl".to_owned()));
    // A public name is fine (it is resolved and checked when a request is made).
    let r = app
        .call(
            Method::PATCH,
            path,
            Some(json!({"payload": {"parameters": {"endpoints": {"rag": "https://rag.example.com/health"}}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn the_outbound_allow_list_opens_named_addresses() {
    let mut app = TestApp::seeded().await;
    let policy = grove_core::outbound::OutboundPolicy::parse("127.0.0.0/8, rag.internal").unwrap();
    app.router = grove_web::router(
        grove_web::AppState::new(
            app.store.clone(),
            std::sync::Arc::new(app.clock.clone()),
            grove_engine::EngineHandle::new(),
        )
        .with_outbound(std::sync::Arc::new(policy)),
    );
    let path = "/api/v1/objects/job-config/health-check";
    for url in ["http://127.0.0.1:8080/readyz", "http://rag.internal:9200/"] {
        let patch = json!({"payload": {"parameters": {"endpoints": {"rag": url}}}});
        let r = app.call(Method::PATCH, path, Some(patch)).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
    }
    let patch = json!({"payload": {"parameters": {"endpoints": {"rag": "http://10.0.0.1/"}}}});
    let r = app.call(Method::PATCH, path, Some(patch)).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_duplicate_body_must_be_an_object_naming_the_copy() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/objects/job-config/health-check/duplicate";
    for (body, pointer) in [
        (json!([null, null]), ""),
        (json!("copy"), ""),
        (json!({"id": 5}), "/id"),
        (json!({"colour": "red"}), "/colour"),
    ] {
        let r = app.call(Method::POST, path, Some(body.clone())).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            pointers(&r).contains(&pointer.to_owned()),
            "{body}: {}",
            r.text
        );
    }
    let r = app
        .call(Method::POST, path, Some(json!({"id": "hc-2"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.call(Method::POST, path, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
