//! The job configuration editor: tabs Configuration | Status, every payload
//! field as a labelled control built from the schema's enums and bounds,
//! inline validation at the field the server's pointer names, optimistic
//! concurrency through the version the form carries.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::AppError;
use grove_app::objects::{CopyNames, object_type};
use grove_core::job_config::ScheduleConfig;
use grove_core::job_config::{
    AlertThreshold, Channel, CleanupEntity, EventType, Health, HealthCheckKind, JobConfigPayload,
    JobType, MisfirePolicy, OverlapPolicy, SignalPeriod, bounds,
};
use grove_core::lifecycle::{DEFAULT_MODEL, MODELS};
use grove_core::plan::{Calendars, JobPlan};
use grove_core::registry::{JOB_CONFIG, TypeDef};
use grove_core::render::{ExecutionView, format_duration, status_tree};
use grove_core::retry::BackoffStrategy;
use grove_core::schedule::{DstPolicy, Schedule};
use grove_core::validate::{Choice, Problem};
use grove_store::StoredObject;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::execution::{is_running, legacy_configuration_in_use, recent_executions, request_run};
use super::form::{
    Control, FieldSpec, Fields, FormData, Section, csrf_input, error_summary, options, read,
};
use super::layout::{self, Icon, Nav, health_badge, run_status, short, when, zone};
use super::render::{RenderContext, render_tree};
use super::session::{ConsoleUser, api_error, refusal};
use crate::error::ApiError;
use crate::state::AppState;

fn def() -> &'static TypeDef {
    object_type(JOB_CONFIG).expect("job-config is registered")
}

/// Lifecycle models; the default is the empty value, so payloads that leave
/// the model out keep leaving it out.
fn model_options() -> Vec<(String, String)> {
    MODELS
        .iter()
        .map(|m| {
            let value = if m.id == DEFAULT_MODEL.id {
                String::new()
            } else {
                m.id.to_owned()
            };
            (value, format!("{} ({})", m.id, m.tiers.join(" → ")))
        })
        .collect()
}

fn num(pointer: &'static str, label: &'static str, unit: &'static str, b: (i64, i64)) -> FieldSpec {
    FieldSpec::new(
        pointer,
        label,
        Control::Number {
            unit,
            min: b.0,
            max: b.1,
        },
    )
}

/// The form of a job type: every payload field, in the brief's order.
/// `calendars` are the (id, label) choices of Exclude Calendars.
pub fn sections(job_type: JobType, new: bool, calendars: &[(String, String)]) -> Vec<Section> {
    let mut general = vec![
        FieldSpec::new(
            "/meta/title",
            "Title",
            Control::Text {
                placeholder: "Daily Advancement",
            },
        )
        .hint("The configuration's name in revisions, the audit trail and the API."),
        FieldSpec::new(
            "/payload/displayName",
            "Display Name",
            Control::Text {
                placeholder: "Shown on cards",
            },
        )
        .hint("What operators see: cards, the timeline, run pages and notifications."),
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
            .hint("Letters, digits, '-', '_' or '.'; used in URLs. Cannot be changed later."),
        );
    }
    let tiers: Vec<(String, String)> = DEFAULT_MODEL
        .tiers
        .iter()
        .map(|t| ((*t).to_owned(), (*t).to_owned()))
        .collect();
    let parameters = match job_type {
        JobType::AdvancementBatch => vec![
            FieldSpec::new(
                "/payload/parameters/signalPeriod",
                "Signal Period",
                Control::Radio(options::<SignalPeriod>()),
            ),
            FieldSpec::new(
                "/payload/parameters/fromTiers",
                "From Tiers",
                Control::Checks(tiers),
            )
            .optional()
            .hint("Sprouts in these tiers are evaluated; none checked means every tier."),
            FieldSpec::new(
                "/payload/parameters/lifecycleModelId",
                "Lifecycle Model",
                Control::Select(model_options()),
            )
            .optional(),
            FieldSpec::new("/payload/parameters/dryRun", "Dry Run", Control::Toggle)
                .hint("Record what would advance without changing any tier."),
        ],
        JobType::SignalAggregation => vec![FieldSpec::new(
            "/payload/parameters/periods",
            "Periods",
            Control::Checks(options::<SignalPeriod>()),
        )],
        JobType::NotificationDigest => vec![
            FieldSpec::new(
                "/payload/parameters/eventTypes",
                "Event Types",
                Control::Checks(options::<EventType>()),
            ),
            FieldSpec::new(
                "/payload/parameters/recipientIds",
                "Recipients",
                Control::Lines,
            )
            .hint("Operator ids, one per line."),
            FieldSpec::new(
                "/payload/parameters/channels",
                "Digest Channels",
                Control::Checks(options::<Channel>()),
            )
            .hint("Where the digest itself is delivered to the recipients."),
            FieldSpec::new(
                "/payload/parameters/webhookUrl",
                "Digest Webhook URL",
                Control::Url,
            )
            .optional()
            .hint("Receives the digest; required when the digest's webhook channel is checked."),
        ],
        JobType::OrphanCleanup => vec![
            FieldSpec::new(
                "/payload/parameters/entityTypes",
                "Entity Types",
                Control::Checks(options::<CleanupEntity>()),
            ),
            num(
                "/payload/parameters/orphanThresholdDays",
                "Orphan Threshold",
                "days",
                bounds::ORPHAN_THRESHOLD_DAYS,
            ),
            FieldSpec::new("/payload/parameters/dryRun", "Dry Run", Control::Toggle)
                .hint("Only count what would be archived."),
        ],
        JobType::HealthCheck => vec![
            FieldSpec::new(
                "/payload/parameters/checks",
                "Checks",
                Control::Checks(options::<HealthCheckKind>()),
            ),
            FieldSpec::new(
                "/payload/parameters/alertThreshold",
                "Alert Threshold",
                Control::Radio(options::<AlertThreshold>()),
            ),
            FieldSpec::new(
                "/payload/parameters/endpoints/api",
                "API Endpoint",
                Control::Url,
            )
            .optional(),
            FieldSpec::new(
                "/payload/parameters/endpoints/rag",
                "RAG Endpoint",
                Control::Url,
            )
            .optional()
            .hint("Without one, the rag check is skipped with a warning."),
        ],
    };
    vec![
        Section { title: "General", fields: general },
        Section {
            title: "Schedule",
            fields: vec![
                FieldSpec::new("/payload/schedule/cronExpression", "Cron Expression", Control::Cron)
                    .optional(),
                FieldSpec::new("/payload/schedule/runAt", "Run Once At", Control::Text { placeholder: "2027-01-15T09:00:00-05:00" })
                    .optional()
                    .hint("Instead of a cron expression: one run at this instant (RFC 3339, with its offset). Leave empty for a repeating schedule."),
                FieldSpec::new("/payload/schedule/timezone", "Timezone", Control::Timezone)
                    .hint("An IANA zone; every time shown for this job is in it."),
                FieldSpec::new("/payload/schedule/isEnabled", "Schedule Active", Control::Toggle),
                FieldSpec::new("/payload/schedule/excludeCalendars", "Exclude Calendars", Control::Checks(calendars.to_vec()))
                    .optional()
                    .hint(if calendars.is_empty() {
                        "No calendars yet: create one (New calendar on the grid) to skip holidays or maintenance windows."
                    } else {
                        "A slot that falls in a checked calendar's excluded times does not run and is not recorded."
                    }),
                FieldSpec::new("/payload/schedule/pausedUntil", "Paused Until", Control::Text { placeholder: "2026-12-28T06:00:00Z" })
                    .optional()
                    .hint("No slot before this instant runs, and missed runs are not made up; the job resumes by itself. Clear it to resume now."),
                num("/payload/schedule/jitterSeconds", "Jitter", "sec", bounds::JITTER_SECONDS)
                    .optional()
                    .hint("Each run is due up to this many seconds after its slot, the same on every instance, to spread load; 0 = on the slot."),
                FieldSpec::new("/payload/schedule/misfirePolicy", "Missed Runs", Control::Radio(options::<MisfirePolicy>()))
                    .hint("Runs missed while the service was down: run once (within the starting deadline) or skip."),
                num("/payload/schedule/startingDeadlineSeconds", "Starting Deadline", "sec", bounds::STARTING_DEADLINE_SECONDS),
                FieldSpec::new("/payload/schedule/dstPolicy", "Daylight Saving", Control::Radio(options::<DstPolicy>()))
                    .hint("cron: a skipped time runs right after the jump, a repeated time once. literal: the wall clock as written."),
                FieldSpec::new("/payload/schedule/overlapPolicy", "Overlapping Runs", Control::Radio(options::<OverlapPolicy>()))
                    .hint("When a run is due while Max Concurrent runs are going."),
                num("/payload/schedule/autoDisableAfterFailures", "Auto-disable After", "failures", bounds::AUTO_DISABLE)
                    .hint("Consecutive failed runs before the schedule turns itself off; 0 = never."),
            ],
        },
        Section {
            title: "Execution",
            fields: vec![
                num("/payload/limits/batchSize", "Batch Size", "items", bounds::BATCH_SIZE),
                num("/payload/limits/timeoutSeconds", "Timeout (sec)", "sec", bounds::TIMEOUT_SECONDS),
                num("/payload/limits/maxConcurrent", "Max Concurrent", "runs", bounds::MAX_CONCURRENT),
            ],
        },
        Section {
            title: "Retry Policy",
            fields: vec![
                num("/payload/retry/maxAttempts", "Max Attempts", "", bounds::MAX_ATTEMPTS)
                    .hint("All attempts, including the first."),
                FieldSpec::new("/payload/retry/backoffStrategy", "Strategy", Control::Radio(options::<BackoffStrategy>())),
                num("/payload/retry/initialDelaySeconds", "Initial Delay", "sec", bounds::DELAY_SECONDS),
                num("/payload/retry/maxDelaySeconds", "Max Delay", "sec", bounds::DELAY_SECONDS),
            ],
        },
        Section { title: "Job Parameters", fields: parameters },
        Section {
            title: "Notifications",
            fields: vec![
                FieldSpec::new("/payload/notifications/onSuccess", "On Success", Control::Toggle),
                FieldSpec::new("/payload/notifications/onFailure", "On Failure", Control::Toggle),
                FieldSpec::new("/payload/notifications/channels", "Alert Channels", Control::Checks(options::<Channel>()))
                    .hint("Where messages about this job's own runs go (On Success, On Failure)."),
                FieldSpec::new("/payload/notifications/webhookUrl", "Alert Webhook URL", Control::Url).optional()
                    .hint("Receives those run messages when the webhook channel is checked."),
            ],
        },
        Section {
            title: "Alerts",
            fields: vec![
                num("/payload/alerts/maxLatenessSeconds", "Max Lateness", "sec", bounds::ALERT_SECONDS)
                    .optional()
                    .hint("A slot that starts more than this long after it was due, or is missed, raises job.late. Empty = no lateness alert."),
                num("/payload/alerts/maxSilenceSeconds", "Max Silence", "sec", bounds::ALERT_SECONDS)
                    .optional()
                    .hint("No successful run for this long raises job.silent, once, until the next success. Empty = no silence alert."),
            ],
        },
    ]
}

/// What a job type does, for the new-job picker.
pub fn job_type_description(t: JobType) -> &'static str {
    match t {
        JobType::AdvancementBatch => {
            "Moves sprouts to the next tier when the advancement rules say their signals are enough."
        }
        JobType::SignalAggregation => {
            "Adds up retrievals and citations per sprout over the chosen periods, for the rules to read."
        }
        JobType::NotificationDigest => {
            "Sends operators one digest of recent events (failures, advancements, changes) to the log, the outbox or a webhook."
        }
        JobType::OrphanCleanup => {
            "Archives signals, advancement events and sprouts left without an owner for longer than a threshold in days."
        }
        JobType::HealthCheck => {
            "Checks the database, storage, the API and the RAG service, and alerts at or above a threshold."
        }
    }
}

/// Reads a posted editor form into `{meta, payload}`.
pub fn read_form(job_type: JobType, new: bool, form: &FormData) -> Value {
    let mut v = read(&sections(job_type, new, &[]), form);
    v["payload"]["jobType"] = json!(job_type.name());
    v["payload"]["parameters"]["jobType"] = json!(job_type.name());
    v
}

fn job_type_of(text: Option<&str>) -> Option<JobType> {
    JobType::ALL
        .iter()
        .copied()
        .find(|t| Some(t.name()) == text)
}

/// Next runs for the preview, from the values in the form: the job's
/// whole plan (calendars struck through, the pause, jitter, a one-off
/// run) when the schedule reads, else the bare expression.
fn preview(values: &Value, calendars: &Calendars, now: jiff::Timestamp) -> Markup {
    let config = values
        .pointer("/payload/schedule")
        .cloned()
        .and_then(|v| serde_json::from_value::<ScheduleConfig>(v).ok());
    let id = values
        .pointer("/meta/id")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some((config, plan)) = config
        .as_ref()
        .and_then(|c| JobPlan::new(id, c, calendars).map(|p| (c, p)))
    {
        return html! {
            div class="preview" id="cron-preview" aria-live="polite" {
                div class="human" { (config.text()) }
                (upcoming_list(&plan, config, 5, now))
            }
        };
    }
    let cron = values
        .pointer("/payload/schedule/cronExpression")
        .and_then(Value::as_str)
        .unwrap_or("");
    let tz = values
        .pointer("/payload/schedule/timezone")
        .and_then(Value::as_str)
        .unwrap_or("UTC");
    let policy = match values
        .pointer("/payload/schedule/dstPolicy")
        .and_then(Value::as_str)
    {
        Some("literal") => DstPolicy::Literal,
        _ => DstPolicy::Cron,
    };
    let schedule = Schedule::parse(cron, tz, policy).ok();
    html! {
        div class="preview" id="cron-preview" aria-live="polite" {
            @match &schedule {
                Some(s) => {
                    div class="human" { (s.describe()) " (" (tz) ")" }
                    ol aria-label="Next 5 runs" {
                        @for t in s.upcoming(now).take(5) { li { (when(t, s.timezone(), now)) } }
                    }
                }
                None => { div class="hint" { "Enter a valid expression (or a Run Once At instant) and time zone to see the next runs." } }
            }
        }
    }
}

/// The next `count` runs of a plan with the excluded slots among them
/// struck through, and the pause and jitter in words.
fn upcoming_list(
    plan: &JobPlan,
    config: &ScheduleConfig,
    count: usize,
    now: jiff::Timestamp,
) -> Markup {
    let tz = plan.zone().clone();
    let up = plan.upcoming(now, count);
    // Runs and excluded slots in time order.
    let mut rows: Vec<(jiff::Timestamp, Result<jiff::Timestamp, &str>)> = up
        .runs
        .iter()
        .map(|r| (r.scheduled_for, Ok(r.due_at)))
        .chain(
            up.excluded
                .iter()
                .map(|e| (e.scheduled_for, Err(e.calendar.as_str()))),
        )
        .collect();
    rows.sort_by_key(|(t, _)| *t);
    html! {
        @if let Some(until) = config.paused_until.filter(|u| *u > now) {
            div class="hint paused-note" { (Icon::Pause.svg()) " Paused until " (when(until, &tz, now)) "; no slot before it runs." }
        }
        @if rows.is_empty() {
            div class="hint" { @if config.run_at.is_some() { "Its one run is behind it: nothing more is scheduled." } @else { "No run ahead." } }
        } @else {
            ol aria-label={ "Next " (up.runs.len()) " runs" } {
                @for (slot, what) in &rows {
                    @match what {
                        Ok(due) => li {
                            (when(*slot, &tz, now))
                            @if due != slot { span class="hint" { " · due +" (due.as_second() - slot.as_second()) " s (jitter)" } }
                        },
                        Err(calendar) => li class="excluded" {
                            s { (when(*slot, &tz, now)) } " excluded by calendar " (calendar)
                        },
                    }
                }
            }
        }
        @if config.jitter_seconds > 0 {
            div class="hint" { "Each run is due up to " (config.jitter_seconds) " s after its slot (jitter)." }
        }
    }
}

struct EditorView<'a> {
    stored: Option<&'a StoredObject>,
    values: &'a Value,
    errors: &'a [Problem],
    job_type: JobType,
    version: i64,
    notice: Option<&'a str>,
    /// The notice after a save ([`saved_notice`]).
    saved: Option<Markup>,
    conflict: Option<String>,
}

async fn editor(state: &AppState, user: &ConsoleUser, v: EditorView<'_>) -> Markup {
    let new = v.stored.is_none();
    let (calendar_choices, calendars) = super::calendar_editor::choices(state).await;
    let secs = sections(v.job_type, new, &calendar_choices);
    let now = state.clock.now();
    let errors = super::form::humanize(v.errors, &secs);
    let fields = Fields {
        values: v.values,
        errors: &errors,
        disabled: !user.can_edit(),
        after: Some((
            "/payload/schedule/cronExpression",
            preview(v.values, &calendars, now),
        )),
    };
    let name = v
        .stored
        .and_then(|o| {
            o.payload
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("New {} job", v.job_type));
    let id = v.stored.map(|o| o.meta.id.clone()).unwrap_or_default();
    let action = if new {
        "/console/jobs".to_owned()
    } else {
        format!("/console/jobs/{id}")
    };
    let stored_payload = v
        .stored
        .and_then(|o| <JobConfigPayload as serde::Deserialize>::deserialize(&o.payload).ok());
    let executions = match v.stored {
        Some(o) => recent_executions(state, o, 10).await,
        None => Vec::new(),
    };
    let running = is_running(&executions);
    let upstream = match v.stored {
        Some(o) => super::operations::upstream_of(state, &o.meta.id).await,
        None => Vec::new(),
    };
    let body = html! {
        (layout::legacy_banner(legacy_configuration_in_use(state) && v.job_type == JobType::AdvancementBatch))
        div class="crumbs" { a href="/console?type=job-config" { "Job Configurations" } " / " (if new { "new" } else { id.as_str() }) }
        div class="editor-head" {
            h1 {
                span class="icon-lg" { (Icon::Hourglass.svg()) }
                (name)
                @if let Some(p) = &stored_payload { (health_badge(p.health(), running)) }
            }
            div class="version" {
                span class="mono" { (v.job_type.name()) }
                @if let Some(o) = v.stored {
                    " · version " (o.meta.version)
                    @if let Some(by) = &o.meta.updated_by { " · saved by " (by) }
                    " · " a href={ "/console/jobs/" (id) "/revisions" } { "Revisions" }
                }
            }
        }
        (layout::notice(v.notice))
        @if let Some(n) = &v.saved { (n) }
        @if let Some(c) = &v.conflict {
            div class="notice status--error" role="alert" { (Icon::Error.svg()) p { (c) " " a href={ "/console/jobs/" (id) } { "Load the current version" } } }
        }
        @if let Some(p) = &stored_payload {
            @if matches!(p.health(), Health::Late | Health::Silent) {
                div class="notice status--warning" role="status" {
                    (layout::alert_note(p, &zone(&p.schedule.timezone), now))
                }
            }
            @if p.auto_disabled.is_some() && !p.schedule.is_enabled {
                div class="notice status--critical" role="alert" {
                    (Icon::Error.svg())
                    p { strong { "Critical: this job was disabled after repeated failures." } " "
                        (p.auto_disabled.as_ref().map(|a| a.reason.clone()).unwrap_or_default())
                        " Fix the cause, then turn Schedule Active back on." }
                }
            }
        }
        (error_summary(&errors, &secs))
        nav class="tabs" role="tablist" aria-label="Editor" {
            a href="#config" role="tab" aria-selected="true" aria-controls="config" { (Icon::Tune.svg()) "Configuration" }
            @if !new { a href="#status" role="tab" aria-selected="false" aria-controls="status" { (Icon::History.svg()) "Status" } }
        }
        div class="columns" {
            details class="panel" id="config" open {
                summary { (Icon::Tune.svg()) "Configuration" }
                form method="post" action=(action) id="job-form" novalidate {
                    (csrf_input(&user.csrf))
                    input type="hidden" name="version" value=(v.version);
                    input type="hidden" name="jobType" value=(v.job_type.name());
                    div class="panel-body" {
                        @for s in &secs { (fields.section(s, None)) }
                    }
                    @if user.can_edit() {
                        div class="actions-bar" {
                            button type="submit" class="btn btn-primary" { @if new { "Create job" } @else { "Save Changes" } }
                            @if !new {
                                button type="submit" class="btn" formaction={ "/console/jobs/" (id) "/duplicate" } { "Duplicate" }
                                button type="submit" class="btn" formaction={ "/console/jobs/" (id) "/run" } data-confirm={ "Run " (name) " now with the saved configuration?" } { (Icon::Play.svg()) "Run Now" }
                                a class="btn btn-danger" href={ "/console/jobs/" (id) "/delete" } { "Delete" }
                            } @else {
                                a class="btn" href="/console" { "Cancel" }
                            }
                        }
                    }
                }
            }
            @if let (Some(o), Some(p)) = (v.stored, &stored_payload) {
                details class="panel" id="status" open {
                    summary { (Icon::History.svg()) "Status" }
                    div class="panel-body padded" {
                        (status_panel(user, o, p, &executions, &calendars, now))
                        (super::operations::chain_links(&upstream, p))
                        div class="operations" {
                            (super::operations::options_form(user, &o.meta.id, p, &super::operations::OptionsForm::default()))
                            (super::operations::backfill_form(user, &o.meta.id, &p.schedule.timezone, &super::operations::BackfillForm::default()))
                        }
                    }
                }
            } @else if new {
                aside class="panel" id="about" aria-labelledby="about-title" {
                    div class="panel-body padded" {
                        h2 id="about-title" { "About " (v.job_type.name()) " jobs" }
                        p { (job_type_description(v.job_type)) }
                        ul class="steps" {
                            li { "The form starts with this type's defaults: change what you need, then " strong { "Create job" } "." }
                            li { "The schedule runs only while " strong { "Schedule Active" } " is on; Run Now works either way." }
                            li { "Once created, the " strong { "Status" } " tab shows its runs and history, and every save is kept in " strong { "Revisions" } "." }
                        }
                    }
                }
            }
        }
    };
    layout::page(&name, user, Nav::Jobs, "job-page", body)
}

fn status_panel(
    user: &ConsoleUser,
    obj: &StoredObject,
    p: &JobConfigPayload,
    executions: &[ExecutionView],
    calendars: &Calendars,
    now: jiff::Timestamp,
) -> Markup {
    let tz = zone(&p.schedule.timezone);
    let plan = JobPlan::new(&obj.meta.id, &p.schedule, calendars);
    let ctx = RenderContext {
        tz: tz.clone(),
        now,
        retry_action: executions
            .first()
            .filter(|_| user.can_edit())
            .map(|e| format!("/console/executions/{}/retry", e.run_id)),
        csrf: user.csrf.clone(),
        status: executions.first().map(|e| e.status),
    };
    let tree = status_tree(executions.first(), p, now);
    let derived = p.derived_with(&obj.meta.id, now, calendars);
    html! {
        h2 { "Latest run" }
        (render_tree(&tree, &ctx))
        p class="hint" { "Schedule: " (derived.schedule_text) }
        @if let Some(at) = p.schedule.run_at.filter(|a| *a <= now) {
            p { (Icon::Check.svg()) " Ran once at " (when(at, &tz, now)) "; nothing more is scheduled." }
        }
        @if p.schedule.is_enabled {
            @if let Some(plan) = &plan {
                h2 class="spaced" { "Next runs" }
                div id="upcoming" { (upcoming_list(plan, &p.schedule, 5, now)) }
            }
        } @else {
            p class="hint" { "The schedule is off: nothing runs until Schedule Active is turned on." }
        }
        h2 class="spaced" { "Execution history" }
        @if executions.is_empty() {
            p class="empty" { "No runs yet." }
        } @else {
            (duration_chart(executions))
            table class="history" {
                thead { tr { th { "Status" } th { "Started" } th { "Items" } th class="opt" { "Duration" } th { span class="sr-only" { "Actions" } } } }
                tbody {
                    @for e in executions.iter().take(10) {
                        tr {
                            td { (run_status(e.status.name())) }
                            td { @if let Some(t) = e.started_at { (short(t, &tz)) } @else { "—" } }
                            td { (e.items_processed) @if e.errors > 0 { " (" (e.errors) " error" @if e.errors != 1 { "s" } ")" } }
                            td class="opt" { @if let Some(d) = e.duration_seconds() { (format_duration(d)) } @else { "—" } }
                            td class="actions" {
                                a class="btn btn-small btn-ghost" href={ "/console/executions/" (e.run_id) } { "View Logs" }
                                @if user.can_edit() && matches!(e.status.name(), "failed" | "cancelled") {
                                    form method="post" action={ "/console/executions/" (e.run_id) "/retry" } {
                                        (csrf_input(&user.csrf))
                                        button type="submit" class="btn btn-small btn-danger" { "Retry" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href={ "/console/jobs/" (obj.meta.id) "/revisions" } { (Icon::History.svg()) " Revision history" } }
    }
}

/// Bars of recent durations, newest on the left like the table below it,
/// coloured by status, with the tallest bar's time and a legend.
fn duration_chart(executions: &[ExecutionView]) -> Markup {
    let runs: Vec<&ExecutionView> = executions.iter().take(10).collect();
    let max = runs
        .iter()
        .filter_map(|e| e.duration_seconds())
        .fold(0.0_f64, f64::max);
    let scale = max.max(0.001);
    let w = 100.0 / runs.len().max(10) as f64;
    let color = |status: &str| match status {
        "success" => "#2E7D32",
        "failed" | "cancelled" => "#D32F2F",
        "partial" => "#FFA000",
        _ => "#1565C0",
    };
    let label = format!(
        "Durations of the last {} run{}, newest on the left; the longest took {}",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        format_duration(max)
    );
    html! {
        figure class="chart-box" {
            figcaption class="chart-head" {
                span { "Duration, last " (runs.len()) @if runs.len() == 1 { " run" } @else { " runs" } }
                span class="chart-max" { "longest " (format_duration(max)) }
            }
            svg class="chart" viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label=(label) {
                @for (i, e) in runs.iter().enumerate() {
                    @let d = e.duration_seconds().unwrap_or(0.0);
                    @let h = (d / scale * 36.0).max(1.5);
                    rect x=(format!("{:.2}", i as f64 * w + w * 0.15)) y=(format!("{:.2}", 40.0 - h)) width=(format!("{:.2}", w * 0.7)) height=(format!("{h:.2}")) fill=(color(e.status.name())) {
                        title { (e.status.label()) ": " (format_duration(d)) }
                    }
                }
            }
            div class="chart-axis" aria-hidden="true" { span { "newest" } span { "older" } }
            ul class="legend" aria-label="Colours" {
                li { span class="sw sw-success" {} "Success" }
                li { span class="sw sw-failed" {} "Failed or cancelled" }
                li { span class="sw sw-partial" {} "Partial" }
                li { span class="sw sw-running" {} "Queued or running" }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    #[serde(rename = "jobType")]
    job_type: Option<String>,
    /// After a save: the version saved, and `schedule=changed` when the
    /// schedule is not what it was.
    v: Option<i64>,
    schedule: Option<String>,
    /// After a backfill: runs queued, slots in the range, slots already recorded.
    queued: Option<usize>,
    slots: Option<usize>,
    recorded: Option<usize>,
}

/// "Saved — version 7", then "Schedule updated: next run …" when the
/// save changed the schedule.
async fn saved_notice(state: &AppState, obj: &StoredObject, q: &PageQuery) -> Option<Markup> {
    if q.notice.as_deref() != Some("saved") {
        return None;
    }
    let version = q.v.unwrap_or(obj.meta.version);
    let schedule = if q.schedule.as_deref() == Some("changed") {
        let now = state.clock.now();
        let p = <JobConfigPayload as serde::Deserialize>::deserialize(&obj.payload).ok()?;
        let calendars = state.app.calendars().await.unwrap_or_default();
        let next = p.derived_with(&obj.meta.id, now, &calendars).next_run_at;
        Some(match next {
            Some(t) => format!(
                "Schedule updated: next run {}.",
                when(t, &zone(&p.schedule.timezone), now)
            ),
            None if !p.schedule.is_enabled => {
                "Schedule updated: the schedule is off, so no run is planned.".to_owned()
            }
            None => "Schedule updated: no run is planned.".to_owned(),
        })
    } else {
        None
    };
    Some(layout::saved_notice(version, schedule.as_deref()))
}

fn values_of(obj: &StoredObject) -> Value {
    json!({"meta": obj.meta, "payload": obj.payload})
}

/// `GET /console/jobs/{id}`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let mut obj = match state.app.object(def(), &id).await {
        Ok(o) => o,
        Err(e) => return api_error(e),
    };
    if !user.can_edit() {
        grove_core::secrets::redact(&mut obj.payload);
    }
    let Some(job_type) = job_type_of(obj.payload.get("jobType").and_then(Value::as_str)) else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unreadable",
            "unknown job type",
        );
    };
    let values = values_of(&obj);
    let saved = match (q.queued, q.slots, q.recorded) {
        (Some(queued), Some(slots), Some(recorded)) => Some(html! {
            div class="notice" role="status" {
                (Icon::History.svg())
                p { "Backfill: " (queued) " run" @if queued != 1 { "s" } " queued for " (slots) " slot" @if slots != 1 { "s" }
                    @if recorded > 0 { " (" (recorded) " already recorded, not run again)" } "." }
            }
        }),
        _ => saved_notice(&state, &obj, &q).await,
    };
    editor(
        &state,
        &user,
        EditorView {
            stored: Some(&obj),
            values: &values,
            errors: &[],
            job_type,
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
    .await
    .into_response()
}

/// `GET /console/jobs/new?jobType=`
pub async fn new_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(r) = user.require_operator() {
        return r;
    }
    let Some(job_type) = job_type_of(q.job_type.as_deref()) else {
        let body = html! {
            div class="crumbs" { a href="/console?type=job-config" { "Job Configurations" } " / new" }
            h1 { "New job configuration" }
            p class="subtitle" { "Choose what the job does; you can set its schedule and limits next." }
            div class="picker" {
                @for t in JobType::ALL {
                    @let d = JobConfigPayload::default_for(*t);
                    a href={ "/console/jobs/new?jobType=" (t.name()) } {
                        b { (Icon::Hourglass.svg()) " " (d.display_name) }
                        span class="what" { (job_type_description(*t)) }
                        span class="mono hint" { (t.name()) }
                    }
                }
            }
        };
        return layout::page("New job", &user, Nav::Jobs, "job-page", body).into_response();
    };
    let d = JobConfigPayload::default_for(job_type);
    let values = json!({"meta": {"title": d.display_name}, "payload": d.to_value()});
    editor(
        &state,
        &user,
        EditorView {
            stored: None,
            values: &values,
            errors: &[],
            job_type,
            version: 0,
            notice: None,
            saved: None,
            conflict: None,
        },
    )
    .await
    .into_response()
}

/// `POST /console/jobs`: create.
pub async fn create(State(state): State<AppState>, user: ConsoleUser, form: FormData) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    let Some(job_type) = job_type_of(form.get("jobType")) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "the form names no job type",
        );
    };
    let values = read_form(job_type, true, &form);
    let problems = match state.app.create(def(), &values, &user.actor.caller()).await {
        Ok(obj) => {
            return Redirect::to(&format!("/console/jobs/{}?notice=created", obj.meta.id))
                .into_response();
        }
        Err(AppError::Validation(problems)) => problems,
        Err(AppError::Conflict { message, .. }) => vec![Problem::new("/meta/id", message)],
        Err(e) => return api_error(e),
    };
    let page = editor(
        &state,
        &user,
        EditorView {
            stored: None,
            values: &values,
            errors: &problems,
            job_type,
            version: 0,
            notice: None,
            saved: None,
            conflict: None,
        },
    )
    .await;
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// `POST /console/jobs/{id}`: Save Changes.
pub async fn save_handler(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
    form: &FormData,
) -> Response {
    let obj = match state.app.object(def(), id).await {
        Ok(o) => o,
        Err(e) => return api_error(e),
    };
    let Some(job_type) = job_type_of(obj.payload.get("jobType").and_then(Value::as_str)) else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unreadable",
            "unknown job type",
        );
    };
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(obj.meta.version);
    let values = read_form(job_type, false, form);
    let saved = state
        .app
        .replace(def(), id, &values, Some(expected), &user.actor.caller())
        .await;
    let (status, errors, conflict) = match saved {
        Ok(saved) => {
            // Say what was saved: the version always, the schedule only
            // when it changed.
            let schedule = |o: &StoredObject| {
                o.payload.get("schedule").cloned().map(|v| {
                    serde_json::from_value::<grove_core::job_config::ScheduleConfig>(v.clone())
                        .map_err(|_| v)
                })
            };
            let changed = schedule(&obj) != schedule(&saved);
            return Redirect::to(&format!(
                "/console/jobs/{id}?notice=saved&v={}{}",
                saved.meta.version,
                if changed { "&schedule=changed" } else { "" }
            ))
            .into_response();
        }
        Err(AppError::Conflict { current, .. }) => {
            let (v, by) = current
                .map(|c| {
                    (
                        c.meta.version,
                        c.meta.updated_by.unwrap_or_else(|| "someone".to_owned()),
                    )
                })
                .unwrap_or((expected, "someone".to_owned()));
            (
                StatusCode::CONFLICT,
                Vec::new(),
                Some(format!(
                    "Not saved: {by} saved this job while you were editing (it is now at version {v}; you edited version {expected}). Your changes are still in the form below."
                )),
            )
        }
        Err(AppError::Validation(p)) => (StatusCode::UNPROCESSABLE_ENTITY, p, None),
        Err(e) => return api_error(e),
    };
    let page = editor(
        state,
        user,
        EditorView {
            stored: Some(&obj),
            values: &values,
            errors: &errors,
            job_type,
            version: expected,
            notice: None,
            saved: None,
            conflict,
        },
    )
    .await;
    (status, page).into_response()
}

pub async fn save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    save_handler(&state, &user, &id, &form).await
}

/// `POST /console/jobs/{id}/duplicate`
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
            Redirect::to(&format!("/console/jobs/{new_id}?notice=duplicated")).into_response()
        }
        Err(e) => api_error(e),
    }
}

/// A copy under a free id; a copied job starts disabled.
pub(crate) async fn duplicate_object(
    state: &AppState,
    def: &TypeDef,
    id: &str,
    by: &grove_app::Caller,
) -> Result<String, ApiError> {
    let copy = state
        .app
        .duplicate(def, id, CopyNames::default(), by)
        .await?;
    Ok(copy.meta.id)
}

/// The delete confirmation page (works without JavaScript).
pub(crate) fn delete_confirmation(user: &ConsoleUser, kind: &str, obj: &StoredObject) -> Markup {
    let nav = match kind {
        "jobs" => Nav::Jobs,
        "rules" => Nav::Rules,
        _ => Nav::Grid,
    };
    let body = html! {
        div class="crumbs" { a href={ "/console/" (kind) "/" (obj.meta.id) } { (obj.meta.title) } " / delete" }
        div class="panel narrow" {
            div class="panel-body padded" {
                h1 { (Icon::Warning.svg()) "Delete " (obj.meta.title) "?" }
                p { "This removes the configuration and its revision history. It cannot be undone. To stop a job for a while, turn its schedule off instead." }
                form method="post" action={ "/console/" (kind) "/" (obj.meta.id) "/delete" } class="search" {
                    (csrf_input(&user.csrf))
                    input type="hidden" name="version" value=(obj.meta.version);
                    button type="submit" class="btn btn-danger solid" { "Delete permanently" }
                    a class="btn" href={ "/console/" (kind) "/" (obj.meta.id) } { "Cancel" }
                }
            }
        }
    };
    layout::page("Delete", user, nav, "", body)
}

/// `GET /console/jobs/{id}/delete`
pub async fn delete_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = user.require_operator() {
        return r;
    }
    match state.app.object(def(), &id).await {
        Ok(obj) => delete_confirmation(&user, "jobs", &obj).into_response(),
        Err(e) => api_error(e),
    }
}

/// Deletes the version the form names; back to the grid.
pub(crate) async fn delete_object(
    state: &AppState,
    def: &TypeDef,
    id: &str,
    form: &FormData,
    by: &grove_app::Caller,
) -> Response {
    let expected = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match state.app.delete(def, id, expected, by).await {
        Ok(()) => Redirect::to(&format!("/console?type={}&notice=deleted", def.id)).into_response(),
        // Refused for what the object is, not its version (a calendar that
        // jobs exclude): the message says why.
        Err(AppError::Conflict {
            current: None,
            message,
            ..
        }) => refusal(StatusCode::CONFLICT, "Not deleted", &message),
        Err(AppError::Conflict { current, .. }) => {
            let now_at = current.map_or_else(
                || "a newer version".to_owned(),
                |c| format!("version {}", c.meta.version),
            );
            refusal(
                StatusCode::CONFLICT,
                "Not deleted",
                &format!(
                    "Someone saved this while you were looking (it is now at {now_at}). Review it and delete again."
                ),
            )
        }
        Err(e) => api_error(e),
    }
}

/// `POST /console/jobs/{id}/delete`
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

/// `POST /console/jobs/{id}/run`: Run Now.
pub async fn run_now(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    if let Err(e) = state.app.object(def(), &id).await {
        return api_error(e);
    }
    match request_run(&state, &id, &user.actor.caller()).await {
        Ok(run_id) => Redirect::to(&format!("/console/executions/{run_id}")).into_response(),
        Err(ApiError::Unavailable(_)) => {
            Redirect::to(&format!("/console/jobs/{id}?notice=engine-unavailable")).into_response()
        }
        Err(e) => api_error(e),
    }
}

/// Sets one boolean at `pointer` and saves with the form's version.
pub(crate) async fn set_flag(
    state: &AppState,
    user: &ConsoleUser,
    def: &TypeDef,
    id: &str,
    pointer: &str,
    form: &FormData,
) -> Result<bool, Response> {
    let obj = state.app.object(def, id).await.map_err(api_error)?;
    let enabled = form.get("enabled") == Some("true");
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(obj.meta.version);
    let mut values = values_of(&obj);
    super::form::set_pointer(&mut values, pointer, json!(enabled));
    match state
        .app
        .replace(def, id, &values, Some(expected), &user.actor.caller())
        .await
    {
        Ok(_) => Ok(enabled),
        Err(AppError::Conflict { .. }) => Err(refusal(
            StatusCode::CONFLICT,
            "Not changed",
            "Someone saved this while you were looking. Reload the page and try again.",
        )),
        Err(e) => Err(api_error(e)),
    }
}

/// After a card's switch: back to the grid tab, search and sort it was on
/// (the form's `back`, only ever a `/console` grid address), anchored to
/// the card, whose notice names the object.
pub(crate) fn switched(form: &FormData, default_back: &str, id: &str, on: bool) -> Response {
    let back = form
        .get("back")
        .filter(|b| *b == "/console" || b.starts_with("/console?"))
        .filter(|b| b.chars().all(|c| c.is_ascii_graphic() && c != '#'))
        .unwrap_or(default_back);
    let sep = if back.contains('?') { '&' } else { '?' };
    let item = super::session::url_encode(id);
    Redirect::to(&format!(
        "{back}{sep}notice={}&item={item}#card-{item}",
        if on { "enabled" } else { "disabled" }
    ))
    .into_response()
}

/// `POST /console/jobs/{id}/enabled`: the card's Enabled switch.
pub async fn set_enabled(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.authorize_post(&form) {
        return r;
    }
    match set_flag(
        &state,
        &user,
        def(),
        &id,
        "/payload/schedule/isEnabled",
        &form,
    )
    .await
    {
        Ok(on) => switched(&form, "/console?type=job-config", &id, on),
        Err(r) => r,
    }
}
