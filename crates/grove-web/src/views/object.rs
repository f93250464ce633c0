//! An object's version as its entity tag, in API responses and console
//! forms alike. (Its body is [`crate::wire::object::GroveObject`].)

/// `"<version>"`, the entity tag of an object.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// What an `If-Match` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any version.
    Any,
    /// `"3"` (or a bare `3`): exactly this version.
    Version(i64),
    /// Only weak tags (`W/"3"`): RFC 9110 §13.1.1 compares strongly, so a
    /// weak tag never matches and the request fails its precondition (412).
    Weak,
}

/// Reads an `If-Match` header; `None` when it is no entity tag this server
/// hands out.
pub fn parse_if_match(value: &str) -> Option<IfMatch> {
    let v = value.trim();
    if v == "*" {
        return Some(IfMatch::Any);
    }
    if let Some(weak) = v.strip_prefix("W/") {
        return weak
            .trim_matches('"')
            .parse::<i64>()
            .is_ok()
            .then_some(IfMatch::Weak);
    }
    v.trim_matches('"')
        .parse::<i64>()
        .ok()
        .map(IfMatch::Version)
}
