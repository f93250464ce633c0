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
/// connections): what one commits, the other's change feed hears through
/// the file watcher — config saves, runs queued (any other process's
/// commit may have queued some), cancel requests — and no config or cancel
/// is heard twice.
#[tokio::test]
async fn the_change_feed_hears_another_process() {
    use std::time::Duration;

    use grove_store::{Change, ChangeFeed, ExecutionClaim, ObjectInsert};

    /// Reads until `wanted`, allowing `Runs` (the other process committed)
    /// in between and nothing else.
    async fn expect(feed: &mut Box<dyn ChangeFeed>, wanted: Change) {
        loop {
            let change = tokio::time::timeout(Duration::from_secs(10), feed.next())
                .await
                .expect("a change within 10 s")
                .expect("feed");
            if change == wanted {
                return;
            }
            assert_eq!(change, Change::Runs, "while waiting for {wanted:?}");
        }
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
    expect(&mut feed, Change::Config("nightly".into())).await;
    // The config's own `Runs`, then quiet: the next `Runs` is the insert's.
    while let Ok(change) = tokio::time::timeout(Duration::from_millis(300), feed.next()).await {
        assert_eq!(change.expect("feed"), Change::Runs);
    }

    let mut e = crate::conformance::executions::insert("run-1", "nightly", None);
    e.now = now;
    cli.execution_insert(e).await.expect("insert");
    expect(&mut feed, Change::Runs).await;
    let claim = ExecutionClaim {
        owner: "serving".into(),
        now,
        lease_until: now + jiff::SignedDuration::from_secs(30),
        limit: 1,
        returned: Default::default(),
    };
    assert_eq!(serving.execution_claim(claim).await.unwrap().len(), 1);
    cli.execution_cancel("run-1", now).await.expect("cancel");
    expect(&mut feed, Change::Cancel("run-1".into())).await;
    // What is left is at most the cancel's own `Runs`: nothing twice.
    while let Ok(change) = tokio::time::timeout(Duration::from_millis(300), feed.next()).await {
        assert_eq!(
            change.expect("feed"),
            Change::Runs,
            "no config or cancel twice"
        );
    }
    drop(feed);
    cli.close().await;
    serving.close().await;
}

/// One process uses a SQLite file: it is the whole live set, whoever else
/// claims to be live, and leaving changes nothing.
#[tokio::test]
async fn a_single_node_store_is_its_own_live_set() {
    let store = fresh().await;
    let t: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let until = t + jiff::SignedDuration::from_secs(10);
    store.instance_heartbeat("b", t, until).await.unwrap();
    assert_eq!(
        store.instance_heartbeat("a", t, until).await.unwrap(),
        vec!["a".to_owned()]
    );
    store.instance_leave("a").await.unwrap();
}
