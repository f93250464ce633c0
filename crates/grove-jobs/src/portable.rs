//! `apply` and `export`: objects as portable JSON files.
//!
//! `export` writes every object as `{meta: {id, type, title, description?,
//! tags?}, payload}` without server-written fields, so the output can be
//! committed to a repository and fed back to `apply` on another instance.
//! `apply` reads the files and hands them to the application's apply use
//! case, which validates every object first (nothing is written if any is
//! invalid) and plans create / update / unchanged; the plan is printed,
//! then carried out unless `--dry-run`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use grove_app::App;
use grove_app::AppError;
use grove_app::apply::{Document, portable};
use grove_core::registry;
use grove_store::Store;
use serde_json::Value;

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

/// Plans the documents of `paths` and prints the plan; carries it out
/// unless `dry_run`. `false` (after printing every problem) when a
/// document is invalid: nothing is applied then.
pub async fn apply(app: &App, paths: &[PathBuf], dry_run: bool) -> anyhow::Result<bool> {
    let mut documents = Vec::new();
    for file in collect_files(paths)? {
        for (source, raw) in load(&file)? {
            documents.push(Document { source, raw });
        }
    }
    let plan = match app.plan(documents).await {
        Ok(plan) => plan,
        Err(AppError::InvalidDocuments(problems)) => {
            for p in problems {
                println!("{p}");
            }
            println!("nothing applied: fix the problems above");
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    for step in &plan.steps {
        println!("{} {} {}", step.action, step.def.id, step.id);
    }
    if dry_run {
        println!("dry run: nothing was changed");
    } else {
        app.apply(plan, &grove_app::Caller::named("apply")).await?;
    }
    Ok(true)
}
