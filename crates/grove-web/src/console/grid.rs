//! `/console`: a card per object, filter tabs by type with counts, search,
//! sort and the registry's metrics.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use grove_app::objects::ObjectQuery;
use grove_core::advancement_rule::AdvancementRulePayload;
use grove_core::calendar::CalendarPayload;
use grove_core::job_config::{JobConfigPayload, RunStatus};
use grove_core::plan::Calendars;
use grove_core::registry::{self, ADVANCEMENT_RULE, CALENDAR, JOB_CONFIG, TypeDef};
use grove_core::render::{ExecutionView, format_duration};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::execution::{is_running, legacy_configuration_in_use, recent_executions};
use super::form::{choice_label, csrf_input};
use super::layout::{self, Icon, Nav, health_badge, when, zone};
use super::session::{ConsoleUser, refusal};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct GridQuery {
    #[serde(rename = "type")]
    type_id: Option<String>,
    q: Option<String>,
    /// A sort option's label in lower case: "last run", "schedule", "name".
    sort: Option<String>,
    notice: Option<String>,
    /// The object a notice is about (the card's switch): its card shows it.
    item: Option<String>,
}

/// The sort field for a type, by label; name when the type lacks it.
fn sort_field(def: &TypeDef, sort: &str) -> String {
    def.sort_options
        .iter()
        .find(|s| s.label.eq_ignore_ascii_case(sort))
        .map(|s| s.field)
        .unwrap_or("meta.title")
        .to_owned()
}

/// `GET /console`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<GridQuery>,
) -> Response {
    match render(&state, &user, query).await {
        Ok(m) => m.into_response(),
        Err(e) => refusal(e.status(), "Error", &e.to_string()),
    }
}

struct TypeList {
    def: &'static TypeDef,
    items: Vec<Value>,
    metrics: Vec<Value>,
}

async fn render(
    state: &AppState,
    user: &ConsoleUser,
    query: GridQuery,
) -> Result<Markup, crate::ApiError> {
    let selected = query
        .type_id
        .as_deref()
        .filter(|t| registry::find(t).is_some());
    let sort = query.sort.clone().unwrap_or_else(|| "name".to_owned());
    let q = query.q.clone().unwrap_or_default();
    let mut lists = Vec::new();
    for def in registry::TYPES {
        let mut params = vec![
            ("sort".to_owned(), sort_field(def, &sort)),
            ("limit".to_owned(), "500".to_owned()),
        ];
        if !q.trim().is_empty() {
            params.push(("q".to_owned(), q.clone()));
        }
        let items = state
            .app
            .list(def, &ObjectQuery::parse(&params)?)
            .await?
            .documents();
        let metrics = state.app.metrics(def).await?.metrics;
        lists.push(TypeList {
            def,
            items,
            metrics,
        });
    }
    let now = state.clock.now();
    let calendars = state.app.calendars().await.unwrap_or_default();
    // A switch's notice shows on its card, which the page is anchored to.
    let switched = match query.notice.as_deref() {
        Some(code @ ("enabled" | "disabled")) => query.item.as_deref().map(|i| (i, code)),
        _ => None,
    };
    let card_notice = |id: &str| switched.filter(|(i, _)| *i == id).map(|(_, c)| c);
    let total: usize = lists.iter().map(|l| l.items.len()).sum();
    // Where a card's switch comes back to: this tab, search and sort.
    let back = {
        let mut parts = Vec::new();
        if let Some(t) = selected {
            parts.push(format!("type={t}"));
        }
        if !q.is_empty() {
            parts.push(format!("q={}", super::session::url_encode(&q)));
        }
        if sort != "name" {
            parts.push(format!("sort={}", super::session::url_encode(&sort)));
        }
        if parts.is_empty() {
            "/console".to_owned()
        } else {
            format!("/console?{}", parts.join("&"))
        }
    };
    let mut cards = Vec::new();
    let mut on_a_card = false;
    for list in lists
        .iter()
        .filter(|l| selected.is_none_or(|s| s == l.def.id))
    {
        for item in &list.items {
            let id = item["meta"]["id"].as_str().unwrap_or("");
            let notice = card_notice(id);
            on_a_card |= notice.is_some();
            cards.push(match list.def.id {
                JOB_CONFIG => job_card(state, user, item, &calendars, now, &back, notice).await,
                CALENDAR => calendar_card(item),
                _ => rule_card(user, item, &back, notice),
            });
        }
    }
    let nav = match selected {
        Some(JOB_CONFIG) => Nav::Jobs,
        Some(ADVANCEMENT_RULE) => Nav::Rules,
        _ => Nav::Grid,
    };
    let filter_href = |t: Option<&str>| {
        let mut parts = Vec::new();
        if let Some(t) = t {
            parts.push(format!("type={t}"));
        }
        if !q.is_empty() {
            parts.push(format!("q={}", super::session::url_encode(&q)));
        }
        if sort != "name" {
            parts.push(format!("sort={}", super::session::url_encode(&sort)));
        }
        if parts.is_empty() {
            "/console".to_owned()
        } else {
            format!("/console?{}", parts.join("&"))
        }
    };
    let sort_labels: Vec<&str> = registry::TYPES[0]
        .sort_options
        .iter()
        .map(|s| s.label)
        .collect();
    let body = html! {
        (layout::legacy_banner(legacy_configuration_in_use(state)))
        @if !on_a_card { (layout::notice(query.notice.as_deref())) }
        div class="editor-head" {
            div {
                h1 { "Configurations" }
                p class="subtitle" { "Job configurations define " strong { "how" } " batch jobs run; advancement rules define " strong { "when" } " sprouts advance." }
            }
            @if user.can_edit() {
                div class="search" {
                    a class="btn btn-primary" href="/console/jobs/new" { (Icon::Hourglass.svg()) "New job" }
                    a class="btn btn-blue" href="/console/rules/new" { (Icon::Bolt.svg()) "New rule" }
                    a class="btn btn-cal" href="/console/calendars/new" { (Icon::EventBusy.svg()) "New calendar" }
                }
            }
        }
        div class="metrics" aria-label="Metrics" {
            @for list in &lists {
                @for m in &list.metrics {
                    @let (class, icon, short) = look(list.def.id);
                    div class={ "metric " (class) } data-metric={ (list.def.id) "." (m["id"].as_str().unwrap_or("")) } {
                        div class="label" {
                            (icon.svg())
                            (short) " · " (m["label"].as_str().unwrap_or(""))
                        }
                        div class="value" { (m["value"]) }
                    }
                }
            }
        }
        div class="toolbar" {
            nav class="filters" aria-label="Filter by type" {
                a class="filter" href=(filter_href(None)) aria-current=[selected.is_none().then_some("true")] {
                    "All" span class="count" { (total) }
                }
                @for list in &lists {
                    @let (class, icon, _) = look(list.def.id);
                    a class={ "filter " (class) } href=(filter_href(Some(list.def.id))) aria-current=[(selected == Some(list.def.id)).then_some("true")] {
                        (icon.svg())
                        (list.def.label) "s" span class="count" { (list.items.len()) }
                    }
                }
            }
            form class="search" method="get" action="/console" role="search" {
                @if let Some(t) = selected { input type="hidden" name="type" value=(t); }
                label class="sr-only" for="q" { "Search" }
                input type="search" id="q" name="q" value=(q) placeholder="Search by name, type, id…";
                label class="sr-only" for="sort" { "Sort by" }
                select id="sort" name="sort" data-autosubmit {
                    @for l in &sort_labels {
                        @let v = l.to_lowercase();
                        option value=(v) selected[v == sort] { "Sort: " (l) }
                    }
                }
                button type="submit" { "Search" }
            }
        }
        @if cards.is_empty() {
            p class="empty" { "Nothing matches. " a href="/console" { "Clear the search" } }
        }
        div class="grid" { @for c in cards { (c) } }
    };
    Ok(layout::page("Console", user, nav, "", body))
}

/// The notice on a card whose switch was just used, naming the object.
fn switch_notice(code: Option<&str>, name: &str, what: &str) -> Markup {
    let Some(code) = code else {
        return html! {};
    };
    html! {
        div class="notice status--info card-notice" role="status" {
            @if code == "enabled" { (Icon::Play.svg()) } @else { (Icon::Pause.svg()) }
            p { strong { (name) } " is " (code) ". " (what) }
        }
    }
}

/// "Retrying (attempt 2 of 3 at 14:05:10 UTC)", as on the run's page.
fn retrying_text(e: &ExecutionView, tz: &jiff::tz::TimeZone) -> String {
    let of = if e.max_attempts > 0 {
        format!(" of {}", e.max_attempts)
    } else {
        String::new()
    };
    let at = e
        .next_attempt_at
        .map(|t| format!(" at {}", t.to_zoned(tz.clone()).strftime("%H:%M:%S %Z")))
        .unwrap_or_default();
    format!("Retrying (attempt {}{of}{at})", e.attempts + 1)
}

/// A type's CSS class, icon and short plural name.
fn look(type_id: &str) -> (&'static str, Icon, &'static str) {
    match type_id {
        JOB_CONFIG => ("job", Icon::Hourglass, "Jobs"),
        CALENDAR => ("calendar", Icon::EventBusy, "Calendars"),
        _ => ("rule", Icon::Bolt, "Rules"),
    }
}

fn last_text(e: &ExecutionView) -> String {
    let status = e.status.label();
    match e.duration_seconds() {
        Some(d) => format!(
            "{status} ({} processed, {})",
            e.items_processed,
            format_duration(d)
        ),
        None => format!("{status} ({} processed)", e.items_processed),
    }
}

/// The schedule chip: a short value and a word under it ("2:00 AM" /
/// "daily", "15 min" / "every", "Sun 3:00 AM" / "weekly"); the full human
/// text is the chip's title.
fn schedule_chip(cron: &str) -> (String, &'static str) {
    let f: Vec<&str> = cron.split_whitespace().collect();
    let num = |s: &str| s.parse::<u32>().ok();
    let time = |h: u32, m: u32| {
        let (h12, ampm) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        format!("{h12}:{m:02} {ampm}")
    };
    match cron.trim() {
        "@hourly" => return (":00".to_owned(), "hourly"),
        "@daily" | "@midnight" => return (time(0, 0), "daily"),
        "@weekly" => return (format!("SUN {}", time(0, 0)), "weekly"),
        "@monthly" => return (format!("1st {}", time(0, 0)), "monthly"),
        _ => {}
    }
    if f.len() == 5 {
        if f.iter().all(|x| *x == "*") {
            return ("1 min".to_owned(), "every");
        }
        match (num(f[0]), num(f[1]), f[2], f[3], f[4]) {
            (Some(m), Some(h), "*", "*", "*") => return (time(h, m), "daily"),
            (Some(m), Some(h), "*", "*", dow) if !dow.contains(['/', ',']) => {
                return (format!("{} {}", dow, time(h, m)), "weekly");
            }
            (Some(m), None, "*", "*", "*") if f[1] == "*" => return (format!(":{m:02}"), "hourly"),
            _ => {}
        }
        if let Some(step) = f[0].strip_prefix("*/")
            && f[1..] == ["*", "*", "*", "*"]
        {
            return (format!("{step} min"), "every");
        }
        if let (Some(m), Some(step)) = (num(f[0]), f[1].strip_prefix("*/"))
            && f[2..] == ["*", "*", "*"]
        {
            return (format!("{step} h :{m:02}"), "every");
        }
    }
    // Anything else: "custom"; the chip's title has the whole schedule.
    ("custom".to_owned(), "schedule")
}

async fn job_card(
    state: &AppState,
    user: &ConsoleUser,
    item: &Value,
    calendars: &Calendars,
    now: jiff::Timestamp,
    back: &str,
    notice: Option<&str>,
) -> Markup {
    let id = item["meta"]["id"].as_str().unwrap_or("");
    let version = item["meta"]["version"].as_i64().unwrap_or(0);
    let Ok(p) = serde_json::from_value::<JobConfigPayload>(item["payload"].clone()) else {
        return html! { article class="card card--job-config" { div class="card-tier2" { "Unreadable configuration " (id) } } };
    };
    let derived = p.derived_with(id, now, calendars);
    let stored: Option<grove_store::StoredObject> =
        serde_json::from_value(json!({"meta": item["meta"], "payload": item["payload"]})).ok();
    let execs = match &stored {
        Some(o) => recent_executions(state, o, 1).await,
        None => Vec::new(),
    };
    let running = is_running(&execs);
    // Between a failed attempt and the next one.
    let retrying = execs.first().filter(|e| e.is_retrying());
    let tz = zone(&p.schedule.timezone);
    let critical = p.auto_disabled.is_some() && !p.schedule.is_enabled;
    let last_failed = p
        .last_execution
        .as_ref()
        .is_some_and(|l| l.status == RunStatus::Failed);
    html! {
        article class={ "card card--job-config" @if critical { " status--critical" } } id={ "card-" (id) } data-id=(id) aria-labelledby={ "t-" (id) } {
            div class="card-tier1" {
                span class="card-type" { (Icon::Hourglass.svg()) "Job" }
                @if retrying.is_some() {
                    span class="badge badge-warning" data-status="Retrying" { (Icon::Warning.svg()) "Retrying" }
                } @else {
                    (health_badge(derived.health, running))
                }
            }
            div class="card-tier2" {
                h2 class="card-title" id={ "t-" (id) } { a href={ "/console/jobs/" (id) } { (p.display_name) } }
                div class="card-sub mono" { (p.job_type.to_string()) }
                div class="facts" {
                    div { span class="k" { "Next: " }
                        @match (derived.next_run_at, p.schedule.run_at) {
                            (Some(t), _) => { span data-next { (when(t, &tz, now)) } }
                            (None, Some(_)) if p.schedule.is_enabled => { span { "— (one-off run done)" } }
                            (None, _) => { span { "— (schedule off)" } }
                        }
                    }
                    @if let Some(until) = p.schedule.paused_until.filter(|u| *u > now) {
                        div class="paused-note" { (Icon::Pause.svg()) " Paused until " (when(until, &tz, now)) }
                    }
                    @if let Some(at) = p.schedule.run_at.filter(|a| *a <= now) {
                        div { (Icon::Check.svg()) " Ran once at " (when(at, &tz, now)) }
                    }
                    div { span class="k" { "Last: " }
                        @match (execs.first(), retrying) {
                            (_, Some(e)) => { span class="s-retrying" { (retrying_text(e, &tz)) } }
                            (Some(e), None) => { span class={ "s-" (e.status.name()) } { (last_text(e)) } }
                            (None, None) => { span { "never run" } }
                        }
                    }
                    @if let Some(err) = retrying.and_then(|e| e.error.as_deref()) {
                        div class="s-failed" { (Icon::Error.svg()) " The last attempt failed: " (err) }
                    }
                    (layout::alert_note(&p, &tz, now))
                    @if critical {
                        div class="s-failed" { (Icon::Error.svg()) " Disabled after repeated failures" }
                    } @else if last_failed && retrying.is_none() {
                        @if let Some(err) = p.last_execution.as_ref().and_then(|l| l.error.as_deref()) {
                            div class="s-failed" { (Icon::Error.svg()) " " (err) }
                        }
                    }
                }
                div class="chips" {
                    @let (chip, unit) = match p.schedule.run_at {
                        Some(at) => (at.to_zoned(tz.clone()).strftime("%-d %b %H:%M").to_string(), "once"),
                        None => schedule_chip(p.schedule.cron_text()),
                    };
                    div class="chip" title=(derived.schedule_text) { b { (chip) } span { (unit) } }
                    div class="chip" { b { (p.limits.batch_size) } span { "batch" } }
                    div class="chip" { b { (p.retry.max_attempts) } span { "attempts" } }
                }
            }
            (switch_notice(notice, &p.display_name, &match derived.next_run_at {
                Some(t) if p.schedule.is_enabled => format!("Next run {}.", when(t, &tz, now)),
                _ if p.schedule.is_enabled => "No run is planned.".to_owned(),
                _ => "Its schedule is off; Run Now still works.".to_owned(),
            }))
            div class="card-tier3" {
                (enabled_toggle(user, &format!("/console/jobs/{id}/enabled"), p.schedule.is_enabled, version, &p.display_name, back))
                div class="right" {
                    @if user.can_edit() {
                        form method="post" action={ "/console/jobs/" (id) "/run" } {
                            (csrf_input(&user.csrf))
                            button type="submit" class="btn btn-primary btn-small" data-confirm={ "Run " (p.display_name) " now?" } { (Icon::Play.svg()) "Run Now" }
                        }
                    }
                    a class="btn btn-small" href={ "/console/jobs/" (id) } { (Icon::Tune.svg()) "Configure" }
                }
            }
        }
    }
}

fn calendar_card(item: &Value) -> Markup {
    let id = item["meta"]["id"].as_str().unwrap_or("");
    let title = item["meta"]["title"].as_str().unwrap_or(id);
    let Ok(p) = serde_json::from_value::<CalendarPayload>(item["payload"].clone()) else {
        return html! { article class="card card--calendar" { div class="card-tier2" { "Unreadable calendar " (id) } } };
    };
    html! {
        article class="card card--calendar" data-id=(id) aria-labelledby={ "t-" (id) } {
            div class="card-tier1" {
                span class="card-type" { (Icon::EventBusy.svg()) "Calendar" }
            }
            div class="card-tier2" {
                h2 class="card-title" id={ "t-" (id) } { a href={ "/console/calendars/" (id) } { (title) } }
                div class="card-sub mono" { (id) }
                div class="facts" {
                    div { (super::calendar_editor::summary(&p)) }
                    div { span class="k" { "Zone: " } @match &p.timezone { Some(tz) => { (tz) }, None => { "each job's own" } } }
                }
            }
            div class="card-tier3" {
                div class="right" {
                    a class="btn btn-small" href={ "/console/calendars/" (id) } { (Icon::Tune.svg()) "Configure" }
                }
            }
        }
    }
}

/// The Enabled switch: a one-button form (works without JS).
pub fn enabled_toggle(
    user: &ConsoleUser,
    action: &str,
    enabled: bool,
    version: i64,
    name: &str,
    back: &str,
) -> Markup {
    html! {
        form method="post" action=(action) {
            (csrf_input(&user.csrf))
            input type="hidden" name="back" value=(back);
            input type="hidden" name="version" value=(version);
            input type="hidden" name="enabled" value=(if enabled { "false" } else { "true" });
            button type="submit" class="switch" role="switch" aria-checked=(enabled)
                aria-label={ "Enabled: " (name) } disabled[!user.can_edit()] {
                span class="track" aria-hidden="true" {}
                span { (if enabled { "Enabled" } else { "Disabled" }) }
            }
        }
    }
}

fn rule_card(user: &ConsoleUser, item: &Value, back: &str, notice: Option<&str>) -> Markup {
    let id = item["meta"]["id"].as_str().unwrap_or("");
    let title = item["meta"]["title"].as_str().unwrap_or(id);
    let version = item["meta"]["version"].as_i64().unwrap_or(0);
    let Ok(p) = serde_json::from_value::<AdvancementRulePayload>(item["payload"].clone()) else {
        return html! { article class="card card--advancement-rule" { div class="card-tier2" { "Unreadable rule " (id) } } };
    };
    let n = p.conditions.len();
    html! {
        article class="card card--advancement-rule" id={ "card-" (id) } data-id=(id) aria-labelledby={ "t-" (id) } {
            div class="card-tier1" {
                span class="card-type" { (Icon::Bolt.svg()) "Rule" }
                @if p.is_enabled {
                    span class="badge badge-healthy" { (Icon::Check.svg()) "Active" }
                } @else {
                    span class="badge badge-disabled" { (Icon::Pause.svg()) "Disabled" }
                }
            }
            div class="card-tier2" {
                h2 class="card-title" id={ "t-" (id) } { a href={ "/console/rules/" (id) } { (title) } }
                div class="facts" {
                    div class="tierflow" { span class="tier" { (choice_label(&p.from_tier)) } "→" span class="tier" { (choice_label(&p.to_tier)) } }
                    div class="k" { (if p.match_mode.to_string() == "all" { "When all of" } else { "When any of" }) " " (n) " condition" @if n != 1 { "s" } ":" }
                }
                ul class="conditions" {
                    @for c in &p.conditions {
                        li { (c.signal) " " (pretty_op(c.operator.to_string().as_str())) " " (c.threshold) }
                    }
                }
            }
            (switch_notice(notice, title, if p.is_enabled { "The advancement job applies it from its next run." } else { "The advancement job skips it until it is enabled again." }))
            div class="card-tier3" {
                (enabled_toggle(user, &format!("/console/rules/{id}/enabled"), p.is_enabled, version, title, back))
                div class="right" {
                    a class="btn btn-small" href={ "/console/rules/" (id) } { (Icon::Tune.svg()) "Configure" }
                }
            }
        }
    }
}

/// "≥" for ">=", and so on.
pub fn pretty_op(op: &str) -> &str {
    match op {
        ">=" => "≥",
        "<=" => "≤",
        "!=" => "≠",
        "==" => "=",
        other => other,
    }
}
