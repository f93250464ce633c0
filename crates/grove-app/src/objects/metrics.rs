//! A type's registry metrics (`count(where: …)`), counted over every
//! object of the type.

use grove_core::query::get_path;
use grove_core::registry::{MetricTally, TypeDef};
use grove_store::{FieldPath, OBJECT_PAGE, ObjectPages};
use serde_json::Value;

use super::document;
use crate::{App, AppError};

/// What [`App::metrics`] counted.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeTally {
    /// Objects of the type.
    pub total: usize,
    /// `[{id, label, icon, query, value}]`, as the registry declares them.
    pub metrics: Vec<Value>,
}

impl App {
    /// Counts every metric of `def` over all its objects.
    ///
    /// Concurrent calls share counts: those that arrive while a count runs
    /// wait for the next, which serves them all. A count so always begins
    /// after every call it answers arrived, and sees every write
    /// acknowledged before each asked; a console of many viewers costs
    /// one scan per type at a time instead of one per viewer.
    pub async fn metrics(&self, def: &'static TypeDef) -> Result<TypeTally, AppError> {
        self.batches
            .metrics
            .write(
                def,
                |defs| async move {
                    // One count per type in the batch, cloned for its callers.
                    let mut counted: Vec<(&str, TypeTally)> = Vec::new();
                    let mut answers = Vec::with_capacity(defs.len());
                    for def in defs {
                        let tally = match counted.iter().find(|(id, _)| *id == def.id) {
                            Some((_, tally)) => tally.clone(),
                            None => {
                                let tally = self.count_metrics(def).await.ok()?;
                                counted.push((def.id, tally.clone()));
                                tally
                            }
                        };
                        answers.push(Ok(tally));
                    }
                    Some(answers)
                },
                |def| self.count_metrics(def),
            )
            .await
    }

    /// One count of [`Self::metrics`].
    ///
    /// Metrics that read only payload fields are counted by the store,
    /// which answers how many objects hold each combination of those
    /// fields' values: reading thousands of objects out and assembling
    /// each document (its meta serialized, its payload copied, its derived
    /// fields computed) was nearly all a metrics call cost. Other metrics
    /// are counted on the documents, a page at a time so that thousands
    /// of objects are never all in memory.
    async fn count_metrics(&self, def: &TypeDef) -> Result<TypeTally, AppError> {
        let mut tally = MetricTally::new(def).map_err(AppError::Metric)?;
        let mut paths: Vec<String> = tally.paths().map(str::to_owned).collect();
        paths.sort_unstable();
        paths.dedup();
        let fields: Option<Vec<FieldPath>> = paths
            .iter()
            .map(|p| p.strip_prefix("payload.").and_then(FieldPath::parse))
            .collect();
        match fields {
            Some(fields) => {
                for alike in self.store.object_field_counts(def.id, &fields).await? {
                    let objects = usize::try_from(alike.objects).unwrap_or(usize::MAX);
                    tally.add_with(objects, |path| {
                        let i = paths.iter().position(|p| p == path)?;
                        alike.values[i].as_ref()
                    });
                }
            }
            None => {
                let now = self.clock.now();
                let mut pages = ObjectPages::new(&*self.store, def.id, OBJECT_PAGE);
                while let Some(page) = pages.next_page().await? {
                    for object in &page {
                        let doc = document(object, now);
                        tally.add_with(1, |path| get_path(&doc, path));
                    }
                }
            }
        }
        Ok(TypeTally {
            total: tally.total(),
            metrics: tally.finish(),
        })
    }
}
