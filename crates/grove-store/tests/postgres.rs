//! The conformance suite on PostgreSQL, plus what only PostgreSQL has
//! (several instances migrating at once, URL parameters, connect errors).
//!
//! **Where:** `GROVE_TEST_DATABASE_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/test`; the role needs CREATE on that
//! database. Unset, the tests cannot run: with `CI` set (to anything but
//! `""`, `0` or `false`) every test **fails** saying so; otherwise every
//! test prints a note to stderr and returns early, so it reports as passed
//! without having run.
//!
//! **Isolation:** each test gets its own schema, `grove_test_<unix
//! seconds>_<random>`, and a store whose connections have `search_path` set
//! to it, so tests run in parallel in one database. A test that passes
//! drops its schema (the factory returns a teardown); a failed one leaves
//! it for inspection, and the first test of a later run drops test schemas
//! over an hour old, so concurrent runs (other checkouts, CI jobs) are never
//! touched. To clean up by hand:
//! `SELECT format('DROP SCHEMA %I CASCADE;', nspname) FROM pg_namespace
//! WHERE nspname LIKE 'grove\_test\_%' \gexec` in psql.

use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use grove_store::postgres::{PostgresOptions, PostgresStore};
use grove_store::{Store, StoreError};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::conformance::Fresh;

const PREFIX: &str = "grove_test_";

/// The schema version a fully migrated database reports.
fn latest() -> i64 {
    grove_store::migrate::latest(grove_store::migrate::POSTGRES)
}

/// Test schemas older than this are left over from earlier runs.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The database to test against; `None` means skip (outside CI only).
pub fn database_url() -> Option<String> {
    match std::env::var("GROVE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| !matches!(ci.as_str(), "" | "0" | "false")) => {
            panic!(
                "GROVE_TEST_DATABASE_URL is not set but CI is: the PostgreSQL conformance suite \
                 must run in CI (e.g. GROVE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
            )
        }
        _ => {
            eprintln!(
                "note: PostgreSQL test skipped; set GROVE_TEST_DATABASE_URL \
                 (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
            );
            None
        }
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A schema name no other test, run or worktree uses.
fn schema_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos(),
    );
    format!("{PREFIX}{}_{:016x}", unix_seconds(), h.finish())
}

pub async fn admin(url: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url).expect("GROVE_TEST_DATABASE_URL parses");
    PgConnection::connect_with(&options)
        .await
        .expect("connect to GROVE_TEST_DATABASE_URL")
}

/// Drops test schemas left by runs over an hour ago; once per process.
async fn sweep(conn: &mut PgConnection) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::TEXT FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *conn)
            .await
            .expect("list test schemas");
    let cutoff = unix_seconds().saturating_sub(STALE_AFTER.as_secs());
    for name in names {
        let created: Option<u64> = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse().ok());
        if created.is_some_and(|t| t < cutoff) {
            // Best effort: a concurrent run may be dropping it too.
            let drop = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut *conn)
                .await
            {
                eprintln!("note: could not drop stale test schema {name}: {e}");
            }
        }
    }
}

/// A new, empty schema; returns its name.
pub async fn new_schema(url: &str) -> String {
    let mut conn = admin(url).await;
    sweep(&mut conn).await;
    let schema = schema_name();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    conn.close().await.ok();
    schema
}

pub async fn connect(url: &str, schema: &str) -> PostgresStore {
    let options = PostgresOptions::from_url(url)
        .expect("GROVE_TEST_DATABASE_URL parses")
        .schema(schema)
        .expect("schema name")
        .pool_max(4);
    PostgresStore::connect_with(options).await.expect("connect")
}

pub async fn drop_schema(url: &str, schema: &str) {
    let mut conn = admin(url).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&mut conn)
    .await
    .expect("drop test schema");
    conn.close().await.ok();
}

/// A migrated store in a fresh schema, dropped after a passing test; or
/// `None` to skip.
pub async fn fresh() -> Option<Fresh> {
    let url = database_url()?;
    let schema = new_schema(&url).await;
    let store: Arc<dyn Store> = Arc::new(connect(&url, &schema).await);
    store.migrate().await.expect("migrate");
    let pool = store.clone();
    Some(Fresh {
        store,
        teardown: Some(Box::pin(async move {
            pool.close().await;
            drop_schema(&url, &schema).await;
        })),
    })
}

crate::objects_suite!(fresh);
crate::tokens_suite!(fresh);
crate::concurrency_suite!(fresh);
crate::grove_data_suite!(fresh);
crate::executions_suite!(fresh);

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = connect(&url, &schema).await;
        tasks.push(tokio::spawn(async move { store.migrate().await }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join").expect("migrate"), latest());
    }
    let store = connect(&url, &schema).await;
    assert_eq!(store.migrate().await.unwrap(), latest());
    assert_eq!(store.ping().await.unwrap(), latest());
    store.close().await;
    drop_schema(&url, &schema).await;
}

#[tokio::test]
async fn open_takes_pool_max_and_schema_from_the_url() {
    let Some(url) = database_url() else { return };
    // Not created beforehand: migrating creates it.
    let schema = schema_name();
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = grove_store::open(&format!("{url}{sep}pool_max=2&schema={schema}"))
        .await
        .expect("open");
    assert_eq!(store.backend(), "postgres");
    assert_eq!(store.ping().await.unwrap(), latest());
    assert_eq!(store.token_count().await.unwrap(), 0);
    store.close().await;
    let mut conn = admin(&url).await;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'objects'",
    )
    .bind(&schema)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 1);
    drop_schema(&url, &schema).await;
}

#[tokio::test]
async fn bad_url_parameters_are_config_errors() {
    for url in [
        "postgres://u@h/db?pool_max=0",
        "postgres://u@h/db?pool_max=many",
        "postgres://u@h/db?schema=Bad-Name",
    ] {
        let err = PostgresOptions::from_url(url).unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{url}: {err:?}");
    }
}

#[tokio::test]
async fn connect_failure_names_the_database_but_not_the_password() {
    let Some(url) = database_url() else { return };
    let o = PgConnectOptions::from_str(&url).expect("GROVE_TEST_DATABASE_URL parses");
    let bad = format!(
        "postgres://{}:s3cret-pw@{}:{}/grove_no_such_db",
        o.get_username(),
        o.get_host(),
        o.get_port()
    );
    let err = grove_store::open(&bad).await.unwrap_err();
    let StoreError::Connect { target, .. } = &err else {
        panic!("expected Connect, got {err:?}")
    };
    assert!(target.contains("grove_no_such_db"), "{target}");
    assert!(target.contains(o.get_host()), "{target}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
    assert!(!err.to_string().contains("s3cret-pw"), "{err}");
    let options = PostgresOptions::from_url(&bad).unwrap();
    assert!(!format!("{options:?}").contains("s3cret-pw"));
}

/// Three instances (three pools) on one schema.
async fn instances(url: &str, schema: &str) -> Vec<Arc<PostgresStore>> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(Arc::new(connect(url, schema).await));
    }
    out[0].migrate().await.expect("migrate");
    out
}

/// Every instance fires the same slots at once: each slot is recorded
/// once, the others see a duplicate.
#[tokio::test]
async fn racing_instances_record_each_slot_once() {
    use grove_store::{ExecutionStore, InsertOutcome};
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let stores = instances(&url, &schema).await;
    let base: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let mut tasks = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut queued = 0;
            for s in 0..30 {
                let slot = base + jiff::SignedDuration::from_secs(s);
                let mut batch = Vec::new();
                for c in 0..5 {
                    let id = format!("i{n}-c{c}-s{s}");
                    batch.push(crate::conformance::executions::insert(
                        &id,
                        &format!("c{c}"),
                        Some(slot),
                    ));
                }
                for o in store.execution_insert_slots(batch).await.expect("insert") {
                    if matches!(o, InsertOutcome::Queued(_)) {
                        queued += 1;
                    }
                }
            }
            queued
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("join");
    }
    assert_eq!(total, 30 * 5, "each (config, slot) queued exactly once");
    for c in 0..5 {
        let list = stores[1]
            .execution_list(&format!("c{c}"), 1000)
            .await
            .unwrap();
        assert_eq!(list.len(), 30);
    }
    for s in stores {
        s.close().await;
    }
    drop_schema(&url, &schema).await;
}

/// Instances claiming at once never take an execution twice and never run
/// more of one config than its maxConcurrent, counted across all of them.
#[tokio::test]
async fn racing_claims_respect_max_concurrent_across_instances() {
    use grove_store::{ExecutionClaim, ExecutionStore};
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let stores = instances(&url, &schema).await;
    let now: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    // Ids interleave the configs, so every claimer's window of candidates
    // holds all four configs: they race on each config's count.
    for i in 0..100 {
        for c in 0..4 {
            let mut e = crate::conformance::executions::insert(
                &format!("{i:03}-c{c}"),
                &format!("c{c}"),
                None,
            );
            e.max_concurrent = 2;
            e.now = now;
            stores[0].execution_insert(e).await.expect("insert");
        }
    }
    let mut tasks = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        for worker in 0..3 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..5 {
                    let claim = ExecutionClaim {
                        owner: format!("instance-{n}-{worker}"),
                        now,
                        lease_until: now + jiff::SignedDuration::from_secs(30),
                        limit: 3,
                        returned: Default::default(),
                    };
                    for c in store.execution_claim(claim).await.expect("claim") {
                        got.push((c.execution.id, c.execution.config_id));
                    }
                }
                got
            }));
        }
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("join"));
    }
    let mut ids: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "an execution was claimed twice: {all:?}");
    for c in 0..4 {
        let config = format!("c{c}");
        let n = all.iter().filter(|(_, cfg)| *cfg == config).count();
        assert_eq!(n, 2, "{config}: exactly maxConcurrent running: {all:?}");
    }
    for s in stores {
        s.close().await;
    }
    drop_schema(&url, &schema).await;
}

/// What one instance changes, another hears of: config saves, claimable
/// runs, cancel requests; and nothing from another schema.
#[tokio::test]
async fn the_change_feed_hears_other_instances() {
    use grove_store::{Change, CoordinationStore, ExecutionStore, ObjectInsert, ObjectStore};
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let stores = instances(&url, &schema).await;
    let mut feed = stores[1].change_feed().await.expect("feed");
    // A neighbour in another schema of the same database.
    let other_schema = new_schema(&url).await;
    let other = connect(&url, &other_schema).await;
    other.migrate().await.expect("migrate");

    let now: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let payload = grove_core::job_config::JobConfigPayload::default_for(
        grove_core::job_config::JobType::HealthCheck,
    )
    .to_value();
    let config = |id: &str| ObjectInsert {
        object_type: "job-config".to_owned(),
        id: id.to_owned(),
        title: id.to_owned(),
        description: None,
        tags: vec![],
        payload: payload.clone(),
        actor: None,
        now,
    };
    other
        .object_insert(config("elsewhere"))
        .await
        .expect("insert");
    stores[0]
        .object_insert(config("nightly"))
        .await
        .expect("insert");
    assert_eq!(
        next_change(&mut feed).await,
        Change::Config("nightly".into())
    );

    let mut e = crate::conformance::executions::insert("run-1", "nightly", None);
    e.now = now;
    stores[2].execution_insert(e).await.expect("insert");
    assert_eq!(next_change(&mut feed).await, Change::Runs);
    let claim = grove_store::ExecutionClaim {
        owner: "a".into(),
        now,
        lease_until: now + jiff::SignedDuration::from_secs(30),
        limit: 1,
        returned: Default::default(),
    };
    assert_eq!(stores[0].execution_claim(claim).await.unwrap().len(), 1);
    stores[2]
        .execution_cancel("run-1", now)
        .await
        .expect("cancel");
    assert_eq!(next_change(&mut feed).await, Change::Cancel("run-1".into()));

    // The feed holds a pooled connection: closing the pool waits for it.
    drop(feed);
    other.close().await;
    drop_schema(&url, &other_schema).await;
    for s in stores {
        s.close().await;
    }
    drop_schema(&url, &schema).await;
}

/// A run ending is announced only when another run of its config is
/// queued (it may start now); otherwise every instance would claim after
/// every run's end and find nothing.
#[tokio::test]
async fn a_run_ending_is_announced_only_when_its_config_has_more_queued() {
    use crate::conformance::executions::{claim, finish, insert, outcome};
    use grove_store::{AttemptStatus, Change, CoordinationStore, ExecutionStore, ObjectStore};
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let stores = instances(&url, &schema).await;
    let mut feed = stores[1].change_feed().await.expect("feed");
    let now: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let store = &stores[0];
    for id in ["a1", "a2"] {
        let mut e = insert(id, "c1", None);
        e.now = now;
        store.execution_insert(e).await.expect("insert");
        assert_eq!(next_change(&mut feed).await, Change::Runs, "{id} queued");
    }
    let taken = store.execution_claim(claim(now, 10)).await.unwrap();
    assert_eq!(taken.len(), 1, "maxConcurrent 1 holds a2 back");
    let ok = || outcome(AttemptStatus::Success, None);
    store
        .execution_finish(finish("a1", 1, now, ok()))
        .await
        .expect("finish a1");
    assert_eq!(
        next_change(&mut feed).await,
        Change::Runs,
        "a1's end lets a2 start"
    );
    assert_eq!(
        store.execution_claim(claim(now, 10)).await.unwrap().len(),
        1
    );
    store
        .execution_finish(finish("a2", 1, now, ok()))
        .await
        .expect("finish a2");
    // Nothing of c1 is queued: a2's end is not announced, so the next
    // notification is the config saved after it.
    let marker = crate::conformance::objects::insert(
        "marker",
        serde_json::json!({"jobType": "health-check"}),
    );
    store.object_insert(marker).await.expect("insert");
    assert_eq!(
        next_change(&mut feed).await,
        Change::Config("marker".into())
    );
    drop(feed);
    for s in stores {
        s.close().await;
    }
    drop_schema(&url, &schema).await;
}

/// One leader at a time; it renews, others wait for expiry or resignation,
/// and each change of hands is a new term.
#[tokio::test]
async fn the_leader_lease_has_one_holder_per_term() {
    use grove_store::CoordinationStore;
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let stores = instances(&url, &schema).await;
    let t: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let s = jiff::SignedDuration::from_secs;
    let (a, b) = (&stores[0], &stores[1]);
    assert_eq!(
        a.leader_acquire("m", "a", t, t + s(10)).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        b.leader_acquire("m", "b", t + s(1), t + s(11))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        a.leader_acquire("m", "a", t + s(5), t + s(15))
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        b.leader_acquire("m", "b", t + s(12), t + s(22))
            .await
            .unwrap(),
        None
    );
    // a stops renewing: b takes over once the lease has expired.
    assert_eq!(
        b.leader_acquire("m", "b", t + s(16), t + s(26))
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        a.leader_acquire("m", "a", t + s(17), t + s(27))
            .await
            .unwrap(),
        None
    );
    // b resigns: a need not wait.
    b.leader_resign("m", "b").await.unwrap();
    assert_eq!(
        a.leader_acquire("m", "a", t + s(18), t + s(28))
            .await
            .unwrap(),
        Some(3)
    );
    for st in stores {
        st.close().await;
    }
    drop_schema(&url, &schema).await;
}

/// The live set: each instance's heartbeat renews it and answers everyone
/// live, itself included; one that stops renewing drops out when its
/// registration expires, one that leaves drops out at once.
#[tokio::test]
async fn live_instances_are_those_that_renewed_their_registration() {
    use grove_store::CoordinationStore;
    let Some(url) = database_url() else { return };
    let schema = new_schema(&url).await;
    let stores = instances(&url, &schema).await;
    let t: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    let s = jiff::SignedDuration::from_secs;
    let (a, b, c) = (&stores[0], &stores[1], &stores[2]);
    let live = |ids: &[&str]| ids.iter().map(|i| (*i).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        b.instance_heartbeat("b", t, t + s(10)).await.unwrap(),
        live(&["b"])
    );
    assert_eq!(
        a.instance_heartbeat("a", t + s(1), t + s(11))
            .await
            .unwrap(),
        live(&["a", "b"])
    );
    assert_eq!(
        c.instance_heartbeat("c", t + s(2), t + s(12))
            .await
            .unwrap(),
        live(&["a", "b", "c"])
    );
    // b stops renewing; a and c do.
    assert_eq!(
        a.instance_heartbeat("a", t + s(9), t + s(19))
            .await
            .unwrap(),
        live(&["a", "b", "c"]),
        "b's registration is still valid"
    );
    assert_eq!(
        c.instance_heartbeat("c", t + s(11), t + s(21))
            .await
            .unwrap(),
        live(&["a", "c"]),
        "b's registration expired"
    );
    // c leaves at shutdown: gone at once.
    c.instance_leave("c").await.unwrap();
    assert_eq!(
        a.instance_heartbeat("a", t + s(12), t + s(22))
            .await
            .unwrap(),
        live(&["a"])
    );
    // b comes back (a restart with the same id is a new registration).
    assert_eq!(
        b.instance_heartbeat("b", t + s(13), t + s(23))
            .await
            .unwrap(),
        live(&["a", "b"])
    );
    for st in stores {
        st.close().await;
    }
    drop_schema(&url, &schema).await;
}

async fn next_change(feed: &mut Box<dyn grove_store::ChangeFeed>) -> grove_store::Change {
    tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("a notification within 10 s")
        .expect("feed")
}
