//! Use-case tests of grove-app, each over a fresh SQLite store and a test
//! clock. One integration-test binary for the crate.

mod apply;
mod objects;
mod runs;
mod support;
mod tokens;
