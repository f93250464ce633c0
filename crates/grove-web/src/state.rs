//! What every request handler can reach.

use std::sync::Arc;

use grove_app::App;
use grove_core::clock::Clock;
use grove_engine::EngineHandle;
use grove_store::Store;

/// Limits and switches of the web layer.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Handlers write through `app` (its use cases wake the engine) and read
/// from `store`; `engine` is for live events and the engine's own status.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: App,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub engine: EngineHandle,
    pub settings: Arc<WebSettings>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, engine: EngineHandle) -> Self {
        Self {
            app: App::new(store.clone(), clock.clone(), engine.clone()),
            store,
            clock,
            engine,
            settings: Arc::new(WebSettings::default()),
        }
    }
}
