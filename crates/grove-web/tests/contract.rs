//! The OpenAPI document against what the server really sends: every
//! response schema names a component that exists, and real bodies have
//! exactly the keys their schema lists (no more, none required missing).

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, assert_problem, record_run};

/// Every `$ref` anywhere under `schema`.
fn refs(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.insert(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The component a `#/components/schemas/Name` reference points to.
fn component<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    doc["components"]["schemas"].get(name)
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// What is wrong with `value` as an instance of `schema`, one sentence per
/// problem, each naming where (`at`).
fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        match component(doc, r) {
            Some(target) => mismatches(doc, target, value, at, out),
            None => out.push(format!("{at}: {r} is not a component")),
        }
        return;
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let fits = choices.iter().any(|c| {
            let mut problems = Vec::new();
            mismatches(doc, c, value, at, &mut problems);
            problems.is_empty()
        });
        if !fits {
            out.push(format!("{at}: {value} fits none of {}", schema["oneOf"]));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
        out.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
        for key in obj.keys() {
            if !props.contains_key(key) {
                out.push(format!("{at}: \"{key}\" is sent but not documented"));
            }
        }
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                out.push(format!("{at}: required \"{key}\" is missing"));
            }
        }
        for (key, v) in obj {
            if let Some(p) = props.get(key) {
                mismatches(doc, p, v, &format!("{at}/{key}"), out);
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            mismatches(doc, items, v, &format!("{at}/{i}"), out);
        }
    }
}

/// The JSON schema documented for `method path` answering `status`.
fn response_schema<'d>(doc: &'d Value, path: &str, method: &str, status: u16) -> &'d Value {
    let content_type = if status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]
        [content_type]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON body for {status}"
    );
    schema
}

fn assert_conforms(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let mut out = Vec::new();
    mismatches(
        doc,
        response_schema(doc, path, method, status),
        body,
        "",
        &mut out,
    );
    assert!(
        out.is_empty(),
        "{method} {path} {status}:\n{}",
        out.join("\n")
    );
}

#[tokio::test]
async fn every_response_schema_of_the_executions_routes_names_an_existing_component() {
    let app = TestApp::new().await;
    let doc = app.get("/api/openapi.json").await.body;
    let executions_routes = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, _)| {
            path.starts_with("/api/v1/executions")
                || path.starts_with("/api/v1/jobs/")
                || *path == "/api/v1/engine"
        })
        .collect::<Vec<_>>();
    assert!(executions_routes.len() >= 8, "{executions_routes:?}");
    for (path, operations) in executions_routes {
        for (method, operation) in operations.as_object().expect("operations") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                !responses.is_empty(),
                "{method} {path} documents no response"
            );
            for (status, response) in responses {
                let mut found = BTreeSet::new();
                for (content_type, content) in response["content"].as_object().into_iter().flatten()
                {
                    if content_type == "application/json" {
                        assert!(
                            content["schema"]["$ref"].is_string(),
                            "{method} {path} {status}: the JSON body is not a named component"
                        );
                    }
                    refs(&content["schema"], &mut found);
                }
                for r in found {
                    let target = component(&doc, &r);
                    assert!(
                        target.is_some(),
                        "{method} {path} {status} names {r}, which is not a component"
                    );
                    // What it names is complete: its own references resolve too.
                    let mut nested = BTreeSet::new();
                    refs(target.unwrap_or(&Value::Null), &mut nested);
                    for n in nested {
                        assert!(
                            component(&doc, &n).is_some(),
                            "{r} names {n}, which is missing"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn execution_bodies_have_exactly_their_documented_keys() {
    let app = TestApp::seeded().await;
    let doc = app.get("/api/openapi.json").await.body;
    record_run(
        &app.store,
        "advancement-batch",
        &json!({"startedAt": "2026-03-01T02:00:00Z", "completedAt": "2026-03-01T02:00:23Z", "status": "failed",
               "itemsProcessed": 142, "errors": 3, "runId": "run-1", "error": "timeout after 300 s", "consecutiveFailures": 1}),
    )
    .await;

    let one = app.get("/api/v1/executions/run-1").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["attempts"].as_array().map(Vec::len), Some(1));
    assert_conforms(&doc, "/api/v1/executions/{runId}", "get", 200, &one.body);
    // The check has teeth: a renamed key is both undocumented and missing.
    let mut renamed = one.body.clone();
    let run_id = renamed
        .as_object_mut()
        .and_then(|o| o.remove("runId"))
        .expect("runId");
    renamed["runID"] = run_id;
    let mut found = Vec::new();
    let schema = response_schema(&doc, "/api/v1/executions/{runId}", "get", 200);
    mismatches(&doc, schema, &renamed, "", &mut found);
    assert_eq!(found.len(), 2, "{found:?}");

    let history = app.get("/api/v1/jobs/advancement-batch/executions").await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1));
    assert_conforms(
        &doc,
        "/api/v1/jobs/{id}/executions",
        "get",
        200,
        &history.body,
    );

    let logs = app.get("/api/v1/executions/run-1/logs").await;
    assert!(!logs.body["items"].as_array().expect("items").is_empty());
    assert_conforms(
        &doc,
        "/api/v1/executions/{runId}/logs",
        "get",
        200,
        &logs.body,
    );

    let tree = app.get("/api/v1/executions/run-1/render-tree").await;
    assert_eq!(tree.body["type"], "root", "{}", tree.text);
    assert_conforms(
        &doc,
        "/api/v1/executions/{runId}/render-tree",
        "get",
        200,
        &tree.body,
    );

    let engine = app.get("/api/v1/engine").await;
    assert_conforms(&doc, "/api/v1/engine", "get", 200, &engine.body);

    let retried = app
        .call(Method::POST, "/api/v1/executions/run-1/retry", None)
        .await;
    // No engine in this app: the refusal is a documented problem.
    let status = retried.status.as_u16();
    assert!(status >= 400, "{}", retried.text);
    assert_conforms(
        &doc,
        "/api/v1/executions/{runId}/retry",
        "post",
        status,
        &retried.body,
    );

    let missing = app.get("/api/v1/executions/nope").await;
    assert_conforms(
        &doc,
        "/api/v1/executions/{runId}",
        "get",
        404,
        &missing.body,
    );
}

#[tokio::test]
async fn object_and_grove_bodies_have_exactly_their_documented_keys() {
    let app = TestApp::seeded().await;
    let doc = app.get("/api/openapi.json").await.body;

    let page = app.get("/api/v1/objects/job-config?limit=2").await;
    assert!(page.body["items"][0]["derived"].is_object());
    assert_conforms(&doc, "/api/v1/objects/{type}", "get", 200, &page.body);
    let one = app
        .get("/api/v1/objects/job-config/advancement-batch")
        .await;
    assert_conforms(&doc, "/api/v1/objects/{type}/{id}", "get", 200, &one.body);
    let revisions = app
        .get("/api/v1/objects/job-config/advancement-batch/revisions")
        .await;
    assert_conforms(
        &doc,
        "/api/v1/objects/{type}/{id}/revisions",
        "get",
        200,
        &revisions.body,
    );
    let stale = app
        .call(
            Method::PUT,
            "/api/v1/objects/job-config/advancement-batch",
            Some(
                json!({"meta": {"title": "Stale", "version": 99}, "payload": one.body["payload"]}),
            ),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    assert!(stale.body["current"].is_object());
    assert_conforms(&doc, "/api/v1/objects/{type}/{id}", "put", 409, &stale.body);
    let invalid = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(json!({"meta": {"title": "Bad"}, "payload": {"jobType": "nope"}})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_conforms(&doc, "/api/v1/objects/{type}", "post", 422, &invalid.body);

    // The documented request items are what the server takes.
    let sprouts = grove_web::wire::grove::SproutBatch {
        items: vec![grove_web::wire::grove::SproutIn {
            id: "kb-1".to_owned(),
            title: "One".to_owned(),
            tier: "seed".to_owned(),
            parent_id: None,
            created_at: Some("2026-02-01T00:00:00Z".parse().expect("ts")),
        }],
    };
    let ingested = app
        .call(
            Method::POST,
            "/api/v1/sprouts",
            Some(serde_json::to_value(&sprouts).expect("json")),
        )
        .await;
    assert_eq!(ingested.body["accepted"], 1, "{}", ingested.text);
    assert_conforms(&doc, "/api/v1/sprouts", "post", 200, &ingested.body);
    let signals = grove_web::wire::grove::SignalBatch {
        items: vec![grove_web::wire::grove::SignalIn {
            id: "s-1".to_owned(),
            sprout_id: "kb-1".to_owned(),
            kind: "retrieval".to_owned(),
            at: "2026-02-02T00:00:00Z".parse().expect("ts"),
            value: Some(1.5),
        }],
    };
    let ingested = app
        .call(
            Method::POST,
            "/api/v1/signals",
            Some(serde_json::to_value(&signals).expect("json")),
        )
        .await;
    assert_eq!(ingested.body["accepted"], 1, "{}", ingested.text);
    assert_conforms(&doc, "/api/v1/signals", "post", 200, &ingested.body);
    let sprout = app.get("/api/v1/sprouts/kb-1").await;
    assert_conforms(&doc, "/api/v1/sprouts/{id}", "get", 200, &sprout.body);

    let preview = app
        .get("/api/v1/schedule/preview?cron=0%202%20*%20*%20*&tz=America/New_York&count=2")
        .await;
    assert_conforms(&doc, "/api/v1/schedule/preview", "get", 200, &preview.body);
    let types = app.get("/api/v1/types").await;
    assert_conforms(&doc, "/api/v1/types", "get", 200, &types.body);
    let metrics = app.get("/api/v1/metrics/job-config").await;
    assert_conforms(&doc, "/api/v1/metrics/{type}", "get", 200, &metrics.body);
    for path in ["/healthz", "/readyz"] {
        let r = app.get(path).await;
        assert_conforms(&doc, path, "get", 200, &r.body);
    }
}

#[tokio::test]
async fn every_error_is_documented_as_problem_json_with_the_statuses_it_answers() {
    let app = TestApp::new().await;
    let doc = app.get("/api/openapi.json").await.body;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            operations += 1;
            let responses = op["responses"].as_object().expect("responses");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().expect("content");
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                    assert_eq!(
                        content["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem"
                    );
                }
            }
            let has = |s: &str| responses.contains_key(s);
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(has("404") && has("400"), "{method} {path}");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(has("400"), "{method} {path}");
            }
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415", "422"] {
                    assert!(has(s), "{method} {path} {s}");
                }
            }
            // Every operation needs a token unless it says `security: [{}]`.
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            if !public {
                assert!(has("401") && has("403") && has("429"), "{method} {path}");
            }
        }
    }
    assert!(operations >= 25, "{operations}");
    for (path, s) in [
        ("/api/v1/objects/{type}/{id}", "put"),
        ("/api/v1/objects/{type}/{id}", "patch"),
        ("/api/v1/objects/{type}/{id}", "delete"),
    ] {
        assert!(
            doc["paths"][path][s]["responses"]["412"].is_object(),
            "{s} {path}"
        );
    }
    assert!(doc["paths"]["/api/v1/executions/{runId}/events"]["get"]["responses"]["503"]["headers"]["Retry-After"].is_object());
}

#[tokio::test]
async fn page_sizes_in_the_schema_are_what_the_server_accepts() {
    let app = TestApp::seeded().await;
    let doc = app.get("/api/openapi.json").await.body;
    for (path, name, url) in [
        (
            "/api/v1/objects/{type}",
            "limit",
            "/api/v1/objects/job-config",
        ),
        (
            "/api/v1/jobs/{id}/executions",
            "limit",
            "/api/v1/jobs/advancement-batch/executions",
        ),
        (
            "/api/v1/advancement-events",
            "limit",
            "/api/v1/advancement-events",
        ),
        ("/api/v1/notifications", "limit", "/api/v1/notifications"),
        (
            "/api/v1/schedule/preview",
            "count",
            "/api/v1/schedule/preview?cron=0%202%20*%20*%20*",
        ),
    ] {
        let param = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} {name}"))
            .clone();
        let min = param["schema"]["minimum"].as_u64().expect("minimum");
        let max = param["schema"]["maximum"].as_u64().expect("maximum");
        let sep = if url.contains('?') { '&' } else { '?' };
        for (value, ok) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            let r = app.get(&format!("{url}{sep}{name}={value}")).await;
            assert_eq!(
                r.status.is_success(),
                ok,
                "{url} {name}={value}: {}",
                r.text
            );
        }
    }
}

#[tokio::test]
async fn extractor_rejections_are_problems() {
    let app = TestApp::seeded().await;
    for (path, status) in [
        (
            "/api/v1/jobs/advancement-batch/executions?limit=1&limit=2",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/objects/job-config?limit=1&limit=2",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/objects/%ff", StatusCode::BAD_REQUEST),
        ("/api/v1/objects/job-config/%ff%fe", StatusCode::BAD_REQUEST),
        ("/api/v1/executions/%c3%28/logs", StatusCode::BAD_REQUEST),
        (
            "/api/v1/objects/job-config/advancement-batch/revisions/abc/restore",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let r = app.get(path).await;
        assert_problem(&r, status);
        assert!(
            !r.body["detail"]
                .as_str()
                .unwrap()
                .chars()
                .any(char::is_control),
            "{}",
            r.text
        );
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config/advancement-batch/revisions/abc/restore",
            None,
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    // A method the route lacks keeps its Allow header.
    let r = app
        .call(Method::PUT, "/api/v1/types", Some(json!({})))
        .await;
    assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED);
}
