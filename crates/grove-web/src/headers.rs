//! Security headers, and the Origin check of console form posts.
//!
//! Console pages carry a strict Content-Security-Policy (our own script and
//! stylesheet only, no framing, forms post only here), `nosniff`, a
//! same-origin referrer policy and `Cache-Control: no-store` (pages show
//! what a signed-in operator may see; the stylesheet and script set their
//! own caching). Every response carries `nosniff`.
//!
//! A console post whose `Origin` (or, without one, `Referer`) names another
//! site is refused with 403 before any handler runs: with login included,
//! this stops cross-site request forgery and login CSRF. A post with
//! neither header (not a browser) is let through; its session cookie is
//! SameSite=Strict and every form carries a CSRF token as well.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::console::session::refusal;

/// The console's Content-Security-Policy.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// `X-Content-Type-Options: nosniff` on every response.
pub async fn nosniff(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Console responses: refuses cross-site posts, adds the security headers.
pub async fn console(request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !same_origin(request.headers()) {
        tracing::warn!(
            path = request.uri().path(),
            "refused a console post from another site"
        );
        let mut response = refusal(
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was sent from another site, so nothing was done. Open the console directly and try again.",
        );
        add_console_headers(response.headers_mut());
        return response;
    }
    let mut response = next.run(request).await;
    add_console_headers(response.headers_mut());
    response
}

fn add_console_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONSOLE_CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Whether the post's `Origin` (else `Referer`) is this server, as the
/// request's `Host` names it. Neither header: not a browser, allowed.
fn same_origin(headers: &HeaderMap) -> bool {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    let Some(claimed) = claimed else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some(url) = claimed.to_str().ok().and_then(|c| url::Url::parse(c).ok()) else {
        // "null" (a sandboxed or privacy-preserving origin) or garbage.
        return false;
    };
    let Some(claimed_host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(port) => format!("{claimed_host}:{port}"),
        None => claimed_host.to_owned(),
    };
    matches!(url.scheme(), "http" | "https") && authority.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_this_server_is_the_same_origin() {
        let host = (header::HOST, "127.0.0.1:8080");
        assert!(same_origin(&headers(std::slice::from_ref(&host))));
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (
                header::REFERER,
                "http://127.0.0.1:8080/console/login?next=/console"
            )
        ])));
        for foreign in [
            "http://evil.example",
            "http://127.0.0.1:9090",
            "null",
            "file:///x",
        ] {
            assert!(
                !same_origin(&headers(&[host.clone(), (header::ORIGIN, foreign)])),
                "{foreign}"
            );
        }
        // The Origin wins over a Referer that would pass.
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example"),
            (header::REFERER, "http://127.0.0.1:8080/console"),
        ])));
        // Default ports are left out of Host by browsers.
        assert!(same_origin(&headers(&[
            (header::HOST, "grove.example"),
            (header::ORIGIN, "https://grove.example")
        ])));
    }
}
