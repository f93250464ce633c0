//! grove-web's one integration-test binary: the API through `router(state)`,
//! in process, on real SQLite files.

mod access;
mod browser;
mod calendars;
mod common;
mod console;
mod console_schedules;
mod contract;
mod executions;
mod grove;
mod journal;
mod limits;
mod objects;
mod operations;
mod schedule;
