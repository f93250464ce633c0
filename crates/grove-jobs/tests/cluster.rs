//! Several `grove-jobs serve` processes on one PostgreSQL database (each
//! test in its own schema): every slot runs exactly once through a
//! SIGKILL and a restart, and the attempt of a killed instance is taken
//! over by another once its lease expires.
//!
//! Needs `GROVE_TEST_DATABASE_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`); without it the tests are
//! skipped locally and fail in CI.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};

use crate::{BIN, Server, http, launch};

const TOKEN: &str = "gj_cluster_test_admin_token_0123456789abcdef";

/// Short leases so a dead instance's attempts are recovered in seconds; the
/// tests' probes listen on loopback, which the outbound policy must allow.
const ENGINE_CONFIG: &str = "[engine]\nlease_seconds = 4\nheartbeat_seconds = 1\n\
                             maintenance_interval_seconds = 1\nshutdown_grace_seconds = 2\n\
                             [outbound]\nallow = \"127.0.0.1\"\n";

fn database_url() -> Option<String> {
    match std::env::var("GROVE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| !matches!(ci.as_str(), "" | "0" | "false")) => {
            panic!(
                "GROVE_TEST_DATABASE_URL is not set but CI is: the multi-instance tests must run"
            )
        }
        _ => {
            eprintln!("note: multi-instance test skipped; set GROVE_TEST_DATABASE_URL to run it");
            None
        }
    }
}

/// One database schema for one test, dropped at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos();
        let secs = nanos / 1_000_000_000;
        let name = format!(
            "grove_test_{secs}_{:016x}",
            (nanos as u64) ^ u64::from(std::process::id())
        );
        Self {
            url: url.to_owned(),
            name,
        }
    }

    /// The URL `serve` gets: the tables live in this schema.
    fn database_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.url, self.name)
    }

    async fn connect(&self) -> PgConnection {
        let mut conn = PgConnection::connect(&self.url).await.expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET search_path TO \"{}\"",
            self.name
        )))
        .execute(&mut conn)
        .await
        .expect("search_path");
        conn
    }

    async fn drop(self) {
        let mut conn = PgConnection::connect(&self.url).await.expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.name
        )))
        .execute(&mut conn)
        .await
        .expect("drop schema");
    }
}

fn serve(dir: &Path, schema: &Schema) -> Server {
    let config = dir.join("grove.toml");
    std::fs::write(&config, ENGINE_CONFIG).expect("write config");
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--no-seed", "--config"])
        .arg(&config)
        .current_dir(dir)
        .env("DATABASE_URL", schema.database_url())
        .env("GROVE_ADMIN_TOKEN", TOKEN);
    launch(cmd)
}

fn sigterm(mut server: Server) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = server.child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.child.wait();
}

fn post(server: &Server, path: &str, body: &Value) -> Value {
    let (status, text) = http(
        &server.addr,
        "POST",
        path,
        Some(TOKEN),
        Some(&body.to_string()),
    );
    assert!((200..300).contains(&status), "POST {path}: {status} {text}");
    serde_json::from_str(&text).expect("json")
}

fn get(server: &Server, path: &str) -> Value {
    let (status, text) = http(&server.addr, "GET", path, Some(TOKEN), None);
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).expect("json")
}

fn job(id: &str, cron: &str, enabled: bool, parameters: Value, timeout: u64) -> Value {
    json!({
        "meta": {"id": id, "title": format!("Cluster {id}")},
        "payload": {
            "jobType": "health-check",
            "schedule": {"cronExpression": cron, "timezone": "UTC", "isEnabled": enabled},
            "retry": {"maxAttempts": 2, "backoffStrategy": "fixed", "initialDelaySeconds": 1, "maxDelaySeconds": 1},
            "limits": {"batchSize": 10, "timeoutSeconds": timeout, "maxConcurrent": 1},
            "parameters": parameters
        }
    })
}

/// What an instance's `/metrics` says of the division of the firing:
/// (configs whose slots it fires, live instances it sees).
fn share(server: &Server) -> (u64, u64) {
    let (status, text) = http(&server.addr, "GET", "/metrics", Some(TOKEN), None);
    assert_eq!(status, 200, "GET /metrics: {text}");
    let gauge = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    (
        gauge("grove_scheduler_configs_owned"),
        gauge("grove_instances_live"),
    )
}

fn running(servers: &[Option<Server>]) -> Vec<&Server> {
    servers.iter().flatten().collect()
}

/// Waits (20 s at most) until every one of `servers` sees `live`
/// instances and together they fire all `jobs` configs, each a part only;
/// returns their shares.
fn divided(servers: &[&Server], live: u64, jobs: u64) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shares: Vec<(u64, u64)> = servers.iter().map(|s| share(s)).collect();
        let owned: Vec<u64> = shares.iter().map(|(o, _)| *o).collect();
        if shares.iter().all(|(o, l)| *l == live && *o < jobs) && owned.iter().sum::<u64>() == jobs
        {
            return owned;
        }
        assert!(
            Instant::now() < deadline,
            "not divided among {live} instances after 20 s: {shares:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (a minute at most) until no execution is queued or running.
async fn settled(conn: &mut PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM executions WHERE status IN ('queued', 'running')",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("count");
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} executions still open after a minute"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The multi-instance tests run one at a time: each starts up to three
/// instances on the 2-core machine, and two clusters at once starve each
/// other's schedulers (what these tests measure is correctness, not load).
fn one_cluster_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    CLUSTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The scenario: three instances, 50 every-second jobs, 30 s; one
/// instance is killed with SIGKILL halfway and restarted later.
#[test]
fn three_instances_run_every_slot_exactly_once_through_a_kill() {
    let Some(url) = database_url() else { return };
    let _one_at_a_time = one_cluster_at_a_time();
    let schema = Schema::new(&url);
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    // The first start migrates; the others find the schema ready.
    let mut servers: Vec<Option<Server>> = vec![Some(serve(dirs[0].path(), &schema))];
    for dir in &dirs[1..] {
        servers.push(Some(serve(dir.path(), &schema)));
    }
    const JOBS: usize = 50;
    for i in 0..JOBS {
        let server = servers[i % 3].as_ref().expect("running");
        let body = job(
            &format!("tick-{i:02}"),
            "* * * * * *",
            true,
            json!({"checks": ["database"], "alertThreshold": "error"}),
            30,
        );
        post(server, "/api/v1/objects/job-config", &body);
    }
    // Every config is followed by every instance within a moment.
    let window_start =
        Timestamp::now().round(jiff::Unit::Second).expect("round") + SignedDuration::from_secs(2);
    // The three divide the firing: each fires a part, together all.
    let shares = divided(&running(&servers), 3, JOBS as u64);
    eprintln!("cluster: shares of {JOBS} configs among three instances: {shares:?}");
    std::thread::sleep(Duration::from_secs(10));
    let mut killed = servers[2].take().expect("running");
    killed.child.kill().expect("SIGKILL");
    killed.child.wait().expect("reap");
    // Its registration expires (4 s lease): the survivors take its share
    // over and record what it missed (checked below: no slot without an
    // execution).
    let taken_over = Instant::now();
    let shares = divided(&running(&servers), 2, JOBS as u64);
    eprintln!(
        "cluster: shares after SIGKILL {shares:?}, taken over in {:.1} s",
        taken_over.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(2));
    servers[2] = Some(serve(dirs[2].path(), &schema));
    divided(&running(&servers), 3, JOBS as u64);
    std::thread::sleep(Duration::from_secs(10));
    let window_end =
        Timestamp::now().round(jiff::Unit::Second).expect("round") - SignedDuration::from_secs(1);
    // On a loaded machine the schedulers may run a few seconds behind the
    // clock (they record every slot, late): let them reach the window's
    // end before the schedules stop, or its last slots would never be due.
    rt().block_on(async {
        let mut conn = schema.connect().await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let reached: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT config_id) FROM executions WHERE scheduled_for = $1",
            )
            .bind(window_end.as_millisecond())
            .fetch_one(&mut conn)
            .await
            .expect("count");
            if reached == JOBS as i64 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Stop the schedules through one instance; the others follow.
    for i in 0..JOBS {
        let server = servers[0].as_ref().expect("running");
        let path = format!("/api/v1/objects/job-config/tick-{i:02}");
        let patch = json!({"payload": {"schedule": {"isEnabled": false}}}).to_string();
        let (status, text) = http(&server.addr, "PATCH", &path, Some(TOKEN), Some(&patch));
        assert_eq!(status, 200, "{text}");
    }

    rt().block_on(async {
        let mut conn = schema.connect().await;
        // Nothing stays queued or running: the killed instance's attempts
        // are rescued once their leases expire.
        settled(&mut conn).await;
        let rows = sqlx::query(
            "SELECT config_id, scheduled_for, \
             CASE WHEN reason = 'missed' THEN 'missed' ELSE status END AS status \
             FROM executions WHERE trigger = 'schedule'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("executions");
        let mut seen: HashMap<(String, i64), String> = HashMap::new();
        for r in &rows {
            let key: (String, i64) = (r.get("config_id"), r.get("scheduled_for"));
            let status: String = r.get("status");
            assert!(
                seen.insert(key.clone(), status).is_none(),
                "slot {key:?} recorded twice"
            );
        }
        let from = window_start.as_millisecond();
        let to = window_end.as_millisecond();
        let seconds = (to - from) / 1000 + 1;
        let mut missing = Vec::new();
        let mut statuses: HashMap<String, usize> = HashMap::new();
        for i in 0..JOBS {
            let config = format!("tick-{i:02}");
            for s in 0..seconds {
                match seen.get(&(config.clone(), from + s * 1000)) {
                    Some(status) => *statuses.entry(status.clone()).or_default() += 1,
                    None => missing.push((config.clone(), s)),
                }
            }
        }
        assert!(
            missing.is_empty(),
            "slots without an execution: {missing:?}"
        );
        let in_window = seen
            .keys()
            .filter(|(_, at)| (from..=to).contains(at))
            .count();
        assert_eq!(in_window, JOBS * seconds as usize, "{statuses:?}");
        // Every slot ended one way or another; on a loaded machine a
        // health check may fail, which is not what this test is about.
        let ran = statuses.get("success").copied().unwrap_or(0);
        assert!(
            statuses
                .keys()
                .all(|s| matches!(s.as_str(), "success" | "skipped" | "failed" | "missed")),
            "{statuses:?}"
        );
        // The killed instance's share went unfired until its registration
        // expired; the survivors recorded those slots as missed when they
        // took it over (the misfire policy).
        let missed = statuses.get("missed").copied().unwrap_or(0);
        assert!(missed > 0, "{statuses:?}");
        eprintln!(
            "cluster: {} slots in {seconds} s, {ran} succeeded, {} skipped by the overlap policy, \
             {missed} missed while the killed instance's share changed hands",
            in_window,
            statuses.get("skipped").copied().unwrap_or(0)
        );
    });
    for server in servers.into_iter().flatten() {
        sigterm(server);
    }
    rt().block_on(schema.drop());
}

/// Backfill and chained jobs across three instances: two backfills of
/// overlapping ranges through different instances run each past slot
/// once, and every parent run starts its chained job exactly once, with
/// the parent's slot, whichever instances ran them.
#[test]
fn three_instances_backfill_each_slot_once_and_chain_once_per_parent() {
    let Some(url) = database_url() else { return };
    let _one_at_a_time = one_cluster_at_a_time();
    let schema = Schema::new(&url);
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let servers: Vec<Server> = dirs.iter().map(|d| serve(d.path(), &schema)).collect();
    let probe = json!({"checks": ["database"], "alertThreshold": "error"});
    // The child never fires on its own within the test (1 January only).
    post(
        &servers[0],
        "/api/v1/objects/job-config",
        &job("child", "0 0 1 1 *", true, probe.clone(), 30),
    );
    let mut parent = job("parent", "0 * * * *", false, probe, 30);
    parent["payload"]["triggers"] = json!({"onSuccess": ["child"]});
    parent["payload"]["limits"]["maxConcurrent"] = json!(3);
    post(&servers[1], "/api/v1/objects/job-config", &parent);

    // 40 hourly slots ending at the last full hour, asked for twice at once
    // through two instances (20 slots overlap).
    let now = Timestamp::now().as_second();
    let hour = Timestamp::from_second(now - now % 3600).expect("hour");
    let at = |h: i64| (hour - SignedDuration::from_hours(h)).to_string();
    let first = json!({"from": at(40), "to": at(10)});
    let second = json!({"from": at(30), "to": at(0)});
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| post(&servers[1], "/api/v1/jobs/parent/backfill", &first));
        let b = s.spawn(|| post(&servers[2], "/api/v1/jobs/parent/backfill", &second));
        (a.join().expect("a"), b.join().expect("b"))
    });
    assert_eq!(a["slots"], 30, "{a}");
    assert_eq!(b["slots"], 30, "{b}");
    let queued = a["runIds"].as_array().unwrap().len() + b["runIds"].as_array().unwrap().len();
    let recorded = a["alreadyRecorded"].as_u64().unwrap() + b["alreadyRecorded"].as_u64().unwrap();
    assert_eq!(queued, 40, "{a} {b}");
    assert_eq!(recorded, 20, "{a} {b}");

    rt().block_on(async {
        let mut conn = schema.connect().await;
        // Parents end, then the chained runs they started end.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            settled(&mut conn).await;
            let chained: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM executions WHERE config_id = 'child' AND trigger = 'chain'",
            )
            .fetch_one(&mut conn)
            .await
            .expect("count");
            if chained >= 40 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let parents = sqlx::query(
            "SELECT id, scheduled_for, status FROM executions WHERE config_id = 'parent'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("parents");
        assert_eq!(parents.len(), 40, "one execution per slot");
        let mut slots: HashMap<String, i64> = HashMap::new();
        for r in &parents {
            let status: String = r.get("status");
            assert_eq!(status, "success");
            slots.insert(r.get("id"), r.get("scheduled_for"));
        }
        let distinct: std::collections::HashSet<i64> = slots.values().copied().collect();
        assert_eq!(distinct.len(), 40, "each slot once");
        let children = sqlx::query(
            "SELECT parent_run_id, parent_scheduled_for, scheduled_for FROM executions \
             WHERE config_id = 'child'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("children");
        assert_eq!(children.len(), 40, "one chained run per parent");
        let mut parents_seen = std::collections::HashSet::new();
        for r in &children {
            let parent: String = r.get("parent_run_id");
            let slot: i64 = r.get("parent_scheduled_for");
            let own: Option<i64> = r.get("scheduled_for");
            assert_eq!(own, None, "outside the child's own slot key");
            assert_eq!(slots.get(&parent), Some(&slot), "the parent's slot");
            assert!(
                parents_seen.insert(parent),
                "a parent started the child twice"
            );
        }
    });
    for server in servers {
        sigterm(server);
    }
    rt().block_on(schema.drop());
}

/// The instance running a long attempt dies; another one rescues the
/// attempt once its lease expires and runs the execution's next attempt.
#[test]
fn an_attempt_of_a_killed_instance_is_recovered_after_its_lease() {
    let Some(url) = database_url() else { return };
    let _one_at_a_time = one_cluster_at_a_time();
    let schema = Schema::new(&url);
    // Accepts connections and never answers: the rag probe hangs.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let mut a = serve(dir_a.path(), &schema);
    let body = job(
        "slow",
        "0 3 * * *",
        false,
        json!({"checks": ["rag"], "alertThreshold": "error",
               "endpoints": {"rag": format!("http://{silent_addr}/ask")}}),
        600,
    );
    post(&a, "/api/v1/objects/job-config", &body);
    let run = post(&a, "/api/v1/jobs/slow/run", &json!({}));
    let run_id = run["runId"].as_str().expect("runId").to_owned();
    let path = format!("/api/v1/executions/{run_id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(&a, &path)["status"] != "running" {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // B starts after A claimed the run, so A holds the attempt.
    let b = serve(dir_b.path(), &schema);
    a.child.kill().expect("SIGKILL");
    a.child.wait().expect("reap");
    let killed_at = Timestamp::now();

    let deadline = Instant::now() + Duration::from_secs(60);
    let e = loop {
        let e = get(&b, &path);
        if e["attempts"].as_array().is_some_and(|a| a.len() >= 2) {
            break e;
        }
        assert!(Instant::now() < deadline, "not recovered: {e}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let first = &e["attempts"][0];
    assert_eq!(first["status"], "failed", "{e}");
    assert_eq!(first["reason"], "abandoned", "{e}");
    assert_eq!(
        e["attempts"][1]["status"], "running",
        "B runs the retry: {e}"
    );
    // Rescued after the lease (4 s, renewed every second) ran out, and not
    // much later: server timestamps, not the test's timing.
    let rescued: Timestamp = first["completedAt"]
        .as_str()
        .expect("completedAt")
        .parse()
        .expect("ts");
    let after = rescued.duration_since(killed_at).as_secs_f64();
    assert!(
        (2.0..=12.0).contains(&after),
        "rescued {after} s after the kill: {e}"
    );
    eprintln!("lease recovery: attempt 1 abandoned {after:.1} s after SIGKILL");

    sigterm(b);
    drop(silent);
    rt().block_on(schema.drop());
}

/// A TCP proxy in front of PostgreSQL that the test can cut: open
/// connections are shut and new ones refused until it is restored, as in
/// a network blip or a database restart.
struct Proxy {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn start(upstream: std::net::SocketAddr) -> Self {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (cut2, open2) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if cut2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(upstream) else {
                    continue;
                };
                let mut list = open2.lock().expect("lock");
                for s in [&client, &server] {
                    if let Ok(s) = s.try_clone() {
                        list.push(s);
                    }
                }
                drop(list);
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Self { port, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for s in self.open.lock().expect("lock").drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The database connection drops for a few seconds: the instance says it
/// is not ready meanwhile, then resumes; slots that came due during the
/// outage are recorded late, each exactly once.
#[test]
fn a_database_outage_makes_the_instance_unready_and_loses_no_slot() {
    let Some(url) = database_url() else { return };
    let _one_at_a_time = one_cluster_at_a_time();
    let options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
    let upstream = format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], options.get_port())));
    let proxy = Proxy::start(upstream);
    let proxied = url.replacen(
        &format!(":{}", options.get_port()),
        &format!(":{}", proxy.port),
        1,
    );
    assert_ne!(proxied, url, "the URL names its port: {url}");
    let schema = Schema::new(&proxied);
    let dir = tempfile::tempdir().expect("dir");
    let server = serve(dir.path(), &schema);
    const JOBS: usize = 5;
    for i in 0..JOBS {
        let body = job(
            &format!("beat-{i}"),
            "* * * * * *",
            true,
            json!({"checks": ["storage"], "alertThreshold": "critical"}),
            30,
        );
        post(&server, "/api/v1/objects/job-config", &body);
    }
    let ready = |server: &Server| http(&server.addr, "GET", "/readyz", None, None).0;
    assert_eq!(ready(&server), 200);
    let window_start =
        Timestamp::now().round(jiff::Unit::Second).expect("round") + SignedDuration::from_secs(2);
    std::thread::sleep(Duration::from_secs(4));

    proxy.cut();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ready(&server) != 503 {
        assert!(
            Instant::now() < deadline,
            "/readyz never reported the outage"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(5));
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready(&server) != 200 {
        assert!(Instant::now() < deadline, "/readyz never recovered");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4));
    let window_end =
        Timestamp::now().round(jiff::Unit::Second).expect("round") - SignedDuration::from_secs(2);
    for i in 0..JOBS {
        let path = format!("/api/v1/objects/job-config/beat-{i}");
        let patch = json!({"payload": {"schedule": {"isEnabled": false}}}).to_string();
        let (status, text) = http(&server.addr, "PATCH", &path, Some(TOKEN), Some(&patch));
        assert_eq!(status, 200, "{text}");
    }

    let direct = Schema {
        url: url.clone(),
        name: schema.name.clone(),
    };
    rt().block_on(async {
        let mut conn = direct.connect().await;
        settled(&mut conn).await;
        let rows = sqlx::query(
            "SELECT config_id, scheduled_for FROM executions WHERE trigger = 'schedule'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("executions");
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            let key: (String, i64) = (r.get("config_id"), r.get("scheduled_for"));
            assert!(seen.insert(key.clone()), "slot {key:?} recorded twice");
        }
        let (from, to) = (window_start.as_millisecond(), window_end.as_millisecond());
        let mut missing = Vec::new();
        for i in 0..JOBS {
            let mut at = from;
            while at <= to {
                if !seen.contains(&(format!("beat-{i}"), at)) {
                    missing.push((i, (at - from) / 1000));
                }
                at += 1000;
            }
        }
        assert!(missing.is_empty(), "slots lost in the outage: {missing:?}");
    });
    sigterm(server);
    rt().block_on(direct.drop());
}
