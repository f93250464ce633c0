//! PostgreSQL's change feed: LISTEN on the schema's channel, which the
//! triggers of migration 5 NOTIFY at commit.

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPool};

use crate::{Change, ChangeFeed, StoreError};

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

impl PgChangeFeed {
    pub(crate) async fn listen(pool: &PgPool) -> Result<Self, StoreError> {
        // The triggers name the channel after `current_schema()`; ask the
        // database rather than guess what the search path resolves to.
        let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(pool)
            .await?;
        let channel = format!("grove_{schema}");
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(&channel).await?;
        Ok(Self { listener, channel })
    }
}

/// A notification's payload (`topic` or `topic:subject`) as a change.
fn parse(payload: &str) -> Option<Change> {
    let (topic, subject) = payload.split_once(':').unwrap_or((payload, ""));
    Change::from_topic(topic, subject)
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
