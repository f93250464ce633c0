//! JSON merge patch (RFC 7396).

use serde_json::Value;

/// Applies `patch` to `target` in place: objects merge key by key, `null`
/// removes a key, anything else replaces.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                apply(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}
