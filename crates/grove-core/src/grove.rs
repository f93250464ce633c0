//! Grove data: sprouts, signals, their aggregates, advancement and digests.
//!
//! Pure logic only: decoding ingestion batches item by item (one bad item
//! never rejects the batch), evaluating an advancement rule against a
//! sprout's signal counts, the time window of a signal period, and building
//! notification digests from journal entries.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::advancement_rule::{AdvancementRulePayload, MatchMode, SignalKind};
use crate::job_config::{EventType, SignalPeriod};
use crate::lifecycle::MODELS;
use crate::object::{MAX_ID_LEN, is_valid_id};
use crate::validate::{Checker, Choice, Problem};

/// Most items accepted in one ingestion request.
pub const MAX_BATCH_ITEMS: usize = 10_000;
/// Longest sprout title.
pub const MAX_TITLE_LEN: usize = 500;

/// One item of an ingestion batch that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    pub index: usize,
    pub pointer: String,
    pub message: String,
}

impl Rejected {
    pub fn new(index: usize, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            index,
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// A sprout as sent by a client.
#[derive(Debug, Clone, PartialEq)]
pub struct SproutInput {
    pub id: String,
    pub title: String,
    pub tier: String,
    pub parent_id: Option<String>,
    pub created_at: Option<Timestamp>,
}

/// A signal as sent by a client.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalInput {
    pub id: String,
    pub sprout_id: String,
    pub kind: SignalKind,
    pub at: Timestamp,
    pub value: Option<f64>,
}

/// A decoded batch: the good items with their index, and the rejects.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    pub items: Vec<(usize, T)>,
    pub rejected: Vec<Rejected>,
}

/// Why a whole batch cannot be read (as opposed to one of its items).
#[derive(Debug, Clone, PartialEq)]
pub enum BatchError {
    /// The envelope is wrong (not an object, no `items` list, …).
    Invalid(Vec<Problem>),
    /// More than [`MAX_BATCH_ITEMS`] items.
    TooMany { count: usize, max: usize },
}

const SPROUT_FIELDS: &[&str] = &["id", "title", "tier", "parentId", "createdAt"];
const SIGNAL_FIELDS: &[&str] = &["id", "sproutId", "kind", "at", "value"];

fn batch_items(body: &Value) -> Result<&Vec<Value>, BatchError> {
    let mut c = Checker::new();
    let obj = c.object(body, "", &["items"], &[]);
    let items = obj.and_then(|o| match c.field(&o, "items", true) {
        Some(Value::Array(items)) => Some(items),
        Some(_) => {
            c.push("/items", "must be a list of items");
            None
        }
        None => None,
    });
    match items {
        Some(items) if c.is_ok() => {
            if items.len() > MAX_BATCH_ITEMS {
                Err(BatchError::TooMany {
                    count: items.len(),
                    max: MAX_BATCH_ITEMS,
                })
            } else {
                Ok(items)
            }
        }
        _ => Err(BatchError::Invalid(c.into_problems())),
    }
}

/// Keeps the first problem of an item as its reject (the pointer names the field).
fn reject_of(index: usize, problems: Vec<Problem>) -> Rejected {
    let first = problems
        .into_iter()
        .next()
        .unwrap_or_else(|| Problem::new(format!("/items/{index}"), "is not valid"));
    Rejected::new(index, first.pointer, first.message)
}

fn id_field(c: &mut Checker, obj: &crate::validate::Obj<'_>, key: &str) -> Option<String> {
    let id = c.string(obj, key, true)?;
    if is_valid_id(&id) {
        Some(id)
    } else {
        c.push(
            Checker::pointer_of(obj, key),
            format!(
                "\"{id}\" is not a valid id: use 1 to {MAX_ID_LEN} letters, digits, '-', '_' or '.', starting with a letter or digit"
            ),
        );
        None
    }
}

fn timestamp_field(
    c: &mut Checker,
    obj: &crate::validate::Obj<'_>,
    key: &str,
    required: bool,
) -> Option<Option<Timestamp>> {
    if c.field(obj, key, false).is_none() {
        if required {
            c.push(Checker::pointer_of(obj, key), "is required");
            return None;
        }
        return Some(None);
    }
    let s = c.string(obj, key, true)?;
    match s.parse::<Timestamp>() {
        Ok(t) => Some(Some(t)),
        Err(_) => {
            c.push(
                Checker::pointer_of(obj, key),
                format!("\"{s}\" is not an RFC 3339 timestamp such as 2026-01-31T12:00:00Z"),
            );
            None
        }
    }
}

/// Whether some lifecycle model has this tier.
pub fn is_known_tier(tier: &str) -> bool {
    MODELS.iter().any(|m| m.contains(tier))
}

fn known_tiers() -> String {
    let mut tiers: Vec<&str> = Vec::new();
    for m in MODELS {
        for t in m.tiers {
            if !tiers.contains(t) {
                tiers.push(t);
            }
        }
    }
    tiers.join(", ")
}

/// Reads `{items: [sprout…]}`; every item is checked, bad ones become rejects.
pub fn decode_sprouts(body: &Value) -> Result<Batch<SproutInput>, BatchError> {
    let items = batch_items(body)?;
    let mut batch = Batch {
        items: Vec::with_capacity(items.len()),
        rejected: Vec::new(),
    };
    for (i, item) in items.iter().enumerate() {
        let mut c = Checker::new();
        let pointer = format!("/items/{i}");
        let decoded = c.object(item, &pointer, SPROUT_FIELDS, &[]).and_then(|o| {
            let id = id_field(&mut c, &o, "id");
            let title = c.text(&o, "title", true, MAX_TITLE_LEN);
            let tier = c.string(&o, "tier", true).and_then(|t| {
                if is_known_tier(&t) {
                    Some(t)
                } else {
                    c.push(
                        format!("{pointer}/tier"),
                        format!("unknown tier \"{t}\"; known tiers: {}", known_tiers()),
                    );
                    None
                }
            });
            let parent_id = match c.field(&o, "parentId", false) {
                Some(_) => id_field(&mut c, &o, "parentId").map(Some),
                None => Some(None),
            };
            let created_at = timestamp_field(&mut c, &o, "createdAt", false);
            Some(SproutInput {
                id: id?,
                title: title?,
                tier: tier?,
                parent_id: parent_id?,
                created_at: created_at?,
            })
        });
        match c.finish(decoded) {
            Ok(s) if s.parent_id.as_deref() == Some(s.id.as_str()) => {
                batch.rejected.push(Rejected::new(
                    i,
                    format!("{pointer}/parentId"),
                    "a sprout cannot be its own parent",
                ))
            }
            Ok(s) => batch.items.push((i, s)),
            Err(problems) => batch.rejected.push(reject_of(i, problems)),
        }
    }
    Ok(batch)
}

/// Reads `{items: [signal…]}`; every item is checked, bad ones become rejects.
/// Whether the sprout exists is the store's question, not this one's.
pub fn decode_signals(body: &Value) -> Result<Batch<SignalInput>, BatchError> {
    let items = batch_items(body)?;
    let mut batch = Batch {
        items: Vec::with_capacity(items.len()),
        rejected: Vec::new(),
    };
    for (i, item) in items.iter().enumerate() {
        let mut c = Checker::new();
        let pointer = format!("/items/{i}");
        let decoded = c.object(item, &pointer, SIGNAL_FIELDS, &[]).and_then(|o| {
            let id = id_field(&mut c, &o, "id");
            let sprout_id = id_field(&mut c, &o, "sproutId");
            let kind = c.string(&o, "kind", true).and_then(|k| {
                let found = SignalKind::from_condition_name(&k);
                if found.is_none() {
                    c.push(
                        format!("{pointer}/kind"),
                        format!(
                            "unknown signal kind \"{k}\"; known kinds: {}",
                            SignalKind::names()
                        ),
                    );
                }
                found
            });
            let at = timestamp_field(&mut c, &o, "at", true).flatten();
            let value = match c.field(&o, "value", false) {
                Some(_) => c.number(&o, "value", true, -1e15, 1e15).map(Some),
                None => Some(None),
            };
            Some(SignalInput {
                id: id?,
                sprout_id: sprout_id?,
                kind: kind?,
                at: at?,
                value: value?,
            })
        });
        match c.finish(decoded) {
            Ok(s) => batch.items.push((i, s)),
            Err(problems) => batch.rejected.push(reject_of(i, problems)),
        }
    }
    Ok(batch)
}

impl SignalPeriod {
    /// The earliest instant a signal may have to count in this period at
    /// `now`; `None` for all time.
    pub fn window_start(self, now: Timestamp) -> Option<Timestamp> {
        let days = match self {
            Self::AllTime => return None,
            Self::Last30d => 30,
            Self::Last7d => 7,
        };
        Some(
            now.checked_sub(SignedDuration::from_hours(24 * days))
                .unwrap_or(Timestamp::MIN),
        )
    }
}

/// A sprout's signal counts in one period, keyed by kind name ("retrieval").
pub type SignalCounts = BTreeMap<String, i64>;

/// One condition's observed value, recorded on the advancement event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SatisfiedCondition {
    pub signal: String,
    pub operator: String,
    pub threshold: f64,
    pub value: f64,
}

/// Whether `rule` is met by `counts` (kinds without signals count 0); when
/// it is, the conditions that held with the observed values.
///
/// The caller checks the tier; this only looks at signals. A condition on a
/// signal name this build does not know never holds.
pub fn evaluate(
    rule: &AdvancementRulePayload,
    counts: &SignalCounts,
) -> Option<Vec<SatisfiedCondition>> {
    let mut held = Vec::with_capacity(rule.conditions.len());
    for cond in &rule.conditions {
        let Some(kind) = cond.kind() else {
            if rule.match_mode == MatchMode::All {
                return None;
            }
            continue;
        };
        let value = counts.get(kind.name()).copied().unwrap_or(0) as f64;
        if cond.operator.holds(value, cond.threshold) {
            held.push(SatisfiedCondition {
                signal: cond.signal.clone(),
                operator: cond.operator.name().to_owned(),
                threshold: cond.threshold,
                value,
            });
        } else if rule.match_mode == MatchMode::All {
            return None;
        }
    }
    (!held.is_empty()).then_some(held)
}

/// An entry of the event journal the digest reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEvent {
    pub seq: i64,
    pub event_type: String,
    pub at: Timestamp,
    /// What it is about (a job config id, a run id, …).
    pub subject: String,
    pub message: String,
    #[serde(default)]
    pub data: Value,
}

/// One recipient's digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub recipient_id: String,
    pub subject: String,
    /// Events per type, in the order of `eventTypes`.
    pub counts: BTreeMap<String, usize>,
    /// The newest events, at most [`DIGEST_MAX_ITEMS`].
    pub items: Vec<JournalEvent>,
    pub total: usize,
    pub from_seq: i64,
    pub to_seq: i64,
}

/// Most events listed in one digest; the counts cover all of them.
pub const DIGEST_MAX_ITEMS: usize = 50;

/// One digest per recipient from the events of `types` (others are ignored);
/// no digest when there is nothing to tell.
pub fn build_digests(
    events: &[JournalEvent],
    types: &[EventType],
    recipients: &[String],
) -> Vec<Digest> {
    let wanted: Vec<&JournalEvent> = events
        .iter()
        .filter(|e| types.iter().any(|t| t.name() == e.event_type))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut counts = BTreeMap::new();
    for e in &wanted {
        *counts.entry(e.event_type.clone()).or_insert(0) += 1;
    }
    let summary = counts
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    let items: Vec<JournalEvent> = wanted
        .iter()
        .rev()
        .take(DIGEST_MAX_ITEMS)
        .map(|e| (*e).clone())
        .collect();
    let from_seq = wanted.first().map_or(0, |e| e.seq);
    let to_seq = wanted.last().map_or(0, |e| e.seq);
    recipients
        .iter()
        .map(|r| Digest {
            recipient_id: r.clone(),
            subject: format!("grove-jobs digest: {summary}"),
            counts: counts.clone(),
            items: items.clone(),
            total: wanted.len(),
            from_seq,
            to_seq,
        })
        .collect()
}

impl Digest {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advancement_rule::{Condition, Operator};

    fn rule(mode: MatchMode, conds: &[(&str, Operator, f64)]) -> AdvancementRulePayload {
        AdvancementRulePayload {
            lifecycle_model_id: None,
            from_tier: "seed".into(),
            to_tier: "sprout".into(),
            conditions: conds
                .iter()
                .map(|(s, o, t)| Condition {
                    signal: (*s).into(),
                    operator: *o,
                    threshold: *t,
                })
                .collect(),
            match_mode: mode,
            is_enabled: true,
        }
    }

    fn counts(pairs: &[(&str, i64)]) -> SignalCounts {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn all_needs_every_condition_and_reports_values() {
        let r = rule(
            MatchMode::All,
            &[
                ("retrievals", Operator::Gte, 10.0),
                ("citation", Operator::Gte, 5.0),
            ],
        );
        assert_eq!(evaluate(&r, &counts(&[("retrieval", 12)])), None);
        let held = evaluate(&r, &counts(&[("retrieval", 12), ("citation", 5)])).unwrap();
        assert_eq!(held.len(), 2);
        assert_eq!(held[0].value, 12.0);
        assert_eq!(held[1].signal, "citation");
    }

    #[test]
    fn any_needs_one_and_reports_only_those() {
        let r = rule(
            MatchMode::Any,
            &[
                ("retrievals", Operator::Gte, 10.0),
                ("upvotes", Operator::Gt, 2.0),
            ],
        );
        let held = evaluate(&r, &counts(&[("upvote", 3)])).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].signal, "upvotes");
        assert_eq!(evaluate(&r, &counts(&[])), None);
    }

    #[test]
    fn missing_kinds_count_zero_and_unknown_signals_never_hold() {
        let r = rule(MatchMode::All, &[("views", Operator::Lt, 1.0)]);
        assert!(evaluate(&r, &counts(&[])).is_some());
        let r = rule(MatchMode::All, &[("likes", Operator::Gte, 0.0)]);
        assert_eq!(evaluate(&r, &counts(&[])), None);
        let r = rule(
            MatchMode::Any,
            &[("likes", Operator::Gte, 0.0), ("views", Operator::Gte, 0.0)],
        );
        assert_eq!(evaluate(&r, &counts(&[])).unwrap().len(), 1);
    }

    #[test]
    fn sprout_batch_rejects_by_index_with_pointer() {
        let body = json!({"items": [
            {"id": "a", "title": "A", "tier": "seed"},
            {"id": "b", "title": "B", "tier": "oak"},
            {"id": "c d", "title": "C", "tier": "seed"},
            {"id": "e", "title": "E", "tier": "tree", "parentId": "a", "createdAt": "2026-01-01T00:00:00Z"},
            {"id": "f", "title": "F", "tier": "seed", "extra": 1},
            {"id": "g", "title": "G", "tier": "seed", "parentId": "g"},
            "nope"
        ]});
        let b = decode_sprouts(&body).unwrap();
        assert_eq!(
            b.items.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![0, 3]
        );
        let pointers: Vec<(usize, &str)> = b
            .rejected
            .iter()
            .map(|r| (r.index, r.pointer.as_str()))
            .collect();
        assert_eq!(
            pointers,
            vec![
                (1, "/items/1/tier"),
                (2, "/items/2/id"),
                (4, "/items/4/extra"),
                (5, "/items/5/parentId"),
                (6, "/items/6")
            ]
        );
        assert!(
            b.rejected[0]
                .message
                .contains("seed, sprout, sapling, tree, grove")
        );
    }

    #[test]
    fn signal_batch_checks_kind_time_and_value() {
        let body = json!({"items": [
            {"id": "1", "sproutId": "a", "kind": "retrieval", "at": "2026-01-01T00:00:00Z"},
            {"id": "2", "sproutId": "a", "kind": "citations", "at": "2026-01-01T00:00:00Z", "value": 2.5},
            {"id": "3", "sproutId": "a", "kind": "like", "at": "2026-01-01T00:00:00Z"},
            {"id": "4", "sproutId": "a", "kind": "view", "at": "yesterday"},
            {"id": "5", "sproutId": "a", "kind": "view"},
            {"id": "6", "sproutId": "a", "kind": "view", "at": "2026-01-01T00:00:00Z", "value": "x"},
        ]});
        let b = decode_signals(&body).unwrap();
        assert_eq!(b.items.len(), 2);
        assert_eq!(b.items[1].1.kind, SignalKind::Citation);
        let pointers: Vec<&str> = b.rejected.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/items/2/kind",
                "/items/3/at",
                "/items/4/at",
                "/items/5/value"
            ]
        );
    }

    #[test]
    fn envelope_problems_and_size_limit() {
        assert!(matches!(
            decode_sprouts(&json!([])),
            Err(BatchError::Invalid(_))
        ));
        assert!(matches!(
            decode_signals(&json!({"items": 3})),
            Err(BatchError::Invalid(_))
        ));
        assert!(matches!(
            decode_signals(&json!({})),
            Err(BatchError::Invalid(_))
        ));
        let many: Vec<Value> = (0..=MAX_BATCH_ITEMS).map(|_| json!({})).collect();
        assert!(matches!(
            decode_signals(&json!({"items": many})),
            Err(BatchError::TooMany { count: 10_001, .. })
        ));
        assert_eq!(
            decode_signals(&json!({"items": []})).unwrap().items.len(),
            0
        );
    }

    mod prop {
        use proptest::prelude::*;
        use serde_json::{Value, json};

        use crate::grove::{decode_signals, decode_sprouts};

        fn field() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                (-1e6f64..1e6).prop_map(|f| json!(f)),
                "[a-z0-9 ._/-]{0,10}".prop_map(Value::String),
                prop::sample::select(vec![
                    "seed",
                    "tree",
                    "oak",
                    "retrieval",
                    "citations",
                    "like",
                    "2026-01-01T00:00:00Z",
                    "yesterday",
                    "a",
                    "b",
                ])
                .prop_map(|s| json!(s)),
            ]
        }

        fn item() -> impl Strategy<Value = Value> {
            prop_oneof![
                field(),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "id",
                        "title",
                        "tier",
                        "parentId",
                        "createdAt",
                        "sproutId",
                        "kind",
                        "at",
                        "value",
                        "extra",
                    ]),
                    field(),
                    0..7,
                )
                .prop_map(|m| {
                    Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        }

        proptest! {
            /// Every item is either accepted or rejected once, at its own
            /// index and under its own pointer; nothing panics.
            #[test]
            fn every_item_is_accounted_for(items in prop::collection::vec(item(), 0..20)) {
                let body = json!({"items": items.clone()});
                let sprouts = decode_sprouts(&body).expect("a valid envelope");
                let signals = decode_signals(&body).expect("a valid envelope");
                for (accepted, rejected) in [
                    (sprouts.items.iter().map(|(i, _)| *i).collect::<Vec<_>>(), sprouts.rejected),
                    (signals.items.iter().map(|(i, _)| *i).collect::<Vec<_>>(), signals.rejected),
                ] {
                    let mut seen: Vec<usize> = accepted.clone();
                    seen.extend(rejected.iter().map(|r| r.index));
                    seen.sort_unstable();
                    prop_assert_eq!(seen, (0..items.len()).collect::<Vec<_>>());
                    for r in &rejected {
                        let prefix = format!("/items/{}", r.index);
                        let nested = format!("{}/", prefix);
                        let ok = r.pointer == prefix || r.pointer.starts_with(&nested);
                        prop_assert!(ok, "pointer {} of item {}", r.pointer, r.index);
                        prop_assert!(!r.message.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn periods_have_windows() {
        let now: Timestamp = "2026-03-31T00:00:00Z".parse().unwrap();
        assert_eq!(SignalPeriod::AllTime.window_start(now), None);
        assert_eq!(
            SignalPeriod::Last7d.window_start(now).unwrap().to_string(),
            "2026-03-24T00:00:00Z"
        );
        assert_eq!(
            SignalPeriod::Last30d.window_start(now).unwrap().to_string(),
            "2026-03-01T00:00:00Z"
        );
    }

    #[test]
    fn digests_per_recipient_only_of_wanted_types() {
        let ev = |seq, t: &str| JournalEvent {
            seq,
            event_type: t.into(),
            at: Timestamp::UNIX_EPOCH,
            subject: "x".into(),
            message: "m".into(),
            data: Value::Null,
        };
        let events = vec![
            ev(1, "job.failed"),
            ev(2, "config.changed"),
            ev(3, "job.failed"),
        ];
        let d = build_digests(
            &events,
            &[EventType::JobFailed],
            &["ops".to_owned(), "lead".to_owned()],
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].total, 2);
        assert_eq!(d[0].items[0].seq, 3, "newest first");
        assert_eq!((d[0].from_seq, d[0].to_seq), (1, 3));
        assert_eq!(d[1].recipient_id, "lead");
        assert!(build_digests(&events, &[EventType::Advancement], &["ops".to_owned()]).is_empty());
    }
}
