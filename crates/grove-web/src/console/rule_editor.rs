//! The advancement rule editor (blue): from → to tier, all/any, conditions
//! (signal, operator, threshold), enabled.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::AppError;
use grove_app::objects::object_type;
use grove_core::advancement_rule::{
    AdvancementRulePayload, MAX_CONDITIONS, MatchMode, Operator, SignalKind,
};
use grove_core::lifecycle::DEFAULT_MODEL;
use grove_core::registry::{ADVANCEMENT_RULE, TypeDef};
use grove_core::validate::{Choice, Problem};
use grove_store::StoredObject;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::form::{
    Control, FieldSpec, Fields, FormData, Section, choice_label, csrf_input, error_summary, read,
};
use super::grid::pretty_op;
use super::job_editor::{delete_confirmation, delete_object, duplicate_object, set_flag};
use super::layout::{self, Icon, Nav};
use super::session::{ConsoleUser, api_error};
use crate::state::AppState;

fn def() -> &'static TypeDef {
    object_type(ADVANCEMENT_RULE).expect("advancement-rule is registered")
}

fn sections(new: bool) -> Vec<Section> {
    let tiers: Vec<(String, String)> = DEFAULT_MODEL
        .tiers
        .iter()
        .map(|t| ((*t).to_owned(), choice_label(t)))
        .collect();
    let mut general = vec![
        FieldSpec::new(
            "/meta/title",
            "Title",
            Control::Text {
                placeholder: "Seed → Sprout",
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
            .optional(),
        );
    }
    vec![
        Section {
            title: "General",
            fields: general,
        },
        Section {
            title: "Advancement",
            fields: vec![
                FieldSpec::new(
                    "/payload/fromTier",
                    "From Tier",
                    Control::Select(tiers.clone()),
                ),
                FieldSpec::new("/payload/toTier", "To Tier", Control::Select(tiers)),
                FieldSpec::new(
                    "/payload/match",
                    "Match",
                    Control::Radio(vec![
                        ("all".to_owned(), "All conditions".to_owned()),
                        ("any".to_owned(), "Any condition".to_owned()),
                    ]),
                ),
                FieldSpec::new("/payload/isEnabled", "Enabled", Control::Toggle),
            ],
        },
    ]
}

/// Reads the form, including the condition rows (blank rows are dropped).
pub fn read_form(new: bool, form: &FormData) -> Value {
    let mut v = read(&sections(new), form);
    let signals = form.all("cond.signal");
    let ops = form.all("cond.operator");
    let thresholds = form.all("cond.threshold");
    let mut conditions = Vec::new();
    for (i, signal) in signals.iter().enumerate() {
        let threshold = thresholds.get(i).copied().unwrap_or("").trim();
        if signal.is_empty() && threshold.is_empty() {
            continue;
        }
        let t = threshold
            .parse::<f64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(threshold));
        conditions.push(json!({"signal": signal, "operator": ops.get(i).copied().unwrap_or(">="), "threshold": t}));
    }
    v["payload"]["conditions"] = json!(conditions);
    v
}

fn conditions_editor(values: &Value, errors: &[Problem], disabled: bool) -> Markup {
    let conds: Vec<Value> = values
        .pointer("/payload/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // The rows there are and one empty one to add a condition without
    // JavaScript; with it, Add condition and Remove change the rows.
    let rows = (conds.len() + 1).clamp(1, MAX_CONDITIONS);
    let errs: Vec<&Problem> = errors
        .iter()
        .filter(|p| p.pointer.starts_with("/payload/conditions"))
        .collect();
    html! {
        fieldset class="section" disabled[disabled] id="f-payload-conditions" {
            legend { "Conditions" }
            p class="hint" { "Signal, comparison and threshold; at most " (MAX_CONDITIONS) ". Leave a row's signal empty to drop it." }
            @for i in 0..rows {
                @let c = conds.get(i);
                @let sig = c.and_then(|c| c["signal"].as_str()).unwrap_or("");
                @let op = c.and_then(|c| c["operator"].as_str()).unwrap_or(">=");
                @let th = c.map(|c| match &c["threshold"] { Value::Number(n) => super::form::number_text(n), Value::String(s) => s.clone(), _ => String::new() }).unwrap_or_default();
                div class="cond-row" data-row=(i) {
                    label class="sr-only" for={ "cs" (i) } { "Signal " (i + 1) }
                    select id={ "cs" (i) } name="cond.signal" {
                        option value="" selected[sig.is_empty()] { "— signal —" }
                        @for k in SignalKind::ALL {
                            option value=(k.plural()) selected[sig == k.plural() || sig == k.name()] { (k.plural()) }
                        }
                    }
                    label class="sr-only" for={ "co" (i) } { "Operator " (i + 1) }
                    select id={ "co" (i) } name="cond.operator" {
                        @for o in Operator::ALL { option value=(o.name()) selected[op == o.name()] { (pretty_op(o.name())) } }
                    }
                    label class="sr-only" for={ "ct" (i) } { "Threshold " (i + 1) }
                    input type="number" id={ "ct" (i) } name="cond.threshold" value=(th) step="any" min="0" inputmode="decimal";
                    button type="button" class="btn btn-ghost js-only cond-remove" aria-label={ "Remove condition " (i + 1) } title="Remove this condition" { "×" }
                }
            }
            button type="button" class="btn js-only cond-add" data-max=(MAX_CONDITIONS) { "+ Add condition" }
            @if !errs.is_empty() {
                div class="field invalid" { p class="field-error full-row" role="alert" {
                    (Icon::Error.svg()) span { @for (i, e) in errs.iter().enumerate() { @if i > 0 { "; " } "condition " (e.pointer.split('/').nth(3).and_then(|n| n.parse::<usize>().ok()).map(|n| (n + 1).to_string()).unwrap_or_default()) " " (e.message) } }
                } }
            }
        }
    }
}

struct View<'a> {
    stored: Option<&'a StoredObject>,
    values: &'a Value,
    errors: &'a [Problem],
    version: i64,
    notice: Option<&'a str>,
    saved: Option<Markup>,
    conflict: Option<String>,
}

fn editor(user: &ConsoleUser, v: View<'_>) -> Markup {
    let new = v.stored.is_none();
    let secs = sections(new);
    let errors = super::form::humanize(v.errors, &secs);
    let fields = Fields {
        values: v.values,
        errors: &errors,
        disabled: !user.can_edit(),
        after: None,
    };
    let id = v.stored.map(|o| o.meta.id.clone()).unwrap_or_default();
    let title = v
        .stored
        .map(|o| o.meta.title.clone())
        .unwrap_or_else(|| "New advancement rule".to_owned());
    let action = if new {
        "/console/rules".to_owned()
    } else {
        format!("/console/rules/{id}")
    };
    let stored_payload = v
        .stored
        .and_then(|o| <AdvancementRulePayload as serde::Deserialize>::deserialize(&o.payload).ok());
    let body = html! {
        div class="crumbs" { a href="/console?type=advancement-rule" { "Advancement Rules" } " / " (if new { "new" } else { id.as_str() }) }
        div class="editor-head" {
            h1 { span class="icon-lg" { (Icon::Bolt.svg()) } (title) }
            @if let Some(o) = v.stored {
                div class="version" { "version " (o.meta.version) " · " a href={ "/console/rules/" (id) "/revisions" } { "Revisions" } }
            }
        }
        (layout::notice(v.notice))
        @if let Some(n) = &v.saved { (n) }
        @if let Some(c) = &v.conflict {
            div class="notice status--error" role="alert" { (Icon::Error.svg()) p { (c) " " a href={ "/console/rules/" (id) } { "Load the current version" } } }
        }
        (error_summary(&errors, &secs))
        nav class="tabs" role="tablist" aria-label="Editor" {
            a href="#config" role="tab" aria-selected="true" { (Icon::Tune.svg()) "Configuration" }
            @if !new { a href="#status" role="tab" aria-selected="false" { (Icon::Bolt.svg()) "Status" } }
        }
        div class="columns" {
            details class="panel" id="config" open {
                summary { (Icon::Tune.svg()) "Configuration" }
                form method="post" action=(action) novalidate {
                    (csrf_input(&user.csrf))
                    input type="hidden" name="version" value=(v.version);
                    div class="panel-body" {
                        @for s in &secs { (fields.section(s, None)) }
                        (conditions_editor(v.values, &errors, !user.can_edit()))
                    }
                    @if user.can_edit() {
                        div class="actions-bar" {
                            button type="submit" class="btn btn-primary" { @if new { "Create rule" } @else { "Save Changes" } }
                            @if !new {
                                button type="submit" class="btn" formaction={ "/console/rules/" (id) "/duplicate" } { "Duplicate" }
                                a class="btn btn-danger" href={ "/console/rules/" (id) "/delete" } { "Delete" }
                            } @else {
                                a class="btn" href="/console?type=advancement-rule" { "Cancel" }
                            }
                        }
                    }
                }
            }
            @if let Some(p) = &stored_payload {
                details class="panel" id="status" open {
                    summary { (Icon::Bolt.svg()) "Status" }
                    div class="panel-body padded" {
                        p {
                            @if p.is_enabled { span class="badge badge-healthy" { (Icon::Check.svg()) "Active" } }
                            @else { span class="badge badge-disabled" { (Icon::Pause.svg()) "Disabled" } }
                        }
                        p { "A sprout in " span class="tier" { (choice_label(&p.from_tier)) } " advances to " span class="tier" { (choice_label(&p.to_tier)) }
                            " when " (if p.match_mode == MatchMode::All { "all" } else { "any" }) " of these hold:" }
                        ul class="conditions" { @for c in &p.conditions { li { (c.signal) " " (pretty_op(c.operator.name())) " " (c.threshold) } } }
                        p class="hint" { "Rules are evaluated by the advancement-batch job over the signal period it is configured with." }
                    }
                }
            } @else if new {
                aside class="panel" id="about" aria-labelledby="about-title" {
                    div class="panel-body padded" {
                        h2 id="about-title" { "About advancement rules" }
                        p { "A rule moves a sprout from one tier to the next when its signals reach the thresholds: all of the conditions, or any of them." }
                        ul class="steps" {
                            li { "Each condition compares a signal (retrievals, citations, …) with a threshold; add up to " (MAX_CONDITIONS) "." }
                            li { "The advancement-batch job applies enabled rules each time it runs, over the signal period it is configured with." }
                            li { "Every save is kept in " strong { "Revisions" } "." }
                        }
                    }
                }
            }
        }
    };
    layout::page(&title, user, Nav::Rules, "rule-page", body)
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    /// After a save: the version saved.
    v: Option<i64>,
}

/// `GET /console/rules/{id}`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    match state.app.object(def(), &id).await {
        Ok(obj) => {
            let values = json!({"meta": obj.meta, "payload": obj.payload});
            let saved = (q.notice.as_deref() == Some("rule-saved"))
                .then(|| layout::saved_notice(q.v.unwrap_or(obj.meta.version), None));
            editor(
                &user,
                View {
                    stored: Some(&obj),
                    values: &values,
                    errors: &[],
                    version: obj.meta.version,
                    notice: if saved.is_some() {
                        None
                    } else {
                        q.notice.as_deref()
                    },
                    saved,
                    conflict: None,
                },
            )
            .into_response()
        }
        Err(e) => api_error(e),
    }
}

/// `GET /console/rules/new`
pub async fn new_page(user: ConsoleUser) -> Response {
    if let Err(r) = user.require_operator() {
        return r;
    }
    let values = json!({"meta": {"title": "Seed → Sprout"}, "payload": AdvancementRulePayload::default_payload().to_value()});
    editor(
        &user,
        View {
            stored: None,
            values: &values,
            errors: &[],
            version: 0,
            notice: None,
            saved: None,
            conflict: None,
        },
    )
    .into_response()
}

/// `POST /console/rules`
pub async fn create(State(state): State<AppState>, user: ConsoleUser, form: FormData) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let values = read_form(true, &form);
    let problems = match state.app.create(def(), &values, &user.actor.caller()).await {
        Ok(obj) => {
            return Redirect::to(&format!("/console/rules/{}?notice=created", obj.meta.id))
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
                saved: None,
                conflict: None,
            },
        ),
    )
        .into_response()
}

/// `POST /console/rules/{id}`
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
    let mut values = read_form(false, &form);
    if let Some(m) = obj.payload.get("lifecycleModelId") {
        values["payload"]["lifecycleModelId"] = m.clone();
    }
    let saved = state
        .app
        .replace(def(), &id, &values, Some(expected), &user.actor.caller())
        .await;
    let (status, errors, conflict) = match saved {
        Ok(saved) => {
            return Redirect::to(&format!(
                "/console/rules/{id}?notice=rule-saved&v={}",
                saved.meta.version
            ))
            .into_response();
        }
        Err(AppError::Conflict { current, .. }) => {
            let v = current.map_or(expected, |c| c.meta.version);
            (
                StatusCode::CONFLICT,
                Vec::new(),
                Some(format!(
                    "Not saved: someone else saved this rule while you were editing (it is now at version {v}; you edited version {expected}). Your changes are still in the form below."
                )),
            )
        }
        Err(AppError::Validation(p)) => (StatusCode::UNPROCESSABLE_ENTITY, p, None),
        Err(e) => return api_error(e),
    };
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
                saved: None,
                conflict,
            },
        ),
    )
        .into_response()
}

/// `POST /console/rules/{id}/duplicate`
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
            Redirect::to(&format!("/console/rules/{new_id}?notice=duplicated")).into_response()
        }
        Err(e) => api_error(e),
    }
}

/// `GET /console/rules/{id}/delete`
pub async fn delete_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = user.require_operator() {
        return r;
    }
    match state.app.object(def(), &id).await {
        Ok(obj) => delete_confirmation(&user, "rules", &obj).into_response(),
        Err(e) => api_error(e),
    }
}

/// `POST /console/rules/{id}/delete`
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

/// `POST /console/rules/{id}/enabled`
pub async fn set_enabled(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    match set_flag(&state, &user, def(), &id, "/payload/isEnabled", &form).await {
        Ok(on) => super::job_editor::switched(&form, "/console?type=advancement-rule", &id, on),
        Err(r) => r,
    }
}
