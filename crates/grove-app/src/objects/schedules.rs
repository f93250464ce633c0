//! What a job config's schedule may name or say only given the store and
//! the clock: its excluded calendars must exist, a one-off `runAt` of an
//! enabled job must be ahead, a pause already over is dropped; and a
//! calendar that jobs exclude cannot be deleted.

use std::collections::{BTreeMap, BTreeSet};

use grove_core::job_config::JobConfigPayload;
use grove_core::plan::{Calendars, JobPlan, Upcoming};
use grove_core::registry::{CALENDAR, JOB_CONFIG, ValidObject};
use grove_core::validate::Problem;
use serde_json::Value;

use crate::{App, AppError};

/// Most runs `upcoming` answers.
pub const MAX_UPCOMING: usize = 100;

impl App {
    /// Every stored calendar, by id; one that does not decode excludes
    /// nothing.
    pub async fn calendars(&self) -> Result<Calendars, AppError> {
        let mut calendars = Calendars::default();
        for obj in self.store.object_list(CALENDAR).await? {
            if let Ok(c) = serde_json::from_value(obj.payload) {
                calendars.insert(obj.meta.id, c);
            }
        }
        Ok(calendars)
    }

    /// The next `count` runs of a job config (at most [`MAX_UPCOMING`]),
    /// with the slots its calendars exclude among them: exactly what the
    /// scheduler fires. None while the schedule is disabled.
    pub async fn upcoming(&self, config_id: &str, count: usize) -> Result<Upcoming, AppError> {
        let obj = self
            .store
            .object_get(JOB_CONFIG, config_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("job config \"{config_id}\"")))?;
        let payload: JobConfigPayload =
            serde_json::from_value(obj.payload).map_err(|source| AppError::Unrunnable {
                config_id: config_id.to_owned(),
                source,
            })?;
        if !payload.schedule.is_enabled {
            return Ok(Upcoming::default());
        }
        let calendars = self.calendars().await?;
        let plan = JobPlan::new(config_id, &payload.schedule, &calendars);
        Ok(plan
            .map(|p| p.upcoming(self.clock.now(), count.min(MAX_UPCOMING)))
            .unwrap_or_default())
    }

    /// Checks a job config's schedule against the store and the clock, and
    /// drops a pause that is already over. Other types pass unchanged.
    pub(crate) async fn check_schedule(
        &self,
        def_id: &str,
        valid: &mut ValidObject,
    ) -> Result<(), AppError> {
        if def_id != JOB_CONFIG {
            return Ok(());
        }
        let schedule = &mut valid.payload["schedule"];
        let mut problems = Vec::new();
        let now = self.clock.now();
        let instant = |v: &Value| v.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok());
        if let Some(until) = schedule.get("pausedUntil").and_then(instant)
            && until <= now
            && let Value::Object(map) = schedule
        {
            // A pause already in the past means nothing; keep it out of
            // the stored payload.
            map.remove("pausedUntil");
        }
        let enabled = schedule.get("isEnabled").and_then(Value::as_bool) == Some(true);
        if enabled
            && let Some(at) = schedule.get("runAt").and_then(instant)
            && at <= now
        {
            problems.push(Problem::new(
                "/payload/schedule/runAt",
                format!("{at} is in the past; a one-off run of an enabled job must be ahead (now is {now})"),
            ));
        }
        if let Some(ids) = schedule.get("excludeCalendars").and_then(Value::as_array) {
            for (i, id) in ids.iter().enumerate() {
                let Some(id) = id.as_str() else { continue };
                if self.store.object_get(CALENDAR, id).await?.is_none() {
                    problems.push(Problem::new(
                        format!("/payload/schedule/excludeCalendars/{i}"),
                        format!("there is no calendar \"{id}\"; create it first (type calendar)"),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(problems))
        }
    }

    /// Checks a job config's chained jobs: every target exists, and no
    /// chain leads back to the job itself (`a → b → a` is refused, named).
    pub(crate) async fn check_triggers(
        &self,
        def_id: &str,
        id: &str,
        valid: &ValidObject,
    ) -> Result<(), AppError> {
        if def_id != JOB_CONFIG {
            return Ok(());
        }
        let lists = ["onSuccess", "onFailure"];
        let targets_of = |payload: &Value| -> Vec<String> {
            lists
                .iter()
                .flat_map(|l| {
                    payload["triggers"][l]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                })
                .collect()
        };
        let mine = targets_of(&valid.payload);
        if mine.is_empty() {
            return Ok(());
        }
        let mut graph: BTreeMap<String, Vec<String>> = self
            .store
            .object_list(JOB_CONFIG)
            .await?
            .into_iter()
            .map(|o| (o.meta.id, targets_of(&o.payload)))
            .collect();
        let mut problems = Vec::new();
        for list in lists {
            for (i, target) in valid.payload["triggers"][list]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(target) = target.as_str() else {
                    continue;
                };
                if target != id && !graph.contains_key(target) {
                    problems.push(Problem::new(
                        format!("/payload/triggers/{list}/{i}"),
                        format!("there is no job config \"{target}\" to chain to"),
                    ));
                }
            }
        }
        graph.insert(id.to_owned(), mine);
        if let Some(cycle) = cycle_through(&graph, id) {
            problems.push(Problem::new(
                "/payload/triggers",
                format!(
                    "chains back to this job: {}; a chain must end",
                    cycle.join(" → ")
                ),
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(problems))
        }
    }

    /// The job configs that exclude calendar `id`, by id.
    pub async fn jobs_excluding(&self, id: &str) -> Result<Vec<String>, AppError> {
        Ok(self
            .store
            .object_list(JOB_CONFIG)
            .await?
            .into_iter()
            .filter(|o| {
                o.payload["schedule"]["excludeCalendars"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|v| v.as_str() == Some(id)))
            })
            .map(|o| o.meta.id)
            .collect())
    }
}

/// A path of chained jobs from `start` back to it (`[a, b, a]`), if any.
fn cycle_through(graph: &BTreeMap<String, Vec<String>>, start: &str) -> Option<Vec<String>> {
    // Depth-first from `start`, each job visited once.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<(Vec<&str>, &str)> = vec![(vec![start], start)];
    while let Some((path, at)) = stack.pop() {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                let mut cycle: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
                cycle.push(start.to_owned());
                return Some(cycle);
            }
            if seen.insert(next) {
                let mut longer = path.clone();
                longer.push(next);
                stack.push((longer, next));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(a, bs)| {
                (
                    (*a).to_owned(),
                    bs.iter().map(|b| (*b).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn cycles_are_found_and_named() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        assert_eq!(cycle_through(&g, "a").unwrap(), ["a", "b", "c", "a"]);
        assert_eq!(cycle_through(&g, "d"), None);
        let g = graph(&[("a", &["a"])]);
        assert_eq!(cycle_through(&g, "a").unwrap(), ["a", "a"]);
        let g = graph(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &[])]);
        assert_eq!(cycle_through(&g, "a"), None);
    }
}
