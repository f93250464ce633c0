//! A test app: a fresh SQLite file, a test clock, tokens for each role.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use grove_core::clock::TestClock;
use grove_engine::EngineHandle;
use grove_store::sqlite::SqliteStore;
use grove_store::{Role, Store};
use grove_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const OPERATOR: &str = "gj_test_operator_token_0123456789";
pub const VIEWER: &str = "gj_test_viewer_token_0123456789";
#[allow(dead_code)]
pub const ADMIN: &str = "gj_test_admin_token_0123456789";

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    #[allow(dead_code)]
    pub clock: TestClock,
    _dir: tempfile::TempDir,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_seed(false).await
    }

    pub async fn seeded() -> Self {
        Self::with_seed(true).await
    }

    /// A seeded app whose web layer runs with `settings`.
    #[allow(dead_code)]
    pub async fn with_settings(settings: grove_web::WebSettings) -> Self {
        Self::build(true, settings).await
    }

    async fn with_seed(seed: bool) -> Self {
        Self::build(seed, grove_web::WebSettings::default()).await
    }

    async fn build(seed: bool, settings: grove_web::WebSettings) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("grove.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8"))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let store: Arc<dyn Store> = Arc::new(store);
        let clock = TestClock::new("2026-03-01T12:00:00Z".parse().expect("ts"));
        let now = "2026-03-01T12:00:00Z".parse().expect("ts");
        let setup = grove_app::App::without_engine(store.clone(), Arc::new(TestClock::new(now)));
        setup
            .register_token(OPERATOR, "ops", Role::Operator)
            .await
            .expect("token");
        setup
            .register_token(VIEWER, "look", Role::Viewer)
            .await
            .expect("token");
        setup
            .register_token(ADMIN, "root", Role::Admin)
            .await
            .expect("token");
        if seed {
            grove_store::seed::seed_defaults(&*store, now)
                .await
                .expect("seed");
        }
        let state = AppState::new(store.clone(), Arc::new(clock.clone()), EngineHandle::new())
            .with_settings(settings);
        Self {
            router: router(state),
            store,
            clock,
            _dir: dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// A JSON request as the operator.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(method, path, body, Some(OPERATOR), &[]).await
    }

    /// Signs in to the console with `token`: the session id its cookie
    /// holds, or `None` when the token is refused.
    #[allow(dead_code)]
    pub async fn sign_in(&self, token: &str) -> Option<String> {
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/console/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&next=/console")))
            .expect("request");
        let r = self.send(req).await;
        let cookie = r.headers.get("set-cookie")?.to_str().ok()?;
        let id = cookie.strip_prefix("grove_session=")?.split(';').next()?;
        (!id.is_empty()).then(|| id.to_owned())
    }

    /// A read as a viewer (every `/api/v1` read needs a token).
    pub async fn get(&self, path: &str) -> Reply {
        self.call_as(Method::GET, path, None, Some(VIEWER), &[])
            .await
    }

    /// A read with no credentials at all.
    #[allow(dead_code)]
    pub async fn get_anonymous(&self, path: &str) -> Reply {
        self.call_as(Method::GET, path, None, None, &[]).await
    }

    pub async fn call_as(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let has_ct = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                if !has_ct {
                    builder = builder.header("content-type", "application/json");
                }
                Body::from(serde_json::to_vec(&v).expect("json"))
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("request")).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {OPERATOR}"));
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        self.send(builder.body(Body::from(body)).expect("request"))
            .await
    }
}

/// Asserts a problem+json answer with this status; returns its body.
pub fn assert_problem(reply: &Reply, status: StatusCode) -> &Value {
    assert_eq!(reply.status, status, "body: {}", reply.text);
    assert_eq!(
        reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["status"], status.as_u16());
    assert!(reply.body["title"].is_string());
    assert!(reply.body["detail"].is_string());
    &reply.body
}

/// The pointers of a 422's errors.
pub fn pointers(reply: &Reply) -> Vec<String> {
    assert_problem(reply, StatusCode::UNPROCESSABLE_ENTITY);
    reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["pointer"].as_str().expect("pointer").to_owned())
        .collect()
}

/// Records a finished run of `config_id` through the store's own verbs
/// (insert, claim, logs, finish) and puts it in the config's
/// `lastExecution`, as the engine would: `last` is that `lastExecution`
/// JSON (`runId`, `status`, `startedAt`, `completedAt`, `itemsProcessed`,
/// `errors`, `error`).
pub async fn record_run(store: &Arc<dyn Store>, config_id: &str, last: &Value) {
    use grove_core::job_config::JobConfigPayload;
    use grove_core::registry::JOB_CONFIG;
    use grove_store::{
        AttemptOutcome, AttemptReason, AttemptStatus, Counts, ExecutionClaim, ExecutionFinish,
        ExecutionInsert, InsertDisposition, LogInsert, LogLevel, Trigger,
    };
    let ts = |k: &str| -> jiff::Timestamp { last[k].as_str().expect(k).parse().expect(k) };
    let (started, completed) = (ts("startedAt"), ts("completedAt"));
    let run_id = last["runId"].as_str().expect("runId").to_owned();
    let obj = store
        .object_get(JOB_CONFIG, config_id)
        .await
        .expect("get")
        .expect("config");
    let payload: JobConfigPayload = serde_json::from_value(obj.payload.clone()).expect("payload");
    let mut retry = payload.retry;
    retry.max_attempts = 1;
    store
        .execution_insert(ExecutionInsert {
            id: run_id.clone(),
            config_id: config_id.to_owned(),
            trigger: Trigger::Manual,
            scheduled_for: None,
            due_at: None,
            late: false,
            payload: payload.to_value(),
            config_version: obj.meta.version,
            retry,
            max_concurrent: 1000,
            retry_of: None,
            parent_run_id: None,
            overrides: None,
            actor: Some("tester".to_owned()),
            disposition: InsertDisposition::Queue,
            now: started,
        })
        .await
        .expect("insert");
    let claimed = store
        .execution_claim(ExecutionClaim {
            owner: "recorder".to_owned(),
            now: started,
            lease_until: completed + jiff::SignedDuration::from_hours(1),
            limit: 1000,
            returned: Default::default(),
        })
        .await
        .expect("claim");
    assert!(claimed.iter().any(|c| c.execution.id == run_id));
    let error = last["error"].as_str().map(str::to_owned);
    let mut lines = vec![(LogLevel::Info, "attempt 1 of 1 started".to_owned())];
    if let Some(e) = &error {
        lines.push((LogLevel::Error, e.clone()));
    }
    store
        .log_append(
            lines
                .into_iter()
                .map(|(level, message)| LogInsert {
                    execution_id: run_id.clone(),
                    attempt: 1,
                    at: started,
                    level,
                    message,
                })
                .collect(),
        )
        .await
        .expect("logs");
    let processed = last["itemsProcessed"].as_u64().unwrap_or(0);
    let failed = last["errors"].as_u64().unwrap_or(0);
    let (status, reason) = match last["status"].as_str() {
        Some("failed") => (AttemptStatus::Failed, Some(AttemptReason::Error)),
        Some("partial") => (AttemptStatus::Partial, None),
        Some("cancelled") => (AttemptStatus::Cancelled, Some(AttemptReason::Cancelled)),
        _ => (AttemptStatus::Success, None),
    };
    store
        .execution_finish(ExecutionFinish {
            logs: Vec::new(),
            execution_id: run_id.clone(),
            attempt: 1,
            owner: "recorder".to_owned(),
            now: completed,
            outcome: AttemptOutcome {
                status,
                reason,
                error,
                counts: Counts {
                    processed,
                    total: Some(processed),
                    succeeded: processed.saturating_sub(failed),
                    failed,
                },
                metadata: serde_json::json!({}),
            },
        })
        .await
        .expect("finish");
    let mut state = serde_json::Map::new();
    state.insert("lastExecution".to_owned(), last.clone());
    store
        .object_state_merge(JOB_CONFIG, config_id, state)
        .await
        .expect("state");
}
