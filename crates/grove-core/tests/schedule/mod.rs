//! Schedule tests: dialect and errors, DST fixture days, human text
//! snapshots, previews, properties against a brute-force reference, and the
//! cases where the previously wrapped `croner` disagrees with our rules.

mod croner_check;
mod describe;
mod dst;
mod parse;
mod preview;
mod props;

use grove_core::schedule::{DstPolicy, Schedule};
use jiff::Timestamp;

pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

pub(crate) fn schedule(expr: &str, tz: &str, policy: DstPolicy) -> Schedule {
    Schedule::parse(expr, tz, policy).unwrap_or_else(|e| panic!("{expr} in {tz}: {e}"))
}

/// The next `n` runs after `after`, as RFC 3339 UTC strings.
pub(crate) fn next_n(
    expr: &str,
    tz: &str,
    policy: DstPolicy,
    after: &str,
    n: usize,
) -> Vec<String> {
    schedule(expr, tz, policy)
        .upcoming(ts(after))
        .take(n)
        .map(|t| t.to_string())
        .collect()
}
