//! The json-render registry: each catalog component mapped to its HTML
//! renderer. A tree is validated against the catalog before anything is
//! rendered; an invalid tree renders as an error alert naming the problems.

use grove_core::render::{
    Component, ExecutionStatus, LogLevel, MetricColor, MetricValue, Phase, RenderTree,
    format_duration, validate_tree,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{Markup, html};

use super::form::csrf_input;
use super::layout::{Icon, short, when, width_pct};

/// What renderers need besides props.
#[derive(Debug, Clone)]
pub struct RenderContext {
    /// The zone times are shown in (the job's).
    pub tz: TimeZone,
    pub now: Timestamp,
    /// Where the error alert's Retry button posts, when the viewer may retry.
    pub retry_action: Option<String>,
    pub csrf: String,
    /// The status of the run the tree shows: a finished run's phase says
    /// the same word as its status badge ("Success", not "Complete").
    pub status: Option<ExecutionStatus>,
}

pub type Renderer = fn(&Component, &RenderContext) -> Markup;

/// Component name → renderer. Every catalog component has exactly one.
pub const REGISTRY: &[(&str, Renderer)] = &[
    ("JobPhaseIndicator", phase_indicator),
    ("JobProgressBar", progress_bar),
    ("JobMetricRow", metric_row),
    ("JobLogEntry", log_entry),
    ("JobErrorAlert", error_alert),
    ("NextRunCountdown", next_run_countdown),
];

fn name_of(c: &Component) -> &'static str {
    match c {
        Component::JobPhaseIndicator(_) => "JobPhaseIndicator",
        Component::JobProgressBar(_) => "JobProgressBar",
        Component::JobMetricRow(_) => "JobMetricRow",
        Component::JobLogEntry(_) => "JobLogEntry",
        Component::JobErrorAlert(_) => "JobErrorAlert",
        Component::NextRunCountdown(_) => "NextRunCountdown",
    }
}

/// Validates and renders a tree; consecutive log entries share one log box.
pub fn render_tree(tree: &RenderTree, ctx: &RenderContext) -> Markup {
    let components = match validate_tree(tree) {
        Ok(c) => c,
        Err(problems) => {
            return html! {
                div class="alert status--error" role="alert" {
                    div class="msg" {
                        strong { "This status cannot be shown: the render tree does not match the catalog." }
                        ul { @for p in &problems { li { code { (p.pointer) } ": " (p.message) } } }
                    }
                }
            };
        }
    };
    let mut groups: Vec<(bool, Vec<&Component>)> = Vec::new();
    for c in &components {
        let is_log = matches!(c, Component::JobLogEntry(_));
        match groups.last_mut() {
            Some((true, items)) if is_log => items.push(c),
            _ => groups.push((is_log, vec![c])),
        }
    }
    html! {
        div class="status-block" data-render="json-render" {
            @if components.is_empty() {
                p class="empty" { "No runs yet, and the schedule is off: nothing to show." }
            }
            @for (is_log, items) in &groups {
                @if *is_log {
                    div class="log" role="log" aria-label="Log" tabindex="0" {
                        @for c in items { (render_one(c, ctx)) }
                    }
                } @else {
                    @for c in items { (render_one(c, ctx)) }
                }
            }
        }
    }
}

fn render_one(c: &Component, ctx: &RenderContext) -> Markup {
    let name = name_of(c);
    match REGISTRY.iter().find(|(n, _)| *n == name) {
        Some((_, render)) => render(c, ctx),
        None => html! { div class="alert status--error" { "No renderer for " (name) } },
    }
}

fn time_text(raw: Option<&str>, ctx: &RenderContext) -> Option<String> {
    let t: Timestamp = raw?.parse().ok()?;
    Some(when(t, &ctx.tz, ctx.now))
}

fn phase_indicator(c: &Component, ctx: &RenderContext) -> Markup {
    let Component::JobPhaseIndicator(p) = c else {
        return html! {};
    };
    let (class, icon, text) = match p.phase {
        Phase::Queued => ("queued", Icon::Clock, "Queued"),
        Phase::Running => ("running", Icon::Sync, "Running"),
        Phase::Retrying => ("retrying", Icon::Warning, "Retrying"),
        Phase::Complete => ("complete", Icon::Check, "Complete"),
        Phase::Failed => ("failed", Icon::Error, "Failed"),
    };
    let text = match ctx.status {
        Some(s) if s.is_finished() && s.phase() == p.phase => s.label(),
        _ => text,
    };
    html! {
        div class={ "phase phase-" (class) } data-component="JobPhaseIndicator" role="status" aria-live="polite" {
            span class="dot" aria-hidden="true" {}
            (icon.svg())
            span class="name" { (text) }
            @if let Some(s) = time_text(p.started_at.as_deref(), ctx) { span class="when" { "Started " (s) } }
            @if let Some(s) = time_text(p.completed_at.as_deref(), ctx) { span class="when" { "· Finished " (s) } }
        }
        @if p.phase == Phase::Retrying {
            div class="alert status--warning" data-component-part="retrying" {
                (Icon::Warning.svg())
                div class="msg" {
                    strong { "Retrying" }
                    " (attempt " (p.next_attempt.unwrap_or(2))
                    @if let Some(m) = p.max_attempts { " of " (m) }
                    @if let Some(t) = p.next_attempt_at.as_deref().and_then(|t| t.parse::<Timestamp>().ok()) {
                        " at " (t.to_zoned(ctx.tz.clone()).strftime("%H:%M:%S %Z"))
                    }
                    ")"
                    @if let Some(err) = &p.last_error { div { "The last attempt failed: " (err) } }
                }
            }
        }
    }
}

fn progress_bar(c: &Component, _ctx: &RenderContext) -> Markup {
    let Component::JobProgressBar(p) = c else {
        return html! {};
    };
    html! {
        div data-component="JobProgressBar" {
            div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=(format!("{:.0}", p.percentage)) aria-label="Progress" {
                div class=(width_pct(p.percentage)) {}
            }
            div class="progress-text" {
                span class="count" { (p.items_processed) " / " (p.items_total) " items" }
                span class="pct" { (format!("{:.1}%", p.percentage)) }
            }
        }
    }
}

fn metric_row(c: &Component, _ctx: &RenderContext) -> Markup {
    let Component::JobMetricRow(p) = c else {
        return html! {};
    };
    html! {
        div class="metric-row" data-component="JobMetricRow" {
            @for m in &p.metrics {
                div data-metric=(m.label.to_lowercase()) {
                    div class="label" { (m.label) }
                    div class={ "value" (match m.color {
                        MetricColor::Default => "",
                        MetricColor::Green => " c-green",
                        MetricColor::Red => " c-red",
                        MetricColor::Amber => " c-amber",
                        MetricColor::Blue => " c-blue",
                    }) } {
                        @match &m.value {
                            MetricValue::Number(n) => (n),
                            MetricValue::Text(t) => (t),
                        }
                    }
                }
            }
        }
    }
}

fn log_entry(c: &Component, ctx: &RenderContext) -> Markup {
    let Component::JobLogEntry(p) = c else {
        return html! {};
    };
    let level = match p.level {
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    let ts = p
        .timestamp
        .parse::<Timestamp>()
        .map(|t| short(t, &ctx.tz))
        .unwrap_or_else(|_| p.timestamp.clone());
    html! {
        div class="log-line" data-component="JobLogEntry" data-ts=(p.timestamp) {
            span class="ts" { (ts) }
            span class={ "lvl lvl-" (level) } { (level.to_uppercase()) }
            span class="msg" { (p.message) }
        }
    }
}

fn error_alert(c: &Component, ctx: &RenderContext) -> Markup {
    let Component::JobErrorAlert(p) = c else {
        return html! {};
    };
    html! {
        div class="alert status--error" role="alert" data-component="JobErrorAlert" {
            (Icon::Error.svg())
            div class="msg" {
                strong { "The run failed: " } (p.error)
                @if let Some(n) = p.retry_count { @if n > 0 { div class="hint" { "after " (n) " retr" @if n == 1 { "y" } @else { "ies" } } } }
            }
            @if p.retryable {
                @if let Some(action) = &ctx.retry_action {
                    form method="post" action=(action) {
                        (csrf_input(&ctx.csrf))
                        button type="submit" class="btn btn-danger" data-confirm="Run this job again now?" { (Icon::Sync.svg()) "Retry" }
                    }
                }
            }
        }
    }
}

fn next_run_countdown(c: &Component, ctx: &RenderContext) -> Markup {
    let Component::NextRunCountdown(p) = c else {
        return html! {};
    };
    let Ok(t) = p.next_run_at.parse::<Timestamp>() else {
        return html! {};
    };
    let tz = super::layout::zone(&p.timezone);
    let secs = (t.as_second() - ctx.now.as_second()).max(0) as f64;
    html! {
        div class="countdown" data-component="NextRunCountdown" {
            (Icon::Hourglass.svg())
            div {
                div { strong { "Next run: " } (when(t, &tz, ctx.now)) }
                div class="hint" { "in " (format_duration(secs)) " · " (p.timezone) }
            }
        }
    }
}
