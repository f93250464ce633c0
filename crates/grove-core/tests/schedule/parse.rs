//! The dialect, and errors that name the field, the text and the reason.

use grove_core::schedule::DstPolicy::Cron;
use grove_core::schedule::{CronExpr, Schedule, ScheduleError, describe};

use super::next_n;

const AFTER: &str = "2026-01-01T00:00:00Z";

fn same_runs(a: &str, b: &str) {
    assert_eq!(
        next_n(a, "UTC", Cron, AFTER, 12),
        next_n(b, "UTC", Cron, AFTER, 12),
        "{a} vs {b}"
    );
}

#[test]
fn names_shortcuts_and_sunday_spellings() {
    same_runs("0 0 * jan mon", "0 0 * 1 1");
    same_runs("0 0 * JAN-mar Mon-Fri", "0 0 * 1-3 1-5");
    same_runs("0 0 * * 7", "0 0 * * 0");
    same_runs("0 0 * * SUN", "0 0 * * 0");
    same_runs("0 0 * * 5-7", "0 0 * * 0,5,6");
    same_runs("@yearly", "0 0 1 1 *");
    same_runs("@annually", "0 0 1 1 *");
    same_runs("@monthly", "0 0 1 * *");
    same_runs("@weekly", "0 0 * * 0");
    same_runs("@daily", "0 0 * * *");
    same_runs("@midnight", "0 0 * * *");
    same_runs("@HOURLY", "0 * * * *");
    same_runs("0 0 ? * MON", "0 0 * * 1");
    same_runs("0 0 0 * * *", "0 0 * * *");
    same_runs("  0   0\t* *  * ", "0 0 * * *");
}

#[test]
fn ranges_steps_and_lists() {
    same_runs("*/15 * * * *", "0,15,30,45 * * * *");
    same_runs("5-55/10 * * * *", "5,15,25,35,45,55 * * * *");
    same_runs("10/5 * * * *", "10-59/5 * * * *");
    same_runs("0 */6 * * *", "0 0,6,12,18 * * *");
    same_runs("0 0 1 */3 *", "0 0 1 1,4,7,10 *");
}

#[test]
fn last_weekday_nth_and_vixie_rule() {
    // 2026: January 31 is a Saturday, February 28 a Saturday, May 31 a Sunday.
    assert_eq!(
        next_n("0 0 L * *", "UTC", Cron, AFTER, 2),
        ["2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z"]
    );
    assert_eq!(
        next_n("0 0 L-3 * *", "UTC", Cron, AFTER, 2),
        ["2026-01-28T00:00:00Z", "2026-02-25T00:00:00Z"]
    );
    assert_eq!(
        next_n("0 0 LW * *", "UTC", Cron, AFTER, 5),
        [
            "2026-01-30T00:00:00Z",
            "2026-02-27T00:00:00Z",
            "2026-03-31T00:00:00Z",
            "2026-04-30T00:00:00Z",
            "2026-05-29T00:00:00Z"
        ]
    );
    // 1 August 2026 is a Saturday: nearest weekday without leaving the month is Monday 3rd.
    assert_eq!(
        next_n("0 0 1W 8 *", "UTC", Cron, AFTER, 1),
        ["2026-08-03T00:00:00Z"]
    );
    // 15 March 2026 is a Sunday: Monday 16th.
    assert_eq!(
        next_n("0 0 15W 3 *", "UTC", Cron, AFTER, 1),
        ["2026-03-16T00:00:00Z"]
    );
    assert_eq!(
        next_n("0 0 * * FRI#2", "UTC", Cron, AFTER, 2),
        ["2026-01-09T00:00:00Z", "2026-02-13T00:00:00Z"]
    );
    assert_eq!(
        next_n("0 0 * * 5L", "UTC", Cron, AFTER, 2),
        ["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"]
    );
    assert_eq!(
        next_n("0 0 * * friL", "UTC", Cron, AFTER, 1),
        ["2026-01-30T00:00:00Z"]
    );
    // Both day fields restricted: either matches (13th or any Friday).
    assert_eq!(
        next_n("0 0 13 * FRI", "UTC", Cron, AFTER, 3),
        [
            "2026-01-02T00:00:00Z",
            "2026-01-09T00:00:00Z",
            "2026-01-13T00:00:00Z"
        ]
    );
    // Only one restricted: it alone decides.
    assert_eq!(
        next_n("0 0 13 * *", "UTC", Cron, AFTER, 1),
        ["2026-01-13T00:00:00Z"]
    );
    // Seconds.
    assert_eq!(
        next_n("*/20 0 0 * * *", "UTC", Cron, AFTER, 3),
        [
            "2026-01-01T00:00:20Z",
            "2026-01-01T00:00:40Z",
            "2026-01-02T00:00:00Z"
        ]
    );
    // 29 February runs in leap years only.
    assert_eq!(
        next_n("0 0 29 2 *", "UTC", Cron, AFTER, 2),
        ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]
    );
}

const BAD: &[&str] = &[
    "",
    "   ",
    "* * * *",
    "* * * * * * *",
    "@reboot",
    "@fortnightly",
    "60 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * 32 * *",
    "* * * 13 *",
    "* * * * 8",
    "61 * * * * *",
    "*/0 * * * *",
    "10-5 * * * *",
    "1,,2 * * * *",
    "1, * * * *",
    "a * * * *",
    "-5 * * * *",
    "5- * * * *",
    "5/ * * * *",
    "99999999999999999999 * * * *",
    "30/4294967295 * * * *",
    "0 0 * 12/4294967295 *",
    "0 0 * * 6/4294967295",
    "*/60 * * * *",
    "0 0-23/99999999999999999999 * * *",
    "*/00 * * * *",
    "* * * FOO *",
    "* * * * FUNDAY",
    "* * * * MON#6",
    "* * * * MON#0",
    "* * * * L",
    "* * L-31 * *",
    "* * 32W * *",
    "* * 0W * *",
    "* * LX * *",
    "* L * * *",
    "* * * * 1W",
    "* * * JAN#2 *",
    "?",
    "? * * * *",
    "*,5 * * * *",
    "0 0 30 2 *",
    "0 0 31 4,6,9,11 *",
    "0 0 31 2,4 *",
    "0 0 30,31 2 *",
    "0 0 30W 2 *",
    "5-3 * * * MON",
    "* * * * FRI-MON",
    "\u{e9} * * * *",
    "* * * * M\u{d6}N",
];

#[test]
fn error_messages_snapshot() {
    let text: String = BAD
        .iter()
        .map(|e| match CronExpr::parse(e) {
            Ok(_) => panic!("{e:?} should not parse"),
            Err(err) => {
                assert_eq!(describe(e).unwrap_err(), err);
                format!("{e:<32} => {err}\n")
            }
        })
        .collect();
    insta::assert_snapshot!("errors", text);
}

#[test]
fn errors_name_field_and_text() {
    let e = CronExpr::parse("*/15 9-25 * * *").unwrap_err();
    assert_eq!(e.field, Some("hour"));
    assert_eq!(e.text, "9-25");
    assert_eq!(
        e.to_string(),
        "hour field \"9-25\": 25 is out of range 0-23"
    );
    let e = CronExpr::parse("0 0 30 2 *").unwrap_err();
    assert_eq!(e.field, Some("day-of-month"));
    assert_eq!(e.text, "30");
}

#[test]
fn steps_larger_than_the_field_are_refused_not_wrapped() {
    // Found by a hostile-input test: the step addition wrapped, so these
    // saved and ran every minute / daily.
    for (expr, field, text, range) in [
        ("30/4294967295 * * * *", "minute", "30/4294967295", "0-59"),
        ("0 0 * 12/4294967295 *", "month", "12/4294967295", "1-12"),
        ("0 0 * * 6/4294967295", "day-of-week", "6/4294967295", "0-7"),
        ("0 0/4294967295 * * *", "hour", "0/4294967295", "0-23"),
        (
            "0 0 1/4294967295 * *",
            "day-of-month",
            "1/4294967295",
            "1-31",
        ),
        ("0/4294967295 0 0 * * *", "second", "0/4294967295", "0-59"),
        ("*/60 * * * *", "minute", "*/60", "0-59"),
    ] {
        let e = CronExpr::parse(expr).unwrap_err();
        assert_eq!(e.field, Some(field), "{expr}");
        assert_eq!(e.text, text, "{expr}");
        assert!(e.reason.contains(range), "{expr}: {e}");
        assert!(e.to_string().contains(text), "{expr}: {e}");
        assert_eq!(describe(expr).unwrap_err(), e);
    }
    // The largest step each field allows still works.
    same_runs("0/59 * * * *", "0,59 * * * *");
    same_runs("0 0 * 1/11 *", "0 0 * 1,12 *");
    same_runs("0 0 * * 0/7", "0 0 * * 0");
}

#[test]
fn unknown_zones_are_rejected() {
    for tz in ["Mars/Olympus", "", " UTC", "America/Los Angeles"] {
        match Schedule::parse("0 2 * * *", tz, Cron) {
            Err(ScheduleError::TimeZone(e)) => assert_eq!(e.name, tz),
            other => panic!("{tz:?}: {other:?}"),
        }
    }
    for tz in [
        "UTC",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
    ] {
        assert!(Schedule::parse("0 2 * * *", tz, Cron).is_ok(), "{tz}");
    }
}
