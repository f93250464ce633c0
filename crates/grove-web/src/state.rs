//! What every request handler can reach.

use std::sync::Arc;

use grove_app::App;
use grove_app::tokens::SessionPolicy;
use grove_core::clock::Clock;
use grove_engine::EngineHandle;
use grove_store::Store;

use crate::auth::throttle::FailureThrottle;

/// Limits and switches of the web layer.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Reads of `/api/v1` need no token (`serve --public-read`): for
    /// trusted networks only.
    pub public_read: bool,
    /// The session cookie is marked `Secure` (`serve --secure-cookies`):
    /// turn it on behind TLS.
    pub secure_cookies: bool,
    /// How long console sessions last.
    pub sessions: SessionPolicy,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            public_read: false,
            secure_cookies: false,
            sessions: SessionPolicy::default(),
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
    /// Failed authentications per client address.
    pub throttle: Arc<FailureThrottle>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, engine: EngineHandle) -> Self {
        Self {
            app: App::new(store.clone(), clock.clone(), engine.clone()),
            store,
            clock,
            engine,
            settings: Arc::new(WebSettings::default()),
            throttle: Arc::new(FailureThrottle::default()),
        }
    }

    /// The same state with other web settings.
    pub fn with_settings(self, settings: WebSettings) -> Self {
        Self {
            settings: Arc::new(settings),
            ..self
        }
    }
}
