//! HTML forms ↔ JSON. A form is a list of [`FieldSpec`]s, each naming the
//! JSON pointer it edits (`/payload/limits/batchSize`) and its control; the
//! same list renders the form and reads a post back into `{meta, payload}`,
//! so the form cannot drift from what it submits. Validation problems are
//! shown at the field whose pointer they name.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use grove_core::validate::Problem;
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::layout::Icon;
use super::session::CSRF_FIELD;

/// A posted `application/x-www-form-urlencoded` body, in order.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map(|f| Self(f.0))
            .map_err(|e| {
                super::session::refusal(e.status(), "Bad form", &e.body_text()).into_response()
            })
    }
}

/// How a field is edited and how its value is read back.
#[derive(Debug, Clone)]
pub enum Control {
    Text {
        placeholder: &'static str,
    },
    Url,
    Textarea,
    /// A whole number, with a unit shown after it.
    Number {
        unit: &'static str,
        min: i64,
        max: i64,
    },
    /// One boolean.
    Toggle,
    /// One of (value, label).
    Radio(Vec<(String, String)>),
    Select(Vec<(String, String)>),
    /// Any of (value, label), read back as a list.
    Checks(Vec<(String, String)>),
    /// A list typed one per line (or comma separated).
    Lines,
    /// The cron expression, with help and a preview slot.
    Cron,
    /// An IANA zone name, with a datalist of every zone.
    Timezone,
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub pointer: &'static str,
    pub label: &'static str,
    pub control: Control,
    pub hint: Option<&'static str>,
    /// Left out of the JSON when empty (the schema supplies a default).
    pub optional: bool,
}

impl FieldSpec {
    pub fn new(pointer: &'static str, label: &'static str, control: Control) -> Self {
        Self {
            pointer,
            label,
            control,
            hint: None,
            optional: false,
        }
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The HTML id of the control.
    pub fn id(&self) -> String {
        match self.control {
            Control::Cron => "cron".to_owned(),
            Control::Timezone => "timezone".to_owned(),
            _ => field_id(self.pointer),
        }
    }
}

/// A titled group of fields.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: &'static str,
    pub fields: Vec<FieldSpec>,
}

pub fn field_id(pointer: &str) -> String {
    format!(
        "f{}",
        pointer
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    )
}

/// Sets `pointer` in `root`, creating objects on the way.
pub fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let mut cur = root;
    let tokens: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, t) in tokens.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let map = cur.as_object_mut().expect("object");
        if i + 1 == tokens.len() {
            map.insert((*t).to_owned(), value);
            return;
        }
        cur = map.entry((*t).to_owned()).or_insert_with(|| json!({}));
    }
}

fn number_value(text: &str) -> Value {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        json!(i)
    } else if let Ok(f) = t.parse::<f64>() {
        json!(f)
    } else {
        json!(t)
    }
}

/// Reads a post into `{meta, payload}` following the specs.
pub fn read(sections: &[Section], form: &FormData) -> Value {
    let mut out = json!({"meta": {}, "payload": {}});
    for spec in sections.iter().flat_map(|s| &s.fields) {
        let name = spec.pointer;
        let value = match &spec.control {
            Control::Toggle => Some(json!(form.get(name).is_some())),
            Control::Checks(_) => Some(json!(form.all(name))),
            Control::Lines => {
                let items: Vec<&str> = form
                    .get(name)
                    .unwrap_or("")
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                Some(json!(items))
            }
            Control::Number { .. } => form
                .get(name)
                .filter(|v| !v.trim().is_empty())
                .map(number_value),
            _ => match form.get(name) {
                Some(v) if !v.trim().is_empty() => Some(json!(v.trim())),
                Some(_) if !spec.optional => Some(json!("")),
                _ => None,
            },
        };
        match value {
            Some(v) if !(spec.optional && (v == json!([]))) => set_pointer(&mut out, name, v),
            _ => {}
        }
    }
    out
}

/// Renders fields with values from `{meta, payload}` and problems at their pointers.
#[derive(Debug)]
pub struct Fields<'a> {
    pub values: &'a Value,
    pub errors: &'a [Problem],
    pub disabled: bool,
    /// Extra markup shown right after the field with this pointer.
    pub after: Option<(&'static str, Markup)>,
}

impl Fields<'_> {
    /// Problems at this pointer or below it.
    pub fn errors_at(&self, pointer: &str) -> Vec<&Problem> {
        self.errors
            .iter()
            .filter(|p| {
                p.pointer == pointer
                    || p.pointer
                        .strip_prefix(pointer)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .collect()
    }

    fn text_of(&self, pointer: &str) -> String {
        match self.values.pointer(pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }

    fn list_of(&self, pointer: &str) -> Vec<String> {
        match self.values.pointer(pointer) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn section(&self, section: &Section, extra: Option<Markup>) -> Markup {
        html! {
            fieldset class="section" disabled[self.disabled] {
                legend { (section.title) }
                @for f in &section.fields { (self.field(f)) }
                @if let Some(e) = extra { (e) }
            }
        }
    }

    pub fn field(&self, f: &FieldSpec) -> Markup {
        let id = f.id();
        let errors = self.errors_at(f.pointer);
        let invalid = !errors.is_empty();
        let err_id = format!("{id}-err");
        let hint_id = format!("{id}-hint");
        let described = match (invalid, f.hint.is_some()) {
            (true, true) => Some(format!("{err_id} {hint_id}")),
            (true, false) => Some(err_id.clone()),
            (false, true) => Some(hint_id.clone()),
            (false, false) => None,
        };
        let name = f.pointer;
        let value = self.text_of(f.pointer);
        let group = matches!(f.control, Control::Radio(_) | Control::Checks(_));
        html! {
            div class={ "field" @if invalid { " invalid" } } data-pointer=(f.pointer) {
                @if group {
                    span class="label" id={ (id) "-label" } { (f.label) }
                } @else {
                    label class="label" for=(id) { (f.label) }
                }
                @match &f.control {
                    Control::Text { placeholder } => {
                        input type="text" id=(id) name=(name) value=(value) placeholder=(placeholder)
                            aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                    }
                    Control::Url => {
                        input type="url" id=(id) name=(name) value=(value) placeholder="https://…"
                            aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                    }
                    Control::Textarea => {
                        textarea id=(id) name=(name) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] { (value) }
                    }
                    Control::Lines => {
                        textarea id=(id) name=(name) rows="3" aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] { (value) }
                    }
                    Control::Number { unit, min, max } => {
                        div class="with-unit" {
                            input type="number" id=(id) name=(name) value=(value) min=(min) max=(max) step="1" inputmode="numeric"
                                aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                            @if !unit.is_empty() { span class="unit" { (unit) } }
                        }
                    }
                    Control::Toggle => {
                        label class="switch" {
                            input class="toggle" type="checkbox" id=(id) name=(name) value="true"
                                checked[self.values.pointer(f.pointer) == Some(&Value::Bool(true))]
                                aria-describedby=[described.as_deref()];
                            span class="track" aria-hidden="true" {}
                            span class="state-on" aria-hidden="true" { "On" }
                            span class="state-off" aria-hidden="true" { "Off" }
                        }
                    }
                    Control::Radio(options) => {
                        div class="choices" role="radiogroup" aria-labelledby={ (id) "-label" } aria-describedby=[described.as_deref()] {
                            @for (i, (v, l)) in options.iter().enumerate() {
                                label class="choice" {
                                    input type="radio" id={ (id) "-" (i) } name=(name) value=(v) checked[*v == value];
                                    (l)
                                }
                            }
                        }
                    }
                    Control::Select(options) => {
                        select id=(id) name=(name) aria-describedby=[described.as_deref()] {
                            @for (v, l) in options {
                                option value=(v) selected[*v == value] { (l) }
                            }
                        }
                    }
                    Control::Checks(options) => {
                        @let chosen = self.list_of(f.pointer);
                        div class="choices" role="group" aria-labelledby={ (id) "-label" } aria-describedby=[described.as_deref()] {
                            @for (i, (v, l)) in options.iter().enumerate() {
                                label class="choice" {
                                    input type="checkbox" id={ (id) "-" (i) } name=(name) value=(v) checked[chosen.contains(v)];
                                    (l)
                                }
                            }
                        }
                    }
                    Control::Cron => {
                        div class="cron-row" {
                            input type="text" id="cron" name=(name) value=(value) class="mono" autocomplete="off" spellcheck="false"
                                aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                            (cron_help())
                        }
                    }
                    Control::Timezone => {
                        input type="text" id="timezone" name=(name) value=(value) list="tz-list" autocomplete="off"
                            aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                        datalist id="tz-list" {
                            @for tz in timezones() { option value=(tz) {} }
                        }
                    }
                }
                @if let Some(h) = f.hint { p class="hint" id=(hint_id) { (h) } }
                @if invalid {
                    p class="field-error" id=(err_id) role="alert" {
                        (Icon::Error.svg())
                        span { @for (i, e) in errors.iter().enumerate() { @if i > 0 { "; " } (e.message) } }
                    }
                }
                @if let Some((p, extra)) = &self.after { @if *p == f.pointer { (extra) } }
            }
        }
    }
}

/// Every IANA region zone name the database knows (the names validation
/// accepts), sorted.
pub fn timezones() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .filter(|n| grove_core::schedule::parse_timezone(n).is_ok())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The cron help tooltip: what the five fields mean.
pub fn cron_help() -> Markup {
    html! {
        details class="help" {
            summary aria-label="Cron expression help" title="Cron expression help" { (Icon::Help.svg()) }
            div class="tip" role="note" {
                p { "Five fields, separated by spaces:" }
                table {
                    tr { td { code { "minute" } } td { "0–59" } }
                    tr { td { code { "hour" } } td { "0–23" } }
                    tr { td { code { "day of month" } } td { "1–31, L (last), 15W (nearest weekday)" } }
                    tr { td { code { "month" } } td { "1–12 or JAN–DEC" } }
                    tr { td { code { "day of week" } } td { "0–6 (Sunday = 0) or SUN–SAT, 5#2 (2nd Friday)" } }
                }
                p { code { "*" } " any, " code { "1-5" } " range, " code { "*/15" } " every 15, " code { "1,15" } " list. "
                    "Macros: " code { "@hourly" } " " code { "@daily" } " " code { "@weekly" } "." }
                p { "Examples: " code { "0 2 * * *" } " daily at 2:00 AM; " code { "*/15 * * * *" } " every 15 minutes; "
                    code { "0 9 * * MON-FRI" } " weekdays at 9:00 AM. Times are in the job's time zone." }
            }
        }
    }
}

/// The hidden CSRF field.
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// The problems with every field name the schema uses ("maxDelaySeconds")
/// written as the form labels it ("Max Delay").
pub fn humanize(errors: &[Problem], sections: &[Section]) -> Vec<Problem> {
    let names: Vec<(&str, &str)> = sections
        .iter()
        .flat_map(|s| &s.fields)
        .filter_map(|f| {
            let name = f.pointer.rsplit('/').next()?;
            name.chars()
                .any(|c| c.is_ascii_uppercase())
                .then_some((name, f.label))
        })
        .collect();
    errors
        .iter()
        .map(|p| {
            let mut message = p.message.clone();
            for (name, label) in &names {
                message = replace_word(&message, name, &format!("\u{201c}{label}\u{201d}"));
            }
            Problem::new(p.pointer.clone(), message)
        })
        .collect()
}

/// `text` with each whole-word `word` replaced.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A number as people write it: "10", not "10.0".
pub fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

/// All problems, linking to their fields (those without a field are listed too).
pub fn error_summary(errors: &[Problem], sections: &[Section]) -> Markup {
    let target = |p: &Problem| -> Option<(String, String)> {
        sections
            .iter()
            .flat_map(|s| &s.fields)
            .find(|f| {
                p.pointer == f.pointer
                    || p.pointer
                        .strip_prefix(f.pointer)
                        .is_some_and(|r| r.starts_with('/'))
            })
            .map(|f| (f.label.to_owned(), f.id()))
    };
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" id="errors" {
                h2 { (Icon::Error.svg()) (errors.len()) " problem" @if errors.len() != 1 { "s" } " to fix before saving" }
                ul {
                    @for p in errors {
                        li {
                            @match target(p) {
                                Some((label, id)) => { a href={ "#" (id) } { (label) } ": " (p.message) }
                                None => { code { (p.pointer) } ": " (p.message) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "all_time" → "All Time", "last_30d" → "Last 30 Days", "job.failed" → "Job Failed".
pub fn choice_label(name: &str) -> String {
    match name {
        "all_time" => return "All Time".to_owned(),
        "last_30d" => return "Last 30 Days".to_owned(),
        "last_7d" => return "Last 7 Days".to_owned(),
        "run-once" => return "Run once".to_owned(),
        "api" => return "API".to_owned(),
        "rag" => return "RAG".to_owned(),
        _ => {}
    }
    name.split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// (value, label) pairs of a choice enum.
pub fn options<C: grove_core::validate::Choice>() -> Vec<(String, String)> {
    C::ALL
        .iter()
        .map(|c| (c.name().to_owned(), choice_label(c.name())))
        .collect()
}
