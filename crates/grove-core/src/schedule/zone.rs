//! Time-zone look-ups for the search: the offset at an instant, the
//! transition that started its segment and the one that ends it.
//!
//! jiff answers each question with a search of the tz data (tens of
//! nanoseconds each, several per next run). Transitions between 1970 and
//! 2100 are therefore copied once per zone name into a shared, immutable
//! table and found by binary search; outside that window jiff answers
//! directly. The table is a cache of tz data, not of time: results do not
//! depend on when or how often they are asked.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use jiff::{Timestamp, tz::TimeZone};

/// A transition: the instant (seconds) and the offset (seconds) from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Next {
    pub at: i64,
    pub offset: i64,
}

/// Where an instant sits: the offset in force, and (when asked for) when
/// that offset began and the offset before it, `None` before the first
/// transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Here {
    pub offset: i64,
    pub start: Option<i64>,
    pub prev: Option<i64>,
}

impl Here {
    fn offset(offset: i64) -> Self {
        Self {
            offset,
            start: None,
            prev: None,
        }
    }
}

/// 1970-01-01T00:00:00Z and 2100-01-01T00:00:00Z.
const TABLE_START: i64 = 0;
const TABLE_END: i64 = 4_102_444_800;

struct Table {
    /// Offset in force at `TABLE_START`.
    initial: i64,
    transitions: Vec<Next>,
}

impl std::fmt::Debug for Table {
    // A summary: the transitions themselves would flood logs of a Schedule.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("initial", &self.initial)
            .field("transitions", &self.transitions.len())
            .finish()
    }
}

impl Table {
    fn build(tz: &TimeZone) -> Option<Self> {
        let start = Timestamp::from_second(TABLE_START).ok()?;
        let initial = i64::from(tz.to_offset(start).seconds());
        let mut transitions: Vec<Next> = Vec::new();
        let mut last = initial;
        for t in tz.following(start) {
            let next = Next {
                at: t.timestamp().as_second(),
                offset: i64::from(t.offset().seconds()),
            };
            if next.at >= TABLE_END {
                break;
            }
            // Only offset changes matter here (not abbreviation changes).
            if next.offset != last {
                transitions.push(next);
                last = next.offset;
            }
        }
        Some(Self {
            initial,
            transitions,
        })
    }

    fn covers(secs: i64) -> bool {
        (TABLE_START..TABLE_END).contains(&secs)
    }
}

fn shared_table(tz: &TimeZone) -> Option<Arc<Table>> {
    static TABLES: OnceLock<Mutex<HashMap<String, Arc<Table>>>> = OnceLock::new();
    let name = tz.iana_name()?;
    let tables = TABLES.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked while inserting;
    // the map itself is still valid.
    let mut map = tables.lock();
    if let Some(t) = map.get(name) {
        return Some(Arc::clone(t));
    }
    let table = Arc::new(Table::build(tz)?);
    map.insert(name.to_owned(), Arc::clone(&table));
    Some(table)
}

/// A zone prepared for the search.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    tz: TimeZone,
    /// Set for zones with one offset forever (UTC, fixed offsets).
    fixed: Option<i64>,
    table: Option<Arc<Table>>,
}

impl Zone {
    pub(crate) fn new(tz: TimeZone) -> Self {
        let fixed = tz.to_fixed_offset().ok().map(|o| i64::from(o.seconds()));
        let table = if fixed.is_none() {
            shared_table(&tz)
        } else {
            None
        };
        Self { tz, fixed, table }
    }

    pub(crate) fn tz(&self) -> &TimeZone {
        &self.tz
    }

    pub(crate) fn fixed(&self) -> Option<i64> {
        self.fixed
    }

    /// [`Self::offset_at`] and [`Self::following`] in one look-up.
    pub(crate) fn segment(&self, secs: i64, with_start: bool) -> Option<(Here, Option<Next>)> {
        if let Some(table) = &self.table
            && Table::covers(secs)
        {
            let i = table.transitions.partition_point(|t| t.at <= secs);
            if let Some(&end) = table.transitions.get(i)
                && (i >= 1 || !with_start)
            {
                let offset = if i == 0 {
                    table.initial
                } else {
                    table.transitions[i - 1].offset
                };
                if !with_start {
                    return Some((Here::offset(offset), Some(end)));
                }
                let start = table.transitions[i - 1].at;
                let prev = if i == 1 {
                    table.initial
                } else {
                    table.transitions[i - 2].offset
                };
                let here = Here {
                    offset,
                    start: Some(start),
                    prev: Some(prev),
                };
                return Some((here, Some(end)));
            }
        }
        Some((self.offset_at(secs, with_start)?, self.following(secs)))
    }

    /// The transition strictly after `secs`.
    pub(crate) fn following(&self, secs: i64) -> Option<Next> {
        if let Some(table) = &self.table
            && Table::covers(secs)
        {
            let i = table.transitions.partition_point(|t| t.at <= secs);
            if let Some(t) = table.transitions.get(i) {
                return Some(*t);
            }
        }
        let ts = Timestamp::from_second(secs).ok()?;
        let mut last = i64::from(self.tz.to_offset(ts).seconds());
        for t in self.tz.following(ts) {
            let offset = i64::from(t.offset().seconds());
            if offset != last {
                return Some(Next {
                    at: t.timestamp().as_second(),
                    offset,
                });
            }
            last = offset;
        }
        None
    }

    /// The offset at `secs`, and, when `with_start`, the instant its segment
    /// started and the offset before that (`None` before the first
    /// transition).
    pub(crate) fn offset_at(&self, secs: i64, with_start: bool) -> Option<Here> {
        if let Some(table) = &self.table
            && Table::covers(secs)
        {
            let i = table.transitions.partition_point(|t| t.at <= secs);
            match i {
                0 if !with_start => return Some(Here::offset(table.initial)),
                0 => {}
                _ if !with_start => return Some(Here::offset(table.transitions[i - 1].offset)),
                1 => {
                    let t = table.transitions[0];
                    return Some(Here {
                        offset: t.offset,
                        start: Some(t.at),
                        prev: Some(table.initial),
                    });
                }
                _ => {
                    let (p, t) = (table.transitions[i - 2], table.transitions[i - 1]);
                    return Some(Here {
                        offset: t.offset,
                        start: Some(t.at),
                        prev: Some(p.offset),
                    });
                }
            }
        }
        let ts = Timestamp::from_second(secs).ok()?;
        if !with_start {
            return Some(Here::offset(i64::from(self.tz.to_offset(ts).seconds())));
        }
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        let after = Timestamp::from_second(secs + 1).ok()?;
        // Walk back to the last transition that changed the offset.
        for t in self.tz.preceding(after) {
            let at = t.timestamp().as_second();
            let before = Timestamp::from_second(at - 1).ok()?;
            let prev = i64::from(self.tz.to_offset(before).seconds());
            if prev != offset {
                return Some(Here {
                    offset,
                    start: Some(at),
                    prev: Some(prev),
                });
            }
        }
        Some(Here::offset(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table and jiff agree at and around every transition of a few zones.
    #[test]
    fn table_agrees_with_jiff() {
        for name in [
            "America/Los_Angeles",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "Europe/London",
        ] {
            let tz = TimeZone::get(name).unwrap();
            let cached = Zone::new(tz.clone());
            let direct = Zone {
                tz: tz.clone(),
                fixed: None,
                table: None,
            };
            assert!(cached.table.is_some());
            let mut probes = vec![
                TABLE_START,
                TABLE_START + 1,
                TABLE_END - 1,
                TABLE_END,
                1_780_000_000,
            ];
            for t in &cached.table.as_ref().unwrap().transitions {
                probes.extend([t.at - 1, t.at, t.at + 1]);
            }
            for secs in probes {
                assert_eq!(
                    cached.following(secs),
                    direct.following(secs),
                    "{name} {secs}"
                );
                for with_start in [false, true] {
                    assert_eq!(
                        cached.segment(secs, with_start),
                        direct.segment(secs, with_start),
                        "{name} {secs} {with_start}"
                    );
                    assert_eq!(
                        cached.offset_at(secs, with_start),
                        direct.offset_at(secs, with_start),
                        "{name} {secs} {with_start}"
                    );
                }
            }
        }
    }
}
