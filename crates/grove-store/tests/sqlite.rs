//! The conformance suite on SQLite: each test gets its own database file.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use grove_store::sqlite::SqliteStore;
use grove_store::{CoordinationStore, ExecutionStore, ObjectStore, Store};

/// One directory for the test process, one file per test. (A static is never
/// dropped, so the directory stays in the system temp dir after the run.)
fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

/// A migrated store on a fresh file.
pub async fn fresh() -> Arc<dyn Store> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = dir()
        .path()
        .join(format!("grove-{}.db", NEXT.fetch_add(1, Ordering::Relaxed)));
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

crate::objects_suite!(fresh);
crate::tokens_suite!(fresh);
crate::concurrency_suite!(fresh);
crate::grove_data_suite!(fresh);
crate::executions_suite!(fresh);

/// Two stores on one file stand for two processes (each has its own
/// connections and its own in-process doorbell): what one commits, the
/// other's change feed hears through the file watcher — config saves,
/// claimable runs, cancel requests — and nothing is heard twice.
#[tokio::test]
async fn the_change_feed_hears_another_process() {
    use std::time::Duration;

    use grove_store::{Change, ChangeFeed, ExecutionClaim, ObjectInsert};

    async fn next(feed: &mut Box<dyn ChangeFeed>) -> Change {
        tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("a change within 10 s")
            .expect("feed")
    }

    let path = dir().path().join("two-processes.db");
    let path = path.to_str().expect("utf-8 path");
    let serving = SqliteStore::open(path).await.expect("open");
    serving.migrate().await.expect("migrate");
    let cli = SqliteStore::open(path).await.expect("open");
    let mut feed = serving.change_feed().await.expect("feed");

    let now: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let payload = grove_core::job_config::JobConfigPayload::default_for(
        grove_core::job_config::JobType::HealthCheck,
    )
    .to_value();
    cli.object_insert(ObjectInsert {
        object_type: "job-config".to_owned(),
        id: "nightly".to_owned(),
        title: "Nightly".to_owned(),
        description: None,
        tags: vec![],
        payload,
        actor: None,
        now,
    })
    .await
    .expect("insert");
    assert_eq!(next(&mut feed).await, Change::Config("nightly".into()));

    let mut e = crate::conformance::executions::insert("run-1", "nightly", None);
    e.now = now;
    cli.execution_insert(e).await.expect("insert");
    assert_eq!(next(&mut feed).await, Change::Runs);
    let claim = ExecutionClaim {
        owner: "serving".into(),
        now,
        lease_until: now + jiff::SignedDuration::from_secs(30),
        limit: 1,
    };
    assert_eq!(serving.execution_claim(claim).await.unwrap().len(), 1);
    cli.execution_cancel("run-1", now).await.expect("cancel");
    assert_eq!(next(&mut feed).await, Change::Cancel("run-1".into()));
    // Nothing else is pending: the next change is a new one.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), feed.next())
            .await
            .is_err(),
        "no change is delivered twice"
    );
    drop(feed);
    cli.close().await;
    serving.close().await;
}
