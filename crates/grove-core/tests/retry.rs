//! The retry delay schedule.

use grove_core::retry::{BackoffStrategy, RetryPolicy};
use proptest::prelude::*;

fn policy(strategy: BackoffStrategy, max_attempts: u32, initial: u64, max: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        backoff_strategy: strategy,
        initial_delay_seconds: initial,
        max_delay_seconds: max,
    }
}

#[test]
fn exponential_doubles_up_to_the_cap() {
    let p = policy(BackoffStrategy::Exponential, 6, 60, 900);
    let delays: Vec<Option<u64>> = (1..=6).map(|n| p.delay_after(n)).collect();
    assert_eq!(
        delays,
        [Some(60), Some(120), Some(240), Some(480), Some(900), None]
    );
}

#[test]
fn fixed_waits_the_initial_delay_and_max_attempts_counts_the_first() {
    let p = policy(BackoffStrategy::Fixed, 3, 30, 900);
    assert_eq!(
        (1..=3).map(|n| p.delay_after(n)).collect::<Vec<_>>(),
        [Some(30), Some(30), None]
    );
    assert_eq!(
        policy(BackoffStrategy::Fixed, 1, 30, 900).delay_after(1),
        None
    );
}

proptest! {
    #[test]
    fn delays_stay_within_bounds(initial in 0u64..10_000, extra in 0u64..100_000, attempts in 1u32..200, n in 1u32..300) {
        let p = policy(BackoffStrategy::Exponential, attempts, initial, initial + extra);
        match p.delay_after(n) {
            Some(d) => {
                prop_assert!(n < attempts);
                prop_assert!(d >= initial && d <= initial + extra);
            }
            None => prop_assert!(n >= attempts),
        }
    }
}
