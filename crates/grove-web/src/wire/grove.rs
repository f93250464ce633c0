//! Grove data on the wire: sprout and signal batches, what happened to
//! them, a sprout with its aggregates, advancement events, the
//! notifications outbox and the journal.
//!
//! Batches are read as JSON and checked item by item by grove-core
//! ([`grove_core::grove::decode_sprouts`]), so one bad item is answered
//! alone instead of failing the whole body; [`SproutIn`] and [`SignalIn`]
//! are the shape a good item has (a test posts them).

use std::collections::BTreeMap;

use grove_app::ingest::{SignalReport, SproutReport};
use grove_core::grove::Rejected;
use grove_store::{AdvancementEvent, Aggregate, Notification, Sprout};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One sprout to create or update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SproutIn {
    #[schema(example = "kb-1042")]
    pub id: String,
    pub title: String,
    /// A tier of a lifecycle model (default: seed, sprout, sapling, tree, grove).
    #[schema(example = "seed")]
    pub tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Defaults to now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

/// One observed signal; `id` is the client's, so a retried upload counts once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalIn {
    pub id: String,
    pub sprout_id: String,
    /// retrieval, citation, query, view or upvote (plurals accepted).
    #[schema(example = "retrieval")]
    pub kind: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// `{items: [...]}`, at most 10,000 items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SproutBatch {
    pub items: Vec<SproutIn>,
}

/// `{items: [...]}`, at most 10,000 items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignalBatch {
    pub items: Vec<SignalIn>,
}

/// An item that was not stored, with where it is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RejectedItem {
    pub index: usize,
    #[schema(example = "/items/3/tier")]
    pub pointer: String,
    pub message: String,
}

impl From<&Rejected> for RejectedItem {
    fn from(r: &Rejected) -> Self {
        Self {
            index: r.index,
            pointer: r.pointer.clone(),
            message: r.message.clone(),
        }
    }
}

/// What happened to a batch, item by item.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IngestReport {
    /// Stored (sprouts: created or updated).
    pub accepted: usize,
    /// Already stored (signals: the id was seen before; sprouts: unchanged).
    pub duplicates: usize,
    /// Sprouts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created: Option<usize>,
    /// Sprouts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub updated: Option<usize>,
    pub rejected: Vec<RejectedItem>,
}

impl From<&SproutReport> for IngestReport {
    fn from(r: &SproutReport) -> Self {
        Self {
            accepted: r.created + r.updated,
            duplicates: r.unchanged,
            created: Some(r.created),
            updated: Some(r.updated),
            rejected: r.rejected.iter().map(RejectedItem::from).collect(),
        }
    }
}

impl From<&SignalReport> for IngestReport {
    fn from(r: &SignalReport) -> Self {
        Self {
            accepted: r.accepted,
            duplicates: r.duplicates,
            created: None,
            updated: None,
            rejected: r.rejected.iter().map(RejectedItem::from).collect(),
        }
    }
}

/// One aggregate of a sprout: a kind's signals in a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregateOut {
    pub count: i64,
    pub last_seen: Timestamp,
    /// The run that computed it.
    pub run_id: String,
    pub computed_at: Timestamp,
}

impl From<&Aggregate> for AggregateOut {
    fn from(a: &Aggregate) -> Self {
        Self {
            count: a.count,
            last_seen: a.last_seen,
            run_id: a.run_id.clone(),
            computed_at: a.computed_at,
        }
    }
}

/// A sprout with its aggregates: `{period: {kind: {count, lastSeen, runId, computedAt}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SproutOut {
    pub id: String,
    pub title: String,
    pub tier: String,
    #[schema(required = true)]
    pub parent_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Found in the archive rather than among live sprouts.
    pub archived: bool,
    /// By period (all_time, last_30d, last_7d), then by signal kind.
    pub aggregates: BTreeMap<String, BTreeMap<String, AggregateOut>>,
}

impl SproutOut {
    pub fn new(s: &Sprout, aggregates: &[Aggregate]) -> Self {
        let mut periods: BTreeMap<String, BTreeMap<String, AggregateOut>> = BTreeMap::new();
        for a in aggregates {
            periods
                .entry(a.period.to_string())
                .or_default()
                .insert(a.kind.clone(), a.into());
        }
        Self {
            id: s.id.clone(),
            title: s.title.clone(),
            tier: s.tier.clone(),
            parent_id: s.parent_id.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            archived: s.archived,
            aggregates: periods,
        }
    }
}

/// Why a sprout advanced (or would have, in a dry run).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvancementEventOut {
    pub id: String,
    pub sprout_id: String,
    pub from_tier: String,
    pub to_tier: String,
    pub rule_id: String,
    pub run_id: String,
    /// `[{signal, operator, threshold, value}]`: the values that met the rule.
    pub signals: Value,
    pub at: Timestamp,
    pub dry_run: bool,
}

impl From<&AdvancementEvent> for AdvancementEventOut {
    fn from(e: &AdvancementEvent) -> Self {
        Self {
            id: e.id.clone(),
            sprout_id: e.sprout_id.clone(),
            from_tier: e.from_tier.clone(),
            to_tier: e.to_tier.clone(),
            rule_id: e.rule_id.clone(),
            run_id: e.run_id.clone(),
            signals: e.signals.clone(),
            at: e.at,
            dry_run: e.dry_run,
        }
    }
}

/// Advancement events, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdvancementEventList {
    pub items: Vec<AdvancementEventOut>,
}

/// A digest in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOut {
    pub id: String,
    pub recipient_id: String,
    /// outbox
    pub channel: String,
    pub subject: String,
    #[schema(value_type = Object)]
    pub body: Value,
    #[schema(required = true)]
    pub run_id: Option<String>,
    pub created_at: Timestamp,
}

impl From<&Notification> for NotificationOut {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.clone(),
            recipient_id: n.recipient_id.clone(),
            channel: n.channel.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            run_id: n.run_id.clone(),
            created_at: n.created_at,
        }
    }
}

/// Notifications, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationOut>,
}

/// One journal entry: something the service recorded as it happened
/// (`job.failed`, `job.late`, `job.silent`, `config.changed`, …).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntryOut {
    /// Increases with every entry: the newest has the highest.
    pub seq: i64,
    /// job.failed, job.succeeded, job.disabled, job.late, job.silent,
    /// advancement, config.changed, health.alert
    #[serde(rename = "type")]
    #[schema(example = "job.late")]
    pub event_type: String,
    pub at: Timestamp,
    /// What it is about: a job config id.
    pub subject: String,
    pub message: String,
    /// Details by type; job.late: runId, scheduledFor, dueAt,
    /// latenessSeconds, maxLatenessSeconds, missed; job.silent: since,
    /// lastSuccessAt, silentForSeconds, maxSilenceSeconds.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<&grove_core::grove::JournalEvent> for JournalEntryOut {
    fn from(e: &grove_core::grove::JournalEvent) -> Self {
        Self {
            seq: e.seq,
            event_type: e.event_type.clone(),
            at: e.at,
            subject: e.subject.clone(),
            message: e.message.clone(),
            data: e.data.clone(),
        }
    }
}

/// `GET /api/v1/journal`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalPage {
    pub items: Vec<JournalEntryOut>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use grove_core::job_config::SignalPeriod;
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_sprout_nests_its_aggregates_by_period_and_kind() {
        let sprout = Sprout {
            id: "a".to_owned(),
            title: "A".to_owned(),
            tier: "seed".to_owned(),
            parent_id: None,
            created_at: at("2026-03-01T00:00:00Z"),
            updated_at: at("2026-03-02T00:00:00Z"),
            archived: false,
        };
        let aggregate = Aggregate {
            period: SignalPeriod::AllTime,
            kind: "retrieval".to_owned(),
            count: 3,
            last_seen: at("2026-03-03T00:00:00Z"),
            run_id: "run-1".to_owned(),
            computed_at: at("2026-03-04T00:00:00Z"),
        };
        assert_eq!(
            serde_json::to_value(SproutOut::new(&sprout, &[aggregate])).expect("json"),
            json!({
                "id": "a", "title": "A", "tier": "seed", "parentId": null,
                "createdAt": "2026-03-01T00:00:00Z", "updatedAt": "2026-03-02T00:00:00Z",
                "archived": false,
                "aggregates": {"all_time": {"retrieval": {
                    "count": 3, "lastSeen": "2026-03-03T00:00:00Z",
                    "runId": "run-1", "computedAt": "2026-03-04T00:00:00Z"}}},
            })
        );
    }

    #[test]
    fn events_and_notifications_keep_their_keys() {
        let event = AdvancementEvent {
            id: "e1".to_owned(),
            sprout_id: "a".to_owned(),
            from_tier: "seed".to_owned(),
            to_tier: "sprout".to_owned(),
            rule_id: "r".to_owned(),
            run_id: "run-1".to_owned(),
            signals: json!([]),
            at: at("2026-03-01T00:00:00Z"),
            dry_run: true,
        };
        assert_eq!(
            serde_json::to_value(AdvancementEventOut::from(&event)).expect("json"),
            json!({"id": "e1", "sproutId": "a", "fromTier": "seed", "toTier": "sprout",
                "ruleId": "r", "runId": "run-1", "signals": [], "at": "2026-03-01T00:00:00Z", "dryRun": true})
        );
        let note = Notification {
            id: "n1".to_owned(),
            recipient_id: "operators".to_owned(),
            channel: "outbox".to_owned(),
            subject: "s".to_owned(),
            body: json!({"x": 1}),
            run_id: None,
            created_at: at("2026-03-01T00:00:00Z"),
        };
        assert_eq!(
            serde_json::to_value(NotificationOut::from(&note)).expect("json"),
            json!({"id": "n1", "recipientId": "operators", "channel": "outbox", "subject": "s",
                "body": {"x": 1}, "runId": null, "createdAt": "2026-03-01T00:00:00Z"})
        );
    }

    #[test]
    fn ingest_reports_differ_only_by_the_sprout_counts() {
        let sprouts = SproutReport {
            created: 2,
            updated: 1,
            unchanged: 4,
            rejected: vec![Rejected::new(3, "/items/3/tier", "unknown tier")],
        };
        assert_eq!(
            serde_json::to_value(IngestReport::from(&sprouts)).expect("json"),
            json!({"accepted": 3, "duplicates": 4, "created": 2, "updated": 1,
                "rejected": [{"index": 3, "pointer": "/items/3/tier", "message": "unknown tier"}]})
        );
        let signals = SignalReport {
            accepted: 5,
            duplicates: 1,
            rejected: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(IngestReport::from(&signals)).expect("json"),
            json!({"accepted": 5, "duplicates": 1, "rejected": []})
        );
    }
}
