//! `GET /api/v1/schedule/preview`: what a cron expression means in a zone;
//! `GET /api/v1/jobs/{id}/upcoming`: when a job runs next.

use grove_core::schedule::{Preview, PreviewExcluded, PreviewRun};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// One upcoming run.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PreviewRunOut {
    /// The instant in UTC.
    pub utc: Timestamp,
    /// RFC 3339 with the zone's offset.
    #[schema(example = "2026-03-08T03:00:00-07:00")]
    pub local: String,
    /// The zone's abbreviation at that instant.
    #[schema(example = "PDT")]
    pub abbreviation: String,
    /// For people.
    #[schema(example = "Sun 8 Mar 2026, 03:00 PDT")]
    pub display: String,
}

impl From<&PreviewRun> for PreviewRunOut {
    fn from(r: &PreviewRun) -> Self {
        Self {
            utc: r.utc,
            local: r.local.clone(),
            abbreviation: r.abbreviation.clone(),
            display: r.display.clone(),
        }
    }
}

/// The next runs of an expression, in words, with daylight-saving notes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SchedulePreview {
    #[schema(example = "0 2 * * *")]
    pub expression: String,
    #[schema(example = "America/Los_Angeles")]
    pub timezone: String,
    #[schema(example = "Daily at 2:00 AM")]
    pub description: String,
    pub runs: Vec<PreviewRunOut>,
    /// What daylight saving does to these runs, in sentences.
    pub notes: Vec<String>,
    /// The runs' instants alone, in UTC.
    pub next: Vec<Timestamp>,
    /// Slots the excluded calendars remove, within the span of the runs
    /// (empty without `excludeCalendars`).
    pub excluded: Vec<PreviewExcludedOut>,
}

/// A slot an excluded calendar removes from a preview.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PreviewExcludedOut {
    pub utc: Timestamp,
    #[schema(example = "Fri 25 Dec 2026, 09:00 EST")]
    pub display: String,
    /// The calendar's id.
    #[schema(example = "us-holidays")]
    pub calendar: String,
}

impl From<&PreviewExcluded> for PreviewExcludedOut {
    fn from(e: &PreviewExcluded) -> Self {
        Self {
            utc: e.utc,
            display: e.display.clone(),
            calendar: e.calendar.clone(),
        }
    }
}

impl From<&Preview> for SchedulePreview {
    fn from(p: &Preview) -> Self {
        Self {
            expression: p.expression.clone(),
            timezone: p.timezone.clone(),
            description: p.description.clone(),
            runs: p.runs.iter().map(PreviewRunOut::from).collect(),
            notes: p.notes.clone(),
            next: p.runs.iter().map(|r| r.utc).collect(),
            excluded: p.excluded.iter().map(PreviewExcludedOut::from).collect(),
        }
    }
}

/// One upcoming run of a job: its slot and when it is due (slot + jitter).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpcomingRunOut {
    pub scheduled_for: Timestamp,
    pub due_at: Timestamp,
}

/// A slot an excluded calendar removes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExcludedSlotOut {
    pub scheduled_for: Timestamp,
    /// The calendar's id.
    #[schema(example = "us-holidays")]
    pub calendar: String,
}

/// `GET /api/v1/jobs/{id}/upcoming`: exactly what the scheduler will fire.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UpcomingOut {
    pub runs: Vec<UpcomingRunOut>,
    /// Slots excluded by a calendar, within the span of the runs returned.
    pub excluded: Vec<ExcludedSlotOut>,
}

impl From<&grove_core::plan::Upcoming> for UpcomingOut {
    fn from(u: &grove_core::plan::Upcoming) -> Self {
        Self {
            runs: u
                .runs
                .iter()
                .map(|r| UpcomingRunOut {
                    scheduled_for: r.scheduled_for,
                    due_at: r.due_at,
                })
                .collect(),
            excluded: u
                .excluded
                .iter()
                .map(|e| ExcludedSlotOut {
                    scheduled_for: e.scheduled_for,
                    calendar: e.calendar.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use grove_core::schedule::{DstPolicy, Schedule, preview};

    use super::*;

    /// The wire preview is grove-core's preview plus `next`.
    #[test]
    fn a_preview_is_the_core_preview_with_its_instants() {
        let schedule =
            Schedule::parse("30 2 * * *", "America/New_York", DstPolicy::Cron).expect("schedule");
        let p = preview(&schedule, "2026-03-07T12:00:00Z".parse().expect("ts"), 3);
        let mut expected = serde_json::to_value(&p).expect("json");
        expected["next"] = serde_json::json!(p.runs.iter().map(|r| r.utc).collect::<Vec<_>>());
        assert_eq!(
            serde_json::to_value(SchedulePreview::from(&p)).expect("json"),
            expected
        );
    }
}
