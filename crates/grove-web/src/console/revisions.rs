//! Revision history of a job config or rule: who saved what when, a diff
//! against the current version, and Restore (saved as a new version).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::objects::object_type;
use grove_core::registry::{ADVANCEMENT_RULE, CALENDAR, JOB_CONFIG, TypeDef};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::form::{FormData, csrf_input};
use super::layout::{self, Icon, Nav, short};
use super::session::{ConsoleUser, refusal};
use crate::error::ApiError;
use crate::state::AppState;

fn kind_def(kind: &str) -> Option<&'static TypeDef> {
    match kind {
        "jobs" => object_type(JOB_CONFIG).ok(),
        "rules" => object_type(ADVANCEMENT_RULE).ok(),
        "calendars" => object_type(CALENDAR).ok(),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
pub struct RevQuery {
    diff: Option<i64>,
}

fn content(title: &str, description: Option<&str>, payload: &Value) -> Value {
    let mut p = payload.clone();
    if let Value::Object(m) = &mut p {
        for f in grove_core::job_config::ENGINE_FIELDS {
            m.remove(*f);
        }
    }
    json!({"title": title, "description": description, "payload": p})
}

/// A line diff (longest common subsequence) of two texts.
pub fn diff_lines<'a>(old: &'a str, new: &'a str) -> Vec<(char, &'a str)> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            out.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(('-', a[i]));
            i += 1;
        } else {
            out.push(('+', b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| ('-', *l)));
    out.extend(b[j..].iter().map(|l| ('+', *l)));
    out
}

fn diff_view(old: &Value, new: &Value) -> Markup {
    let o = serde_json::to_string_pretty(old).unwrap_or_default();
    let n = serde_json::to_string_pretty(new).unwrap_or_default();
    let lines = diff_lines(&o, &n);
    let changed = lines.iter().any(|(k, _)| *k != ' ');
    html! {
        @if !changed { p class="empty" { "No differences: this revision has the same content as the current version." } }
        @else {
            div class="diff" role="region" aria-label="Differences" tabindex="0" {
                @for (k, l) in &lines {
                    @match k {
                        '+' => div class="add" { "+ " (l) },
                        '-' => div class="del" { "- " (l) },
                        _ => div { "  " (l) },
                    }
                }
            }
        }
    }
}

/// `GET /console/{jobs|rules}/{id}/revisions?diff=N`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<RevQuery>,
) -> Response {
    let Some(def) = kind_def(&kind) else {
        return refusal(StatusCode::NOT_FOUND, "Not found", "no such page");
    };
    let mut current = match state.app.object(def, &id).await {
        Ok(o) => o,
        Err(e) => {
            let e = ApiError::from(e);
            return refusal(e.status(), "Not found", &e.to_string());
        }
    };
    let mut revisions = match state.store.revision_list(def.id, &id).await {
        Ok(r) => r,
        Err(e) => return refusal(StatusCode::SERVICE_UNAVAILABLE, "Error", &e.to_string()),
    };
    if !user.can_edit() {
        grove_core::secrets::redact(&mut current.payload);
        for r in &mut revisions {
            grove_core::secrets::redact(&mut r.payload);
        }
    }
    let tz = jiff::tz::TimeZone::UTC;
    let cur = content(
        &current.meta.title,
        current.meta.description.as_deref(),
        &current.payload,
    );
    let selected = q
        .diff
        .and_then(|v| revisions.iter().find(|r| r.version == v));
    let body = html! {
        div class="crumbs" { a href={ "/console/" (kind) "/" (id) } { (current.meta.title) } " / revisions" }
        h1 { (Icon::History.svg()) "Revisions of " (current.meta.title) }
        p class="subtitle" { "Every save is kept. Restoring saves the old content as a new version; nothing is lost." }
        table class="revs" {
            thead { tr { th { "Version" } th { "Saved" } th { "By" } th { span class="sr-only" { "Actions" } } } }
            tbody {
                @for r in &revisions {
                    tr {
                        td { "v" (r.version) @if r.version == current.meta.version { " (current)" } }
                        td { (short(r.at, &tz)) }
                        td { (r.actor.clone().unwrap_or_else(|| "—".to_owned())) }
                        td class="actions" {
                            @if r.version != current.meta.version {
                                a class="btn btn-small btn-ghost" href={ "/console/" (kind) "/" (id) "/revisions?diff=" (r.version) "#diff" } { "Diff with current" }
                                @if user.can_edit() {
                                    form method="post" action={ "/console/" (kind) "/" (id) "/revisions/" (r.version) "/restore" } {
                                        (csrf_input(&user.csrf))
                                        input type="hidden" name="version" value=(current.meta.version);
                                        button type="submit" class="btn btn-small" data-confirm={ "Restore version " (r.version) "?" } { "Restore" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(r) = selected {
            h2 id="diff" class="spaced" { "Version " (r.version) " → current (v" (current.meta.version) ")" }
            (diff_view(&content(&r.title, r.description.as_deref(), &r.payload), &cur))
        }
    };
    layout::page(
        "Revisions",
        &user,
        match def.id {
            JOB_CONFIG => Nav::Jobs,
            ADVANCEMENT_RULE => Nav::Rules,
            _ => Nav::Grid,
        },
        match def.id {
            JOB_CONFIG => "job-page",
            ADVANCEMENT_RULE => "rule-page",
            _ => "calendar-page",
        },
        body,
    )
    .into_response()
}

/// `POST /console/{jobs|rules}/{id}/revisions/{version}/restore`
pub async fn restore(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((kind, id, version)): Path<(String, String, i64)>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let Some(def) = kind_def(&kind) else {
        return refusal(StatusCode::NOT_FOUND, "Not found", "no such page");
    };
    let expected = form.get("version").and_then(|v| v.parse().ok());
    let result = state
        .app
        .restore(def, &id, version, expected, &user.actor.caller())
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    match result {
        Ok(()) => Redirect::to(&format!("/console/{kind}/{id}?notice=restored")).into_response(),
        Err(e) => refusal(e.status(), "Not restored", &e.to_string()),
    }
}
