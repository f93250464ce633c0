//! Admin pages: `/console/tokens` (list, create — the secret shown once —
//! and revoke API tokens) and `/console/audit` (the audit trail with
//! filters). Both write and read through the same use cases as the API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use grove_app::AuditAction;
use grove_core::validate::Choice;
use grove_store::Role;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use serde::Deserialize;

use super::form::{FormData, csrf_input};
use super::layout::{self, Icon, Nav, short};
use super::session::{ConsoleUser, refusal};
use crate::api::audit::{AuditQuery, audit_filter};
use crate::error::ApiError;
use crate::state::AppState;

/// Refuses anyone but admins (403 page).
fn require_admin(user: &ConsoleUser) -> Result<(), Response> {
    if user.actor.role >= Role::Admin {
        Ok(())
    } else {
        Err(refusal(
            StatusCode::FORBIDDEN,
            "Admins only",
            &format!(
                "You are signed in as \"{}\" with the {} role: tokens and the audit trail need the admin role.",
                user.actor.name,
                user.actor.role.name()
            ),
        ))
    }
}

fn storage_error(e: impl std::fmt::Display) -> Response {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "Storage unavailable",
        &e.to_string(),
    )
}

#[derive(Debug, Deserialize)]
pub struct TokensQuery {
    notice: Option<String>,
}

/// `GET /console/tokens`
pub async fn tokens_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<TokensQuery>,
) -> Response {
    if let Err(r) = require_admin(&user) {
        return r;
    }
    let notice = match q.notice.as_deref() {
        Some("revoked") => {
            Some("Revoked. The token no longer works, and its console sessions have ended.")
        }
        _ => None,
    };
    tokens_view(&state, &user, None, notice, None).await
}

/// The tokens page; `created`: a new token's name and secret, shown once.
async fn tokens_view(
    state: &AppState,
    user: &ConsoleUser,
    created: Option<(&str, &str)>,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let tokens = match state.app.tokens().await {
        Ok(t) => t,
        Err(e) => return storage_error(e),
    };
    let tz = TimeZone::UTC;
    let body = html! {
        h1 { "API tokens" }
        p class="subtitle" { "Tokens authenticate the API (" code { "Authorization: Bearer …" } ") and console sign-ins. Viewers look, operators edit and run, admins also manage tokens and read the audit trail. Secrets are stored only as hashes." }
        p { a href="/console/audit" { (Icon::History.svg()) " Audit trail" } }
        @if let Some((name, secret)) = created {
            div class="notice" role="status" {
                (Icon::Check.svg())
                p { "Created \"" (name) "\". Copy its secret now: it is shown this once. " code class="secret" { (secret) } }
            }
        }
        @if let Some(n) = notice {
            div class="notice" role="status" { (Icon::Check.svg()) p { (n) } }
        }
        @if let Some(e) = error {
            div class="notice status--error" role="alert" { (Icon::Error.svg()) p { (e) } }
        }
        div class="table-scroll" role="region" aria-label="API tokens" tabindex="0" {
            table class="history" {
                thead { tr { th { "Name" } th { "Role" } th { "Id" } th { "Created" } th { "Last used" } th { span class="sr-only" { "Actions" } } } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td { (t.name) }
                            td { (t.role.name()) }
                            td { code { (t.id) } }
                            td { (short(t.created_at, &tz)) }
                            td { @if let Some(u) = t.last_used_at { (short(u, &tz)) } @else { "never" } }
                            td class="actions" {
                                form method="post" action={ "/console/tokens/" (t.id) "/revoke" } {
                                    (csrf_input(&user.csrf))
                                    button type="submit" class="btn btn-small btn-danger" aria-label={ "Revoke " (t.name) } { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 class="spaced" { "Create a token" }
        form class="panel narrow" method="post" action="/console/tokens" {
            div class="panel-body padded" {
                (csrf_input(&user.csrf))
                label for="token-name" { "Name" }
                input id="token-name" name="name" required maxlength="100" placeholder="ci-deploy";
                label for="token-role" { "Role" }
                select id="token-role" name="role" {
                    @for r in Role::ALL { option value=(r.name()) selected[*r == Role::Viewer] { (r.name()) } }
                }
                p { button type="submit" class="btn-primary" { "Create token" } }
            }
        }
    };
    layout::page("API tokens", user, Nav::Admin, "", body).into_response()
}

/// `POST /console/tokens`
pub async fn create_token(
    State(state): State<AppState>,
    user: ConsoleUser,
    form: FormData,
) -> Response {
    if let Err(r) = user.check_csrf(&form).and_then(|()| require_admin(&user)) {
        return r;
    }
    let name = form.get("name").unwrap_or("");
    let Some(role) = form.get("role").and_then(Role::from_name) else {
        return tokens_view(&state, &user, None, None, Some("Choose a role.")).await;
    };
    match state
        .app
        .create_token(name, role, &user.actor.caller())
        .await
    {
        Ok(new) => {
            tokens_view(
                &state,
                &user,
                Some((&new.token.name, &new.secret)),
                None,
                None,
            )
            .await
        }
        Err(grove_app::AppError::Validation(problems)) => {
            let message = problems
                .iter()
                .map(|p| format!("Name {}", p.message))
                .collect::<Vec<_>>()
                .join(" ");
            tokens_view(&state, &user, None, None, Some(&message)).await
        }
        Err(e) => storage_error(e),
    }
}

/// `POST /console/tokens/{id}/revoke`
pub async fn revoke_token(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(r) = user.check_csrf(&form).and_then(|()| require_admin(&user)) {
        return r;
    }
    match state.app.revoke_token(&id, &user.actor.caller()).await {
        // Revoking one's own token ends this session too: the next page
        // asks to sign in again.
        Ok(_) => Redirect::to("/console/tokens?notice=revoked").into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            refusal(e.status(), "Not revoked", &e.to_string())
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPageQuery {
    actor: Option<String>,
    object_id: Option<String>,
    action: Option<String>,
    cursor: Option<String>,
}

/// `GET /console/audit?actor=&objectId=&action=&cursor=`
pub async fn audit_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<AuditPageQuery>,
) -> Response {
    if let Err(r) = require_admin(&user) {
        return r;
    }
    let query = AuditQuery::new(
        q.actor.clone(),
        q.object_id.clone(),
        q.action.clone(),
        q.cursor.clone(),
    );
    let filter = match audit_filter(query) {
        Ok(f) => f,
        Err(e) => return refusal(e.status(), "Bad filter", &e.to_string()),
    };
    let limit = filter.limit as usize;
    let records = match state.app.audit_trail(filter).await {
        Ok(r) => r,
        Err(e) => return storage_error(e),
    };
    let older = (records.len() == limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let tz = TimeZone::UTC;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        h1 { "Audit trail" }
        p class="subtitle" { "Every change and every sign-in, newest first. Times in UTC." }
        form class="filters" method="get" action="/console/audit" {
            label { "Actor " input name="actor" value=(value(&q.actor)); }
            label { "Object " input name="objectId" value=(value(&q.object_id)); }
            label { "Action "
                select name="action" {
                    option value="" { "any" }
                    @for a in AuditAction::ALL {
                        option value=(a.name()) selected[q.action.as_deref() == Some(a.name())] { (a.name()) }
                    }
                }
            }
            button type="submit" class="btn btn-small" { "Filter" }
        }
        @if records.is_empty() {
            p class="empty" { "Nothing recorded matches." }
        } @else {
            div class="table-scroll" role="region" aria-label="Audit trail" tabindex="0" {
                table class="history" {
                    thead { tr { th { "When" } th { "Actor" } th { "Action" } th { "Object" } th { "Version" } th { "From" } } }
                    tbody {
                        @for r in &records {
                            @let e = &r.entry;
                            tr {
                                td { (short(e.at, &tz)) }
                                td { (e.actor.as_deref().unwrap_or("—")) }
                                td { code { (e.action) } }
                                td { (e.object_type.as_deref().unwrap_or("")) " " (e.object_id.as_deref().unwrap_or("—")) }
                                td { (versions(e.version_before, e.version_after)) }
                                td { (e.client_addr.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
            @if let Some(seq) = older {
                p { a class="btn btn-small" href=(older_link(&q, seq)) { "Older entries" } }
            }
        }
    };
    layout::page("Audit trail", &user, Nav::Admin, "", body).into_response()
}

fn versions(before: Option<i64>, after: Option<i64>) -> Markup {
    html! {
        @match (before, after) {
            (Some(b), Some(a)) => { "v" (b) " → v" (a) }
            (None, Some(a)) => { "→ v" (a) }
            (Some(b), None) => { "v" (b) " →" }
            (None, None) => { "—" }
        }
    }
}

fn older_link(q: &AuditPageQuery, seq: i64) -> String {
    use super::session::url_encode;
    let mut link = format!("/console/audit?cursor={seq}");
    for (key, v) in [
        ("actor", &q.actor),
        ("objectId", &q.object_id),
        ("action", &q.action),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            link.push_str(&format!("&{key}={}", url_encode(v)));
        }
    }
    link
}
