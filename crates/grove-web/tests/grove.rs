//! Grove data endpoints, in process through `router(state)`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use grove_core::clock::TestClock;
use grove_engine::EngineHandle;
use grove_store::sqlite::SqliteStore;
use grove_store::{AdvancementApply, AdvancementCandidate, Notification, Role, Store};
use grove_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct App {
    router: Router,
    store: Arc<dyn Store>,
    token: String,
}

fn now() -> jiff::Timestamp {
    "2026-03-31T00:00:00Z".parse().unwrap()
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grove.db");
    std::mem::forget(dir);
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let token = grove_app::App::without_engine(store.clone(), Arc::new(TestClock::new(now())))
        .create_token("ci", Role::Operator, &grove_app::Caller::named("setup"))
        .await
        .unwrap()
        .secret;
    let state = AppState::new(
        store.clone(),
        Arc::new(TestClock::new(now())),
        EngineHandle::new(),
    );
    App {
        router: router(state),
        store,
        token,
    }
}

impl App {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        auth: bool,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if auth {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&b).unwrap())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, value)
    }

    async fn post(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", uri, Some(body), true).await
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.call("GET", uri, None, true).await
    }
}

#[tokio::test]
async fn sprout_ingestion_reports_rejects_by_index() {
    let app = app().await;
    let (status, body) = app
        .post(
            "/api/v1/sprouts",
            json!({"items": [
                {"id": "a", "title": "A", "tier": "seed"},
                {"id": "b", "title": "B", "tier": "seed", "parentId": "a", "createdAt": "2026-01-01T00:00:00Z"},
                {"id": "c", "title": "C", "tier": "oak"},
                {"id": "d", "title": "", "tier": "seed"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["duplicates"], 0);
    assert_eq!(body["rejected"][0]["index"], 2);
    assert_eq!(body["rejected"][0]["pointer"], "/items/2/tier");
    assert_eq!(body["rejected"][1]["pointer"], "/items/3/title");

    // Upsert: one changed, one the same.
    let (_, body) = app
        .post(
            "/api/v1/sprouts",
            json!({"items": [
                {"id": "a", "title": "A2", "tier": "sprout"},
                {"id": "b", "title": "B", "tier": "seed", "parentId": "a"},
            ]}),
        )
        .await;
    assert_eq!(
        (body["accepted"].clone(), body["duplicates"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        (body["updated"].clone(), body["created"].clone()),
        (json!(1), json!(0))
    );

    let (status, body) = app.get("/api/v1/sprouts/a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tier"], "sprout");
    assert_eq!(body["title"], "A2");
    assert_eq!(body["archived"], false);
    assert_eq!(body["aggregates"], json!({}));
    let (_, b) = app.get("/api/v1/sprouts/b").await;
    assert_eq!(b["createdAt"], "2026-01-01T00:00:00Z");
    assert_eq!(b["parentId"], "a");

    let (status, body) = app.get("/api/v1/sprouts/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn signal_ingestion_dedupes_and_rejects_unknown_sprouts() {
    let app = app().await;
    app.post(
        "/api/v1/sprouts",
        json!({"items": [{"id": "a", "title": "A", "tier": "seed"}]}),
    )
    .await;
    let batch = json!({"items": [
        {"id": "s1", "sproutId": "a", "kind": "retrieval", "at": "2026-03-30T00:00:00Z"},
        {"id": "s2", "sproutId": "ghost", "kind": "retrieval", "at": "2026-03-30T00:00:00Z"},
        {"id": "s3", "sproutId": "a", "kind": "nope", "at": "2026-03-30T00:00:00Z"},
        {"id": "s1", "sproutId": "a", "kind": "retrieval", "at": "2026-03-30T00:00:00Z"},
        {"id": "s4", "sproutId": "a", "kind": "citations", "at": "2026-03-30T00:00:00Z", "value": 1},
    ]});
    let (status, body) = app.post("/api/v1/signals", batch.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["duplicates"], 1);
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["index"], 1);
    assert_eq!(rejected[0]["pointer"], "/items/1/sproutId");
    assert!(rejected[0]["message"].as_str().unwrap().contains("ghost"));
    assert_eq!(rejected[1]["pointer"], "/items/2/kind");

    // A retried upload is counted once.
    let (_, body) = app.post("/api/v1/signals", batch).await;
    assert_eq!(body["accepted"], 0);
    assert_eq!(body["duplicates"], 3);
    assert_eq!(app.store.signal_count().await.unwrap(), 2);
}

#[tokio::test]
async fn ingestion_needs_an_operator_and_a_sane_body() {
    let app = app().await;
    let (status, _) = app
        .call("POST", "/api/v1/signals", Some(json!({"items": []})), false)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.post("/api/v1/signals", json!({"things": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["pointer"], "/things");
    let (status, body) = app.post("/api/v1/sprouts", json!([1, 2])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"id": format!("x{i}"), "sproutId": "a", "kind": "view", "at": "2026-03-30T00:00:00Z"}))
        .collect();
    let (status, body) = app.post("/api/v1/signals", json!({"items": many})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["pointer"], "/items");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 10000")
    );
    let (status, body) = app.post("/api/v1/signals", json!({"items": []})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"accepted": 0, "duplicates": 0, "rejected": []})
    );
}

#[tokio::test]
async fn a_full_batch_of_ten_thousand_fits() {
    let app = app().await;
    let items: Vec<Value> = (0..10_000)
        .map(|i| json!({"id": format!("sp-{i:05}"), "title": format!("Sprout number {i}"), "tier": "seed"}))
        .collect();
    let (status, body) = app.post("/api/v1/sprouts", json!({"items": items})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 10_000);
}

#[tokio::test]
async fn events_and_notifications_are_listed_with_filters() {
    let app = app().await;
    app.post(
        "/api/v1/sprouts",
        json!({"items": [{"id": "a", "title": "A", "tier": "seed"}, {"id": "b", "title": "B", "tier": "seed"}]}),
    )
    .await;
    let cand = |s: &str| AdvancementCandidate {
        sprout_id: s.to_owned(),
        from_tier: "seed".to_owned(),
        to_tier: "sprout".to_owned(),
        rule_id: "rule-1".to_owned(),
        signals: json!([{"signal": "retrievals", "value": 10.0}]),
    };
    app.store
        .advancement_apply(AdvancementApply {
            run_id: "run-1".to_owned(),
            dry_run: false,
            at: now(),
            items: vec![cand("a"), cand("b")],
        })
        .await
        .unwrap();
    let (status, body) = app.get("/api/v1/advancement-events?sproutId=a").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["ruleId"], "rule-1");
    assert_eq!(items[0]["runId"], "run-1");
    assert_eq!(items[0]["fromTier"], "seed");
    assert_eq!(items[0]["dryRun"], false);
    assert_eq!(items[0]["signals"][0]["value"], 10.0);
    let (_, body) = app
        .get("/api/v1/advancement-events?runId=run-1&ruleId=rule-1")
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let (_, body) = app.get("/api/v1/advancement-events?runId=other").await;
    assert_eq!(body["items"], json!([]));
    let (status, _) = app.get("/api/v1/advancement-events?sprout=a").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.get("/api/v1/advancement-events?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    app.store
        .notification_insert(Notification {
            id: "n1".to_owned(),
            recipient_id: "ops".to_owned(),
            channel: "outbox".to_owned(),
            subject: "digest".to_owned(),
            body: json!({"total": 1}),
            run_id: None,
            created_at: now(),
        })
        .await
        .unwrap();
    let (_, body) = app.get("/api/v1/notifications?recipientId=ops").await;
    assert_eq!(body["items"][0]["subject"], "digest");
    assert_eq!(body["items"][0]["body"]["total"], 1);
    let (_, body) = app.get("/api/v1/notifications?recipientId=someone").await;
    assert_eq!(body["items"], json!([]));
    let (_, body) = app.get("/api/v1/notifications").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn openapi_lists_the_grove_endpoints() {
    let app = app().await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/sprouts",
        "/api/v1/sprouts/{id}",
        "/api/v1/signals",
        "/api/v1/advancement-events",
        "/api/v1/notifications",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["IngestReport"].is_object());
}

#[tokio::test]
async fn archived_sprouts_still_answer_and_take_no_signals() {
    let app = app().await;
    app.post(
        "/api/v1/sprouts",
        json!({"items": [{"id": "a", "title": "A", "tier": "tree"}]}),
    )
    .await;
    // Idle since before the cutoff: archived by orphan cleanup.
    let moved = app
        .store
        .archive_orphans(grove_store::ArchiveOrphans {
            query: grove_store::OrphanQuery {
                entity: grove_store::ArchiveEntity::Sprouts,
                idle_before: "2027-01-01T00:00:00Z".parse().unwrap(),
            },
            after_id: None,
            limit: 10,
            reason: "idle".to_owned(),
            run_id: None,
            now: now(),
        })
        .await
        .unwrap();
    assert_eq!(moved, vec!["a".to_owned()]);
    let (status, body) = app.get("/api/v1/sprouts/a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["archived"], true);
    assert_eq!(body["tier"], "tree");
    let (_, body) = app
        .post(
            "/api/v1/signals",
            json!({"items": [{"id": "x", "sproutId": "a", "kind": "view", "at": "2026-03-30T00:00:00Z"}]}),
        )
        .await;
    assert_eq!(body["rejected"][0]["pointer"], "/items/0/sproutId");
}
