//! Human text for any valid expression, built from its fields (not a lookup
//! table): "Every 15 minutes, between 9:00 AM and 5:59 PM, Monday through
//! Friday", "Daily at 2:00 AM", "Weekly on Sunday at 12:00 AM".

use super::parse::{Field, Fields, Item};

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
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
const OCCURRENCES: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// 12-hour clock: "2:00 AM", "12:30 PM", "2:00:30 AM".
pub(crate) fn clock(hour: u32, minute: u32, second: u32) -> String {
    let h12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    let ampm = if hour < 12 { "AM" } else { "PM" };
    if second == 0 {
        format!("{h12}:{minute:02} {ampm}")
    } else {
        format!("{h12}:{minute:02}:{second:02} {ampm}")
    }
}

fn weekday(d: u32) -> &'static str {
    WEEKDAYS[(d % 7) as usize]
}

fn month(m: u32) -> &'static str {
    MONTHS[(m as usize).clamp(1, 12) - 1]
}

fn values(field: &Field) -> Option<Vec<u32>> {
    field
        .items
        .iter()
        .map(|i| match i {
            Item::Value(v) => Some(*v),
            _ => None,
        })
        .collect()
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "every 15 minutes", "every hour" (never "every 1 hour").
fn every(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("every {one}")
    } else {
        format!("every {n} {many}")
    }
}

/// Clause for the second or minute field ("every 15 minutes",
/// "at 5 and 35 minutes past the hour").
fn sub_clause(field: &Field, one: &str, many: &str, of: &str) -> String {
    if let Some(vals) = values(field) {
        let last = *vals.last().unwrap_or(&0);
        let list: Vec<String> = vals.iter().map(u32::to_string).collect();
        let unit = if vals.len() == 1 && last == 1 {
            one
        } else {
            many
        };
        return format!("at {} {unit} past {of}", join_and(&list));
    }
    if let [item] = field.items.as_slice() {
        match *item {
            Item::Any => return format!("every {one}"),
            Item::Step {
                step, star: true, ..
            } => return every(step, one, many),
            Item::Range(a, b) => return format!("every {one} from {a} through {b} past {of}"),
            Item::Step {
                start,
                step,
                open: true,
                ..
            } => {
                let unit = if start == 1 { one } else { many };
                return format!(
                    "{} starting at {start} {unit} past {of}",
                    every(step, one, many)
                );
            }
            Item::Step {
                start, end, step, ..
            } => {
                return format!(
                    "{} from {start} through {end} past {of}",
                    every(step, one, many)
                );
            }
            _ => {}
        }
    }
    let parts: Vec<String> = field
        .items
        .iter()
        .map(|i| match *i {
            Item::Value(v) => v.to_string(),
            Item::Range(a, b) => format!("{a} through {b}"),
            Item::Step {
                star: true, step, ..
            } => format!("every {step}"),
            Item::Step {
                start,
                step,
                open: true,
                ..
            } => format!("every {step} starting at {start}"),
            Item::Step {
                start, end, step, ..
            } => format!("every {step} from {start} through {end}"),
            _ => String::new(),
        })
        .collect();
    format!("at {many} {} past {of}", join_and(&parts))
}

fn hour_name(h: u32) -> String {
    clock(h, 0, 0)
}

/// Clause for the hour field; `lead` when no finer field produced a clause.
fn hour_clause(field: &Field, lead: bool) -> Option<String> {
    if let [item] = field.items.as_slice() {
        match *item {
            Item::Any => return lead.then(|| "every hour".to_owned()),
            Item::Step {
                step, star: true, ..
            } => return Some(every(step, "hour", "hours")),
            Item::Value(h) => {
                return Some(format!(
                    "between {} and {}",
                    clock(h, 0, 0),
                    clock(h, 59, 0)
                ));
            }
            Item::Range(a, b) if lead => {
                return Some(format!(
                    "every hour from {} through {}",
                    hour_name(a),
                    hour_name(b)
                ));
            }
            Item::Range(a, b) => {
                return Some(format!(
                    "between {} and {}",
                    clock(a, 0, 0),
                    clock(b, 59, 0)
                ));
            }
            Item::Step {
                start,
                step,
                open: true,
                ..
            } => {
                return Some(format!(
                    "{} starting at {}",
                    every(step, "hour", "hours"),
                    hour_name(start)
                ));
            }
            Item::Step {
                start, end, step, ..
            } => {
                return Some(format!(
                    "{} from {} through {}",
                    every(step, "hour", "hours"),
                    hour_name(start),
                    hour_name(end)
                ));
            }
            _ => {}
        }
    }
    let parts: Vec<String> = field
        .items
        .iter()
        .map(|i| match *i {
            Item::Value(h) => hour_name(h),
            Item::Range(a, b) if lead => {
                format!("every hour from {} through {}", hour_name(a), hour_name(b))
            }
            Item::Range(a, b) => format!("{} through {}", hour_name(a), hour_name(b)),
            Item::Step {
                star: true, step, ..
            } => every(step, "hour", "hours"),
            Item::Step {
                start, end, step, ..
            } => format!(
                "{} from {} through {}",
                every(step, "hour", "hours"),
                hour_name(start),
                hour_name(end)
            ),
            _ => String::new(),
        })
        .collect();
    let starts_with_time = matches!(field.items.first(), Some(Item::Value(_)));
    Some(if lead && starts_with_time {
        format!("at {}", join_and(&parts))
    } else if lead {
        join_and(&parts)
    } else {
        format!("during the hours {}", join_and(&parts))
    })
}

enum Time {
    /// A short list of exact times of day.
    At(Vec<String>),
    /// A repeating pattern, as clauses.
    Pattern(Vec<String>),
}

fn time(f: &Fields) -> Time {
    if let (Some(s), Some(m), Some(h)) = (values(&f.second), values(&f.minute), values(&f.hour))
        && s.len() * m.len() * h.len() <= 6
    {
        let mut times = Vec::new();
        for &hh in &h {
            for &mm in &m {
                for &ss in &s {
                    times.push(clock(hh, mm, ss));
                }
            }
        }
        return Time::At(times);
    }
    let mut clauses = Vec::new();
    if f.second.mask != 1 {
        clauses.push(sub_clause(&f.second, "second", "seconds", "the minute"));
    }
    let minute_any = f.minute.star;
    let on_the_hour = f.minute.items == [Item::Value(0)];
    let implied = if clauses.is_empty() {
        on_the_hour
    } else {
        minute_any
    };
    if !implied {
        clauses.push(sub_clause(&f.minute, "minute", "minutes", "the hour"));
    }
    if let Some(c) = hour_clause(&f.hour, clauses.is_empty()) {
        clauses.push(c);
    }
    Time::Pattern(clauses)
}

fn dom_phrase(f: &Fields) -> Option<String> {
    if f.dom.star {
        return None;
    }
    if let Some(vals) = values(&f.dom) {
        let list: Vec<String> = vals.iter().map(u32::to_string).collect();
        let noun = if vals.len() == 1 { "day" } else { "days" };
        return Some(format!("on {noun} {} of the month", join_and(&list)));
    }
    if let [
        Item::Step {
            star: true, step, ..
        },
    ] = f.dom.items.as_slice()
    {
        return Some(every(*step, "day", "days"));
    }
    let parts: Vec<String> = f
        .dom
        .items
        .iter()
        .map(|i| match *i {
            Item::Value(d) => format!("day {d}"),
            Item::Range(a, b) => format!("days {a} through {b}"),
            Item::Step {
                star: true, step, ..
            } => every(step, "day", "days"),
            Item::Step {
                start,
                step,
                open: true,
                ..
            } => format!("{} starting on day {start}", every(step, "day", "days")),
            Item::Step {
                start, end, step, ..
            } => format!(
                "{} from day {start} through {end}",
                every(step, "day", "days")
            ),
            Item::Last(0) => "the last day".to_owned(),
            Item::Last(n) => format!("{} before the last day", plural(n, "day", "days")),
            Item::LastWeekday => "the last weekday".to_owned(),
            Item::NearestWeekday(n) => format!("the weekday nearest day {n}"),
            _ => String::new(),
        })
        .collect();
    Some(format!("on {} of the month", join_and(&parts)))
}

fn dow_phrase(f: &Fields) -> Option<String> {
    if f.dow.star {
        return None;
    }
    if let [Item::Range(a, b)] = f.dow.items.as_slice() {
        return Some(format!("{} through {}", weekday(*a), weekday(*b)));
    }
    let parts: Vec<String> = f
        .dow
        .items
        .iter()
        .map(|i| match *i {
            Item::Value(d) => weekday(d).to_owned(),
            Item::Range(a, b) => format!("{} through {}", weekday(a), weekday(b)),
            Item::Step {
                star: true, step, ..
            } => format!(
                "{} of the week starting on Sunday",
                every(step, "day", "days")
            ),
            Item::Step {
                start, end, step, ..
            } => format!(
                "{} of the week from {} through {}",
                every(step, "day", "days"),
                weekday(start),
                weekday(end)
            ),
            Item::Nth(d, n) => format!(
                "the {} {}",
                OCCURRENCES[(n as usize).clamp(1, 5) - 1],
                weekday(d)
            ),
            Item::LastOf(d) => format!("the last {}", weekday(d)),
            _ => String::new(),
        })
        .collect();
    let of_month = f
        .dow
        .items
        .iter()
        .any(|i| matches!(i, Item::Nth(..) | Item::LastOf(_)));
    let suffix = if of_month { " of the month" } else { "" };
    if let [Item::Step { .. }] = f.dow.items.as_slice() {
        return Some(parts.join(""));
    }
    Some(format!("on {}{suffix}", join_and(&parts)))
}

fn month_phrase(f: &Fields) -> Option<String> {
    if f.month.star {
        return None;
    }
    if let Some(vals) = values(&f.month) {
        let list: Vec<String> = vals.iter().map(|m| month(*m).to_owned()).collect();
        return Some(if vals.len() == 1 {
            format!("only in {}", list[0])
        } else {
            format!("in {}", join_and(&list))
        });
    }
    let parts: Vec<String> = f
        .month
        .items
        .iter()
        .map(|i| match *i {
            Item::Value(m) => month(m).to_owned(),
            Item::Range(a, b) => format!("{} through {}", month(a), month(b)),
            Item::Step {
                star: true, step, ..
            } => every(step, "month", "months"),
            Item::Step {
                start,
                step,
                open: true,
                ..
            } => format!(
                "{} starting in {}",
                every(step, "month", "months"),
                month(start)
            ),
            Item::Step {
                start, end, step, ..
            } => format!(
                "{} from {} through {}",
                every(step, "month", "months"),
                month(start),
                month(end)
            ),
            _ => String::new(),
        })
        .collect();
    if let [Item::Range(..)] | [Item::Step { .. }] = f.month.items.as_slice() {
        return Some(parts.join(""));
    }
    Some(format!("in {}", join_and(&parts)))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The human text of parsed fields.
pub(crate) fn describe(f: &Fields) -> String {
    let dom = dom_phrase(f);
    let dow = dow_phrase(f);
    let months = month_phrase(f);
    let days = match (dom, dow) {
        (Some(a), Some(b)) => Some(format!("{a} or {b}")),
        (a, b) => a.or(b),
    };
    let mut out: Vec<String> = Vec::new();
    match time(f) {
        Time::At(times) => {
            let at = join_and(&times);
            let single_dom = values(&f.dom).filter(|v| v.len() == 1);
            let single_dow = values(&f.dow).filter(|v| v.len() == 1);
            let single_month = values(&f.month).filter(|v| v.len() == 1);
            match (
                single_dom,
                f.dow.star,
                single_dow,
                f.dom.star,
                &months,
                single_month,
            ) {
                (_, _, _, true, None, _) if f.dow.star => return format!("Daily at {at}"),
                (_, _, Some(d), true, None, _) => {
                    return format!("Weekly on {} at {at}", weekday(d[0]));
                }
                (Some(d), true, _, _, None, _) => {
                    return format!("Monthly on day {} at {at}", d[0]);
                }
                (Some(d), true, _, _, Some(_), Some(m)) => {
                    return format!("Yearly on {} {} at {at}", d[0], month(m[0]));
                }
                _ => out.push(format!("at {at}")),
            }
        }
        Time::Pattern(clauses) => out.extend(clauses),
    }
    out.extend(days);
    out.extend(months);
    capitalize(&out.join(", "))
}
