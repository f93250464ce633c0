//! The Grove object envelope: `{meta, payload}`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who and what an object is; written by the server, never trusted from clients
/// except `id` (on create), `title`, `description` and `tags`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub id: String,
    #[serde(rename = "type")]
    pub object_type: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// +1 on every operator-visible save.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// `GroveObject<P> = { meta, payload }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroveObject<P = Value> {
    pub meta: ObjectMeta,
    pub payload: P,
}

/// The editable part of `meta`, as a client sent it and validation accepted it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetaInput {
    pub id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// Longest id accepted; ids appear in URLs and log lines.
pub const MAX_ID_LEN: usize = 128;

/// Ids are URL-safe: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
