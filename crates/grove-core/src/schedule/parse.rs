//! The cron dialect: text to [`Fields`], with an error that names the field,
//! the offending text and the reason.
//!
//! Grammar (per field, a comma-separated list of items):
//! `*` or `?` (any), `n`, `a-b`, `*/s`, `a/s`, `a-b/s`, names (`JAN`-`DEC`,
//! `SUN`-`SAT`, any case), and the specials `L`, `L-n`, `LW`, `nW`
//! (day-of-month) and `d#n`, `dL` (day-of-week). Day-of-week 0 and 7 are
//! Sunday.

use super::CronError;

/// The fields of a cron expression, in the order they appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::DayOfMonth => "day-of-month",
            Self::Month => "month",
            Self::DayOfWeek => "day-of-week",
        }
    }

    fn bounds(self) -> (u32, u32) {
        match self {
            Self::Second | Self::Minute => (0, 59),
            Self::Hour => (0, 23),
            Self::DayOfMonth => (1, 31),
            Self::Month => (1, 12),
            // 7 is accepted as a second spelling of Sunday.
            Self::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Self::Month => &[
                "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
            ],
            Self::DayOfWeek => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            _ => &[],
        }
    }

    /// The first value of a name (1 for JAN, 0 for SUN).
    fn name_base(self) -> u32 {
        if self == Self::Month { 1 } else { 0 }
    }
}

/// One item of a field's comma-separated list, kept for the human text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// `*` or `?`.
    Any,
    Value(u32),
    Range(u32, u32),
    /// `*/s` (`star`), `a/s` (open end) or `a-b/s`.
    Step {
        start: u32,
        end: u32,
        step: u32,
        star: bool,
        open: bool,
    },
    /// `L` (offset 0) or `L-n` in day-of-month.
    Last(u32),
    /// `LW` in day-of-month.
    LastWeekday,
    /// `nW` in day-of-month.
    NearestWeekday(u32),
    /// `d#n` in day-of-week.
    Nth(u32, u32),
    /// `dL` in day-of-week.
    LastOf(u32),
}

/// A parsed field: its text, its items and the plain values as a bit set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub text: String,
    pub items: Vec<Item>,
    /// Bit `v` set when plain value `v` matches (day-of-week 7 folded to 0).
    pub mask: u64,
    /// The field is `*` or `?`: it does not restrict anything.
    pub star: bool,
}

/// Every field of an expression, plus the day-level specials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields {
    pub has_seconds: bool,
    pub second: Field,
    pub minute: Field,
    pub hour: Field,
    pub dom: Field,
    pub month: Field,
    pub dow: Field,
    /// Bit `n` set for `L-n` (bit 0 is `L`).
    pub dom_last: u32,
    pub dom_last_weekday: bool,
    /// Bit `n` set for `nW`.
    pub dom_nearest: u32,
    /// Per weekday, bit `n` set for `d#n`.
    pub dow_nth: [u8; 7],
    /// Bit `d` set for `dL`.
    pub dow_last: u8,
    /// The hour field has a wildcard or a step: the job follows real time
    /// through daylight-saving changes.
    pub hour_follows_real_time: bool,
}

fn err(kind: Kind, text: &str, reason: impl Into<String>) -> CronError {
    CronError {
        field: Some(kind.name()),
        text: text.to_owned(),
        reason: reason.into(),
    }
}

fn whole(text: &str, reason: impl Into<String>) -> CronError {
    CronError {
        field: None,
        text: text.to_owned(),
        reason: reason.into(),
    }
}

const SHORTCUTS: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// Parses an expression into its fields, rejecting schedules that can never run.
pub(crate) fn parse(expr: &str) -> Result<Fields, CronError> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err(whole(
            expr,
            "the expression is empty; expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds",
        ));
    }
    let expanded = if trimmed.starts_with('@') {
        let lower = trimmed.to_ascii_lowercase();
        match SHORTCUTS.iter().find(|(name, _)| *name == lower) {
            Some((_, fields)) => *fields,
            None => {
                return Err(whole(
                    trimmed,
                    "unknown shortcut; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly",
                ));
            }
        }
    } else {
        trimmed
    };
    let parts: Vec<&str> = expanded.split_ascii_whitespace().collect();
    let (has_seconds, second_text, rest) = match parts.len() {
        5 => (false, "0", &parts[..]),
        6 => (true, parts[0], &parts[1..]),
        n => {
            return Err(whole(
                trimmed,
                format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, found {n}"
                ),
            ));
        }
    };
    let mut specials = Specials::default();
    let second = parse_field(Kind::Second, second_text, &mut specials)?;
    let minute = parse_field(Kind::Minute, rest[0], &mut specials)?;
    let hour = parse_field(Kind::Hour, rest[1], &mut specials)?;
    let dom = parse_field(Kind::DayOfMonth, rest[2], &mut specials)?;
    let month = parse_field(Kind::Month, rest[3], &mut specials)?;
    let dow = parse_field(Kind::DayOfWeek, rest[4], &mut specials)?;
    let hour_follows_real_time = rest[1].contains(['*', '?', '/']);
    let fields = Fields {
        has_seconds,
        second,
        minute,
        hour,
        dom,
        month,
        dow,
        dom_last: specials.dom_last,
        dom_last_weekday: specials.dom_last_weekday,
        dom_nearest: specials.dom_nearest,
        dow_nth: specials.dow_nth,
        dow_last: specials.dow_last,
        hour_follows_real_time,
    };
    check_possible(&fields)?;
    Ok(fields)
}

#[derive(Default)]
struct Specials {
    dom_last: u32,
    dom_last_weekday: bool,
    dom_nearest: u32,
    dow_nth: [u8; 7],
    dow_last: u8,
}

fn parse_field(kind: Kind, text: &str, specials: &mut Specials) -> Result<Field, CronError> {
    let (min, max) = kind.bounds();
    let mut items = Vec::new();
    let mut mask = 0u64;
    if text == "*" || text == "?" {
        if text == "?" && !matches!(kind, Kind::DayOfMonth | Kind::DayOfWeek) {
            return Err(err(
                kind,
                text,
                "\"?\" is only allowed in day-of-month and day-of-week",
            ));
        }
        let max = if kind == Kind::DayOfWeek { 6 } else { max };
        for v in min..=max {
            mask |= 1 << v;
        }
        return Ok(Field {
            text: text.to_owned(),
            items: vec![Item::Any],
            mask,
            star: true,
        });
    }
    for item_text in text.split(',') {
        if item_text.is_empty() {
            return Err(err(kind, text, "empty list item"));
        }
        let item = parse_item(kind, item_text)?;
        match item {
            Item::Any => {
                return Err(err(kind, item_text, "a wildcard cannot be part of a list"));
            }
            Item::Value(v) => mask |= 1 << v,
            Item::Range(a, b) => {
                for v in a..=b {
                    mask |= 1 << v;
                }
            }
            Item::Step {
                start, end, step, ..
            } => {
                // The step is within the field's span (checked in
                // `parse_item`), but stay in checked arithmetic: a wrap here
                // would silently turn a rare schedule into "every minute".
                let mut v = start;
                while v <= end {
                    mask |= 1 << v;
                    match v.checked_add(step) {
                        Some(next) => v = next,
                        None => break,
                    }
                }
            }
            Item::Last(n) => specials.dom_last |= 1 << n,
            Item::LastWeekday => specials.dom_last_weekday = true,
            Item::NearestWeekday(n) => specials.dom_nearest |= 1 << n,
            Item::Nth(d, n) => specials.dow_nth[d as usize] |= 1 << n,
            Item::LastOf(d) => specials.dow_last |= 1 << d,
        }
        items.push(item);
    }
    if kind == Kind::DayOfWeek && mask & (1 << 7) != 0 {
        mask = (mask & !(1 << 7)) | 1;
    }
    Ok(Field {
        text: text.to_owned(),
        items,
        mask,
        star: false,
    })
}

fn parse_item(kind: Kind, text: &str) -> Result<Item, CronError> {
    let upper = text.to_ascii_uppercase();
    match kind {
        Kind::DayOfMonth => {
            if upper == "L" {
                return Ok(Item::Last(0));
            }
            if upper == "LW" {
                return Ok(Item::LastWeekday);
            }
            if let Some(n) = upper.strip_prefix("L-") {
                let n = number(kind, text, n)?;
                if n > 30 {
                    return Err(err(
                        kind,
                        text,
                        format!(
                            "L-{n} reaches before the first day of every month; use L-0 to L-30"
                        ),
                    ));
                }
                return Ok(Item::Last(n));
            }
            if let Some(n) = upper.strip_suffix('W') {
                let n = number(kind, text, n)?;
                if !(1..=31).contains(&n) {
                    return Err(err(kind, text, format!("{n} is out of range 1-31")));
                }
                return Ok(Item::NearestWeekday(n));
            }
            if upper.contains(['L', 'W']) {
                return Err(err(
                    kind,
                    text,
                    "L and W are written L, L-n, LW or nW (e.g. 15W)",
                ));
            }
        }
        Kind::DayOfWeek => {
            if let Some((d, n)) = upper.split_once('#') {
                let d = value(kind, text, d)? % 7;
                let n = number(kind, text, n)?;
                if !(1..=5).contains(&n) {
                    return Err(err(
                        kind,
                        text,
                        format!("#{n} is not an occurrence in a month; use #1 to #5"),
                    ));
                }
                return Ok(Item::Nth(d, n));
            }
            if upper == "L" {
                return Err(err(
                    kind,
                    text,
                    "L alone is ambiguous here; write the weekday before it, e.g. FRIL or 5L for the last Friday",
                ));
            }
            if let Some(d) = upper.strip_suffix('L') {
                let d = value(kind, text, d)? % 7;
                return Ok(Item::LastOf(d));
            }
        }
        _ => {
            if upper.contains(['L', 'W', '#']) && kind != Kind::Month {
                return Err(err(
                    kind,
                    text,
                    "L, W and # are only allowed in day-of-month and day-of-week",
                ));
            }
        }
    }
    if upper.contains('#') {
        return Err(err(
            kind,
            text,
            "# is only allowed in day-of-week (e.g. MON#2)",
        ));
    }
    let (min, max) = kind.bounds();
    let (range, step) = match text.split_once('/') {
        Some((r, s)) => (r, Some(step(kind, text, s)?)),
        None => (text, None),
    };
    if range == "*" || range == "?" {
        let max = if kind == Kind::DayOfWeek { 6 } else { max };
        return Ok(match step {
            None => Item::Any,
            Some(step) => Item::Step {
                start: min,
                end: max,
                step,
                star: true,
                open: true,
            },
        });
    }
    let (start, end, open) = match range.split_once('-') {
        Some((a, b)) => {
            let a_val = value(kind, text, a)?;
            let b_val = value(kind, text, b)?;
            if a_val > b_val {
                return Err(err(
                    kind,
                    text,
                    format!("the range starts after it ends ({a_val} > {b_val})"),
                ));
            }
            (a_val, b_val, false)
        }
        None => {
            let v = value(kind, text, range)?;
            match step {
                // `a/s`: from a to the end of the field's range.
                Some(_) => (
                    v,
                    if kind == Kind::DayOfWeek {
                        6.max(v)
                    } else {
                        max
                    },
                    true,
                ),
                None => return Ok(Item::Value(v)),
            }
        }
    };
    debug_assert!(start >= min);
    Ok(match step {
        None => Item::Range(start, end),
        Some(step) => Item::Step {
            start,
            end,
            step,
            star: false,
            open,
        },
    })
}

/// The step after `/`: at least 1 and no larger than the field's span (a
/// larger step could never reach a second value, and a huge one used to wrap
/// the parser's addition into "every minute").
fn step(kind: Kind, text: &str, digits: &str) -> Result<u32, CronError> {
    let (min, max) = kind.bounds();
    let span = max - min;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(kind, text, format!("\"{digits}\" is not a number")));
    }
    let value = digits.trim_start_matches('0');
    let too_large = || {
        err(
            kind,
            text,
            format!(
                "a step of {digits} is larger than the {} field's range {min}-{max}; use a step from 1 to {span}",
                kind.name()
            ),
        )
    };
    if value.is_empty() {
        return Err(err(kind, text, "a step must be at least 1"));
    }
    match value.parse::<u32>() {
        Ok(s) if s <= span => Ok(s),
        _ => Err(too_large()),
    }
}

/// A bare number (no names), for steps, `#n`, `L-n` and `nW`.
fn number(kind: Kind, text: &str, digits: &str) -> Result<u32, CronError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(kind, text, format!("\"{digits}\" is not a number")));
    }
    digits
        .parse::<u32>()
        .map_err(|_| err(kind, text, format!("{digits} is far too large")))
}

/// A value of the field: a number within its bounds, or a name.
fn value(kind: Kind, text: &str, token: &str) -> Result<u32, CronError> {
    let (min, max) = kind.bounds();
    if !token.is_empty() && token.bytes().all(|b| b.is_ascii_alphabetic()) {
        let names = kind.names();
        let upper = token.to_ascii_uppercase();
        return match names.iter().position(|n| *n == upper) {
            Some(i) => Ok(i as u32 + kind.name_base()),
            None if names.is_empty() => {
                Err(err(kind, text, format!("\"{token}\" is not a number")))
            }
            None => Err(err(
                kind,
                text,
                format!(
                    "unknown name \"{token}\"; use {}-{}",
                    names[0],
                    names[names.len() - 1]
                ),
            )),
        };
    }
    let v = number(kind, text, token)?;
    if v < min || v > max {
        return Err(err(kind, text, format!("{v} is out of range {min}-{max}")));
    }
    Ok(v)
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Rejects expressions whose days never occur in their months (`0 0 30 2 *`).
///
/// 28 consecutive years without a skipped leap year contain every
/// combination of leap year and weekday of 1 January, so a day pattern that
/// matches nowhere in 2000-2027 matches nowhere ever.
fn check_possible(f: &Fields) -> Result<(), CronError> {
    for year in 2000..2028 {
        for month in 1..=12u32 {
            if f.month.mask & (1 << month) != 0 && super::engine::day_mask(f, year, month) != 0 {
                return Ok(());
            }
        }
    }
    let months: Vec<&str> = (1..=12usize)
        .filter(|m| f.month.mask & (1 << m) != 0)
        .map(|m| MONTH_NAMES[m - 1])
        .collect();
    let list = match months.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => months.join(""),
    };
    Err(err(
        Kind::DayOfMonth,
        &f.dom.text,
        format!("no such day in {list}, so the schedule would never run"),
    ))
}
