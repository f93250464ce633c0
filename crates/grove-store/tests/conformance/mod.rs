//! Tests every adapter must pass, written once against `Arc<dyn Store>`.
//!
//! Each file defines its tests as plain async functions taking a fresh
//! store, plus a `*_suite!` macro that instantiates them for a backend's
//! factory; `sqlite.rs` and `postgres.rs` invoke every macro.

pub mod grove_data;
pub mod objects;
pub mod tokens;

use jiff::Timestamp;

pub fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}
