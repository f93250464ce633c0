//! Grove objects on the wire: `{meta, payload, derived?}`, a page of them,
//! and their revisions.
//!
//! The object body is the same document list queries filter on and
//! registry metrics count ([`grove_app::objects::document`]); a test keeps
//! the two equal.

use grove_app::objects::ObjectPage as AppObjectPage;
use grove_core::job_config::{Health, JobConfigPayload};
use grove_core::plan::Calendars;
use grove_core::registry::JOB_CONFIG;
use grove_store::{Revision, StoredObject};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `meta` of a Grove object (server-written apart from title, description,
/// tags and id on create). Optional fields are absent when unset.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(example = "job-config")]
    pub object_type: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    /// +1 on every save.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub updated_by: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl From<&grove_core::object::ObjectMeta> for ObjectMeta {
    fn from(m: &grove_core::object::ObjectMeta) -> Self {
        Self {
            id: m.id.clone(),
            object_type: m.object_type.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            created_by: m.created_by.clone(),
            updated_by: m.updated_by.clone(),
            tags: m.tags.clone(),
        }
    }
}

/// Read-only fields of job configs, computed by the schedule module.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Derived {
    /// Null when the schedule is disabled or has no future run.
    #[schema(required = true)]
    pub next_run_at: Option<Timestamp>,
    #[schema(example = "Daily at 2:00 AM (UTC)")]
    pub schedule_text: String,
    /// healthy, warning, error, critical, disabled, never-run, late, silent
    #[schema(value_type = String, example = "healthy")]
    pub health: Health,
}

impl From<grove_core::job_config::Derived> for Derived {
    fn from(d: grove_core::job_config::Derived) -> Self {
        Self {
            next_run_at: d.next_run_at,
            schedule_text: d.schedule_text,
            health: d.health,
        }
    }
}

/// A Grove object: `{meta, payload}`; job configs also carry `derived`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroveObject {
    pub meta: ObjectMeta,
    /// The type's payload (see `GET /api/v1/types` for defaults).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Job configs only (absent for other types, and for a stored payload
    /// that no longer decodes).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub derived: Option<Derived>,
}

impl GroveObject {
    /// The body of a stored object as seen at `now` (`derived` depends on it).
    pub fn new(obj: &StoredObject, now: Timestamp) -> Self {
        Self::planned(obj, now, &Calendars::default())
    }

    /// The body with `derived` planned with the calendars a job excludes
    /// (`derived.nextRunAt` is the first run's due instant).
    pub fn planned(obj: &StoredObject, now: Timestamp, calendars: &Calendars) -> Self {
        let derived = if obj.meta.object_type == JOB_CONFIG {
            <JobConfigPayload as serde::Deserialize>::deserialize(&obj.payload)
                .ok()
                .map(|p| p.derived_with(&obj.meta.id, now, calendars).into())
        } else {
            None
        };
        Self {
            meta: (&obj.meta).into(),
            payload: obj.payload.clone(),
            derived,
        }
    }

    /// The same body as a viewer may see it: secrets in the payload cut
    /// down ([`grove_core::secrets`]).
    pub fn redacted(mut self) -> Self {
        grove_core::secrets::redact(&mut self.payload);
        self
    }
}

/// A page of objects.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectPage {
    pub items: Vec<GroveObject>,
    /// Matches before paging.
    pub total: usize,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl ObjectPage {
    /// The page as a viewer may see it.
    pub fn redacted(self) -> Self {
        Self {
            items: self.items.into_iter().map(GroveObject::redacted).collect(),
            ..self
        }
    }
}

impl ObjectPage {
    /// A page whose job configs' `derived` are planned with `calendars`.
    pub fn planned(page: &AppObjectPage, calendars: &Calendars) -> Self {
        Self {
            items: page
                .items
                .iter()
                .map(|o| GroveObject::planned(o, page.seen_at, calendars))
                .collect(),
            total: page.total,
            next_cursor: page.next_cursor.clone(),
        }
    }
}

impl From<&AppObjectPage> for ObjectPage {
    fn from(page: &AppObjectPage) -> Self {
        Self {
            items: page
                .items
                .iter()
                .map(|o| GroveObject::new(o, page.seen_at))
                .collect(),
            total: page.total,
            next_cursor: page.next_cursor.clone(),
        }
    }
}

/// One saved version of an object.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RevisionOut {
    pub version: i64,
    pub title: String,
    /// Absent when the version had none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The payload as saved.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Who saved it.
    #[schema(required = true)]
    pub actor: Option<String>,
    pub at: Timestamp,
}

impl From<&Revision> for RevisionOut {
    fn from(r: &Revision) -> Self {
        Self {
            version: r.version,
            title: r.title.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            payload: r.payload.clone(),
            actor: r.actor.clone(),
            at: r.at,
        }
    }
}

/// Revisions, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionList {
    pub items: Vec<RevisionOut>,
}

impl RevisionList {
    pub fn new(revisions: &[Revision]) -> Self {
        Self {
            items: revisions.iter().map(RevisionOut::from).collect(),
        }
    }

    /// The revisions as a viewer may see them.
    pub fn redacted(mut self) -> Self {
        for r in &mut self.items {
            grove_core::secrets::redact(&mut r.payload);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use grove_core::job_config::{JobConfigPayload, JobType};
    use grove_core::object::ObjectMeta as CoreMeta;
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn stored(object_type: &str, payload: Value, description: Option<&str>) -> StoredObject {
        StoredObject {
            meta: CoreMeta {
                id: "nightly".to_owned(),
                object_type: object_type.to_owned(),
                title: "Nightly".to_owned(),
                description: description.map(str::to_owned),
                version: 3,
                created_at: at("2026-03-01T00:00:00Z"),
                updated_at: at("2026-03-02T00:00:00.5Z"),
                created_by: Some("alice".to_owned()),
                updated_by: None,
                tags: Vec::new(),
            },
            payload,
        }
    }

    /// The API's object body is the document queries and metrics read:
    /// the same keys, absences and formats.
    #[test]
    fn an_object_body_is_the_query_document() {
        let now = at("2026-03-05T12:00:00Z");
        let job = JobConfigPayload::default_for(JobType::HealthCheck).to_value();
        for obj in [
            stored(JOB_CONFIG, job, Some("Checks")),
            stored(JOB_CONFIG, json!({"not": "a job"}), None),
            stored("advancement-rule", json!({"enabled": true}), None),
        ] {
            let wire = serde_json::to_value(GroveObject::new(&obj, now)).expect("json");
            assert_eq!(wire, grove_app::objects::document(&obj, now));
        }
    }

    #[test]
    fn a_revision_keeps_its_keys() {
        let r = Revision {
            version: 2,
            title: "Nightly".to_owned(),
            description: None,
            tags: vec!["ops".to_owned()],
            payload: json!({"a": 1}),
            actor: None,
            at: at("2026-03-02T00:00:00Z"),
        };
        assert_eq!(
            serde_json::to_value(RevisionOut::from(&r)).expect("json"),
            json!({"version": 2, "title": "Nightly", "tags": ["ops"], "payload": {"a": 1},
                "actor": null, "at": "2026-03-02T00:00:00Z"})
        );
    }
}
