//! When a job runs: its schedule (a cron expression or a one-off `runAt`)
//! with everything that moves or removes slots — excluded calendars, a
//! pause, jitter. One [`JobPlan`] answers every "when" question, so the
//! scheduler, `derived.nextRunAt`, `GET /api/v1/jobs/{id}/upcoming`, the
//! console's timeline and backfill all agree, on every instance.
//!
//! - A **slot** is an instant of the schedule (`scheduledFor`).
//! - A slot inside a time an excluded calendar names does not run and is
//!   not an execution; nor does a slot before `pausedUntil`.
//! - A slot's run is **due** at the slot plus its jitter offset, a
//!   deterministic function of the config id and the slot ([`offset`]):
//!   every instance computes the same one.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::calendar::CalendarPayload;
use crate::job_config::ScheduleConfig;
use crate::schedule::Schedule;

/// Excluded slots a search steps over before it gives up (a calendar that
/// excludes every slot of a schedule would otherwise search forever).
const MAX_EXCLUDED_STEPS: usize = 100_000;

/// Calendars by id, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendars(pub BTreeMap<String, CalendarPayload>);

impl Calendars {
    pub fn get(&self, id: &str) -> Option<&CalendarPayload> {
        self.0.get(id)
    }

    pub fn insert(&mut self, id: String, calendar: CalendarPayload) {
        self.0.insert(id, calendar);
    }
}

/// One run of a plan: its slot and when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub scheduled_for: Timestamp,
    pub due_at: Timestamp,
}

/// A slot that does not run because a calendar excludes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcludedSlot {
    pub scheduled_for: Timestamp,
    pub calendar: String,
}

/// The next runs of a plan, and the slots excluded among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upcoming {
    pub runs: Vec<Slot>,
    /// Excluded slots from the start of the search to the last run.
    pub excluded: Vec<ExcludedSlot>,
}

#[derive(Debug, Clone)]
enum Base {
    Cron(Schedule),
    Once(Timestamp),
}

/// The runs of one job config.
#[derive(Debug, Clone)]
pub struct JobPlan {
    config_id: String,
    base: Base,
    zone: TimeZone,
    /// The excluded calendars that exist, in the order the job lists them.
    calendars: Vec<(String, CalendarPayload)>,
    paused_until: Option<Timestamp>,
    jitter_seconds: u32,
}

/// The jitter offset of a slot: FNV-1a (64 bit) over the config id's bytes
/// and the slot's unix milliseconds (little-endian), modulo the jitter in
/// milliseconds. In `[0, jitter_seconds)`; zero without jitter.
pub fn offset(config_id: &str, slot: Timestamp, jitter_seconds: u32) -> SignedDuration {
    if jitter_seconds == 0 {
        return SignedDuration::ZERO;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in config_id.bytes().chain(slot.as_millisecond().to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let span = u64::from(jitter_seconds) * 1000;
    SignedDuration::from_millis(i64::try_from(hash % span).unwrap_or(0))
}

impl JobPlan {
    /// The plan of a job's schedule; `None` when the schedule cannot be
    /// evaluated (a payload that bypassed validation). Calendars the job
    /// names that are not in `calendars` exclude nothing.
    pub fn new(config_id: &str, schedule: &ScheduleConfig, calendars: &Calendars) -> Option<Self> {
        let base = match (&schedule.cron_expression, schedule.run_at) {
            (Some(_), _) => Base::Cron(schedule.schedule()?),
            (None, Some(at)) => Base::Once(at),
            (None, None) => return None,
        };
        // The zone as stored (a name validation refuses today keeps a
        // stored config running until it is edited).
        let zone = match &base {
            Base::Cron(s) => s.timezone().clone(),
            Base::Once(_) => TimeZone::get(&schedule.timezone).ok()?,
        };
        let calendars = schedule
            .exclude_calendars
            .iter()
            .filter_map(|id| calendars.get(id).map(|c| (id.clone(), c.clone())))
            .collect();
        Some(Self {
            config_id: config_id.to_owned(),
            base,
            zone,
            calendars,
            paused_until: schedule.paused_until,
            jitter_seconds: schedule.jitter_seconds,
        })
    }

    /// The cron schedule, unless this is a one-off run.
    pub fn schedule(&self) -> Option<&Schedule> {
        match &self.base {
            Base::Cron(s) => Some(s),
            Base::Once(_) => None,
        }
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Which excluded calendar (the first the job lists) covers `slot`.
    pub fn excluded_by(&self, slot: Timestamp) -> Option<&str> {
        self.calendars
            .iter()
            .find(|(_, c)| c.excludes(slot, &self.zone))
            .map(|(id, _)| id.as_str())
    }

    fn paused(&self, slot: Timestamp) -> bool {
        self.paused_until.is_some_and(|p| slot < p)
    }

    /// The run of `slot`: due at the slot plus its jitter offset.
    pub fn run_of(&self, slot: Timestamp) -> Slot {
        Slot {
            scheduled_for: slot,
            due_at: slot
                .checked_add(offset(&self.config_id, slot, self.jitter_seconds))
                .unwrap_or(slot),
        }
    }

    fn base_next(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.base {
            Base::Cron(s) => s.next_after(t),
            Base::Once(at) => (*at > t).then_some(*at),
        }
    }

    fn base_prev(&self, t: Timestamp) -> Option<Timestamp> {
        match &self.base {
            Base::Cron(s) => s.prev_before(t),
            Base::Once(at) => (*at < t).then_some(*at),
        }
    }

    /// Where a forward search from `t` may start: slots before a pause
    /// never run, so the search jumps to its end.
    fn search_start(&self, t: Timestamp) -> Timestamp {
        match self.paused_until {
            Some(p) if p > t => p
                .checked_sub(SignedDuration::from_millis(1))
                .unwrap_or(p)
                .max(t),
            _ => t,
        }
    }

    /// The first run whose slot is strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Option<Slot> {
        let mut cursor = self.search_start(t);
        for _ in 0..MAX_EXCLUDED_STEPS {
            let slot = self.base_next(cursor)?;
            if self.excluded_by(slot).is_none() {
                return Some(self.run_of(slot));
            }
            cursor = slot;
        }
        None
    }

    /// The latest slot strictly before `t` that runs (for misfires).
    pub fn prev_before(&self, t: Timestamp) -> Option<Timestamp> {
        let mut cursor = t;
        for _ in 0..MAX_EXCLUDED_STEPS {
            let slot = self.base_prev(cursor)?;
            if self.paused(slot) {
                return None;
            }
            if self.excluded_by(slot).is_none() {
                return Some(slot);
            }
            cursor = slot;
        }
        None
    }

    /// The next `count` runs after `after`, with the slots excluded by a
    /// calendar between `after` and the last of them.
    pub fn upcoming(&self, after: Timestamp, count: usize) -> Upcoming {
        let mut out = Upcoming::default();
        let mut cursor = self.search_start(after);
        let mut steps = 0;
        while out.runs.len() < count && steps < MAX_EXCLUDED_STEPS {
            let Some(slot) = self.base_next(cursor) else {
                break;
            };
            match self.excluded_by(slot) {
                Some(calendar) => out.excluded.push(ExcludedSlot {
                    scheduled_for: slot,
                    calendar: calendar.to_owned(),
                }),
                None => out.runs.push(self.run_of(slot)),
            }
            cursor = slot;
            steps += 1;
        }
        out
    }

    /// Every slot in `[from, to)` that a calendar does not exclude (the
    /// pause applies to live runs only), and how many were excluded.
    pub fn slots_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> (Vec<Timestamp>, usize) {
        let mut slots = Vec::new();
        let mut excluded = 0;
        let mut cursor = from
            .checked_sub(SignedDuration::from_millis(1))
            .unwrap_or(from);
        while let Some(slot) = self.base_next(cursor) {
            if slot >= to || slots.len() > limit {
                break;
            }
            if self.excluded_by(slot).is_some() {
                excluded += 1;
            } else {
                slots.push(slot);
            }
            cursor = slot;
        }
        (slots, excluded)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::job_config::JobConfigPayload;
    use crate::validate::Checker;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn schedule(v: serde_json::Value) -> ScheduleConfig {
        let mut payload =
            JobConfigPayload::default_for(crate::job_config::JobType::HealthCheck).to_value();
        payload["schedule"] = v;
        let mut c = Checker::new();
        let p = JobConfigPayload::decode(&payload, Some("t"), &mut c);
        assert!(c.is_ok(), "{:?}", c.into_problems());
        p.unwrap().schedule
    }

    fn calendars(v: serde_json::Value) -> Calendars {
        let mut set = Calendars::default();
        for (id, payload) in v.as_object().unwrap() {
            let mut c = Checker::new();
            let cal = crate::calendar::CalendarPayload::decode(payload, &mut c).unwrap();
            set.insert(id.clone(), cal);
        }
        set
    }

    #[test]
    fn calendars_remove_slots_and_upcoming_names_them() {
        let s = schedule(
            json!({"cronExpression": "0 9 * * *", "timezone": "America/New_York",
            "isEnabled": true, "excludeCalendars": ["holidays", "missing"]}),
        );
        let cals = calendars(json!({"holidays": {"dates": ["2026-12-25", "2026-12-26"]}}));
        let plan = JobPlan::new("daily", &s, &cals).unwrap();
        let up = plan.upcoming(at("2026-12-23T00:00:00Z"), 3);
        let runs: Vec<String> = up
            .runs
            .iter()
            .map(|r| r.scheduled_for.to_string())
            .collect();
        assert_eq!(
            runs,
            [
                "2026-12-23T14:00:00Z",
                "2026-12-24T14:00:00Z",
                "2026-12-27T14:00:00Z"
            ]
        );
        assert_eq!(
            up.excluded,
            [
                ExcludedSlot {
                    scheduled_for: at("2026-12-25T14:00:00Z"),
                    calendar: "holidays".into()
                },
                ExcludedSlot {
                    scheduled_for: at("2026-12-26T14:00:00Z"),
                    calendar: "holidays".into()
                },
            ]
        );
        assert_eq!(
            plan.next_after(at("2026-12-24T15:00:00Z"))
                .unwrap()
                .scheduled_for,
            at("2026-12-27T14:00:00Z")
        );
        assert_eq!(
            plan.prev_before(at("2026-12-27T00:00:00Z")),
            Some(at("2026-12-24T14:00:00Z"))
        );
    }

    #[test]
    fn a_pause_skips_every_slot_before_it_and_lifts_itself() {
        let s = schedule(
            json!({"cronExpression": "0 * * * *", "timezone": "UTC", "isEnabled": true,
            "pausedUntil": "2026-03-01T05:30:00Z"}),
        );
        let plan = JobPlan::new("hourly", &s, &Calendars::default()).unwrap();
        assert_eq!(
            plan.next_after(at("2026-03-01T00:00:00Z"))
                .unwrap()
                .scheduled_for,
            at("2026-03-01T06:00:00Z")
        );
        assert_eq!(
            plan.prev_before(at("2026-03-01T05:10:00Z")),
            None,
            "paused slots are not misfires"
        );
        assert_eq!(
            plan.prev_before(at("2026-03-01T07:10:00Z")),
            Some(at("2026-03-01T07:00:00Z"))
        );
        // A slot exactly at the pause's end runs.
        let s = schedule(
            json!({"cronExpression": "0 * * * *", "timezone": "UTC", "isEnabled": true,
            "pausedUntil": "2026-03-01T05:00:00Z"}),
        );
        let plan = JobPlan::new("hourly", &s, &Calendars::default()).unwrap();
        assert_eq!(
            plan.next_after(at("2026-03-01T00:00:00Z"))
                .unwrap()
                .scheduled_for,
            at("2026-03-01T05:00:00Z")
        );
    }

    #[test]
    fn jitter_is_deterministic_within_its_window_and_spread() {
        let s = schedule(
            json!({"cronExpression": "* * * * *", "timezone": "UTC", "isEnabled": true, "jitterSeconds": 30}),
        );
        let plan = JobPlan::new("spread", &s, &Calendars::default()).unwrap();
        let again = JobPlan::new("spread", &s, &Calendars::default()).unwrap();
        let up = plan.upcoming(at("2026-03-01T00:00:00Z"), 200);
        assert_eq!(
            up,
            again.upcoming(at("2026-03-01T00:00:00Z"), 200),
            "every instance agrees"
        );
        let offsets: Vec<i64> = up
            .runs
            .iter()
            .map(|r| r.due_at.duration_since(r.scheduled_for).as_millis() as i64)
            .collect();
        assert!(
            offsets.iter().all(|o| (0..30_000).contains(o)),
            "{offsets:?}"
        );
        let distinct: std::collections::HashSet<_> = offsets.iter().map(|o| o / 1000).collect();
        assert!(
            distinct.len() > 20,
            "offsets spread over the window: {distinct:?}"
        );
        // Another config gets other offsets.
        let other = JobPlan::new("other", &s, &Calendars::default()).unwrap();
        assert_ne!(
            other.upcoming(at("2026-03-01T00:00:00Z"), 5),
            plan.upcoming(at("2026-03-01T00:00:00Z"), 5)
        );
        assert_eq!(
            offset("x", at("2026-03-01T00:00:00Z"), 0),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn a_one_off_run_happens_once() {
        let s = schedule(
            json!({"runAt": "2026-12-24T18:00:00Z", "timezone": "UTC", "isEnabled": true}),
        );
        let plan = JobPlan::new("once", &s, &Calendars::default()).unwrap();
        assert_eq!(
            plan.next_after(at("2026-12-01T00:00:00Z"))
                .unwrap()
                .scheduled_for,
            at("2026-12-24T18:00:00Z")
        );
        assert_eq!(plan.next_after(at("2026-12-24T18:00:00Z")), None);
        assert_eq!(plan.upcoming(at("2026-12-01T00:00:00Z"), 10).runs.len(), 1);
        assert_eq!(
            plan.prev_before(at("2026-12-25T00:00:00Z")),
            Some(at("2026-12-24T18:00:00Z"))
        );
    }

    #[test]
    fn a_calendar_that_excludes_everything_ends_the_search() {
        let s = schedule(
            json!({"cronExpression": "0 9 * * MON", "timezone": "UTC", "isEnabled": true, "excludeCalendars": ["mondays"]}),
        );
        let cals = calendars(
            json!({"mondays": {"weekly": [{"days": ["MON"], "from": "00:00", "to": "23:59"}]}}),
        );
        let plan = JobPlan::new("never", &s, &cals).unwrap();
        assert_eq!(plan.next_after(at("2026-03-01T00:00:00Z")), None);
        assert!(plan.upcoming(at("2026-03-01T00:00:00Z"), 3).runs.is_empty());
    }

    #[test]
    fn slots_between_applies_calendars_for_backfill() {
        let s = schedule(
            json!({"cronExpression": "0 0 * * *", "timezone": "UTC", "isEnabled": false, "excludeCalendars": ["xmas"]}),
        );
        let cals = calendars(json!({"xmas": {"dates": ["2026-12-25"]}}));
        let plan = JobPlan::new("daily", &s, &cals).unwrap();
        let (slots, excluded) =
            plan.slots_between(at("2026-12-24T00:00:00Z"), at("2026-12-27T00:00:00Z"), 1000);
        assert_eq!(
            slots,
            [at("2026-12-24T00:00:00Z"), at("2026-12-26T00:00:00Z")]
        );
        assert_eq!(excluded, 1);
    }

    fn problems(v: serde_json::Value) -> Vec<String> {
        let mut payload =
            JobConfigPayload::default_for(crate::job_config::JobType::HealthCheck).to_value();
        payload["schedule"] = v;
        let mut c = Checker::new();
        JobConfigPayload::decode(&payload, Some("t"), &mut c);
        c.into_problems().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_new_schedule_fields_are_validated_at_their_pointers() {
        let both = problems(
            json!({"cronExpression": "0 * * * *", "runAt": "2026-12-24T18:00:00Z", "timezone": "UTC", "isEnabled": true}),
        );
        assert_eq!(both.len(), 1);
        assert!(
            both[0].starts_with("/payload/schedule/runAt: give either cronExpression"),
            "{both:?}"
        );
        let neither = problems(json!({"timezone": "UTC", "isEnabled": true}));
        assert!(
            neither[0].starts_with("/payload/schedule/cronExpression: is required (or runAt"),
            "{neither:?}"
        );
        let bad = problems(
            json!({"cronExpression": "0 * * * *", "timezone": "UTC", "isEnabled": true,
            "jitterSeconds": 3601, "pausedUntil": "tomorrow", "excludeCalendars": ["ok", "ok", "Not An Id"]}),
        );
        let pointers: Vec<&str> = bad.iter().map(|p| p.split(':').next().unwrap()).collect();
        assert_eq!(
            pointers,
            [
                "/payload/schedule/excludeCalendars/1",
                "/payload/schedule/excludeCalendars/2",
                "/payload/schedule/pausedUntil",
                "/payload/schedule/jitterSeconds",
            ],
            "{bad:?}"
        );
        let run_at =
            problems(json!({"runAt": "2026-12-24 18:00", "timezone": "UTC", "isEnabled": true}));
        assert!(
            run_at[0]
                .starts_with("/payload/schedule/runAt: \"2026-12-24 18:00\" is not an instant"),
            "{run_at:?}"
        );
        // Every addition is optional: a stored payload without them still decodes.
        assert!(
            problems(json!({"cronExpression": "0 * * * *", "timezone": "UTC", "isEnabled": true}))
                .is_empty()
        );
    }
}
