//! `/console/timeline`: the next 24 hours of scheduled runs of every
//! enabled job, on a time axis in the viewer's chosen zone.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use grove_core::job_config::JobConfigPayload;
use grove_core::plan::JobPlan;
use grove_core::registry::JOB_CONFIG;
use jiff::{SignedDuration, Timestamp};
use maud::html;
use serde::Deserialize;

use super::form::timezones;
use super::layout::{self, Icon, Nav, at_pct, when, zone};
use super::session::{ConsoleUser, refusal};
use crate::state::AppState;

/// Most marks drawn per job (an every-minute job has 1440 a day).
const MAX_MARKS: usize = 300;

#[derive(Debug, Deserialize)]
pub struct TimelineQuery {
    tz: Option<String>,
}

struct Row {
    id: String,
    name: String,
    /// When each run is due (its slot plus jitter).
    runs: Vec<Timestamp>,
    /// Slots a calendar excludes, with the calendar's id (drawn struck through).
    excluded: Vec<(Timestamp, String)>,
    more: bool,
    schedule_text: String,
}

/// `GET /console/timeline?tz=`
pub async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let tz_name =
        q.tz.filter(|t| grove_core::schedule::parse_timezone(t).is_ok())
            .unwrap_or_else(|| "UTC".to_owned());
    let tz = zone(&tz_name);
    let now = state.clock.now();
    let end = now + SignedDuration::from_hours(24);
    let objects = match state.store.object_list(JOB_CONFIG).await {
        Ok(o) => o,
        Err(e) => {
            return refusal(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "Error",
                &e.to_string(),
            );
        }
    };
    let calendars = state.app.calendars().await.unwrap_or_default();
    let mut rows = Vec::new();
    for o in &objects {
        let Ok(p) = <JobConfigPayload as serde::Deserialize>::deserialize(&o.payload) else {
            continue;
        };
        if !p.schedule.is_enabled {
            continue;
        }
        // The same plan the scheduler fires: calendars, pause, jitter, runAt.
        let Some(plan) = JobPlan::new(&o.meta.id, &p.schedule, &calendars) else {
            continue;
        };
        let upcoming = plan.upcoming(now, MAX_MARKS + 1);
        let mut runs: Vec<Timestamp> = upcoming
            .runs
            .iter()
            .map(|r| r.due_at)
            .filter(|t| *t <= end)
            .collect();
        let more = runs.len() > MAX_MARKS;
        runs.truncate(MAX_MARKS);
        let excluded = upcoming
            .excluded
            .into_iter()
            .filter(|e| e.scheduled_for <= end)
            .map(|e| (e.scheduled_for, e.calendar))
            .collect();
        rows.push(Row {
            id: o.meta.id.clone(),
            name: p.display_name.clone(),
            schedule_text: p.schedule.text(),
            runs,
            excluded,
            more,
        });
    }
    rows.sort_by_key(|r| r.runs.first().copied());
    let span = (end.as_second() - now.as_second()) as f64;
    let at = |t: Timestamp| (t.as_second() - now.as_second()) as f64 / span * 100.0;
    // Hour ticks every 3 hours, on the hour in the chosen zone.
    let mut ticks = Vec::new();
    let start_local = now.to_zoned(tz.clone());
    let mut tick = start_local
        .with()
        .minute(0)
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .map(|z| z.timestamp())
        .unwrap_or(now);
    while tick <= end {
        if tick >= now {
            let z = tick.to_zoned(tz.clone());
            if z.hour() % 3 == 0 {
                // Phones label every other tick; labels at the ends stay inside.
                let x = at(tick);
                let mut class = at_pct(x);
                if z.hour() % 6 != 0 {
                    class.push_str(" minor");
                }
                if x > 94.0 {
                    class.push_str(" edge-r");
                } else if x < 6.0 {
                    class.push_str(" edge-l");
                }
                ticks.push((x, class, z.strftime("%-I %p").to_string()));
            }
        }
        tick += SignedDuration::from_hours(1);
    }
    // The next 25 runs of all jobs, with the excluded slots among them.
    let upcoming: Vec<(Timestamp, &Row, Option<&str>)> = {
        let mut all: Vec<(Timestamp, &Row, Option<&str>)> = rows
            .iter()
            .flat_map(|r| r.runs.iter().map(move |t| (*t, r, None)))
            .collect();
        all.sort_by_key(|(t, _, _)| *t);
        all.truncate(25);
        let last = all.last().map(|(t, _, _)| *t).unwrap_or(end);
        all.extend(rows.iter().flat_map(|r| {
            r.excluded
                .iter()
                .filter(move |(t, _)| *t <= last)
                .map(move |(t, c)| (*t, r, Some(c.as_str())))
        }));
        all.sort_by_key(|(t, _, _)| *t);
        all
    };
    let body = html! {
        div class="editor-head" {
            div {
                h1 { (Icon::Timeline.svg()) "Next 24 hours" }
                p class="subtitle" { "Scheduled runs of every enabled job from " (when(now, &tz, now)) " to " (when(end, &tz, now)) "." }
            }
            form method="get" action="/console/timeline" class="search" {
                label for="tz" { "Time zone" }
                input type="text" id="tz" name="tz" value=(tz_name) list="tz-list" autocomplete="off";
                datalist id="tz-list" { @for z in timezones() { option value=(z) {} } }
                button type="submit" { "Show" }
            }
        }
        @if rows.is_empty() {
            p class="empty" { "No enabled job runs in the next 24 hours." }
        } @else {
            div class="timeline" role="region" aria-label="Timeline of scheduled runs" {
                div class="tl-row" aria-hidden="true" {
                    div class="tl-gap" {}
                    div class="tl-axis" { @for (_, class, label) in &ticks { span class=(class) { (label) } } }
                }
                @for r in &rows {
                    div class="tl-row" {
                        div class="tl-name" { (Icon::Hourglass.svg()) a href={ "/console/jobs/" (r.id) } { (r.name) } }
                        div class="tl-track" title=(r.schedule_text) {
                            @for (x, _, _) in &ticks { span class={ "tl-tick " (at_pct(*x)) } {} }
                            @let dense = r.runs.len() > 48;
                            @for t in &r.runs {
                                span class={ "tl-mark " (at_pct(at(*t))) @if dense { " dense" } } title={ (r.name) " · " (when(*t, &tz, now)) } {}
                            }
                            @for (t, calendar) in &r.excluded {
                                span class={ "tl-mark excluded " (at_pct(at(*t))) } title={ (r.name) " · " (when(*t, &tz, now)) " · excluded by calendar " (calendar) } {}
                            }
                        }
                    }
                    @if r.more { div class="hint" { (r.name) ": more than " (MAX_MARKS) " runs; the first " (MAX_MARKS) " are drawn." } }
                }
            }
            h2 class="spaced" { "Upcoming runs" }
            p class="subtitle" { "Times in " (tz_name) "." }
            table class="revs upcoming" {
                thead { tr { th { "When" } th { "Job" } th { "Schedule" } } }
                tbody {
                    @for (t, r, excluded) in &upcoming {
                        @match excluded {
                            None => tr { td { (when(*t, &tz, now)) } td { a href={ "/console/jobs/" (r.id) } { (r.name) } } td { (r.schedule_text) } },
                            Some(calendar) => tr class="excluded" {
                                td { s { (when(*t, &tz, now)) } }
                                td { a href={ "/console/jobs/" (r.id) } { (r.name) } }
                                td { "Excluded by calendar " a href={ "/console/calendars/" (calendar) } { (calendar) } }
                            },
                        }
                    }
                }
            }
        }
    };
    layout::page("Timeline", &user, Nav::Timeline, "", body).into_response()
}
