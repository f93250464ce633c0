//! Previews: the next runs of a schedule in UTC and local time, its human
//! text, and notes on the runs that daylight saving moves, skips or repeats.

use jiff::Timestamp;
use serde::Serialize;

use super::Schedule;
use super::calendar::Civil;
use super::dst::{MAX_LISTED, Shift, shifts};

/// What `GET /api/v1/schedule/preview` and `grove-jobs cron next` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub expression: String,
    pub timezone: String,
    pub description: String,
    pub runs: Vec<PreviewRun>,
    pub notes: Vec<String>,
    /// Slots a job's calendars exclude among the runs (shown struck
    /// through); empty for a bare expression.
    pub excluded: Vec<PreviewExcluded>,
}

/// A slot that an excluded calendar removes from the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewExcluded {
    pub utc: Timestamp,
    /// For people, like [`PreviewRun::display`].
    pub display: String,
    /// The id of the calendar that excludes it.
    pub calendar: String,
}

/// One upcoming run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRun {
    /// The instant, serialized as RFC 3339 in UTC.
    pub utc: Timestamp,
    /// RFC 3339 with the zone's offset, e.g. `2026-03-08T03:00:00-07:00`.
    pub local: String,
    /// The zone's abbreviation at that instant, e.g. `PDT`.
    pub abbreviation: String,
    /// For people: `Sun 8 Mar 2026, 03:00 PDT`.
    pub display: String,
}

/// The next `count` runs strictly after `after`, with DST notes.
///
/// ```
/// use grove_core::schedule::{DstPolicy, Schedule, preview};
/// let s = Schedule::parse("30 2 * * *", "America/Los_Angeles", DstPolicy::Cron).unwrap();
/// let p = preview(&s, "2026-03-07T12:00:00Z".parse().unwrap(), 2);
/// assert_eq!(p.runs[0].display, "Sun 8 Mar 2026, 03:00 PDT");
/// assert_eq!(p.notes, ["Sun 8 Mar: 02:30 does not exist in America/Los_Angeles; runs at 03:00 PDT"]);
/// ```
pub fn preview(schedule: &Schedule, after: Timestamp, count: usize) -> Preview {
    let runs: Vec<Timestamp> = schedule.upcoming(after).take(count).collect();
    let notes = match runs.last() {
        Some(&last) => notes(schedule, after, last),
        None => Vec::new(),
    };
    Preview {
        expression: schedule.expression().to_owned(),
        timezone: schedule.timezone_name().to_owned(),
        description: schedule.describe(),
        runs: runs.iter().map(|&t| run(schedule, t)).collect(),
        notes,
        excluded: Vec::new(),
    }
}

/// A preview of a job's whole plan: the runs its calendars leave (with a
/// note naming each excluded slot: "Fri 25 Dec: excluded by calendar
/// us-holidays") and, with jitter, a note saying how late runs may be due.
pub fn preview_plan(
    schedule: &Schedule,
    plan: &crate::plan::JobPlan,
    after: Timestamp,
    count: usize,
    jitter_seconds: u32,
) -> Preview {
    let upcoming = plan.upcoming(after, count);
    let runs: Vec<Timestamp> = upcoming.runs.iter().map(|r| r.scheduled_for).collect();
    let mut notes = match runs.last() {
        Some(&last) => notes(schedule, after, last),
        None => Vec::new(),
    };
    for excluded in &upcoming.excluded {
        let day = excluded
            .scheduled_for
            .to_zoned(schedule.timezone().clone())
            .strftime("%a %-d %b");
        notes.push(format!("{day}: excluded by calendar {}", excluded.calendar));
    }
    if jitter_seconds > 0 {
        notes.push(format!(
            "each run is due up to {jitter_seconds} s after its slot (jitter, the same on every instance)"
        ));
    }
    Preview {
        expression: schedule.expression().to_owned(),
        timezone: schedule.timezone_name().to_owned(),
        description: schedule.describe(),
        runs: runs.iter().map(|&t| run(schedule, t)).collect(),
        notes,
        excluded: upcoming
            .excluded
            .iter()
            .map(|e| PreviewExcluded {
                utc: e.scheduled_for,
                display: run(schedule, e.scheduled_for).display,
                calendar: e.calendar.clone(),
            })
            .collect(),
    }
}

fn run(schedule: &Schedule, t: Timestamp) -> PreviewRun {
    let tz = schedule.timezone();
    let info = tz.to_offset_info(t);
    let zoned = t.to_zoned(tz.clone());
    let seconds = if schedule.has_seconds() { ":%S" } else { "" };
    PreviewRun {
        utc: t,
        local: t.display_with_offset(info.offset()).to_string(),
        abbreviation: info.abbreviation().to_owned(),
        display: format!(
            "{} {}",
            zoned.strftime(&format!("%a %-d %b %Y, %H:%M{seconds}")),
            info.abbreviation()
        ),
    }
}

/// "02:30", or "02:30:15" when the time has seconds.
fn hhmm(c: &Civil) -> String {
    if c.second == 0 {
        format!("{:02}:{:02}", c.hour, c.minute)
    } else {
        format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
    }
}

fn list_times(shift: &Shift) -> String {
    let times: Vec<String> = shift.times.iter().map(hhmm).collect();
    if shift.total > MAX_LISTED {
        let first = &times[0];
        return format!("{first} to {} ({} times)", hhmm(&shift.last), shift.total);
    }
    match times.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

/// Notes for the transitions that affect runs in `(after, last]`.
fn notes(schedule: &Schedule, after: Timestamp, last: Timestamp) -> Vec<String> {
    let tz = schedule.timezone();
    let zone = schedule.timezone_name();
    let shift_policy = schedule.dst_shift();
    let two_days = jiff::SignedDuration::from_hours(48);
    let from = after.saturating_sub(two_days).unwrap_or(after);
    let to = last.saturating_add(two_days).unwrap_or(last);
    let in_window = |secs: i64| Timestamp::from_second(secs).is_ok_and(|t| t > after && t <= last);
    let mut out = Vec::new();
    for shift in shifts(schedule.fields(), schedule.zone(), from, to) {
        let at = shift.at.as_second();
        let abbr = |t: i64| {
            Timestamp::from_second(t)
                .map(|t| tz.to_offset_info(t).abbreviation().to_owned())
                .unwrap_or_default()
        };
        let day = shift
            .at
            .to_zoned(tz.clone())
            .strftime("%a %-d %b")
            .to_string();
        let times = list_times(&shift);
        let many = shift.total > 1;
        if shift.gap {
            if !in_window(at) {
                continue;
            }
            let verb = if many {
                "do not exist"
            } else {
                "does not exist"
            };
            let what = if shift_policy {
                let first = Civil::from_seconds(at + shift.after);
                let once = if many { "once " } else { "" };
                format!("runs {once}at {} {}", hhmm(&first), abbr(at))
            } else if many {
                "they are skipped".to_owned()
            } else {
                "skipped".to_owned()
            };
            out.push(format!("{day}: {times} {verb} in {zone}; {what}"));
        } else {
            // Wall-clock time c ran (or runs) at c - before and c - after.
            let first_copies: Vec<i64> = shift
                .times
                .iter()
                .map(|c| c.to_seconds() - shift.before)
                .collect();
            let second_copies: Vec<i64> = shift
                .times
                .iter()
                .map(|c| c.to_seconds() - shift.after)
                .collect();
            let affected = first_copies
                .iter()
                .chain(&second_copies)
                .any(|&s| in_window(s))
                || (shift.total > MAX_LISTED && in_window(at));
            if !affected {
                continue;
            }
            let verb = if many { "occur twice" } else { "occurs twice" };
            let a1 = abbr(at - 1);
            let a2 = abbr(at);
            let what = match (shift_policy, many) {
                (true, false) => format!("runs once at {} {a1}", hhmm(&shift.times[0])),
                (true, true) => format!("each runs once, in {a1}"),
                (false, false) => {
                    let t = hhmm(&shift.times[0]);
                    format!("runs twice, at {t} {a1} and {t} {a2}")
                }
                (false, true) => format!("each runs twice, in {a1} and again in {a2}"),
            };
            out.push(format!("{day}: {times} {verb} in {zone}; {what}"));
        }
    }
    out
}
