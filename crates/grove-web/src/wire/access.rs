//! API tokens and the audit trail.

use grove_core::validate::Choice;
use grove_store::{ApiToken, AuditRecord};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A token as admins see it: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenOut {
    #[schema(example = "3f9c0a1b2c3d4e5f")]
    pub id: String,
    #[schema(example = "ci-deploy")]
    pub name: String,
    /// viewer, operator or admin
    #[schema(example = "operator")]
    pub role: &'static str,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// When a request last authenticated with it (to the minute).
    #[schema(value_type = Option<String>, required = true)]
    pub last_used_at: Option<Timestamp>,
}

impl From<&ApiToken> for TokenOut {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.name(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// `GET /api/v1/tokens`: the tokens not revoked, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenOut>,
}

/// `POST /api/v1/tokens`: the new token and its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenCreated {
    #[serde(flatten)]
    pub token: TokenOut,
    /// The secret: send it as `Authorization: Bearer <secret>`. It is not
    /// stored and cannot be shown again.
    #[schema(example = "gj_3f9c…")]
    pub secret: String,
}

/// `POST /api/v1/tokens`
#[derive(Debug, Clone, PartialEq, serde::Deserialize, ToSchema)]
pub struct TokenRequest {
    #[schema(example = "ci-deploy")]
    pub name: String,
    /// viewer, operator or admin
    #[schema(example = "operator")]
    pub role: String,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryOut {
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The token's name; null for a failed sign-in.
    #[schema(required = true)]
    pub actor: Option<String>,
    #[schema(required = true)]
    pub token_id: Option<String>,
    /// The client's network address.
    #[schema(required = true)]
    pub client_address: Option<String>,
    /// create, update, delete, restore, duplicate, run, retry, cancel,
    /// backfill, token.create, token.revoke, login, login.failed, logout
    #[schema(example = "update")]
    pub action: String,
    /// job-config, advancement-rule, execution or token
    #[schema(required = true)]
    pub object_type: Option<String>,
    #[schema(required = true)]
    pub object_id: Option<String>,
    #[schema(required = true)]
    pub version_before: Option<i64>,
    #[schema(required = true)]
    pub version_after: Option<i64>,
}

impl From<&AuditRecord> for AuditEntryOut {
    fn from(r: &AuditRecord) -> Self {
        let e = &r.entry;
        Self {
            at: e.at,
            actor: e.actor.clone(),
            token_id: e.token_id.clone(),
            client_address: e.client_addr.clone(),
            action: e.action.clone(),
            object_type: e.object_type.clone(),
            object_id: e.object_id.clone(),
            version_before: e.version_before,
            version_after: e.version_after,
        }
    }
}

/// `GET /api/v1/audit`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub items: Vec<AuditEntryOut>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
