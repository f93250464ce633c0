//! Default objects for a fresh database: the five job configs, with ids
//! equal to their job types. Each seed is applied once, ever: an operator's
//! later edit or delete is never undone by a restart.

use grove_core::job_config::{JobConfigPayload, JobType, seed_advancement_payload};
use grove_core::registry::{self, JOB_CONFIG};
use grove_core::validate::Choice;
use jiff::Timestamp;
use serde_json::json;

use crate::{ObjectInsert, Store, StoreError};

/// The seed objects as client JSON (`{meta, payload}`).
pub fn default_objects() -> Vec<serde_json::Value> {
    JobType::ALL
        .iter()
        .map(|jt| match jt {
            JobType::AdvancementBatch => json!({
                "meta": {
                    "id": "advancement-batch",
                    "type": "job-config",
                    "version": "1.0",
                    "title": "Daily Advancement Batch",
                    "description": "Daily evaluation of sprouts for tier advancement"
                },
                "payload": seed_advancement_payload(),
            }),
            other => {
                let payload = JobConfigPayload::default_for(*other);
                json!({
                    "meta": {
                        "id": other.name(),
                        "type": "job-config",
                        "title": payload.display_name,
                        "description": describe(*other),
                    },
                    "payload": payload.to_value(),
                })
            }
        })
        .collect()
}

fn describe(job_type: JobType) -> &'static str {
    match job_type {
        JobType::AdvancementBatch => "Daily evaluation of sprouts for tier advancement",
        JobType::SignalAggregation => "Rolls signals up into per-sprout aggregates for each period",
        JobType::NotificationDigest => {
            "Sends operators a digest of job failures, advancements and alerts"
        }
        JobType::OrphanCleanup => "Archives signals, events and executions whose owner is gone",
        JobType::HealthCheck => "Checks the database, storage and the service's own API",
    }
}

/// Inserts every default object not seeded before; returns the ids created.
pub async fn seed_defaults(store: &dyn Store, now: Timestamp) -> Result<Vec<String>, StoreError> {
    let def = registry::find(JOB_CONFIG)
        .ok_or_else(|| StoreError::Config("job-config type missing".to_owned()))?;
    let mut created = Vec::new();
    for raw in default_objects() {
        let valid = def
            .validate(&raw)
            .map_err(|p| StoreError::Config(format!("a default object is invalid: {p:?}")))?;
        let id = valid.meta.id.clone().unwrap_or_default();
        let key = format!("{JOB_CONFIG}/{id}");
        // Mark first: if the object exists already (created by hand), leave it.
        if !store.seed_mark(&key, now).await? {
            continue;
        }
        let insert = ObjectInsert {
            object_type: JOB_CONFIG.to_owned(),
            id: id.clone(),
            title: valid.meta.title,
            description: valid.meta.description,
            tags: valid.meta.tags,
            payload: valid.payload,
            actor: Some("seed".to_owned()),
            now,
        };
        match store.object_insert(insert).await {
            Ok(_) => created.push(id),
            Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}
