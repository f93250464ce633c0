//! What an archived row looks like: one JSON document per row, the same on
//! every backend (camelCase keys, instants as unix milliseconds), built and
//! read here in Rust, so an archive made on one backend restores on
//! another. Executions carry their attempts and log lines.
//!
//! Archives written before this format existed are still read: PostgreSQL
//! once stored executions under their column names (`config_id`, …) and
//! SQLite stored `dryRun` as 0/1; the aliases and [`flag`] accept both.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{Row, RowExt};
use crate::StoreError;
use crate::error::Corrupt;

/// A boolean written as `true`/`false` or as SQLite's 0/1.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(n) => n != 0,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SproutDoc {
    pub id: String,
    pub title: String,
    pub tier: String,
    #[serde(alias = "parent_id")]
    pub parent_id: Option<String>,
    #[serde(alias = "created_at")]
    pub created_at: i64,
    #[serde(alias = "updated_at")]
    pub updated_at: i64,
}

impl SproutDoc {
    pub fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.get("id")?,
            title: row.get("title")?,
            tier: row.get("tier")?,
            parent_id: row.get("parent_id")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignalDoc {
    pub id: String,
    #[serde(alias = "sprout_id")]
    pub sprout_id: String,
    pub kind: String,
    pub at: i64,
    pub value: Option<f64>,
    #[serde(alias = "received_at")]
    pub received_at: i64,
}

impl SignalDoc {
    pub fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.get("id")?,
            sprout_id: row.get("sprout_id")?,
            kind: row.get("kind")?,
            at: row.get("at")?,
            value: row.get("value")?,
            received_at: row.get("received_at")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdvancementEventDoc {
    pub id: String,
    #[serde(alias = "sprout_id")]
    pub sprout_id: String,
    #[serde(alias = "from_tier")]
    pub from_tier: String,
    #[serde(alias = "to_tier")]
    pub to_tier: String,
    #[serde(alias = "rule_id")]
    pub rule_id: String,
    #[serde(alias = "run_id")]
    pub run_id: String,
    pub signals: Value,
    pub at: i64,
    #[serde(alias = "dry_run", deserialize_with = "flag")]
    pub dry_run: bool,
}

impl AdvancementEventDoc {
    pub fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.get("id")?,
            sprout_id: row.get("sprout_id")?,
            from_tier: row.get("from_tier")?,
            to_tier: row.get("to_tier")?,
            rule_id: row.get("rule_id")?,
            run_id: row.get("run_id")?,
            signals: row.get("signals")?,
            at: row.get("at")?,
            dry_run: row.get("dry_run")?,
        })
    }
}

/// An execution with everything that is deleted with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecutionDoc {
    pub id: String,
    #[serde(alias = "config_id")]
    pub config_id: String,
    pub trigger: String,
    pub status: String,
    pub reason: Option<String>,
    #[serde(deserialize_with = "flag")]
    pub late: bool,
    #[serde(alias = "scheduled_for")]
    pub scheduled_for: Option<i64>,
    /// Absent in archives made before jitter existed.
    #[serde(default, alias = "due_at")]
    pub due_at: Option<i64>,
    #[serde(alias = "created_at")]
    pub created_at: i64,
    #[serde(alias = "started_at")]
    pub started_at: Option<i64>,
    #[serde(alias = "completed_at")]
    pub completed_at: Option<i64>,
    #[serde(alias = "available_at")]
    pub available_at: i64,
    #[serde(alias = "attempt_count")]
    pub attempt_count: i64,
    #[serde(alias = "max_concurrent")]
    pub max_concurrent: i64,
    #[serde(alias = "config_version")]
    pub config_version: i64,
    pub payload: Value,
    pub retry: Value,
    #[serde(alias = "items_processed")]
    pub items_processed: i64,
    #[serde(alias = "items_total")]
    pub items_total: Option<i64>,
    #[serde(alias = "items_succeeded")]
    pub items_succeeded: i64,
    #[serde(alias = "items_failed")]
    pub items_failed: i64,
    pub error: Option<String>,
    pub metadata: Value,
    #[serde(alias = "retry_of")]
    pub retry_of: Option<String>,
    /// Absent in archives made before chained runs existed.
    #[serde(default, alias = "parent_run_id")]
    pub parent_run_id: Option<String>,
    #[serde(default, alias = "parent_scheduled_for")]
    pub parent_scheduled_for: Option<i64>,
    #[serde(default)]
    pub overrides: Value,
    pub actor: Option<String>,
    #[serde(alias = "cancel_requested", deserialize_with = "flag")]
    pub cancel_requested: bool,
    #[serde(default)]
    pub attempts: Vec<AttemptDoc>,
    #[serde(default)]
    pub logs: Vec<LogDoc>,
}

impl ExecutionDoc {
    /// From an `executions` row; attempts and logs are added by the caller.
    pub fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.get("id")?,
            config_id: row.get("config_id")?,
            trigger: row.get("trigger")?,
            status: row.get("status")?,
            reason: row.get("reason")?,
            late: row.get("late")?,
            scheduled_for: row.get("scheduled_for")?,
            due_at: row.get("due_at")?,
            created_at: row.get("created_at")?,
            started_at: row.get("started_at")?,
            completed_at: row.get("completed_at")?,
            available_at: row.get("available_at")?,
            attempt_count: row.get("attempt_count")?,
            max_concurrent: row.get("max_concurrent")?,
            config_version: row.get("config_version")?,
            payload: row.get("payload")?,
            retry: row.get("retry")?,
            items_processed: row.get("items_processed")?,
            items_total: row.get("items_total")?,
            items_succeeded: row.get("items_succeeded")?,
            items_failed: row.get("items_failed")?,
            error: row.get("error")?,
            metadata: row.get("metadata")?,
            retry_of: row.get("retry_of")?,
            parent_run_id: row.get("parent_run_id")?,
            parent_scheduled_for: row.get("parent_scheduled_for")?,
            overrides: row.get("overrides")?,
            actor: row.get("actor")?,
            cancel_requested: row.get("cancel_requested")?,
            attempts: Vec::new(),
            logs: Vec::new(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttemptDoc {
    pub attempt: i64,
    pub status: String,
    pub reason: Option<String>,
    pub error: Option<String>,
    #[serde(alias = "started_at")]
    pub started_at: i64,
    #[serde(alias = "completed_at")]
    pub completed_at: Option<i64>,
}

impl AttemptDoc {
    pub fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok(Self {
            attempt: row.get("attempt")?,
            status: row.get("status")?,
            reason: row.get("reason")?,
            error: row.get("error")?,
            started_at: row.get("started_at")?,
            completed_at: row.get("completed_at")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LogDoc {
    pub attempt: i64,
    pub at: i64,
    pub level: String,
    pub message: String,
}

impl LogDoc {
    pub fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok(Self {
            attempt: row.get("attempt")?,
            at: row.get("at")?,
            level: row.get("level")?,
            message: row.get("message")?,
        })
    }
}

/// A document as archived JSON.
pub(crate) fn to_json(doc: &impl Serialize) -> Result<Value, StoreError> {
    serde_json::to_value(doc).map_err(|source| {
        Corrupt::Document {
            what: "an archived row cannot be written as JSON",
            source,
        }
        .into()
    })
}

/// Archived JSON as a document.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(data: Value) -> Result<T, StoreError> {
    serde_json::from_value(data).map_err(|source| {
        Corrupt::Document {
            what: "an archived row cannot be read",
            source,
        }
        .into()
    })
}
