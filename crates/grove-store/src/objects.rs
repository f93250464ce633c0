//! Grove objects and their revisions.

use async_trait::async_trait;
use grove_core::object::GroveObject;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::StoreError;

/// An object as stored; `payload` includes engine-written state
/// (`lastExecution`, …) merged in.
pub type StoredObject = GroveObject<Value>;

/// A new object (version 1).
#[derive(Debug, Clone)]
pub struct ObjectInsert {
    pub object_type: String,
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Operator payload, without engine state.
    pub payload: Value,
    pub actor: Option<String>,
    pub now: Timestamp,
}

/// A replacement of an object's editable parts, valid only if the object is
/// still at `expected_version`.
#[derive(Debug, Clone)]
pub struct ObjectUpdate {
    pub object_type: String,
    pub id: String,
    pub expected_version: i64,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub payload: Value,
    pub actor: Option<String>,
    pub now: Timestamp,
}

/// One saved version of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub version: i64,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub payload: Value,
    pub actor: Option<String>,
    pub at: Timestamp,
}

/// A dotted path into a stored payload (engine state merged in) that a
/// store reads in SQL, without reading the objects out: its segments are
/// ASCII letters, digits and `_`, and none is all digits (such a segment
/// indexes an array in [`grove_core::query::get_path`], which SQL JSON
/// paths spell differently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// `None` for a path a store cannot read in SQL as it stands.
    pub fn parse(path: &str) -> Option<Self> {
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        let plain = |s: &String| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !s.bytes().all(|b| b.is_ascii_digit())
        };
        segments.iter().all(plain).then_some(Self(segments))
    }

    /// Its segments, at least one, each safe to write into SQL text.
    pub fn segments(&self) -> &[String] {
        &self.0
    }
}

/// How many objects hold one combination of values at the paths asked of
/// [`ObjectStore::object_field_counts`].
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCount {
    /// The value at each path, in the order asked; `None`: no such field.
    pub values: Vec<Option<Value>>,
    pub objects: u64,
}

#[async_trait]
pub trait ObjectStore {
    async fn object_get(
        &self,
        object_type: &str,
        id: &str,
    ) -> Result<Option<StoredObject>, StoreError>;

    /// The objects of a type with these ids, in one read (group commit's
    /// reads: concurrent Run Now requests share it); ids not found are
    /// left out. Ordered by id.
    async fn object_get_many(
        &self,
        object_type: &str,
        ids: &[&str],
    ) -> Result<Vec<StoredObject>, StoreError>;

    /// Every object of a type, ordered by id.
    async fn object_list(&self, object_type: &str) -> Result<Vec<StoredObject>, StoreError>;

    /// `object_list` a page at a time: up to `limit` objects of a type,
    /// ordered by id, from those whose ids sort after `after` (all when
    /// `None`) less the first `skip`. Walk every object by `after` (see
    /// [`ObjectPages`]); `skip` serves offset cursors.
    async fn object_list_page(
        &self,
        object_type: &str,
        after: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<StoredObject>, StoreError>;

    /// How many objects of a type hold each combination of the values at
    /// `paths`, counted by the database: a tally over thousands of
    /// objects reads a few rows, not every object. Combinations no object
    /// holds are left out, so a type without objects has none.
    async fn object_field_counts(
        &self,
        object_type: &str,
        paths: &[FieldPath],
    ) -> Result<Vec<FieldCount>, StoreError>;

    /// How many objects of a type are stored.
    async fn object_count(&self, object_type: &str) -> Result<u64, StoreError>;

    /// Inserts version 1 and its revision; `AlreadyExists` if the id is taken.
    async fn object_insert(&self, params: ObjectInsert) -> Result<StoredObject, StoreError>;

    /// Writes version `expected_version + 1` and its revision; `Conflict`
    /// if the object moved on, `NotFound` if it is gone. Engine state is kept.
    async fn object_update(&self, params: ObjectUpdate) -> Result<StoredObject, StoreError>;

    /// Deletes an object and its revisions; with `expected_version`, only if current.
    async fn object_delete(
        &self,
        object_type: &str,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<(), StoreError>;

    /// Merges engine-written keys into an object's state without bumping
    /// its version (a `null` value removes the key). `NotFound` if gone.
    async fn object_state_merge(
        &self,
        object_type: &str,
        id: &str,
        state: Map<String, Value>,
    ) -> Result<(), StoreError>;

    /// Revisions, newest first.
    async fn revision_list(&self, object_type: &str, id: &str)
    -> Result<Vec<Revision>, StoreError>;

    async fn revision_get(
        &self,
        object_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<Revision>, StoreError>;
}

/// Objects per page for those that walk a whole type (the scheduler, the
/// silence check, metrics): memory holds this many decoded objects, not
/// thousands.
pub const OBJECT_PAGE: usize = 500;

/// Every object of a type, read a page at a time with
/// [`ObjectStore::object_list_page`], so that walking thousands of
/// objects holds one page in memory.
#[derive(Debug)]
pub struct ObjectPages<'a, S: ?Sized> {
    store: &'a S,
    object_type: &'a str,
    page: usize,
    /// The last id read; `None` before the first page.
    after: Option<String>,
    done: bool,
}

impl<'a, S: ObjectStore + ?Sized + Sync> ObjectPages<'a, S> {
    /// Objects ordered by id, `page` (at least 1) at a time.
    pub fn new(store: &'a S, object_type: &'a str, page: usize) -> Self {
        Self {
            store,
            object_type,
            page: page.max(1),
            after: None,
            done: false,
        }
    }

    /// The next page; `None` once every object was read. An error leaves
    /// the cursor where it was, so the same page can be asked for again.
    pub async fn next_page(&mut self) -> Result<Option<Vec<StoredObject>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .object_list_page(self.object_type, self.after.as_deref(), 0, self.page)
            .await?;
        if page.len() < self.page {
            self.done = true;
        }
        match page.last() {
            Some(last) => {
                self.after = Some(last.meta.id.clone());
                Ok(Some(page))
            }
            None => Ok(None),
        }
    }
}
