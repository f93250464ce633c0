//! Every console page, audited in Chromium at the three widths: axe-core
//! (the npm package, installed at test time by `.ci/run`, never committed)
//! finds no violation of impact "serious" or "critical", and no page
//! scrolls sideways.
//!
//! The tests find `axe.min.js` through `GROVE_AXE_JS`, else at
//! `target/axe/node_modules/axe-core/axe.min.js` (where
//! `npm install --no-save --prefix target/axe axe-core` puts it). Without
//! it the axe checks fail when `CI` is set and are skipped with a note
//! otherwise; the width checks always run.

use std::path::PathBuf;

use axum::http::Method;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{WIDTHS, available, browser, history, login, serve, shot, start_driver};
use crate::common::{ADMIN, TestApp};

/// The axe-core script, if it is installed.
pub(super) fn axe_source() -> Option<String> {
    let path = std::env::var_os("GROVE_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/axe/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(src) => Some(src),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "axe-core is missing at {} ({e}): CI must run `npm install --no-save --prefix target/axe axe-core`",
                path.display()
            );
            eprintln!(
                "skipping the axe-core checks: {} is missing (npm install --no-save --prefix target/axe axe-core)",
                path.display()
            );
            None
        }
    }
}

/// Runs axe-core on the page; one line per serious or critical violation.
pub(super) async fn axe_violations(c: &Client, axe: &str) -> Vec<String> {
    c.execute(&format!("{axe}\nreturn typeof window.axe;"), vec![])
        .await
        .expect("inject axe-core");
    let result = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             window.axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
               done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) {
                   return v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 4).map(function (n) {
                     return n.target.join(' ') + ' (' + (n.failureSummary || '').replace(/\\s+/g, ' ') + ')';
                   }).join('; ');
                 }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("run axe-core");
    result
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `Some(description)` when the page is wider than the window: its width
/// and the outermost elements that stick out on the right.
pub(super) async fn sideways(c: &Client) -> Option<String> {
    let v: Value = c
        .execute(
            "var d = document.documentElement, w = d.clientWidth;
             if (d.scrollWidth <= w) { return null; }
             var out = [];
             document.querySelectorAll('body *').forEach(function (e) {
               var r = e.getBoundingClientRect();
               if (r.right > w + 1 && r.width > 0 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1)) {
                 out.push((e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '')) + ' to ' + Math.round(r.right));
               }
             });
             return d.scrollWidth + ' px wide in ' + w + ': ' + out.slice(0, 6).join(', ');",
            vec![],
        )
        .await
        .expect("measure");
    v.as_str().map(str::to_owned)
}

/// Text that is cut or broken: a filter pill, a nav link or a timeline
/// name that does not fit (sticks out of the window or of its own box), a
/// Run ID broken over two lines, and a header of more than one row from
/// 800 px up.
pub(super) async fn cut(c: &Client) -> Vec<String> {
    let v: Value = c
        .execute(
            r#"var w = document.documentElement.clientWidth, out = [];
             document.querySelectorAll('.filter, .nav a, .tl-name, .tl-name a, .card-title, .metric .label, .tabs a')
               .forEach(function (e) {
                 if (e.offsetParent === null) { return; }
                 var r = e.getBoundingClientRect();
                 if (r.right > w + 1 || r.left < -1 || e.scrollWidth > e.clientWidth + 1) {
                   out.push('cut: ' + e.className + ' "' + e.textContent.trim() + '"');
                 }
               });
             document.querySelectorAll('[data-metric="run id"] .value, h1 code').forEach(function (e) {
               var lh = parseFloat(getComputedStyle(e).lineHeight) || 24;
               if (e.getBoundingClientRect().height > lh * 1.5) {
                 out.push('wraps: the Run ID "' + e.textContent.trim() + '"');
               }
             });
             var bar = document.querySelector('.topbar');
             if (bar && w >= 800 && bar.getBoundingClientRect().height > 64) {
               out.push('the header takes ' + Math.round(bar.getBoundingClientRect().height) + ' px (more than one row)');
             }
             return out;"#,
            vec![],
        )
        .await
        .expect("measure");
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every check on the page shown; one line per problem.
pub(super) async fn audit(c: &Client, axe: Option<&str>, name: &str, width: u32) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(s) = sideways(c).await {
        problems.push(format!("{name} at {width}: scrolls sideways, {s}"));
    }
    for v in cut(c).await {
        problems.push(format!("{name} at {width}: {v}"));
    }
    if let Some(axe) = axe {
        for v in axe_violations(c, axe).await {
            problems.push(format!("{name} at {width}: {v}"));
        }
    }
    problems
}

/// Signs in with `token`.
async fn login_as(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/console/login"))
        .await
        .expect("login page");
    c.find(Locator::Id("token"))
        .await
        .expect("token field")
        .send_keys(token)
        .await
        .expect("type");
    let button = c
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("button");
    super::click_and_wait(c, button).await;
}

/// The pages an operator meets, signed in: (name for screenshots, path,
/// an element that shows the page is ready).
const PAGES: &[(&str, &str, &str)] = &[
    ("grid", "/console", ".grid"),
    ("grid-jobs", "/console?type=job-config", ".grid"),
    ("editor", "/console/jobs/advancement-batch", "#cron"),
    (
        "editor-digest",
        "/console/jobs/notification-digest",
        "#cron",
    ),
    ("status", "/console/jobs/health-check#status", "#status"),
    ("new-job", "/console/jobs/new", ".picker"),
    (
        "new-job-form",
        "/console/jobs/new?jobType=health-check",
        "#cron",
    ),
    (
        "execution",
        "/console/executions/0195a1c2-7e4f-7000-8000-000000000001",
        "[data-component=JobErrorAlert]",
    ),
    (
        "timeline",
        "/console/timeline?tz=America/Los_Angeles",
        ".tl-mark",
    ),
    (
        "revisions",
        "/console/jobs/health-check/revisions?diff=1#diff",
        ".diff .add",
    ),
    ("rule", "/console/rules/seed-to-sprout", ".cond-row"),
    ("calendar", "/console/calendars/quiet-hours", "main h1"),
    ("new-calendar", "/console/calendars/new", "main h1"),
    ("grid-calendars", "/console?type=calendar", ".grid"),
    ("new-rule", "/console/rules/new", ".cond-row"),
];

/// Issue 13, problems 6 and 7: axe-core on every page at 1280, 800 and
/// 390 px finds nothing serious or critical, nothing scrolls sideways and
/// nothing is cut — for an operator, and for an admin's extra pages.
/// Screenshots of every page go to `target/screenshots/page-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_fits_its_width() {
    if !available() {
        return;
    }
    let axe = axe_source();
    let driver = start_driver().await;
    let app = TestApp::seeded().await;
    history(&app).await;
    // A calendar that a job excludes: its card, its editor, and struck
    // slots on the timeline and in the editor's preview.
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/calendar",
            Some(json!({"meta": {"id": "quiet-hours", "title": "Quiet hours"},
                        "payload": {"weekly": [{"days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"], "from": "14:00", "to": "15:00"}]}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/health-check",
            Some(json!({"payload": {"schedule": {"excludeCalendars": ["quiet-hours"]}}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let base = serve(&app).await;
    let mut problems = Vec::new();
    for size in WIDTHS {
        let width = size.0;
        let c = browser(&driver, size).await;
        c.goto(&format!("{base}/console/login"))
            .await
            .expect("login page");
        c.wait()
            .for_element(Locator::Id("token"))
            .await
            .expect("token field");
        shot(&c, "page-login", width).await;
        problems.extend(audit(&c, axe.as_deref(), "login", width).await);
        login(&c, &base).await;
        for (name, path, ready) in PAGES {
            c.goto(&format!("{base}{path}")).await.expect(name);
            c.wait()
                .for_element(Locator::Css(ready))
                .await
                .unwrap_or_else(|e| panic!("{name} at {width}: {ready} never appeared: {e}"));
            shot(&c, &format!("page-{name}"), width).await;
            problems.extend(audit(&c, axe.as_deref(), name, width).await);
        }
        c.close().await.expect("close");
        // An admin has one more menu entry and two more pages.
        let c = browser(&driver, size).await;
        login_as(&c, &base, ADMIN).await;
        for (name, path) in [
            ("admin grid", "/console"),
            ("tokens", "/console/tokens"),
            ("audit", "/console/audit"),
        ] {
            c.goto(&format!("{base}{path}")).await.expect(name);
            c.wait()
                .for_element(Locator::Css("main h1"))
                .await
                .expect("a heading");
            shot(&c, &format!("page-{}", name.replace(' ', "-")), width).await;
            problems.extend(audit(&c, axe.as_deref(), name, width).await);
        }
        c.close().await.expect("close");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
