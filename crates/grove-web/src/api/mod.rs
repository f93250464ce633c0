//! The JSON API under `/api/v1`.

pub mod audit;
pub mod executions;
pub mod grove;
pub mod journal;
pub mod meta;
pub mod objects;
pub mod prometheus;
pub mod render;
pub mod schedule;
pub mod tokens;
