//! `serve` as a newcomer runs it: a fresh directory, the printed token
//! authorises a create, SIGTERM shuts down cleanly, a restart keeps data.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::{BIN, Server, grove, http, launch};

fn start(dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("GROVE_ADMIN_TOKEN");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    launch(cmd)
}

fn terminate(mut server: Server) {
    let pid = server.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "serve exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const NEW_JOB: &str = r#"{"meta": {"title": "Nightly digest"}, "payload": {"jobType": "notification-digest",
  "schedule": {"cronExpression": "0 7 * * MON-FRI", "timezone": "Europe/London", "isEnabled": false},
  "retry": {"maxAttempts": 2, "backoffStrategy": "fixed", "initialDelaySeconds": 30, "maxDelaySeconds": 30},
  "limits": {"batchSize": 50, "timeoutSeconds": 120, "maxConcurrent": 1},
  "parameters": {"eventTypes": ["job.failed"], "recipientIds": ["ops"]}}}"#;

#[test]
fn fresh_start_seeds_prints_a_working_token_and_restarts_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let token = server
        .token
        .clone()
        .expect("a fresh database prints an admin token");
    let addr = server.addr.clone();
    let (status, body) = http(&addr, "GET", "/readyz", None, None);
    assert_eq!(status, 200, "{body}");
    // Reads need a token: the printed one works, none is refused.
    let (status, _) = http(&addr, "GET", "/api/v1/objects/job-config", None, None);
    assert_eq!(status, 401);
    let (status, body) = http(
        &addr,
        "GET",
        "/api/v1/objects/job-config",
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["total"], 5);
    let (status, _) = http(
        &addr,
        "POST",
        "/api/v1/objects/job-config",
        None,
        Some(NEW_JOB),
    );
    assert_eq!(status, 401);
    let (status, body) = http(
        &addr,
        "POST",
        "/api/v1/objects/job-config",
        Some(&token),
        Some(NEW_JOB),
    );
    assert_eq!(status, 201, "{body}");
    let (status, _) = http(
        &addr,
        "DELETE",
        "/api/v1/objects/job-config/orphan-cleanup",
        Some(&token),
        None,
    );
    assert_eq!(status, 204);
    terminate(server);

    // A restart keeps everything, prints no new token and does not re-seed
    // what the operator deleted.
    let server = start(dir.path(), &[]);
    assert!(server.token.is_none());
    let (_, body) = http(
        &server.addr,
        "GET",
        "/api/v1/objects/job-config",
        Some(&token),
        None,
    );
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["meta"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "advancement-batch",
            "health-check",
            "nightly-digest",
            "notification-digest",
            "signal-aggregation"
        ]
    );
    let (status, _) = http(
        &server.addr,
        "PATCH",
        "/api/v1/objects/job-config/nightly-digest",
        Some(&token),
        Some(r#"{"payload": {"limits": {"batchSize": 10}}}"#),
    );
    assert_eq!(status, 200);
    terminate(server);
}

#[test]
fn bootstrap_admin_token_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "gj_my_own_bootstrap_secret_value";
    let server = start(dir.path(), &[("GROVE_ADMIN_TOKEN", secret)]);
    assert!(server.token.is_none(), "a configured token is not printed");
    let (status, body) = http(
        &server.addr,
        "POST",
        "/api/v1/objects/job-config",
        Some(secret),
        Some(NEW_JOB),
    );
    assert_eq!(status, 201, "{body}");
    terminate(server);

    // Restarted with another bootstrap secret: the old one is revoked.
    let rotated = "gj_my_rotated_bootstrap_secret_value";
    let server = start(dir.path(), &[("GROVE_ADMIN_TOKEN", rotated)]);
    let (status, _) = http(&server.addr, "GET", "/api/v1/tokens", Some(secret), None);
    assert_eq!(status, 401, "the previous bootstrap token no longer works");
    let (status, body) = http(&server.addr, "GET", "/api/v1/tokens", Some(rotated), None);
    assert_eq!(status, 200, "{body}");
    let tokens: serde_json::Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bootstrap-admin"]);
    terminate(server);
}

/// `grove-jobs run ID --wait` queues a manual run in the database; the
/// serving process picks it up and the CLI reports how it ended.
#[test]
fn run_cli_queues_a_run_that_the_server_executes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start(dir.path(), &[]);
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("run")
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .output()
            .expect("run grove-jobs run")
    };

    let out = run(&["health-check", "--wait", "--timeout", "60"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("run ") && first.ends_with("of \"health-check\": queued"),
        "{stdout}"
    );
    let run_id = first.split_whitespace().nth(1).expect("run id").to_owned();
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("run {run_id}: ")) && last.contains("processed"),
        "{stdout}\n{stderr}"
    );

    // The server knows the run by the id the CLI printed.
    let token = server.token.clone().expect("a token");
    let (status, body) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/executions/{run_id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let execution: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(execution["trigger"], "manual");
    let ended = execution["status"].as_str().unwrap_or_default();
    assert!(last.contains(&format!(": {ended},")), "{last} vs {body}");
    assert_eq!(
        out.status.success(),
        ended == "success" || ended == "partial"
    );

    let out = run(&["no-such-job"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("job config \"no-such-job\" does not exist"),
        "{stderr}"
    );
    terminate(server);
}

/// `kill -9` in the middle of a run, then a restart: the run does not stay
/// `running`; its attempt is abandoned and, with no attempts left, it fails.
#[test]
fn a_run_interrupted_by_kill_9_is_abandoned_at_the_next_start() {
    // An endpoint that accepts connections and never answers keeps the
    // health check's rag probe (and so the run) busy until its deadline.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = start(dir.path(), &[("GROVE_OUTBOUND_ALLOW", "127.0.0.1")]);
    let token = server.token.clone().expect("a token");
    let job = format!(
        r#"{{"meta": {{"id": "slow-probe", "title": "Slow probe"}}, "payload": {{"jobType": "health-check",
          "schedule": {{"cronExpression": "0 3 * * *", "timezone": "UTC", "isEnabled": false}},
          "retry": {{"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 10, "maxDelaySeconds": 10}},
          "limits": {{"batchSize": 10, "timeoutSeconds": 600, "maxConcurrent": 1}},
          "parameters": {{"checks": ["rag"], "alertThreshold": "error",
                          "endpoints": {{"rag": "http://{silent_addr}/ask"}}}}}}}}"#
    );
    let (status, body) = http(
        &server.addr,
        "POST",
        "/api/v1/objects/job-config",
        Some(&token),
        Some(&job),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(
        &server.addr,
        "POST",
        "/api/v1/jobs/slow-probe/run",
        Some(&token),
        None,
    );
    assert_eq!(status, 202, "{body}");
    let run: serde_json::Value = serde_json::from_str(&body).expect("json");
    let run_id = run["runId"].as_str().expect("runId").to_owned();
    let path = format!("/api/v1/executions/{run_id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = http(&server.addr, "GET", &path, Some(&token), None);
        if body.contains(r#""status":"running""#) {
            break;
        }
        assert!(Instant::now() < deadline, "the run never started: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }

    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");
    drop(silent);

    // The engine rescues at start-up, before the HTTP server answers.
    let server = start(dir.path(), &[("GROVE_OUTBOUND_ALLOW", "127.0.0.1")]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let e = loop {
        let (status, body) = http(&server.addr, "GET", &path, Some(&token), None);
        assert_eq!(status, 200, "{body}");
        let e: serde_json::Value = serde_json::from_str(&body).expect("json");
        if e["status"] != "running" {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "still running after a restart: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let body = e.to_string();
    assert_eq!(e["status"], "failed", "{body}");
    assert_eq!(e["attempts"][0]["status"], "failed", "{body}");
    assert_eq!(e["attempts"][0]["reason"], "abandoned", "{body}");
    terminate(server);
}

/// An engine that cannot start (its start-up lease rescue cannot read the
/// attempts) stops `serve` before it announces anything: exit code 1, the
/// reason on stderr, no console URL.
#[test]
fn serve_exits_with_the_reason_when_the_engine_cannot_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrated = grove(dir.path(), &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    let url = format!("sqlite://{}", dir.path().join("grove-jobs.db").display());
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
            sqlx::raw_sql("DROP TABLE execution_attempts")
                .execute(&mut db)
                .await
                .expect("drop");
            db.close().await.expect("close");
        });

    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("GROVE_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("kill");
            panic!("serve kept running with an engine that cannot start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("error: the engine could not start: ")
            && stderr.contains("execution_attempts"),
        "{stderr}"
    );
    assert!(!stdout.contains("Console:"), "{stdout}");
    assert!(!stdout.contains("ready"), "{stdout}");
}

/// Reads `grove_scheduler_configs` from `/metrics`: how many configs this
/// server's scheduler follows.
fn scheduled_configs(addr: &str) -> u64 {
    let (status, body) = http(addr, "GET", "/metrics", None, None);
    assert_eq!(status, 200, "{body}");
    body.lines()
        .find_map(|l| l.strip_prefix("grove_scheduler_configs "))
        .and_then(|n| n.trim().parse().ok())
        .expect("grove_scheduler_configs in /metrics")
}

fn instant(value: &serde_json::Value) -> jiff::Timestamp {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an instant, got {value}"))
}

/// With `serve` running on SQLite, what another process writes to the same
/// file takes effect within a second — no polling period to wait for: a run
/// queued by `grove-jobs run` starts, and a schedule changed by
/// `grove-jobs apply` is followed by the scheduler.
#[test]
fn another_process_writes_take_effect_within_a_second() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start(dir.path(), &[]);
    let token = server.token.clone().expect("a token");

    // `grove-jobs run`: from the CLI's queueing to the server's start.
    let out = grove(dir.path(), &["run", "health-check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let run_id = stdout
        .split_whitespace()
        .nth(1)
        .expect("run <id> of …")
        .to_owned();
    let path = format!("/api/v1/executions/{run_id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let execution = loop {
        let (status, body) = http(&server.addr, "GET", &path, Some(&token), None);
        assert_eq!(status, 200, "{body}");
        let e: serde_json::Value = serde_json::from_str(&body).expect("json");
        if !e["startedAt"].is_null() {
            break e;
        }
        assert!(Instant::now() < deadline, "the run never started: {body}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let waited = instant(&execution["startedAt"]).duration_since(instant(&execution["createdAt"]));
    assert!(
        waited < jiff::SignedDuration::from_secs(1),
        "queued by another process, started {waited:?} later"
    );

    // `grove-jobs apply`: a disabled config becomes an every-second schedule.
    let config = |enabled: bool| {
        serde_json::json!({
            "meta": {"id": "pulse", "type": "job-config", "title": "Pulse"},
            "payload": {
                "jobType": "health-check",
                "schedule": {"cronExpression": "* * * * * *", "timezone": "UTC", "isEnabled": enabled},
                "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 1, "maxDelaySeconds": 1},
                "limits": {"batchSize": 10, "timeoutSeconds": 30, "maxConcurrent": 1},
                "parameters": {"checks": ["database"], "alertThreshold": "critical"}
            }
        })
    };
    let file = dir.path().join("pulse.json");
    std::fs::write(&file, config(false).to_string()).expect("write");
    let file = file.to_str().expect("utf-8 path");
    assert!(grove(dir.path(), &["apply", "-f", file]).status.success());
    let before = scheduled_configs(&server.addr);
    std::fs::write(file, config(true).to_string()).expect("write");
    let applied = grove(dir.path(), &["apply", "-f", file]);
    let applied_at = Instant::now();
    assert!(applied.status.success(), "{applied:?}");
    loop {
        if scheduled_configs(&server.addr) == before + 1 {
            break;
        }
        assert!(
            applied_at.elapsed() < Duration::from_secs(1),
            "the server did not follow the applied schedule within a second"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // And it runs on it: a scheduled run of the next second or so.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = http(
            &server.addr,
            "GET",
            "/api/v1/jobs/pulse/executions?limit=5",
            Some(&token),
            None,
        );
        if body.contains(r#""trigger":"schedule""#) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no scheduled run of pulse: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    terminate(server);
}

/// Failed authentications over real HTTP: limited per client address (the
/// eleventh in a minute is a 429 with Retry-After), each logged at warn
/// with the address and never the secret.
#[test]
fn failed_authentications_are_throttled_per_address_and_logged_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("GROVE_ADMIN_TOKEN");
    let mut server = crate::launch_logging(cmd, &log);
    let wrong = "gj_definitely_not_a_real_token_value";
    for i in 0..10 {
        let (status, _) = http(&server.addr, "GET", "/api/v1/types", Some(wrong), None);
        assert_eq!(status, 401, "attempt {i}");
    }
    let (status, body) = http(&server.addr, "GET", "/api/v1/types", Some(wrong), None);
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("try again in"), "{body}");
    // The probes stay reachable for everyone.
    assert_eq!(http(&server.addr, "GET", "/healthz", None, None).0, 200);
    let pid = server.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    server.child.wait().expect("wait");
    let text = std::fs::read_to_string(&log).expect("log");
    let failures = text
        .lines()
        .filter(|l| l.contains("authentication failed"))
        .collect::<Vec<_>>();
    assert_eq!(failures.len(), 10, "{text}");
    assert!(
        failures
            .iter()
            .all(|l| l.contains("WARN") && l.contains("127.0.0.1")),
        "{text}"
    );
    assert!(!text.contains(wrong), "the secret is never logged");
}

/// Loopback endpoints are refused unless `GROVE_OUTBOUND_ALLOW` lists them.
#[test]
fn the_outbound_allow_list_opens_loopback_endpoints() {
    let job = r#"{"meta": {"id": "local-probe", "title": "Local probe"}, "payload": {"jobType": "health-check",
          "schedule": {"cronExpression": "0 3 * * *", "timezone": "UTC", "isEnabled": false},
          "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 10, "maxDelaySeconds": 10},
          "limits": {"batchSize": 10, "timeoutSeconds": 60, "maxConcurrent": 1},
          "parameters": {"checks": ["rag"], "alertThreshold": "error",
                          "endpoints": {"rag": "http://127.0.0.1:9/ask"}}}}"#;
    for (env, expected) in [(None, 422), (Some("127.0.0.0/8"), 201)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let extra: Vec<(&str, &str)> = env
            .map(|e| ("GROVE_OUTBOUND_ALLOW", e))
            .into_iter()
            .collect();
        let server = start(dir.path(), &extra);
        let token = server.token.clone().expect("a token");
        let (status, body) = http(
            &server.addr,
            "POST",
            "/api/v1/objects/job-config",
            Some(&token),
            Some(job),
        );
        assert_eq!(status, expected, "{env:?}: {body}");
        if expected == 422 {
            assert!(body.contains("/payload/parameters/endpoints/rag"), "{body}");
            assert!(body.contains("outbound address not allowed"), "{body}");
        }
        terminate(server);
    }
}

/// `grove-jobs run --set` and `grove-jobs backfill` against a serving
/// instance's database: options are validated with pointers before
/// anything is queued; a backfill runs past slots once.
#[test]
fn the_cli_runs_with_options_and_backfills() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start(dir.path(), &[]);
    let token = server.token.clone().expect("a token");

    let refused = grove(
        dir.path(),
        &["run", "health-check", "--set", "limits.batchSize=0"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("/limits/batchSize"), "{stderr}");

    let out = grove(
        dir.path(),
        &["run", "health-check", "--set", "limits.batchSize=7"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let run_id = stdout
        .split_whitespace()
        .nth(1)
        .expect("run <id>")
        .to_owned();
    let (status, body) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/executions/{run_id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let e: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        e["overrides"],
        serde_json::json!({"limits": {"batchSize": 7}})
    );

    // The last hour, twice: the second finds every slot recorded.
    let now = jiff::Timestamp::now().as_second();
    let to = jiff::Timestamp::from_second(now - now % 3600).expect("hour");
    let from = to - jiff::SignedDuration::from_hours(1);
    let (from, to) = (from.to_string(), to.to_string());
    let args = ["backfill", "health-check", "--from", &from, "--to", &to];
    let first = grove(dir.path(), &args);
    let text = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let number = |text: &str, after: &str| -> u64 {
        text.split(after)
            .next()
            .and_then(|s| s.split_whitespace().last())
            .and_then(|n| n.trim_start_matches("),").parse().ok())
            .unwrap_or_else(|| panic!("no number before {after:?} in {text}"))
    };
    let slots = number(&text, " slot(s)");
    assert!(slots > 0, "{text}");
    assert_eq!(number(&text, " queued"), slots, "{text}");
    let again = grove(dir.path(), &args);
    let text = String::from_utf8_lossy(&again.stdout).to_string();
    assert_eq!(number(&text, " queued"), 0, "{text}");
    assert_eq!(number(&text, " already recorded"), slots, "{text}");
    let bad = grove(
        dir.path(),
        &["backfill", "health-check", "--from", &to, "--to", &from],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/to"));
}
