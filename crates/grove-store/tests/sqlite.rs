//! The conformance suite on SQLite: each test gets its own database file.

use std::sync::Arc;

use grove_store::Store;
use grove_store::sqlite::SqliteStore;

/// A migrated store on a fresh file; the directory lives as long as the store.
pub async fn fresh() -> Arc<dyn Store> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("grove.db");
    // Keep the directory for the whole test process; files are small.
    std::mem::forget(dir);
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

crate::objects_suite!(fresh);
crate::tokens_suite!(fresh);
crate::grove_data_suite!(fresh);
