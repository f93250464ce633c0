//! Tests every adapter must pass, written once against `Arc<dyn Store>`.
//!
//! Each file defines its tests as plain async functions taking a fresh
//! store, plus a `*_suite!` macro that instantiates them for a backend's
//! factory; `sqlite.rs` and `postgres.rs` invoke every macro. A factory
//! returns the store, or `Option` of it where a backend may be unavailable
//! (`None` skips the test; see `postgres.rs`).

pub mod objects;
pub mod tokens;

use std::sync::Arc;

use grove_store::Store;
use jiff::Timestamp;

/// What the `*_suite!` macros call on a factory's result: `Arc<dyn Store>`
/// runs the test, `Option<Arc<dyn Store>>` runs it or skips it on `None`.
pub fn ready(fresh: impl Into<Option<Arc<dyn Store>>>) -> Option<Arc<dyn Store>> {
    fresh.into()
}

pub fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}
