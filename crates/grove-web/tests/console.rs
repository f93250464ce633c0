//! The operator console through `router(state)`, in process: every page,
//! every form post, validation at the right field, CSRF and role refusals.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use grove_core::registry::JOB_CONFIG;
use grove_web::console::session::csrf_token;
use serde_json::{Value, json};

use crate::common::{OPERATOR, Reply, TestApp, VIEWER};

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A browser-like session: the cookie, and the CSRF token forms carry.
pub(crate) struct Session<'a> {
    app: &'a TestApp,
    /// The session id the cookie carries.
    secret: String,
}

impl<'a> Session<'a> {
    /// Signs in with `token`; a token that is refused is sent as the
    /// cookie as it is (a bad cookie).
    pub(crate) async fn new(app: &'a TestApp, token: &str) -> Self {
        let secret = app.sign_in(token).await.unwrap_or_else(|| token.to_owned());
        Self { app, secret }
    }

    fn csrf(&self) -> String {
        csrf_token(&self.secret)
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        let req = Request::builder()
            .uri(path)
            .header("cookie", format!("grove_session={}", self.secret))
            .body(Body::empty())
            .unwrap();
        self.app.send(req).await
    }

    /// Posts a form with this session's CSRF token added.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("cookie", format!("grove_session={}", self.secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form_body(fields)))
            .unwrap();
        self.app.send(req).await
    }
}

pub(crate) fn location(r: &Reply) -> &str {
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The editor form of the seeded advancement-batch job, with overrides.
fn advancement_form<'a>(
    version: &'a str,
    overrides: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = vec![
        ("version", version),
        ("jobType", "advancement-batch"),
        ("/meta/title", "Daily Advancement"),
        ("/payload/displayName", "Daily Advancement"),
        ("/meta/description", ""),
        ("/payload/schedule/cronExpression", "0 2 * * *"),
        ("/payload/schedule/timezone", "UTC"),
        ("/payload/schedule/isEnabled", "true"),
        ("/payload/schedule/misfirePolicy", "run-once"),
        ("/payload/schedule/startingDeadlineSeconds", "3600"),
        ("/payload/schedule/dstPolicy", "cron"),
        ("/payload/schedule/overlapPolicy", "skip"),
        ("/payload/schedule/autoDisableAfterFailures", "5"),
        ("/payload/limits/batchSize", "100"),
        ("/payload/limits/timeoutSeconds", "3600"),
        ("/payload/limits/maxConcurrent", "1"),
        ("/payload/retry/maxAttempts", "3"),
        ("/payload/retry/backoffStrategy", "exponential"),
        ("/payload/retry/initialDelaySeconds", "60"),
        ("/payload/retry/maxDelaySeconds", "3600"),
        ("/payload/parameters/signalPeriod", "all_time"),
        ("/payload/parameters/lifecycleModelId", ""),
        ("/payload/notifications/onFailure", "true"),
        ("/payload/notifications/channels", "log"),
    ];
    for (k, v) in overrides {
        f.retain(|(fk, _)| fk != k);
        if !v.is_empty() || k.starts_with("/payload/schedule/cronExpression") {
            f.push((k, v));
        }
    }
    f
}

async fn stored(app: &TestApp, id: &str) -> Value {
    let o = app.store.object_get(JOB_CONFIG, id).await.unwrap().unwrap();
    json!({"meta": o.meta, "payload": o.payload})
}

/// The HTML of the form field editing `pointer` (up to the next field).
pub(crate) fn field_html<'a>(html: &'a str, pointer: &str) -> &'a str {
    let marker = format!("data-pointer=\"{pointer}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {pointer}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("data-pointer=")
        .map(|i| i + 1)
        .unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test]
async fn root_redirects_and_pages_need_a_session() {
    let app = TestApp::seeded().await;
    let r = app.get_anonymous("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console");
    let r = app.get_anonymous("/console/jobs/advancement-batch").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/console/login?next=/console/jobs/advancement-batch"
    );
    let r = app.get_anonymous("/console/login").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("name=\"token\""));
    // A bad cookie is cleared and sent to the login page.
    let r = Session::new(&app, "gj_not_a_token")
        .await
        .get("/console")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_logout_clears_it() {
    let app = TestApp::seeded().await;
    let body = form_body(&[("token", "gj_wrong"), ("next", "/console")]);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("That token is not valid"));

    let body = form_body(&[("token", OPERATOR), ("next", "/console/timeline")]);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/timeline");
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    // The cookie holds a session id of its own, never the token.
    assert!(cookie.starts_with("grove_session="), "{cookie}");
    assert!(!cookie.contains(OPERATOR), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
            && cookie.contains("Max-Age=604800")
            && !cookie.contains("Secure"),
        "{cookie}"
    );

    // Only console paths are followed after login.
    let body = form_body(&[("token", OPERATOR), ("next", "https://evil.example/")]);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(location(&app.send(req).await), "/console");

    let s = Session::new(&app, OPERATOR).await;
    // Logging out needs the CSRF token.
    let r = s.post_raw("/console/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.get("/console").await.status, StatusCode::OK);
    let r = s.post("/console/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The session is over on the server, not only forgotten by the browser.
    let r = s.get("/console").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/console/login"));
}

#[tokio::test]
async fn grid_shows_cards_filters_metrics_and_search() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.get("/console").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let html = &r.text;
    assert!(html.contains("card card--job-config"));
    assert!(html.contains("Daily Advancement"));
    assert!(html.contains("Next: "));
    assert!(html.contains("Run Now") && html.contains("Configure"));
    assert!(
        html.contains("Job Configurations<span class=\"count\">5</span>"),
        "{html}"
    );
    assert!(html.contains("data-metric=\"job-config.enabled\""));
    assert!(html.contains("data-metric=\"job-config.failed\""));
    // Search narrows the cards.
    let r = s.get("/console?type=job-config&q=health").await;
    assert_eq!(r.text.matches("card card--job-config").count(), 1);
    assert!(r.text.contains("System Health Check"));
    // Sorting by any registry option works.
    for sort in ["last+run", "schedule", "name"] {
        let r = s.get(&format!("/console?sort={sort}")).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // Pages also accept the API's bearer header.
    let r = app
        .call_as(
            Method::GET,
            "/console?type=advancement-rule",
            None,
            Some(VIEWER),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("New job"), "viewers get no create buttons");
}

#[tokio::test]
async fn editor_has_a_labelled_control_for_every_field() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.get("/console/jobs/advancement-batch").await;
    assert_eq!(r.status, StatusCode::OK);
    for label in [
        "Cron Expression",
        "Timezone",
        "Schedule Active",
        "Batch Size",
        "Timeout (sec)",
        "Max Concurrent",
        "Max Attempts",
        "Strategy",
        "Initial Delay",
        "Max Delay",
        "Signal Period",
        "From Tiers",
        "Missed Runs",
        "Starting Deadline",
        "Daylight Saving",
        "Overlapping Runs",
        "Auto-disable After",
        "On Failure",
        "Save Changes",
        "Duplicate",
        "Run Now",
        "Delete",
        "Configuration",
        "Status",
        "Cron expression help",
        "Next 5 runs",
    ] {
        assert!(r.text.contains(label), "missing {label}");
    }
    assert!(r.text.contains("<datalist id=\"tz-list\">"));
    assert!(r.text.contains("value=\"America/Los_Angeles\""));
    assert!(r.text.contains(&s.csrf()));
    // Every job type's parameters.
    for (t, label) in [
        ("signal-aggregation", "Periods"),
        ("notification-digest", "Recipients"),
        ("orphan-cleanup", "Orphan Threshold"),
        ("health-check", "Alert Threshold"),
    ] {
        let r = s.get(&format!("/console/jobs/{t}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains(label), "{t}: {label}");
    }
    let r = s.get("/console/jobs/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn saving_the_cron_says_schedule_updated() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let f = advancement_form(
        "1",
        &[
            ("/payload/schedule/cronExpression", "0 3 * * *"),
            ("/payload/limits/batchSize", "50"),
        ],
    );
    let r = s.post("/console/jobs/advancement-batch", &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        location(&r),
        "/console/jobs/advancement-batch?notice=saved&v=2&schedule=changed"
    );
    let v = stored(&app, "advancement-batch").await;
    assert_eq!(v["payload"]["schedule"]["cronExpression"], "0 3 * * *");
    assert_eq!(v["payload"]["limits"]["batchSize"], 50);
    assert_eq!(v["meta"]["version"], 2);
    assert_eq!(v["meta"]["updatedBy"], "ops");
    let r = s.get(location(&r)).await;
    assert!(
        r.text
            .contains("Saved — version 2. Schedule updated: next run "),
        "{}",
        r.text
    );
    // A save that leaves the schedule alone says only what was saved.
    let f = advancement_form(
        "2",
        &[
            ("/payload/schedule/cronExpression", "0 3 * * *"),
            ("/payload/limits/batchSize", "60"),
        ],
    );
    let r = s.post("/console/jobs/advancement-batch", &f).await;
    assert_eq!(
        location(&r),
        "/console/jobs/advancement-batch?notice=saved&v=3"
    );
    let r = s.get(location(&r)).await;
    assert!(r.text.contains("Saved — version 3</p>"), "{}", r.text);
    assert!(!r.text.contains("Schedule updated"));
}

#[tokio::test]
async fn validation_problems_show_at_their_fields_and_keep_the_input() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let f = advancement_form(
        "1",
        &[
            ("/payload/schedule/cronExpression", "bogus cron"),
            ("/payload/schedule/timezone", "Mars/Olympus"),
            ("/payload/limits/batchSize", "0"),
            ("/payload/retry/initialDelaySeconds", "5000"),
        ],
    );
    let r = s.post("/console/jobs/advancement-batch", &f).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &r.text;
    assert!(html.contains("4 problems to fix before saving"), "{html}");
    let cron = field_html(html, "/payload/schedule/cronExpression");
    assert!(
        cron.contains("field-error") && cron.contains("value=\"bogus cron\""),
        "{cron}"
    );
    assert!(field_html(html, "/payload/schedule/timezone").contains("unknown time zone"));
    assert!(field_html(html, "/payload/limits/batchSize").contains("field-error"));
    assert!(
        field_html(html, "/payload/retry/initialDelaySeconds")
            .contains("must not be greater than “Max Delay”")
    );
    assert!(!field_html(html, "/payload/limits/timeoutSeconds").contains("field-error"));
    // Nothing was saved.
    assert_eq!(
        stored(&app, "advancement-batch").await["meta"]["version"],
        1
    );
}

#[tokio::test]
async fn a_stale_form_gets_the_conflict_message_with_the_newer_version() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s
        .post(
            "/console/jobs/advancement-batch",
            &advancement_form("1", &[("/payload/limits/batchSize", "80")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = s
        .post(
            "/console/jobs/advancement-batch",
            &advancement_form("1", &[("/payload/limits/batchSize", "70")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text
            .contains("it is now at version 2; you edited version 1"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("value=\"70\""),
        "the operator's edit stays in the form"
    );
    assert_eq!(
        stored(&app, "advancement-batch").await["payload"]["limits"]["batchSize"],
        80
    );
}

#[tokio::test]
async fn posts_without_the_csrf_token_or_by_viewers_are_refused() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let f = advancement_form("1", &[("/payload/limits/batchSize", "10")]);
    let r = s.post_raw("/console/jobs/advancement-batch", &f).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("This form has expired"));
    let mut wrong = f.clone();
    wrong.push(("_csrf", "0000"));
    assert_eq!(
        s.post_raw("/console/jobs/advancement-batch", &wrong)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for path in [
        "/console/jobs/advancement-batch/enabled",
        "/console/jobs/advancement-batch/delete",
        "/console/jobs/advancement-batch/duplicate",
    ] {
        assert_eq!(
            s.post_raw(path, &[("version", "1")]).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let viewer = Session::new(&app, VIEWER).await;
    let r = viewer.post("/console/jobs/advancement-batch", &f).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("Operators only"));
    // Viewers see the editor read-only.
    let r = viewer.get("/console/jobs/advancement-batch").await;
    assert!(r.text.contains("<fieldset class=\"section\" disabled"));
    assert!(!r.text.contains("Save Changes"));
    assert_eq!(
        stored(&app, "advancement-batch").await["meta"]["version"],
        1
    );
}

#[tokio::test]
async fn the_enabled_switch_disables_a_job_and_the_card_says_disabled() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s
        .post(
            "/console/jobs/advancement-batch/enabled",
            &[("version", "1"), ("enabled", "false")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/console?type=job-config&notice=disabled&item=advancement-batch#card-advancement-batch"
    );
    assert_eq!(
        stored(&app, "advancement-batch").await["payload"]["schedule"]["isEnabled"],
        false
    );
    let r = s.get("/console?type=job-config&q=advancement").await;
    assert!(r.text.contains("data-status=\"Disabled\""), "{}", r.text);
    assert!(r.text.contains("— (schedule off)"));
    // A stale switch is refused.
    let r = s
        .post(
            "/console/jobs/advancement-batch/enabled",
            &[("version", "1"), ("enabled", "true")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn create_duplicate_and_delete_a_job() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.get("/console/jobs/new").await;
    assert!(r.text.contains("/console/jobs/new?jobType=health-check"));
    let r = s.get("/console/jobs/new?jobType=health-check").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("action=\"/console/jobs\""));
    let f: Vec<(&str, &str)> = vec![
        ("jobType", "health-check"),
        ("version", "0"),
        ("/meta/id", ""),
        ("/meta/title", "Night Health"),
        ("/payload/displayName", "Night Health"),
        ("/payload/schedule/cronExpression", "0 1 * * *"),
        ("/payload/schedule/timezone", "Europe/Berlin"),
        ("/payload/limits/batchSize", "10"),
        ("/payload/limits/timeoutSeconds", "60"),
        ("/payload/limits/maxConcurrent", "1"),
        ("/payload/retry/maxAttempts", "1"),
        ("/payload/retry/backoffStrategy", "fixed"),
        ("/payload/retry/initialDelaySeconds", "0"),
        ("/payload/retry/maxDelaySeconds", "0"),
        ("/payload/parameters/checks", "database"),
        ("/payload/parameters/checks", "api"),
        ("/payload/parameters/alertThreshold", "error"),
    ];
    let r = s.post("/console/jobs", &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(location(&r), "/console/jobs/night-health?notice=created");
    let v = stored(&app, "night-health").await;
    assert_eq!(
        v["payload"]["parameters"]["checks"],
        json!(["database", "api"])
    );
    assert_eq!(v["payload"]["schedule"]["isEnabled"], false);
    // Invalid create: errors at the field, nothing stored.
    let mut bad = f.clone();
    bad.retain(|(k, _)| *k != "/payload/parameters/checks");
    bad.retain(|(k, _)| *k != "/meta/title");
    bad.push(("/meta/title", "Other"));
    let r = s.post("/console/jobs", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        field_html(&r.text, "/payload/parameters/checks").contains("must list at least one value")
    );

    let r = s
        .post("/console/jobs/night-health/duplicate", &[("version", "1")])
        .await;
    assert_eq!(
        location(&r),
        "/console/jobs/night-health-copy?notice=duplicated"
    );
    let r = s.get("/console/jobs/night-health/delete").await;
    assert!(r.text.contains("Delete permanently"));
    let r = s
        .post("/console/jobs/night-health/delete", &[("version", "1")])
        .await;
    assert_eq!(location(&r), "/console?type=job-config&notice=deleted");
    assert!(
        app.store
            .object_get(JOB_CONFIG, "night-health")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn run_now_without_an_engine_says_so() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.post("/console/jobs/advancement-batch/run", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = s.get(location(&r)).await;
    assert!(r.text.contains("Run Now and Retry are not available"));
}

#[tokio::test]
async fn status_tab_and_execution_page_render_through_json_render() {
    let app = TestApp::seeded().await;
    crate::common::record_run(
        &app.store,
        "advancement-batch",
        &json!({"startedAt": "2026-03-01T02:00:00Z", "completedAt": "2026-03-01T02:00:23Z", "status": "failed",
               "itemsProcessed": 142, "errors": 3, "runId": "0192f0aa-run-1", "error": "timeout after 300 s", "consecutiveFailures": 1}),
    )
    .await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.get("/console/jobs/advancement-batch").await;
    for c in [
        "JobPhaseIndicator",
        "JobProgressBar",
        "JobMetricRow",
        "JobErrorAlert",
        "NextRunCountdown",
    ] {
        assert!(r.text.contains(&format!("data-component=\"{c}\"")), "{c}");
    }
    assert!(r.text.contains("timeout after 300 s"));
    assert!(
        r.text.contains("View Logs") && r.text.contains("/console/executions/0192f0aa-run-1/retry")
    );
    assert!(r.text.contains("data-status=\"Failed\""));
    let r = s.get("/console").await;
    assert!(
        r.text.contains("Failed (142 processed, 23 s)"),
        "{}",
        r.text
    );
    let r = s.get("/console/executions/0192f0aa-run-1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-render=\"json-render\"") && r.text.contains("Retry"));
    assert_eq!(
        s.get("/console/executions/nope").await.status,
        StatusCode::NOT_FOUND
    );
    let r = s
        .post("/console/executions/0192f0aa-run-1/retry", &[])
        .await;
    assert_eq!(
        location(&r),
        "/console/jobs/advancement-batch?notice=engine-unavailable"
    );
}

#[tokio::test]
async fn rules_editor_creates_saves_and_validates_conditions() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.get("/console/rules/new").await;
    assert!(r.text.contains("From Tier") && r.text.contains("cond.signal"));
    let f: Vec<(&str, &str)> = vec![
        ("version", "0"),
        ("/meta/id", ""),
        ("/meta/title", "Seed to Sprout"),
        ("/meta/description", ""),
        ("/payload/fromTier", "seed"),
        ("/payload/toTier", "sprout"),
        ("/payload/match", "all"),
        ("/payload/isEnabled", "true"),
        ("cond.signal", "retrievals"),
        ("cond.operator", ">="),
        ("cond.threshold", "10"),
        ("cond.signal", "citations"),
        ("cond.operator", ">="),
        ("cond.threshold", "5"),
        ("cond.signal", ""),
        ("cond.operator", ">="),
        ("cond.threshold", ""),
    ];
    let r = s.post("/console/rules", &f).await;
    assert_eq!(
        location(&r),
        "/console/rules/seed-to-sprout?notice=created",
        "{}",
        r.text
    );
    let o = app
        .store
        .object_get("advancement-rule", "seed-to-sprout")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.payload["conditions"].as_array().unwrap().len(), 2);
    let r = s.get("/console").await;
    assert!(r.text.contains("card card--advancement-rule") && r.text.contains("retrievals ≥ 10"));
    // to below from, and a bad threshold.
    let mut bad = f.clone();
    bad.retain(|(k, _)| *k != "/payload/toTier" && *k != "cond.threshold");
    bad.extend([
        ("/payload/toTier", "seed"),
        ("cond.threshold", "-1"),
        ("cond.threshold", "5"),
        ("cond.threshold", ""),
    ]);
    let r = s
        .post(
            "/console/rules/seed-to-sprout",
            &[&[("version", "1")][..], &bad[1..]].concat(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_html(&r.text, "/payload/toTier").contains("must be a tier above"));
    assert!(r.text.contains("condition 1"));
    let r = s
        .post(
            "/console/rules/seed-to-sprout/enabled",
            &[("version", "1"), ("enabled", "false")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/console?type=advancement-rule&notice=disabled&item=seed-to-sprout#card-seed-to-sprout"
    );
    let r = s
        .post(
            "/console/rules/seed-to-sprout",
            &[&[("version", "2")][..], &f[1..]].concat(),
        )
        .await;
    assert_eq!(
        location(&r),
        "/console/rules/seed-to-sprout?notice=rule-saved&v=3"
    );
}

#[tokio::test]
async fn revisions_show_who_and_when_diff_and_restore() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    s.post(
        "/console/jobs/advancement-batch",
        &advancement_form("1", &[("/payload/limits/batchSize", "50")]),
    )
    .await;
    let r = s
        .get("/console/jobs/advancement-batch/revisions?diff=1")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("v2 (current)") && r.text.contains("ops") && r.text.contains("seed"));
    assert!(
        r.text
            .contains("<div class=\"del\">-       &quot;batchSize&quot;: 100,</div>"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("<div class=\"add\">+       &quot;batchSize&quot;: 50,</div>")
    );
    let r = s
        .post(
            "/console/jobs/advancement-batch/revisions/1/restore",
            &[("version", "2")],
        )
        .await;
    assert_eq!(
        location(&r),
        "/console/jobs/advancement-batch?notice=restored"
    );
    let v = stored(&app, "advancement-batch").await;
    assert_eq!(
        (
            v["meta"]["version"].as_i64(),
            v["payload"]["limits"]["batchSize"].as_i64()
        ),
        (Some(3), Some(100))
    );
    assert_eq!(
        s.get("/console/widgets/x/revisions").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn timeline_draws_the_next_24_hours_in_the_chosen_zone() {
    let app = TestApp::seeded().await;
    let s = Session::new(&app, OPERATOR).await;
    let r = s.get("/console/timeline?tz=America/Los_Angeles").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("tl-mark"));
    assert!(r.text.contains("Times in America/Los_Angeles."));
    assert!(r.text.contains("PST"), "times name their zone");
    let r = s.get("/console/timeline?tz=Nowhere/Else").await;
    assert!(r.text.contains("Times in UTC."));
}

#[tokio::test]
async fn assets_and_the_render_catalog() {
    let app = TestApp::new().await;
    let r = app.get("/console/assets/console.css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(r.text.contains("#E65100") && r.text.contains("#1976D2"));
    let r = app.get("/console/assets/console.js").await;
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        app.get("/console/assets/other.js").await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get("/api/v1/render/catalog").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["components"].as_object().unwrap().len(), 6);
    assert_eq!(
        r.body["components"]["JobErrorAlert"]["props"]["required"],
        json!(["error", "retryable"])
    );
}

#[test]
fn every_catalog_component_has_exactly_one_renderer() {
    use grove_core::render::{COMPONENTS, catalog};
    use grove_web::console::render::REGISTRY;
    let names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, COMPONENTS);
    let schemas = catalog();
    for name in COMPONENTS {
        assert!(schemas["components"][*name]["props"].is_object(), "{name}");
    }
}

#[tokio::test]
async fn operator_text_is_escaped_everywhere() {
    let app = TestApp::seeded().await;
    let evil = "<script>alert(1)</script>";
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/health-check",
            Some(json!({"meta": {"title": evil, "description": evil}, "payload": {"displayName": evil}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = Session::new(&app, OPERATOR).await;
    for path in [
        "/console",
        "/console/jobs/health-check",
        "/console/jobs/health-check/revisions?diff=1",
        "/console/timeline",
    ] {
        let r = s.get(path).await;
        assert!(!r.text.contains(evil), "{path}");
    }
    assert!(
        s.get("/console")
            .await
            .text
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
}
