//! `advancement-batch`: see [`crate::jobs::advancement`] for the work itself.

use async_trait::async_trait;
use grove_core::job_config::{JobParameters, JobType};

use super::JobHandler;
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs;

/// The `advancement-batch` handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdvancementBatch;

#[async_trait]
impl JobHandler for AdvancementBatch {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::AdvancementBatch(params) = &ctx.config.parameters else {
            return Err(JobFailure::wrong_parameters(JobType::AdvancementBatch));
        };
        jobs::advancement::run(params, &ctx).await
    }
}
