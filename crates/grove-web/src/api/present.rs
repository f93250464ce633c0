//! How objects look in API responses: `{meta, payload, derived?}`.

use grove_core::job_config::JobConfigPayload;
use grove_core::registry::JOB_CONFIG;
use grove_store::StoredObject;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The response body of one object; job configs get `derived`.
pub fn present(obj: &StoredObject, now: Timestamp) -> Value {
    let mut body = json!({ "meta": obj.meta, "payload": obj.payload });
    if obj.meta.object_type == JOB_CONFIG
        && let Ok(payload) = serde_json::from_value::<JobConfigPayload>(obj.payload.clone())
    {
        body["derived"] = json!(payload.derived(now));
    }
    body
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
