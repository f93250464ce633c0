//! What the API and the console both show, so neither imports the other.
//!
//! - [`object`]: an object's entity tag, `If-Match`.
//! - [`execution`]: an execution as the render tree and the console see
//!   it, found with its log and the configuration to show it with.

pub mod execution;
pub mod object;

pub use object::{IfMatch, etag, parse_if_match};
