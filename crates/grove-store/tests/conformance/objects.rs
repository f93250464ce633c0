use std::sync::Arc;

use grove_store::{
    FieldCount, FieldPath, ObjectInsert, ObjectPages, ObjectUpdate, Store, StoreError,
};
use serde_json::{Map, json};

use super::at;

#[macro_export]
macro_rules! objects_suite {
    ($fresh:path) => {
        mod objects {
            use super::*;
            #[tokio::test]
            async fn insert_then_get_and_list() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::insert_then_get_and_list,
                )
                .await
            }
            #[tokio::test]
            async fn get_many_reads_the_ids_found() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::get_many_reads_the_ids_found,
                )
                .await
            }
            #[tokio::test]
            async fn field_counts_group_objects_by_their_values() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::field_counts_group_objects_by_their_values,
                )
                .await
            }
            #[tokio::test]
            async fn insert_twice_is_already_exists() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::insert_twice_is_already_exists,
                )
                .await
            }
            #[tokio::test]
            async fn update_bumps_version_and_writes_revision() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::update_bumps_version_and_writes_revision,
                )
                .await
            }
            #[tokio::test]
            async fn stale_update_conflicts_and_changes_nothing() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::stale_update_conflicts_and_changes_nothing,
                )
                .await
            }
            #[tokio::test]
            async fn delete_removes_object_and_revisions() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::delete_removes_object_and_revisions,
                )
                .await
            }
            #[tokio::test]
            async fn state_merges_without_version_bump() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::state_merges_without_version_bump,
                )
                .await
            }
            #[tokio::test]
            async fn list_orders_ids_byte_by_byte() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::list_orders_ids_byte_by_byte,
                )
                .await
            }
            #[tokio::test]
            async fn pages_walk_every_object_once() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::pages_walk_every_object_once,
                )
                .await
            }
            #[tokio::test]
            async fn payload_key_order_survives() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::payload_key_order_survives,
                )
                .await
            }
            #[tokio::test]
            async fn seeds_are_marked_once() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::objects::seeds_are_marked_once,
                )
                .await
            }
        }
    };
}

pub fn insert(id: &str, payload: serde_json::Value) -> ObjectInsert {
    ObjectInsert {
        object_type: "job-config".to_owned(),
        id: id.to_owned(),
        title: format!("Title {id}"),
        description: Some("desc".to_owned()),
        tags: vec!["a".to_owned()],
        payload,
        actor: Some("tester".to_owned()),
        now: at("2026-01-01T00:00:00Z"),
    }
}

fn update(id: &str, expected_version: i64, payload: serde_json::Value) -> ObjectUpdate {
    ObjectUpdate {
        object_type: "job-config".to_owned(),
        id: id.to_owned(),
        expected_version,
        title: "New title".to_owned(),
        description: None,
        tags: vec![],
        payload,
        actor: Some("editor".to_owned()),
        now: at("2026-01-02T00:00:00Z"),
    }
}

pub async fn insert_then_get_and_list(store: Arc<dyn Store>) {
    let created = store
        .object_insert(insert("b", json!({"x": 1})))
        .await
        .unwrap();
    assert_eq!(created.meta.version, 1);
    assert_eq!(created.meta.created_by.as_deref(), Some("tester"));
    store
        .object_insert(insert("a", json!({"x": 2})))
        .await
        .unwrap();
    let got = store.object_get("job-config", "b").await.unwrap().unwrap();
    assert_eq!(got, created);
    assert_eq!(got.payload, json!({"x": 1}));
    assert_eq!(got.meta.tags, vec!["a".to_owned()]);
    assert_eq!(got.meta.created_at, at("2026-01-01T00:00:00Z"));
    let ids: Vec<String> = store
        .object_list("job-config")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.meta.id)
        .collect();
    assert_eq!(ids, vec!["a", "b"]);
    assert!(
        store
            .object_list("advancement-rule")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .object_get("job-config", "missing")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn get_many_reads_the_ids_found(store: Arc<dyn Store>) {
    for (id, x) in [("c", 3), ("a", 1), ("b", 2)] {
        store
            .object_insert(insert(id, json!({ "x": x })))
            .await
            .unwrap();
    }
    let mut state = Map::new();
    state.insert("lastRun".to_owned(), json!("r1"));
    store
        .object_state_merge("job-config", "b", state)
        .await
        .unwrap();
    // Ids repeated, missing and unordered: each found object once, by id,
    // as `object_get` reads it (its engine state merged in).
    let got = store
        .object_get_many("job-config", &["c", "missing", "b", "c"])
        .await
        .unwrap();
    let one = store.object_get("job-config", "b").await.unwrap().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], one);
    assert_eq!(got[1].meta.id, "c");
    assert_eq!(got[1].payload["x"], 3);
    assert!(
        store
            .object_get_many("advancement-rule", &["a"])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .object_get_many("job-config", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn field_counts_group_objects_by_their_values(store: Arc<dyn Store>) {
    let paths = [
        FieldPath::parse("on.off").unwrap(),
        FieldPath::parse("last.status").unwrap(),
    ];
    assert!(
        store
            .object_field_counts("job-config", &paths)
            .await
            .unwrap()
            .is_empty(),
        "no objects, no combinations"
    );
    for (id, payload) in [
        (
            "a",
            json!({"on": {"off": true}, "last": {"status": "stale"}}),
        ),
        ("b", json!({"on": {"off": true}})),
        ("c", json!({"on": {"off": true}})),
        ("d", json!({"on": {"off": null}, "last": 3})),
        ("e", json!({"on": {"off": {"deep": [1, 2]}}})),
    ] {
        store.object_insert(insert(id, payload)).await.unwrap();
    }
    // Engine state replaces the payload's field, as every read merges it.
    for (id, last) in [
        ("a", json!({"status": "failed"})),
        ("b", json!({"status": "failed"})),
    ] {
        let mut state = Map::new();
        state.insert("last".to_owned(), last);
        store
            .object_state_merge("job-config", id, state)
            .await
            .unwrap();
    }
    store
        .object_insert(ObjectInsert {
            object_type: "advancement-rule".into(),
            ..insert("a", json!({"on": {"off": false}}))
        })
        .await
        .unwrap();
    let mut counts = store
        .object_field_counts("job-config", &paths)
        .await
        .unwrap();
    counts.sort_by_key(|c| format!("{:?}", c.values));
    let alike =
        |on: Option<serde_json::Value>, last: Option<serde_json::Value>, objects| FieldCount {
            values: vec![on, last],
            objects,
        };
    let mut expected = vec![
        alike(Some(json!(true)), Some(json!("failed")), 2),
        alike(Some(json!(true)), None, 1),
        alike(Some(json!(null)), None, 1),
        alike(Some(json!({"deep": [1, 2]})), None, 1),
    ];
    expected.sort_by_key(|c| format!("{:?}", c.values));
    assert_eq!(counts, expected);
    // No paths: one combination, every object of the type.
    assert_eq!(
        store
            .object_field_counts("advancement-rule", &[])
            .await
            .unwrap(),
        vec![FieldCount {
            values: vec![],
            objects: 1
        }]
    );
    // Paths a store cannot read in SQL are refused before they reach it.
    for path in ["a.0", "a..b", "a-b", "a'b", ""] {
        assert!(FieldPath::parse(path).is_none(), "{path}");
    }
}

pub async fn insert_twice_is_already_exists(store: Arc<dyn Store>) {
    store.object_insert(insert("a", json!({}))).await.unwrap();
    let err = store
        .object_insert(insert("a", json!({"y": 1})))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
    assert_eq!(
        store
            .object_get("job-config", "a")
            .await
            .unwrap()
            .unwrap()
            .payload,
        json!({})
    );
}

pub async fn update_bumps_version_and_writes_revision(store: Arc<dyn Store>) {
    store
        .object_insert(insert("a", json!({"v": 1})))
        .await
        .unwrap();
    let updated = store
        .object_update(update("a", 1, json!({"v": 2})))
        .await
        .unwrap();
    assert_eq!(updated.meta.version, 2);
    assert_eq!(updated.meta.title, "New title");
    assert_eq!(updated.meta.updated_by.as_deref(), Some("editor"));
    assert_eq!(updated.meta.created_by.as_deref(), Some("tester"));
    assert_eq!(updated.meta.updated_at, at("2026-01-02T00:00:00Z"));
    let revisions = store.revision_list("job-config", "a").await.unwrap();
    assert_eq!(
        revisions.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(revisions[1].payload, json!({"v": 1}));
    assert_eq!(revisions[0].actor.as_deref(), Some("editor"));
    let first = store
        .revision_get("job-config", "a", 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.title, "Title a");
    assert!(
        store
            .revision_get("job-config", "a", 3)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn stale_update_conflicts_and_changes_nothing(store: Arc<dyn Store>) {
    store
        .object_insert(insert("a", json!({"v": 1})))
        .await
        .unwrap();
    store
        .object_update(update("a", 1, json!({"v": 2})))
        .await
        .unwrap();
    let err = store
        .object_update(update("a", 1, json!({"v": 3})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { current: 2 }),
        "{err:?}"
    );
    assert_eq!(
        store
            .object_get("job-config", "a")
            .await
            .unwrap()
            .unwrap()
            .payload,
        json!({"v": 2})
    );
    assert_eq!(
        store.revision_list("job-config", "a").await.unwrap().len(),
        2
    );
    let err = store
        .object_update(update("missing", 1, json!({})))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

pub async fn delete_removes_object_and_revisions(store: Arc<dyn Store>) {
    store.object_insert(insert("a", json!({}))).await.unwrap();
    let err = store
        .object_delete("job-config", "a", Some(7))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { current: 1 }),
        "{err:?}"
    );
    store
        .object_delete("job-config", "a", Some(1))
        .await
        .unwrap();
    assert!(store.object_get("job-config", "a").await.unwrap().is_none());
    assert!(
        store
            .revision_list("job-config", "a")
            .await
            .unwrap()
            .is_empty()
    );
    let err = store
        .object_delete("job-config", "a", None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    // The id is free again and starts over at version 1.
    assert_eq!(
        store
            .object_insert(insert("a", json!({})))
            .await
            .unwrap()
            .meta
            .version,
        1
    );
}

pub async fn state_merges_without_version_bump(store: Arc<dyn Store>) {
    store
        .object_insert(insert("a", json!({"v": 1})))
        .await
        .unwrap();
    let mut state = Map::new();
    state.insert("lastExecution".to_owned(), json!({"status": "failed"}));
    state.insert("autoDisabled".to_owned(), json!({"reason": "r"}));
    store
        .object_state_merge("job-config", "a", state)
        .await
        .unwrap();
    let got = store.object_get("job-config", "a").await.unwrap().unwrap();
    assert_eq!(got.meta.version, 1);
    assert_eq!(
        got.payload,
        json!({"v": 1, "lastExecution": {"status": "failed"}, "autoDisabled": {"reason": "r"}})
    );
    // An operator save keeps engine state and does not write it into revisions.
    let updated = store
        .object_update(update("a", 1, json!({"v": 2})))
        .await
        .unwrap();
    assert_eq!(
        updated.payload["lastExecution"],
        json!({"status": "failed"})
    );
    assert_eq!(
        store
            .revision_get("job-config", "a", 2)
            .await
            .unwrap()
            .unwrap()
            .payload,
        json!({"v": 2})
    );
    let mut clear = Map::new();
    clear.insert("autoDisabled".to_owned(), serde_json::Value::Null);
    store
        .object_state_merge("job-config", "a", clear)
        .await
        .unwrap();
    let got = store.object_get("job-config", "a").await.unwrap().unwrap();
    assert!(got.payload.get("autoDisabled").is_none());
    let err = store
        .object_state_merge("job-config", "missing", Map::new())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Ids sort by their UTF-8 bytes, whatever the database's locale: upper
/// case before `_` before lower case before non-ASCII.
pub async fn list_orders_ids_byte_by_byte(store: Arc<dyn Store>) {
    for id in ["b", "é", "_x", "B", "a-2", "a10", "a2"] {
        store.object_insert(insert(id, json!({}))).await.unwrap();
    }
    let ids: Vec<String> = store
        .object_list("job-config")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.meta.id)
        .collect();
    assert_eq!(ids, vec!["B", "_x", "a-2", "a10", "a2", "b", "é"]);
}

/// Pages by id, by offset and the count agree with `object_list`, and
/// see only their type.
pub async fn pages_walk_every_object_once(store: Arc<dyn Store>) {
    for id in ["b", "é", "_x", "B", "a-2", "a10", "a2"] {
        store.object_insert(insert(id, json!({}))).await.unwrap();
    }
    let mut other = insert("a3", json!({}));
    other.object_type = "calendar".to_owned();
    store.object_insert(other).await.unwrap();
    let all = vec!["B", "_x", "a-2", "a10", "a2", "b", "é"];
    assert_eq!(store.object_count("job-config").await.unwrap(), 7);
    assert_eq!(store.object_count("calendar").await.unwrap(), 1);
    assert_eq!(store.object_count("advancement-rule").await.unwrap(), 0);
    for size in [1, 2, 3, 7, 8] {
        let mut pages = ObjectPages::new(&*store, "job-config", size);
        let mut ids = Vec::new();
        while let Some(page) = pages.next_page().await.unwrap() {
            assert!(!page.is_empty() && page.len() <= size, "page of {size}");
            ids.extend(page.into_iter().map(|o| o.meta.id));
        }
        assert_eq!(ids, all, "pages of {size}");
        assert!(pages.next_page().await.unwrap().is_none());
    }
    let ids = |page: Vec<grove_store::StoredObject>| -> Vec<String> {
        page.into_iter().map(|o| o.meta.id).collect()
    };
    let page = store
        .object_list_page("job-config", None, 2, 3)
        .await
        .unwrap();
    assert_eq!(ids(page), vec!["a-2", "a10", "a2"]);
    let page = store
        .object_list_page("job-config", Some("a10"), 1, 10)
        .await
        .unwrap();
    assert_eq!(ids(page), vec!["b", "é"]);
    let page = store
        .object_list_page("job-config", None, 7, 10)
        .await
        .unwrap();
    assert!(page.is_empty());
}

/// Operators read back their payload as written: keys keep their order in
/// the object and its revisions (`serde_json::Value` equality ignores
/// order, so this compares text).
pub async fn payload_key_order_survives(store: Arc<dyn Store>) {
    let payload = json!({"zeta": 1, "alpha": {"y": 2, "x": 3}, "mid": [3, 1]});
    let text = payload.to_string();
    assert_eq!(
        text, r#"{"zeta":1,"alpha":{"y":2,"x":3},"mid":[3,1]}"#,
        "serde_json keeps insertion order (preserve_order)"
    );
    store
        .object_insert(insert("a", payload.clone()))
        .await
        .unwrap();
    let got = store.object_get("job-config", "a").await.unwrap().unwrap();
    assert_eq!(got.payload.to_string(), text);
    let updated = store.object_update(update("a", 1, payload)).await.unwrap();
    assert_eq!(updated.payload.to_string(), text);
    let listed = store.object_list("job-config").await.unwrap();
    assert_eq!(listed[0].payload.to_string(), text);
    for r in store.revision_list("job-config", "a").await.unwrap() {
        assert_eq!(r.payload.to_string(), text);
    }
}

pub async fn seeds_are_marked_once(store: Arc<dyn Store>) {
    assert!(
        store
            .seed_mark("job-config/a", at("2026-01-01T00:00:00Z"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .seed_mark("job-config/a", at("2026-01-02T00:00:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .seed_mark("job-config/b", at("2026-01-01T00:00:00Z"))
            .await
            .unwrap()
    );
}
