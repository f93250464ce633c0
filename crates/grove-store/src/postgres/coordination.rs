//! Coordination on PostgreSQL: the change feed (LISTEN on the schema's
//! channel, fed by the triggers of migration 5) and the leader lease row.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::PgListener;

use super::PostgresStore;
use crate::{Change, ChangeFeed, CoordinationStore, StoreError, to_millis};

/// LISTENs on `grove_<schema>`.
pub(crate) struct PgChangeFeed {
    listener: PgListener,
    channel: String,
}

impl std::fmt::Debug for PgChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgChangeFeed")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

fn parse(payload: &str) -> Option<Change> {
    if payload == "runs" {
        return Some(Change::Runs);
    }
    if let Some(id) = payload.strip_prefix("config:") {
        return Some(Change::Config(id.to_owned()));
    }
    payload
        .strip_prefix("cancel:")
        .map(|id| Change::Cancel(id.to_owned()))
}

#[async_trait]
impl ChangeFeed for PgChangeFeed {
    async fn next(&mut self) -> Result<Change, StoreError> {
        loop {
            // `None`: the connection dropped; the next call reconnects and
            // re-listens, and whatever was sent in between is lost.
            match self.listener.try_recv().await? {
                None => return Ok(Change::Reconnected),
                Some(n) => {
                    if let Some(change) = parse(n.payload()) {
                        return Ok(change);
                    }
                    tracing::debug!(payload = n.payload(), "ignoring an unknown notification");
                }
            }
        }
    }
}

#[async_trait]
impl CoordinationStore for PostgresStore {
    async fn change_feed(&self) -> Result<Option<Box<dyn ChangeFeed>>, StoreError> {
        // The triggers name the channel after `current_schema()`; ask the
        // database rather than guess what the search path resolves to.
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&self.pool)
            .await?;
        let channel = format!("grove_{schema}");
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(&channel).await?;
        Ok(Some(Box::new(PgChangeFeed { listener, channel })))
    }

    async fn leader_acquire(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        // One statement: take a free or expired lease (next term), renew our
        // own (same term), or change nothing and return no row.
        Ok(sqlx::query_scalar(
            "INSERT INTO leader_leases (name, holder, term, expires_at) VALUES ($1, $2, 1, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
               term = leader_leases.term + CASE WHEN leader_leases.holder = excluded.holder \
                 THEN 0 ELSE 1 END, \
               expires_at = excluded.expires_at \
             WHERE leader_leases.holder = excluded.holder OR leader_leases.expires_at < $3 \
             RETURNING term",
        )
        .bind(name)
        .bind(holder)
        .bind(to_millis(now))
        .bind(to_millis(until))
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn leader_resign(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE leader_leases SET expires_at = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_and_unknown_ones_are_ignored() {
        assert_eq!(parse("runs"), Some(Change::Runs));
        assert_eq!(
            parse("config:nightly"),
            Some(Change::Config("nightly".into()))
        );
        assert_eq!(parse("cancel:0193"), Some(Change::Cancel("0193".into())));
        assert_eq!(parse("something else"), None);
    }
}
