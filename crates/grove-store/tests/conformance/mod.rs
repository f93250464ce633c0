//! Tests every adapter must pass, written once against `Arc<dyn Store>`.
//!
//! Each file defines its tests as plain async functions taking a fresh
//! store, plus a `*_suite!` macro that instantiates them for a backend's
//! factory; `sqlite.rs` and `postgres.rs` invoke every macro. Each test
//! goes through [`run`]: a factory returns the store, or a [`Fresh`] with a
//! teardown, or `Option` of either where a backend may be unavailable
//! (`None` skips the test; see `postgres.rs`).

pub mod concurrency;
pub mod executions;
pub mod grove_data;
pub mod objects;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use grove_store::Store;
use jiff::Timestamp;

/// A store from a backend's factory, and what to run after a test that
/// passed (dropping a PostgreSQL schema); a failed test leaves its data for
/// inspection.
pub struct Fresh {
    pub store: Arc<dyn Store>,
    pub teardown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

/// What a factory may return: a store (`Arc<dyn Store>` or [`Fresh`]), or
/// `Option` of one where a backend may be unavailable (`None` skips).
pub trait IntoFresh {
    fn into_fresh(self) -> Option<Fresh>;
}

impl IntoFresh for Arc<dyn Store> {
    fn into_fresh(self) -> Option<Fresh> {
        Some(Fresh {
            store: self,
            teardown: None,
        })
    }
}

impl IntoFresh for Fresh {
    fn into_fresh(self) -> Option<Fresh> {
        Some(self)
    }
}

impl<T: IntoFresh> IntoFresh for Option<T> {
    fn into_fresh(self) -> Option<Fresh> {
        self.and_then(IntoFresh::into_fresh)
    }
}

/// Runs one conformance test on a factory's store (what every `*_suite!`
/// test does): skips on `None`, tears down after a pass.
pub async fn run<F, Fut>(fresh: impl IntoFresh, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(Fresh { store, teardown }) = fresh.into_fresh() else {
        return;
    };
    test(store).await;
    if let Some(teardown) = teardown {
        teardown.await;
    }
}

pub fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}
