//! Properties over random expressions, zones, policies and instants,
//! including a minute-by-minute brute-force reference.

use grove_core::schedule::{CronExpr, DstPolicy, Schedule, describe};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

/// Zones with an instant near one of their transitions (or any instant for
/// zones without), so that random windows often contain a gap or a fold.
const ZONE_ANCHORS: &[(&str, &str)] = &[
    ("UTC", "2026-06-15T12:00:00Z"),
    ("Asia/Kolkata", "2026-06-15T12:00:00Z"),
    ("America/Los_Angeles", "2026-03-08T10:00:00Z"),
    ("America/Los_Angeles", "2026-11-01T09:00:00Z"),
    ("Europe/London", "2026-03-29T01:00:00Z"),
    ("Europe/London", "2026-10-25T01:00:00Z"),
    ("Australia/Lord_Howe", "2026-04-04T15:00:00Z"),
    ("Australia/Lord_Howe", "2026-10-03T15:30:00Z"),
    ("Pacific/Chatham", "2026-04-04T14:00:00Z"),
    ("Pacific/Chatham", "2026-09-26T14:00:00Z"),
    // Outside the 1970-2100 transition table: jiff answers directly.
    ("America/Los_Angeles", "1965-04-25T10:00:00Z"),
    ("America/Los_Angeles", "2150-03-08T10:00:00Z"),
    ("America/Los_Angeles", "2150-11-01T09:00:00Z"),
    ("Australia/Lord_Howe", "2150-10-03T15:30:00Z"),
];

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(items)
}

fn num_field(min: u32, max: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        (min..=max).prop_map(|v| v.to_string()),
        (min..=max, min..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (1..=max.max(2) / 2).prop_map(|s| format!("*/{s}")),
        (min..=max, 1..=max.max(2) / 2).prop_map(|(a, s)| format!("{a}/{s}")),
        (min..=max, min..=max, 1u32..5).prop_map(|(a, b, s)| format!(
            "{}-{}/{s}",
            a.min(b),
            a.max(b)
        )),
        (min..=max, min..=max).prop_map(|(a, b)| format!("{a},{b}")),
    ]
}

/// Daily expressions around the usual transition hours: the cases where the
/// DST rules decide the answer.
fn dst_expression() -> impl Strategy<Value = String> {
    let hour = pick(&[
        "1", "2", "3", "1", "2", "3", "1,2", "2-3", "1-4/2", "*/2", "*", "2,14", "0-3",
    ]);
    let minute = prop_oneof![3 => (0u32..60).prop_map(|m| m.to_string()), 1 => num_field(0, 59)];
    (minute, hour).prop_map(|(mi, h)| format!("{mi} {h} * * *"))
}

fn any_expression() -> impl Strategy<Value = String> {
    prop_oneof![1 => expression(), 2 => dst_expression()]
}

fn expression() -> impl Strategy<Value = String> {
    let dom = prop_oneof![
        4 => Just("*".to_owned()),
        2 => num_field(1, 28),
        1 => pick(&["L", "L-2", "LW", "15W", "1W", "1,L", "31", "30"]).prop_map(str::to_owned),
    ];
    let month = prop_oneof![
        4 => Just("*".to_owned()),
        1 => pick(&["1-6", "*/2", "MAR,NOV", "oct", "3/4"]).prop_map(str::to_owned),
    ];
    let dow = prop_oneof![
        4 => Just("*".to_owned()),
        2 => num_field(0, 7),
        1 => pick(&["MON-FRI", "SUN", "FRI#2", "5L", "0,6", "sat#1,mon#5"]).prop_map(str::to_owned),
    ];
    // Hours near the usual transition times come up often.
    let hour = prop_oneof![
        2 => num_field(0, 23),
        1 => pick(&["1", "2", "3", "1,2", "2-3", "0-4/2", "*/3"]).prop_map(str::to_owned),
    ];
    (num_field(0, 59), hour, dom, month, dow)
        .prop_map(|(mi, h, d, mo, w)| format!("{mi} {h} {d} {mo} {w}"))
}

/// A zone and an instant from 30 hours before to 20 hours after its anchor.
fn zone_instant() -> impl Strategy<Value = (&'static str, Timestamp)> {
    (pick(ZONE_ANCHORS), -108_000i64..72_000, 0i32..1_000_000_000).prop_map(|((zone, a), s, ns)| {
        let a: Timestamp = a.parse().unwrap();
        (zone, a + SignedDuration::new(s, ns))
    })
}

fn policy() -> impl Strategy<Value = DstPolicy> {
    prop_oneof![Just(DstPolicy::Cron), Just(DstPolicy::Literal)]
}

/// The definition of a run, instant by instant, written independently of
/// the search: a matching wall-clock time runs at its instant, except that
/// under the cron rule a fixed-hour job skips the second copy of a repeated
/// time and runs at the transition instant for matching times in a gap.
fn is_run(s: &Schedule, cron: &CronExpr, x: Timestamp) -> bool {
    let tz: &TimeZone = s.timezone();
    let dt = x.to_zoned(tz.clone()).datetime();
    let shift = s.policy() == DstPolicy::Cron && !cron.follows_real_time();
    if cron.matches(dt) {
        if !shift {
            return true;
        }
        return match tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Fold { after, .. } => x != after.to_timestamp(dt).unwrap(),
            _ => true,
        };
    }
    if shift {
        let before = tz.to_offset(x - SignedDuration::from_secs(1));
        let after = tz.to_offset(x);
        if after > before {
            // x is the transition instant: does any time of the gap match?
            let mut c = before.to_datetime(x);
            let end = after.to_datetime(x);
            while c < end {
                if cron.matches(c) {
                    return true;
                }
                c = c.checked_add(SignedDuration::from_mins(1)).unwrap();
            }
        }
    }
    false
}

fn minute_ceil(t: Timestamp) -> i64 {
    t.as_second().div_euclid(60) * 60 + 60
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn next_after_is_strictly_later_and_consistent(expr in any_expression(), (zone, t) in zone_instant(), p in policy()) {
        let Ok(s) = Schedule::parse(&expr, zone, p) else { return Ok(()) };
        let next = s.next_after(t).expect("a schedule that parses has a next run");
        prop_assert!(next > t);
        // Nothing between t and next.
        let prev = s.prev_before(next);
        prop_assert!(prev.is_none_or(|p| p <= t), "{expr} {zone}: prev_before({next}) = {prev:?} > {t}");
        let mut it = s.upcoming(t);
        prop_assert_eq!(it.next(), Some(next));
        let second = s.next_after(next);
        prop_assert_eq!(it.next(), second);
        // And backwards.
        let back = s.prev_before(t).expect("a previous run");
        prop_assert!(back < t);
        // No run in (back, t): the one after back is t itself or next.
        let after_back = s.next_after(back).unwrap();
        prop_assert!(after_back == next || after_back == t, "{expr} {zone}: {back} -> {after_back}");
    }

    #[test]
    fn matches_brute_force_reference(expr in any_expression(), (zone, t) in zone_instant(), p in policy()) {
        let Ok(s) = Schedule::parse(&expr, zone, p) else { return Ok(()) };
        let cron = CronExpr::parse(&expr).unwrap();
        let window = 36 * 60; // minutes
        let start = minute_ceil(t);
        let expected = (0..window)
            .map(|m| Timestamp::from_second(start + 60 * m).unwrap())
            .find(|&x| x > t && is_run(&s, &cron, x));
        let got = s.next_after(t).unwrap();
        match expected {
            Some(e) => prop_assert_eq!(got, e, "{} in {} ({:?}) after {}", expr, zone, p, t),
            None => prop_assert!(got.as_second() >= start + 60 * window, "{expr}: {got} missed by brute force"),
        }
        // prev_before against the same reference, looking back.
        let end = t.as_second().div_euclid(60) * 60;
        let expected_prev = (0..window)
            .map(|m| Timestamp::from_second(end - 60 * m).unwrap())
            .find(|&x| x < t && is_run(&s, &cron, x));
        let got_prev = s.prev_before(t).unwrap();
        match expected_prev {
            Some(e) => prop_assert_eq!(got_prev, e, "prev: {} in {} ({:?}) before {}", expr, zone, p, t),
            None => prop_assert!(got_prev.as_second() <= end - 60 * window),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parser_never_panics_on_any_text(text in "\\PC{0,40}") {
        let _ = CronExpr::parse(&text);
        let _ = describe(&text);
    }

    #[test]
    fn parser_never_panics_on_cron_like_text(text in "[0-9*/,LW#?@ a-zA-Z-]{0,30}", zone in "[A-Za-z/_]{0,12}") {
        if let Ok(c) = CronExpr::parse(&text) {
            let _ = c.describe();
        }
        let _ = Schedule::parse(&text, &zone, DstPolicy::Cron).map(|s| s.next_after(Timestamp::UNIX_EPOCH));
    }
}

/// Numbers at the edges of every integer width the parser might use.
fn extreme_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=64).prop_map(|v| v.to_string()),
        prop::sample::select(
            &[
                127u64,
                128,
                255,
                256,
                32_767,
                32_768,
                65_535,
                65_536,
                2_147_483_647,
                2_147_483_648,
                4_294_967_294,
                4_294_967_295,
                4_294_967_296,
                9_223_372_036_854_775_807,
                u64::MAX,
            ][..]
        )
        .prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        "[0-9]{20,40}",
        "0{1,30}[0-9]{1,3}",
    ]
}

const FIELDS: &[(&str, u32, u32)] = &[
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
];

fn expression_with(position: usize, field: &str) -> String {
    let mut fields = ["0", "0", "0", "*", "*", "*"];
    fields[position] = field;
    fields.join(" ")
}

fn parse_number(s: &str) -> Option<u64> {
    s.parse::<u64>().ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any step, start or range end at the edges of the integer widths:
    /// refused with the field's name, the text and its range when out of the
    /// field, and otherwise the same runs as the values spelled out.
    #[test]
    fn extreme_steps_are_refused_or_exact(
        position in 0usize..6,
        start in extreme_number(),
        step in extreme_number(),
        form in 0u8..3,
    ) {
        let (name, min, max) = FIELDS[position];
        let item = match form {
            0 => format!("*/{step}"),
            1 => format!("{start}/{step}"),
            _ => format!("{min}-{start}/{step}"),
        };
        let expr = expression_with(position, &item);
        let parsed = CronExpr::parse(&expr);
        let _ = describe(&expr);
        let step_value = parse_number(&step);
        let start_value = parse_number(&start);
        let step_ok = matches!(step_value, Some(s) if s >= 1 && s <= u64::from(max - min));
        let start_ok = form == 0 || matches!(start_value, Some(v) if v >= u64::from(min) && v <= u64::from(max));
        match parsed {
            Err(e) => {
                prop_assert_eq!(e.field, Some(name), "{}: {}", expr, e);
                prop_assert_eq!(&e.text, &item);
                if start_ok && !step_ok && step_value != Some(0) && !step.bytes().all(|b| b == b'0') {
                    prop_assert!(e.reason.contains(&format!("{min}-{max}")), "{}: {}", expr, e);
                }
                // Day-of-month/day-of-week patterns can be refused as
                // never running; otherwise the input itself was out of range.
                prop_assert!(!(start_ok && step_ok) || position == 3, "{}: {}", expr, e);
            }
            Ok(_) => {
                prop_assert!(step_ok && start_ok, "{} parsed", expr);
                // Spelled out: the values the step reaches, with plain adds
                // in u64 so nothing can wrap.
                let s = step_value.unwrap();
                let first = if form == 0 { u64::from(min) } else if form == 1 { start_value.unwrap() } else { u64::from(min) };
                let last = match form {
                    0 if position == 5 => 6,
                    0 => u64::from(max),
                    1 if position == 5 => start_value.unwrap().max(6),
                    1 => u64::from(max),
                    _ => start_value.unwrap(),
                };
                let mut values = Vec::new();
                let mut v = first;
                while v <= last {
                    values.push(v.to_string());
                    v += s;
                }
                let spelled = expression_with(position, &values.join(","));
                let after: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
                let a = Schedule::parse(&expr, "UTC", DstPolicy::Cron).unwrap();
                let b = Schedule::parse(&spelled, "UTC", DstPolicy::Cron).unwrap();
                let runs_a: Vec<_> = a.upcoming(after).take(8).collect();
                let runs_b: Vec<_> = b.upcoming(after).take(8).collect();
                prop_assert_eq!(runs_a, runs_b, "{} vs {}", expr, spelled);
            }
        }
    }
}
