//! `orphan-cleanup`: see [`crate::jobs::cleanup`] for the work itself.

use async_trait::async_trait;
use grove_core::job_config::{JobParameters, JobType};

use super::JobHandler;
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs;

/// The `orphan-cleanup` handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrphanCleanup;

#[async_trait]
impl JobHandler for OrphanCleanup {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::OrphanCleanup(params) = &ctx.config.parameters else {
            return Err(JobFailure::wrong_parameters(JobType::OrphanCleanup));
        };
        jobs::cleanup::run(params, &ctx).await
    }
}
