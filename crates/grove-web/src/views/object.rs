//! How objects look in API responses and console pages: `{meta, payload,
//! derived?}`, with the version as the entity tag.

use grove_store::StoredObject;
use jiff::Timestamp;
use serde_json::Value;

/// The body of one object; job configs get `derived`. The same document
/// list queries filter and sort on.
pub fn present(obj: &StoredObject, now: Timestamp) -> Value {
    grove_app::objects::document(obj, now)
}

/// `"<version>"`, the entity tag of an object.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`); `*` means any.
pub fn parse_if_match(value: &str) -> Option<Option<i64>> {
    let v = value.trim();
    if v == "*" {
        return Some(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    v.parse::<i64>().ok().map(Some)
}
