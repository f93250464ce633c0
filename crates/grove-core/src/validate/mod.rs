//! Validation that reports every problem at once, each at a JSON pointer with
//! a sentence an operator understands.
//!
//! Decoding and validation are one pass over the JSON value (serde stops at the
//! first error and cannot name unknown fields by pointer), producing typed
//! values when the input is good and a list of [`Problem`]s when it is not.

mod checker;

pub use checker::{Checker, Choice, Obj, is_bidi_control, is_visible};

use serde::{Deserialize, Serialize};

/// One thing wrong with an input, at a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl Problem {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `base` + `/` + escaped `token`.
pub fn child_pointer(base: &str, token: &str) -> String {
    format!("{base}/{}", escape_token(token))
}
