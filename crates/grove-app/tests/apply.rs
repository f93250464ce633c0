//! Declarative apply: plan, all-or-nothing validation, carrying it out.

use grove_app::AppError;
use grove_app::Caller;
use grove_app::apply::{Action, Document, portable};
use grove_app::objects::object_type;
use serde_json::json;

use crate::support::{TestApp, job_body};

fn doc(source: &str, raw: serde_json::Value) -> Document {
    Document {
        source: source.to_owned(),
        raw,
    }
}

#[tokio::test]
async fn one_invalid_document_means_nothing_is_applied() {
    let t = TestApp::new().await;
    let mut bad = job_body("bad", "0 2 * * *", false);
    bad["payload"]["schedule"]["cronExpression"] = json!("not a cron");
    let err = t
        .app
        .plan(vec![
            doc("good.json", job_body("good", "0 2 * * *", false)),
            doc("bad.json", bad),
            doc("odd.json", json!({"meta": {"type": "widget", "id": "w"}})),
            doc("anon.json", json!({"meta": {"title": "No id"}, "payload": job_body("x", "0 2 * * *", false)["payload"]})),
        ])
        .await
        .expect_err("invalid");
    let AppError::InvalidDocuments(problems) = err else {
        panic!("expected document problems, got {err:?}");
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("bad.json: /payload/schedule/cronExpression: ")),
        "{lines:?}"
    );
    assert!(lines.contains(&"odd.json: /meta/type: unknown object type \"widget\"".to_owned()));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("anon.json: /meta/id: is required"))
    );
    assert!(!lines.iter().any(|l| l.starts_with("good.json")));
    let jobs = object_type("job-config").expect("registered");
    assert!(t.app.object(jobs, "good").await.is_err(), "nothing written");
}

#[tokio::test]
async fn a_plan_creates_updates_and_leaves_unchanged_objects_alone() {
    let t = TestApp::new().await;
    let jobs = object_type("job-config").expect("registered");
    let same = t.job("same", false).await;
    t.job("edited", false).await;
    let plan = t
        .app
        .plan(vec![
            doc("a", portable(&same)),
            doc("b", job_body("edited", "0 4 * * *", false)),
            doc("c", job_body("new", "0 5 * * *", false)),
        ])
        .await
        .expect("plan");
    let actions: Vec<(Action, &str)> = plan
        .steps
        .iter()
        .map(|s| (s.action, s.id.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            (Action::Unchanged, "same"),
            (Action::Update, "edited"),
            (Action::Create, "new")
        ]
    );
    t.app
        .apply(plan, &Caller::named("apply"))
        .await
        .expect("apply");
    assert_eq!(t.app.object(jobs, "same").await.unwrap().meta.version, 1);
    let edited = t.app.object(jobs, "edited").await.unwrap();
    assert_eq!(edited.meta.version, 2);
    assert_eq!(edited.meta.updated_by.as_deref(), Some("apply"));
    assert_eq!(
        t.app.object(jobs, "new").await.unwrap().payload["schedule"]["cronExpression"],
        "0 5 * * *"
    );
}

#[tokio::test]
async fn an_update_saved_over_in_between_is_a_conflict() {
    let t = TestApp::new().await;
    let jobs = object_type("job-config").expect("registered");
    t.job("edited", false).await;
    let plan = t
        .app
        .plan(vec![doc("b", job_body("edited", "0 4 * * *", false))])
        .await
        .expect("plan");
    t.app
        .replace(
            jobs,
            "edited",
            &job_body("edited", "0 6 * * *", false),
            None,
            &Caller::named("bob"),
        )
        .await
        .expect("save in between");
    assert!(matches!(
        t.app.apply(plan, &Caller::named("apply")).await,
        Err(AppError::Conflict { .. })
    ));
}
