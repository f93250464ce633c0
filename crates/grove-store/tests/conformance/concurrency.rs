//! What must hold when several writers race: on SQLite they queue behind
//! one writer connection, on PostgreSQL they really run at once.

use std::sync::Arc;

use grove_store::{ObjectUpdate, Store, StoreError};
use serde_json::{Map, json};

use super::at;
use super::objects::insert;

#[macro_export]
macro_rules! concurrency_suite {
    ($fresh:path) => {
        mod concurrency {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn racing_saves_of_one_version_let_exactly_one_win() {
                $crate::conformance::run($fresh().await, $crate::conformance::concurrency::racing_saves_of_one_version_let_exactly_one_win).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn racing_state_merges_all_survive() {
                $crate::conformance::run($fresh().await, $crate::conformance::concurrency::racing_state_merges_all_survive).await
            }
        }
    };
}

const WRITERS: usize = 8;

pub async fn racing_saves_of_one_version_let_exactly_one_win(store: Arc<dyn Store>) {
    store
        .object_insert(insert("a", json!({"v": 0})))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .object_update(ObjectUpdate {
                    object_type: "job-config".to_owned(),
                    id: "a".to_owned(),
                    expected_version: 1,
                    title: format!("writer {i}"),
                    description: None,
                    tags: vec![],
                    payload: json!({"v": i}),
                    actor: Some(format!("writer-{i}")),
                    now: at("2026-01-02T00:00:00Z"),
                })
                .await
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("join") {
            Ok(saved) => winners.push(saved),
            Err(StoreError::Conflict { current: 2 }) => {}
            Err(e) => panic!("a losing save must be a Conflict at version 2, got {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one save of version 1 wins");
    let got = store.object_get("job-config", "a").await.unwrap().unwrap();
    assert_eq!(got, winners[0]);
    assert_eq!(got.meta.version, 2);
    let revisions = store.revision_list("job-config", "a").await.unwrap();
    assert_eq!(
        revisions.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(revisions[0].payload, got.payload);
}

pub async fn racing_state_merges_all_survive(store: Arc<dyn Store>) {
    store
        .object_insert(insert("a", json!({"v": 1})))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut state = Map::new();
            state.insert(format!("k{i}"), json!(i));
            store.object_state_merge("job-config", "a", state).await
        }));
    }
    for task in tasks {
        task.await.expect("join").expect("merge");
    }
    let got = store.object_get("job-config", "a").await.unwrap().unwrap();
    assert_eq!(got.meta.version, 1);
    for i in 0..WRITERS {
        assert_eq!(got.payload[format!("k{i}")], json!(i), "k{i} lost");
    }
}
