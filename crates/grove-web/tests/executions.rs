//! The executions API over a real engine: Run Now, history, one execution,
//! logs, live events, retry, cancel, and their error answers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use grove_engine::{
    Engine, EngineHandle, EngineSettings, HandlerRegistry, JobContext, JobFailure, JobHandler,
    JobOutcome,
};
use grove_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::common::{TestApp, VIEWER, assert_problem};

/// Succeeds unless the config's batch size is 13; `hold` makes it wait
/// for a release or a cancel.
#[derive(Debug, Default)]
struct TestJob {
    release: Notify,
}

#[async_trait]
impl JobHandler for TestJob {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        ctx.log.info("hello from the test job");
        match ctx.batch_size {
            13 => Err(JobFailure::new("unlucky batch size")),
            7 => tokio::select! {
                () = self.release.notified() => Ok(JobOutcome::default()),
                () = ctx.cancel.cancelled() => Err(JobFailure::new("stopped")),
            },
            _ => Ok(JobOutcome {
                processed: 2,
                total: Some(2),
                succeeded: 2,
                failed: 0,
                metadata: serde_json::Map::from_iter([("note".to_owned(), json!("fine"))]),
                partial_reason: None,
            }),
        }
    }
}

pub(crate) struct EngineApp {
    pub(crate) app: TestApp,
    job: Arc<TestJob>,
    handle: EngineHandle,
    shutdown: CancellationToken,
}

impl EngineApp {
    pub(crate) async fn new() -> Self {
        Self::with(false, |_| {}).await
    }

    /// With the default job configs seeded (`seeded`) and engine settings
    /// adjusted by `adjust`.
    async fn with(seeded: bool, adjust: impl FnOnce(&mut EngineSettings)) -> Self {
        let mut app = if seeded {
            TestApp::seeded().await
        } else {
            TestApp::new().await
        };
        let job = Arc::new(TestJob::default());
        let mut settings = EngineSettings {
            heartbeat: Duration::from_millis(50),
            grace: Duration::from_millis(100),
            lease: Duration::from_secs(86_400),
            ..EngineSettings::default()
        };
        adjust(&mut settings);
        let clock = Arc::new(app.clock.clone());
        let engine = Engine::new(
            app.store.clone(),
            clock.clone(),
            HandlerRegistry::uniform(job.clone()),
            settings,
        );
        let handle = engine.handle();
        let shutdown = CancellationToken::new();
        tokio::spawn(engine.run(shutdown.clone()));
        app.router = router(AppState::new(app.store.clone(), clock, handle.clone()));
        Self {
            app,
            job,
            handle,
            shutdown,
        }
    }

    pub(crate) async fn create_job(&self, id: &str, batch_size: u32) {
        let body = json!({
            "meta": {"id": id, "type": "job-config", "title": format!("Job {id}")},
            "payload": {
                "jobType": "health-check",
                "schedule": {"cronExpression": "0 2 * * *", "timezone": "UTC", "isEnabled": false},
                "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 10, "maxDelaySeconds": 60},
                "limits": {"batchSize": batch_size, "timeoutSeconds": 600, "maxConcurrent": 1},
                "parameters": {"checks": ["database"], "alertThreshold": "error"}
            }
        });
        let r = self
            .app
            .call(Method::POST, "/api/v1/objects/job-config", Some(body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    pub(crate) async fn run(&self, id: &str) -> String {
        let r = self
            .app
            .call(Method::POST, &format!("/api/v1/jobs/{id}/run"), None)
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert_eq!(r.body["status"], "queued");
        r.body["runId"].as_str().expect("runId").to_owned()
    }

    /// Polls the execution endpoint until `pred` holds (10 s at most).
    async fn wait(&self, run_id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.app.get(&format!("/api/v1/executions/{run_id}")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            if pred(&r.body) {
                return r.body;
            }
            assert!(tokio::time::Instant::now() < deadline, "{}", r.text);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) async fn wait_final(&self, run_id: &str) -> Value {
        self.wait(run_id, |b| {
            !matches!(b["status"].as_str(), Some("queued" | "running"))
        })
        .await
    }
}

impl Drop for EngineApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[tokio::test]
async fn run_now_records_a_run_visible_in_history_with_logs() {
    let t = EngineApp::new().await;
    t.create_job("hc", 10).await;
    let run_id = t.run("hc").await;
    let e = t.wait_final(&run_id).await;
    assert_eq!(e["status"], "success");
    assert_eq!(e["trigger"], "manual");
    assert_eq!(e["configId"], "hc");
    assert_eq!(e["configVersion"], 1);
    assert_eq!(e["itemsProcessed"], 2);
    assert_eq!(e["itemsTotal"], 2);
    assert_eq!(e["itemsSucceeded"], 2);
    assert_eq!(e["itemsFailed"], 0);
    assert_eq!(e["durationMs"], 0, "the test clock did not move");
    assert_eq!(e["result"]["metadata"]["note"], "fine");
    assert_eq!(e["actor"], "ops");
    assert_eq!(e["scheduledFor"], Value::Null);
    assert_eq!(e["createdAt"], "2026-03-01T12:00:00Z");
    let attempts = e["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["status"], "success");
    assert_eq!(attempts[0]["reason"], Value::Null);

    let h = t.app.get("/api/v1/jobs/hc/executions?limit=5").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.body["items"][0]["runId"], run_id.as_str());

    let logs = t
        .app
        .get(&format!("/api/v1/executions/{run_id}/logs"))
        .await;
    assert_eq!(logs.status, StatusCode::OK);
    let items = logs.body["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|l| l["message"] == "hello from the test job" && l["level"] == "info")
    );
    assert!(items.iter().all(|l| l["timestamp"].is_string()));

    // lastExecution shows on the config.
    let cfg = t.app.get("/api/v1/objects/job-config/hc").await;
    assert_eq!(
        cfg.body["payload"]["lastExecution"]["runId"],
        run_id.as_str()
    );
    assert!(t.handle.legacy_in_use().is_none());
}

#[tokio::test]
async fn a_failed_run_shows_its_error_and_can_be_retried() {
    let t = EngineApp::new().await;
    t.create_job("bad", 13).await;
    let run_id = t.run("bad").await;
    let e = t.wait_final(&run_id).await;
    assert_eq!(e["status"], "failed");
    assert_eq!(e["error"], "unlucky batch size");
    assert_eq!(e["attempts"][0]["reason"], "error");
    assert_eq!(e["attempts"][0]["error"], "unlucky batch size");
    let r = t
        .app
        .call(
            Method::POST,
            &format!("/api/v1/executions/{run_id}/retry"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["trigger"], "retry");
    let again = r.body["runId"].as_str().unwrap().to_owned();
    let e = t.wait_final(&again).await;
    assert_eq!(e["trigger"], "retry");
    assert_eq!(e["retryOf"], run_id.as_str());
    // Cancel of a finished execution: 409.
    let r = t
        .app
        .call(
            Method::POST,
            &format!("/api/v1/executions/{run_id}/cancel"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_running_execution_can_be_cancelled_but_not_retried() {
    let t = EngineApp::new().await;
    t.create_job("slow", 7).await;
    let run_id = t.run("slow").await;
    t.wait(&run_id, |b| b["status"] == "running").await;
    let r = t
        .app
        .call(
            Method::POST,
            &format!("/api/v1/executions/{run_id}/retry"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = t
        .app
        .call(
            Method::POST,
            &format!("/api/v1/executions/{run_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let e = t.wait_final(&run_id).await;
    assert_eq!(e["status"], "cancelled");
    assert_eq!(e["attempts"][0]["reason"], "cancelled");
}

#[tokio::test]
async fn events_stream_follows_a_run_to_its_end() {
    let t = EngineApp::new().await;
    t.create_job("watched", 7).await;
    let run_id = t.run("watched").await;
    t.wait(&run_id, |b| b["status"] == "running").await;
    let response = t
        .app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/v1/executions/{run_id}/events"))
                .header("authorization", format!("Bearer {}", crate::common::VIEWER))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    t.job.release.notify_one();
    // The body ends when the run ends.
    let bytes = tokio::time::timeout(Duration::from_secs(10), response.into_body().collect())
        .await
        .expect("the stream ends with the run")
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("event: snapshot"), "{text}");
    assert!(text.contains("event: end"), "{text}");
    let end = text
        .split("event: end\ndata: ")
        .nth(1)
        .and_then(|s| s.lines().next())
        .unwrap();
    let end: Value = serde_json::from_str(end).unwrap();
    assert_eq!(end["status"], "success");
    // A finished run: the snapshot, then the stream closes.
    let r = t
        .app
        .get(&format!("/api/v1/executions/{run_id}/events"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("event: snapshot") && r.text.contains("\"status\":\"success\""));
}

/// The stream request for `run_id`, answered (the body is still open).
async fn open_stream(t: &EngineApp, run_id: &str) -> axum::response::Response {
    t.app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/v1/executions/{run_id}/events"))
                .header("authorization", format!("Bearer {}", crate::common::VIEWER))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn event_streams_are_capped_and_their_places_given_back() {
    let mut t = EngineApp::new().await;
    let clock = Arc::new(t.app.clock.clone());
    t.app.router = router(
        AppState::new(t.app.store.clone(), clock, t.handle.clone()).with_settings(
            grove_web::WebSettings {
                max_event_streams: 1,
                ..grove_web::WebSettings::default()
            },
        ),
    );
    t.create_job("watched", 7).await;
    let run_id = t.run("watched").await;
    t.wait(&run_id, |b| b["status"] == "running").await;
    let first = open_stream(&t, &run_id).await;
    assert_eq!(first.status(), StatusCode::OK);
    // The one place is taken: the next stream is told to come back.
    let r = t
        .app
        .get(&format!("/api/v1/executions/{run_id}/events"))
        .await;
    assert_problem(&r, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["retry-after"], "5");
    // Other routes are not affected.
    let r = t.app.get(&format!("/api/v1/executions/{run_id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    // The run ends, the first stream closes and gives its place back.
    t.job.release.notify_one();
    tokio::time::timeout(Duration::from_secs(10), first.into_body().collect())
        .await
        .expect("the stream ends with the run")
        .unwrap();
    let r = t
        .app
        .get(&format!("/api/v1/executions/{run_id}/events"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A client that drops its stream gives the place back too.
    t.create_job("second", 7).await;
    let second = t.run("second").await;
    t.wait(&second, |b| b["status"] == "running").await;
    drop(open_stream(&t, &second).await);
    let again = open_stream(&t, &second).await;
    assert_eq!(again.status(), StatusCode::OK);
    drop(again);
    t.job.release.notify_one();
}

#[tokio::test]
async fn non_streaming_requests_time_out_but_streams_do_not() {
    let mut t = EngineApp::new().await;
    t.create_job("watched", 2).await;
    let run_id = t.run("watched").await;
    t.wait_final(&run_id).await;
    let clock = Arc::new(t.app.clock.clone());
    t.app.router = router(
        AppState::new(t.app.store.clone(), clock, t.handle.clone()).with_settings(
            grove_web::WebSettings {
                request_timeout: Duration::from_millis(300),
                ..grove_web::WebSettings::default()
            },
        ),
    );
    // A body that never ends: the request is answered at the timeout.
    let never = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/objects/job-config")
        .header(
            "authorization",
            format!("Bearer {}", crate::common::OPERATOR),
        )
        .header("content-type", "application/json")
        .body(Body::from_stream(never))
        .unwrap();
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), t.app.send(request))
        .await
        .expect("answered at the request timeout");
    assert!(started.elapsed() >= Duration::from_millis(250));
    let problem = assert_problem(&r, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["status"], 503);
    // A run's event stream is not cut at the timeout.
    t.create_job("held", 7).await;
    let held = t.run("held").await;
    t.wait(&held, |b| b["status"] == "running").await;
    let stream = open_stream(&t, &held).await;
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    t.job.release.notify_one();
    let bytes = tokio::time::timeout(Duration::from_secs(10), stream.into_body().collect())
        .await
        .expect("the stream ends with the run")
        .unwrap()
        .to_bytes();
    assert!(String::from_utf8_lossy(&bytes).contains("event: end"));
    let r = t
        .app
        .get(&format!("/api/v1/executions/{run_id}/events"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("event: snapshot"));
}

#[tokio::test]
async fn unknown_ids_and_bad_input_get_problems() {
    let t = EngineApp::new().await;
    let r = t
        .app
        .call(Method::POST, "/api/v1/jobs/nope/run", None)
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    for path in [
        "/api/v1/executions/nope",
        "/api/v1/executions/nope/logs",
        "/api/v1/executions/nope/events",
        "/api/v1/jobs/nope/executions",
    ] {
        let r = t.app.get(path).await;
        assert_problem(&r, StatusCode::NOT_FOUND);
    }
    for action in ["retry", "cancel"] {
        let r = t
            .app
            .call(
                Method::POST,
                &format!("/api/v1/executions/nope/{action}"),
                None,
            )
            .await;
        assert_problem(&r, StatusCode::NOT_FOUND);
    }
    t.create_job("hc", 10).await;
    let r = t.app.get("/api/v1/jobs/hc/executions?limit=0").await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    let r = t.app.get("/api/v1/jobs/hc/executions").await;
    assert_eq!(r.body, json!({"items": []}));
    // Running a job needs the operator role.
    let r = t
        .app
        .call_as(Method::POST, "/api/v1/jobs/hc/run", None, Some(VIEWER), &[])
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = t
        .app
        .call_as(Method::POST, "/api/v1/jobs/hc/run", None, None, &[])
        .await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_an_engine_run_now_is_unavailable() {
    let app = TestApp::new().await;
    let r = app.call(Method::POST, "/api/v1/jobs/x/run", None).await;
    assert_problem(&r, StatusCode::SERVICE_UNAVAILABLE);
    let r = app.get("/api/v1/engine").await;
    assert_eq!(r.body["running"], false);
    assert_eq!(r.body["legacyConfiguration"]["inUse"], false);
}

#[tokio::test]
async fn metrics_count_runs_by_status_and_configs_by_health() {
    let t = EngineApp::new().await;
    t.create_job("fine", 10).await;
    t.create_job("bad", 13).await;
    let ok = t.run("fine").await;
    let bad = t.run("bad").await;
    t.wait_final(&ok).await;
    t.wait_final(&bad).await;
    let r = t.app.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text;
    for line in [
        "grove_database_up 1",
        "grove_engine_running 1",
        "grove_executions_finished_total{status=\"success\"} 1",
        "grove_executions_finished_total{status=\"failed\"} 1",
        "grove_attempts_started_total 2",
        "grove_attempts_running 0",
        // Both schedules are disabled.
        "grove_job_configs{health=\"disabled\"} 2",
        "grove_dispatch_latency_seconds_count 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    assert!(text.contains("# TYPE grove_dispatch_latency_seconds histogram"));
}

#[tokio::test]
async fn the_openapi_document_lists_the_executions_api_and_metrics() {
    let t = EngineApp::new().await;
    let doc = t.app.get("/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    for path in [
        "/api/v1/jobs/{id}/run",
        "/api/v1/jobs/{id}/executions",
        "/api/v1/executions/{runId}",
        "/api/v1/executions/{runId}/logs",
        "/api/v1/executions/{runId}/events",
        "/api/v1/executions/{runId}/retry",
        "/api/v1/executions/{runId}/cancel",
        "/metrics",
    ] {
        assert!(doc.body["paths"][path].is_object(), "{path} missing");
    }
    let execution = &doc.body["components"]["schemas"]["ExecutionOut"]["properties"];
    for field in [
        "runId",
        "configId",
        "trigger",
        "scheduledFor",
        "itemsProcessed",
        "attempts",
    ] {
        assert!(execution[field].is_object(), "ExecutionOut.{field} missing");
    }
}

// ---- the console over a real engine ----

/// Sends a console request with the operator's session cookie; `form`
/// fields are posted with the session's CSRF token unless `csrf` is false.
async fn console(
    t: &EngineApp,
    method: Method,
    path: &str,
    form: &[(&str, &str)],
    csrf: bool,
) -> crate::common::Reply {
    let secret = t
        .app
        .sign_in(crate::common::OPERATOR)
        .await
        .expect("signed in");
    let mut body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if csrf {
        body.push(format!(
            "_csrf={}",
            grove_web::console::session::csrf_token(&secret)
        ));
    }
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("grove_session={secret}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.join("&")))
        .unwrap();
    t.app.send(req).await
}

fn location(r: &crate::common::Reply) -> String {
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn console_run_now_opens_the_live_page_and_the_run_joins_the_history() {
    let t = EngineApp::new().await;
    t.create_job("hc", 10).await;
    let r = console(&t, Method::POST, "/console/jobs/hc/run", &[], true).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = location(&r);
    let run_id = to
        .strip_prefix("/console/executions/")
        .expect("redirected to the execution page")
        .to_owned();
    let e = t.wait_final(&run_id).await;
    assert_eq!(e["status"], "success");
    assert_eq!(e["actor"], "ops");

    let page = console(&t, Method::GET, &to, &[], false).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("hello from the test job"),
        "{}",
        page.text
    );
    assert!(page.text.contains("data-component=\"JobPhaseIndicator\""));
    assert!(
        !page.text.contains("data-events="),
        "a finished run is not live"
    );

    let editor = console(&t, Method::GET, "/console/jobs/hc", &[], false).await;
    assert!(
        editor
            .text
            .contains(&format!("/console/executions/{run_id}")),
        "history links the run"
    );
    let grid = console(&t, Method::GET, "/console", &[], false).await;
    assert!(grid.text.contains("Success (2 processed"), "{}", grid.text);
}

#[tokio::test]
async fn a_running_job_shows_running_and_its_page_follows_live_events() {
    let t = EngineApp::new().await;
    t.create_job("held", 7).await;
    let run_id = t.run("held").await;
    t.wait(&run_id, |b| b["status"] == "running").await;
    let grid = console(&t, Method::GET, "/console", &[], false).await;
    let card = grid
        .text
        .split("data-id=\"held\"")
        .nth(1)
        .expect("the card");
    assert!(card[..card.find("</article>").unwrap_or(card.len())].contains("Running"));
    let page = console(
        &t,
        Method::GET,
        &format!("/console/executions/{run_id}"),
        &[],
        false,
    )
    .await;
    assert!(
        page.text.contains(&format!(
            "data-events=\"/api/v1/executions/{run_id}/events\""
        )),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>"),
        "without JavaScript the page reloads itself while the run is live"
    );
    t.job.release.notify_one();
    t.wait_final(&run_id).await;
}

#[tokio::test]
async fn console_retry_of_a_failed_run_starts_a_new_one() {
    let t = EngineApp::new().await;
    t.create_job("bad", 13).await;
    let run_id = t.run("bad").await;
    t.wait_final(&run_id).await;
    let path = format!("/console/executions/{run_id}");
    let page = console(&t, Method::GET, &path, &[], false).await;
    assert!(page.text.contains("unlucky batch size"), "{}", page.text);
    assert!(
        page.text.contains(&format!("{path}/retry")),
        "a Retry button"
    );

    let refused = console(&t, Method::POST, &format!("{path}/retry"), &[], false).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "no CSRF token, no retry"
    );
    let r = console(&t, Method::POST, &format!("{path}/retry"), &[], true).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let new_run = location(&r)
        .strip_prefix("/console/executions/")
        .expect("to the new run")
        .to_owned();
    assert_ne!(new_run, run_id);
    let e = t.wait_final(&new_run).await;
    assert_eq!(e["trigger"], "retry");
    assert_eq!(e["retryOf"], run_id.as_str());
}

#[tokio::test]
async fn the_render_tree_of_an_execution_validates_against_the_catalog() {
    let t = EngineApp::new().await;
    t.create_job("bad", 13).await;
    let run_id = t.run("bad").await;
    t.wait_final(&run_id).await;
    let r = t
        .app
        .get(&format!("/api/v1/executions/{run_id}/render-tree"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "root");
    let types: Vec<&str> = r.body["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    for t in [
        "JobPhaseIndicator",
        "JobMetricRow",
        "JobErrorAlert",
        "JobLogEntry",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    let tree: grove_core::render::RenderTree =
        serde_json::from_value(r.body.clone()).expect("a tree");
    assert!(grove_core::render::validate_tree(&tree).is_ok());

    let missing = t.app.get("/api/v1/executions/nope/render-tree").await;
    assert_problem(&missing, StatusCode::NOT_FOUND);
}

/// Polls `GET /api/v1/engine` until the legacy flag is `in_use`.
async fn wait_legacy(t: &EngineApp, in_use: bool) {
    for _ in 0..500 {
        let r = t.app.get("/api/v1/engine").await;
        if r.body["legacyConfiguration"]["inUse"] == in_use {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the engine never reported legacy configuration in use = {in_use}");
}

/// Migration mode: the console says "Using legacy configuration" exactly
/// while no advancement-batch config is enabled.
#[tokio::test]
async fn the_legacy_banner_follows_the_engine() {
    let t = EngineApp::with(true, |s| s.legacy_fallback = true).await;
    for (enabled, in_use) in [(true, false), (false, true)] {
        let r = t
            .app
            .call(
                Method::PATCH,
                "/api/v1/objects/job-config/advancement-batch",
                Some(json!({"payload": {"schedule": {"isEnabled": enabled}}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        wait_legacy(&t, in_use).await;
        for page in ["/console", "/console/jobs/advancement-batch"] {
            let text = console(&t, Method::GET, page, &[], false).await.text;
            assert_eq!(
                text.contains("Using legacy configuration"),
                in_use,
                "{page}"
            );
        }
    }
}

/// The page of a run whose config was deleted still shows the run, from
/// the configuration it ran with, without a link or a Retry.
#[tokio::test]
async fn a_run_of_a_deleted_config_keeps_its_page() {
    let t = EngineApp::new().await;
    t.create_job("brief", 13).await;
    let run_id = t.run("brief").await;
    t.wait_final(&run_id).await;
    let r = t
        .app
        .call(Method::DELETE, "/api/v1/objects/job-config/brief", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let path = format!("/console/executions/{run_id}");
    let page = console(&t, Method::GET, &path, &[], false).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("unlucky batch size"));
    assert!(
        !page.text.contains(&format!("{path}/retry")),
        "no Retry of a deleted job"
    );
    assert!(!page.text.contains("href=\"/console/jobs/brief\""));
}
