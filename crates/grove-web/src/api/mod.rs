//! The JSON API under `/api/v1`.

pub mod executions;
pub mod meta;
pub mod objects;
pub mod present;
