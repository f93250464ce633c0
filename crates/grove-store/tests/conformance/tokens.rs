//! Tokens, console sessions and the audit trail.

use std::sync::Arc;

use grove_store::{
    ApiToken, AuditAppend, AuditFilter, Role, SessionCheck, SessionInsert, Store, StoreError,
};
use jiff::SignedDuration;

use super::at;

#[macro_export]
macro_rules! tokens_suite {
    ($fresh:path) => {
        mod tokens {
            use super::*;
            #[tokio::test]
            async fn tokens_are_found_by_hash() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::tokens::tokens_are_found_by_hash,
                )
                .await
            }
            #[tokio::test]
            async fn a_revoked_token_is_not_found_and_its_sessions_end() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::tokens::a_revoked_token_is_not_found_and_its_sessions_end,
                )
                .await
            }
            #[tokio::test]
            async fn sessions_expire_when_idle_and_at_their_end() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::tokens::sessions_expire_when_idle_and_at_their_end,
                )
                .await
            }
            #[tokio::test]
            async fn token_use_is_recorded_at_most_once_a_minute() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::tokens::token_use_is_recorded_at_most_once_a_minute,
                )
                .await
            }
            #[tokio::test]
            async fn the_audit_trail_reads_newest_first_with_filters_and_a_cursor() {
                $crate::conformance::run(
                    $fresh().await,
                    $crate::conformance::tokens::the_audit_trail_reads_newest_first_with_filters_and_a_cursor,
                )
                .await
            }
        }
    };
}

fn token(id: &str, hash: &str) -> ApiToken {
    ApiToken {
        id: id.to_owned(),
        name: format!("name-{id}"),
        role: Role::Operator,
        hash: hash.to_owned(),
        created_at: at("2026-01-01T00:00:00Z"),
        last_used_at: None,
    }
}

pub async fn tokens_are_found_by_hash(store: Arc<dyn Store>) {
    assert_eq!(store.token_count().await.unwrap(), 0);
    let token = token("t1", "abc");
    store.token_insert(token.clone()).await.unwrap();
    assert_eq!(store.token_find("abc").await.unwrap(), Some(token.clone()));
    assert_eq!(store.token_find("abd").await.unwrap(), None);
    let err = store
        .token_insert(ApiToken {
            id: "t2".to_owned(),
            ..token.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
    assert_eq!(store.token_count().await.unwrap(), 1);
    assert_eq!(store.token_list().await.unwrap(), vec![token]);
}

pub async fn a_revoked_token_is_not_found_and_its_sessions_end(store: Arc<dyn Store>) {
    let now = at("2026-01-02T00:00:00Z");
    store.token_insert(token("t1", "h1")).await.unwrap();
    store.token_insert(token("t2", "h2")).await.unwrap();
    for (session, token_id) in [("s1", "t1"), ("s2", "t2")] {
        store
            .session_insert(SessionInsert {
                hash: session.to_owned(),
                token_id: token_id.to_owned(),
                now,
                expires_at: now + SignedDuration::from_hours(24),
            })
            .await
            .unwrap();
    }
    let check = SessionCheck {
        now,
        idle_since: now - SignedDuration::from_hours(1),
    };
    assert_eq!(
        store.session_find("s1", check).await.unwrap().unwrap().id,
        "t1"
    );

    let revoked = store.token_revoke("t1", now).await.unwrap();
    assert_eq!(revoked.id, "t1");
    assert_eq!(store.token_find("h1").await.unwrap(), None);
    assert_eq!(store.session_find("s1", check).await.unwrap(), None);
    // The other token and its session are untouched.
    assert_eq!(
        store.session_find("s2", check).await.unwrap().unwrap().id,
        "t2"
    );
    assert_eq!(store.token_count().await.unwrap(), 1);
    let ids: Vec<String> = store
        .token_list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["t2"]);
    // Twice, or an unknown id: not found.
    for id in ["t1", "nope"] {
        let err = store.token_revoke(id, now).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    }
    // A revoked secret cannot be registered again under a new id.
    let err = store.token_insert(token("t3", "h1")).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
}

pub async fn sessions_expire_when_idle_and_at_their_end(store: Arc<dyn Store>) {
    let start = at("2026-01-02T00:00:00Z");
    let idle = SignedDuration::from_hours(12);
    store.token_insert(token("t1", "h1")).await.unwrap();
    store
        .session_insert(SessionInsert {
            hash: "s1".to_owned(),
            token_id: "t1".to_owned(),
            now: start,
            expires_at: start + SignedDuration::from_hours(30),
        })
        .await
        .unwrap();
    let check = |now: jiff::Timestamp| SessionCheck {
        now,
        idle_since: now - idle,
    };
    // Seen every 11 hours, it stays alive past 12 hours from the start…
    for hours in [11, 22] {
        let now = start + SignedDuration::from_hours(hours);
        assert!(
            store
                .session_find("s1", check(now))
                .await
                .unwrap()
                .is_some(),
            "at +{hours} h"
        );
    }
    // …until its absolute end.
    let end = start + SignedDuration::from_hours(30);
    assert!(
        store
            .session_find("s1", check(end))
            .await
            .unwrap()
            .is_none()
    );

    // Not seen for longer than the idle period: over.
    store
        .session_insert(SessionInsert {
            hash: "s2".to_owned(),
            token_id: "t1".to_owned(),
            now: start,
            expires_at: start + SignedDuration::from_hours(100),
        })
        .await
        .unwrap();
    let late = start + SignedDuration::from_hours(13);
    assert!(
        store
            .session_find("s2", check(late))
            .await
            .unwrap()
            .is_none()
    );
    // Unknown, and logged out.
    assert!(
        store
            .session_find("nope", check(start))
            .await
            .unwrap()
            .is_none()
    );
    store
        .session_insert(SessionInsert {
            hash: "s3".to_owned(),
            token_id: "t1".to_owned(),
            now: start,
            expires_at: start + SignedDuration::from_hours(100),
        })
        .await
        .unwrap();
    store.session_delete("s3").await.unwrap();
    assert!(
        store
            .session_find("s3", check(start))
            .await
            .unwrap()
            .is_none()
    );
    store.session_delete("s3").await.unwrap();
}

pub async fn token_use_is_recorded_at_most_once_a_minute(store: Arc<dyn Store>) {
    let t0 = at("2026-01-02T00:00:00Z");
    store.token_insert(token("t1", "h1")).await.unwrap();
    store.token_touch("t1", t0).await.unwrap();
    let used = |store: Arc<dyn Store>| async move {
        store.token_find("h1").await.unwrap().unwrap().last_used_at
    };
    assert_eq!(used(store.clone()).await, Some(t0));
    store
        .token_touch("t1", t0 + SignedDuration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(used(store.clone()).await, Some(t0));
    let t2 = t0 + SignedDuration::from_secs(61);
    store.token_touch("t1", t2).await.unwrap();
    assert_eq!(used(store.clone()).await, Some(t2));
}

pub async fn the_audit_trail_reads_newest_first_with_filters_and_a_cursor(store: Arc<dyn Store>) {
    let t0 = at("2026-01-02T00:00:00Z");
    let line = |i: i64, actor: &str, action: &str, object: Option<&str>| AuditAppend {
        at: t0 + SignedDuration::from_secs(i),
        actor: Some(actor.to_owned()),
        token_id: Some(format!("tok-{actor}")),
        client_addr: Some("192.0.2.7".to_owned()),
        action: action.to_owned(),
        object_type: object.map(|_| "job-config".to_owned()),
        object_id: object.map(str::to_owned),
        version_before: object.map(|_| i),
        version_after: object.map(|_| i + 1),
    };
    let lines = [
        line(0, "ada", "login", None),
        line(1, "ada", "update", Some("nightly")),
        line(2, "bob", "run", Some("nightly")),
        line(3, "ada", "delete", Some("weekly")),
        line(4, "bob", "login.failed", None),
    ];
    // One alone, the rest in one transaction: both keep their order.
    store.audit_append(lines[0].clone()).await.unwrap();
    store.audit_append_many(lines[1..].to_vec()).await.unwrap();
    let read = |filter: AuditFilter| {
        let store = store.clone();
        async move {
            store
                .audit_list(filter)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.entry)
                .collect::<Vec<_>>()
        }
    };
    let all = read(AuditFilter {
        limit: 10,
        ..Default::default()
    })
    .await;
    let mut newest_first = lines.to_vec();
    newest_first.reverse();
    assert_eq!(all, newest_first, "every field comes back, newest first");

    let ada = read(AuditFilter {
        actor: Some("ada".into()),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(ada, [lines[3].clone(), lines[1].clone(), lines[0].clone()]);
    let nightly = read(AuditFilter {
        object_id: Some("nightly".into()),
        action: Some("run".into()),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(nightly, [lines[2].clone()]);

    // Pages of two, following the cursor.
    let first = store
        .audit_list(AuditFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let second = store
        .audit_list(AuditFilter {
            limit: 2,
            before: Some(first[1].seq),
            ..Default::default()
        })
        .await
        .unwrap();
    let seen: Vec<_> = first
        .iter()
        .chain(&second)
        .map(|r| r.entry.clone())
        .collect();
    assert_eq!(seen, newest_first[..4]);
}
