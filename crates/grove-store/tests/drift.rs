//! The two backends must store the same shapes. One scenario runs on a
//! fresh SQLite file and a fresh PostgreSQL schema with the same ids and
//! instants; then everything a caller can read back — objects as exported,
//! revisions, executions with their attempts and logs, and every archived
//! row — must be equal, and an archive made on one backend must restore on
//! the other. Runs wherever the PostgreSQL suite runs (and fails in CI
//! without it, like that suite).

use std::sync::Arc;

use grove_core::job_config::{JobConfigPayload, JobType};
use grove_core::registry::{ADVANCEMENT_RULE, JOB_CONFIG};
use grove_store::sqlite::SqliteStore;
use grove_store::{
    AdvancementApply, AdvancementCandidate, ArchiveEntity, ArchiveOrphans, ArchivedRow,
    AttemptOutcome, AttemptStatus, Counts, ExecutionClaim, ExecutionFinish, ExecutionInsert,
    GroveBulkLoad, InsertDisposition, LogInsert, LogLevel, ObjectInsert, ObjectUpdate, OrphanQuery,
    SignalInsert, SproutUpsert, Store, Trigger,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::postgres;

fn t(offset_secs: i64) -> Timestamp {
    "2026-11-01T12:00:00Z"
        .parse::<Timestamp>()
        .expect("instant")
        + SignedDuration::from_secs(offset_secs)
}

const ENTITIES: [ArchiveEntity; 4] = [
    ArchiveEntity::Sprouts,
    ArchiveEntity::Signals,
    ArchiveEntity::AdvancementEvents,
    ArchiveEntity::Executions,
];

/// Writes the same data through every family of verbs, then archives
/// every orphan kind.
async fn scenario(store: &dyn Store) {
    let health = JobConfigPayload::default_for(JobType::HealthCheck).to_value();
    // Key order as an operator wrote it must survive on both.
    let rule = json!({"zeta": 1, "alpha": {"b": 2, "a": 1}, "enabled": true});
    for (object_type, id, payload) in [
        (JOB_CONFIG, "kept", &health),
        (JOB_CONFIG, "gone", &health),
        (ADVANCEMENT_RULE, "r1", &rule),
    ] {
        store
            .object_insert(ObjectInsert {
                object_type: object_type.to_owned(),
                id: id.to_owned(),
                title: format!("Title of {id}"),
                description: Some("described".to_owned()),
                tags: vec!["b".to_owned(), "a".to_owned()],
                payload: payload.clone(),
                actor: Some("tester".to_owned()),
                now: t(0),
            })
            .await
            .unwrap();
    }
    store
        .object_update(ObjectUpdate {
            object_type: ADVANCEMENT_RULE.to_owned(),
            id: "r1".to_owned(),
            expected_version: 1,
            title: "Renamed".to_owned(),
            description: None,
            tags: vec![],
            payload: json!({"zeta": 2, "alpha": {"b": 2, "a": 1}, "enabled": false}),
            actor: None,
            now: t(1),
        })
        .await
        .unwrap();
    let mut state = serde_json::Map::new();
    state.insert(
        "lastExecution".to_owned(),
        json!({"status": "success", "n": 1}),
    );
    store
        .object_state_merge(JOB_CONFIG, "kept", state)
        .await
        .unwrap();

    // Executions of both configs, one retried, with logs; then "gone" is deleted.
    for (id, config) in [("run-kept", "kept"), ("run-gone", "gone")] {
        let outcome = store
            .execution_insert(ExecutionInsert {
                id: id.to_owned(),
                config_id: config.to_owned(),
                trigger: Trigger::Manual,
                scheduled_for: None,
                due_at: None,
                late: false,
                payload: health.clone(),
                config_version: 1,
                retry: grove_core::retry::RetryPolicy {
                    max_attempts: 2,
                    backoff_strategy: grove_core::retry::BackoffStrategy::Fixed,
                    initial_delay_seconds: 5,
                    max_delay_seconds: 5,
                },
                max_concurrent: 1,
                retry_of: None,
                parent_run_id: None,
                overrides: None,
                actor: Some("tester".to_owned()),
                disposition: InsertDisposition::Queue,
                now: t(10),
            })
            .await
            .unwrap();
        assert!(matches!(outcome, grove_store::InsertOutcome::Queued(_)));
    }
    for (attempt, now, status) in [
        (1, t(20), AttemptStatus::Failed),
        (2, t(30), AttemptStatus::Success),
    ] {
        let claimed = store
            .execution_claim(ExecutionClaim {
                owner: "w".to_owned(),
                now,
                lease_until: now + SignedDuration::from_secs(60),
                limit: 10,
                returned: Default::default(),
            })
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2, "attempt {attempt}");
        for id in ["run-kept", "run-gone"] {
            store
                .log_append(vec![LogInsert {
                    execution_id: id.to_owned(),
                    attempt,
                    at: now,
                    level: LogLevel::Warn,
                    message: format!("attempt {attempt} says ünïcode"),
                }])
                .await
                .unwrap();
            store
                .execution_finish(ExecutionFinish {
                    logs: Vec::new(),
                    execution_id: id.to_owned(),
                    attempt,
                    owner: "w".to_owned(),
                    now: now + SignedDuration::from_secs(1),
                    outcome: AttemptOutcome {
                        status,
                        reason: None,
                        error: (status == AttemptStatus::Failed).then(|| "boom".to_owned()),
                        counts: Counts {
                            processed: 4,
                            total: Some(4),
                            succeeded: 3,
                            failed: 1,
                        },
                        metadata: json!({"z": 1, "a": [true, null]}),
                    },
                })
                .await
                .unwrap();
        }
    }
    store.object_delete(JOB_CONFIG, "gone", None).await.unwrap();

    // Sprouts: "idle" is never touched again and is archived as idle;
    // "live" stays. Signals and events of "idle" follow it to the archive.
    store
        .sprout_upsert_batch(
            ["idle", "live"]
                .into_iter()
                .map(|id| SproutUpsert {
                    id: id.to_owned(),
                    title: format!("Sprout {id}"),
                    tier: "seed".to_owned(),
                    parent_id: (id == "live").then(|| "idle".to_owned()),
                    created_at: t(0),
                })
                .collect(),
            t(0),
        )
        .await
        .unwrap();
    store
        .grove_bulk_load(GroveBulkLoad {
            sprouts: vec![],
            signals: (0..3)
                .map(|i| SignalInsert {
                    id: format!("sig-{i}"),
                    sprout_id: if i == 2 { "live" } else { "idle" }.to_owned(),
                    kind: "retrieval".to_owned(),
                    at: t(i),
                    value: (i == 1).then_some(0.5),
                })
                .collect(),
            now: Some(t(5)),
        })
        .await
        .unwrap();
    store
        .advancement_apply(AdvancementApply {
            run_id: "adv-run".to_owned(),
            dry_run: true,
            at: t(40),
            items: vec![AdvancementCandidate {
                sprout_id: "idle".to_owned(),
                from_tier: "seed".to_owned(),
                to_tier: "sprout".to_owned(),
                rule_id: "r1".to_owned(),
                signals: json!({"retrievals": 2, "citations": 0}),
            }],
        })
        .await
        .unwrap();
    store
        .sprout_upsert_batch(
            vec![SproutUpsert {
                id: "live".to_owned(),
                title: "Sprout live, renamed".to_owned(),
                tier: "seed".to_owned(),
                parent_id: None,
                created_at: t(0),
            }],
            t(100),
        )
        .await
        .unwrap();

    for (entity, idle_before) in [
        (ArchiveEntity::Sprouts, t(50)),
        (ArchiveEntity::Signals, t(50)),
        (ArchiveEntity::AdvancementEvents, t(50)),
        (ArchiveEntity::Executions, t(50)),
    ] {
        let moved = store
            .archive_orphans(ArchiveOrphans {
                query: OrphanQuery {
                    entity,
                    idle_before,
                },
                after_id: None,
                limit: 100,
                reason: format!("orphaned {entity}"),
                run_id: Some("cleanup-run".to_owned()),
                now: t(60),
            })
            .await
            .unwrap();
        assert!(!moved.is_empty(), "something of {entity} is archived");
    }
}

/// Everything a caller reads back after the scenario. JSON compares as
/// JSON (key order aside: `jsonb` sorts keys); only an operator's payload
/// must keep its key order, checked by [`payload_text`].
#[derive(Debug, PartialEq)]
struct Shapes {
    objects: Vec<grove_store::StoredObject>,
    revisions: Vec<grove_store::Revision>,
    execution: grove_store::Execution,
    logs: Vec<(String, Timestamp, LogLevel, u32)>,
    archive: Vec<ArchivedRow>,
    sprout: Option<grove_store::Sprout>,
}

async fn logs(store: &dyn Store, run: &str) -> Vec<(String, Timestamp, LogLevel, u32)> {
    store
        .log_list(run, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.message, l.at, l.level, l.attempt))
        .collect()
}

async fn shapes(store: &dyn Store) -> Shapes {
    let mut objects = Vec::new();
    let mut revisions = Vec::new();
    for object_type in [JOB_CONFIG, ADVANCEMENT_RULE] {
        for o in store.object_list(object_type).await.unwrap() {
            revisions.extend(store.revision_list(object_type, &o.meta.id).await.unwrap());
            objects.push(o);
        }
    }
    Shapes {
        objects,
        revisions,
        execution: store.execution_get("run-kept").await.unwrap().unwrap(),
        logs: logs(store, "run-kept").await,
        archive: archived(store).await,
        sprout: store.sprout_get("idle").await.unwrap(),
    }
}

/// The rule's payload as text: the operator's key order.
async fn payload_text(store: &dyn Store) -> String {
    let rule = store
        .object_get(ADVANCEMENT_RULE, "r1")
        .await
        .unwrap()
        .unwrap();
    serde_json::to_string(&rule.payload).unwrap()
}

/// A fresh SQLite store on its own file.
async fn sqlite() -> (SqliteStore, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir
        .path()
        .join("drift.db")
        .to_str()
        .expect("utf-8")
        .to_owned();
    let store = SqliteStore::open(&path).await.expect("open");
    store.migrate().await.expect("migrate");
    (store, dir, path)
}

/// Puts archived rows into another store's archive, as a move of the data
/// between deployments would.
async fn copy_archive_to_postgres(rows: &[ArchivedRow], url: &str, schema: &str) {
    let mut conn = postgres::admin(url).await;
    for r in rows {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO \"{schema}\".archive (entity, id, data, reason, run_id, archived_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(&r.entity)
        .bind(&r.id)
        .bind(&r.data)
        .bind(&r.reason)
        .bind(&r.run_id)
        .bind(r.archived_at.as_millisecond())
        .execute(&mut conn)
        .await
        .expect("copy an archived row");
    }
}

async fn copy_archive_to_sqlite(rows: &[ArchivedRow], path: &str) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}"))
        .await
        .expect("open the file");
    for r in rows {
        sqlx::query(
            "INSERT INTO archive (entity, id, data, reason, run_id, archived_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.entity)
        .bind(&r.id)
        .bind(r.data.to_string())
        .bind(&r.reason)
        .bind(&r.run_id)
        .bind(r.archived_at.as_millisecond())
        .execute(&pool)
        .await
        .expect("copy an archived row");
    }
    pool.close().await;
}

async fn archived(store: &dyn Store) -> Vec<ArchivedRow> {
    let mut rows = Vec::new();
    for entity in ENTITIES {
        rows.extend(store.archive_list(entity, 100).await.unwrap());
    }
    rows
}

/// What restored rows read as.
#[derive(Debug, PartialEq)]
struct Restored {
    execution: Option<grove_store::Execution>,
    logs: Vec<(String, Timestamp, LogLevel, u32)>,
    sprout: Option<grove_store::Sprout>,
    events: Vec<grove_store::AdvancementEvent>,
}

/// Restores every archived row; returns what the restored rows read as.
async fn restore_all(store: &dyn Store, rows: &[ArchivedRow]) -> Restored {
    for entity in ENTITIES {
        let ids: Vec<String> = rows
            .iter()
            .filter(|r| r.entity == entity.to_string())
            .map(|r| r.id.clone())
            .collect();
        let restored = store.archive_restore(entity, &ids).await.unwrap();
        assert_eq!(restored as usize, ids.len(), "every {entity} row restores");
    }
    Restored {
        execution: store.execution_get("run-gone").await.unwrap(),
        logs: logs(store, "run-gone").await,
        sprout: store.sprout_get("idle").await.unwrap(),
        events: store
            .advancement_event_list(grove_store::AdvancementEventFilter {
                sprout_id: Some("idle".to_owned()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn both_backends_store_the_same_shapes_and_archives_travel() {
    let Some(url) = postgres::database_url() else {
        return;
    };
    let (lite, _dir, _) = sqlite().await;
    let schema = postgres::new_schema(&url).await;
    let pg = postgres::connect(&url, &schema).await;
    pg.migrate().await.expect("migrate");
    let (lite, pg): (Arc<dyn Store>, Arc<dyn Store>) = (Arc::new(lite), Arc::new(pg));

    scenario(&*lite).await;
    scenario(&*pg).await;
    let (a, b) = (shapes(&*lite).await, shapes(&*pg).await);
    assert_eq!(a.objects, b.objects, "objects as exported");
    assert_eq!(a.revisions, b.revisions, "revisions");
    assert_eq!(a.execution, b.execution, "an execution with its attempts");
    assert_eq!(a.logs, b.logs, "log lines");
    assert_eq!(
        a.archive.len(),
        5,
        "a sprout, its two signals and event, an execution"
    );
    assert_eq!(a.archive, b.archive, "archived rows");
    assert_eq!(a.sprout, b.sprout, "an archived sprout read back");
    let text = payload_text(&*lite).await;
    assert_eq!(text, r#"{"zeta":2,"alpha":{"b":2,"a":1},"enabled":false}"#);
    assert_eq!(payload_text(&*pg).await, text, "the operator's key order");

    // Each backend's archive, moved to a fresh database of the other kind,
    // restores to what the original restores to.
    let (lite_rows, pg_rows) = (archived(&*lite).await, archived(&*pg).await);
    let expected = restore_all(&*lite, &lite_rows).await;
    assert_eq!(restore_all(&*pg, &pg_rows).await, expected);

    let (other_lite, _other_dir, other_path) = sqlite().await;
    copy_archive_to_sqlite(&pg_rows, &other_path).await;
    assert_eq!(
        restore_all(&other_lite, &pg_rows).await,
        expected,
        "a PostgreSQL archive restores on SQLite"
    );
    let other_schema = postgres::new_schema(&url).await;
    let other_pg = postgres::connect(&url, &other_schema).await;
    other_pg.migrate().await.expect("migrate");
    copy_archive_to_postgres(&lite_rows, &url, &other_schema).await;
    assert_eq!(
        restore_all(&other_pg, &lite_rows).await,
        expected,
        "an SQLite archive restores on PostgreSQL"
    );

    for store in [&*lite, &*pg] {
        store.close().await;
    }
    other_pg.close().await;
    other_lite.close().await;
    postgres::drop_schema(&url, &schema).await;
    postgres::drop_schema(&url, &other_schema).await;
}
