//! Grove data on PostgreSQL: not ported yet. Every verb answers
//! [`StoreError::Config`] so a PostgreSQL deployment says plainly that
//! ingestion and the grove jobs need SQLite for now; the SQLite adapter
//! (`sqlite/grove_data.rs`) and the conformance suite
//! (`tests/conformance/grove_data.rs`) are the reference for the port.

use async_trait::async_trait;
use grove_core::grove::JournalEvent;
use grove_core::job_config::SignalPeriod;
use jiff::Timestamp;

use super::PostgresStore;
use crate::StoreError;
use crate::grove_data::*;

fn unsupported() -> StoreError {
    StoreError::Config(
        "grove data (sprouts, signals, aggregates, advancement events, outbox, archive) \
         is not available on PostgreSQL yet; use a sqlite:// database for it"
            .to_owned(),
    )
}

#[async_trait]
impl GroveDataStore for PostgresStore {
    async fn sprout_upsert_batch(
        &self,
        _items: Vec<SproutUpsert>,
        _now: Timestamp,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        Err(unsupported())
    }

    async fn sprout_get(&self, _id: &str) -> Result<Option<Sprout>, StoreError> {
        Err(unsupported())
    }

    async fn sprout_count(&self, _tiers: &[String]) -> Result<u64, StoreError> {
        Err(unsupported())
    }

    async fn sprout_page_for_advancement(
        &self,
        _page: SproutPage,
    ) -> Result<Vec<SproutSignals>, StoreError> {
        Err(unsupported())
    }

    async fn signal_insert_batch(
        &self,
        _items: Vec<SignalInsert>,
        _now: Timestamp,
    ) -> Result<Vec<SignalOutcome>, StoreError> {
        Err(unsupported())
    }

    async fn signal_max_seq(&self) -> Result<i64, StoreError> {
        Err(unsupported())
    }

    async fn signal_count(&self) -> Result<u64, StoreError> {
        Err(unsupported())
    }

    async fn grove_bulk_load(&self, _load: GroveBulkLoad) -> Result<(u64, u64), StoreError> {
        Err(unsupported())
    }

    async fn aggregate_rebuild_range(
        &self,
        _params: AggregateRebuildRange,
    ) -> Result<RangeOutcome, StoreError> {
        Err(unsupported())
    }

    async fn aggregate_increment(&self, _params: AggregateIncrement) -> Result<u64, StoreError> {
        Err(unsupported())
    }

    async fn aggregate_status(
        &self,
        _period: SignalPeriod,
    ) -> Result<Option<AggregateStatus>, StoreError> {
        Err(unsupported())
    }

    async fn aggregate_status_set(&self, _status: AggregateStatus) -> Result<(), StoreError> {
        Err(unsupported())
    }

    async fn aggregate_status_clear(&self, _period: SignalPeriod) -> Result<(), StoreError> {
        Err(unsupported())
    }

    async fn aggregate_get(&self, _sprout_id: &str) -> Result<Vec<Aggregate>, StoreError> {
        Err(unsupported())
    }

    async fn advancement_apply(&self, _params: AdvancementApply) -> Result<Vec<bool>, StoreError> {
        Err(unsupported())
    }

    async fn advancement_event_list(
        &self,
        _filter: AdvancementEventFilter,
    ) -> Result<Vec<AdvancementEvent>, StoreError> {
        Err(unsupported())
    }

    async fn journal_append(&self, _entry: JournalAppend) -> Result<i64, StoreError> {
        Err(unsupported())
    }

    async fn journal_since(
        &self,
        _after_seq: i64,
        _types: &[String],
        _limit: u32,
    ) -> Result<Vec<JournalEvent>, StoreError> {
        Err(unsupported())
    }

    async fn digest_cursor_get(&self, _key: &str) -> Result<Option<i64>, StoreError> {
        Err(unsupported())
    }

    async fn digest_cursor_set(
        &self,
        _key: &str,
        _seq: i64,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        Err(unsupported())
    }

    async fn notification_insert(&self, _n: Notification) -> Result<bool, StoreError> {
        Err(unsupported())
    }

    async fn notification_list(
        &self,
        _recipient_id: Option<&str>,
        _limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        Err(unsupported())
    }

    async fn orphan_count(&self, _query: OrphanQuery) -> Result<u64, StoreError> {
        Err(unsupported())
    }

    async fn orphan_sample(
        &self,
        _query: OrphanQuery,
        _limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        Err(unsupported())
    }

    async fn archive_orphans(&self, _params: ArchiveOrphans) -> Result<Vec<String>, StoreError> {
        Err(unsupported())
    }

    async fn archive_restore(
        &self,
        _entity: ArchiveEntity,
        _ids: &[String],
    ) -> Result<u64, StoreError> {
        Err(unsupported())
    }

    async fn archive_list(
        &self,
        _entity: ArchiveEntity,
        _limit: u32,
    ) -> Result<Vec<ArchivedRow>, StoreError> {
        Err(unsupported())
    }
}
