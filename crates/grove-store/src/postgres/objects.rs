//! Objects and revisions on PostgreSQL.
//!
//! `payload` columns are JSON (text kept as written, so key order survives);
//! they are bound as text and cast with `::json`, since binding a
//! `serde_json::Value` would go through JSONB and reorder keys. `state` and
//! `tags` are JSONB.

use async_trait::async_trait;
use grove_core::object::ObjectMeta;
use grove_core::registry::merge_state;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::PostgresStore;
use crate::{
    ObjectInsert, ObjectStore, ObjectUpdate, Revision, StoreError, StoredObject, from_millis,
    to_millis,
};

const COLUMNS: &str = "object_type, id, title, description, tags, version, payload, state, \
     created_at, updated_at, created_by, updated_by";

const REVISION_COLUMNS: &str = "version, title, description, tags, payload, actor, at";

fn object_from_row(row: &PgRow) -> Result<StoredObject, StoreError> {
    let mut payload: Value = row.try_get("payload")?;
    let Json(state): Json<Map<String, Value>> = row.try_get("state")?;
    merge_state(&mut payload, &state);
    let Json(tags): Json<Vec<String>> = row.try_get("tags")?;
    Ok(StoredObject {
        meta: ObjectMeta {
            id: row.try_get("id")?,
            object_type: row.try_get("object_type")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            version: row.try_get("version")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            updated_at: from_millis(row.try_get("updated_at")?)?,
            created_by: row.try_get("created_by")?,
            updated_by: row.try_get("updated_by")?,
            tags,
        },
        payload,
    })
}

fn revision_from_row(row: &PgRow) -> Result<Revision, StoreError> {
    let Json(tags): Json<Vec<String>> = row.try_get("tags")?;
    Ok(Revision {
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        tags,
        payload: row.try_get("payload")?,
        actor: row.try_get("actor")?,
        at: from_millis(row.try_get("at")?)?,
    })
}

/// The current version of an object, inside a transaction that just failed
/// a versioned write: tells `Conflict` from `NotFound`.
async fn current_version(
    conn: &mut sqlx::PgConnection,
    object_type: &str,
    id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM objects WHERE object_type = $1 AND id = $2")
            .bind(object_type)
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

#[async_trait]
impl ObjectStore for PostgresStore {
    async fn object_get(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Option<StoredObject>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM objects WHERE object_type = $1 AND id = $2"
        )))
        .bind(object_type)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(object_from_row).transpose()
    }

    async fn object_list(&self, object_type: &str) -> Result<Vec<StoredObject>, StoreError> {
        // `id` is COLLATE "C" (byte order, like SQLite), so this is the
        // primary key's order.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM objects WHERE object_type = $1 ORDER BY id"
        )))
        .bind(object_type)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(object_from_row).collect()
    }

    async fn object_insert(&self, p: ObjectInsert) -> Result<StoredObject, StoreError> {
        let tags = Json(&p.tags);
        let payload = serde_json::to_string(&p.payload)?;
        let now = to_millis(p.now);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO objects ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, 1, $6::json, '{{}}', $7, $7, $8, $8) RETURNING {COLUMNS}"
        )))
        .bind(&p.object_type)
        .bind(&p.id)
        .bind(&p.title)
        .bind(&p.description)
        .bind(tags)
        .bind(&payload)
        .bind(now)
        .bind(&p.actor)
        .fetch_one(&mut *tx)
        .await?;
        insert_revision(
            &mut tx,
            RevisionRow {
                object_type: &p.object_type,
                id: &p.id,
                version: 1,
                title: &p.title,
                description: &p.description,
                tags: &p.tags,
                payload: &payload,
                actor: &p.actor,
                at: now,
            },
        )
        .await?;
        tx.commit().await?;
        object_from_row(&row)
    }

    async fn object_update(&self, p: ObjectUpdate) -> Result<StoredObject, StoreError> {
        let payload = serde_json::to_string(&p.payload)?;
        let now = to_millis(p.now);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE objects SET title = $1, description = $2, tags = $3, payload = $4::json, \
             version = version + 1, updated_at = $5, updated_by = $6 \
             WHERE object_type = $7 AND id = $8 AND version = $9 RETURNING {COLUMNS}"
        )))
        .bind(&p.title)
        .bind(&p.description)
        .bind(Json(&p.tags))
        .bind(&payload)
        .bind(now)
        .bind(&p.actor)
        .bind(&p.object_type)
        .bind(&p.id)
        .bind(p.expected_version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(
                match current_version(&mut tx, &p.object_type, &p.id).await? {
                    Some(current) => StoreError::Conflict { current },
                    None => StoreError::NotFound,
                },
            );
        };
        insert_revision(
            &mut tx,
            RevisionRow {
                object_type: &p.object_type,
                id: &p.id,
                version: p.expected_version + 1,
                title: &p.title,
                description: &p.description,
                tags: &p.tags,
                payload: &payload,
                actor: &p.actor,
                at: now,
            },
        )
        .await?;
        tx.commit().await?;
        object_from_row(&row)
    }

    async fn object_delete(
        &self,
        object_type: &str,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // One statement, so a save that lands between a check and the
        // delete cannot be deleted unseen.
        let done = sqlx::query(
            "DELETE FROM objects WHERE object_type = $1 AND id = $2 \
             AND ($3::BIGINT IS NULL OR version = $3)",
        )
        .bind(object_type)
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(match current_version(&mut tx, object_type, id).await? {
                Some(current) => StoreError::Conflict { current },
                None => StoreError::NotFound,
            });
        }
        sqlx::query("DELETE FROM object_revisions WHERE object_type = $1 AND id = $2")
            .bind(object_type)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn object_state_merge(
        &self,
        object_type: &str,
        id: &str,
        state: Map<String, Value>,
    ) -> Result<(), StoreError> {
        // One statement: keys with a value are set (`||`), keys given as
        // null are removed (`- text[]`); concurrent merges of different keys
        // all survive.
        let (removed, set): (Map<String, Value>, Map<String, Value>) =
            state.into_iter().partition(|(_, v)| v.is_null());
        let removed: Vec<String> = removed.into_iter().map(|(k, _)| k).collect();
        let done = sqlx::query(
            "UPDATE objects SET state = (state || $3) - $4::TEXT[] \
             WHERE object_type = $1 AND id = $2",
        )
        .bind(object_type)
        .bind(id)
        .bind(Json(&set))
        .bind(&removed)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn revision_list(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVISION_COLUMNS} FROM object_revisions \
             WHERE object_type = $1 AND id = $2 ORDER BY version DESC"
        )))
        .bind(object_type)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(revision_from_row).collect()
    }

    async fn revision_get(
        &self,
        object_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<Revision>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVISION_COLUMNS} FROM object_revisions \
             WHERE object_type = $1 AND id = $2 AND version = $3"
        )))
        .bind(object_type)
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(revision_from_row).transpose()
    }
}

/// One row of `object_revisions`.
struct RevisionRow<'a> {
    object_type: &'a str,
    id: &'a str,
    version: i64,
    title: &'a str,
    description: &'a Option<String>,
    tags: &'a [String],
    /// Serialised JSON, stored as written.
    payload: &'a str,
    actor: &'a Option<String>,
    at: i64,
}

async fn insert_revision(
    conn: &mut sqlx::PgConnection,
    r: RevisionRow<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO object_revisions (object_type, id, version, title, description, tags, payload, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8, $9)",
    )
    .bind(r.object_type)
    .bind(r.id)
    .bind(r.version)
    .bind(r.title)
    .bind(r.description)
    .bind(Json(r.tags))
    .bind(r.payload)
    .bind(r.actor)
    .bind(r.at)
    .execute(conn)
    .await?;
    Ok(())
}
