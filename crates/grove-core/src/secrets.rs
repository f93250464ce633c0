//! Secrets inside payloads, as viewers are shown them.
//!
//! A webhook URL is a credential (whoever knows it can post), and so is an
//! endpoint URL that carries a user name, a password or a query string
//! (tokens often travel there). Viewers see such URLs cut down to their
//! scheme and host: `https://hooks.example/…`. Operators and admins, who
//! can edit them, see them whole.

use serde_json::Value;
use url::Url;

/// What a redacted URL ends with.
pub const ELIDED: &str = "…";

/// Redacts every secret URL in `value`, at any depth.
pub fn redact(value: &mut Value) {
    redact_under(value, false);
}

/// `secret_key`: the value sits under a key that names a webhook.
fn redact_under(value: &mut Value, secret_key: bool) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                redact_under(
                    v,
                    secret_key || key.to_ascii_lowercase().contains("webhook"),
                );
            }
        }
        Value::Array(items) => {
            for v in items {
                redact_under(v, secret_key);
            }
        }
        Value::String(text) => {
            if let Some(short) = redacted_url(text, secret_key) {
                *text = short;
            }
        }
        _ => {}
    }
}

/// The redacted form of `text` if it is a URL that must not be shown whole.
fn redacted_url(text: &str, always: bool) -> Option<String> {
    let url = Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let carries_secret = !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some();
    if !(always || carries_secret) {
        return None;
    }
    let host = url.host_str().unwrap_or("");
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}/{ELIDED}", url.scheme()),
        None => format!("{}://{host}/{ELIDED}", url.scheme()),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn webhooks_and_urls_with_credentials_are_cut_to_their_host() {
        let mut payload = json!({
            "parameters": {
                "webhookUrl": "https://hooks.example/T000/B000/XXXX",
                "endpoints": [
                    {"url": "https://user:pw@rag.internal:8443/health"},
                    {"url": "http://rag.internal/health?token=abc"},
                    {"url": "http://rag.internal/health"}
                ],
                "channels": ["log", "webhook"]
            },
            "notifications": {"webhookUrl": "http://10.0.0.1:9000/hook"},
            "displayName": "Not a URL"
        });
        redact(&mut payload);
        assert_eq!(
            payload,
            json!({
                "parameters": {
                    "webhookUrl": "https://hooks.example/…",
                    "endpoints": [
                        {"url": "https://rag.internal:8443/…"},
                        {"url": "http://rag.internal/…"},
                        {"url": "http://rag.internal/health"}
                    ],
                    "channels": ["log", "webhook"]
                },
                "notifications": {"webhookUrl": "http://10.0.0.1:9000/…"},
                "displayName": "Not a URL"
            })
        );
    }
}
