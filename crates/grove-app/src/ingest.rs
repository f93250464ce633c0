//! Grove data ingestion: sprout and signal batches.
//!
//! Every item is checked and answered on its own: bad items are listed as
//! rejected with their index and a JSON pointer, the others are stored;
//! one bad item never rejects the batch. Only a batch that is not a batch
//! (no `items`, too many) is refused as a whole.

use grove_core::grove::{self, BatchError, Rejected};
use grove_core::validate::{Choice, Problem};
use grove_store::{SignalInsert, SignalOutcome, SproutUpsert, UpsertOutcome};
use serde_json::Value;

use crate::{App, AppError};

/// What happened to a sprout batch.
#[derive(Debug, Clone, Default)]
pub struct SproutReport {
    pub created: usize,
    pub updated: usize,
    /// Already stored exactly like this.
    pub unchanged: usize,
    pub rejected: Vec<Rejected>,
}

/// What happened to a signal batch.
#[derive(Debug, Clone, Default)]
pub struct SignalReport {
    pub accepted: usize,
    /// Signal ids seen before (stored once).
    pub duplicates: usize,
    /// Bad items, and signals about a sprout that does not exist; by index.
    pub rejected: Vec<Rejected>,
}

fn batch_error(e: BatchError) -> AppError {
    match e {
        BatchError::Invalid(problems) => AppError::Validation(problems),
        BatchError::TooMany { count, max } => AppError::Validation(vec![Problem::new(
            "/items",
            format!("has {count} items; send at most {max} per request (split the batch)"),
        )]),
    }
}

impl App {
    /// Creates or updates the sprouts of `{items: [...]}`.
    pub async fn ingest_sprouts(&self, body: &Value) -> Result<SproutReport, AppError> {
        let batch = grove::decode_sprouts(body).map_err(batch_error)?;
        let now = self.clock.now();
        let items: Vec<SproutUpsert> = batch
            .items
            .into_iter()
            .map(|(_, s)| SproutUpsert {
                created_at: s.created_at.unwrap_or(now),
                id: s.id,
                title: s.title,
                tier: s.tier,
                parent_id: s.parent_id,
            })
            .collect();
        let outcomes = if items.is_empty() {
            Vec::new()
        } else {
            self.store.sprout_upsert_batch(items, now).await?
        };
        let count = |o: UpsertOutcome| outcomes.iter().filter(|x| **x == o).count();
        Ok(SproutReport {
            created: count(UpsertOutcome::Created),
            updated: count(UpsertOutcome::Updated),
            unchanged: count(UpsertOutcome::Unchanged),
            rejected: batch.rejected,
        })
    }

    /// Records the signals of `{items: [...]}`; a signal id seen before is
    /// a duplicate, a signal about an unknown sprout is rejected.
    pub async fn ingest_signals(&self, body: &Value) -> Result<SignalReport, AppError> {
        let batch = grove::decode_signals(body).map_err(batch_error)?;
        let indexes: Vec<usize> = batch.items.iter().map(|(i, _)| *i).collect();
        let items: Vec<SignalInsert> = batch
            .items
            .into_iter()
            .map(|(_, s)| SignalInsert {
                id: s.id,
                sprout_id: s.sprout_id,
                kind: Choice::name(s.kind).to_owned(),
                at: s.at,
                value: s.value,
            })
            .collect();
        let sprout_ids: Vec<String> = items.iter().map(|s| s.sprout_id.clone()).collect();
        let outcomes = if items.is_empty() {
            Vec::new()
        } else {
            self.store
                .signal_insert_batch(items, self.clock.now())
                .await?
        };
        let mut report = SignalReport {
            rejected: batch.rejected,
            ..SignalReport::default()
        };
        for ((index, outcome), sprout_id) in indexes.iter().zip(&outcomes).zip(&sprout_ids) {
            match outcome {
                SignalOutcome::Accepted => report.accepted += 1,
                SignalOutcome::Duplicate => report.duplicates += 1,
                SignalOutcome::UnknownSprout => report.rejected.push(Rejected::new(
                    *index,
                    format!("/items/{index}/sproutId"),
                    format!(
                        "unknown sprout \"{sprout_id}\"; create it with POST /api/v1/sprouts first"
                    ),
                )),
            }
        }
        report.rejected.sort_by_key(|r| r.index);
        Ok(report)
    }
}
