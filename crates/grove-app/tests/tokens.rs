//! Tokens and ingestion.

use grove_app::tokens::{SessionPolicy, TOKEN_PREFIX, hash_token};
use grove_app::{AppError, Caller};
use grove_store::{AuditFilter, Role};
use jiff::SignedDuration;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn a_created_token_is_stored_only_as_its_hash() {
    let t = TestApp::new().await;
    let admin = Caller::named("root");
    let secret = t
        .app
        .create_token("ci", Role::Operator, &admin)
        .await
        .expect("create")
        .secret;
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

    // A changed bootstrap secret revokes the previous one; the generated
    // token and others stay.
    let rotated = "a-rotated-admin-secret";
    t.app
        .bootstrap_admin_token(Some(rotated))
        .await
        .expect("rotated");
    assert!(t.app.authenticate(given).await.unwrap().is_none());
    assert!(t.app.authenticate(rotated).await.unwrap().is_some());
    let mut names: Vec<String> = t
        .app
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    assert_eq!(names, ["bootstrap-admin", "generated-admin"]);
}

fn policy() -> SessionPolicy {
    SessionPolicy {
        idle: SignedDuration::from_hours(12),
        lifetime: SignedDuration::from_hours(7 * 24),
    }
}

#[tokio::test]
async fn a_console_session_is_not_the_token_and_ends_with_logout_revocation_or_idleness() {
    let t = TestApp::new().await;
    let admin = Caller::named("root");
    let new = t
        .app
        .create_token("ada", Role::Operator, &admin)
        .await
        .unwrap();
    let from = Caller {
        address: Some("192.0.2.1".into()),
        ..Caller::default()
    };
    // A wrong secret opens nothing.
    assert!(
        t.app
            .open_session("gj_wrong", policy(), &from)
            .await
            .unwrap()
            .is_none()
    );

    let session = t
        .app
        .open_session(&new.secret, policy(), &from)
        .await
        .unwrap()
        .expect("signed in");
    assert_ne!(session.id, new.secret, "the session id is not the token");
    assert!(!session.id.contains(&new.secret));
    let user = t
        .app
        .session(&session.id, policy())
        .await
        .unwrap()
        .expect("alive");
    assert_eq!(user.name, "ada");
    // The token itself is no session id.
    assert!(
        t.app
            .session(&new.secret, policy())
            .await
            .unwrap()
            .is_none()
    );

    // Logout ends it.
    t.app
        .close_session(&session.id, &Caller::named("ada"))
        .await
        .unwrap();
    assert!(
        t.app
            .session(&session.id, policy())
            .await
            .unwrap()
            .is_none()
    );

    // Revoking the token ends every session opened with it.
    let second = t
        .app
        .open_session(&new.secret, policy(), &from)
        .await
        .unwrap()
        .unwrap();
    t.app.revoke_token(&new.token.id, &admin).await.unwrap();
    assert!(t.app.session(&second.id, policy()).await.unwrap().is_none());
    assert!(
        t.app
            .open_session(&new.secret, policy(), &from)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        t.app.revoke_token(&new.token.id, &admin).await,
        Err(AppError::NotFound(_))
    ));

    // Idle for longer than the policy allows: over.
    let other = t
        .app
        .create_token("bob", Role::Viewer, &admin)
        .await
        .unwrap();
    let third = t
        .app
        .open_session(&other.secret, policy(), &from)
        .await
        .unwrap()
        .unwrap();
    t.clock.advance(SignedDuration::from_hours(13));
    assert!(t.app.session(&third.id, policy()).await.unwrap().is_none());

    // Every step is in the audit trail, newest first, with who and from where.
    let trail = t
        .app
        .audit_trail(AuditFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<(String, Option<String>)> = trail
        .iter()
        .map(|r| (r.entry.action.clone(), r.entry.actor.clone()))
        .collect();
    let expect = |a: &str, who: Option<&str>| (a.to_owned(), who.map(str::to_owned));
    assert_eq!(
        actions,
        [
            expect("login", Some("bob")),
            expect("token.create", Some("root")),
            expect("login.failed", None),
            expect("token.revoke", Some("root")),
            expect("login", Some("ada")),
            expect("logout", Some("ada")),
            expect("login", Some("ada")),
            expect("login.failed", None),
            expect("token.create", Some("root")),
        ]
    );
    let failed = &trail[2].entry;
    assert_eq!(failed.client_addr.as_deref(), Some("192.0.2.1"));
    let login = &trail[0].entry;
    assert_eq!(login.token_id.as_deref(), Some(other.token.id.as_str()));
}

#[tokio::test]
async fn a_token_name_must_be_printable_and_short() {
    let t = TestApp::new().await;
    for name in ["", "  ", "bad\u{7}name", &"x".repeat(101)] {
        let err = t
            .app
            .create_token(name, Role::Viewer, &Caller::named("root"))
            .await
            .expect_err(name);
        assert!(matches!(err, AppError::Validation(_)), "{err:?}");
    }
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
