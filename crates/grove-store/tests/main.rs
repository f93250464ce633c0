//! The store's one integration-test binary: the conformance suite, run
//! against every adapter. Each test gets a fresh database (an SQLite file,
//! a PostgreSQL schema).

mod conformance;
mod drift;
mod postgres;
mod sqlite;
