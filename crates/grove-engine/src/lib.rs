//! grove-engine: turns stored job configs into runs.
//!
//! - [`EngineHandle`]: what the web layer and CLI use to talk to a running
//!   engine (wake it when a config changes, request runs).
//! - [`jobs`]: the work of the grove job types as plain functions over a
//!   store, parameters and a [`jobs::JobContext`].

pub mod jobs;

use std::sync::Arc;

use tokio::sync::Notify;

/// A cheap, cloneable handle to the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineHandle {
    wake: Arc<Notify>,
}

impl EngineHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// A job config was created, saved or deleted: recompute its next slot now.
    pub fn config_changed(&self, _config_id: &str) {
        self.wake.notify_one();
    }

    /// Resolves when woken by [`config_changed`](Self::config_changed).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}
