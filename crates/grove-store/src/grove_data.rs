//! Grove data: sprouts, signals, aggregates, advancement events, the event
//! journal, the notifications outbox and the archive.
//!
//! Verbs are entity-first and take params structs. Batch verbs run in one
//! transaction and report per item, so the API can answer item by item.

use std::collections::BTreeMap;

use async_trait::async_trait;
use grove_core::job_config::SignalPeriod;
use jiff::Timestamp;
use serde_json::Value;

use crate::StoreError;

/// A sprout to insert or update (created_at is kept on update).
#[derive(Debug, Clone, PartialEq)]
pub struct SproutUpsert {
    pub id: String,
    pub title: String,
    pub tier: String,
    pub parent_id: Option<String>,
    pub created_at: Timestamp,
}

/// What happened to one item of [`GroveDataStore::sprout_upsert_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
    /// Already stored exactly like this.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sprout {
    pub id: String,
    pub title: String,
    pub tier: String,
    pub parent_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Found in the archive rather than among live sprouts.
    pub archived: bool,
}

/// A signal to record; `kind` is a signal kind name ("retrieval").
#[derive(Debug, Clone, PartialEq)]
pub struct SignalInsert {
    pub id: String,
    pub sprout_id: String,
    pub kind: String,
    pub at: Timestamp,
    pub value: Option<f64>,
}

/// What happened to one item of [`GroveDataStore::signal_insert_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalOutcome {
    Accepted,
    /// This signal id was seen before (or earlier in the batch): counted once.
    Duplicate,
    /// The sprout does not exist (or is archived): not stored.
    UnknownSprout,
}

/// One aggregate row.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub period: SignalPeriod,
    pub kind: String,
    pub count: i64,
    pub last_seen: Timestamp,
    pub run_id: String,
    pub computed_at: Timestamp,
}

/// How complete a period's aggregates are.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateStatus {
    pub period: SignalPeriod,
    /// Every signal with `seq <= watermark` is counted.
    pub watermark: i64,
    pub window_start: Option<Timestamp>,
    pub run_id: String,
    pub computed_at: Timestamp,
}

/// Rebuilds one period's aggregates for the next `limit` sprouts (by id)
/// after `after_sprout`, counting signals with `seq <= max_seq` (and
/// `at >= window_start` when set).
#[derive(Debug, Clone)]
pub struct AggregateRebuildRange {
    pub period: SignalPeriod,
    pub window_start: Option<Timestamp>,
    /// Signals at or after it are left out (a window computed as of a past
    /// slot); `None`: every signal up to `max_seq`.
    pub window_end: Option<Timestamp>,
    pub after_sprout: Option<String>,
    pub limit: u32,
    pub max_seq: i64,
    pub run_id: String,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeOutcome {
    /// The last sprout id covered; `None` when there were no more sprouts.
    pub last_sprout: Option<String>,
    pub sprouts: u64,
    pub signals: u64,
}

/// Adds signals with `after_seq < seq <= max_seq` to the all_time aggregates.
#[derive(Debug, Clone)]
pub struct AggregateIncrement {
    pub after_seq: i64,
    pub max_seq: i64,
    pub run_id: String,
    pub now: Timestamp,
}

/// A page of sprouts with their counts in one period, for advancement.
#[derive(Debug, Clone)]
pub struct SproutPage {
    pub period: SignalPeriod,
    /// Empty: every tier.
    pub tiers: Vec<String>,
    pub after_id: Option<String>,
    pub limit: u32,
    /// Only these kinds' counts (the kinds the rules read); empty: every kind.
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SproutSignals {
    pub id: String,
    pub tier: String,
    /// Count per kind name; kinds without signals are absent.
    pub counts: BTreeMap<String, i64>,
}

/// One advancement found by a run.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvancementCandidate {
    pub sprout_id: String,
    pub from_tier: String,
    pub to_tier: String,
    pub rule_id: String,
    /// The signal values that satisfied the rule.
    pub signals: Value,
}

/// Applies a run's advancements in one transaction. A candidate is applied
/// only if the sprout is still at `from_tier`, was not advanced earlier in
/// this run, and never advanced by this rule from this tier; with `dry_run`
/// the event is written (marked) and no tier changes.
#[derive(Debug, Clone)]
pub struct AdvancementApply {
    pub run_id: String,
    pub dry_run: bool,
    pub at: Timestamp,
    pub items: Vec<AdvancementCandidate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdvancementEvent {
    pub id: String,
    pub sprout_id: String,
    pub from_tier: String,
    pub to_tier: String,
    pub rule_id: String,
    pub run_id: String,
    pub signals: Value,
    pub at: Timestamp,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AdvancementEventFilter {
    pub sprout_id: Option<String>,
    pub run_id: Option<String>,
    pub rule_id: Option<String>,
    pub limit: u32,
}

/// A journal entry to append.
#[derive(Debug, Clone)]
pub struct JournalAppend {
    pub event_type: String,
    pub at: Timestamp,
    pub subject: String,
    pub message: String,
    pub data: Value,
}

/// Which journal entries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    /// Only these event types (every type when empty).
    pub types: Vec<String>,
    /// Only entries about this subject (a job config id).
    pub subject: Option<String>,
    /// Only entries with `seq < before` (the next page).
    pub before: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Deterministic per run and recipient, so a retried run does not deliver twice.
    pub id: String,
    pub recipient_id: String,
    pub channel: String,
    pub subject: String,
    pub body: Value,
    pub run_id: Option<String>,
    pub created_at: Timestamp,
}

grove_core::choice_enum!(
    /// Entities the archive holds. Executions are finished executions whose
    /// job config is gone, archived with their attempts and log lines.
    ArchiveEntity {
        Sprouts => "sprouts",
        Signals => "signals",
        AdvancementEvents => "advancement-events",
        Executions => "executions",
    }
);

/// Which rows count as orphaned: signals and advancement events whose
/// sprout is gone; sprouts not updated and without signals since
/// `idle_before`; finished executions whose job config is gone (the
/// legacy advancement job's own executions never are).
#[derive(Debug, Clone)]
pub struct OrphanQuery {
    pub entity: ArchiveEntity,
    pub idle_before: Timestamp,
}

/// Moves up to `limit` orphans into the archive, in one transaction, in id
/// order after `after_id` (pass the last id moved so each row is looked at
/// once per run).
#[derive(Debug, Clone)]
pub struct ArchiveOrphans {
    pub query: OrphanQuery,
    pub after_id: Option<String>,
    pub limit: u32,
    pub reason: String,
    pub run_id: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedRow {
    pub entity: String,
    pub id: String,
    pub data: Value,
    pub reason: String,
    pub run_id: Option<String>,
    pub archived_at: Timestamp,
}

/// Bulk load of trusted, generated data (the demo dataset): multi-row
/// inserts in one transaction, existing ids left alone, no per-item report.
#[derive(Debug, Clone, Default)]
pub struct GroveBulkLoad {
    pub sprouts: Vec<SproutUpsert>,
    pub signals: Vec<SignalInsert>,
    pub now: Option<Timestamp>,
}

#[async_trait]
pub trait GroveDataStore {
    /// Inserts or updates sprouts in one transaction; one outcome per item.
    async fn sprout_upsert_batch(
        &self,
        items: Vec<SproutUpsert>,
        now: Timestamp,
    ) -> Result<Vec<UpsertOutcome>, StoreError>;

    /// A live sprout, else an archived one (`archived: true`), else `None`.
    async fn sprout_get(&self, id: &str) -> Result<Option<Sprout>, StoreError>;

    /// Live sprouts in `tiers` (every tier when empty).
    async fn sprout_count(&self, tiers: &[String]) -> Result<u64, StoreError>;

    /// Keyset page (by id) of live sprouts in `tiers` with their counts in `period`.
    async fn sprout_page_for_advancement(
        &self,
        page: SproutPage,
    ) -> Result<Vec<SproutSignals>, StoreError>;

    /// Records signals in one transaction; one outcome per item.
    async fn signal_insert_batch(
        &self,
        items: Vec<SignalInsert>,
        now: Timestamp,
    ) -> Result<Vec<SignalOutcome>, StoreError>;

    /// The highest signal `seq` (0 when there are none).
    async fn signal_max_seq(&self) -> Result<i64, StoreError>;

    async fn signal_count(&self) -> Result<u64, StoreError>;

    /// Trusted bulk insert (generated data); returns (sprouts, signals) inserted.
    async fn grove_bulk_load(&self, load: GroveBulkLoad) -> Result<(u64, u64), StoreError>;

    /// See [`AggregateRebuildRange`].
    async fn aggregate_rebuild_range(
        &self,
        params: AggregateRebuildRange,
    ) -> Result<RangeOutcome, StoreError>;

    /// See [`AggregateIncrement`]; returns how many signals were added.
    async fn aggregate_increment(&self, params: AggregateIncrement) -> Result<u64, StoreError>;

    async fn aggregate_status(
        &self,
        period: SignalPeriod,
    ) -> Result<Option<AggregateStatus>, StoreError>;

    /// Records a period as complete up to its watermark.
    async fn aggregate_status_set(&self, status: AggregateStatus) -> Result<(), StoreError>;

    /// Forgets a period's completeness (a rebuild is starting, or signals
    /// were archived), so readers know to recompute.
    async fn aggregate_status_clear(&self, period: SignalPeriod) -> Result<(), StoreError>;

    /// All aggregates of one sprout, by period and kind.
    async fn aggregate_get(&self, sprout_id: &str) -> Result<Vec<Aggregate>, StoreError>;

    /// See [`AdvancementApply`]; one flag per item: applied or skipped.
    async fn advancement_apply(&self, params: AdvancementApply) -> Result<Vec<bool>, StoreError>;

    /// Newest first.
    async fn advancement_event_list(
        &self,
        filter: AdvancementEventFilter,
    ) -> Result<Vec<AdvancementEvent>, StoreError>;

    /// Returns the entry's sequence number.
    async fn journal_append(&self, entry: JournalAppend) -> Result<i64, StoreError>;

    /// Entries with `seq > after_seq` of the given types (all when empty), oldest first.
    async fn journal_since(
        &self,
        after_seq: i64,
        types: &[String],
        limit: u32,
    ) -> Result<Vec<grove_core::grove::JournalEvent>, StoreError>;

    /// Entries matching `filter`, newest first.
    async fn journal_list(
        &self,
        filter: JournalFilter,
    ) -> Result<Vec<grove_core::grove::JournalEvent>, StoreError>;

    async fn digest_cursor_get(&self, key: &str) -> Result<Option<i64>, StoreError>;

    async fn digest_cursor_set(
        &self,
        key: &str,
        seq: i64,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// `false` when a notification with this id already exists.
    async fn notification_insert(&self, n: Notification) -> Result<bool, StoreError>;

    /// Newest first, for one recipient or all.
    async fn notification_list(
        &self,
        recipient_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;

    async fn orphan_count(&self, query: OrphanQuery) -> Result<u64, StoreError>;

    /// Up to `limit` orphan ids, for dry runs.
    async fn orphan_sample(
        &self,
        query: OrphanQuery,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;

    /// Moves orphans to the archive; returns the ids moved, in id order. Archiving
    /// signals clears every period's aggregate status.
    async fn archive_orphans(&self, params: ArchiveOrphans) -> Result<Vec<String>, StoreError>;

    /// Moves archived rows back; returns how many were restored (rows whose
    /// id is live again are left in the archive).
    async fn archive_restore(
        &self,
        entity: ArchiveEntity,
        ids: &[String],
    ) -> Result<u64, StoreError>;

    /// Newest first.
    async fn archive_list(
        &self,
        entity: ArchiveEntity,
        limit: u32,
    ) -> Result<Vec<ArchivedRow>, StoreError>;
}
