//! An object's version as its entity tag, in API responses and console
//! forms alike. (Its body is [`crate::wire::object::GroveObject`].)

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
