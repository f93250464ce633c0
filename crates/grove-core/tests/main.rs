//! grove-core integration tests (one binary for the crate).

mod schedule;
