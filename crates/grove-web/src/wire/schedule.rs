//! `GET /api/v1/schedule/preview`: what a cron expression means in a zone.

use grove_core::schedule::{Preview, PreviewRun};
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
