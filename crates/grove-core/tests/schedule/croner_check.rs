//! What croner 4 (the engine wrapped before) does with our fixtures, kept to
//! document why the engine was replaced (see docs/schedules.md). If a croner
//! upgrade changes these answers, the comparison in the docs needs a look.

use grove_core::schedule::DstPolicy::Cron;

use super::next_n;

fn croner_next(expr: &str, tz: &str, after: &str, n: usize) -> Result<Vec<String>, String> {
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build();
    let cron = parser.parse(expr).map_err(|e| e.to_string())?;
    let tz = jiff::tz::TimeZone::get(tz).unwrap();
    let mut t = after.parse::<jiff::Timestamp>().unwrap().to_zoned(tz);
    let mut out = Vec::new();
    for _ in 0..n {
        match cron.find_next_occurrence(&t, false) {
            Ok(z) => {
                out.push(z.timestamp().to_string());
                t = z;
            }
            Err(e) => {
                out.push(format!("error: {e}"));
                break;
            }
        }
    }
    Ok(out)
}

#[test]
fn croner_agrees_on_plain_fixed_times_and_lord_howe() {
    for (expr, tz, after) in [
        ("30 2 * * *", "America/Los_Angeles", "2026-03-07T12:00:00Z"),
        ("30 1 * * *", "America/Los_Angeles", "2026-10-31T12:00:00Z"),
        ("0 */2 * * *", "America/Los_Angeles", "2026-11-01T06:00:00Z"),
        ("0 2 * * *", "Australia/Lord_Howe", "2026-10-02T00:00:00Z"),
        ("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z"),
        ("0 3 * * *", "Pacific/Chatham", "2026-09-25T00:00:00Z"),
        ("0 0 13 * FRI", "UTC", "2026-01-01T00:00:00Z"),
        ("0 0 LW * *", "UTC", "2026-01-01T00:00:00Z"),
    ] {
        assert_eq!(
            croner_next(expr, tz, after, 3).unwrap(),
            next_n(expr, tz, Cron, after, 3),
            "{expr} in {tz}"
        );
    }
}

#[test]
fn croner_drops_fixed_hour_steps_inside_a_gap() {
    // Our rule: 02:00 and 02:30 do not exist on 8 March; the job runs once at 03:00 PDT.
    let ours = next_n(
        "*/30 2 * * *",
        "America/Los_Angeles",
        Cron,
        "2026-03-07T12:00:00Z",
        1,
    );
    assert_eq!(ours, ["2026-03-08T10:00:00Z"]);
    let theirs = croner_next(
        "*/30 2 * * *",
        "America/Los_Angeles",
        "2026-03-07T12:00:00Z",
        1,
    )
    .unwrap();
    assert_eq!(theirs, ["2026-03-09T09:00:00Z"]);
}

#[test]
fn croner_accepts_impossible_dates_and_lacks_l_minus_n() {
    // Accepted at parse, then fails at search time.
    let out = croner_next("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z", 1).unwrap();
    assert!(out[0].starts_with("error:"), "{out:?}");
    // L-3 is not supported, and errors name neither field nor text.
    assert!(croner_next("0 0 L-3 * *", "UTC", "2026-01-01T00:00:00Z", 1).is_err());
    let e = croner_next("61 * * * *", "UTC", "2026-01-01T00:00:00Z", 1).unwrap_err();
    assert!(!e.contains("minute") && !e.contains("61"), "{e}");
}
