//! grove-core's one integration-test binary.

mod decode_fuzz;
mod outbound;
mod query;
mod render;
mod retry;
mod schedule;
mod validation;
