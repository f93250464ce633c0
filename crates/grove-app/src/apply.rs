//! Declarative apply: given portable documents `{meta: {id, type, title,
//! description?, tags?}, payload}`, plan what would change (create /
//! update / unchanged) and carry the plan out.
//!
//! Every document is validated before anything is written: one invalid
//! document means nothing is applied. [`portable`] is the inverse, the
//! form `export` writes.

use std::fmt;

use grove_core::job_config::ENGINE_FIELDS;
use grove_core::registry::{self, JOB_CONFIG, TypeDef, ValidObject};
use grove_core::validate::Problem;
use grove_store::StoredObject;
use serde_json::{Value, json};

use crate::audit::{AuditAction, Caller};
use crate::{App, AppError};

/// The portable form of a stored object: no server-written fields, so it
/// can be committed to a repository and applied to another instance.
pub fn portable(obj: &StoredObject) -> Value {
    let mut payload = obj.payload.clone();
    if let Value::Object(map) = &mut payload {
        for f in ENGINE_FIELDS {
            map.remove(*f);
        }
    }
    let mut meta =
        json!({"id": obj.meta.id, "type": obj.meta.object_type, "title": obj.meta.title});
    if let Some(d) = &obj.meta.description {
        meta["description"] = json!(d);
    }
    if !obj.meta.tags.is_empty() {
        meta["tags"] = json!(obj.meta.tags);
    }
    json!({"meta": meta, "payload": payload})
}

/// One document to apply and where it came from (`file.json#2`).
#[derive(Debug, Clone)]
pub struct Document {
    pub source: String,
    pub raw: Value,
}

/// A problem of one document.
#[derive(Debug, Clone)]
pub struct DocumentProblem {
    pub source: String,
    pub problem: Problem,
}

impl fmt::Display for DocumentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.problem)
    }
}

/// What applying a document does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Unchanged => "unchanged",
        })
    }
}

/// One object of a plan.
#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    pub def: &'static TypeDef,
    pub id: String,
    valid: ValidObject,
    /// The version the plan saw (updates are conditional on it).
    current_version: Option<i64>,
}

/// What applying a set of documents would do, in document order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

fn unchanged(current: &StoredObject, valid: &ValidObject) -> bool {
    let portable = portable(current);
    current.meta.title == valid.meta.title
        && current.meta.description == valid.meta.description
        && current.meta.tags == valid.meta.tags
        && portable["payload"] == valid.payload
}

impl App {
    /// Validates every document and plans each against what is stored.
    /// [`AppError::InvalidDocuments`] lists every problem of every
    /// document; nothing is planned then.
    pub async fn plan(&self, documents: Vec<Document>) -> Result<Plan, AppError> {
        let mut valid_docs = Vec::new();
        let mut problems = Vec::new();
        for Document { source, raw } in documents {
            let type_id = raw
                .pointer("/meta/type")
                .and_then(Value::as_str)
                .unwrap_or(JOB_CONFIG);
            let Some(def) = registry::find(type_id) else {
                problems.push(DocumentProblem {
                    problem: Problem::new(
                        "/meta/type",
                        format!("unknown object type \"{type_id}\""),
                    ),
                    source,
                });
                continue;
            };
            match self.validate_object(def, &raw) {
                Err(found) => problems.extend(found.into_iter().map(|problem| DocumentProblem {
                    source: source.clone(),
                    problem,
                })),
                Ok(valid) => match valid.meta.id.clone() {
                    Some(id) => valid_docs.push((def, id, valid)),
                    None => problems.push(DocumentProblem {
                        source,
                        problem: Problem::new(
                            "/meta/id",
                            "is required for apply (it names the object to create or update)",
                        ),
                    }),
                },
            }
        }
        if !problems.is_empty() {
            return Err(AppError::InvalidDocuments(problems));
        }
        let mut plan = Plan::default();
        for (def, id, valid) in valid_docs {
            let current = self.store.object_get(def.id, &id).await?;
            let action = match &current {
                None => Action::Create,
                Some(c) if unchanged(c, &valid) => Action::Unchanged,
                Some(_) => Action::Update,
            };
            plan.steps.push(Step {
                action,
                def,
                id,
                valid,
                current_version: current.map(|c| c.meta.version),
            });
        }
        Ok(plan)
    }

    /// Carries a plan out in order: creates, and updates conditional on the
    /// version the plan saw (a save in between is a conflict).
    pub async fn apply(&self, plan: Plan, by: &Caller) -> Result<(), AppError> {
        for step in plan.steps {
            match (step.action, step.current_version) {
                (Action::Unchanged, _) => {}
                (Action::Update, Some(version)) => {
                    self.save(
                        step.def,
                        &step.id,
                        version,
                        step.valid,
                        by,
                        AuditAction::Update,
                    )
                    .await?;
                }
                (Action::Create | Action::Update, _) => {
                    self.insert(step.def, step.id, step.valid, by, AuditAction::Create)
                        .await?;
                }
            }
        }
        Ok(())
    }
}
