//! Console sessions: signing in with an API token opens a session of its
//! own — a random id, stored hashed, that stands for the token — and sets
//! an HttpOnly, SameSite=Strict cookie holding that id (never the token;
//! `Secure` with `--secure-cookies`). The CSRF token every form carries is
//! derived from it (hex SHA-256 of `csrf:` + id). A session ends when it is
//! idle too long, at its absolute end, on logout, or when its token is
//! revoked.
//!
//! Console pages also accept the API's `Authorization: Bearer` header; a
//! browser never sends that header by itself, so such requests need no CSRF
//! token.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::Caller;
use grove_core::validate::Choice;
use grove_store::Role;
use maud::{Markup, html};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::form::FormData;
use super::layout::{self, Icon};
use crate::auth::{
    Actor, authentication_failed, bearer_actor, check_throttle, client_address, session_actor,
};
use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "grove_session";
/// The hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// The CSRF token of a session id (or of the bearer secret of a request
/// that carries one).
pub fn csrf_token(secret: &str) -> String {
    Sha256::digest(format!("csrf:{secret}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed-in console user.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub actor: Actor,
    /// The token forms must carry.
    pub csrf: String,
    /// Authenticated by the `Authorization` header rather than the cookie.
    pub via_header: bool,
}

impl ConsoleUser {
    /// Operators and admins edit and run; viewers look.
    pub fn can_edit(&self) -> bool {
        self.actor.role >= Role::Operator
    }

    /// Refuses a form post without the right CSRF token (403 page).
    pub fn check_csrf(&self, form: &FormData) -> Result<(), Response> {
        if self.via_header || form.get(CSRF_FIELD) == Some(self.csrf.as_str()) {
            Ok(())
        } else {
            Err(refusal(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form did not carry this session's security token, so nothing was changed. \
                 Reload the page and try again.",
            ))
        }
    }

    /// Refuses viewers (403 page).
    pub fn require_operator(&self) -> Result<(), Response> {
        if self.can_edit() {
            Ok(())
        } else {
            Err(refusal(
                StatusCode::FORBIDDEN,
                "Operators only",
                &format!(
                    "You are signed in as \"{}\" with the {} role: you can look, but editing and running jobs needs the operator role.",
                    self.actor.name,
                    self.actor.role.name()
                ),
            ))
        }
    }

    /// Both checks every mutating form post makes.
    pub fn authorize_post(&self, form: &FormData) -> Result<(), Response> {
        self.check_csrf(form)?;
        self.require_operator()
    }
}

/// The session id the request's cookie carries.
pub fn cookie_session(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

fn login_redirect(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/console");
    let target = format!("/console/login?next={}", url_encode(next));
    Redirect::to(&target).into_response()
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let address = client_address(&parts.extensions);
        if let Some(header) = parts.headers.get(header::AUTHORIZATION) {
            let secret = header.to_str().unwrap_or_default().to_owned();
            return match bearer_actor(state, &parts.headers, address).await {
                Ok(Some(actor)) => Ok(Self {
                    actor,
                    csrf: csrf_token(&secret),
                    via_header: true,
                }),
                Err(ApiError::TooManyAttempts { retry_after }) => Err(too_many(retry_after)),
                Ok(None) | Err(_) => Err(refusal(
                    StatusCode::UNAUTHORIZED,
                    "Not signed in",
                    "The Authorization header does not carry a valid token.",
                )),
            };
        }
        let Some(id) = cookie_session(&parts.headers) else {
            return Err(login_redirect(parts));
        };
        match session_actor(state, &parts.headers, address).await {
            Ok(Some(actor)) => Ok(Self {
                actor,
                csrf: csrf_token(&id),
                via_header: false,
            }),
            Ok(None) => {
                let mut r = login_redirect(parts);
                r.headers_mut()
                    .insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
                Err(r)
            }
            Err(e) => Err(refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "Storage unavailable",
                &e.to_string(),
            )),
        }
    }
}

/// The page of a client refused for failing to sign in too often.
fn too_many(retry_after: u64) -> Response {
    let mut r = refusal(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!(
            "Too many failed sign-ins came from your address. Try again in {retry_after} seconds."
        ),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

const CLEAR_COOKIE: &str = "grove_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";

/// A small full page for refusals and errors.
pub fn refusal(status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        main class="login" {
            h1 { (Icon::Error.svg()) (title) }
            p { (message) }
            p { a class="btn" href="/console" { "Back to the console" } }
        }
    };
    (status, layout::bare(title, body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    error: Option<String>,
}

/// Only local console paths are followed after login: visible ASCII only
/// (no control characters, no spaces), under `/console`, never a
/// protocol-relative or backslashed path that would leave the site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/console")
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

fn login_form(next: &str, error: Option<&str>) -> Markup {
    html! {
        main class="login" {
            h1 { span class="brand-icon" { (Icon::Hourglass.svg()) } "grove-jobs console" }
            p class="subtitle" { "Sign in with an API token. Create one with " code { "grove-jobs token create --role operator" } "." }
            @if let Some(e) = error {
                div class="notice status--error" role="alert" { (Icon::Error.svg()) p { (e) } }
            }
            form method="post" action="/console/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { "API token" }
                input id="token" type="password" name="token" autocomplete="current-password" required autofocus placeholder="gj_…";
                button type="submit" class="btn-primary" { "Sign in" }
            }
        }
    }
}

/// `GET /console/login`
pub async fn login_page(Query(q): Query<LoginQuery>) -> Markup {
    let error = q
        .error
        .is_some()
        .then_some("That token is not valid. Check it and try again.");
    layout::bare("Sign in", login_form(&safe_next(q.next.as_deref()), error))
}

/// `POST /console/login`: checks the token, opens a session, sets its
/// cookie. Failures are throttled per client address and logged.
pub async fn login(State(state): State<AppState>, parts: Parts, form: FormData) -> Response {
    let next = safe_next(form.get("next"));
    let address = client_address(&parts.extensions);
    if let Err(ApiError::TooManyAttempts { retry_after }) = check_throttle(&state, address) {
        return too_many(retry_after);
    }
    let secret = form.get("token").unwrap_or("").trim().to_owned();
    let by = Caller {
        address: address.map(|a| a.to_string()),
        ..Caller::default()
    };
    let session = if secret.is_empty() {
        None
    } else {
        match state
            .app
            .open_session(&secret, state.settings.sessions, &by)
            .await
        {
            Ok(session) => session,
            Err(e) => {
                return refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Storage unavailable",
                    &e.to_string(),
                );
            }
        }
    };
    let Some(session) = session else {
        authentication_failed(
            &state,
            address,
            "a console sign-in with an unknown or revoked token",
        );
        return (
            StatusCode::UNAUTHORIZED,
            layout::bare(
                "Sign in",
                login_form(
                    &next,
                    Some("That token is not valid. Check it and try again."),
                ),
            ),
        )
            .into_response();
    };
    let lifetime = state.settings.sessions.lifetime.as_secs().max(0);
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={lifetime}{secure}",
        session.id
    );
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /console/logout`: ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    parts: Parts,
    user: ConsoleUser,
    form: FormData,
) -> Response {
    if let Err(r) = user.check_csrf(&form) {
        return r;
    }
    if let Some(id) = cookie_session(&parts.headers)
        && let Err(e) = state.app.close_session(&id, &user.actor.caller()).await
    {
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "Storage unavailable",
            &e.to_string(),
        );
    }
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    r
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A failed use case as a console page, with the API's status and words.
pub(crate) fn api_error(e: impl Into<crate::error::ApiError>) -> Response {
    let e = e.into();
    refusal(e.status(), "Something went wrong", &e.to_string())
}
