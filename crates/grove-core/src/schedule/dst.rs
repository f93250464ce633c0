//! Wall clock to instants: time-zone segments and the daylight-saving rules.
//!
//! A zone is a sequence of segments of constant UTC offset separated by
//! transitions. Inside a segment wall clock and instants map one to one, so
//! the calendar search runs per segment. At a transition:
//!
//! - **gap** (offset grows, wall-clock times are skipped): with
//!   [`DstPolicy::Cron`](super::DstPolicy::Cron) and a fixed hour, a job with
//!   any matching time in the gap runs once, at the transition instant
//!   ("right after the jump"); otherwise those times do not run.
//! - **fold** (offset shrinks, wall-clock times repeat): with `Cron` and a
//!   fixed hour only the first copy runs; otherwise both copies run.

use jiff::{Timestamp, tz::TimeZone};

use super::calendar::Civil;
use super::engine::{next_civil, prev_civil};
use super::parse::Fields;

/// A stretch of time with one UTC offset.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// First instant (seconds), `None` for the beginning of time.
    start: Option<i64>,
    /// First instant of the next segment.
    end: Option<i64>,
    offset: i64,
    /// Offset of the segment before, when there is one.
    prev_offset: Option<i64>,
}

const FAR_PAST: Civil = Civil {
    year: -9999,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
};
const FAR_FUTURE: Civil = Civil {
    year: 10_000,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
};

/// How far the search goes before concluding there is no run (a schedule
/// that parses matches at least once every few decades).
const HORIZON_SECONDS: i64 = 500 * 366 * 86_400;

/// A zone prepared for the search.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    tz: TimeZone,
    /// Set for zones with one offset forever (UTC, fixed offsets).
    fixed: Option<i64>,
}

impl Zone {
    pub(crate) fn new(tz: TimeZone) -> Self {
        let fixed = tz.to_fixed_offset().ok().map(|o| i64::from(o.seconds()));
        Self { tz, fixed }
    }

    pub(crate) fn tz(&self) -> &TimeZone {
        &self.tz
    }

    fn segment_at(&self, secs: i64) -> Option<Segment> {
        if let Some(offset) = self.fixed {
            return Some(Segment {
                start: None,
                end: None,
                offset,
                prev_offset: None,
            });
        }
        let ts = Timestamp::from_second(secs).ok()?;
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        let start = Timestamp::from_second(secs + 1)
            .ok()
            .and_then(|next| self.tz.preceding(next).next())
            .map(|t| t.timestamp().as_second());
        let prev_offset = start
            .and_then(|s| Timestamp::from_second(s - 1).ok())
            .map(|p| i64::from(self.tz.to_offset(p).seconds()));
        let end = self
            .tz
            .following(ts)
            .next()
            .map(|t| t.timestamp().as_second());
        Some(Segment {
            start,
            end,
            offset,
            prev_offset,
        })
    }
}

/// The whole seconds strictly after `t` begin here.
fn first_second_after(t: Timestamp) -> i64 {
    let floor = t.as_second() - i64::from(t.subsec_nanosecond() < 0);
    floor + 1
}

/// The last whole second strictly before `t`.
fn last_second_before(t: Timestamp) -> i64 {
    let floor = t.as_second() - i64::from(t.subsec_nanosecond() < 0);
    if t.subsec_nanosecond() == 0 {
        floor - 1
    } else {
        floor
    }
}

fn civil(secs: i64) -> Civil {
    Civil::from_seconds(secs)
}

/// The first run at or after second `from`.
pub(crate) fn next_run(f: &Fields, zone: &Zone, shift: bool, t: Timestamp) -> Option<Timestamp> {
    let mut from = first_second_after(t);
    let limit = from.saturating_add(HORIZON_SECONDS);
    while from < limit {
        let seg = zone.segment_at(from)?;
        if let (true, Some(start), Some(prev)) = (shift, seg.start, seg.prev_offset)
            && start == from
            && prev < seg.offset
            && next_civil(f, civil(start + prev), civil(start + seg.offset)).is_some()
        {
            return Timestamp::from_second(start).ok();
        }
        let mut lo = from + seg.offset;
        if let (true, Some(start), Some(prev)) = (shift, seg.start, seg.prev_offset)
            && prev > seg.offset
        {
            lo = lo.max(start + prev);
        }
        let hi = seg.end.map_or(FAR_FUTURE, |e| civil(e + seg.offset));
        if let Some(c) = next_civil(f, civil(lo), hi) {
            return Timestamp::from_second(c.to_seconds() - seg.offset).ok();
        }
        from = seg.end?;
    }
    None
}

/// The last run strictly before `t`.
pub(crate) fn prev_run(f: &Fields, zone: &Zone, shift: bool, t: Timestamp) -> Option<Timestamp> {
    let mut to = last_second_before(t);
    let limit = to.saturating_sub(HORIZON_SECONDS);
    while to > limit {
        let seg = zone.segment_at(to)?;
        let hi = to + seg.offset;
        let mut lo = seg.start.map_or(FAR_PAST, |s| civil(s + seg.offset));
        if let (true, Some(start), Some(prev)) = (shift, seg.start, seg.prev_offset)
            && prev > seg.offset
        {
            lo = lo.max(civil(start + prev));
        }
        if civil(hi) >= lo
            && let Some(c) = prev_civil(f, civil(hi), lo)
        {
            return Timestamp::from_second(c.to_seconds() - seg.offset).ok();
        }
        let start = seg.start?;
        if let (true, Some(prev)) = (shift, seg.prev_offset)
            && prev < seg.offset
            && next_civil(f, civil(start + prev), civil(start + seg.offset)).is_some()
        {
            return Timestamp::from_second(start).ok();
        }
        to = start - 1;
    }
    None
}

/// What a daylight-saving transition does to one schedule.
#[derive(Debug, Clone)]
pub(crate) struct Shift {
    /// The transition instant.
    pub at: Timestamp,
    /// Wall-clock times are skipped (`true`) or repeated (`false`).
    pub gap: bool,
    /// Offsets (seconds) before and after the transition.
    pub before: i64,
    pub after: i64,
    /// The schedule's wall-clock times that fall in the gap or the fold
    /// (at most [`MAX_LISTED`]), and how many there are in total.
    pub times: Vec<Civil>,
    pub last: Civil,
    pub total: usize,
}

pub(crate) const MAX_LISTED: usize = 4;

/// Transitions after `from` and up to `to` that skip or repeat wall-clock
/// times of the schedule.
pub(crate) fn shifts(f: &Fields, zone: &Zone, from: Timestamp, to: Timestamp) -> Vec<Shift> {
    if zone.fixed.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for tr in zone.tz.following(from) {
        let at = tr.timestamp();
        if at > to {
            break;
        }
        let secs = at.as_second();
        let Ok(just_before) = Timestamp::from_second(secs - 1) else {
            continue;
        };
        let before = i64::from(zone.tz.to_offset(just_before).seconds());
        let after = i64::from(tr.offset().seconds());
        if before == after {
            continue;
        }
        let gap = after > before;
        let (lo, hi) = if gap {
            (secs + before, secs + after)
        } else {
            (secs + after, secs + before)
        };
        let mut times = Vec::new();
        let mut total = 0usize;
        let mut last = civil(lo);
        let mut cursor = civil(lo);
        let end = civil(hi);
        while let Some(c) = next_civil(f, cursor, end) {
            total += 1;
            last = c;
            if times.len() < MAX_LISTED {
                times.push(c);
            }
            cursor = civil(c.to_seconds() + 1);
        }
        if total > 0 {
            out.push(Shift {
                at,
                gap,
                before,
                after,
                times,
                last,
                total,
            });
        }
    }
    out
}
