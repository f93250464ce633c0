//! Objects: validation, optimistic concurrency, duplicate, restore, list,
//! and the engine learning of every job-config write.

use grove_app::objects::{CopyNames, ObjectQuery, object_type};
use grove_app::{AppError, Caller};
use grove_core::registry::{ADVANCEMENT_RULE, JOB_CONFIG};
use serde_json::json;

use crate::support::{TestApp, eventually, job_body};

fn jobs() -> &'static grove_core::registry::TypeDef {
    object_type(JOB_CONFIG).expect("registered")
}

#[tokio::test]
async fn a_stale_save_is_a_conflict_carrying_the_current_object() {
    let t = TestApp::new().await;
    t.job("nightly", false).await;
    let body = job_body("nightly", "0 3 * * *", false);
    let saved = t
        .app
        .replace(jobs(), "nightly", &body, Some(1), &Caller::named("alice"))
        .await
        .expect("first save");
    assert_eq!(saved.meta.version, 2);
    // Bob edited version 1 too.
    let stale = t
        .app
        .replace(jobs(), "nightly", &body, Some(1), &Caller::named("bob"))
        .await
        .expect_err("stale");
    let AppError::Conflict {
        message, current, ..
    } = stale
    else {
        panic!("expected a conflict, got {stale:?}");
    };
    assert!(message.contains("it is now at version 2"), "{message}");
    let current = current.expect("the current object");
    assert_eq!(current.meta.version, 2);
    assert_eq!(current.meta.updated_by.as_deref(), Some("alice"));
    assert_eq!(current.payload["schedule"]["cronExpression"], "0 3 * * *");
}

#[tokio::test]
async fn creating_a_taken_id_is_a_conflict_carrying_the_object() {
    let t = TestApp::new().await;
    t.job("nightly", false).await;
    let err = t
        .app
        .create(
            jobs(),
            &job_body("nightly", "0 5 * * *", false),
            &Caller::named("bob"),
        )
        .await
        .expect_err("taken");
    let AppError::Conflict { current, .. } = err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert_eq!(
        current.expect("current").payload["schedule"]["cronExpression"],
        "0 2 * * *"
    );
}

#[tokio::test]
async fn a_body_naming_another_id_is_refused() {
    let t = TestApp::new().await;
    t.job("nightly", false).await;
    let err = t
        .app
        .replace(
            jobs(),
            "nightly",
            &job_body("other", "0 2 * * *", false),
            None,
            &Caller::named("alice"),
        )
        .await
        .expect_err("wrong id");
    let AppError::Validation(problems) = err else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(problems[0].pointer, "/meta/id");
}

#[tokio::test]
async fn an_id_is_made_from_the_title_when_none_is_given() {
    let t = TestApp::new().await;
    let mut body = job_body("x", "0 2 * * *", false);
    body["meta"] = json!({"title": "Daily Health"});
    let first = t
        .app
        .create(jobs(), &body, &Caller::named("alice"))
        .await
        .expect("create");
    let second = t
        .app
        .create(jobs(), &body, &Caller::named("alice"))
        .await
        .expect("create");
    assert_eq!(first.meta.id, "daily-health");
    assert_eq!(second.meta.id, "daily-health-2");
}

#[tokio::test]
async fn a_duplicated_job_config_starts_disabled() {
    let t = TestApp::new().await;
    t.job("nightly", true).await;
    let copy = t
        .app
        .duplicate(
            jobs(),
            "nightly",
            CopyNames::default(),
            &Caller::named("alice"),
        )
        .await
        .expect("duplicate");
    assert_eq!(copy.meta.id, "nightly-copy");
    assert_eq!(copy.meta.title, "Job nightly (copy)");
    assert_eq!(copy.payload["schedule"]["isEnabled"], false);
    let source = t.app.object(jobs(), "nightly").await.expect("source");
    assert_eq!(source.payload["schedule"]["isEnabled"], true);
}

#[tokio::test]
async fn a_patch_must_be_an_object_and_merges_into_the_stored_one() {
    let t = TestApp::new().await;
    t.job("nightly", false).await;
    assert!(matches!(
        t.app
            .patch(
                jobs(),
                "nightly",
                &json!([1]),
                None,
                &Caller::named("alice")
            )
            .await,
        Err(AppError::PatchNotAnObject)
    ));
    let patched = t
        .app
        .patch(
            jobs(),
            "nightly",
            &json!({"payload": {"limits": {"batchSize": 50}}}),
            None,
            &Caller::named("alice"),
        )
        .await
        .expect("patch");
    assert_eq!(patched.payload["limits"]["batchSize"], 50);
    assert_eq!(patched.payload["schedule"]["cronExpression"], "0 2 * * *");
}

#[tokio::test]
async fn restoring_a_revision_saves_it_as_a_new_version() {
    let t = TestApp::new().await;
    t.job("nightly", false).await;
    t.app
        .replace(
            jobs(),
            "nightly",
            &job_body("nightly", "0 4 * * *", false),
            None,
            &Caller::named("alice"),
        )
        .await
        .expect("save");
    let restored = t
        .app
        .restore(jobs(), "nightly", 1, None, &Caller::named("alice"))
        .await
        .expect("restore");
    assert_eq!(restored.meta.version, 3);
    assert_eq!(restored.payload["schedule"]["cronExpression"], "0 2 * * *");
    assert!(matches!(
        t.app
            .restore(jobs(), "nightly", 9, None, &Caller::named("alice"))
            .await,
        Err(AppError::NotFound(_))
    ));
}

#[tokio::test]
async fn list_filters_on_derived_fields_and_refuses_unknown_parameters() {
    let t = TestApp::new().await;
    t.job("on", true).await;
    t.job("off", false).await;
    let query = ObjectQuery::parse(&[("filter.derived.health".to_owned(), "disabled".to_owned())])
        .expect("query");
    let page = t.app.list(jobs(), &query).await.expect("list");
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].meta.id, "off");
    assert!(matches!(
        ObjectQuery::parse(&[("color".to_owned(), "red".to_owned())]),
        Err(AppError::BadQuery(_))
    ));
    assert!(matches!(
        object_type("widget"),
        Err(AppError::UnknownType { .. })
    ));
}

#[tokio::test]
async fn the_engine_learns_of_a_saved_schedule_at_once() {
    // The scheduler's resync is an hour away: only the app's wake-up can
    // make it see the new config and then the edited schedule.
    let t = TestApp::started().await;
    t.job("nightly", true).await;
    let expected = crate::support::at("2026-03-01T02:00:00Z");
    eventually("the new config's slot", || async {
        (t.engine.next_slot("nightly") == Some(expected)).then_some(())
    })
    .await;
    t.app
        .replace(
            jobs(),
            "nightly",
            &job_body("nightly", "0 3 * * *", true),
            None,
            &Caller::named("alice"),
        )
        .await
        .expect("save");
    let expected = crate::support::at("2026-03-01T03:00:00Z");
    eventually("the edited slot", || async {
        (t.engine.next_slot("nightly") == Some(expected)).then_some(())
    })
    .await;
    t.app
        .delete(jobs(), "nightly", None, &Caller::named("alice"))
        .await
        .expect("delete");
    eventually("the slot to go", || async {
        t.engine.next_slot("nightly").is_none().then_some(())
    })
    .await;
}

#[tokio::test]
async fn rules_are_objects_too() {
    let t = TestApp::new().await;
    let rules = object_type(ADVANCEMENT_RULE).expect("registered");
    let body = json!({"meta": {"title": "Seed → Sprout"}, "payload": (rules.default_payload)()});
    let rule = t
        .app
        .create(rules, &body, &Caller::named("alice"))
        .await
        .expect("create");
    assert_eq!(rule.meta.id, "seed-sprout");
    t.app
        .delete(rules, "seed-sprout", Some(1), &Caller::named("alice"))
        .await
        .expect("delete");
    assert!(matches!(
        t.app.object(rules, "seed-sprout").await,
        Err(AppError::NotFound(_))
    ));
}

/// Every mutation writes one audit line: who, from where, what, and the
/// versions around it.
#[tokio::test]
async fn every_mutation_is_in_the_audit_trail_with_versions() {
    let t = TestApp::new().await;
    let ada = Caller {
        name: "ada".into(),
        token_id: Some("tok-ada".into()),
        address: Some("198.51.100.4".into()),
    };
    t.app
        .create(jobs(), &job_body("nightly", "0 2 * * *", false), &ada)
        .await
        .unwrap();
    t.app
        .patch(
            jobs(),
            "nightly",
            &json!({"meta": {"title": "Nightly"}}),
            None,
            &ada,
        )
        .await
        .unwrap();
    t.app
        .restore(jobs(), "nightly", 1, None, &ada)
        .await
        .unwrap();
    t.app
        .duplicate(jobs(), "nightly", CopyNames::default(), &ada)
        .await
        .unwrap();
    let run = t.app.run_now("nightly", &ada).await.unwrap();
    t.app.cancel(&run.id, &ada).await.unwrap();
    t.app.retry(&run.id, &ada).await.unwrap();
    t.app
        .delete(jobs(), "nightly-copy", None, &ada)
        .await
        .unwrap();
    // A refused write leaves no line.
    assert!(
        t.app
            .delete(jobs(), "nightly", Some(1), &ada)
            .await
            .is_err()
    );

    let trail = t
        .app
        .audit_trail(grove_store::AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    /// Action, object id, version before and after.
    type Line<'a> = (&'a str, Option<&'a str>, Option<i64>, Option<i64>);
    let lines: Vec<Line> = trail
        .iter()
        .rev()
        .map(|r| {
            let e = &r.entry;
            assert_eq!(e.actor.as_deref(), Some("ada"));
            assert_eq!(e.token_id.as_deref(), Some("tok-ada"));
            assert_eq!(e.client_addr.as_deref(), Some("198.51.100.4"));
            (
                e.action.as_str(),
                e.object_id.as_deref(),
                e.version_before,
                e.version_after,
            )
        })
        .collect();
    let run_id = Some(run.id.as_str());
    assert_eq!(
        lines,
        [
            ("create", Some("nightly"), None, Some(1)),
            ("update", Some("nightly"), Some(1), Some(2)),
            ("restore", Some("nightly"), Some(2), Some(3)),
            ("duplicate", Some("nightly-copy"), None, Some(1)),
            ("run", Some("nightly"), None, Some(3)),
            ("cancel", run_id, None, None),
            ("retry", run_id, None, None),
            ("delete", Some("nightly-copy"), Some(1), None),
        ]
    );
}
