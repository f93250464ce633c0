//! Daylight-saving fixture days for 2026 and 2027.
//!
//! The transition instants and offsets below are written by hand from the
//! zones' published rules, not read from the tz database, so these tests
//! check both our rules and the database the binary uses.

use grove_core::schedule::DstPolicy::{Cron, Literal};
use grove_core::schedule::{DstPolicy, parse_timezone};
use jiff::{SignedDuration, Timestamp};

use super::{next_n, schedule, ts};

/// One transition: zone, instant, offsets (seconds) before and after, and a
/// wall-clock time (hour, minute) that it skips or repeats.
struct Transition {
    zone: &'static str,
    at: &'static str,
    before: i64,
    after: i64,
    hour: u32,
    minute: u32,
}

const H: i64 = 3600;
const M: i64 = 60;

const TRANSITIONS: &[Transition] = &[
    // America/Los_Angeles: 02:00 PST -> 03:00 PDT, 02:00 PDT -> 01:00 PST.
    tr(
        "America/Los_Angeles",
        "2026-03-08T10:00:00Z",
        -8 * H,
        -7 * H,
        2,
        30,
    ),
    tr(
        "America/Los_Angeles",
        "2026-11-01T09:00:00Z",
        -7 * H,
        -8 * H,
        1,
        30,
    ),
    tr(
        "America/Los_Angeles",
        "2027-03-14T10:00:00Z",
        -8 * H,
        -7 * H,
        2,
        30,
    ),
    tr(
        "America/Los_Angeles",
        "2027-11-07T09:00:00Z",
        -7 * H,
        -8 * H,
        1,
        30,
    ),
    // America/New_York: same days, five hours from UTC.
    tr(
        "America/New_York",
        "2026-03-08T07:00:00Z",
        -5 * H,
        -4 * H,
        2,
        30,
    ),
    tr(
        "America/New_York",
        "2026-11-01T06:00:00Z",
        -4 * H,
        -5 * H,
        1,
        30,
    ),
    tr(
        "America/New_York",
        "2027-03-14T07:00:00Z",
        -5 * H,
        -4 * H,
        2,
        30,
    ),
    tr(
        "America/New_York",
        "2027-11-07T06:00:00Z",
        -4 * H,
        -5 * H,
        1,
        30,
    ),
    // Europe/London: 01:00 UTC on the last Sundays of March and October.
    tr("Europe/London", "2026-03-29T01:00:00Z", 0, H, 1, 30),
    tr("Europe/London", "2026-10-25T01:00:00Z", H, 0, 1, 30),
    tr("Europe/London", "2027-03-28T01:00:00Z", 0, H, 1, 30),
    tr("Europe/London", "2027-10-31T01:00:00Z", H, 0, 1, 30),
    // Europe/Berlin: the same instants, 02:00 -> 03:00 and 03:00 -> 02:00.
    tr("Europe/Berlin", "2026-03-29T01:00:00Z", H, 2 * H, 2, 30),
    tr("Europe/Berlin", "2026-10-25T01:00:00Z", 2 * H, H, 2, 30),
    tr("Europe/Berlin", "2027-03-28T01:00:00Z", H, 2 * H, 2, 30),
    tr("Europe/Berlin", "2027-10-31T01:00:00Z", 2 * H, H, 2, 30),
    // Australia/Lord_Howe: half-hour shifts, 02:00 -> 01:30 (first Sunday of
    // April) and 02:00 -> 02:30 (first Sunday of October).
    tr(
        "Australia/Lord_Howe",
        "2026-04-04T15:00:00Z",
        11 * H,
        10 * H + 30 * M,
        1,
        45,
    ),
    tr(
        "Australia/Lord_Howe",
        "2026-10-03T15:30:00Z",
        10 * H + 30 * M,
        11 * H,
        2,
        15,
    ),
    tr(
        "Australia/Lord_Howe",
        "2027-04-03T15:00:00Z",
        11 * H,
        10 * H + 30 * M,
        1,
        45,
    ),
    tr(
        "Australia/Lord_Howe",
        "2027-10-02T15:30:00Z",
        10 * H + 30 * M,
        11 * H,
        2,
        15,
    ),
    // Pacific/Chatham: +12:45 / +13:45, 03:45 -> 02:45 and 02:45 -> 03:45.
    tr(
        "Pacific/Chatham",
        "2026-04-04T14:00:00Z",
        13 * H + 45 * M,
        12 * H + 45 * M,
        3,
        0,
    ),
    tr(
        "Pacific/Chatham",
        "2026-09-26T14:00:00Z",
        12 * H + 45 * M,
        13 * H + 45 * M,
        3,
        0,
    ),
    tr(
        "Pacific/Chatham",
        "2027-04-03T14:00:00Z",
        13 * H + 45 * M,
        12 * H + 45 * M,
        3,
        0,
    ),
    tr(
        "Pacific/Chatham",
        "2027-09-25T14:00:00Z",
        12 * H + 45 * M,
        13 * H + 45 * M,
        3,
        0,
    ),
];

const fn tr(
    zone: &'static str,
    at: &'static str,
    before: i64,
    after: i64,
    hour: u32,
    minute: u32,
) -> Transition {
    Transition {
        zone,
        at,
        before,
        after,
        hour,
        minute,
    }
}

fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

fn at_secs(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

/// Wall-clock seconds (since the local epoch) of `hour:minute` on the local
/// date of the transition.
fn local_secs(t: &Transition) -> i64 {
    let at = secs(ts(t.at));
    // The transition's local date in the new offset, at midnight.
    let local_midnight = (at + t.after).div_euclid(86_400) * 86_400;
    local_midnight + i64::from(t.hour) * H + i64::from(t.minute) * M
}

fn runs_between(expr: &str, zone: &str, policy: DstPolicy, from: i64, to: i64) -> Vec<i64> {
    schedule(expr, zone, policy)
        .upcoming(at_secs(from))
        .map(secs)
        .take_while(|&s| s <= to)
        .collect()
}

#[test]
fn tz_database_agrees_with_the_fixtures() {
    for t in TRANSITIONS {
        let tz = parse_timezone(t.zone).unwrap();
        let at = ts(t.at);
        let before = tz.to_offset(at - SignedDuration::from_secs(1)).seconds();
        let after = tz.to_offset(at).seconds();
        assert_eq!(
            (i64::from(before), i64::from(after)),
            (t.before, t.after),
            "{} at {}",
            t.zone,
            t.at
        );
    }
}

#[test]
fn fixed_time_jobs_follow_the_cron_rule() {
    for t in TRANSITIONS {
        let at = secs(ts(t.at));
        let local = local_secs(t);
        let date = jiff::Timestamp::from_second(local)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        // Only on the transition's date, so nothing else is in the window.
        let expr = format!("{} {} {} {} *", t.minute, t.hour, date.day(), date.month());
        let (from, to) = (at - 86_400, at + 86_400);
        let cron = runs_between(&expr, t.zone, Cron, from, to);
        let literal = runs_between(&expr, t.zone, Literal, from, to);
        if t.after > t.before {
            assert_eq!(
                cron,
                [at],
                "{expr} in {} (gap): runs once right after the jump",
                t.zone
            );
            assert_eq!(
                literal,
                [] as [i64; 0],
                "{expr} in {} (gap, literal): skipped",
                t.zone
            );
        } else {
            let first = local - t.before;
            let second = local - t.after;
            assert_eq!(
                cron,
                [first],
                "{expr} in {} (fold): first occurrence only",
                t.zone
            );
            assert_eq!(
                literal,
                [first, second],
                "{expr} in {} (fold, literal): twice",
                t.zone
            );
        }
    }
}

#[test]
fn wildcard_hour_jobs_follow_real_time() {
    for t in TRANSITIONS {
        let at = secs(ts(t.at));
        let expr = format!("{} * * * *", t.minute);
        let (from, to) = (at - 4 * H, at + 4 * H);
        // Every real instant whose wall-clock minute is `t.minute`.
        let expected: Vec<i64> = (from / 60 + 1..=to / 60)
            .map(|m| m * 60)
            .filter(|&s| {
                let offset = if s < at { t.before } else { t.after };
                (s + offset).rem_euclid(H) == i64::from(t.minute) * M
            })
            .collect();
        for policy in [Cron, Literal] {
            assert_eq!(
                runs_between(&expr, t.zone, policy, from, to),
                expected,
                "{expr} in {} at {}",
                t.zone,
                t.at
            );
        }
    }
}

#[test]
fn several_fixed_times_in_one_gap_become_one_run() {
    for t in TRANSITIONS.iter().filter(|t| t.after > t.before) {
        let at = secs(ts(t.at));
        let gap_start_local = at + t.before;
        let hour = gap_start_local.rem_euclid(86_400) / H;
        let minute = gap_start_local.rem_euclid(H) / M;
        // The gap's first wall-clock minute and the ones 5 and 10 later.
        let expr = format!("{},{},{} {hour} * * *", minute, minute + 5, minute + 10);
        let runs = runs_between(&expr, t.zone, Cron, at - H, at + H);
        assert_eq!(runs, [at], "{expr} in {}", t.zone);
    }
}

#[test]
fn sao_paulo_has_no_shift_since_2019() {
    let tz = parse_timezone("America/Sao_Paulo").unwrap();
    assert!(
        tz.following(ts("2026-01-01T00:00:00Z"))
            .take_while(|t| t.timestamp() < ts("2028-01-01T00:00:00Z"))
            .next()
            .is_none()
    );
    // 02:30 every day is 05:30 UTC, on the days other zones shift too.
    for after in [
        "2026-02-13T12:00:00Z",
        "2026-10-31T12:00:00Z",
        "2027-02-19T12:00:00Z",
        "2027-11-06T12:00:00Z",
    ] {
        let runs = next_n("30 2 * * *", "America/Sao_Paulo", Cron, after, 3);
        for r in &runs {
            assert!(r.ends_with("T05:30:00Z"), "{r}");
        }
    }
}

#[test]
fn los_angeles_examples() {
    let la = "America/Los_Angeles";
    assert_eq!(
        next_n("30 2 * * *", la, Cron, "2026-03-07T12:00:00Z", 3),
        [
            "2026-03-08T10:00:00Z",
            "2026-03-09T09:30:00Z",
            "2026-03-10T09:30:00Z"
        ]
    );
    assert_eq!(
        next_n("30 2 * * *", la, Literal, "2026-03-07T12:00:00Z", 2),
        ["2026-03-09T09:30:00Z", "2026-03-10T09:30:00Z"]
    );
    assert_eq!(
        next_n("*/30 2 * * *", la, Cron, "2026-03-07T12:00:00Z", 3),
        [
            "2026-03-08T10:00:00Z",
            "2026-03-09T09:00:00Z",
            "2026-03-09T09:30:00Z"
        ]
    );
    assert_eq!(
        next_n("30 * * * *", la, Cron, "2026-03-08T08:00:00Z", 4),
        [
            "2026-03-08T08:30:00Z",
            "2026-03-08T09:30:00Z",
            "2026-03-08T10:30:00Z",
            "2026-03-08T11:30:00Z"
        ]
    );
    assert_eq!(
        next_n("30 1 * * *", la, Cron, "2026-10-31T12:00:00Z", 2),
        ["2026-11-01T08:30:00Z", "2026-11-02T09:30:00Z"]
    );
    assert_eq!(
        next_n("30 1 * * *", la, Literal, "2026-10-31T12:00:00Z", 3),
        [
            "2026-11-01T08:30:00Z",
            "2026-11-01T09:30:00Z",
            "2026-11-02T09:30:00Z"
        ]
    );
    assert_eq!(
        next_n("0 */2 * * *", la, Cron, "2026-11-01T06:00:00Z", 3),
        [
            "2026-11-01T07:00:00Z",
            "2026-11-01T10:00:00Z",
            "2026-11-01T12:00:00Z"
        ]
    );
    // prev_before walks the same runs backwards.
    let s = schedule("30 2 * * *", la, Cron);
    assert_eq!(
        s.prev_before(ts("2026-03-09T09:30:00Z"))
            .unwrap()
            .to_string(),
        "2026-03-08T10:00:00Z"
    );
    let s = schedule("30 1 * * *", la, Literal);
    assert_eq!(
        s.prev_before(ts("2026-11-02T00:00:00Z"))
            .unwrap()
            .to_string(),
        "2026-11-01T09:30:00Z"
    );
    assert_eq!(
        s.prev_before(ts("2026-11-01T09:30:00Z"))
            .unwrap()
            .to_string(),
        "2026-11-01T08:30:00Z"
    );
}

#[test]
fn half_hour_and_odd_offsets() {
    let lh = "Australia/Lord_Howe";
    assert_eq!(
        next_n("0 2 * * *", lh, Cron, "2026-10-02T00:00:00Z", 3),
        [
            "2026-10-02T15:30:00Z",
            "2026-10-03T15:30:00Z",
            "2026-10-04T15:00:00Z"
        ]
    );
    assert_eq!(
        next_n("45 1 * * *", lh, Cron, "2026-04-04T00:00:00Z", 2),
        ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"]
    );
    assert_eq!(
        next_n("45 1 * * *", lh, Literal, "2026-04-04T00:00:00Z", 3),
        [
            "2026-04-04T14:45:00Z",
            "2026-04-04T15:15:00Z",
            "2026-04-05T15:15:00Z"
        ]
    );
    assert_eq!(
        next_n(
            "0 3 * * *",
            "Pacific/Chatham",
            Cron,
            "2026-09-25T00:00:00Z",
            3
        ),
        [
            "2026-09-25T14:15:00Z",
            "2026-09-26T14:00:00Z",
            "2026-09-27T13:15:00Z"
        ]
    );
    assert_eq!(
        next_n("0 9 * * *", "Asia/Kolkata", Cron, "2026-01-01T00:00:00Z", 1),
        ["2026-01-01T03:30:00Z"]
    );
    assert_eq!(
        next_n(
            "*/45 * * * *",
            "Asia/Kolkata",
            Cron,
            "2026-01-01T00:00:00Z",
            2
        ),
        ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z"]
    );
}
