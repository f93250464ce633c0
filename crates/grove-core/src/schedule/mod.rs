//! Schedules: cron expressions evaluated in an IANA time zone with an explicit
//! daylight-saving policy. Pure functions of time: nothing here reads a clock.
//!
//! This first version wraps `croner`; the schedule work (DST fixtures, human
//! text, previews) replaces the internals behind the same API.

use std::fmt;

use jiff::{Timestamp, tz::TimeZone};

use crate::validate::Choice;

/// How wall-clock times that daylight saving skips or repeats are treated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DstPolicy {
    /// cron's long-standing rule: a skipped fixed time runs right after the
    /// jump, a repeated fixed time runs once; wildcard hours follow real time.
    #[default]
    Cron,
    /// The wall clock literally: skipped times never run, repeated times run twice.
    Literal,
}

impl Choice for DstPolicy {
    const ALL: &'static [Self] = &[Self::Cron, Self::Literal];
    fn name(self) -> &'static str {
        match self {
            Self::Cron => "cron",
            Self::Literal => "literal",
        }
    }
}

/// A cron expression that does not parse, naming the field and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// "minute", "hour", "day-of-month", "month", "day-of-week", "second", or
    /// `None` when the problem is the expression as a whole.
    pub field: Option<&'static str>,
    /// The offending text.
    pub text: String,
    /// Why it is wrong, in words.
    pub reason: String,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field} field \"{}\": {}", self.text, self.reason),
            None => write!(f, "\"{}\": {}", self.text, self.reason),
        }
    }
}

impl std::error::Error for CronError {}

/// A time zone name that is not in the tz database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneError {
    pub name: String,
}

impl fmt::Display for TimeZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown time zone \"{}\"; use an IANA name such as UTC, Europe/Berlin or America/Los_Angeles",
            self.name
        )
    }
}

impl std::error::Error for TimeZoneError {}

/// Why a schedule could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    Cron(CronError),
    TimeZone(TimeZoneError),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cron(e) => e.fmt(f),
            Self::TimeZone(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ScheduleError {}

/// Looks up an IANA time zone (host database first, bundled copy otherwise).
pub fn parse_timezone(name: &str) -> Result<TimeZone, TimeZoneError> {
    let err = || TimeZoneError {
        name: name.to_owned(),
    };
    if name.trim().is_empty() || name != name.trim() {
        return Err(err());
    }
    TimeZone::get(name).map_err(|_| err())
}

/// A parsed cron expression (no zone yet).
#[derive(Debug, Clone)]
pub struct CronExpr {
    source: String,
    cron: croner::Cron,
}

impl CronExpr {
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build();
        let cron = parser.parse(expr).map_err(|e| CronError {
            field: None,
            text: expr.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            source: expr.trim().to_owned(),
            cron,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Human text such as "Every 15 minutes, between 9:00 AM and 5:59 PM".
    pub fn describe(&self) -> String {
        self.cron.describe()
    }
}

/// Human text for an expression.
pub fn describe(expr: &str) -> Result<String, CronError> {
    CronExpr::parse(expr).map(|c| c.describe())
}

/// A cron expression bound to a time zone and a DST policy.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: CronExpr,
    tz: TimeZone,
    tz_name: String,
    policy: DstPolicy,
}

impl Schedule {
    pub fn parse(expr: &str, tz: &str, policy: DstPolicy) -> Result<Self, ScheduleError> {
        let cron = CronExpr::parse(expr).map_err(ScheduleError::Cron)?;
        let zone = parse_timezone(tz).map_err(ScheduleError::TimeZone)?;
        Ok(Self {
            cron,
            tz: zone,
            tz_name: tz.to_owned(),
            policy,
        })
    }

    pub fn expression(&self) -> &str {
        self.cron.as_str()
    }

    pub fn timezone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn timezone_name(&self) -> &str {
        &self.tz_name
    }

    pub fn policy(&self) -> DstPolicy {
        self.policy
    }

    /// The first run strictly after `t`, or `None` if there is none.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let start = t.to_zoned(self.tz.clone());
        self.cron
            .cron
            .find_next_occurrence(&start, false)
            .ok()
            .map(|z| z.timestamp())
    }

    /// The last run strictly before `t`, or `None` if there is none.
    pub fn prev_before(&self, t: Timestamp) -> Option<Timestamp> {
        let start = t.to_zoned(self.tz.clone());
        self.cron
            .cron
            .find_previous_occurrence(&start, false)
            .ok()
            .map(|z| z.timestamp())
    }

    /// Runs strictly after `after`, in order.
    pub fn upcoming(&self, after: Timestamp) -> Upcoming<'_> {
        Upcoming {
            schedule: self,
            cursor: after,
        }
    }

    /// Human text for the expression, e.g. "At 02:00 AM".
    pub fn describe(&self) -> String {
        self.cron.describe()
    }
}

/// Iterator over the runs of a [`Schedule`].
#[derive(Debug, Clone)]
pub struct Upcoming<'a> {
    schedule: &'a Schedule,
    cursor: Timestamp,
}

impl Iterator for Upcoming<'_> {
    type Item = Timestamp;

    fn next(&mut self) -> Option<Timestamp> {
        let next = self.schedule.next_after(self.cursor)?;
        self.cursor = next;
        Some(next)
    }
}
