//! Operations on a job from its Status tab: Backfill, Run with options…,
//! and the chained jobs up- and downstream of it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::{AppError, RunOptions};
use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_core::validate::Problem;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::form::{FormData, csrf_input};
use super::layout::{self, Icon, Nav, zone};
use super::session::{ConsoleUser, api_error, refusal};
use crate::state::AppState;

/// What the backfill form shows: its inputs and what was wrong with them.
#[derive(Debug, Default)]
pub struct BackfillForm {
    pub from: String,
    pub to: String,
    pub problems: Vec<Problem>,
}

/// What the options form shows.
#[derive(Debug, Default)]
pub struct OptionsForm {
    pub text: String,
    pub problems: Vec<Problem>,
}

fn problem_list(problems: &[Problem]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" id="errors" {
                h2 { (Icon::Error.svg()) (problems.len()) " problem" @if problems.len() != 1 { "s" } ": nothing was queued" }
                ul { @for p in problems { li { @if !p.pointer.is_empty() { code { (p.pointer) } ": " } (p.message) } } }
            }
        }
    }
}

/// The Backfill form: a range of past local times in the job's zone.
pub fn backfill_form(user: &ConsoleUser, id: &str, tz_name: &str, f: &BackfillForm) -> Markup {
    html! {
        @if user.can_edit() {
            details class="operation" id="backfill" open[!f.problems.is_empty()] {
                summary { (Icon::History.svg()) "Backfill…" }
                form method="post" action={ "/console/jobs/" (id) "/backfill" } class="operation-form" {
                    (csrf_input(&user.csrf))
                    p class="hint" { "Runs every slot of this job's schedule from From (included) to To (excluded) that has no execution yet, calendars applied, whether or not the schedule is on. At most 1,000 slots; To must not be in the future. Times are in " strong { (tz_name) } "." }
                    (problem_list(&f.problems))
                    div class="cond-row range-row" {
                        label for="bf-from" { "From" }
                        input type="datetime-local" id="bf-from" name="from" value=(f.from) required;
                        label for="bf-to" { "To" }
                        input type="datetime-local" id="bf-to" name="to" value=(f.to) required;
                    }
                    button type="submit" class="btn" { (Icon::History.svg()) "Backfill" }
                }
            }
        }
    }
}

/// "Run with options…": per-run `parameters`/`limits` as JSON, merged over
/// the saved configuration for one run.
pub fn options_form(user: &ConsoleUser, id: &str, p: &JobConfigPayload, f: &OptionsForm) -> Markup {
    let text = if f.text.is_empty() {
        let mut parameters = serde_json::to_value(&p.parameters).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut parameters {
            m.remove("jobType");
        }
        serde_json::to_string_pretty(&json!({"parameters": parameters})).unwrap_or_default()
    } else {
        f.text.clone()
    };
    html! {
        @if user.can_edit() {
            details class="operation" id="run-options" open[!f.problems.is_empty()] {
                summary { (Icon::Play.svg()) "Run with options…" }
                form method="post" action={ "/console/jobs/" (id) "/run-with" } class="operation-form" {
                    (csrf_input(&user.csrf))
                    p class="hint" { "One run with these " code { "parameters" } " and " code { "limits" } " merged over the saved configuration (a JSON merge patch; null removes a field). The saved job does not change; a Retry of the run reuses them." }
                    (problem_list(&f.problems))
                    label for="run-options-json" { "Options (JSON)" }
                    textarea id="run-options-json" name="options" rows="8" class="mono" spellcheck="false" { (text) }
                    button type="submit" class="btn btn-primary" { (Icon::Play.svg()) "Run with these options" }
                }
            }
        }
    }
}

/// The chained jobs around a job: those whose runs start it (upstream) and
/// those its runs start (downstream).
pub fn chain_links(upstream: &[(String, &'static str)], p: &JobConfigPayload) -> Markup {
    let t = &p.triggers;
    html! {
        @if !upstream.is_empty() || !t.is_empty() {
            h2 class="spaced" { "Chained jobs" }
            ul class="chain-links" {
                @for (from, when) in upstream {
                    li { "Started by " a href={ "/console/jobs/" (from) } { (from) } " " (when) }
                }
                @for to in &t.on_success {
                    li { "Starts " a href={ "/console/jobs/" (to) } { (to) } " after each run that succeeds (or partly succeeds)" }
                }
                @for to in &t.on_failure {
                    li { "Starts " a href={ "/console/jobs/" (to) } { (to) } " after each run that fails its last attempt" }
                }
            }
        }
    }
}

/// The jobs whose `triggers` name `id`, with when they start it.
pub async fn upstream_of(state: &AppState, id: &str) -> Vec<(String, &'static str)> {
    let objects = state
        .store
        .object_list(JOB_CONFIG)
        .await
        .unwrap_or_default();
    let mut out = Vec::new();
    for o in objects {
        for (list, when) in [
            ("onSuccess", "when it succeeds"),
            ("onFailure", "when it fails"),
        ] {
            let names = o.payload["triggers"][list]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|v| v.as_str() == Some(id)));
            if names {
                out.push((o.meta.id.clone(), when));
            }
        }
    }
    out
}

/// A local date-time in `tz` (what datetime-local sends) or an RFC 3339
/// instant.
fn instant(text: &str, tz: &TimeZone) -> Option<Timestamp> {
    let text = text.trim();
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp())
    })
}

async fn job(state: &AppState, id: &str) -> Result<JobConfigPayload, Response> {
    let def = grove_app::objects::object_type(JOB_CONFIG).map_err(api_error)?;
    let obj = state.app.object(def, id).await.map_err(api_error)?;
    serde_json::from_value(obj.payload).map_err(|e| {
        refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unreadable",
            &e.to_string(),
        )
    })
}

/// A refused operation: the form again, with its problems.
fn refused(user: &ConsoleUser, id: &str, p: &JobConfigPayload, form: Markup) -> Response {
    let body = html! {
        div class="crumbs" { a href="/console?type=job-config" { "Job Configurations" } " / " a href={ "/console/jobs/" (id) "#status" } { (p.display_name) } }
        div class="panel narrow" { div class="panel-body padded" { (form) } }
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        layout::page(&p.display_name, user, Nav::Jobs, "job-page", body),
    )
        .into_response()
}

/// `POST /console/jobs/{id}/backfill`
pub async fn backfill(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let p = match job(&state, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let tz = zone(&p.schedule.timezone);
    let mut f = BackfillForm {
        from: form.get("from").unwrap_or("").to_owned(),
        to: form.get("to").unwrap_or("").to_owned(),
        problems: Vec::new(),
    };
    let from = instant(&f.from, &tz);
    let to = instant(&f.to, &tz);
    for (name, value) in [("/from", from), ("/to", to)] {
        if value.is_none() {
            f.problems.push(Problem::new(
                name,
                "must be a date and time, such as 2026-11-01T00:00",
            ));
        }
    }
    if let (Some(from), Some(to)) = (from, to) {
        let done = state
            .app
            .backfill(&id, from, to, &RunOptions::none(), &user.actor.caller())
            .await;
        match done {
            Ok(b) => {
                return Redirect::to(&format!(
                    "/console/jobs/{id}?queued={}&slots={}&recorded={}#status",
                    b.runs.len(),
                    b.slots,
                    b.already_recorded
                ))
                .into_response();
            }
            Err(AppError::Validation(problems)) => f.problems = problems,
            Err(e) => return api_error(e),
        }
    }
    let form = backfill_form(&user, &id, &p.schedule.timezone, &f);
    refused(&user, &id, &p, form)
}

/// `POST /console/jobs/{id}/run-with`: one run with options; its page.
pub async fn run_with(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let p = match job(&state, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut f = OptionsForm {
        text: form.get("options").unwrap_or("").to_owned(),
        problems: Vec::new(),
    };
    let body = if f.text.trim().is_empty() {
        Ok(json!({}))
    } else {
        serde_json::from_str::<Value>(&f.text)
    };
    match body {
        Err(e) => f.problems.push(Problem::new(
            "",
            format!(
                "is not JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ),
        )),
        Ok(body) => match RunOptions::from_body(&body, &[]) {
            Err(problems) => f.problems = problems,
            Ok(options) => match state
                .app
                .run_with(&id, &options, &user.actor.caller())
                .await
            {
                Ok(run) => {
                    return Redirect::to(&format!("/console/executions/{}", run.id))
                        .into_response();
                }
                Err(AppError::Validation(problems)) => f.problems = problems,
                Err(e) => return api_error(e),
            },
        },
    }
    let form = options_form(&user, &id, &p, &f);
    refused(&user, &id, &p, form)
}
