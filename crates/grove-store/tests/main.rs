//! The store's one integration-test binary: the conformance suite, run
//! against every adapter. Each test gets a fresh database.

mod conformance;
mod sqlite;
