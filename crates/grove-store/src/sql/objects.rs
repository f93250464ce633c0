//! Objects and revisions. `payload` keeps the operator's JSON as written
//! (its key order survives); engine-written state lives in `state` and is
//! merged in on read.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use grove_core::object::ObjectMeta;
use grove_core::registry::merge_state;
use serde_json::{Map, Value};

use super::{Dialect, Exec, Row, RowExt, SqlStore, sql};
use crate::error::Corrupt;
use crate::{
    FieldCount, FieldPath, ObjectInsert, ObjectStore, ObjectUpdate, Revision, StoreError,
    StoredObject,
};

const COLUMNS: &str = "object_type, id, title, description, tags, version, payload, state, \
     created_at, updated_at, created_by, updated_by";

const REVISION_COLUMNS: &str = "version, title, description, tags, payload, actor, at";

fn object_from_row(row: &impl Row) -> Result<StoredObject, StoreError> {
    let mut payload: Value = row.get("payload")?;
    let state: Map<String, Value> = row.decode("state")?;
    merge_state(&mut payload, &state);
    Ok(StoredObject {
        meta: ObjectMeta {
            id: row.get("id")?,
            object_type: row.get("object_type")?,
            title: row.get("title")?,
            description: row.get("description")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            created_by: row.get("created_by")?,
            updated_by: row.get("updated_by")?,
            tags: row.decode("tags")?,
        },
        payload,
    })
}

fn revision_from_row(row: &impl Row) -> Result<Revision, StoreError> {
    Ok(Revision {
        version: row.get("version")?,
        title: row.get("title")?,
        description: row.get("description")?,
        tags: row.decode("tags")?,
        payload: row.get("payload")?,
        actor: row.get("actor")?,
        at: row.get("at")?,
    })
}

/// After a versioned write changed nothing: `Conflict` with the current
/// version, or `NotFound`.
async fn stale<E: Exec>(tx: &mut E, object_type: &str, id: &str) -> StoreError {
    let current = tx
        .fetch_optional(
            sql("SELECT version FROM objects WHERE object_type = $1 AND id = $2")
                .bind(object_type)
                .bind(id),
        )
        .await;
    match current.and_then(|row| row.map(|r| r.get::<i64>("version")).transpose()) {
        Ok(Some(current)) => StoreError::Conflict { current },
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

/// The revision a save writes, in the save's transaction.
async fn insert_revision<E: Exec>(
    tx: &mut E,
    object: &StoredObject,
    operator_payload: &Value,
    actor: &Option<String>,
) -> Result<(), StoreError> {
    tx.execute(
        sql(
            "INSERT INTO object_revisions (object_type, id, version, title, description, tags, \
             payload, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&object.meta.object_type)
        .bind(&object.meta.id)
        .bind(object.meta.version)
        .bind(&object.meta.title)
        .bind(&object.meta.description)
        .bind_json(&serde_json::json!(object.meta.tags))
        .bind_json(operator_payload)
        .bind(actor)
        .bind(object.meta.updated_at),
    )
    .await?;
    Ok(())
}

/// Merges engine-written keys into an object's state in `tx`, without
/// bumping its version (`null` removes a key): read, merge, write under a
/// row lock, so concurrent merges of different keys all survive. `false`
/// when the object is gone.
pub(crate) async fn state_merge_in<D: Dialect>(
    tx: &mut D::Write,
    object_type: &str,
    id: &str,
    state: Map<String, Value>,
) -> Result<bool, StoreError> {
    let lock = D::LOCK_ROWS;
    let Some(row) = tx
        .fetch_optional(
            sql(format!(
                "SELECT state FROM objects WHERE object_type = $1 AND id = $2{lock}"
            ))
            .bind(object_type)
            .bind(id),
        )
        .await?
    else {
        return Ok(false);
    };
    let mut stored: Map<String, Value> = row.decode("state")?;
    apply_state(&mut stored, state);
    states_write_in::<D>(tx, object_type, &[(id, Value::Object(stored))]).await?;
    Ok(true)
}

/// Engine state merged over the stored state: a null removes its key.
pub(crate) fn apply_state(stored: &mut Map<String, Value>, state: Map<String, Value>) {
    for (key, value) in state {
        if value.is_null() {
            stored.remove(&key);
        } else {
            stored.insert(key, value);
        }
    }
}

/// The engine state of the objects among `ids` that exist, locked, in one
/// statement.
pub(crate) async fn states_in<D: Dialect>(
    tx: &mut D::Write,
    object_type: &str,
    ids: &BTreeSet<String>,
) -> Result<HashMap<String, Map<String, Value>>, StoreError> {
    let mut states = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(states);
    }
    let lock = D::LOCK_ROWS;
    let mut select = sql(format!(
        "SELECT id, state FROM objects WHERE object_type = $1 AND id IN {}{lock}",
        super::placeholders(2, ids.len())
    ))
    .bind(object_type);
    for id in ids {
        select = select.bind(id);
    }
    for row in tx.fetch_all(select).await? {
        states.insert(row.get("id")?, row.decode("state")?);
    }
    Ok(states)
}

/// Replaces the engine state of objects of one type, one statement per
/// [`super::BULK_ROWS`] objects (`UPDATE … FROM (VALUES …)`).
pub(crate) async fn states_write_in<D: Dialect>(
    tx: &mut D::Write,
    object_type: &str,
    states: &[(&str, Value)],
) -> Result<(), StoreError> {
    for chunk in states.chunks(super::BULK_ROWS) {
        let mut update = sql(format!(
            "UPDATE objects SET state = v.column2 FROM (VALUES {}) AS v \
             WHERE objects.object_type = $1 AND objects.id = v.column1",
            super::values(chunk.len(), 2, 2)
        ))
        .bind(object_type);
        for (id, state) in chunk {
            update = update.bind(*id).bind_json(state);
        }
        tx.execute(update).await?;
    }
    Ok(())
}

#[async_trait]
impl<D: Dialect> ObjectStore for SqlStore<D> {
    async fn object_get(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Option<StoredObject>, StoreError> {
        let mut db = self.db.read_point().await?;
        let row = db
            .fetch_optional(
                sql(format!(
                    "SELECT {COLUMNS} FROM objects WHERE object_type = $1 AND id = $2"
                ))
                .bind(object_type)
                .bind(id),
            )
            .await?;
        row.as_ref().map(object_from_row).transpose()
    }

    async fn object_get_many(
        &self,
        object_type: &str,
        ids: &[&str],
    ) -> Result<Vec<StoredObject>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(found);
        }
        let mut db = self.db.read_point().await?;
        for chunk in ids.chunks(super::BULK_ROWS) {
            let mut select = sql(format!(
                "SELECT {COLUMNS} FROM objects WHERE object_type = $1 AND id IN {} ORDER BY id",
                super::placeholders(2, chunk.len())
            ))
            .bind(object_type);
            for id in chunk {
                select = select.bind(*id);
            }
            for row in db.fetch_all(select).await? {
                found.push(object_from_row(&row)?);
            }
        }
        Ok(found)
    }

    async fn object_list(&self, object_type: &str) -> Result<Vec<StoredObject>, StoreError> {
        // Ids sort byte by byte on both databases (COLLATE "C" on PostgreSQL).
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(format!(
                "SELECT {COLUMNS} FROM objects WHERE object_type = $1 ORDER BY id"
            ))
            .bind(object_type),
        )
        .await?
        .iter()
        .map(object_from_row)
        .collect()
    }

    async fn object_list_page(
        &self,
        object_type: &str,
        after: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<StoredObject>, StoreError> {
        let mut db = self.db.read().await?;
        // The empty id sorts before every id: no id is empty.
        db.fetch_all(
            sql(format!(
                "SELECT {COLUMNS} FROM objects WHERE object_type = $1 AND id > $2 \
                 ORDER BY id LIMIT $3 OFFSET $4"
            ))
            .bind(object_type)
            .bind(after.unwrap_or(""))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(skip).unwrap_or(i64::MAX)),
        )
        .await?
        .iter()
        .map(object_from_row)
        .collect()
    }

    async fn object_field_counts(
        &self,
        object_type: &str,
        paths: &[FieldPath],
    ) -> Result<Vec<FieldCount>, StoreError> {
        // A path's value is in `state` when its first field is (engine
        // state replaces payload fields on read), else in `payload`.
        let mut columns: Vec<String> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let at = path.segments();
                format!(
                    "CASE WHEN {} IS NOT NULL THEN {} ELSE {} END AS v{i}",
                    D::json_at("state", &at[..1]),
                    D::json_at("state", at),
                    D::json_at("payload", at)
                )
            })
            .collect();
        let group_by = match paths.len() {
            0 => String::new(),
            n => format!(
                " GROUP BY {}",
                (1..=n)
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        columns.push("COUNT(*) AS n".to_owned());
        let mut db = self.db.read().await?;
        let rows = db
            .fetch_all(
                sql(format!(
                    "SELECT {} FROM objects WHERE object_type = $1{group_by}",
                    columns.join(", ")
                ))
                .bind(object_type),
            )
            .await?;
        let mut counts = Vec::with_capacity(rows.len());
        for row in &rows {
            let objects = super::count(row.get("n")?);
            if objects == 0 {
                // COUNT(*) without GROUP BY answers a row even for none.
                continue;
            }
            let values = (0..paths.len())
                .map(|i| {
                    let column = format!("v{i}");
                    row.text(&column)?
                        .map(|text| {
                            serde_json::from_str(&text)
                                .map_err(|source| Corrupt::Json { column, source }.into())
                        })
                        .transpose()
                })
                .collect::<Result<_, StoreError>>()?;
            counts.push(FieldCount { values, objects });
        }
        Ok(counts)
    }

    async fn object_count(&self, object_type: &str) -> Result<u64, StoreError> {
        let mut db = self.db.read().await?;
        let n = super::scalar(
            &mut db,
            sql("SELECT COUNT(*) AS n FROM objects WHERE object_type = $1").bind(object_type),
            "n",
        )
        .await?;
        Ok(super::count(n))
    }

    async fn object_insert(&self, p: ObjectInsert) -> Result<StoredObject, StoreError> {
        let mut tx = self.db.begin().await?;
        let row = super::fetch_one(
            &mut tx,
            sql(format!(
                "INSERT INTO objects ({COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, '{{}}', $7, $7, $8, $8) RETURNING {COLUMNS}"
            ))
            .bind(&p.object_type)
            .bind(&p.id)
            .bind(&p.title)
            .bind(&p.description)
            .bind_json(&serde_json::json!(p.tags))
            .bind_json(&p.payload)
            .bind(p.now)
            .bind(&p.actor),
        )
        .await?;
        let object = object_from_row(&row)?;
        insert_revision(&mut tx, &object, &p.payload, &p.actor).await?;
        self.db.commit(tx).await?;
        Ok(object)
    }

    async fn object_update(&self, p: ObjectUpdate) -> Result<StoredObject, StoreError> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .fetch_optional(
                sql(format!(
                    "UPDATE objects SET title = $1, description = $2, tags = $3, payload = $4, \
                     version = version + 1, updated_at = $5, updated_by = $6 \
                     WHERE object_type = $7 AND id = $8 AND version = $9 RETURNING {COLUMNS}"
                ))
                .bind(&p.title)
                .bind(&p.description)
                .bind_json(&serde_json::json!(p.tags))
                .bind_json(&p.payload)
                .bind(p.now)
                .bind(&p.actor)
                .bind(&p.object_type)
                .bind(&p.id)
                .bind(p.expected_version),
            )
            .await?;
        let Some(row) = row else {
            return Err(stale(&mut tx, &p.object_type, &p.id).await);
        };
        let object = object_from_row(&row)?;
        insert_revision(&mut tx, &object, &p.payload, &p.actor).await?;
        self.db.commit(tx).await?;
        Ok(object)
    }

    async fn object_delete(
        &self,
        object_type: &str,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        // One statement, so a save that lands between a check and the
        // delete cannot be deleted unseen.
        let deleted = tx
            .execute(
                sql("DELETE FROM objects WHERE object_type = $1 AND id = $2 \
                     AND ($3 IS NULL OR version = $3)")
                .bind(object_type)
                .bind(id)
                .bind(expected_version),
            )
            .await?;
        if deleted == 0 {
            return Err(stale(&mut tx, object_type, id).await);
        }
        tx.execute(
            sql("DELETE FROM object_revisions WHERE object_type = $1 AND id = $2")
                .bind(object_type)
                .bind(id),
        )
        .await?;
        self.db.commit(tx).await?;
        Ok(())
    }

    async fn object_state_merge(
        &self,
        object_type: &str,
        id: &str,
        state: Map<String, Value>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        if !state_merge_in::<D>(&mut tx, object_type, id, state).await? {
            return Err(StoreError::NotFound);
        }
        self.db.commit(tx).await?;
        Ok(())
    }

    async fn revision_list(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Vec<Revision>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_all(
            sql(format!(
                "SELECT {REVISION_COLUMNS} FROM object_revisions \
                 WHERE object_type = $1 AND id = $2 ORDER BY version DESC"
            ))
            .bind(object_type)
            .bind(id),
        )
        .await?
        .iter()
        .map(revision_from_row)
        .collect()
    }

    async fn revision_get(
        &self,
        object_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<Revision>, StoreError> {
        let mut db = self.db.read().await?;
        db.fetch_optional(
            sql(format!(
                "SELECT {REVISION_COLUMNS} FROM object_revisions \
                 WHERE object_type = $1 AND id = $2 AND version = $3"
            ))
            .bind(object_type)
            .bind(id)
            .bind(version),
        )
        .await?
        .as_ref()
        .map(revision_from_row)
        .transpose()
    }
}
