use async_trait::async_trait;
use grove_core::object::ObjectMeta;
use grove_core::registry::merge_state;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::{
    ObjectInsert, ObjectStore, ObjectUpdate, Revision, StoreError, StoredObject, from_millis,
    to_millis,
};

const SELECT: &str = "SELECT object_type, id, title, description, tags, version, payload, state, \
     created_at, updated_at, created_by, updated_by FROM objects";

fn object_from_row(row: &SqliteRow) -> Result<StoredObject, StoreError> {
    let mut payload: Value = serde_json::from_str(row.try_get("payload")?)?;
    let state: Map<String, Value> = serde_json::from_str(row.try_get("state")?)?;
    merge_state(&mut payload, &state);
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
            tags: serde_json::from_str(row.try_get("tags")?)?,
        },
        payload,
    })
}

fn revision_from_row(row: &SqliteRow) -> Result<Revision, StoreError> {
    Ok(Revision {
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        tags: serde_json::from_str(row.try_get("tags")?)?,
        payload: serde_json::from_str(row.try_get("payload")?)?,
        actor: row.try_get("actor")?,
        at: from_millis(row.try_get("at")?)?,
    })
}

#[async_trait]
impl ObjectStore for SqliteStore {
    async fn object_get(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Option<StoredObject>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE object_type = ? AND id = ?"
        )))
        .bind(object_type)
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(object_from_row).transpose()
    }

    async fn object_list(&self, object_type: &str) -> Result<Vec<StoredObject>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE object_type = ? ORDER BY id"
        )))
        .bind(object_type)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(object_from_row).collect()
    }

    async fn object_insert(&self, p: ObjectInsert) -> Result<StoredObject, StoreError> {
        let tags = serde_json::to_string(&p.tags)?;
        let payload = serde_json::to_string(&p.payload)?;
        let now = to_millis(p.now);
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO objects (object_type, id, title, description, tags, version, payload, state, \
             created_at, updated_at, created_by, updated_by) VALUES (?, ?, ?, ?, ?, 1, ?, '{}', ?, ?, ?, ?)",
        )
        .bind(&p.object_type)
        .bind(&p.id)
        .bind(&p.title)
        .bind(&p.description)
        .bind(&tags)
        .bind(&payload)
        .bind(now)
        .bind(now)
        .bind(&p.actor)
        .bind(&p.actor)
        .execute(&mut *tx)
        .await?;
        insert_revision(
            &mut tx,
            &p.object_type,
            &p.id,
            1,
            &p.title,
            &p.description,
            &tags,
            &payload,
            &p.actor,
            now,
        )
        .await?;
        tx.commit().await?;
        self.object_get(&p.object_type, &p.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn object_update(&self, p: ObjectUpdate) -> Result<StoredObject, StoreError> {
        let tags = serde_json::to_string(&p.tags)?;
        let payload = serde_json::to_string(&p.payload)?;
        let now = to_millis(p.now);
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE objects SET title = ?, description = ?, tags = ?, payload = ?, version = version + 1, \
             updated_at = ?, updated_by = ? WHERE object_type = ? AND id = ? AND version = ?",
        )
        .bind(&p.title)
        .bind(&p.description)
        .bind(&tags)
        .bind(&payload)
        .bind(now)
        .bind(&p.actor)
        .bind(&p.object_type)
        .bind(&p.id)
        .bind(p.expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT version FROM objects WHERE object_type = ? AND id = ?")
                    .bind(&p.object_type)
                    .bind(&p.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match current {
                Some(current) => StoreError::Conflict { current },
                None => StoreError::NotFound,
            });
        }
        let version = p.expected_version + 1;
        insert_revision(
            &mut tx,
            &p.object_type,
            &p.id,
            version,
            &p.title,
            &p.description,
            &tags,
            &payload,
            &p.actor,
            now,
        )
        .await?;
        tx.commit().await?;
        self.object_get(&p.object_type, &p.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn object_delete(
        &self,
        object_type: &str,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT version FROM objects WHERE object_type = ? AND id = ?")
                .bind(object_type)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        match (current, expected_version) {
            (None, _) => return Err(StoreError::NotFound),
            (Some(current), Some(expected)) if current != expected => {
                return Err(StoreError::Conflict { current });
            }
            _ => {}
        }
        sqlx::query("DELETE FROM objects WHERE object_type = ? AND id = ?")
            .bind(object_type)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM object_revisions WHERE object_type = ? AND id = ?")
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
        let mut tx = self.write.begin().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT state FROM objects WHERE object_type = ? AND id = ?")
                .bind(object_type)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let mut merged: Map<String, Value> =
            serde_json::from_str(&current.ok_or(StoreError::NotFound)?)?;
        for (k, v) in state {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        sqlx::query("UPDATE objects SET state = ? WHERE object_type = ? AND id = ?")
            .bind(serde_json::to_string(&merged)?)
            .bind(object_type)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revision_list(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, title, description, tags, payload, actor, at FROM object_revisions \
             WHERE object_type = ? AND id = ? ORDER BY version DESC",
        )
        .bind(object_type)
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(revision_from_row).collect()
    }

    async fn revision_get(
        &self,
        object_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<Revision>, StoreError> {
        let row = sqlx::query(
            "SELECT version, title, description, tags, payload, actor, at FROM object_revisions \
             WHERE object_type = ? AND id = ? AND version = ?",
        )
        .bind(object_type)
        .bind(id)
        .bind(version)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(revision_from_row).transpose()
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_revision(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    object_type: &str,
    id: &str,
    version: i64,
    title: &str,
    description: &Option<String>,
    tags: &str,
    payload: &str,
    actor: &Option<String>,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO object_revisions (object_type, id, version, title, description, tags, payload, actor, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(object_type)
    .bind(id)
    .bind(version)
    .bind(title)
    .bind(description)
    .bind(tags)
    .bind(payload)
    .bind(actor)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
