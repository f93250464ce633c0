//! Failed authentications, limited per client address.
//!
//! A client that failed to authenticate `limit` times within a window is
//! refused (429, `Retry-After`) for the rest of that window, whatever it
//! sends: a correct guess among wrong ones gets no answer either.
//! Successful requests never count. Hand-written rather than `governor`:
//! that crate limits every request, and here only failures may count, and
//! the block must hold against valid credentials too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Failures allowed per window before a client is refused.
pub const DEFAULT_LIMIT: u32 = 10;
/// The window failures are counted in.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// Clients remembered before expired windows are forgotten.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct FailureThrottle {
    limit: u32,
    window: Duration,
    /// `None`: a request without a network peer (in-process callers).
    clients: Mutex<HashMap<Option<IpAddr>, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Default for FailureThrottle {
    fn default() -> Self {
        Self::new(DEFAULT_LIMIT, DEFAULT_WINDOW)
    }
}

impl FailureThrottle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// How long the client must wait, if it is refused now.
    pub fn blocked(&self, client: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let clients = self.clients.lock();
        let w = clients.get(&client)?;
        let ends = w.started + self.window;
        (w.failures >= self.limit && now < ends).then(|| ends - now)
    }

    /// Counts a failed authentication of the client.
    pub fn failed(&self, client: Option<IpAddr>) {
        let now = Instant::now();
        let mut clients = self.clients.lock();
        if clients.len() > PRUNE_ABOVE {
            let window = self.window;
            clients.retain(|_, w| now < w.started + window);
        }
        let w = clients.entry(client).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now >= w.started + self.window {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(60));
        let a: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        let b: Option<IpAddr> = Some("192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert!(throttle.blocked(a).is_none());
            throttle.failed(a);
        }
        let wait = throttle.blocked(a).expect("refused");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(58));
        assert!(throttle.blocked(b).is_none());
    }

    #[test]
    fn the_window_ends() {
        let throttle = FailureThrottle::new(1, Duration::from_millis(30));
        throttle.failed(None);
        assert!(throttle.blocked(None).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(throttle.blocked(None).is_none());
    }
}
