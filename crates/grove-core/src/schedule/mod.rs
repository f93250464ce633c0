//! Schedules: cron expressions evaluated in an IANA time zone with an explicit
//! daylight-saving policy. Pure functions of time: nothing here reads a clock.
//!
//! - `parse`: the cron dialect, with errors naming field, text and reason.
//! - `calendar`: integer calendar arithmetic used by the search.
//! - `engine`: the wall-clock search (first or last matching time in a window).
//! - `zone`: offsets and transitions of a zone, with a shared lookup table.
//! - `dst`: time-zone segments and the DST rules (gap, fold, policy).
//! - `describe`: human text built from the parsed fields.
//! - `preview`: next runs with local time, abbreviations and DST notes.
//!
//! The engine is our own; `croner` was replaced because it does not apply our
//! DST rules or reject impossible dates (see `docs/schedules.md`).

mod calendar;
mod describe;
mod dst;
mod engine;
mod parse;
mod preview;
mod zone;

use std::fmt;

use jiff::{Timestamp, tz::TimeZone};

pub use preview::{Preview, PreviewExcluded, PreviewRun, preview, preview_plan};

crate::choice_enum!(
    /// How wall-clock times that daylight saving skips or repeats are
    /// treated. `cron` (the default): cron's long-standing rule — a skipped
    /// fixed time runs right after the jump, a repeated fixed time runs
    /// once; wildcard hours follow real time. `literal`: the wall clock
    /// literally — skipped times never run, repeated times run twice.
    #[derive(Default)]
    DstPolicy { #[default] Cron => "cron", Literal => "literal" }
);

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

/// A time zone name that is not a region of the tz database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneError {
    pub name: String,
    /// The name is in the database but is not a region (`localtime`,
    /// `Factory`, `posixrules`, `EST5EDT`, a lower-case spelling).
    pub not_a_region: bool,
}

impl fmt::Display for TimeZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.not_a_region {
            write!(
                f,
                "\"{}\" is not an IANA region time zone; use UTC or an Area/Location name spelled as in the tz database, such as Europe/Berlin or America/Los_Angeles",
                self.name
            )
        } else {
            write!(
                f,
                "unknown time zone \"{}\"; use an IANA name such as UTC, Europe/Berlin or America/Los_Angeles",
                self.name
            )
        }
    }
}

/// The areas of the tz database's region names (`Area/Location`).
const AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

/// `UTC`, or `Area/Location[/Sub]` with a known area and the database's
/// characters: no `localtime`, `Factory`, `posixrules`, `posix/…` or
/// `right/…` copies, and no path tricks.
fn is_region_name(name: &str) -> bool {
    if name == "UTC" {
        return true;
    }
    let Some((area, rest)) = name.split_once('/') else {
        return false;
    };
    AREAS.contains(&area)
        && rest.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
        })
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

/// Looks up an IANA region time zone (host database first, bundled copy
/// otherwise). Only `UTC` and `Area/Location` names spelled exactly as in
/// the database are accepted.
///
/// ```
/// use grove_core::schedule::parse_timezone;
/// assert!(parse_timezone("Australia/Lord_Howe").is_ok());
/// assert!(parse_timezone("Mars/Olympus").is_err());
/// assert!(parse_timezone("localtime").is_err());
/// assert!(parse_timezone("Factory").is_err());
/// ```
pub fn parse_timezone(name: &str) -> Result<TimeZone, TimeZoneError> {
    let err = |not_a_region| TimeZoneError {
        name: name.to_owned(),
        not_a_region,
    };
    if name.trim().is_empty() || name != name.trim() {
        return Err(err(false));
    }
    let tz = TimeZone::get(name).map_err(|_| err(false))?;
    if !is_region_name(name) || tz.iana_name() != Some(name) {
        return Err(err(true));
    }
    Ok(tz)
}

/// A parsed cron expression (no zone yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    source: String,
    fields: parse::Fields,
}

impl CronExpr {
    /// Parses the dialect described in `docs/schedules.md`.
    ///
    /// ```
    /// use grove_core::schedule::CronExpr;
    /// assert!(CronExpr::parse("*/15 9-17 * * MON-FRI").is_ok());
    /// let err = CronExpr::parse("0 0 30 2 *").unwrap_err();
    /// assert_eq!(err.to_string(), "day-of-month field \"30\": no such day in February, so the schedule would never run");
    /// ```
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let fields = parse::parse(expr)?;
        Ok(Self {
            source: expr.trim().to_owned(),
            fields,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Human text such as "Every 15 minutes, between 9:00 AM and 5:59 PM".
    pub fn describe(&self) -> String {
        describe::describe(&self.fields)
    }

    /// Whether the expression has a leading seconds field.
    pub fn has_seconds(&self) -> bool {
        self.fields.has_seconds
    }

    /// Whether the hour field has a wildcard or step, so that under
    /// [`DstPolicy::Cron`] the job follows real time through DST changes.
    pub fn follows_real_time(&self) -> bool {
        self.fields.hour_follows_real_time
    }

    /// Whether a wall-clock time matches every field (the Vixie rule for the
    /// two day fields). This is the definition the search must agree with.
    pub fn matches(&self, dt: jiff::civil::DateTime) -> bool {
        if dt.subsec_nanosecond() != 0 {
            return false;
        }
        let c = calendar::Civil {
            year: i32::from(dt.year()),
            month: dt.month() as u32,
            day: dt.day() as u32,
            hour: dt.hour() as u32,
            minute: dt.minute() as u32,
            second: dt.second() as u32,
        };
        engine::matches(&self.fields, c)
    }
}

/// Human text for an expression.
///
/// ```
/// assert_eq!(
///     grove_core::schedule::describe("*/15 9-17 * * MON-FRI").unwrap(),
///     "Every 15 minutes, between 9:00 AM and 5:59 PM, Monday through Friday",
/// );
/// ```
pub fn describe(expr: &str) -> Result<String, CronError> {
    CronExpr::parse(expr).map(|c| c.describe())
}

/// A cron expression bound to a time zone and a DST policy.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: CronExpr,
    zone: zone::Zone,
    tz_name: String,
    policy: DstPolicy,
}

impl Schedule {
    /// ```
    /// use grove_core::schedule::{DstPolicy, Schedule};
    /// let s = Schedule::parse("0 2 * * *", "America/Los_Angeles", DstPolicy::Cron).unwrap();
    /// let next = s.next_after("2026-03-07T12:00:00Z".parse().unwrap()).unwrap();
    /// // 02:00 does not exist on 8 March 2026: the job runs right after the jump.
    /// assert_eq!(next.to_string(), "2026-03-08T10:00:00Z");
    /// ```
    pub fn parse(expr: &str, tz: &str, policy: DstPolicy) -> Result<Self, ScheduleError> {
        let cron = CronExpr::parse(expr).map_err(ScheduleError::Cron)?;
        let zone = parse_timezone(tz).map_err(ScheduleError::TimeZone)?;
        Ok(Self {
            cron,
            zone: zone::Zone::new(zone),
            tz_name: tz.to_owned(),
            policy,
        })
    }

    /// Like [`Schedule::parse`], but for a schedule already stored: the
    /// zone is looked up as before region names were required, so a config
    /// saved with a since-refused name (`US/Pacific`, `localtime`) keeps
    /// running until it is next edited (an edit must give a region name).
    pub fn parse_stored(expr: &str, tz: &str, policy: DstPolicy) -> Result<Self, ScheduleError> {
        let cron = CronExpr::parse(expr).map_err(ScheduleError::Cron)?;
        let zone = match parse_timezone(tz) {
            Ok(z) => z,
            Err(e) => TimeZone::get(tz).map_err(|_| ScheduleError::TimeZone(e))?,
        };
        Ok(Self {
            cron,
            zone: zone::Zone::new(zone),
            tz_name: tz.to_owned(),
            policy,
        })
    }

    pub fn expression(&self) -> &str {
        self.cron.as_str()
    }

    /// The parsed expression.
    pub fn cron(&self) -> &CronExpr {
        &self.cron
    }

    pub fn timezone(&self) -> &TimeZone {
        self.zone.tz()
    }

    pub fn timezone_name(&self) -> &str {
        &self.tz_name
    }

    pub fn policy(&self) -> DstPolicy {
        self.policy
    }

    /// Whether the expression has a leading seconds field.
    pub fn has_seconds(&self) -> bool {
        self.cron.has_seconds()
    }

    /// Whether DST gaps move this job's runs to the jump and folds run only
    /// once: `Cron` policy with a fixed hour.
    fn dst_shift(&self) -> bool {
        self.policy == DstPolicy::Cron && !self.cron.follows_real_time()
    }

    fn fields(&self) -> &parse::Fields {
        &self.cron.fields
    }

    fn zone(&self) -> &zone::Zone {
        &self.zone
    }

    /// The first run strictly after `t`, or `None` if there is none before
    /// the end of jiff's range.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        dst::next_run(&self.cron.fields, &self.zone, self.dst_shift(), t)
    }

    /// The last run strictly before `t`, or `None` if there is none.
    pub fn prev_before(&self, t: Timestamp) -> Option<Timestamp> {
        dst::prev_run(&self.cron.fields, &self.zone, self.dst_shift(), t)
    }

    /// Runs strictly after `after`, in order.
    pub fn upcoming(&self, after: Timestamp) -> Upcoming<'_> {
        Upcoming {
            schedule: self,
            cursor: after,
        }
    }

    /// Whether a daylight-saving transition in `(from, to]` skips, moves or
    /// repeats one of this schedule's wall-clock times.
    pub fn is_dst_affected(&self, from: Timestamp, to: Timestamp) -> bool {
        !dst::shifts(&self.cron.fields, &self.zone, from, to).is_empty()
    }

    /// Human text for the expression, e.g. "Daily at 2:00 AM".
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
