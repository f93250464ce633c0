//! grove-web's one integration-test binary: the API through `router(state)`,
//! in process, on real SQLite files.

mod common;
mod executions;
mod objects;
