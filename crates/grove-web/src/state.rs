//! What every request handler can reach.

use std::sync::Arc;
use std::time::Duration;

use grove_app::App;
use grove_app::tokens::SessionPolicy;
use grove_core::clock::Clock;
use grove_engine::EngineHandle;
use grove_store::Store;
use tokio::sync::Semaphore;

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
    /// Failed authentications a client address may make per minute before
    /// it is refused (429) for the rest of the minute.
    pub auth_failures_per_minute: u32,
    /// Server-sent event streams open at once; beyond it a stream request
    /// is answered 503 with `Retry-After`.
    pub max_event_streams: usize,
    /// How long a non-streaming request may take before it is answered 503.
    pub request_timeout: Duration,
}

/// Default [`WebSettings::max_event_streams`].
pub const DEFAULT_MAX_EVENT_STREAMS: usize = 256;
/// Default [`WebSettings::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            public_read: false,
            secure_cookies: false,
            sessions: SessionPolicy::default(),
            auth_failures_per_minute: crate::auth::throttle::DEFAULT_LIMIT,
            max_event_streams: DEFAULT_MAX_EVENT_STREAMS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
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
    /// One permit per open event stream ([`WebSettings::max_event_streams`]).
    pub streams: Arc<Semaphore>,
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
            streams: Arc::new(Semaphore::new(DEFAULT_MAX_EVENT_STREAMS)),
        }
    }

    /// The same state with an outbound allow-list: configs may name these
    /// addresses and hosts besides public ones.
    pub fn with_outbound(mut self, policy: Arc<grove_core::outbound::OutboundPolicy>) -> Self {
        self.app = self.app.with_outbound(policy);
        self
    }

    /// The same state with other limits.
    pub fn with_settings(mut self, settings: WebSettings) -> Self {
        self.streams = Arc::new(Semaphore::new(settings.max_event_streams));
        self.throttle = Arc::new(FailureThrottle::new(
            settings.auth_failures_per_minute.max(1),
            crate::auth::throttle::DEFAULT_WINDOW,
        ));
        self.settings = Arc::new(settings);
        self
    }
}
