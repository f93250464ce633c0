//! Previews: runs in UTC and local time, and DST notes.

use grove_core::schedule::DstPolicy::{Cron, Literal};
use grove_core::schedule::preview;

use super::{schedule, ts};

#[test]
fn spring_forward_note_and_runs() {
    let s = schedule("30 2 * * *", "America/Los_Angeles", Cron);
    let p = preview(&s, ts("2026-03-07T12:00:00Z"), 2);
    assert_eq!(p.description, "Daily at 2:30 AM");
    assert_eq!(p.runs[0].utc.to_string(), "2026-03-08T10:00:00Z");
    assert_eq!(p.runs[0].local, "2026-03-08T03:00:00-07:00");
    assert_eq!(p.runs[0].abbreviation, "PDT");
    assert_eq!(p.runs[0].display, "Sun 8 Mar 2026, 03:00 PDT");
    assert_eq!(p.runs[1].display, "Mon 9 Mar 2026, 02:30 PDT");
    assert_eq!(
        p.notes,
        ["Sun 8 Mar: 02:30 does not exist in America/Los_Angeles; runs at 03:00 PDT"]
    );

    let s = schedule("30 2 * * *", "America/Los_Angeles", Literal);
    let p = preview(&s, ts("2026-03-07T12:00:00Z"), 2);
    assert_eq!(p.runs[0].display, "Mon 9 Mar 2026, 02:30 PDT");
    assert_eq!(
        p.notes,
        ["Sun 8 Mar: 02:30 does not exist in America/Los_Angeles; skipped"]
    );
}

#[test]
fn fall_back_notes() {
    let s = schedule("30 1 * * *", "America/Los_Angeles", Cron);
    let p = preview(&s, ts("2026-10-31T12:00:00Z"), 3);
    assert_eq!(
        p.notes,
        ["Sun 1 Nov: 01:30 occurs twice in America/Los_Angeles; runs once at 01:30 PDT"]
    );
    let s = schedule("30 1 * * *", "America/Los_Angeles", Literal);
    let p = preview(&s, ts("2026-10-31T12:00:00Z"), 3);
    let displays: Vec<&str> = p.runs.iter().map(|r| r.display.as_str()).collect();
    assert_eq!(
        displays,
        [
            "Sun 1 Nov 2026, 01:30 PDT",
            "Sun 1 Nov 2026, 01:30 PST",
            "Mon 2 Nov 2026, 01:30 PST"
        ]
    );
    assert_eq!(
        p.notes,
        [
            "Sun 1 Nov: 01:30 occurs twice in America/Los_Angeles; runs twice, at 01:30 PDT and 01:30 PST"
        ]
    );
}

#[test]
fn notes_for_many_times_and_no_notes_when_unaffected() {
    let s = schedule("*/15 * * * *", "America/Los_Angeles", Cron);
    let p = preview(&s, ts("2026-03-08T09:50:00Z"), 3);
    assert_eq!(
        p.notes,
        [
            "Sun 8 Mar: 02:00, 02:15, 02:30 and 02:45 do not exist in America/Los_Angeles; they are skipped"
        ]
    );
    let s = schedule("* 2 * * *", "America/Los_Angeles", Cron);
    let p = preview(&s, ts("2026-03-07T12:00:00Z"), 1);
    assert_eq!(
        p.notes,
        [
            "Sun 8 Mar: 02:00 to 02:59 (60 times) do not exist in America/Los_Angeles; runs once at 03:00 PDT"
        ]
    );
    let s = schedule("0 12 * * *", "America/Los_Angeles", Cron);
    assert!(preview(&s, ts("2026-03-07T12:00:00Z"), 5).notes.is_empty());
    let s = schedule("30 2 * * *", "America/Sao_Paulo", Cron);
    assert!(
        preview(&s, ts("2026-01-01T00:00:00Z"), 400)
            .notes
            .is_empty()
    );
    // Lord Howe's half hour.
    let s = schedule("15 2 * * *", "Australia/Lord_Howe", Cron);
    let p = preview(&s, ts("2026-10-02T00:00:00Z"), 3);
    assert_eq!(
        p.notes,
        ["Sun 4 Oct: 02:15 does not exist in Australia/Lord_Howe; runs at 02:30 +11"]
    );
}

#[test]
fn json_shape() {
    let s = schedule("0 2 * * *", "America/Los_Angeles", Cron);
    let p = preview(&s, ts("2026-03-07T12:00:00Z"), 1);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "expression": "0 2 * * *",
            "timezone": "America/Los_Angeles",
            "description": "Daily at 2:00 AM",
            "runs": [{
                "utc": "2026-03-08T10:00:00Z",
                "local": "2026-03-08T03:00:00-07:00",
                "abbreviation": "PDT",
                "display": "Sun 8 Mar 2026, 03:00 PDT"
            }],
            "notes": ["Sun 8 Mar: 02:00 does not exist in America/Los_Angeles; runs at 03:00 PDT"],
            "excluded": []
        })
    );
    assert!(s.is_dst_affected(ts("2026-03-01T00:00:00Z"), ts("2026-03-31T00:00:00Z")));
    assert!(!s.is_dst_affected(ts("2026-04-01T00:00:00Z"), ts("2026-04-30T00:00:00Z")));
}
