//! The scheduler: the next slot of every enabled job config, in a min-heap
//! keyed by instant. It sleeps until the earliest slot or a wake-up
//! (config saved or deleted, [`EngineHandle::tick`](crate::EngineHandle),
//! shutdown); there is no polling period. Firing inserts executions unique
//! on `(configId, scheduledFor)` in batches, so a slot runs at most once
//! even across instances and restarts, and wakes the executor.
//!
//! At start-up, slots missed while the service was down are found from the
//! stored position of each config (the latest slot it handled, never
//! earlier than the config's last save) and handled per
//! `schedule.misfirePolicy`: `run-once` runs the latest missed slot once,
//! marked late, if it is within `startingDeadlineSeconds`; everything else
//! missed is recorded as `skipped` with reason `missed`.
//!
//! With several instances, each follows every config but fires only its
//! share (`membership`); when the live set changes, the configs it gains
//! get the same misfire handling from their stored positions, since the
//! instance that fired them may have died with slots unfired.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use grove_core::calendar::CalendarPayload;
use grove_core::job_config::{
    AdvancementParams, JobConfigPayload, JobParameters, JobType, MisfirePolicy, OverlapPolicy,
    SignalPeriod,
};
use grove_core::plan::{Calendars, JobPlan, Slot};
use grove_core::registry::{CALENDAR, JOB_CONFIG};
use grove_core::retry::RetryPolicy;
use grove_core::schedule::DstPolicy;
use grove_store::{
    ExecutionClaim, ExecutionInsert, InsertDisposition, InsertOutcome, OBJECT_PAGE, ObjectPages,
    StoredObject, Trigger,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::membership::{self, Members};
use crate::{EngineError, LEGACY_CONFIG_ID, Shared, new_run_id, until};

/// Slots inserted per transaction; the batch's due slots start in it
/// (while the executor has room), the rest are claimed after it. Small, so
/// that when many configs share an instant the first runs start after a
/// short write rather than after all of them are recorded.
const BATCH: usize = 16;
/// While the scheduler records the slots of a crowded instant (more than
/// one batch), runs that end meanwhile wait before recording their
/// outcome, until the slots are recorded or for at most
/// [`FIRING_PRIORITY`] from the instant's first batch: every write takes
/// its turn on the database (on SQLite, on one writer), a slot recorded
/// late starts late, and an outcome recorded a second later changes
/// nothing for anyone. With ten thousand slots on one instant, the ends of
/// the runs started first took half of the writer's time while the last
/// slots waited (p99 1.6 s on SQLite with a 200 ms bound, 0.7 to 0.9 s
/// held for the whole burst). A run waiting holds a few kilobytes, and
/// they are let go a few batches at a time (`executor::ENDS_RECORDING`).
/// The bound is for a burst that takes much longer (a database failing
/// and retried): ends are then recorded beside its slots. Cleared when
/// dropped, whichever way firing ends.
struct Firing(Arc<Shared>);

/// How long the slots of a crowded instant go before the outcomes of runs
/// ending meanwhile.
const FIRING_PRIORITY: std::time::Duration = std::time::Duration::from_secs(5);

impl Firing {
    fn begin(shared: &Arc<Shared>) -> Self {
        let until = tokio::time::Instant::now() + FIRING_PRIORITY;
        shared.firing.send_replace(Some(until));
        Self(shared.clone())
    }
}

impl Drop for Firing {
    fn drop(&mut self) {
        self.0.firing.send_replace(None);
    }
}

/// Back-off bounds for recording slots while the database is unreachable.
const INSERT_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(250);
const INSERT_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// A config the scheduler follows. Thousands are held at once, so it
/// keeps only what firing needs, and the snapshot as compact text.
#[derive(Debug)]
struct Entry {
    /// When it runs: schedule, calendars, pause, jitter.
    plan: JobPlan,
    /// The run the heap holds for it.
    next: Slot,
    policy: Policy,
    /// The operator payload as stored (snapshotted on executions), as
    /// compact JSON: a fraction of the memory of a `Value`.
    snapshot: Box<str>,
    version: i64,
    /// When the config was last saved: no slot before it is a misfire.
    saved_at: Timestamp,
    /// Bumped on every change, so stale heap items are ignored.
    generation: u64,
}

/// Configs whose missed slots are prepared and recorded at a time when
/// this instance takes over a share: their inserts are never all in memory.
const TAKEOVER_PAGE: usize = 100;

/// The parts of a job config that decide how its slots are recorded.
#[derive(Debug)]
struct Policy {
    job_type: JobType,
    overlap: OverlapPolicy,
    misfire: MisfirePolicy,
    starting_deadline_seconds: u64,
    exclude_calendars: Vec<String>,
    retry: RetryPolicy,
    max_concurrent: u32,
}

impl Policy {
    fn of(payload: &JobConfigPayload) -> Self {
        let s = &payload.schedule;
        Self {
            job_type: payload.job_type,
            overlap: s.overlap_policy,
            misfire: s.misfire_policy,
            starting_deadline_seconds: s.starting_deadline_seconds,
            exclude_calendars: s.exclude_calendars.clone(),
            retry: payload.retry,
            max_concurrent: payload.limits.max_concurrent,
        }
    }
}

pub(crate) struct Scheduler {
    shared: Arc<Shared>,
    entries: HashMap<String, Entry>,
    heap: BinaryHeap<Reverse<(Timestamp, u64, String)>>,
    positions: HashMap<String, Timestamp>,
    /// Every calendar, by id (the plans' exclusions).
    calendars: Calendars,
    generation: u64,
    /// The live set whose share this scheduler fires.
    members: Members,
    /// Set when the followed configs or the live set changed: the count of
    /// owned configs is published again.
    recount: bool,
    /// Ends retries of slot inserts at shutdown.
    shutdown: CancellationToken,
}

/// The legacy defaults of migration mode: daily 02:00 UTC, batchSize 100,
/// all_time, enabled.
pub(crate) fn legacy_payload() -> JobConfigPayload {
    let mut p = JobConfigPayload::default_for(JobType::AdvancementBatch);
    p.display_name = "Daily Advancement (legacy defaults)".to_owned();
    p.schedule.cron_expression = Some("0 2 * * *".to_owned());
    p.schedule.timezone = "UTC".to_owned();
    p.schedule.is_enabled = true;
    p.schedule.dst_policy = DstPolicy::default();
    p.limits.batch_size = 100;
    p.parameters = JobParameters::AdvancementBatch(AdvancementParams {
        lifecycle_model_id: None,
        from_tiers: None,
        signal_period: SignalPeriod::AllTime,
        dry_run: false,
    });
    p
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// The live set as `membership` last read it.
fn shared_members(shared: &Shared) -> Members {
    shared.members.lock().clone()
}

fn decode(obj: &StoredObject, calendars: &Calendars) -> Option<(JobConfigPayload, JobPlan)> {
    let payload: JobConfigPayload = match serde::Deserialize::deserialize(&obj.payload) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(job = %obj.meta.id, error = %e, "job config cannot be scheduled as stored");
            return None;
        }
    };
    if !payload.schedule.is_enabled {
        return None;
    }
    match JobPlan::new(&obj.meta.id, &payload.schedule, calendars) {
        Some(plan) => Some((payload, plan)),
        None => {
            tracing::warn!(job = %obj.meta.id, "job config has an invalid schedule; not scheduled");
            None
        }
    }
}

/// What executions snapshot of a stored config: its operator payload,
/// without the fields the engine maintains, as compact JSON.
fn snapshot_of(payload: &Value) -> Box<str> {
    let mut snapshot = payload.clone();
    if let Value::Object(map) = &mut snapshot {
        for f in grove_core::job_config::ENGINE_FIELDS {
            map.remove(*f);
        }
    }
    snapshot.to_string().into_boxed_str()
}

/// Every stored calendar; one that does not decode excludes nothing.
async fn load_calendars(shared: &Shared) -> Result<Calendars, EngineError> {
    let mut calendars = Calendars::default();
    for obj in shared.store.object_list(CALENDAR).await? {
        match <CalendarPayload as serde::Deserialize>::deserialize(&obj.payload) {
            Ok(c) => calendars.insert(obj.meta.id.clone(), c),
            Err(e) => {
                tracing::warn!(calendar = %obj.meta.id, error = %e, "calendar cannot be read as stored; it excludes nothing");
            }
        }
    }
    Ok(calendars)
}

impl Scheduler {
    /// A scheduler following every job config from now on: loads them and
    /// records the slots missed while the service was down. Fails when the
    /// store cannot list the configs or their positions.
    pub(crate) async fn start(
        shared: Arc<Shared>,
        shutdown: CancellationToken,
    ) -> Result<Self, EngineError> {
        let members = shared_members(&shared);
        let mut scheduler = Self {
            shared,
            entries: HashMap::new(),
            heap: BinaryHeap::new(),
            positions: HashMap::new(),
            calendars: Calendars::default(),
            generation: 0,
            members,
            recount: true,
            shutdown,
        };
        scheduler.load().await?;
        Ok(scheduler)
    }

    /// Fires slots until the shutdown token given to [`Scheduler::start`]
    /// is cancelled.
    pub(crate) async fn run(mut self) -> Result<(), EngineError> {
        let _stopped = self.shared.scheduler_stopped.clone().drop_guard();
        let shutdown = self.shutdown.clone();
        let resync = self.shared.settings.resync_interval;
        let mut next_resync = tokio::time::Instant::now() + resync;
        loop {
            let requested = self.shared.resync_requested.swap(false, Ordering::SeqCst);
            if requested || tokio::time::Instant::now() >= next_resync {
                self.resync().await;
                next_resync = tokio::time::Instant::now() + resync;
            }
            self.apply_changes().await;
            self.follow_members().await;
            self.fire_due().await;
            self.publish_owned();
            let sleep = self
                .heap
                .peek()
                .map(|Reverse((at, _, _))| until(&*self.shared.clock, *at))
                .unwrap_or(resync)
                .min(next_resync.saturating_duration_since(tokio::time::Instant::now()));
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = self.shared.scheduler_wake.notified() => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
    }

    /// Loads every config and handles misfires.
    async fn load(&mut self) -> Result<(), EngineError> {
        self.positions = self
            .shared
            .store
            .slot_positions()
            .await?
            .into_iter()
            .map(|p| (p.config_id, p.last_scheduled_for))
            .collect();
        self.calendars = load_calendars(&self.shared).await?;
        let now = self.shared.clock.now();
        let store = self.shared.store.clone();
        let mut pages = ObjectPages::new(&*store, JOB_CONFIG, OBJECT_PAGE);
        while let Some(page) = pages.next_page().await? {
            let mut misfires = Vec::new();
            for obj in &page {
                if let Some(window) = self.upsert(obj, now)
                    && self.owns(&obj.meta.id)
                {
                    misfires.extend(self.misfires(&obj.meta.id, window, now, None));
                }
            }
            // Recorded a page at a time, so they are never all in memory.
            if !misfires.is_empty() {
                tracing::info!(
                    count = misfires.len(),
                    "recording slots missed while the service was down"
                );
                self.insert(misfires).await;
            }
        }
        self.update_legacy(now);
        tracing::info!(configs = self.entries.len(), "scheduler started");
        Ok(())
    }

    async fn resync(&mut self) {
        match load_calendars(&self.shared).await {
            Ok(calendars) if calendars != self.calendars => {
                self.calendars = calendars;
                // Every plan may exclude other slots now.
                self.entries.retain(|id, _| id == LEGACY_CONFIG_ID);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "scheduler resync could not read calendars"),
        }
        let now = self.shared.clock.now();
        let mut seen = std::collections::HashSet::new();
        let store = self.shared.store.clone();
        let mut pages = ObjectPages::new(&*store, JOB_CONFIG, OBJECT_PAGE);
        loop {
            match pages.next_page().await {
                Ok(Some(page)) => {
                    for obj in &page {
                        seen.insert(obj.meta.id.clone());
                        self.upsert(obj, now);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // Nothing is removed on a partial read.
                    tracing::warn!(error = %e, "scheduler resync failed");
                    return;
                }
            }
        }
        let gone: Vec<String> = self
            .entries
            .keys()
            .filter(|id| id.as_str() != LEGACY_CONFIG_ID && !seen.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            self.remove(&id);
        }
        self.update_legacy(now);
    }

    async fn apply_changes(&mut self) {
        let (mut ids, calendars): (Vec<String>, Vec<String>) = {
            let mut changes = self.shared.changes.lock();
            (
                changes.ids.drain().collect(),
                changes.calendars.drain().collect(),
            )
        };
        for calendar in calendars {
            match self.shared.store.object_get(CALENDAR, &calendar).await {
                Ok(obj) => {
                    let payload: Option<CalendarPayload> =
                        obj.and_then(|o| serde_json::from_value(o.payload).ok());
                    if payload.as_ref() == self.calendars.get(&calendar) {
                        // Heard again (our own write, through the feed): no change.
                        continue;
                    }
                    match payload {
                        Some(c) => self.calendars.insert(calendar.clone(), c),
                        None => {
                            self.calendars.0.remove(&calendar);
                        }
                    }
                    // Re-plan the jobs that exclude it.
                    let using: Vec<String> = self
                        .entries
                        .iter()
                        .filter(|(_, e)| e.policy.exclude_calendars.contains(&calendar))
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in using {
                        self.entries.remove(&id);
                        ids.push(id);
                    }
                }
                Err(e) => {
                    tracing::warn!(calendar = %calendar, error = %e, "cannot reload a changed calendar");
                    self.shared.changes.lock().calendars.insert(calendar);
                }
            }
        }
        if ids.is_empty() {
            return;
        }
        let now = self.shared.clock.now();
        for id in ids {
            match self.shared.store.object_get(JOB_CONFIG, &id).await {
                Ok(Some(obj)) => {
                    self.upsert(&obj, now);
                }
                Ok(None) => {
                    self.remove(&id);
                }
                Err(e) => {
                    tracing::warn!(job = %id, error = %e, "cannot reload a changed job config");
                    // Keep it pending for the next wake-up.
                    self.shared.changes.lock().ids.insert(id);
                }
            }
        }
        self.update_legacy(now);
    }

    /// Follows (or stops following) a config. Returns the start of its
    /// misfire window when it was not followed before and has a stored
    /// position (start-up after downtime).
    fn upsert(&mut self, obj: &StoredObject, now: Timestamp) -> Option<Timestamp> {
        let id = &obj.meta.id;
        // An entry exists only for an enabled, valid version: the same
        // version needs no decoding (resyncs read every config).
        if let Some(e) = self.entries.get(id)
            && e.version == obj.meta.version
        {
            return None;
        }
        let Some((payload, plan)) = decode(obj, &self.calendars) else {
            self.remove(id);
            return None;
        };
        let was_followed = self.entries.contains_key(id);
        let position = self.positions.get(id).copied();
        let window = match position {
            Some(p) if !was_followed => Some(p.max(obj.meta.updated_at)),
            _ => None,
        };
        if position.is_none() {
            // First sight: start the position now, so downtime from here
            // on is noticed. Best effort; a failure only loses misfire
            // detection for this config until its first slot.
            self.positions.insert(id.clone(), now);
            let store = self.shared.store.clone();
            let id = id.clone();
            tokio::spawn(async move {
                if let Err(e) = store.slot_position_advance(&id, now).await {
                    tracing::warn!(job = %id, error = %e, "cannot store the scheduler position");
                }
            });
        }
        // The first slot not yet fired (after the position) whose run may
        // still be due: with jitter, a slot up to `jitterSeconds` ago may
        // not have fired yet (a re-plan between a slot and its due instant
        // must not lose it).
        let jitter = SignedDuration::from_secs(i64::from(payload.schedule.jitter_seconds));
        let recent = now.checked_sub(jitter).unwrap_or(now);
        let after = position.map_or(now, |p| p.max(recent));
        let Some(next) = plan.next_after(after) else {
            self.remove(&obj.meta.id);
            return None;
        };
        self.put(
            obj.meta.id.clone(),
            plan,
            &payload,
            snapshot_of(&obj.payload),
            (obj.meta.version, obj.meta.updated_at),
            next,
        );
        window
    }

    /// Whether this instance fires `id`'s slots: its member of the live set
    /// (rendezvous hashing); every config while the set is unknown.
    fn owns(&self, id: &str) -> bool {
        membership::owner(&self.members, id).is_none_or(|o| o == self.shared.owner)
    }

    /// Publishes how many followed configs this instance fires, when that
    /// may have changed.
    fn publish_owned(&mut self) {
        if std::mem::take(&mut self.recount) {
            let owned = self.entries.keys().filter(|id| self.owns(id)).count();
            self.shared.owned_configs.store(owned, Ordering::Relaxed);
        }
    }

    /// Takes the live set over from `membership` when it changed. The
    /// configs this instance gains were another's, which may have died
    /// with slots unfired: their slots since the stored position (the
    /// latest anyone recorded) are misfires, as after downtime. The slots
    /// of an instance that is alive after all are already recorded, and a
    /// slot is unique per config and instant, so nothing runs twice.
    async fn follow_members(&mut self) {
        let members = shared_members(&self.shared);
        if Arc::ptr_eq(&members, &self.members) {
            return;
        }
        let before = std::mem::replace(&mut self.members, members);
        self.recount = true;
        let me = self.shared.owner.as_str();
        let gained: Vec<String> = self
            .entries
            .keys()
            .filter(|id| self.owns(id) && membership::owner(&before, id).is_some_and(|o| o != me))
            .cloned()
            .collect();
        if gained.is_empty() {
            return;
        }
        let stored: HashMap<String, Timestamp> = match self.shared.store.slot_positions().await {
            Ok(p) => p
                .into_iter()
                .map(|p| (p.config_id, p.last_scheduled_for))
                .collect(),
            Err(e) => {
                // Tried again at the next wake-up; until then the gained
                // configs stay unfired, as they would with the old view.
                tracing::warn!(error = %e, "cannot read the positions of the configs taken over");
                self.members = before;
                return;
            }
        };
        tracing::info!(
            configs = gained.len(),
            "taking over the slots of instances that left"
        );
        let now = self.shared.clock.now();
        for page in gained.chunks(TAKEOVER_PAGE) {
            let mut misfires = Vec::new();
            for id in page {
                let (Some(position), Some(entry)) = (stored.get(id), self.entries.get(id)) else {
                    continue;
                };
                self.positions.insert(id.clone(), *position);
                let window = (*position).max(entry.saved_at);
                // Slots from the one the heap holds on are fired as usual.
                let held = entry.next.scheduled_for;
                misfires.extend(self.misfires(id, window, now, Some(held)));
            }
            if !misfires.is_empty() {
                self.insert(misfires).await;
            }
        }
    }

    fn slots(&self) -> parking_lot::MutexGuard<'_, HashMap<String, Timestamp>> {
        self.shared.next_slots.lock()
    }

    fn remove(&mut self, id: &str) {
        if self.entries.remove(id).is_some() {
            self.recount = true;
        }
        self.slots().remove(id);
    }

    fn put(
        &mut self,
        id: String,
        plan: JobPlan,
        payload: &JobConfigPayload,
        snapshot: Box<str>,
        (version, saved_at): (i64, Timestamp),
        next: Slot,
    ) {
        self.recount = true;
        self.generation += 1;
        let generation = self.generation;
        self.heap
            .push(Reverse((next.due_at, generation, id.clone())));
        self.slots().insert(id.clone(), next.due_at);
        self.entries.insert(
            id,
            Entry {
                plan,
                next,
                policy: Policy::of(payload),
                snapshot,
                version,
                saved_at,
                generation,
            },
        );
    }

    /// Migration mode: the legacy advancement job is followed exactly while
    /// `legacyFallback` is on and no enabled advancement-batch config exists.
    fn update_legacy(&mut self, now: Timestamp) {
        let wanted = self.shared.settings.legacy_fallback
            && !self.entries.iter().any(|(id, e)| {
                id != LEGACY_CONFIG_ID && e.policy.job_type == JobType::AdvancementBatch
            });
        let mut since = self.shared.legacy_since.lock();
        match (wanted, self.entries.contains_key(LEGACY_CONFIG_ID)) {
            (true, false) => {
                let payload = legacy_payload();
                let Some(plan) = JobPlan::new(LEGACY_CONFIG_ID, &payload.schedule, &self.calendars)
                else {
                    return;
                };
                let Some(next) = plan.next_after(now) else {
                    return;
                };
                tracing::warn!(
                    "no enabled advancement-batch job config exists: the advancement job runs on legacy defaults (legacyFallback)"
                );
                if since.is_none() {
                    *since = Some(now);
                }
                drop(since);
                let snapshot = snapshot_of(&payload.to_value());
                self.put(
                    LEGACY_CONFIG_ID.to_owned(),
                    plan,
                    &payload,
                    snapshot,
                    (0, now),
                    next,
                );
            }
            (false, true) => {
                tracing::info!(
                    "an enabled advancement-batch job config exists: legacy defaults are no longer used"
                );
                *since = None;
                drop(since);
                self.remove(LEGACY_CONFIG_ID);
            }
            _ => {}
        }
    }

    /// Missed slots of a config in `(window, now]`, and before `before`
    /// when given (a slot the heap fires anyway is not missed).
    fn misfires(
        &self,
        id: &str,
        window: Timestamp,
        now: Timestamp,
        before: Option<Timestamp>,
    ) -> Vec<ExecutionInsert> {
        let Some(entry) = self.entries.get(id) else {
            return Vec::new();
        };
        // Missed runs, as the plan has them: excluded and paused slots
        // were never going to run, so they are not misfires.
        let plan = &entry.plan;
        let end = now + SignedDuration::from_millis(1);
        let end = before.map_or(end, |b| b.min(end));
        let Some(latest) = plan.prev_before(end).filter(|l| *l > window) else {
            return Vec::new();
        };
        let limit = self.shared.settings.missed_record_limit;
        let mut earlier = Vec::new();
        let mut t = window;
        while let Some(run) = plan.next_after(t) {
            let slot = run.scheduled_for;
            if slot >= latest {
                break;
            }
            earlier.push(slot);
            t = slot;
            if earlier.len() > limit {
                earlier.remove(0);
            }
        }
        let policy = &entry.policy;
        let deadline = SignedDuration::from_secs(
            i64::try_from(policy.starting_deadline_seconds).unwrap_or(i64::MAX),
        );
        let run_latest =
            policy.misfire == MisfirePolicy::RunOnce && now.duration_since(latest) <= deadline;
        let mut out: Vec<ExecutionInsert> = earlier
            .into_iter()
            .map(|slot| self.slot_insert(id, entry, plan.run_of(slot), now, Some("missed")))
            .collect();
        let mut last = self.slot_insert(
            id,
            entry,
            plan.run_of(latest),
            now,
            (!run_latest).then_some("missed"),
        );
        last.late = run_latest;
        out.push(last);
        out
    }

    fn slot_insert(
        &self,
        id: &str,
        entry: &Entry,
        run: Slot,
        now: Timestamp,
        skip: Option<&str>,
    ) -> ExecutionInsert {
        let disposition = match (skip, entry.policy.overlap) {
            (Some(reason), _) => InsertDisposition::Skip(reason.to_owned()),
            (None, OverlapPolicy::Skip) => InsertDisposition::SkipWhenBusy,
            (None, OverlapPolicy::Queue) => InsertDisposition::Queue,
        };
        ExecutionInsert {
            id: new_run_id(),
            config_id: id.to_owned(),
            trigger: Trigger::Schedule,
            scheduled_for: Some(run.scheduled_for),
            due_at: Some(run.due_at),
            late: false,
            // Our own serialization: it always parses.
            payload: serde_json::from_str(&entry.snapshot).unwrap_or(Value::Null),
            config_version: entry.version,
            retry: entry.policy.retry,
            max_concurrent: entry.policy.max_concurrent,
            retry_of: None,
            parent_run_id: None,
            overrides: None,
            actor: None,
            disposition,
            now,
        }
    }

    /// Fires every slot due at the clock's now.
    async fn fire_due(&mut self) {
        let now = self.shared.clock.now();
        let mut due = Vec::new();
        let mut firing: Option<Firing> = None;
        while let Some(Reverse((at, _, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, generation, id))) = self.heap.pop() else {
                break;
            };
            let Some(entry) = self.entries.get(&id) else {
                continue;
            };
            if entry.generation != generation {
                continue;
            }
            let run = entry.next;
            let next = entry.plan.next_after(run.scheduled_for);
            // Another live instance fires the rest; this one only moves on.
            if self.owns(&id) {
                due.push(self.slot_insert(&id, entry, run, now, None));
            }
            match next {
                Some(next) => {
                    self.generation += 1;
                    let g = self.generation;
                    if let Some(e) = self.entries.get_mut(&id) {
                        e.generation = g;
                        e.next = next;
                    }
                    self.heap.push(Reverse((next.due_at, g, id.clone())));
                    self.slots().insert(id.clone(), next.due_at);
                }
                None => {
                    self.remove(&id);
                }
            }
            self.positions.insert(id, run.scheduled_for);
            if due.len() >= BATCH {
                // A crowded instant: the runs ending meanwhile record their
                // outcome after it (see `Firing`).
                firing.get_or_insert_with(|| Firing::begin(&self.shared));
                // Record this batch before preparing the rest: the first
                // runs of a crowded instant start while the others are
                // still being prepared.
                self.insert(std::mem::take(&mut due)).await;
            }
        }
        if !due.is_empty() {
            self.insert(due).await;
        }
        drop(firing);
    }

    /// Records a batch of slots, retrying with back-off while the database
    /// cannot be reached: slots are unique per config and instant, so a
    /// retry never records one twice, and a slot is recorded late rather
    /// than lost. `None` at shutdown (the slots' positions did not move:
    /// the next start finds them as misfires).
    ///
    /// With `start` places free among the executor's `max_running`, as many
    /// due slots begin running in the insert's transaction (see
    /// `ExecutionStore::execution_insert_starting`): at a crowded instant
    /// the first handlers start after one write, not after a write and a
    /// claim. This process's runs of these configs whose handlers have
    /// returned make no slot overlap, whether or not their end is recorded
    /// yet (`grove_store::Returned`).
    async fn insert_retrying(
        &self,
        batch: Vec<ExecutionInsert>,
        start: usize,
    ) -> Option<Vec<InsertOutcome>> {
        let mut delay = INSERT_RETRY_FIRST;
        loop {
            let configs = batch.iter().map(|p| p.config_id.as_str());
            let claim = ExecutionClaim {
                owner: self.shared.owner.clone(),
                now: self.shared.clock.now(),
                lease_until: crate::executor::lease_until(&self.shared),
                limit: u32::try_from(start).unwrap_or(u32::MAX),
                returned: self.shared.returned.of(configs),
            };
            let inserted = self
                .shared
                .store
                .execution_insert_starting(batch.clone(), claim)
                .await;
            match inserted {
                Ok(outcomes) => return Some(outcomes),
                Err(e) => {
                    tracing::error!(error = %e, slots = batch.len(), retry_in_ms = delay.as_millis() as u64, "cannot record due slots; retrying");
                }
            }
            tokio::select! {
                () = self.shutdown.cancelled() => return None,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(INSERT_RETRY_MAX);
        }
    }

    async fn insert(&self, inserts: Vec<ExecutionInsert>) {
        let mut rest = inserts.into_iter().peekable();
        while rest.peek().is_some() {
            let batch: Vec<ExecutionInsert> = rest.by_ref().take(BATCH).collect();
            let running = &self.shared.handlers_running;
            let mut places = running.try_take(self.shared.settings.max_running, batch.len());
            let Some(outcomes) = self.insert_retrying(batch, places.len()).await else {
                return;
            };
            let mut skipped = Vec::new();
            let mut queued = false;
            for o in outcomes {
                match o {
                    InsertOutcome::Started(claimed) => match places.pop() {
                        Some(place) => running.hand_over(claimed, place),
                        // The store starts no more than it was given places.
                        None => {
                            tracing::error!(run = %claimed.execution.id, "a slot started without a place; lease rescue will retry it")
                        }
                    },
                    InsertOutcome::Queued(_) => queued = true,
                    InsertOutcome::Skipped(e) => {
                        self.shared.metrics.finished(e.status);
                        tracing::info!(
                            job = %e.config_id,
                            run = %e.id,
                            reason = e.reason.as_deref().unwrap_or(""),
                            "slot skipped"
                        );
                        skipped.push(e);
                    }
                    InsertOutcome::Duplicate => {}
                }
            }
            // Places not used are given back as `places` drops.
            if queued {
                self.shared.executor_wake.notify_one();
            }
            crate::deadman::slots_missed(&self.shared, &skipped).await;
        }
    }
}
