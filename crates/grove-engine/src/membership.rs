//! Instances divide the firing of slots instead of each inserting every
//! slot. Each live instance registers itself with a lease (renewed every
//! `heartbeat`, valid for `lease`) and reads the live set back; a config's
//! slots are fired by one member of that set, chosen by rendezvous
//! hashing: the member whose hash with the config id is highest. Every
//! instance computes the same owner from the same set, and when the set
//! changes only the configs of the member that came or went change hands.
//!
//! Views of the set can differ for a moment (one instance heard of a
//! change before another). That never loses a slot: a newcomer sees
//! itself at once and fires its share, while an instance that has not yet
//! heard of it keeps firing the same configs (a slot is unique per config
//! and instant, so the second insert is a no-op). When a member dies, its
//! share is nobody's until its registration expires; the survivors then
//! take it over and handle what it missed per `schedule.misfirePolicy`,
//! from the stored positions (the scheduler does that on a change of the
//! set). SQLite has one process, which is always the whole set.

use std::sync::Arc;

use jiff::SignedDuration;
use tokio_util::sync::CancellationToken;

use crate::{EngineError, Shared};

/// The live set as this instance last read it, in id order.
pub(crate) type Members = Arc<[String]>;

/// The member that fires `key`'s slots; `None` for an empty set.
pub(crate) fn owner<'a>(members: &'a [String], key: &str) -> Option<&'a str> {
    members
        .iter()
        .max_by_key(|m| (weight(m, key), m.as_str()))
        .map(String::as_str)
}

/// A hash of `(member, key)` that every build computes alike (std's
/// hashers make no such promise across releases, and two instances of
/// different builds must agree on owners): FNV-1a over both, with a
/// separator, then a SplitMix64 finaliser so that ids differing in one
/// character still spread.
fn weight(member: &str, key: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let bytes = member.bytes().chain([0xff]).chain(key.bytes());
    let mut h = bytes.fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Registers (or renews) this instance and reads the live set; wakes the
/// scheduler when the set changed. Called at start-up, before the
/// scheduler loads, so that it knows its share, then every heartbeat.
/// Fails when the store cannot be reached.
pub(crate) async fn heartbeat(shared: &Shared) -> Result<(), EngineError> {
    let now = shared.clock.now();
    let lease = SignedDuration::try_from(shared.settings.lease).unwrap_or(SignedDuration::MAX);
    let until = now.saturating_add(lease).unwrap_or(now);
    let live = shared
        .store
        .instance_heartbeat(&shared.owner, now, until)
        .await?;
    let mut members = shared.members.lock();
    if **members == *live {
        return Ok(());
    }
    tracing::info!(
        instances = live.len(),
        "the live instances changed; slots are divided among them"
    );
    *members = live.into();
    drop(members);
    shared.scheduler_wake.notify_one();
    Ok(())
}

/// Renews the registration every `heartbeat` until shutdown, then leaves
/// the set so the others take this instance's share over at once. A
/// failed renewal keeps the last view: this instance goes on firing its
/// share (the others may take it over meanwhile; slots are unique).
pub(crate) async fn run(shared: Arc<Shared>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(shared.settings.heartbeat) => {}
        }
        if let Err(e) = heartbeat(&shared).await {
            tracing::warn!(error = %e, "cannot renew this instance's registration");
        }
    }
    if let Err(e) = shared.store.instance_leave(&shared.owner).await {
        tracing::warn!(error = %e, "cannot leave the live instances");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    fn keys() -> impl Iterator<Item = String> {
        (0..3_000).map(|i| format!("job-{i}"))
    }

    #[test]
    fn every_key_has_one_owner_and_shares_are_even() {
        let members = set(&["grove-a", "grove-b", "grove-c"]);
        let mut shares = [0usize; 3];
        for key in keys() {
            let o = owner(&members, &key).expect("an owner");
            shares[members.iter().position(|m| m == o).expect("a member")] += 1;
        }
        // 1,000 each on average; rendezvous hashing is within a few
        // percent at this size.
        for n in shares {
            assert!((850..=1_150).contains(&n), "{shares:?}");
        }
        assert_eq!(owner(&[], "job-1"), None);
        assert_eq!(owner(&set(&["solo"]), "job-1"), Some("solo"));
    }

    #[test]
    fn only_the_configs_of_a_member_that_comes_or_goes_change_hands() {
        let three = set(&["grove-a", "grove-b", "grove-c"]);
        let two = set(&["grove-a", "grove-c"]);
        let mut moved = 0;
        for key in keys() {
            let before = owner(&three, &key).expect("owner");
            let after = owner(&two, &key).expect("owner");
            if before == "grove-b" {
                moved += 1;
                assert_ne!(after, "grove-b");
            } else {
                // Survivors keep their share; a newcomer (b, read the
                // other way) takes only from the others.
                assert_eq!(before, after, "{key}");
            }
        }
        assert!(moved > 0);
    }

    #[test]
    fn the_weight_is_the_same_in_every_build() {
        // Instances of different builds must agree on owners: the value is
        // pinned (computed independently from the FNV-1a and SplitMix64
        // definitions), and the separator keeps (a1, b) apart from (a, 1b).
        assert_eq!(weight("grove-a", "job-1"), 0x1a20_26ea_f2cf_2977);
        assert_ne!(weight("grove-a", "job-1"), weight("grove-b", "job-1"));
        assert_ne!(weight("grove-a", "job-1"), weight("grove-a-", "job1"));
    }
}
