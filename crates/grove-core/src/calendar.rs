//! Calendars: sets of excluded local times — whole days, local date-time
//! ranges `[from, to)` and weekly windows — that jobs exclude from their
//! schedules (`schedule.excludeCalendars`). A calendar without a
//! `timezone` is read in each job's own zone.
//!
//! ```json
//! {"timezone": "America/New_York",
//!  "dates": ["2026-12-25"],
//!  "ranges": [{"from": "2026-12-24T18:00", "to": "2026-12-27T06:00"}],
//!  "weekly": [{"days": ["SUN"], "from": "01:00", "to": "03:00"}]}
//! ```

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schedule::parse_timezone;
use crate::validate::{Checker, Obj};

/// Most entries of each kind a calendar holds.
pub const MAX_DATES: usize = 1_000;
pub const MAX_RANGES: usize = 200;
pub const MAX_WEEKLY: usize = 50;

/// A local date-time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRange {
    pub from: DateTime,
    pub to: DateTime,
}

/// A weekly window on the given days, `from` to `to` local time; a `to`
/// not after `from` runs through midnight into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyWindow {
    pub days: Vec<DayName>,
    pub from: Time,
    pub to: Time,
}

crate::choice_enum!(
    /// A day of the week as calendars name it.
    DayName { Mon => "MON", Tue => "TUE", Wed => "WED", Thu => "THU", Fri => "FRI", Sat => "SAT", Sun => "SUN" }
);

impl DayName {
    fn weekday(self) -> Weekday {
        match self {
            Self::Mon => Weekday::Monday,
            Self::Tue => Weekday::Tuesday,
            Self::Wed => Weekday::Wednesday,
            Self::Thu => Weekday::Thursday,
            Self::Fri => Weekday::Friday,
            Self::Sat => Weekday::Saturday,
            Self::Sun => Weekday::Sunday,
        }
    }
}

/// The payload of a `calendar` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<Date>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<LocalRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekly: Vec<WeeklyWindow>,
}

const FIELDS: &[&str] = &["timezone", "dates", "ranges", "weekly"];

impl CalendarPayload {
    /// Validates a calendar payload at `/payload`, every problem at once.
    pub fn decode(value: &Value, c: &mut Checker) -> Option<Self> {
        let obj = c.object(value, "/payload", FIELDS, &[])?;
        let timezone = c.string(&obj, "timezone", false);
        let tz_ok = match timezone.as_deref() {
            Some(tz) => match parse_timezone(tz) {
                Ok(_) => Some(()),
                Err(e) => {
                    c.push("/payload/timezone", e.to_string());
                    None
                }
            },
            None => Some(()),
        };
        let dates = match c.string_list(&obj, "dates", false) {
            None if obj.map.get("dates").is_some_and(|v| !v.is_null()) => None,
            None => Some(Vec::new()),
            Some(items) => dates(c, items),
        };
        let ranges = match c.field(&obj, "ranges", false) {
            None => Some(Vec::new()),
            Some(_) => c
                .list(&obj, "ranges", true, decode_range)
                .and_then(|r| capped(c, "/payload/ranges", r, MAX_RANGES)),
        };
        let weekly = match c.field(&obj, "weekly", false) {
            None => Some(Vec::new()),
            Some(_) => c
                .list(&obj, "weekly", true, decode_weekly)
                .and_then(|w| capped(c, "/payload/weekly", w, MAX_WEEKLY)),
        };
        tz_ok?;
        Some(Self {
            timezone,
            dates: dates?,
            ranges: ranges?,
            weekly: weekly?,
        })
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The zone the calendar is read in: its own, else the job's.
    fn zone(&self, job_zone: &TimeZone) -> TimeZone {
        self.timezone
            .as_deref()
            .and_then(|tz| parse_timezone(tz).ok())
            .unwrap_or_else(|| job_zone.clone())
    }

    /// Whether the instant `t` falls in an excluded time.
    pub fn excludes(&self, t: Timestamp, job_zone: &TimeZone) -> bool {
        let local = t.to_zoned(self.zone(job_zone)).datetime();
        let date = local.date();
        let time = local.time();
        if self.dates.contains(&date) {
            return true;
        }
        if self.ranges.iter().any(|r| r.from <= local && local < r.to) {
            return true;
        }
        let yesterday = date.yesterday().map(|d| d.weekday()).ok();
        self.weekly.iter().any(|w| {
            let on = |weekday: Weekday| w.days.iter().any(|d| d.weekday() == weekday);
            if w.from < w.to {
                on(date.weekday()) && w.from <= time && time < w.to
            } else {
                // Through midnight: the evening part, or the morning part
                // of a window that started the day before.
                (on(date.weekday()) && time >= w.from) || (yesterday.is_some_and(on) && time < w.to)
            }
        })
    }
}

fn capped<T>(c: &mut Checker, pointer: &str, items: Vec<T>, max: usize) -> Option<Vec<T>> {
    if items.len() > max {
        c.push(pointer, format!("must list at most {max} entries"));
        None
    } else {
        Some(items)
    }
}

fn dates(c: &mut Checker, items: Vec<(String, String)>) -> Option<Vec<Date>> {
    let mut out: Vec<Date> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (pointer, text) in items {
        match text.parse::<Date>() {
            Ok(d) if text.len() == 10 && out.contains(&d) => {
                ok = false;
                c.push(pointer, format!("\"{text}\" is listed twice"));
            }
            Ok(d) if text.len() == 10 => out.push(d),
            _ => {
                ok = false;
                c.push(
                    pointer,
                    format!("\"{text}\" is not a date such as 2026-12-25"),
                );
            }
        }
    }
    if out.len() > MAX_DATES {
        c.push(
            "/payload/dates",
            format!("must list at most {MAX_DATES} dates"),
        );
        return None;
    }
    ok.then_some(out)
}

fn local_datetime(c: &mut Checker, obj: &Obj<'_>, key: &str) -> Option<DateTime> {
    let text = c.string(obj, key, true)?;
    let pointer = Checker::pointer_of(obj, key);
    // A local date-time, no offset or zone: "2026-12-24T18:00".
    match text.parse::<DateTime>() {
        Ok(dt) if !text.contains(['Z', 'z', '+', '[']) && text.matches('-').count() == 2 => {
            Some(dt)
        }
        _ => {
            c.push(
                pointer,
                format!(
                    "\"{text}\" is not a local date and time such as 2026-12-24T18:00 (no offset: the calendar's zone applies)"
                ),
            );
            None
        }
    }
}

fn local_time(c: &mut Checker, obj: &Obj<'_>, key: &str) -> Option<Time> {
    let text = c.string(obj, key, true)?;
    let pointer = Checker::pointer_of(obj, key);
    match text.parse::<Time>() {
        Ok(t) if text.len() == 5 || text.len() == 8 => Some(t),
        _ => {
            c.push(pointer, format!("\"{text}\" is not a time such as 01:30"));
            None
        }
    }
}

fn decode_range(c: &mut Checker, value: &Value, pointer: &str) -> Option<LocalRange> {
    let obj = c.object(value, pointer, &["from", "to"], &[])?;
    let from = local_datetime(c, &obj, "from");
    let to = local_datetime(c, &obj, "to");
    let (from, to) = (from?, to?);
    if to <= from {
        c.push(
            format!("{pointer}/to"),
            format!("must be after from ({from})"),
        );
        return None;
    }
    Some(LocalRange { from, to })
}

fn decode_weekly(c: &mut Checker, value: &Value, pointer: &str) -> Option<WeeklyWindow> {
    let obj = c.object(value, pointer, &["days", "from", "to"], &[])?;
    let days = c.choice_list::<DayName>(&obj, "days", true);
    let days = days.and_then(|d| {
        if d.is_empty() {
            c.push(
                format!("{pointer}/days"),
                "must list at least one day, such as [\"SAT\", \"SUN\"]",
            );
            None
        } else {
            Some(d)
        }
    });
    let from = local_time(c, &obj, "from");
    let to = local_time(c, &obj, "to");
    let (days, from, to) = (days?, from?, to?);
    if from == to {
        c.push(
            format!("{pointer}/to"),
            "must differ from from (a to before from runs through midnight)",
        );
        return None;
    }
    Some(WeeklyWindow { days, from, to })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(v: Value) -> Result<CalendarPayload, Vec<String>> {
        let mut c = Checker::new();
        let out = CalendarPayload::decode(&v, &mut c);
        let problems: Vec<String> = c.into_problems().iter().map(ToString::to_string).collect();
        match out {
            Some(p) if problems.is_empty() => Ok(p),
            _ => Err(problems),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn days_ranges_and_weekly_windows_exclude_local_times() {
        let cal = decode(json!({
            "dates": ["2026-12-25"],
            "ranges": [{"from": "2026-12-31T18:00", "to": "2027-01-01T06:00"}],
            "weekly": [{"days": ["SAT"], "from": "22:00", "to": "02:00"}, {"days": ["MON"], "from": "09:00", "to": "10:00"}]
        }))
        .unwrap();
        let ny = TimeZone::get("America/New_York").unwrap();
        // Christmas in New York: 05:00 UTC is midnight there.
        assert!(cal.excludes(at("2026-12-25T05:00:00Z"), &ny));
        assert!(!cal.excludes(at("2026-12-25T04:59:59Z"), &ny));
        // The New Year's Eve range, [from, to).
        assert!(cal.excludes(at("2026-12-31T23:00:00Z"), &ny));
        assert!(!cal.excludes(at("2027-01-01T11:00:00Z"), &ny));
        // Saturday 22:00 through Sunday 02:00 (2026-12-05 is a Saturday).
        assert!(cal.excludes(at("2026-12-06T03:30:00Z"), &ny)); // Sat 22:30
        assert!(cal.excludes(at("2026-12-06T06:59:00Z"), &ny)); // Sun 01:59
        assert!(!cal.excludes(at("2026-12-06T07:00:00Z"), &ny)); // Sun 02:00
        assert!(!cal.excludes(at("2026-12-05T06:30:00Z"), &ny)); // Sat 01:30
        assert!(cal.excludes(at("2026-12-07T14:30:00Z"), &ny)); // Mon 09:30
        // Its own zone wins over the job's.
        let utc_cal = decode(json!({"timezone": "UTC", "dates": ["2026-12-25"]})).unwrap();
        assert!(utc_cal.excludes(at("2026-12-25T00:30:00Z"), &ny));
    }

    #[test]
    fn every_problem_is_named_at_its_pointer() {
        let problems = decode(json!({
            "timezone": "Mars/Base",
            "dates": ["2026-02-30", "2026-12-25", "2026-12-25", 7],
            "ranges": [{"from": "2026-12-27T06:00", "to": "2026-12-24T18:00"}, {"from": "2026-12-24T18:00Z", "to": "x"}],
            "weekly": [{"days": [], "from": "01:00", "to": "01:00"}, {"days": ["FUNDAY"], "from": "25:00", "to": "03:00"}],
            "holidays": []
        }))
        .unwrap_err();
        let pointers: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            pointers,
            [
                "/payload/holidays",
                "/payload/timezone",
                "/payload/dates/3",
                "/payload/ranges/0/to",
                "/payload/ranges/1/from",
                "/payload/ranges/1/to",
                "/payload/weekly/0/days",
                "/payload/weekly/1/days/0",
                "/payload/weekly/1/from",
            ],
            "{problems:#?}"
        );
        let problems =
            decode(json!({"dates": ["2026-02-30", "2026-12-25", "2026-12-25"]})).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("/payload/dates/0"), "{problems:?}");
        assert!(problems[1].contains("listed twice"), "{problems:?}");
    }

    #[test]
    fn an_empty_calendar_is_valid_and_round_trips() {
        let cal = decode(json!({})).unwrap();
        assert_eq!(cal, CalendarPayload::default());
        let full = json!({"timezone": "UTC", "dates": ["2026-12-25"],
            "ranges": [{"from": "2026-12-24T18:00:00", "to": "2026-12-27T06:00:00"}],
            "weekly": [{"days": ["SUN"], "from": "01:00:00", "to": "03:00:00"}]});
        let cal = decode(full.clone()).unwrap();
        assert_eq!(cal.to_value(), full);
        assert_eq!(decode(cal.to_value()).unwrap(), cal);
    }
}
