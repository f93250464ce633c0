//! The retry delay schedule, as a pure function of the attempt number.

use serde::{Deserialize, Serialize};

crate::choice_enum!(
    /// How the delay between attempts grows (listed to operators in this order).
    BackoffStrategy { Exponential => "exponential", Fixed => "fixed" }
);

/// `retry` of a job config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// All attempts, including the first.
    pub max_attempts: u32,
    pub backoff_strategy: BackoffStrategy,
    pub initial_delay_seconds: u64,
    pub max_delay_seconds: u64,
}

impl RetryPolicy {
    /// Seconds to wait after attempt `attempt` (1-based) failed, before attempt
    /// `attempt + 1`; `None` when `attempt` was the last one allowed.
    ///
    /// fixed → `initialDelaySeconds`; exponential →
    /// `min(maxDelaySeconds, initialDelaySeconds × 2^(attempt-1))`.
    pub fn delay_after(&self, attempt: u32) -> Option<u64> {
        if attempt == 0 || attempt >= self.max_attempts {
            return None;
        }
        Some(match self.backoff_strategy {
            BackoffStrategy::Fixed => self.initial_delay_seconds,
            BackoffStrategy::Exponential => {
                let factor = 1u64.checked_shl(attempt - 1).unwrap_or(u64::MAX);
                self.initial_delay_seconds
                    .saturating_mul(factor)
                    .min(self.max_delay_seconds)
            }
        })
    }
}
