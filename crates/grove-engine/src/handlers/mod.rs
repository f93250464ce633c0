//! The handler seam: one [`JobHandler`] per job type, held by a
//! [`HandlerRegistry`] that has one field per [`JobType`] — a job type
//! without a handler does not compile, and no type can be registered twice.
//!
//! One file per job type. The grove job types call the job functions of
//! [`crate::jobs`] with their parameters; `health-check` works on its own.

mod advancement_batch;
mod health_check;
mod notification_digest;
mod orphan_cleanup;
mod signal_aggregation;

use std::sync::Arc;

use async_trait::async_trait;
use grove_core::job_config::JobType;

pub use advancement_batch::AdvancementBatch;
pub use health_check::HealthCheck;
pub use notification_digest::NotificationDigest;
pub use orphan_cleanup::OrphanCleanup;
pub use signal_aggregation::SignalAggregation;

use crate::context::{JobContext, JobFailure, JobOutcome};

/// Runs one attempt of a job. Handlers process in batches of
/// `ctx.batch_size`, check `ctx.cancel` between batches, report progress,
/// and return a structured result. A panic fails the attempt with the
/// panic message; it never takes the engine down.
#[async_trait]
pub trait JobHandler: Send + Sync + std::fmt::Debug + 'static {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure>;
}

/// Exactly one handler per job type.
#[derive(Debug, Clone)]
pub struct HandlerRegistry {
    pub advancement_batch: Arc<dyn JobHandler>,
    pub signal_aggregation: Arc<dyn JobHandler>,
    pub notification_digest: Arc<dyn JobHandler>,
    pub orphan_cleanup: Arc<dyn JobHandler>,
    pub health_check: Arc<dyn JobHandler>,
}

impl HandlerRegistry {
    /// The handlers of this build.
    pub fn builtin(settings: &crate::EngineSettings) -> Self {
        Self {
            advancement_batch: Arc::new(AdvancementBatch),
            signal_aggregation: Arc::new(SignalAggregation),
            notification_digest: Arc::new(NotificationDigest::new(settings)),
            orphan_cleanup: Arc::new(OrphanCleanup),
            health_check: Arc::new(HealthCheck::new(settings)),
        }
    }

    /// One handler for every type (tests).
    pub fn uniform(handler: Arc<dyn JobHandler>) -> Self {
        Self {
            advancement_batch: handler.clone(),
            signal_aggregation: handler.clone(),
            notification_digest: handler.clone(),
            orphan_cleanup: handler.clone(),
            health_check: handler,
        }
    }

    pub fn get(&self, job_type: JobType) -> &Arc<dyn JobHandler> {
        match job_type {
            JobType::AdvancementBatch => &self.advancement_batch,
            JobType::SignalAggregation => &self.signal_aggregation,
            JobType::NotificationDigest => &self.notification_digest,
            JobType::OrphanCleanup => &self.orphan_cleanup,
            JobType::HealthCheck => &self.health_check,
        }
    }
}
