//! What a job config's schedule may name or say only given the store and
//! the clock: its excluded calendars must exist, a one-off `runAt` of an
//! enabled job must be ahead, a pause already over is dropped; and a
//! calendar that jobs exclude cannot be deleted.

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

    /// The job configs that exclude calendar `id`, by id.
    pub(crate) async fn jobs_excluding(&self, id: &str) -> Result<Vec<String>, AppError> {
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
