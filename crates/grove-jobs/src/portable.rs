//! `apply` and `export`: objects as portable JSON files.
//!
//! `export` writes every object as `{meta: {id, type, title, description?,
//! tags?}, payload}` without server-written fields, so the output can be
//! committed to a repository and fed back to `apply` on another instance.
//! `apply` validates every object first (nothing is written if any is
//! invalid), prints a plan (create / update / unchanged), then carries it out
//! unless `--dry-run`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use grove_core::job_config::ENGINE_FIELDS;
use grove_core::registry::{self, JOB_CONFIG, TypeDef, ValidObject};
use grove_store::{ObjectInsert, ObjectUpdate, Store, StoredObject};
use serde_json::{Value, json};

/// The portable form of a stored object.
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

pub async fn export(store: &dyn Store, type_filter: Option<&str>) -> anyhow::Result<Value> {
    let mut out = Vec::new();
    for def in registry::TYPES {
        if type_filter.is_some_and(|t| t != def.id) {
            continue;
        }
        for obj in store.object_list(def.id).await? {
            out.push(portable(&obj));
        }
    }
    if let Some(t) = type_filter
        && registry::find(t).is_none()
    {
        bail!(
            "unknown type \"{t}\"; known types: {}",
            registry::type_ids()
        );
    }
    Ok(Value::Array(out))
}

/// JSON files named on the command line; a directory contributes its `*.json` files.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read directory {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

struct Planned {
    def: &'static TypeDef,
    id: String,
    valid: ValidObject,
}

fn load(file: &Path) -> anyhow::Result<Vec<(String, Value)>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", file.display()))?;
    Ok(match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("{}#{i}", file.display()), v))
            .collect(),
        v => vec![(file.display().to_string(), v)],
    })
}

pub async fn apply(
    store: &dyn Store,
    paths: &[PathBuf],
    dry_run: bool,
    now: jiff::Timestamp,
) -> anyhow::Result<bool> {
    let mut planned = Vec::new();
    let mut invalid = false;
    for file in collect_files(paths)? {
        for (name, raw) in load(&file)? {
            let type_id = raw
                .pointer("/meta/type")
                .and_then(Value::as_str)
                .unwrap_or(JOB_CONFIG);
            let Some(def) = registry::find(type_id) else {
                println!("{name}: /meta/type: unknown object type \"{type_id}\"");
                invalid = true;
                continue;
            };
            match def.validate(&raw) {
                Err(problems) => {
                    invalid = true;
                    for p in problems {
                        println!("{name}: {p}");
                    }
                }
                Ok(valid) => match valid.meta.id.clone() {
                    Some(id) => planned.push(Planned { def, id, valid }),
                    None => {
                        invalid = true;
                        println!(
                            "{name}: /meta/id: is required for apply (it names the object to create or update)"
                        );
                    }
                },
            }
        }
    }
    if invalid {
        println!("nothing applied: fix the problems above");
        return Ok(false);
    }
    for p in planned {
        let current = store.object_get(p.def.id, &p.id).await?;
        let action = match &current {
            None => "create",
            Some(c) if unchanged(c, &p.valid) => "unchanged",
            Some(_) => "update",
        };
        println!("{action} {} {}", p.def.id, p.id);
        if dry_run || action == "unchanged" {
            continue;
        }
        let actor = Some("apply".to_owned());
        match current {
            None => {
                store
                    .object_insert(ObjectInsert {
                        object_type: p.def.id.to_owned(),
                        id: p.id,
                        title: p.valid.meta.title,
                        description: p.valid.meta.description,
                        tags: p.valid.meta.tags,
                        payload: p.valid.payload,
                        actor,
                        now,
                    })
                    .await?;
            }
            Some(c) => {
                store
                    .object_update(ObjectUpdate {
                        object_type: p.def.id.to_owned(),
                        id: p.id,
                        expected_version: c.meta.version,
                        title: p.valid.meta.title,
                        description: p.valid.meta.description,
                        tags: p.valid.meta.tags,
                        payload: p.valid.payload,
                        actor,
                        now,
                    })
                    .await?;
            }
        }
    }
    if dry_run {
        println!("dry run: nothing was changed");
    }
    Ok(true)
}

fn unchanged(current: &StoredObject, valid: &ValidObject) -> bool {
    let portable = portable(current);
    current.meta.title == valid.meta.title
        && current.meta.description == valid.meta.description
        && current.meta.tags == valid.meta.tags
        && portable["payload"] == valid.payload
}
