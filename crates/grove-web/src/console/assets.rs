//! The console's stylesheet and script, compiled into the binary and served
//! with long cache lifetimes; their URLs carry a content hash, so a new
//! build never meets a stale cached copy.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The stylesheet as written.
const CSS_FILE: &str = include_str!("../../assets/console.css");

/// Steps per percent of the position and width classes ([`position`]).
const STEPS_PER_PERCENT: f64 = 4.0;
const STEPS: u32 = 400;

/// The stylesheet served: the file, then one class per quarter percent for
/// horizontal positions (`x-N`: `left`) and widths (`w-N`). The console's
/// Content-Security-Policy forbids inline `style` attributes, so a mark on
/// the timeline or a progress bar's fill picks its class instead.
pub static CSS: LazyLock<String> = LazyLock::new(|| {
    let mut css = String::from(CSS_FILE);
    css.push_str("\n/* Positions and widths in quarter percents (generated). */\n");
    for n in 0..=STEPS {
        let percent = f64::from(n) / STEPS_PER_PERCENT;
        css.push_str(&format!(
            ".x-{n}{{left:{percent}%}}.w-{n}{{width:{percent}%}}\n"
        ));
    }
    css
});

/// The class placing an element at `percent` (`"x"`) or giving it that
/// width (`"w"`), clamped to 0–100.
pub fn position(kind: &str, percent: f64) -> String {
    let n = (percent.clamp(0.0, 100.0) * STEPS_PER_PERCENT).round();
    format!("{kind}-{n}")
}
pub const JS: &str = include_str!("../../assets/console.js");

fn short_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

static CSS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/console/assets/console.css?v={}", short_hash(&CSS)));
static JS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/console/assets/console.js?v={}", short_hash(JS)));

pub fn css_url() -> &'static str {
    &CSS_URL
}

pub fn js_url() -> &'static str {
    &JS_URL
}

/// `GET /console/assets/{file}`
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "console.css" => (CSS.as_str(), "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    r
}
