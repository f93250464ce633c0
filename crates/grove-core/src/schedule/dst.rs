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

use jiff::Timestamp;

use super::calendar::Civil;
use super::engine::{next_civil, prev_civil};
use super::parse::Fields;
use super::zone::Zone;

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

/// The first run strictly after `t`.
///
/// The first segment costs two zone look-ups (one more with `shift`); each
/// further segment one, since a transition carries the offset after it.
pub(crate) fn next_run(f: &Fields, zone: &Zone, shift: bool, t: Timestamp) -> Option<Timestamp> {
    let mut from = first_second_after(t);
    if let Some(offset) = zone.fixed() {
        let c = next_civil(f, civil(from + offset), FAR_FUTURE)?;
        return Timestamp::from_second(c.to_seconds() - offset).ok();
    }
    let limit = from.saturating_add(HORIZON_SECONDS);
    // The first match at or after `searched`, remembered: segments are
    // usually crossed because the next match lies beyond them, and that same
    // match then answers the questions for the next segment.
    let mut memo: Option<(i64, Option<i64>)> = None;
    let mut first_match = |x: i64| -> Option<i64> {
        if let Some((searched, found)) = memo
            && searched <= x
            && found.is_none_or(|c| c >= x)
        {
            return found;
        }
        let found = next_civil(f, civil(x), FAR_FUTURE).map(Civil::to_seconds);
        memo = Some((x, found));
        found
    };
    let (here, mut end) = zone.segment(from, shift)?;
    let (mut offset, mut start, mut prev) = (here.offset, here.start, here.prev);
    loop {
        if let (true, Some(start), Some(prev)) = (shift, start, prev)
            && start == from
            && prev < offset
            && first_match(start + prev).is_some_and(|c| c < start + offset)
        {
            return Timestamp::from_second(start).ok();
        }
        let mut lo = from + offset;
        if let (true, Some(start), Some(prev)) = (shift, start, prev)
            && prev > offset
        {
            lo = lo.max(start + prev);
        }
        // Wall-clock seconds of the first match; it belongs to this segment
        // if it comes before the segment's end on this segment's clock.
        let c = first_match(lo)?;
        if end.is_none_or(|e| c < e.at + offset) {
            return Timestamp::from_second(c - offset).ok();
        }
        let next = end?;
        if next.at >= limit {
            return None;
        }
        (from, start, prev, offset) = (next.at, Some(next.at), Some(offset), next.offset);
        end = zone.following(next.at);
    }
}

/// The last run strictly before `t`.
pub(crate) fn prev_run(f: &Fields, zone: &Zone, shift: bool, t: Timestamp) -> Option<Timestamp> {
    let mut to = last_second_before(t);
    if let Some(offset) = zone.fixed() {
        let c = prev_civil(f, civil(to + offset), FAR_PAST)?;
        return Timestamp::from_second(c.to_seconds() - offset).ok();
    }
    let limit = to.saturating_sub(HORIZON_SECONDS);
    while to > limit {
        let here = zone.offset_at(to, true)?;
        let (offset, start, prev) = (here.offset, here.start, here.prev);
        let hi = to + offset;
        let mut lo = start.map_or(FAR_PAST, |s| civil(s + offset));
        if let (true, Some(start), Some(prev)) = (shift, start, prev)
            && prev > offset
        {
            lo = lo.max(civil(start + prev));
        }
        if civil(hi) >= lo
            && let Some(c) = prev_civil(f, civil(hi), lo)
        {
            return Timestamp::from_second(c.to_seconds() - offset).ok();
        }
        let start = start?;
        if let (true, Some(prev)) = (shift, prev)
            && prev < offset
            && next_civil(f, civil(start + prev), civil(start + offset)).is_some()
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
    if zone.fixed().is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for tr in zone.tz().following(from) {
        let at = tr.timestamp();
        if at > to {
            break;
        }
        let secs = at.as_second();
        let Ok(just_before) = Timestamp::from_second(secs - 1) else {
            continue;
        };
        let before = i64::from(zone.tz().to_offset(just_before).seconds());
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
