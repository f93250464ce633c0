//! Listing objects of a type that match a query: a search (`q`),
//! equality filters on field paths (`filter.PATH`), a sort and a page.
//!
//! Queries address an object as one JSON [`document`] `{meta, payload,
//! derived?}`, the same shape the API returns and registry metrics count,
//! so `derived.health` can be filtered and sorted like a stored field.

use grove_core::job_config::JobConfigPayload;
use grove_core::query::{Condition, compare_values, get_path, matches_search, parse_bare_value};
use grove_core::registry::{JOB_CONFIG, TypeDef};
use grove_store::StoredObject;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::{App, AppError};

/// Page size when the query names none.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page.
pub const MAX_LIMIT: usize = 500;

/// An object as one document; job configs get `derived` (next run,
/// schedule text, health) computed for `now`.
pub fn document(obj: &StoredObject, now: Timestamp) -> Value {
    let mut body = json!({ "meta": obj.meta, "payload": obj.payload });
    if obj.meta.object_type == JOB_CONFIG
        && let Ok(payload) = <JobConfigPayload as serde::Deserialize>::deserialize(&obj.payload)
    {
        body["derived"] = json!(payload.derived(now));
    }
    body
}

/// What to list: parsed from `q`, `filter.PATH`, `sort`, `order`, `limit`
/// and `cursor` parameters ([`ObjectQuery::parse`]).
#[derive(Debug, Clone)]
pub struct ObjectQuery {
    q: Option<String>,
    filters: Vec<Condition>,
    sort: Option<String>,
    descending: Option<bool>,
    limit: usize,
    offset: usize,
}

impl Default for ObjectQuery {
    fn default() -> Self {
        Self {
            q: None,
            filters: Vec::new(),
            sort: None,
            descending: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of documents, the number matching and where the next page starts.
#[derive(Debug, Clone)]
pub struct ObjectPage {
    pub items: Vec<StoredObject>,
    pub total: usize,
    pub next_cursor: Option<String>,
    /// The instant the page was matched at: its documents' `derived`
    /// fields are as of then.
    pub seen_at: Timestamp,
}

impl ObjectPage {
    /// The page's objects as the documents the query matched.
    pub fn documents(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|o| document(o, self.seen_at))
            .collect()
    }
}

fn is_object_path(path: &str) -> bool {
    ["meta.", "payload.", "derived."]
        .iter()
        .any(|p| path.starts_with(p) && path.len() > p.len())
        && !path.split('.').any(str::is_empty)
}

impl ObjectQuery {
    /// Reads query parameters; an unknown or malformed one is refused with
    /// a sentence saying what is accepted.
    pub fn parse(params: &[(String, String)]) -> Result<Self, AppError> {
        let mut q = Self::default();
        for (i, (key, value)) in params.iter().enumerate() {
            if params[..i].iter().any(|(k, _)| k == key) {
                return Err(AppError::BadQuery(format!(
                    "the query parameter \"{key}\" is given more than once; give it once"
                )));
            }
            match key.as_str() {
                "q" => q.q = Some(value.clone()).filter(|v| !v.trim().is_empty()),
                "sort" => {
                    if !is_object_path(value) {
                        return Err(AppError::BadQuery(format!(
                            "sort \"{value}\" must be a field path such as meta.title or payload.schedule.cronExpression"
                        )));
                    }
                    q.sort = Some(value.clone());
                }
                "order" => {
                    q.descending = Some(match value.as_str() {
                        "asc" => false,
                        "desc" => true,
                        other => {
                            return Err(AppError::BadQuery(format!(
                                "order must be asc or desc, got \"{other}\""
                            )));
                        }
                    })
                }
                "limit" => {
                    q.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=MAX_LIMIT).contains(l))
                        .ok_or_else(|| {
                            AppError::BadQuery(format!("limit must be a whole number from 1 to {MAX_LIMIT}, got \"{value}\""))
                        })?;
                }
                "cursor" => {
                    q.offset = value.parse::<usize>().map_err(|_| {
                        AppError::BadQuery(format!(
                            "cursor \"{value}\" is not one this server handed out"
                        ))
                    })?;
                }
                k => match k.strip_prefix("filter.") {
                    Some(path) if is_object_path(path) => q.filters.push(Condition {
                        path: path.to_owned(),
                        negated: false,
                        value: parse_bare_value(value),
                    }),
                    Some(path) => {
                        return Err(AppError::BadQuery(format!(
                            "filter.{path}: the path must start with meta., payload. or derived."
                        )));
                    }
                    None => {
                        return Err(AppError::BadQuery(format!(
                            "unknown query parameter \"{k}\"; use q, filter.PATH, sort, order, limit or cursor"
                        )));
                    }
                },
            }
        }
        Ok(q)
    }

    /// Refuses a `sort` or `filter.PATH` naming no field of `def`'s
    /// documents: an unknown path would otherwise sort nothing and match
    /// nothing, silently.
    pub fn check_paths(&self, def: &TypeDef) -> Result<(), AppError> {
        let known = def.known_paths();
        let unknown = |what: &str, path: &str| {
            AppError::BadQuery(format!(
                "{what} \"{path}\" is not a field of {}; use one of {}",
                def.id,
                known.join(", ")
            ))
        };
        if let Some(sort) = &self.sort
            && !known.contains(sort)
        {
            return Err(unknown("sort", sort));
        }
        for c in &self.filters {
            if !known.contains(&c.path) {
                return Err(unknown(&format!("filter.{}", c.path), &c.path));
            }
        }
        Ok(())
    }
}

impl App {
    /// The objects of a type matching `query`, one page of them.
    pub async fn list(&self, def: &TypeDef, query: &ObjectQuery) -> Result<ObjectPage, AppError> {
        query.check_paths(def)?;
        let now = self.clock.now();
        if query.filters.is_empty() && query.q.is_none() && query.sort.is_none() {
            // Nothing to match, and id order: the database counts and
            // pages, so a page of thousands of objects reads one page.
            let total =
                usize::try_from(self.store.object_count(def.id).await?).unwrap_or(usize::MAX);
            let items = self
                .store
                .object_list_page(def.id, None, query.offset, query.limit)
                .await?;
            let next = query.offset + items.len();
            return Ok(ObjectPage {
                items,
                total,
                next_cursor: (next < total).then(|| next.to_string()),
                seen_at: now,
            });
        }
        // Each object with its document: queries read the document, the
        // page hands back the object.
        let mut items: Vec<(StoredObject, Value)> = self
            .store
            .object_list(def.id)
            .await?
            .into_iter()
            .map(|o| {
                let doc = document(&o, now);
                (o, doc)
            })
            .filter(|(_, v)| query.filters.iter().all(|c| c.matches(v)))
            .filter(|(_, v)| {
                query
                    .q
                    .as_deref()
                    .is_none_or(|q| matches_search(v, def.search_fields, q))
            })
            .collect();
        if let Some(path) = &query.sort {
            let descending = query.descending.unwrap_or_else(|| {
                def.sort_options
                    .iter()
                    .find(|s| s.field == path)
                    .is_some_and(|s| s.direction == "desc")
            });
            items.sort_by(|(_, a), (_, b)| {
                let (x, y) = (get_path(a, path), get_path(b, path));
                // Missing values sort last in either direction.
                match (x.is_none_or(Value::is_null), y.is_none_or(Value::is_null)) {
                    (false, false) if descending => compare_values(y, x),
                    _ => compare_values(x, y),
                }
            });
        }
        let total = items.len();
        let items: Vec<StoredObject> = items
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|(o, _)| o)
            .collect();
        let next = query.offset + items.len();
        Ok(ObjectPage {
            items,
            total,
            next_cursor: (next < total).then(|| next.to_string()),
            seen_at: now,
        })
    }
}
