//! The calendar search: the first (or last) wall-clock time that matches an
//! expression within a window. No time zones here; [`super::dst`] maps wall
//! clock to instants.

use super::calendar::{Civil, days_in_month, weekday};
use super::parse::Fields;

/// Bits 0, 7, 14, 21 and 28: one weekday in every week of a month.
const WEEKLY: u32 = 0x1020_4081;

/// Days of `month` in `year` that match the day-of-month and day-of-week
/// fields, as bits 1-31, combined with the Vixie rule: when both fields are
/// restricted either may match, otherwise both must.
pub(crate) fn day_mask(f: &Fields, year: i32, month: u32) -> u32 {
    let dim = days_in_month(year, month);
    let valid = ((1u64 << (dim + 1)) - 2) as u32;
    let dom = if f.dom.star {
        valid
    } else {
        let mut m = f.dom.mask as u32;
        let mut last = f.dom_last;
        while last != 0 {
            let n = last.trailing_zeros();
            last &= last - 1;
            if n < dim {
                m |= 1 << (dim - n);
            }
        }
        if f.dom_last_weekday {
            let wd = weekday(year, month, dim);
            let day = match wd {
                0 => dim - 2,
                6 => dim - 1,
                _ => dim,
            };
            m |= 1 << day;
        }
        let mut nearest = f.dom_nearest;
        while nearest != 0 {
            let n = nearest.trailing_zeros();
            nearest &= nearest - 1;
            if n <= dim {
                m |= 1 << nearest_weekday(year, month, n, dim);
            }
        }
        m & valid
    };
    let dow = if f.dow.star {
        valid
    } else {
        let first_wd = weekday(year, month, 1);
        let mut m = 0u32;
        for wd in 0..7u32 {
            // Day of the month of the first `wd`.
            let first = 1 + (wd + 7 - first_wd) % 7;
            let all = (WEEKLY << first) & valid;
            if f.dow.mask & (1 << wd) != 0 {
                m |= all;
            }
            let nth = u32::from(f.dow_nth[wd as usize]);
            if nth != 0 {
                for n in 1..=5 {
                    let day = first + 7 * (n - 1);
                    if nth & (1 << n) != 0 && day <= dim {
                        m |= 1 << day;
                    }
                }
            }
            if f.dow_last & (1 << wd) != 0 {
                m |= 1 << (31 - all.leading_zeros());
            }
        }
        m
    };
    match (f.dom.star, f.dow.star) {
        (false, false) => dom | dow,
        _ => dom & dow,
    }
}

/// The weekday (Monday-Friday) nearest to day `n`, without leaving the month.
fn nearest_weekday(year: i32, month: u32, n: u32, dim: u32) -> u32 {
    match weekday(year, month, n) {
        6 if n == 1 => 3,
        6 => n - 1,
        0 if n == dim => n - 2,
        0 => n + 1,
        _ => n,
    }
}

/// Whether a wall-clock time matches, checked field by field. The search
/// below must agree with this; tests compare the two.
pub(crate) fn matches(f: &Fields, c: Civil) -> bool {
    f.second.mask & (1 << c.second) != 0
        && f.minute.mask & (1 << c.minute) != 0
        && f.hour.mask & (1 << c.hour) != 0
        && f.month.mask & (1 << c.month) != 0
        && day_mask(f, c.year, c.month) & (1 << c.day) != 0
}

/// Lowest set bit at or above `from`.
fn first_at_or_after(mask: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let m = mask >> from;
    (m != 0).then(|| from + m.trailing_zeros())
}

/// Highest set bit at or below `to`.
fn last_at_or_before(mask: u64, to: u32) -> Option<u32> {
    let m = if to >= 63 {
        mask
    } else {
        mask & ((2u64 << to) - 1)
    };
    (m != 0).then(|| 63 - m.leading_zeros())
}

/// Latest year the search looks at; jiff's range ends in 9999.
const MAX_YEAR: i32 = 9999;
const MIN_YEAR: i32 = -9998;

/// The first matching wall-clock time in `[from, until)`.
pub(crate) fn next_civil(f: &Fields, from: Civil, until: Civil) -> Option<Civil> {
    let Civil {
        mut year,
        mut month,
        mut day,
        mut hour,
        mut minute,
        mut second,
    } = from;
    let last_year = until.year.min(MAX_YEAR);
    while year <= last_year {
        while let Some(m) = first_at_or_after(f.month.mask, month) {
            if m != month {
                (month, day, hour, minute, second) = (m, 1, 0, 0, 0);
            }
            let days = u64::from(day_mask(f, year, month));
            while let Some(d) = first_at_or_after(days, day) {
                if d != day {
                    (day, hour, minute, second) = (d, 0, 0, 0);
                }
                while let Some(h) = first_at_or_after(f.hour.mask, hour) {
                    if h != hour {
                        (hour, minute, second) = (h, 0, 0);
                    }
                    while let Some(mi) = first_at_or_after(f.minute.mask, minute) {
                        if mi != minute {
                            (minute, second) = (mi, 0);
                        }
                        if let Some(s) = first_at_or_after(f.second.mask, second) {
                            let found = Civil {
                                year,
                                month,
                                day,
                                hour,
                                minute,
                                second: s,
                            };
                            return (found < until).then_some(found);
                        }
                        (minute, second) = (minute + 1, 0);
                    }
                    (hour, minute, second) = (hour + 1, 0, 0);
                }
                (day, hour, minute, second) = (day + 1, 0, 0, 0);
            }
            (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0);
            if (Civil {
                year,
                month,
                day,
                hour,
                minute,
                second,
            }) >= until
            {
                return None;
            }
        }
        (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0);
    }
    None
}

/// The last matching wall-clock time in `[since, to]`.
pub(crate) fn prev_civil(f: &Fields, to: Civil, since: Civil) -> Option<Civil> {
    let Civil {
        mut year,
        mut month,
        mut day,
        mut hour,
        mut minute,
        mut second,
    } = to;
    let first_year = since.year.max(MIN_YEAR);
    while year >= first_year {
        while let Some(m) = last_at_or_before(f.month.mask, month).filter(|&m| m >= 1) {
            if m != month {
                (month, day, hour, minute, second) = (m, 31, 23, 59, 59);
            }
            let days = u64::from(day_mask(f, year, month));
            while let Some(d) = last_at_or_before(days, day).filter(|&d| d >= 1) {
                if d != day {
                    (day, hour, minute, second) = (d, 23, 59, 59);
                }
                while let Some(h) = last_at_or_before(f.hour.mask, hour) {
                    if h != hour {
                        (hour, minute, second) = (h, 59, 59);
                    }
                    while let Some(mi) = last_at_or_before(f.minute.mask, minute) {
                        if mi != minute {
                            (minute, second) = (mi, 59);
                        }
                        if let Some(s) = last_at_or_before(f.second.mask, second) {
                            let found = Civil {
                                year,
                                month,
                                day,
                                hour,
                                minute,
                                second: s,
                            };
                            return (found >= since).then_some(found);
                        }
                        if minute == 0 {
                            break;
                        }
                        (minute, second) = (minute - 1, 59);
                    }
                    if hour == 0 {
                        break;
                    }
                    (hour, minute, second) = (hour - 1, 59, 59);
                }
                if day <= 1 {
                    break;
                }
                (day, hour, minute, second) = (day - 1, 23, 59, 59);
            }
            if month <= 1 {
                break;
            }
            (month, day, hour, minute, second) = (month - 1, 31, 23, 59, 59);
            if (Civil {
                year,
                month,
                day,
                hour,
                minute,
                second,
            }) < since
            {
                return None;
            }
        }
        (year, month, day, hour, minute, second) = (year - 1, 12, 31, 23, 59, 59);
    }
    None
}
