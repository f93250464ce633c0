//! Tokens and ingestion.

use grove_app::tokens::{TOKEN_PREFIX, hash_token};
use grove_store::Role;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn a_created_token_is_stored_only_as_its_hash() {
    let t = TestApp::new().await;
    let secret = t
        .app
        .create_token("ci", Role::Operator)
        .await
        .expect("create");
    assert!(secret.starts_with(TOKEN_PREFIX));
    let found = t
        .store
        .token_find(&hash_token(&secret))
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(found.name, "ci");
    assert_eq!(found.role, Role::Operator);
    assert_ne!(found.hash, secret);
}

#[tokio::test]
async fn the_bootstrap_admin_token_is_generated_once_or_registered_as_given() {
    let t = TestApp::new().await;
    let first = t.app.bootstrap_admin_token(None).await.expect("bootstrap");
    assert!(first.is_some(), "a fresh database gets a generated token");
    assert_eq!(
        t.app.bootstrap_admin_token(None).await.expect("again"),
        None
    );
    let given = "a-known-admin-secret";
    assert_eq!(
        t.app
            .bootstrap_admin_token(Some(given))
            .await
            .expect("given"),
        None
    );
    // Registering the same secret again is harmless.
    t.app
        .bootstrap_admin_token(Some(given))
        .await
        .expect("again");
    let found = t
        .store
        .token_find(&hash_token(given))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.role, Role::Admin);
}

#[tokio::test]
async fn ingestion_answers_item_by_item() {
    let t = TestApp::new().await;
    let sprouts = t
        .app
        .ingest_sprouts(&json!({"items": [
            {"id": "s1", "title": "One", "tier": "seed"},
            {"id": "s2", "title": "Two", "tier": "no-such-tier"},
        ]}))
        .await
        .expect("sprouts");
    assert_eq!(sprouts.created, 1);
    assert_eq!(sprouts.rejected.len(), 1);
    assert_eq!(sprouts.rejected[0].index, 1);
    let signals = t
        .app
        .ingest_signals(&json!({"items": [
            {"id": "g1", "sproutId": "s1", "kind": "retrieval", "at": "2026-02-28T00:00:00Z"},
            {"id": "g1", "sproutId": "s1", "kind": "retrieval", "at": "2026-02-28T00:00:00Z"},
            {"id": "g2", "sproutId": "ghost", "kind": "citation", "at": "2026-02-28T00:00:00Z"},
        ]}))
        .await
        .expect("signals");
    assert_eq!(signals.accepted, 1);
    assert_eq!(signals.duplicates, 1);
    assert_eq!(signals.rejected.len(), 1);
    assert_eq!(signals.rejected[0].pointer, "/items/2/sproutId");
}
