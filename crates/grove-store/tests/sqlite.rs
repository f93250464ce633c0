//! The conformance suite on SQLite: each test gets its own database file.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use grove_store::Store;
use grove_store::sqlite::SqliteStore;

/// One directory for the test process, one file per test. (A static is never
/// dropped, so the directory stays in the system temp dir after the run.)
fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

/// A migrated store on a fresh file.
pub async fn fresh() -> Arc<dyn Store> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = dir()
        .path()
        .join(format!("grove-{}.db", NEXT.fetch_add(1, Ordering::Relaxed)));
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

crate::objects_suite!(fresh);
crate::tokens_suite!(fresh);
crate::concurrency_suite!(fresh);
crate::grove_data_suite!(fresh);
crate::executions_suite!(fresh);
