//! The calendar editor (purple): excluded whole days, local date-time
//! ranges and weekly windows, an optional zone, and the jobs that exclude
//! the calendar.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::AppError;
use grove_app::objects::object_type;
use grove_core::calendar::{CalendarPayload, DayName};
use grove_core::plan::Calendars;
use grove_core::registry::{CALENDAR, TypeDef};
use grove_core::validate::{Choice, Problem};
use grove_store::StoredObject;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::form::{Control, FieldSpec, Fields, FormData, Section, csrf_input, error_summary, read};
use super::job_editor::{delete_confirmation, delete_object, duplicate_object};
use super::layout::{self, Icon, Nav};
use super::session::{ConsoleUser, api_error};
use crate::state::AppState;

fn def() -> &'static TypeDef {
    object_type(CALENDAR).expect("calendar is registered")
}

/// Empty rows offered below the stored ones, to add entries without script.
const SPARE_ROWS: usize = 2;

fn sections(new: bool) -> Vec<Section> {
    let mut general = vec![
        FieldSpec::new(
            "/meta/title",
            "Title",
            Control::Text {
                placeholder: "US holidays",
            },
        ),
        FieldSpec::new("/meta/description", "Description", Control::Textarea).optional(),
    ];
    if new {
        general.insert(
            0,
            FieldSpec::new(
                "/meta/id",
                "ID",
                Control::Text {
                    placeholder: "made from the title if left empty",
                },
            )
            .optional()
            .hint(
                "Jobs name the calendar by this id in Exclude Calendars. Cannot be changed later.",
            ),
        );
    }
    vec![
        Section {
            title: "General",
            fields: general,
        },
        Section {
            title: "Excluded Times",
            fields: vec![
                FieldSpec::new("/payload/timezone", "Timezone", Control::Timezone)
                    .optional()
                    .hint("Leave empty to read the calendar in each job's own zone."),
                FieldSpec::new("/payload/dates", "Whole Days", Control::Lines)
                    .optional()
                    .hint("One date per line, such as 2026-12-25: no slot on that local day runs."),
            ],
        },
    ]
}

/// The calendar choices of the job editor: (id, title) of every calendar,
/// with the calendars themselves for the preview.
pub async fn choices(state: &AppState) -> (Vec<(String, String)>, Calendars) {
    let objects = state.store.object_list(CALENDAR).await.unwrap_or_default();
    let mut calendars = Calendars::default();
    let mut options = Vec::new();
    for o in objects {
        options.push((
            o.meta.id.clone(),
            format!("{} ({})", o.meta.title, o.meta.id),
        ));
        if let Ok(c) = serde_json::from_value::<CalendarPayload>(o.payload) {
            calendars.insert(o.meta.id, c);
        }
    }
    (options, calendars)
}

/// Reads the form, with the range and weekly rows (blank rows are dropped).
pub fn read_form(new: bool, form: &FormData) -> Value {
    let mut v = read(&sections(new), form);
    let froms = form.all("range.from");
    let tos = form.all("range.to");
    let ranges: Vec<Value> = froms
        .iter()
        .enumerate()
        .map(|(i, from)| (from.trim(), tos.get(i).copied().unwrap_or("").trim()))
        .filter(|(from, to)| !(from.is_empty() && to.is_empty()))
        .map(|(from, to)| json!({"from": from, "to": to}))
        .collect();
    if !ranges.is_empty() {
        v["payload"]["ranges"] = json!(ranges);
    }
    let mut weekly = Vec::new();
    for i in 0..form.all("weekly.row").len() {
        let days = form.all(&format!("weekly.{i}.days"));
        let from = form.get(&format!("weekly.{i}.from")).unwrap_or("").trim();
        let to = form.get(&format!("weekly.{i}.to")).unwrap_or("").trim();
        if days.is_empty() && from.is_empty() && to.is_empty() {
            continue;
        }
        weekly.push(json!({"days": days, "from": from, "to": to}));
    }
    if !weekly.is_empty() {
        v["payload"]["weekly"] = json!(weekly);
    }
    v
}

/// "range 2: to must be after from" for the problems under `prefix`.
fn row_errors(errors: &[Problem], prefix: &str, what: &str) -> Markup {
    let errs: Vec<&Problem> = errors
        .iter()
        .filter(|p| p.pointer == prefix || p.pointer.starts_with(&format!("{prefix}/")))
        .collect();
    html! {
        @if !errs.is_empty() {
            div class="field invalid" { p class="field-error full-row" role="alert" {
                (Icon::Error.svg())
                span { @for (i, e) in errs.iter().enumerate() {
                    @if i > 0 { "; " }
                    @let rest = e.pointer.strip_prefix(prefix).unwrap_or("");
                    @let mut parts = rest.trim_start_matches('/').split('/');
                    @match parts.next().and_then(|n| n.parse::<usize>().ok()) {
                        Some(n) => { (what) " " (n + 1) @if let Some(f) = parts.next() { " (" (f) ")" } ": " (e.message) }
                        None => { (e.message) }
                    }
                } }
            } }
        }
    }
}

fn ranges_editor(values: &Value, errors: &[Problem], disabled: bool) -> Markup {
    let ranges: Vec<Value> = values
        .pointer("/payload/ranges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Stored as `2026-12-24T18:00:00`, which datetime-local shows as is.
    let text = |v: Option<&Value>, key: &str| -> String {
        v.and_then(|r| r[key].as_str()).unwrap_or("").to_owned()
    };
    html! {
        fieldset class="section" disabled[disabled] id="f-payload-ranges" {
            legend { "Date-time Ranges" }
            p class="hint" { "Local times from (included) to (excluded), such as the office closing from Christmas Eve 18:00 to 06:00 on the 27th. Clear both to drop a row." }
            @for i in 0..(ranges.len() + SPARE_ROWS) {
                @let r = ranges.get(i);
                div class="cond-row range-row" {
                    label for={ "rf" (i) } { "From" }
                    input type="datetime-local" id={ "rf" (i) } name="range.from" value=(text(r, "from"));
                    label for={ "rt" (i) } { "To" }
                    input type="datetime-local" id={ "rt" (i) } name="range.to" value=(text(r, "to"));
                }
            }
            (row_errors(errors, "/payload/ranges", "range"))
        }
    }
}

fn weekly_editor(values: &Value, errors: &[Problem], disabled: bool) -> Markup {
    let windows: Vec<Value> = values
        .pointer("/payload/weekly")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let hhmm = |v: Option<&Value>, key: &str| -> String {
        v.and_then(|w| w[key].as_str())
            .map(|s| s.chars().take(5).collect())
            .unwrap_or_default()
    };
    html! {
        fieldset class="section" disabled[disabled] id="f-payload-weekly" {
            legend { "Weekly Windows" }
            p class="hint" { "Every week on the checked days, from one local time to another; a To before From runs through midnight into the next day. Clear a row to drop it." }
            @for i in 0..(windows.len() + SPARE_ROWS) {
                @let w = windows.get(i);
                @let days: Vec<&str> = w.and_then(|w| w["days"].as_array()).map(|d| d.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                div class="weekly-row" role="group" aria-label={ "Weekly window " (i + 1) } {
                    input type="hidden" name="weekly.row" value=(i);
                    div class="choices" {
                        @for d in DayName::ALL {
                            label class="choice" {
                                input type="checkbox" name={ "weekly." (i) ".days" } value=(d.name()) checked[days.contains(&d.name())];
                                (d.name())
                            }
                        }
                    }
                    div class="cond-row" {
                        label for={ "wf" (i) } { "From" }
                        input type="time" id={ "wf" (i) } name={ "weekly." (i) ".from" } value=(hhmm(w, "from"));
                        label for={ "wt" (i) } { "To" }
                        input type="time" id={ "wt" (i) } name={ "weekly." (i) ".to" } value=(hhmm(w, "to"));
                    }
                }
            }
            (row_errors(errors, "/payload/weekly", "window"))
        }
    }
}

struct View<'a> {
    stored: Option<&'a StoredObject>,
    values: &'a Value,
    errors: &'a [Problem],
    version: i64,
    notice: Option<&'a str>,
    conflict: Option<String>,
    /// Ids of the job configs that exclude this calendar.
    used_by: &'a [String],
}

fn editor(user: &ConsoleUser, v: View<'_>) -> Markup {
    let new = v.stored.is_none();
    let secs = sections(new);
    let fields = Fields {
        values: v.values,
        errors: v.errors,
        disabled: !user.can_edit(),
        after: None,
    };
    let id = v.stored.map(|o| o.meta.id.clone()).unwrap_or_default();
    let title = v
        .stored
        .map(|o| o.meta.title.clone())
        .unwrap_or_else(|| "New calendar".to_owned());
    let action = if new {
        "/console/calendars".to_owned()
    } else {
        format!("/console/calendars/{id}")
    };
    let stored_payload = v
        .stored
        .and_then(|o| <CalendarPayload as serde::Deserialize>::deserialize(&o.payload).ok());
    let body = html! {
        div class="crumbs" { a href="/console?type=calendar" { "Calendars" } " / " (if new { "new" } else { id.as_str() }) }
        div class="editor-head" {
            h1 { span class="icon-lg" { (Icon::EventBusy.svg()) } (title) }
            @if let Some(o) = v.stored {
                div class="version" { "version " (o.meta.version) " · " a href={ "/console/calendars/" (id) "/revisions" } { "Revisions" } }
            }
        }
        (layout::notice(v.notice))
        @if let Some(c) = &v.conflict {
            div class="notice status--error" role="alert" { (Icon::Error.svg()) p { (c) " " a href={ "/console/calendars/" (id) } { "Load the current version" } } }
        }
        (error_summary(v.errors, &secs))
        nav class="tabs" role="tablist" aria-label="Editor" {
            a href="#config" role="tab" aria-selected="true" { (Icon::Tune.svg()) "Configuration" }
            @if !new { a href="#status" role="tab" aria-selected="false" { (Icon::EventBusy.svg()) "Status" } }
        }
        div class="columns" {
            details class="panel" id="config" open {
                summary { (Icon::Tune.svg()) "Configuration" }
                form method="post" action=(action) novalidate {
                    (csrf_input(&user.csrf))
                    input type="hidden" name="version" value=(v.version);
                    div class="panel-body" {
                        @for s in &secs { (fields.section(s, None)) }
                        (ranges_editor(v.values, v.errors, !user.can_edit()))
                        (weekly_editor(v.values, v.errors, !user.can_edit()))
                    }
                    @if user.can_edit() {
                        div class="actions-bar" {
                            button type="submit" class="btn btn-primary" { (if new { "Create calendar" } else { "Save Changes" }) }
                            @if !new {
                                button type="submit" class="btn" formaction={ "/console/calendars/" (id) "/duplicate" } { "Duplicate" }
                                a class="btn btn-danger" href={ "/console/calendars/" (id) "/delete" } { "Delete" }
                            } @else {
                                a class="btn" href="/console?type=calendar" { "Cancel" }
                            }
                        }
                    }
                }
            }
            @if let Some(p) = &stored_payload {
                details class="panel" id="status" open {
                    summary { (Icon::EventBusy.svg()) "Status" }
                    div class="panel-body padded" {
                        p { (summary(p)) }
                        p { "Read in " @match &p.timezone { Some(tz) => { strong { (tz) } }, None => { "each job's own time zone" } } "." }
                        h2 class="spaced" { "Used by" }
                        @if v.used_by.is_empty() {
                            p class="empty" { "No job excludes this calendar yet. Add it to a job's Exclude Calendars." }
                        } @else {
                            ul { @for j in v.used_by { li { a href={ "/console/jobs/" (j) } { (j) } } } }
                            p class="hint" { "A calendar that jobs exclude cannot be deleted; remove it from their schedules first." }
                        }
                    }
                }
            }
        }
    };
    layout::page(&title, user, Nav::Grid, "calendar-page", body)
}

/// "2 days · 1 range · 1 weekly window".
pub fn summary(p: &CalendarPayload) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let parts = [
        (!p.dates.is_empty()).then(|| plural(p.dates.len(), "day", "days")),
        (!p.ranges.is_empty()).then(|| plural(p.ranges.len(), "range", "ranges")),
        (!p.weekly.is_empty()).then(|| plural(p.weekly.len(), "weekly window", "weekly windows")),
    ];
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    if parts.is_empty() {
        "Excludes nothing yet".to_owned()
    } else {
        format!("Excludes {}", parts.join(" · "))
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

/// `GET /console/calendars/{id}`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    match state.app.object(def(), &id).await {
        Ok(obj) => {
            let values = json!({"meta": obj.meta, "payload": obj.payload});
            let used_by = state.app.jobs_excluding(&id).await.unwrap_or_default();
            editor(
                &user,
                View {
                    stored: Some(&obj),
                    values: &values,
                    errors: &[],
                    version: obj.meta.version,
                    notice: q.notice.as_deref(),
                    conflict: None,
                    used_by: &used_by,
                },
            )
            .into_response()
        }
        Err(e) => api_error(e),
    }
}

/// `GET /console/calendars/new`
pub async fn new_page(user: ConsoleUser) -> Response {
    if let Err(r) = user.require_operator() {
        return r;
    }
    let values = json!({"meta": {"title": ""}, "payload": {}});
    editor(
        &user,
        View {
            stored: None,
            values: &values,
            errors: &[],
            version: 0,
            notice: None,
            conflict: None,
            used_by: &[],
        },
    )
    .into_response()
}

/// `POST /console/calendars`
pub async fn create(State(state): State<AppState>, user: ConsoleUser, form: FormData) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let values = read_form(true, &form);
    let problems = match state.app.create(def(), &values, &user.actor.caller()).await {
        Ok(obj) => {
            return Redirect::to(&format!(
                "/console/calendars/{}?notice=created",
                obj.meta.id
            ))
            .into_response();
        }
        Err(AppError::Validation(problems)) => problems,
        Err(AppError::Conflict { message, .. }) => vec![Problem::new("/meta/id", message)],
        Err(e) => return api_error(e),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        editor(
            &user,
            View {
                stored: None,
                values: &values,
                errors: &problems,
                version: 0,
                notice: None,
                conflict: None,
                used_by: &[],
            },
        ),
    )
        .into_response()
}

/// `POST /console/calendars/{id}`
pub async fn save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let obj = match state.app.object(def(), &id).await {
        Ok(o) => o,
        Err(e) => return api_error(e),
    };
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(obj.meta.version);
    let values = read_form(false, &form);
    let saved = state
        .app
        .replace(def(), &id, &values, Some(expected), &user.actor.caller())
        .await;
    let (status, errors, conflict) = match saved {
        Ok(_) => {
            return Redirect::to(&format!("/console/calendars/{id}?notice=calendar-saved"))
                .into_response();
        }
        Err(AppError::Conflict { current, .. }) => {
            let v = current.map_or(expected, |c| c.meta.version);
            (
                StatusCode::CONFLICT,
                Vec::new(),
                Some(format!(
                    "Not saved: someone else saved this calendar while you were editing (it is now at version {v}; you edited version {expected}). Your changes are still in the form below."
                )),
            )
        }
        Err(AppError::Validation(p)) => (StatusCode::UNPROCESSABLE_ENTITY, p, None),
        Err(e) => return api_error(e),
    };
    let used_by = state.app.jobs_excluding(&id).await.unwrap_or_default();
    (
        status,
        editor(
            &user,
            View {
                stored: Some(&obj),
                values: &values,
                errors: &errors,
                version: expected,
                notice: None,
                conflict,
                used_by: &used_by,
            },
        ),
    )
        .into_response()
}

/// `POST /console/calendars/{id}/duplicate`
pub async fn duplicate(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    match duplicate_object(&state, def(), &id, &user.actor.caller()).await {
        Ok(new_id) => {
            Redirect::to(&format!("/console/calendars/{new_id}?notice=duplicated")).into_response()
        }
        Err(e) => api_error(e),
    }
}

/// `GET /console/calendars/{id}/delete`
pub async fn delete_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = user.require_operator() {
        return r;
    }
    match state.app.object(def(), &id).await {
        Ok(obj) => delete_confirmation(&user, "calendars", &obj).into_response(),
        Err(e) => api_error(e),
    }
}

/// `POST /console/calendars/{id}/delete`: refused (409, naming the jobs)
/// while jobs exclude the calendar.
pub async fn delete(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    delete_object(&state, def(), &id, &form, &user.actor.caller()).await
}
