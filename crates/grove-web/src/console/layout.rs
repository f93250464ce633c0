//! The page shell, icons, status badges, notices and time formatting.

use grove_core::job_config::{Health, JobConfigPayload};
use grove_core::validate::Choice;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::form::csrf_input;
use super::session::ConsoleUser;

/// Inline SVG icons (Material Design shapes), so nothing is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Hourglass,
    Bolt,
    Check,
    Error,
    Pause,
    Play,
    Warning,
    Clock,
    Tune,
    Sync,
    History,
    Help,
    Circle,
    Timeline,
    /// A calendar with a cross: excluded times.
    EventBusy,
}

impl Icon {
    fn path(self) -> &'static str {
        match self {
            Self::Hourglass => {
                "M6 2v6h.01L6 8.01 10 12l-4 4 .01.01H6V22h12v-5.99h-.01L18 16l-4-4 4-3.99-.01-.01H18V2H6zm10 14.5V20H8v-3.5l4-4 4 4zm-4-5l-4-4V4h8v3.5l-4 4z"
            }
            Self::Bolt => {
                "M11 21h-1l1-7H7.5c-.58 0-.57-.32-.38-.66.19-.34.05-.08.07-.12C8.48 10.94 10.42 7.54 13 3h1l-1 7h3.5c.49 0 .56.33.47.51l-.07.15C12.96 17.55 11 21 11 21z"
            }
            Self::Check => {
                "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm-2 15l-5-5 1.41-1.41L10 14.17l7.59-7.59L19 8l-9 9z"
            }
            Self::Error => {
                "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm1 15h-2v-2h2v2zm0-4h-2V7h2v6z"
            }
            Self::Pause => {
                "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm-1 14H9V8h2v8zm4 0h-2V8h2v8z"
            }
            Self::Play => "M8 5v14l11-7z",
            Self::Warning => "M1 21h22L12 2 1 21zm12-3h-2v-2h2v2zm0-4h-2v-4h2v4z",
            Self::Clock => {
                "M11.99 2C6.47 2 2 6.48 2 12s4.47 10 9.99 10C17.52 22 22 17.52 22 12S17.52 2 11.99 2zM12 20c-4.42 0-8-3.58-8-8s3.58-8 8-8 8 3.58 8 8-3.58 8-8 8zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67z"
            }
            Self::Tune => {
                "M3 17v2h6v-2H3zM3 5v2h10V5H3zm10 16v-2h8v-2h-8v-2h-2v6h2zM7 9v2H3v2h4v2h2V9H7zm14 4v-2H11v2h10zm-6-4h2V7h4V5h-4V3h-2v6z"
            }
            Self::Sync => {
                "M12 4V1L8 5l4 4V6c3.31 0 6 2.69 6 6 0 1.01-.25 1.97-.7 2.8l1.46 1.46C19.54 15.03 20 13.57 20 12c0-4.42-3.58-8-8-8zm0 14c-3.31 0-6-2.69-6-6 0-1.01.25-1.97.7-2.8L5.24 7.74C4.46 8.97 4 10.43 4 12c0 4.42 3.58 8 8 8v3l4-4-4-4v3z"
            }
            Self::History => {
                "M13 3c-4.97 0-9 4.03-9 9H1l3.89 3.89.07.14L9 12H6c0-3.87 3.13-7 7-7s7 3.13 7 7-3.13 7-7 7c-1.93 0-3.68-.79-4.94-2.06l-1.42 1.42C8.27 19.99 10.51 21 13 21c4.97 0 9-4.03 9-9s-4.03-9-9-9zm-1 5v5l4.28 2.54.72-1.21-3.5-2.08V8H12z"
            }
            Self::Help => {
                "M11 18h2v-2h-2v2zm1-16C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.41 0-8-3.59-8-8s3.59-8 8-8 8 3.59 8 8-3.59 8-8 8zm0-14c-2.21 0-4 1.79-4 4h2c0-1.1.9-2 2-2s2 .9 2 2c0 2-3 1.75-3 5h2c0-2.25 3-2.5 3-5 0-2.21-1.79-4-4-4z"
            }
            Self::Circle => {
                "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.41 0-8-3.59-8-8s3.59-8 8-8 8 3.59 8 8-3.59 8-8 8z"
            }
            Self::EventBusy => {
                "M9.31 17l2.44-2.44L14.19 17l1.06-1.06-2.44-2.44 2.44-2.44L14.19 10l-2.44 2.44L9.31 10l-1.06 1.06 2.44 2.44-2.44 2.44L9.31 17zM19 3h-1V1h-2v2H8V1H6v2H5c-1.11 0-1.99.9-1.99 2L3 19c0 1.1.89 2 2 2h14c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2zm0 16H5V8h14v11z"
            }
            Self::Timeline => {
                "M23 8c0 1.1-.9 2-2 2-.18 0-.35-.02-.51-.07l-3.56 3.55c.05.16.07.34.07.52 0 1.1-.9 2-2 2s-2-.9-2-2c0-.18.02-.36.07-.52l-2.55-2.55c-.16.05-.34.07-.52.07s-.36-.02-.52-.07l-4.55 4.56c.05.16.07.33.07.51 0 1.1-.9 2-2 2s-2-.9-2-2 .9-2 2-2c.18 0 .35.02.51.07l4.56-4.55C8.02 9.36 8 9.18 8 9c0-1.1.9-2 2-2s2 .9 2 2c0 .18-.02.36-.07.52l2.55 2.55c.16-.05.34-.07.52-.07s.36.02.52.07l3.55-3.56C19.02 8.35 19 8.18 19 8c0-1.1.9-2 2-2s2 .9 2 2z"
            }
        }
    }

    pub fn svg(self) -> Markup {
        html! {
            svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" {
                path d=(self.path()) {}
            }
        }
    }
}

/// Which top-level section a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Grid,
    Jobs,
    Rules,
    Timeline,
    /// Tokens and the audit trail.
    Admin,
}

/// A page without navigation (login, refusals).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · grove-jobs" }
                link rel="stylesheet" href=(assets::css_url());
            }
            body { (body) }
        }
    }
}

/// A full console page.
pub fn page(title: &str, user: &ConsoleUser, nav: Nav, body_class: &str, body: Markup) -> Markup {
    let current = |n: Nav| (n == nav).then_some("page");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · grove-jobs" }
                link rel="stylesheet" href=(assets::css_url());
                script src=(assets::js_url()) defer {}
            }
            body class=(body_class) {
                a class="skip" href="#main" { "Skip to content" }
                header class="topbar" {
                    a class="brand" href="/console" { (Icon::Hourglass.svg()) "grove-jobs" }
                    nav class="nav" aria-label="Console" {
                        a href="/console" aria-current=[current(Nav::Grid)] { "All" }
                        a class="job" href="/console?type=job-config" aria-current=[current(Nav::Jobs)] {
                            (Icon::Hourglass.svg()) span class="label-long" { "Job Configurations" } span class="label-short" { "Jobs" }
                        }
                        a class="rule" href="/console?type=advancement-rule" aria-current=[current(Nav::Rules)] {
                            (Icon::Bolt.svg()) span class="label-long" { "Advancement Rules" } span class="label-short" { "Rules" }
                        }
                        a href="/console/timeline" aria-current=[current(Nav::Timeline)] { (Icon::Timeline.svg()) "Timeline" }
                        @if user.actor.role >= grove_store::Role::Admin {
                            a href="/console/tokens" aria-current=[current(Nav::Admin)] { "Admin" }
                        }
                    }
                    div class="whoami" {
                        span { (user.actor.name) }
                        span class="role" { (user.actor.role.name()) }
                        @if !user.via_header {
                            form method="post" action="/console/logout" {
                                (csrf_input(&user.csrf))
                                button type="submit" class="btn-small" { "Log out" }
                            }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    }
}

/// Messages shown after a redirect, chosen by a fixed code (never echoed text).
pub fn notice(code: Option<&str>) -> Markup {
    let (class, icon, text) = match code {
        Some("saved") => ("", Icon::Check, "Schedule updated"),
        Some("rule-saved") => ("", Icon::Check, "Rule updated"),
        Some("calendar-saved") => ("", Icon::Check, "Calendar updated"),
        Some("created") => ("", Icon::Check, "Created"),
        Some("duplicated") => (
            "",
            Icon::Check,
            "Duplicated. The copy starts disabled so the same work is not scheduled twice.",
        ),
        Some("deleted") => ("", Icon::Check, "Deleted"),
        Some("restored") => ("", Icon::Check, "Restored as a new version"),
        Some("enabled") => ("status--info", Icon::Play, "Enabled"),
        Some("disabled") => ("status--info", Icon::Pause, "Disabled"),
        Some("run-requested") => ("", Icon::Play, "Run requested"),
        Some("engine-unavailable") => (
            "status--warning",
            Icon::Warning,
            "Run Now and Retry are not available: this server's engine does not accept manual runs yet.",
        ),
        _ => return html! {},
    };
    html! {
        div class={ "notice " (class) } role="status" { (icon.svg()) p { (text) } }
    }
}

/// "Saved — version 7", and what the save did to the schedule, if anything.
pub fn saved_notice(version: i64, schedule: Option<&str>) -> Markup {
    html! {
        div class="notice" role="status" {
            (Icon::Check.svg())
            p { "Saved — version " (version) @if let Some(s) = schedule { ". " (s) } }
        }
    }
}

/// The status badge of a job (icon and text; colour is a bonus).
pub fn health_badge(health: Health, running: bool) -> Markup {
    let (class, icon, text) = if running {
        ("running", Icon::Sync, "Running")
    } else {
        match health {
            Health::Healthy => ("healthy", Icon::Check, "Healthy"),
            Health::Warning => ("warning", Icon::Warning, "Warning"),
            Health::Error => ("failed", Icon::Error, "Failed"),
            Health::Critical => ("critical", Icon::Error, "Critical"),
            Health::Disabled => ("disabled", Icon::Pause, "Disabled"),
            Health::NeverRun => ("never-run", Icon::Circle, "Not run yet"),
            Health::Late => ("late", Icon::Clock, "Late"),
            Health::Silent => ("silent", Icon::Warning, "Silent"),
        }
    };
    html! { span class={ "badge badge-" (class) } data-status=(text) { (icon.svg()) (text) } }
}

/// What the dead-man's switch says about a job, in a line (none when it
/// says nothing): "Silent: no successful run since …" or "Late: the
/// 02:00 slot started 7 minutes after it was due".
pub fn alert_note(p: &JobConfigPayload, tz: &TimeZone, now: Timestamp) -> Markup {
    match p.health() {
        Health::Silent => match &p.silence {
            Some(s) => html! {
                div class="s-failed alert-note" data-alert="silent" {
                    (Icon::Warning.svg()) " Silent: no successful run since " (when(s.since, tz, now))
                }
            },
            None => html! {},
        },
        Health::Late => match &p.late_slot {
            Some(l) if l.missed => html! {
                div class="s-partial alert-note" data-alert="late" {
                    (Icon::Clock.svg()) " Late: the slot of " (when(l.scheduled_for, tz, now)) " was missed"
                }
            },
            Some(l) => html! {
                div class="s-partial alert-note" data-alert="late" {
                    (Icon::Clock.svg()) " Late: the slot of " (when(l.scheduled_for, tz, now))
                    " started " (grove_core::render::format_duration(l.lateness_seconds as f64)) " after it was due"
                }
            },
            None => html! {},
        },
        _ => html! {},
    }
}

/// The badge of an execution status.
pub fn run_status(status: &str) -> Markup {
    let (icon, text) = match status {
        "success" => (Icon::Check, "Success"),
        "partial" => (Icon::Warning, "Partial"),
        "failed" => (Icon::Error, "Failed"),
        "cancelled" => (Icon::Error, "Cancelled"),
        "skipped" => (Icon::Circle, "Skipped"),
        "running" => (Icon::Sync, "Running"),
        "queued" => (Icon::Clock, "Queued"),
        "retrying" => (Icon::Warning, "Retrying"),
        _ => (Icon::Circle, "Unknown"),
    };
    html! { span class={ "s-" (status) } { (icon.svg()) " " (text) } }
}

/// The zone a name refers to, UTC if unknown.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// "Today 2:00 AM PST", "Tomorrow 2:00 AM PST", "Sun 30 Nov, 2:00 AM PST".
pub fn when(t: Timestamp, tz: &TimeZone, now: Timestamp) -> String {
    let z = t.to_zoned(tz.clone());
    let today = now.to_zoned(tz.clone()).date();
    let date = z.date();
    let time = z.strftime("%-I:%M %p %Z").to_string();
    match date.since(today).map(|s| s.get_days()).unwrap_or(i32::MAX) {
        0 => format!("Today {time}"),
        1 => format!("Tomorrow {time}"),
        -1 => format!("Yesterday {time}"),
        d if (2..7).contains(&d) || (-6..-1).contains(&d) => {
            format!("{} {time}", z.strftime("%a %-d %b,"))
        }
        _ => format!("{} {time}", z.strftime("%-d %b %Y,")),
    }
}

/// "16 Jan 02:00 UTC" (short, for tables).
pub fn short(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%-d %b %H:%M %Z")
        .to_string()
}

/// The class that sets `left` to `v` percent (the CSP allows no inline
/// styles; see [`assets::position`]).
pub fn at_pct(v: f64) -> String {
    assets::position("x", v)
}

/// The class that sets `width` to `v` percent.
pub fn width_pct(v: f64) -> String {
    assets::position("w", v)
}

/// The "Using legacy configuration" banner.
pub fn legacy_banner(active: bool) -> Markup {
    html! {
        @if active {
            div class="notice legacy status--warning" role="status" {
                (Icon::Warning.svg())
                p { strong { "Using legacy configuration." } " No enabled advancement-batch job configuration exists, so the advancement job runs on the legacy defaults (daily 02:00 UTC, batch size 100, all time). Enable or create an advancement-batch configuration to take over." }
            }
        }
    }
}
