//! End-to-end tests in a real headless Chromium, driven over WebDriver
//! (fantoccini + Debian's chromedriver) against the real router served on
//! 127.0.0.1:0. Screenshots go to `target/screenshots/`.
//!
//! Without `/usr/bin/chromedriver` these tests fail when `CI` is set and
//! are skipped with a note otherwise.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::Method;
use fantoccini::{Client, ClientBuilder, Locator};
use grove_core::registry::JOB_CONFIG;
use serde_json::{Map, Value, json};

use crate::common::{OPERATOR, TestApp};

mod audit;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The widths the console is checked at: desktop, tablet, phone.
const WIDTHS: [(u32, u32); 3] = [(1280, 900), (800, 1000), (390, 844)];

fn available() -> bool {
    if std::path::Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMEDRIVER} is missing: CI must install chromium and chromium-driver"
    );
    eprintln!(
        "skipping browser test: {CHROMEDRIVER} is not installed (apt-get install chromium chromium-driver)"
    );
    false
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running chromedriver, killed on drop.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        port,
        _profile: tempfile::tempdir().expect("profile dir"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening on port {port}");
}

async fn browser(driver: &Driver, (w, h): (u32, u32)) -> Client {
    let mut caps = Map::new();
    let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--hide-scrollbars",
                format!("--window-size={w},{h}"),
                format!("--user-data-dir={}", driver._profile.path().join(format!("p{w}")).display()),
            ],
    });
    // Desktop Chromium windows are at least 500 px wide: phones are emulated.
    if w < 500 {
        options["mobileEmulation"] =
            json!({"deviceMetrics": {"width": w, "height": h, "pixelRatio": 2, "touch": true}});
    }
    caps.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// Serves the app's router on 127.0.0.1:0; returns the base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str, width: u32) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(format!("{name}-{width}.png")), png).expect("write screenshot");
}

/// Gives the seeded jobs some history so every badge appears, and adds rules.
async fn history(app: &TestApp) {
    for id in ["signal-aggregation", "health-check", "notification-digest"] {
        let r = app
            .call(
                Method::PATCH,
                &format!("/api/v1/objects/job-config/{id}"),
                Some(json!({"payload": {"schedule": {"isEnabled": true}}})),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    }
    for (id, from, to, conds) in [
        (
            "seed-to-sprout",
            "seed",
            "sprout",
            json!([{"signal": "retrievals", "operator": ">=", "threshold": 10}, {"signal": "citations", "operator": ">=", "threshold": 5}]),
        ),
        (
            "sapling-to-tree",
            "sapling",
            "tree",
            json!([{"signal": "citations", "operator": ">=", "threshold": 25}]),
        ),
    ] {
        let r = app
            .call(
                Method::POST,
                "/api/v1/objects/advancement-rule",
                Some(json!({"meta": {"id": id, "title": format!("{} → {}", from, to)},
                            "payload": {"fromTier": from, "toTier": to, "conditions": conds, "match": "all"}})),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    }
    crate::common::record_run(
        &app.store,
        "orphan-cleanup",
        &json!({"startedAt": "2026-03-01T03:00:00Z", "completedAt": "2026-03-01T03:05:00Z", "status": "failed",
               "itemsProcessed": 0, "errors": 1, "runId": "0195a1c2-7e4f-7000-8000-0000000000ff",
               "error": "storage: data directory is not writable", "consecutiveFailures": 5}),
    )
    .await;
    let mut critical = Map::new();
    critical.insert(
        "autoDisabled".to_owned(),
        json!({"at": "2026-03-01T03:00:00Z", "reason": "5 consecutive runs failed"}),
    );
    app.store
        .object_state_merge(JOB_CONFIG, "orphan-cleanup", critical)
        .await
        .expect("state");
    let runs = [
        ("signal-aggregation", "success", 1840, 0, None),
        (
            "health-check",
            "failed",
            2,
            1,
            Some("database check: connection refused after 3 attempts"),
        ),
        ("notification-digest", "success", 12, 0, None),
    ];
    for (i, (id, status, items, errors, error)) in runs.into_iter().enumerate() {
        crate::common::record_run(
            &app.store,
            id,
            &json!({"startedAt": "2026-03-01T11:00:00Z", "completedAt": format!("2026-03-01T11:00:{:02}Z", 23 + i),
                   "status": status, "itemsProcessed": items, "errors": errors,
                   "runId": format!("0195a1c2-7e4f-7000-8000-00000000000{i}"), "error": error}),
        )
        .await;
    }
}

async fn login(c: &Client, base: &str) {
    c.goto(&format!("{base}/console/login"))
        .await
        .expect("login page");
    c.find(Locator::Id("token"))
        .await
        .expect("token field")
        .send_keys(OPERATOR)
        .await
        .expect("type");
    let button = c
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("button");
    click_and_wait(c, button).await;
    c.wait()
        .for_element(Locator::Css(".grid"))
        .await
        .expect("the grid after login");
}

async fn stored(app: &TestApp, id: &str) -> Value {
    app.store
        .object_get(JOB_CONFIG, id)
        .await
        .expect("get")
        .expect("exists")
        .payload
}

async fn set_field(c: &Client, id: &str, value: &str) {
    let el = c.find(Locator::Id(id)).await.expect(id);
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&el).expect("element")],
    )
    .await
    .expect("scroll");
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

/// Clicks and waits until a new document has loaded.
async fn click_and_wait(c: &Client, el: fantoccini::elements::Element) {
    c.execute("window.__old_page = true;", vec![])
        .await
        .expect("mark page");
    el.click().await.expect("click");
    for _ in 0..200 {
        let fresh = c
            .execute(
                "return typeof window.__old_page === 'undefined' && document.readyState === 'complete';",
                vec![],
            )
            .await
            .unwrap_or(Value::Bool(false));
        if fresh == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new page after the click");
}

async fn save_changes(c: &Client) {
    let button = c
        .find(Locator::Css(".actions-bar button.btn-primary"))
        .await
        .expect("Save Changes");
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&button).expect("element")],
    )
    .await
    .expect("scroll");
    assert_eq!(button.text().await.expect("text"), "Save Changes");
    click_and_wait(c, button).await;
}

async fn notice(c: &Client) -> String {
    c.wait()
        .for_element(Locator::Css(".notice[role=status]"))
        .await
        .expect("a notice")
        .text()
        .await
        .expect("text")
}

/// US-1 (cron → "Saved — version 2. Schedule updated: next run …"), US-2 (batch size) and US-4 (disable →
/// the card says "Disabled") at desktop, tablet and phone widths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_schedule_batch_size_and_disable_at_three_widths() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    for size in WIDTHS {
        let width = size.0;
        let app = TestApp::seeded().await;
        history(&app).await;
        let base = serve(&app).await;
        let c = browser(&driver, size).await;
        login(&c, &base).await;
        shot(&c, "grid", width).await;

        // The grid: cards in the type colours, with status text.
        let badges = c
            .find_all(Locator::Css(".card--job-config .badge"))
            .await
            .expect("badges");
        assert_eq!(badges.len(), 5);
        let failed = c
            .find(Locator::Css("[data-id=health-check] .badge"))
            .await
            .expect("health-check badge");
        assert_eq!(failed.text().await.expect("text"), "Failed");

        // US-1: open the editor from the card, change the cron, save.
        let configure = c
            .find(Locator::Css("[data-id=advancement-batch] a.btn"))
            .await
            .expect("Configure");
        click_and_wait(&c, configure).await;
        c.wait()
            .for_element(Locator::Id("cron"))
            .await
            .expect("cron field");
        shot(&c, "editor", width).await;
        set_field(&c, "cron", "0 3 * * *").await;
        save_changes(&c).await;
        let said = notice(&c).await;
        assert!(
            said.starts_with("Saved — version 2. Schedule updated: next run ")
                && said.contains("3:00 AM UTC"),
            "{said}"
        );
        assert_eq!(
            stored(&app, "advancement-batch").await["schedule"]["cronExpression"],
            "0 3 * * *"
        );
        let preview = c
            .find(Locator::Id("cron-preview"))
            .await
            .expect("preview")
            .text()
            .await
            .expect("text");
        assert!(
            preview.contains("03:00") || preview.contains("3:00"),
            "{preview}"
        );

        // The live preview reacts to typing: with the preview endpoint it
        // shows the new runs, without it a note that it updates on save.
        let before = preview.clone();
        set_field(&c, "cron", "*/10 * * * *").await;
        let mut changed = String::new();
        for _ in 0..60 {
            changed = c
                .find(Locator::Id("cron-preview"))
                .await
                .expect("preview")
                .text()
                .await
                .expect("text");
            if changed != before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_ne!(changed, before, "the preview did not react to typing");
        set_field(&c, "cron", "0 3 * * *").await;

        // US-2: batch size 100 → 50.
        set_field(&c, "f-payload-limits-batchSize", "50").await;
        save_changes(&c).await;
        assert_eq!(notice(&c).await, "Saved — version 3");
        assert_eq!(
            stored(&app, "advancement-batch").await["limits"]["batchSize"],
            50
        );

        // A validation problem shows at its field.
        set_field(&c, "f-payload-limits-batchSize", "0").await;
        save_changes(&c).await;
        let err = c
            .wait()
            .for_element(Locator::Css(
                "[data-pointer='/payload/limits/batchSize'] .field-error",
            ))
            .await
            .expect("inline error");
        assert!(
            err.text()
                .await
                .expect("text")
                .contains("between 1 and 100000")
        );
        shot(&c, "editor-invalid", width).await;
        set_field(&c, "f-payload-limits-batchSize", "50").await;

        // US-4: Schedule Active off, save, the card says Disabled.
        let toggle = c
            .find(Locator::Id("f-payload-schedule-isEnabled"))
            .await
            .expect("toggle");
        assert_eq!(
            toggle.prop("checked").await.expect("checked").as_deref(),
            Some("true")
        );
        let switch = c
            .find(Locator::Css(
                "label.switch:has(#f-payload-schedule-isEnabled)",
            ))
            .await
            .expect("switch label");
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&switch).expect("element")],
        )
        .await
        .expect("scroll");
        switch.click().await.expect("toggle off");
        save_changes(&c).await;
        assert_eq!(
            notice(&c).await,
            "Saved — version 4. Schedule updated: the schedule is off, so no run is planned."
        );
        assert_eq!(
            stored(&app, "advancement-batch").await["schedule"]["isEnabled"],
            false
        );
        c.goto(&format!("{base}/console?type=job-config"))
            .await
            .expect("grid");
        let badge = c
            .wait()
            .for_element(Locator::Css("[data-id=advancement-batch] .badge"))
            .await
            .expect("badge");
        assert_eq!(badge.text().await.expect("text"), "Disabled");

        // The execution page of the failed run.
        c.goto(&format!(
            "{base}/console/executions/0195a1c2-7e4f-7000-8000-000000000001"
        ))
        .await
        .expect("execution page");
        c.wait()
            .for_element(Locator::Css("[data-component=JobErrorAlert]"))
            .await
            .expect("error alert");
        shot(&c, "execution", width).await;
        c.goto(&format!("{base}/console/jobs/health-check#status"))
            .await
            .expect("status tab");
        c.wait()
            .for_element(Locator::Css("#status [data-component=JobErrorAlert]"))
            .await
            .expect("status");
        shot(&c, "status", width).await;
        c.goto(&format!("{base}/console/rules/seed-to-sprout"))
            .await
            .expect("rule editor");
        c.wait()
            .for_element(Locator::Css(".cond-row"))
            .await
            .expect("conditions");
        shot(&c, "rule", width).await;
        c.goto(&format!(
            "{base}/console/jobs/advancement-batch/revisions?diff=1#diff"
        ))
        .await
        .expect("revisions");
        c.wait()
            .for_element(Locator::Css(".diff .add"))
            .await
            .expect("a diff");
        shot(&c, "revisions", width).await;
        c.goto(&format!("{base}/console/timeline?tz=America/Los_Angeles"))
            .await
            .expect("timeline");
        c.wait()
            .for_element(Locator::Css(".tl-mark"))
            .await
            .expect("marks");
        shot(&c, "timeline", width).await;

        // Touch targets: every visible button and link-button is ≥ 44 px tall.
        let small: Value = c
            .execute(
                "return [...document.querySelectorAll('button, .btn, .filter, .nav a')]
                   .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
                   .map(e => e.textContent.trim());",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(small, json!([]), "buttons under 44 px at {width}");
        c.close().await.expect("close");
    }
}

/// Issue 13, problem 5: a card's switch on "All" comes back to "All", at
/// the card, with a neutral notice on that card naming the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_switch_stays_in_its_tab_and_place() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let app = TestApp::seeded().await;
    history(&app).await;
    let base = serve(&app).await;
    let size = WIDTHS[2];
    let c = browser(&driver, size).await;
    login(&c, &base).await;
    c.goto(&format!("{base}/console?sort=schedule"))
        .await
        .expect("grid");
    let switch = c
        .find(Locator::Css("[data-id=notification-digest] button.switch"))
        .await
        .expect("the card's switch");
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&switch).expect("element")],
    )
    .await
    .expect("scroll");
    assert_eq!(
        switch.attr("aria-checked").await.expect("attr").as_deref(),
        Some("true")
    );
    click_and_wait(&c, switch).await;
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/console", "{url}");
    assert!(
        !url.query().unwrap_or("").contains("type="),
        "still on All: {url}"
    );
    assert!(
        url.query().unwrap_or("").contains("sort=schedule"),
        "the sort is kept: {url}"
    );
    assert_eq!(url.fragment(), Some("card-notification-digest"));
    let note = c
        .find(Locator::Css(
            "#card-notification-digest .notice[role=status]",
        ))
        .await
        .expect("the notice on the card");
    let text = note.text().await.expect("text");
    assert!(
        text.starts_with("Daily Operator Digest is disabled."),
        "{text}"
    );
    let class = note.attr("class").await.expect("class").unwrap_or_default();
    assert!(
        class.contains("status--info"),
        "neutral, not success green: {class}"
    );
    let in_view: Value = c
        .execute(
            "var r = document.getElementById('card-notification-digest').getBoundingClientRect();
             return window.scrollY > 0 && r.top >= -1 && r.top < window.innerHeight;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(in_view, json!(true), "the page is at the card");
    assert_eq!(
        stored(&app, "notification-digest").await["schedule"]["isEnabled"],
        false
    );
    // No second notice at the top of the page.
    let notices = c
        .find_all(Locator::Css(".notice[role=status]"))
        .await
        .expect("notices");
    assert_eq!(notices.len(), 1);
    c.close().await.expect("close");
}

/// A job that takes about a second, reporting progress and log lines as it
/// goes; the first run of a config with batch size 13 fails.
#[derive(Debug, Default)]
struct Paced {
    failed_once: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl grove_engine::JobHandler for Paced {
    async fn run(
        &self,
        ctx: grove_engine::JobContext,
    ) -> Result<grove_engine::JobOutcome, grove_engine::JobFailure> {
        use std::sync::atomic::Ordering;
        if ctx.batch_size == 13 && !self.failed_once.swap(true, Ordering::SeqCst) {
            ctx.log.error("the upstream answered 503");
            return Err(grove_engine::JobFailure::new("the upstream answered 503"));
        }
        if ctx.batch_size == 11 {
            // Lines at every level, progress, then a long pause: a page can
            // be compared live and reloaded while the run goes on.
            ctx.progress.set_total(4);
            ctx.log.info("started: 4 items to check");
            tokio::time::sleep(Duration::from_millis(300)).await;
            ctx.log.warn("item 1 was slow to answer");
            ctx.progress.add(1, 0);
            tokio::time::sleep(Duration::from_millis(300)).await;
            ctx.log.error("item 2 failed: 503 from the upstream");
            ctx.progress.add(1, 1);
            ctx.log.info("halfway: 2 of 4 items");
            tokio::time::sleep(Duration::from_secs(6)).await;
            ctx.progress.add(2, 0);
            ctx.log.info("done");
            return Ok(grove_engine::JobOutcome {
                processed: 4,
                total: Some(4),
                succeeded: 3,
                ..Default::default()
            });
        }
        if ctx.batch_size == 7 {
            ctx.log.info("fast check done");
            return Ok(grove_engine::JobOutcome {
                processed: 1,
                total: Some(1),
                succeeded: 1,
                ..Default::default()
            });
        }
        ctx.progress.set_total(5);
        for i in 1..=5 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            ctx.log.info(format!("batch {i} of 5 done"));
            ctx.progress.add(1, 0);
        }
        Ok(grove_engine::JobOutcome {
            processed: 5,
            total: Some(5),
            succeeded: 5,
            ..Default::default()
        })
    }
}

/// The app with a running engine whose every job type runs [`Paced`].
async fn app_with_engine() -> (TestApp, tokio_util::sync::CancellationToken) {
    let mut app = TestApp::seeded().await;
    let settings = grove_engine::EngineSettings {
        heartbeat: Duration::from_millis(200),
        ..grove_engine::EngineSettings::default()
    };
    let clock = std::sync::Arc::new(app.clock.clone());
    let engine = grove_engine::Engine::new(
        app.store.clone(),
        clock.clone(),
        grove_engine::HandlerRegistry::uniform(std::sync::Arc::new(Paced::default())),
        settings,
    );
    let handle = engine.handle();
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(engine.run(shutdown.clone()));
    app.router = grove_web::router(grove_web::AppState::new(app.store.clone(), clock, handle));
    (app, shutdown)
}

async fn create_job(app: &TestApp, id: &str, batch_size: u32) {
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(json!({
                "meta": {"id": id, "title": format!("Job {id}")},
                "payload": {
                    "jobType": "health-check",
                    "schedule": {"cronExpression": "0 2 * * *", "timezone": "UTC", "isEnabled": false},
                    "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 10, "maxDelaySeconds": 60},
                    "limits": {"batchSize": batch_size, "timeoutSeconds": 600, "maxConcurrent": 1},
                    "parameters": {"checks": ["database"], "alertThreshold": "error"}
                }
            })),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
}

/// Lets `data-confirm` buttons through without a dialog.
async fn confirm_everything(c: &Client) {
    c.execute("window.confirm = function () { return true; };", vec![])
        .await
        .expect("stub confirm");
}

/// Waits until the page's phase indicator shows `phase`.
async fn phase_becomes(c: &Client, phase: &str) {
    for _ in 0..200 {
        if let Ok(el) = c
            .find(Locator::Css(
                "[data-component=JobPhaseIndicator] .phase, [data-component=JobPhaseIndicator]",
            ))
            .await
        {
            let class = el.attr("class").await.ok().flatten().unwrap_or_default();
            let text = el.text().await.unwrap_or_default().to_lowercase();
            if class.contains(&format!("phase-{phase}")) || text.contains(phase) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the phase never became {phase}");
}

/// US-5: Run Now, then watch the run reach success live on its page.
/// US-3: open a failed run's logs from the history and retry it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_live_to_success_and_retry_a_failed_run_at_three_widths() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    for size in WIDTHS {
        let width = size.0;
        let (app, engine) = app_with_engine().await;
        create_job(&app, "paced", 10).await;
        create_job(&app, "flaky", 13).await;
        let base = serve(&app).await;
        let c = browser(&driver, size).await;
        login(&c, &base).await;

        // US-5
        c.goto(&format!("{base}/console/jobs/paced"))
            .await
            .expect("editor");
        confirm_everything(&c).await;
        let run = c
            .find(Locator::Css("button[formaction='/console/jobs/paced/run']"))
            .await
            .expect("Run Now");
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&run).expect("element")],
        )
        .await
        .expect("scroll");
        click_and_wait(&c, run).await;
        let url = c.current_url().await.expect("url");
        assert!(url.path().starts_with("/console/executions/"), "{url}");
        // Live: log lines arrive over server-sent events while it runs.
        c.wait()
            .for_element(Locator::Css(".log .log-line"))
            .await
            .expect("a live log line");
        shot(&c, "execution-live", width).await;
        phase_becomes(&c, "complete").await;
        let page = c.source().await.expect("source");
        assert!(page.contains("batch 5 of 5 done"), "the final log is shown");
        shot(&c, "execution-success", width).await;

        // US-3
        let failed = app.call(Method::POST, "/api/v1/jobs/flaky/run", None).await;
        assert_eq!(failed.status.as_u16(), 202, "{}", failed.text);
        let failed_id = failed.body["runId"].as_str().expect("runId").to_owned();
        for _ in 0..100 {
            let e = app.get(&format!("/api/v1/executions/{failed_id}")).await;
            if e.body["status"] == "failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        c.goto(&format!("{base}/console/jobs/flaky#status"))
            .await
            .expect("status tab");
        let logs = c
            .find(Locator::Css(&format!(
                "a[href='/console/executions/{failed_id}']"
            )))
            .await
            .expect("View Logs in the history");
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&logs).expect("element")],
        )
        .await
        .expect("scroll");
        click_and_wait(&c, logs).await;
        c.wait()
            .for_element(Locator::Css("[data-component=JobErrorAlert]"))
            .await
            .expect("the error");
        let page = c.source().await.expect("source");
        assert!(page.contains("the upstream answered 503"));
        shot(&c, "execution-failed", width).await;
        confirm_everything(&c).await;
        let retry = c
            .find(Locator::Css(
                "[data-component=JobErrorAlert] button[type=submit]",
            ))
            .await
            .expect("Retry");
        click_and_wait(&c, retry).await;
        let url = c.current_url().await.expect("url");
        assert!(
            !url.path().ends_with(&failed_id),
            "the retry is a new run: {url}"
        );
        phase_becomes(&c, "complete").await;
        let new_id = url.path().rsplit('/').next().expect("run id").to_owned();
        let e = app.get(&format!("/api/v1/executions/{new_id}")).await;
        assert_eq!(e.body["trigger"], "retry");
        assert_eq!(e.body["status"], "success");
        // The retry links to the run it retried; its phase says the
        // status's word.
        c.find(Locator::Css(&format!("a[data-retry-of='{failed_id}']")))
            .await
            .expect("a link to the retried run");
        assert_eq!(
            texts(&c, "[data-component=JobPhaseIndicator] .name").await,
            ["Success"]
        );

        c.close().await.expect("close");
        engine.cancel();
    }
}

/// Issue 13, problem 1: a run that ends before its page has connected to
/// the events stream (the stream then sends only a `snapshot` and closes)
/// still reaches its final state by itself. Ten Run Now in a row on a
/// fast job each show the final state within 3 s, with no reload by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_fast_runs_in_a_row_each_reach_their_final_state() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let (app, engine) = app_with_engine().await;
    create_job(&app, "fast", 7).await;
    let base = serve(&app).await;
    let c = browser(&driver, WIDTHS[0]).await;
    login(&c, &base).await;
    for i in 0..10 {
        c.goto(&format!("{base}/console/jobs/fast"))
            .await
            .expect("editor");
        confirm_everything(&c).await;
        let run = c
            .find(Locator::Css("button[formaction='/console/jobs/fast/run']"))
            .await
            .expect("Run Now");
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&run).expect("element")],
        )
        .await
        .expect("scroll");
        click_and_wait(&c, run).await;
        let started = std::time::Instant::now();
        let mut final_state = false;
        while started.elapsed() < Duration::from_secs(3) {
            let state: Value = c
                .execute(
                    "var p = document.querySelector('[data-component=JobPhaseIndicator]');
                     var l = document.querySelector('[data-events]');
                     return p && p.className.indexOf('phase-complete') >= 0 && !l;",
                    vec![],
                )
                .await
                .unwrap_or(Value::Bool(false));
            if state == Value::Bool(true) {
                final_state = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            final_state,
            "run {i} did not reach its final state within 3 s"
        );
        let page = c.source().await.expect("source");
        assert!(
            page.contains("fast check done"),
            "run {i}: the final log is shown"
        );
    }
    c.close().await.expect("close");
    engine.cancel();
}

/// What a run's page shows of the run: phase, progress text, metrics and
/// every log line as the operator reads it.
async fn run_page_text(c: &Client) -> Value {
    c.execute(
        "var t = function (s) { var e = document.querySelector(s); return e ? e.textContent.trim() : null; };
         return {
           phase: t('[data-component=JobPhaseIndicator] .name'),
           progress: t('.progress-text'),
           valuenow: (document.querySelector('[role=progressbar]') || {getAttribute: function () { return null; }}).getAttribute('aria-valuenow'),
           processed: t('[data-metric=processed] .value'),
           lines: Array.prototype.map.call(document.querySelectorAll('.log .log-line'), function (l) {
             return Array.prototype.map.call(l.children, function (s) { return s.textContent; }).join(' | ');
           }),
           emptyBoxes: Array.prototype.filter.call(document.querySelectorAll('.log'), function (l) {
             return l.children.length === 0 && l.offsetParent !== null;
           }).length
         };",
        vec![],
    )
    .await
    .expect("script")
}

/// Issue 13, problem 4: the live log tail equals the reloaded one — the
/// same lines in the same order, every time in the job's zone as the
/// server writes it ("3 Mar 14:05 CET"), the progress text with its
/// "items", and no empty log box before the first line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_log_tail_equals_the_reloaded_one() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let (app, engine) = app_with_engine().await;
    create_job(&app, "chatty", 11).await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/chatty",
            Some(json!({"payload": {"schedule": {"timezone": "Europe/Berlin"}}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let base = serve(&app).await;
    let c = browser(&driver, WIDTHS[0]).await;
    login(&c, &base).await;
    c.goto(&format!("{base}/console/jobs/chatty"))
        .await
        .expect("editor");
    confirm_everything(&c).await;
    let run = c
        .find(Locator::Css(
            "button[formaction='/console/jobs/chatty/run']",
        ))
        .await
        .expect("Run Now");
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&run).expect("element")],
    )
    .await
    .expect("scroll");
    click_and_wait(&c, run).await;
    let first = run_page_text(&c).await;
    assert_eq!(first["emptyBoxes"], 0, "no empty log box: {first}");
    let mut live = Value::Null;
    for _ in 0..100 {
        live = run_page_text(&c).await;
        if live["lines"].as_array().map_or(0, Vec::len) == 5
            && live["progress"]
                .as_str()
                .is_some_and(|p| p.starts_with("3 / 4 items"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        live["lines"].as_array().map_or(0, Vec::len),
        5,
        "the engine's first line and the job's four: {live}"
    );
    assert!(
        live["lines"][4]
            .as_str()
            .is_some_and(|l| l.ends_with("halfway: 2 of 4 items")),
        "in the order they were written: {live}"
    );
    assert!(
        live["progress"]
            .as_str()
            .is_some_and(|p| p.starts_with("3 / 4 items")),
        "{live}"
    );
    for line in live["lines"].as_array().expect("lines") {
        let line = line.as_str().unwrap_or("");
        assert!(
            line.contains(" CET | ") || line.contains(" CEST | "),
            "times name the job's zone as the server writes it: {line}"
        );
        let ts = line.split(" | ").next().unwrap_or("");
        assert!(
            ts.split(' ').count() == 4 && ts.contains(':') && !ts.contains('Z'),
            "one time format (\"1 Mar 13:00 CET\"), no raw timestamps: {line}"
        );
    }
    // Let the engine store what it has (it flushes with its heartbeat).
    tokio::time::sleep(Duration::from_millis(800)).await;
    c.refresh().await.expect("reload");
    c.wait()
        .for_element(Locator::Css("[data-events]"))
        .await
        .expect("still live after the reload");
    let reloaded = run_page_text(&c).await;
    assert_eq!(live, reloaded, "live and reloaded pages differ");
    let axe = audit::axe_source();
    let problems = audit::audit(&c, axe.as_deref(), "a live run", 1280).await;
    assert!(problems.is_empty(), "{problems:?}");
    phase_becomes(&c, "complete").await;
    c.close().await.expect("close");
    engine.cancel();
}

/// Issue 13, problem 2: between a failed attempt and the next one the run
/// is "Retrying" (an amber Warning) with the next attempt's number and
/// time and the failed attempt's error, on the run's page and the Status
/// tab.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_waiting_for_the_next_shows_retrying() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let (app, engine) = app_with_engine().await;
    create_job(&app, "flaky", 13).await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/flaky",
            Some(json!({"payload": {"retry": {"maxAttempts": 3, "initialDelaySeconds": 600, "maxDelaySeconds": 600}}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let base = serve(&app).await;
    let c = browser(&driver, WIDTHS[0]).await;
    login(&c, &base).await;
    let run = app.call(Method::POST, "/api/v1/jobs/flaky/run", None).await;
    assert_eq!(run.status.as_u16(), 202, "{}", run.text);
    let id = run.body["runId"].as_str().expect("runId").to_owned();
    c.goto(&format!("{base}/console/executions/{id}"))
        .await
        .expect("run page");
    // The page follows the run by itself into the Retrying state.
    phase_becomes(&c, "retrying").await;
    let text = c
        .find(Locator::Css("[data-component-part=retrying]"))
        .await
        .expect("the Retrying warning")
        .text()
        .await
        .expect("text");
    assert!(text.contains("attempt 2 of 3 at "), "{text}");
    assert!(text.contains("UTC"), "the time names its zone: {text}");
    assert!(text.contains("the upstream answered 503"), "{text}");
    let badge = c
        .find(Locator::Css("[data-run-status]"))
        .await
        .expect("badge")
        .text()
        .await
        .expect("text");
    assert_eq!(badge.trim(), "Retrying");
    let status = c
        .find(Locator::Css("[data-metric=status] .value"))
        .await
        .expect("status metric");
    assert_eq!(status.text().await.expect("text"), "Retrying");
    assert!(
        status
            .attr("class")
            .await
            .expect("class")
            .unwrap_or_default()
            .contains("c-amber")
    );
    shot(&c, "execution-retrying", 1280).await;
    let axe = audit::axe_source();
    let problems = audit::audit(&c, axe.as_deref(), "a retrying run", 1280).await;
    assert!(problems.is_empty(), "{problems:?}");
    c.goto(&format!("{base}/console/jobs/flaky#status"))
        .await
        .expect("status tab");
    let tab = c
        .find(Locator::Css("#status"))
        .await
        .expect("status")
        .text()
        .await
        .expect("text");
    assert!(tab.contains("Retrying"), "{tab}");
    // The card says so too, with the next attempt and the error.
    c.goto(&format!("{base}/console?type=job-config"))
        .await
        .expect("grid");
    let badge = texts(&c, "[data-id=flaky] .badge").await;
    assert_eq!(badge, ["Retrying"]);
    let facts = texts(&c, "[data-id=flaky] .facts").await.join(" ");
    assert!(facts.contains("Retrying (attempt 2 of 3 at "), "{facts}");
    assert!(facts.contains("the upstream answered 503"), "{facts}");
    assert!(!facts.contains("Last: Queued"), "{facts}");
    let axe = audit::axe_source();
    let problems = audit::audit(&c, axe.as_deref(), "grid with a retrying job", 1280).await;
    assert!(problems.is_empty(), "{problems:?}");
    c.close().await.expect("close");
    engine.cancel();
}

/// Issue 13, problem 8: a refused save moves focus to the error summary;
/// a cron expression that does not parse marks its field invalid while
/// typing. Problem 7: primary buttons and links reach 4.5:1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_save_focuses_the_summary_and_live_cron_errors_mark_the_field() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let app = TestApp::seeded().await;
    let base = serve(&app).await;
    let c = browser(&driver, WIDTHS[0]).await;
    login(&c, &base).await;
    c.goto(&format!("{base}/console/jobs/advancement-batch"))
        .await
        .expect("editor");
    set_field(&c, "f-payload-limits-batchSize", "0").await;
    save_changes(&c).await;
    let focused: Value = c
        .execute(
            "return document.activeElement && document.activeElement.id;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(focused, json!("errors"), "focus is on the error summary");
    set_field(&c, "cron", "not a cron").await;
    let mut invalid = Value::Null;
    for _ in 0..60 {
        invalid = c
            .execute(
                "var f = document.getElementById('cron');
                 return [f.getAttribute('aria-invalid'), f.closest('.field').classList.contains('invalid')];",
                vec![],
            )
            .await
            .expect("script");
        if invalid == json!(["true", true]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        invalid,
        json!(["true", true]),
        "the live cron error marks the field"
    );
    // Contrast of white on the primary button (WCAG AA, 4.5:1).
    let ratio: Value = c
        .execute(
            "function lum(c) { var m = c.match(/\\d+/g).slice(0, 3).map(Number).map(function (v) {
                 v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
               return 0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]; }
             var b = getComputedStyle(document.querySelector('.actions-bar .btn-primary'));
             var a = lum(b.color), z = lum(b.backgroundColor);
             return (Math.max(a, z) + 0.05) / (Math.min(a, z) + 0.05);",
            vec![],
        )
        .await
        .expect("script");
    assert!(
        ratio.as_f64().unwrap_or(0.0) >= 4.5,
        "Save Changes contrast {ratio}"
    );
    c.close().await.expect("close");
}

/// The texts of the elements `css` matches.
async fn texts(c: &Client, css: &str) -> Vec<String> {
    let v: Value = c
        .execute(
            "return Array.prototype.map.call(document.querySelectorAll(arguments[0]), function (e) { return e.textContent.trim(); });",
            vec![json!(css)],
        )
        .await
        .expect("script");
    serde_json::from_value(v).expect("strings")
}

/// Issue 13, problems 9 and 10: the digest form has one place for each
/// setting with a sentence saying which does what; the history chart runs
/// newest first like the table, with its longest time and a legend; 30 ms
/// is "30 ms"; "1 error"; an every-minute chip; errors name fields by
/// label; a new job says "Create job" and what comes next; the job types
/// say what they do; thresholds read "10"; conditions can be added and
/// removed; a finished phase says the status's word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smaller_things_an_operator_noticed() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let app = TestApp::seeded().await;
    history(&app).await;
    crate::common::record_run(
        &app.store,
        "notification-digest",
        &json!({"startedAt": "2026-03-01T11:30:00Z", "completedAt": "2026-03-01T11:30:00.030Z",
               "status": "success", "itemsProcessed": 3, "errors": 0,
               "runId": "0195a1c2-7e4f-7000-8000-0000000000aa", "error": null}),
    )
    .await;
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/health-check",
            Some(json!({"payload": {"schedule": {"cronExpression": "* * * * *"}}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/advancement-rule",
            Some(json!({"meta": {"id": "sprout-to-sapling", "title": "sprout → sapling"},
                        "payload": {"fromTier": "sprout", "toTier": "sapling", "match": "all",
                                    "conditions": [{"signal": "citations", "operator": ">=", "threshold": 10.0}]}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let base = serve(&app).await;
    let c = browser(&driver, WIDTHS[0]).await;
    login(&c, &base).await;

    // Problem 9: one place for each, each saying what it is for.
    c.goto(&format!("{base}/console/jobs/notification-digest"))
        .await
        .expect("digest editor");
    let labels = texts(&c, ".field > .label").await;
    for (label, n) in [
        ("Channels", 0),
        ("Webhook URL", 0),
        ("Digest Channels", 1),
        ("Alert Channels", 1),
        ("Digest Webhook URL", 1),
        ("Alert Webhook URL", 1),
        ("Title", 1),
        ("Display Name", 1),
    ] {
        assert_eq!(
            labels.iter().filter(|l| *l == label).count(),
            n,
            "{label}: {labels:?}"
        );
    }
    for id in [
        "f-payload-parameters-channels",
        "f-payload-notifications-channels",
        "f-meta-title",
        "f-payload-displayName",
    ] {
        let hint = texts(
            &c,
            &format!("[data-pointer] :is(#{id}-label, label[for={id}]) ~ .hint"),
        )
        .await;
        assert_eq!(hint.len(), 1, "{id} says what it is for");
    }
    // Problem 10: the chart, durations, "1 error".
    let head = texts(&c, ".chart-head span").await;
    assert_eq!(head, ["Duration, last 2 runs", "longest 25 s"], "{head:?}");
    assert_eq!(texts(&c, ".chart-axis span").await, ["newest", "older"]);
    assert_eq!(texts(&c, ".legend li").await.len(), 4);
    let bars = texts(&c, ".chart rect title").await;
    assert_eq!(bars, ["Success: 30 ms", "Success: 25 s"], "newest first");
    let durations = texts(&c, ".history td.opt").await;
    assert_eq!(durations, ["30 ms", "25 s"], "the table in the same order");
    c.goto(&format!("{base}/console/jobs/health-check"))
        .await
        .expect("health-check");
    let items = texts(&c, ".history tbody td:nth-child(3)").await;
    assert_eq!(items, ["2 (1 error)"]);
    // A one-word phase per state.
    c.goto(&format!(
        "{base}/console/executions/0195a1c2-7e4f-7000-8000-0000000000aa"
    ))
    .await
    .expect("run page");
    assert_eq!(
        texts(&c, "[data-component=JobPhaseIndicator] .name").await,
        ["Success"]
    );
    assert_eq!(texts(&c, "[data-metric=duration] .value").await, ["30 ms"]);
    // The every-minute chip.
    c.goto(&format!("{base}/console?type=job-config"))
        .await
        .expect("grid");
    let chip = texts(&c, "[data-id=health-check] .chip:first-child").await;
    assert_eq!(chip, ["1 minevery"], "{chip:?}");
    // An error names the field by its label.
    c.goto(&format!("{base}/console/jobs/advancement-batch"))
        .await
        .expect("editor");
    set_field(&c, "f-payload-retry-initialDelaySeconds", "600").await;
    set_field(&c, "f-payload-retry-maxDelaySeconds", "60").await;
    save_changes(&c).await;
    let errors = texts(&c, ".field-error").await.join(" ");
    assert!(errors.contains("“Max Delay”"), "{errors}");
    assert!(!errors.contains("maxDelaySeconds"), "{errors}");
    // A new job: the types say what they do; "Create job", a full page.
    c.goto(&format!("{base}/console/jobs/new"))
        .await
        .expect("picker");
    let what = texts(&c, ".picker a .what").await;
    assert_eq!(what.len(), 5);
    assert!(what.iter().all(|w| w.len() > 30), "{what:?}");
    c.goto(&format!("{base}/console/jobs/new?jobType=health-check"))
        .await
        .expect("new job");
    assert_eq!(texts(&c, ".actions-bar .btn-primary").await, ["Create job"]);
    let about = texts(&c, "#about").await.join(" ");
    assert!(
        about.contains("About health-check jobs") && about.contains("Checks the database"),
        "the other half says what the job does and what comes next: {about}"
    );
    // Thresholds read as written; conditions can be added and removed.
    c.goto(&format!("{base}/console/rules/sprout-to-sapling"))
        .await
        .expect("rule");
    let threshold = c
        .find(Locator::Id("ct0"))
        .await
        .expect("threshold")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(threshold.as_deref(), Some("10"));
    assert_eq!(texts(&c, ".cond-row").await.len(), 2);
    let add = c
        .find(Locator::Css(".cond-add"))
        .await
        .expect("Add condition");
    assert!(add.is_displayed().await.expect("shown"));
    add.click().await.expect("add");
    assert_eq!(texts(&c, ".cond-row").await.len(), 3);
    c.execute(
        "document.getElementById('cs2').value = 'retrievals'; document.getElementById('ct2').value = '7';",
        vec![],
    )
    .await
    .expect("fill the new row");
    let remove = c
        .find(Locator::Css(".cond-row[data-row='1'] .cond-remove"))
        .await
        .expect("Remove");
    remove.click().await.expect("remove the empty row");
    assert_eq!(texts(&c, ".cond-row").await.len(), 2);
    assert_eq!(
        texts(&c, "label[for=cs1]").await,
        ["Signal 2"],
        "labels follow the rows"
    );
    save_changes(&c).await;
    let conds = app
        .store
        .object_get("advancement-rule", "sprout-to-sapling")
        .await
        .expect("get")
        .expect("rule")
        .payload["conditions"]
        .clone();
    assert_eq!(
        conds,
        json!([{"signal": "citations", "operator": ">=", "threshold": 10.0},
               {"signal": "retrievals", "operator": ">=", "threshold": 7.0}])
    );
    c.close().await.expect("close");
}

/// The live preview follows the Schedule section's Exclude Calendars box:
/// ticking a calendar strikes its slots through, naming it, as the
/// scheduler will skip them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_preview_strikes_excluded_slots_through() {
    if !available() {
        return;
    }
    let driver = start_driver().await;
    let app = TestApp::seeded().await;
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/v1/objects/calendar",
            Some(json!({"meta": {"id": "holidays", "title": "Holidays"},
                        "payload": {"dates": ["2026-03-03"]}})),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.text);
    let base = serve(&app).await;
    let c = browser(&driver, WIDTHS[0]).await;
    login(&c, &base).await;
    c.goto(&format!("{base}/console/jobs/advancement-batch"))
        .await
        .expect("editor");
    // Now is Sun 1 Mar 2026 12:00 UTC; the job runs daily at 02:00.
    let tick = c
        .find(Locator::Css(
            "input[name='/payload/schedule/excludeCalendars'][value=holidays]",
        ))
        .await
        .expect("the holidays box");
    tick.click().await.expect("tick");
    let mut struck = Vec::new();
    for _ in 0..60 {
        struck = texts(&c, "#cron-preview li.excluded").await;
        if !struck.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        struck,
        ["Tue 3 Mar 2026, 02:00 UTC excluded by calendar holidays"],
        "the excluded slot, struck through"
    );
    let s = texts(&c, "#cron-preview li.excluded s").await;
    assert_eq!(s, ["Tue 3 Mar 2026, 02:00 UTC"]);
    let runs = texts(&c, "#cron-preview li:not(.excluded)").await;
    assert_eq!(runs.len(), 5, "{runs:?}");
    assert!(runs.iter().all(|r| !r.contains("3 Mar")), "{runs:?}");
    c.close().await.expect("close");
}
