//! Grove objects: create, replace, merge-patch, delete, duplicate, restore
//! a revision; read one; list those matching a query ([`list`]).
//!
//! Every write validates through the type registry, names the version it
//! edited (optimistic concurrency), answers a lost race with
//! [`AppError::Conflict`] carrying the object as stored now, and then
//! tells the engine (job configs only: nothing schedules rules).

pub mod list;
pub mod metrics;
pub mod schedules;

use grove_core::merge_patch;
use grove_core::object::is_valid_id;
use grove_core::registry::{self, CALENDAR, JOB_CONFIG, TypeDef, ValidObject};
use grove_core::validate::Problem;
use grove_store::{Change, ObjectInsert, ObjectUpdate, Revision, StoreError, StoredObject};
use serde_json::{Value, json};

use crate::audit::{AuditAction, Caller, Target};
use crate::{App, AppError};

pub use list::{DEFAULT_LIMIT, MAX_LIMIT, ObjectPage, ObjectQuery, document};
pub use metrics::TypeTally;

/// The registry entry of an object type.
pub fn object_type(type_id: &str) -> Result<&'static TypeDef, AppError> {
    registry::find(type_id).ok_or_else(|| AppError::UnknownType {
        type_id: type_id.to_owned(),
        known: registry::type_ids(),
    })
}

/// A URL-safe id from a title: "Daily Advancement" → "daily-advancement".
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let out: String = out.chars().take(60).collect();
    if out.is_empty() {
        "object".to_owned()
    } else {
        out
    }
}

/// How to name a duplicate; each part defaults from the source.
#[derive(Debug, Clone, Default)]
pub struct CopyNames {
    /// The copy's id; default: a free `<source id>-copy`.
    pub id: Option<String>,
    /// The copy's title; default: `<source title> (copy)`. Must not be blank.
    pub title: Option<String>,
}

impl App {
    /// One object, or [`AppError::NotFound`].
    pub async fn object(&self, def: &TypeDef, id: &str) -> Result<StoredObject, AppError> {
        self.store
            .object_get(def.id, id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("{} \"{id}\"", def.id)))
    }

    /// The revisions of an object, newest first.
    pub async fn revisions(&self, def: &TypeDef, id: &str) -> Result<Vec<Revision>, AppError> {
        self.object(def, id).await?;
        Ok(self.store.revision_list(def.id, id).await?)
    }

    /// Creates an object from `{meta, payload}`; without `meta.id` the id
    /// is made from the title (`daily-advancement`, `daily-advancement-2`…).
    pub async fn create(
        &self,
        def: &TypeDef,
        body: &Value,
        by: &Caller,
    ) -> Result<StoredObject, AppError> {
        let valid = self
            .validate_object(def, body)
            .map_err(AppError::Validation)?;
        let id = match valid.meta.id.clone() {
            Some(id) => id,
            None => self.free_id(def, &slug(&valid.meta.title)).await?,
        };
        self.insert(def, id, valid, by, AuditAction::Create).await
    }

    /// Replaces an object with `{meta, payload}` (PUT). `expected` is the
    /// version edited; `None` means the version stored now.
    pub async fn replace(
        &self,
        def: &TypeDef,
        id: &str,
        body: &Value,
        expected: Option<i64>,
        by: &Caller,
    ) -> Result<StoredObject, AppError> {
        let current = self.object(def, id).await?;
        let expected = expected.unwrap_or(current.meta.version);
        let valid = self
            .validate_object(def, body)
            .map_err(AppError::Validation)?;
        self.save(def, id, expected, valid, by, AuditAction::Update)
            .await
    }

    /// Applies a JSON merge patch (RFC 7396) to `{meta, payload}` and saves
    /// the result if it is valid.
    pub async fn patch(
        &self,
        def: &TypeDef,
        id: &str,
        patch: &Value,
        expected: Option<i64>,
        by: &Caller,
    ) -> Result<StoredObject, AppError> {
        if !patch.is_object() {
            return Err(AppError::PatchNotAnObject);
        }
        let current = self.object(def, id).await?;
        let expected = expected.unwrap_or(current.meta.version);
        let mut merged = json!({ "meta": current.meta, "payload": current.payload });
        merge_patch::apply(&mut merged, patch);
        let valid = self
            .validate_object(def, &merged)
            .map_err(AppError::Validation)?;
        self.save(def, id, expected, valid, by, AuditAction::Update)
            .await
    }

    /// Deletes an object (and its revisions); `expected`: only this version.
    pub async fn delete(
        &self,
        def: &TypeDef,
        id: &str,
        expected: Option<i64>,
        by: &Caller,
    ) -> Result<(), AppError> {
        // Read first for the audit trail's "version before"; the delete
        // itself still checks `expected` against what is stored then.
        let before = self.object(def, id).await?.meta.version;
        if def.id == CALENDAR {
            let users = self.jobs_excluding(id).await?;
            if !users.is_empty() {
                return Err(AppError::Conflict {
                    message: format!(
                        "calendar \"{id}\" is excluded by job config{} {}: remove it from their schedule.excludeCalendars first",
                        if users.len() == 1 { "" } else { "s" },
                        users.join(", ")
                    ),
                    current: None,
                    seen_at: self.clock.now(),
                });
            }
        }
        match self.store.object_delete(def.id, id, expected).await {
            Err(StoreError::NotFound) => Err(AppError::not_found(format!("{} \"{id}\"", def.id))),
            Err(StoreError::Conflict { current }) => Err(self.stale(def, id, current).await),
            Err(e) => Err(e.into()),
            Ok(()) => {
                self.object_written(def, id);
                let target = Target::object(def.id, id).versions(Some(before), None);
                self.audit(by, AuditAction::Delete, target).await;
                Ok(())
            }
        }
    }

    /// A copy under a new id. A copied job config starts disabled, so the
    /// same work is not scheduled twice.
    pub async fn duplicate(
        &self,
        def: &TypeDef,
        id: &str,
        names: CopyNames,
        by: &Caller,
    ) -> Result<StoredObject, AppError> {
        let source = self.object(def, id).await?;
        let mut problems = Vec::new();
        if let Some(new_id) = &names.id
            && !is_valid_id(new_id)
        {
            problems.push(Problem::new(
                "/id",
                format!("\"{new_id}\" is not a valid id"),
            ));
        }
        let title = match names.title {
            Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
            Some(_) => {
                problems.push(Problem::new("/title", "must be a non-empty string"));
                String::new()
            }
            None => format!("{} (copy)", source.meta.title),
        };
        if !problems.is_empty() {
            return Err(AppError::Validation(problems));
        }
        let mut payload = source.payload.clone();
        if def.id == JOB_CONFIG {
            payload["schedule"]["isEnabled"] = json!(false);
            if let Some(name) = payload.get("displayName").and_then(Value::as_str) {
                payload["displayName"] = json!(format!("{name} (copy)"));
            }
        }
        let raw = json!({
            "meta": {"title": title, "description": source.meta.description, "tags": source.meta.tags},
            "payload": payload,
        });
        let valid = self
            .validate_object(def, &raw)
            .map_err(AppError::Validation)?;
        let new_id = match names.id {
            Some(i) => i,
            None => {
                self.free_id(def, &format!("{}-copy", source.meta.id))
                    .await?
            }
        };
        self.insert(def, new_id, valid, by, AuditAction::Duplicate)
            .await
    }

    /// Saves an earlier revision's content as a new version.
    pub async fn restore(
        &self,
        def: &TypeDef,
        id: &str,
        version: i64,
        expected: Option<i64>,
        by: &Caller,
    ) -> Result<StoredObject, AppError> {
        let current = self.object(def, id).await?;
        let revision = self
            .store
            .revision_get(def.id, id, version)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("revision {version} of {} \"{id}\"", def.id))
            })?;
        let expected = expected.unwrap_or(current.meta.version);
        let raw = json!({
            "meta": {"title": revision.title, "description": revision.description, "tags": revision.tags},
            "payload": revision.payload,
        });
        let valid = self
            .validate_object(def, &raw)
            .map_err(AppError::Validation)?;
        self.save(def, id, expected, valid, by, AuditAction::Restore)
            .await
    }

    /// Inserts a validated object under `id`.
    pub(crate) async fn insert(
        &self,
        def: &TypeDef,
        id: String,
        valid: ValidObject,
        by: &Caller,
        action: AuditAction,
    ) -> Result<StoredObject, AppError> {
        let mut valid = valid;
        self.check_schedule(def.id, &mut valid).await?;
        self.check_triggers(def.id, &id, &valid).await?;
        let result = self
            .store
            .object_insert(ObjectInsert {
                object_type: def.id.to_owned(),
                id: id.clone(),
                title: valid.meta.title,
                description: valid.meta.description,
                tags: valid.meta.tags,
                payload: valid.payload,
                actor: Some(by.name.clone()),
                now: self.clock.now(),
            })
            .await;
        let obj = match result {
            Err(StoreError::AlreadyExists) => {
                let current = self.store.object_get(def.id, &id).await?;
                return Err(AppError::Conflict {
                    message: format!("{} \"{id}\" already exists", def.id),
                    current: current.map(Box::new),
                    seen_at: self.clock.now(),
                });
            }
            other => other?,
        };
        self.object_written(def, &obj.meta.id);
        let target = Target::object(def.id, &obj.meta.id).versions(None, Some(obj.meta.version));
        self.audit(by, action, target).await;
        Ok(obj)
    }

    /// Saves a validated object over version `expected`. A body naming
    /// another id than the one saved is refused.
    pub(crate) async fn save(
        &self,
        def: &TypeDef,
        id: &str,
        expected: i64,
        valid: ValidObject,
        by: &Caller,
        action: AuditAction,
    ) -> Result<StoredObject, AppError> {
        if let Some(body_id) = &valid.meta.id
            && body_id != id
        {
            return Err(AppError::Validation(vec![Problem::new(
                "/meta/id",
                format!("must be \"{id}\" (the id in the URL) or left out, got \"{body_id}\""),
            )]));
        }
        let mut valid = valid;
        self.check_schedule(def.id, &mut valid).await?;
        self.check_triggers(def.id, id, &valid).await?;
        let result = self
            .store
            .object_update(ObjectUpdate {
                object_type: def.id.to_owned(),
                id: id.to_owned(),
                expected_version: expected,
                title: valid.meta.title,
                description: valid.meta.description,
                tags: valid.meta.tags,
                payload: valid.payload,
                actor: Some(by.name.clone()),
                now: self.clock.now(),
            })
            .await;
        let obj = match result {
            Err(StoreError::Conflict { current }) => {
                return Err(self.stale(def, id, current).await);
            }
            Err(StoreError::NotFound) => {
                return Err(AppError::not_found(format!("{} \"{id}\"", def.id)));
            }
            other => other?,
        };
        self.object_written(def, id);
        let target = Target::object(def.id, id).versions(Some(expected), Some(obj.meta.version));
        self.audit(by, action, target).await;
        Ok(obj)
    }

    /// The conflict of a write that named a stale version, with the object
    /// as stored now (when it can be read).
    async fn stale(&self, def: &TypeDef, id: &str, current_version: i64) -> AppError {
        // The conflict is the answer; failing to read the current object
        // only leaves it out.
        let current = self.store.object_get(def.id, id).await.ok().flatten();
        AppError::Conflict {
            message: format!(
                "{} \"{id}\" was changed by someone else: it is now at version {current_version}; reload it, reapply your change and save again",
                def.id
            ),
            current: current.map(Box::new),
            seen_at: self.clock.now(),
        }
    }

    /// `base`, or `base-2`, `base-3`, … whichever is free.
    async fn free_id(&self, def: &TypeDef, base: &str) -> Result<String, AppError> {
        let taken: Vec<String> = self
            .store
            .object_list(def.id)
            .await?
            .into_iter()
            .map(|o| o.meta.id)
            .collect();
        let mut candidate = base.to_owned();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        Ok(candidate)
    }

    /// An object was created, saved or deleted: a job config's schedule,
    /// or a calendar jobs exclude, may have changed.
    pub(crate) fn object_written(&self, def: &TypeDef, id: &str) {
        match def.id {
            JOB_CONFIG => self.wake(Change::Config(id.to_owned())),
            CALENDAR => self.wake(Change::Calendar(id.to_owned())),
            _ => {}
        }
    }
}
