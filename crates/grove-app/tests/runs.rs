//! Run Now, Retry and Cancel.

use grove_app::Caller;
use std::sync::Arc;

use grove_app::{App, AppError};
use grove_core::clock::TestClock;
use grove_engine::{EngineError, EngineHandle};
use grove_store::{ExecutionClaim, ExecutionStatus, Trigger};

use crate::support::{T0, TestApp, at};

#[tokio::test]
async fn run_now_queues_a_manual_run_of_a_disabled_config() {
    let t = TestApp::new().await;
    let config = t.job("off", false).await;
    let run = t
        .app
        .run_now("off", &Caller::named("alice"))
        .await
        .expect("run now");
    assert_eq!(run.status, ExecutionStatus::Queued);
    assert_eq!(run.trigger, Trigger::Manual);
    assert_eq!(run.config_id, "off");
    assert_eq!(run.config_version, config.meta.version);
    assert_eq!(run.actor.as_deref(), Some("alice"));
    assert_eq!(run.payload["schedule"]["isEnabled"], false);
    let stored = t.store.execution_list("off", 10).await.expect("list");
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn run_now_of_an_unknown_config_is_not_found() {
    let t = TestApp::new().await;
    let err = t
        .app
        .run_now("nope", &Caller::named("alice"))
        .await
        .expect_err("unknown");
    assert_eq!(err.to_string(), "job config \"nope\" does not exist");
}

#[tokio::test]
async fn without_an_engine_runs_are_refused_unless_left_to_other_processes() {
    let t = TestApp::new().await;
    t.job("off", false).await;
    let clock = Arc::new(TestClock::new(at(T0)));
    let detached = App::new(t.store.clone(), clock.clone(), EngineHandle::new());
    assert!(matches!(
        detached.run_now("off", &Caller::named("alice")).await,
        Err(AppError::Engine(EngineError::NotRunning))
    ));
    // The CLI's app queues for a serving instance on the same database.
    let cli = App::without_engine(t.store.clone(), clock);
    let run = cli
        .run_now("off", &Caller::named("cli"))
        .await
        .expect("queued");
    assert_eq!(run.status, ExecutionStatus::Queued);
}

/// Claims every due execution as if an engine started them.
async fn start_queued(t: &TestApp) {
    t.store
        .execution_claim(ExecutionClaim {
            owner: "test".to_owned(),
            now: at(T0),
            lease_until: at("2026-03-02T00:00:00Z"),
            limit: 10,
            returned: Default::default(),
        })
        .await
        .expect("claim");
}

#[tokio::test]
async fn retry_of_a_running_execution_is_refused() {
    let t = TestApp::new().await;
    t.job("job", false).await;
    let run = t
        .app
        .run_now("job", &Caller::named("alice"))
        .await
        .expect("run now");
    start_queued(&t).await;
    let running = t.store.execution_get(&run.id).await.unwrap().unwrap();
    assert_eq!(running.status, ExecutionStatus::Running);
    let err = t
        .app
        .retry(&run.id, &Caller::named("alice"))
        .await
        .expect_err("running");
    assert!(
        matches!(
            &err,
            AppError::NotFinished {
                status: ExecutionStatus::Running,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("only a finished execution can be retried")
    );
    assert!(matches!(
        t.app.retry("no-such-run", &Caller::named("alice")).await,
        Err(AppError::NotFound(_))
    ));
}

/// A missing config queues nothing; the audit line of a run names the
/// version the run carries.
#[tokio::test]
async fn run_now_of_a_missing_config_queues_nothing_and_its_line_names_the_version() {
    let t = TestApp::new().await;
    assert!(matches!(
        t.app.run_now("ghost", &Caller::named("alice")).await,
        Err(AppError::NotFound(_))
    ));
    assert!(
        t.store
            .execution_list("ghost", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let config = t.job("nightly", false).await;
    let run = t
        .app
        .run_now("nightly", &Caller::named("alice"))
        .await
        .expect("run now");
    assert_eq!(run.config_version, config.meta.version);
    let filter = grove_store::AuditFilter {
        limit: 10,
        ..Default::default()
    };
    let lines: Vec<_> = t
        .store
        .audit_list(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .filter(|e| e.action == "run")
        .collect();
    assert_eq!(lines.len(), 1, "one line, for the run queued: {lines:?}");
    assert_eq!(lines[0].object_id.as_deref(), Some("nightly"));
    assert_eq!(lines[0].version_after, Some(config.meta.version));
    assert_eq!(lines[0].actor.as_deref(), Some("alice"));
}

#[tokio::test]
async fn cancel_ends_a_queued_run_and_a_cancelled_run_can_be_retried() {
    let t = TestApp::new().await;
    t.job("job", false).await;
    let run = t
        .app
        .run_now("job", &Caller::named("alice"))
        .await
        .expect("run now");
    let cancelled = t
        .app
        .cancel(&run.id, &Caller::named("alice"))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    assert!(matches!(
        t.app.cancel(&run.id, &Caller::named("alice")).await,
        Err(AppError::AlreadyEnded {
            status: ExecutionStatus::Cancelled,
            ..
        })
    ));
    let again = t
        .app
        .retry(&run.id, &Caller::named("bob"))
        .await
        .expect("retry");
    assert_eq!(again.trigger, Trigger::Retry);
    assert_eq!(again.retry_of.as_deref(), Some(run.id.as_str()));
    assert_eq!(again.status, ExecutionStatus::Queued);
    // Each action's line names who did it to what, newest first.
    let trail: Vec<_> = t
        .store
        .audit_list(grove_store::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|r| {
            let e = r.entry;
            (
                e.action,
                e.actor.unwrap_or_default(),
                e.object_id.unwrap_or_default(),
                e.version_after,
            )
        })
        .collect();
    let line = |action: &str, actor: &str, object: &str, after: Option<i64>| {
        (
            action.to_owned(),
            actor.to_owned(),
            object.to_owned(),
            after,
        )
    };
    assert_eq!(
        trail[..3],
        [
            line("retry", "bob", &run.id, None),
            line("cancel", "alice", &run.id, None),
            line("run", "alice", "job", Some(run.config_version)),
        ]
    );
}

#[tokio::test]
async fn cancel_of_a_running_execution_asks_it_to_stop() {
    let t = TestApp::new().await;
    t.job("job", false).await;
    let run = t
        .app
        .run_now("job", &Caller::named("alice"))
        .await
        .expect("run now");
    start_queued(&t).await;
    let asked = t
        .app
        .cancel(&run.id, &Caller::named("alice"))
        .await
        .expect("cancel");
    assert_eq!(asked.status, ExecutionStatus::Running);
    assert!(asked.cancel_requested);
}

/// Concurrent Run Now requests share transactions (group commit): each is
/// answered with its own execution, every execution and audit line is
/// stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_run_nows_each_get_their_own_stored_run_and_audit_line() {
    const N: usize = 64;
    let t = TestApp::new().await;
    t.job("off", false).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..N {
        let app = t.app.clone();
        tasks.spawn(async move {
            app.run_now("off", &Caller::named(&format!("user-{i}")))
                .await
                .map(|run| (i, run))
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(answer) = tasks.join_next().await {
        let (i, run) = answer.expect("task").expect("run now");
        assert_eq!(run.actor.as_deref(), Some(format!("user-{i}").as_str()));
        assert_eq!(run.status, ExecutionStatus::Queued);
        assert!(ids.insert(run.id), "one id per request");
    }
    let stored = t.store.execution_list("off", 1000).await.expect("list");
    assert_eq!(stored.len(), N);
    assert!(stored.iter().all(|e| ids.contains(&e.id)));
    let audit = t
        .store
        .audit_list(grove_store::AuditFilter {
            action: Some("run".to_owned()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit.len(), N);
    let actors: std::collections::HashSet<_> =
        audit.iter().filter_map(|a| a.entry.actor.clone()).collect();
    assert_eq!(actors.len(), N, "one line per caller");
}

/// Requests that go away midway (cancelled at every point of their write,
/// as a timeout or a client that disconnects cancels them) never make the
/// requests sharing their transaction write again: every run queued has
/// one audit line, and no request is told that its run was recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_requests_that_go_away_make_no_other_write_twice() {
    const WAVES: u64 = 60;
    const PER_WAVE: u64 = 8;
    let t = TestApp::new().await;
    t.job("busy", true).await;
    let mut stayed = 0;
    for wave in 0..WAVES {
        let mut requests = tokio::task::JoinSet::new();
        for i in 0..PER_WAVE {
            let app = t.app.clone();
            requests.spawn(async move {
                let alice = Caller::named("alice");
                let run = app.run_now("busy", &alice);
                if i == 0 {
                    // The first of a wave records the others' writes with
                    // its own, and goes away at some point of it.
                    let waited = std::time::Duration::from_micros(25 * wave);
                    let _ = tokio::time::timeout(waited, run).await;
                    None
                } else {
                    Some(run.await.map(|_| ()))
                }
            });
        }
        while let Some(answer) = requests.join_next().await {
            if let Some(answer) = answer.expect("request") {
                answer.unwrap_or_else(|e| panic!("a request that stayed was refused: {e}"));
                stayed += 1;
            }
        }
    }
    // The writes of requests that went away finish on their own.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let runs = t.store.execution_list("busy", 1000).await.unwrap();
    let lines = t
        .store
        .audit_list(grove_store::AuditFilter {
            action: Some("run".to_owned()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        runs.len() >= stayed,
        "{} runs, {stayed} answered",
        runs.len()
    );
    assert_eq!(lines.len(), runs.len(), "one audit line per run queued");
}
