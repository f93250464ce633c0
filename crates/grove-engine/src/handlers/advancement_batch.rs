//! `advancement-batch`: see [`crate::jobs::advancement`] for the work itself.

use async_trait::async_trait;
use grove_core::job_config::JobParameters;

use super::JobHandler;
use super::grove_job::{Attempt, outcome, wrong_parameters};
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs;

/// The `advancement-batch` handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdvancementBatch;

#[async_trait]
impl JobHandler for AdvancementBatch {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::AdvancementBatch(params) = &ctx.config.parameters else {
            return Err(wrong_parameters(&ctx, "advancement-batch"));
        };
        let answer = jobs::advancement::run(&*ctx.store, params, &Attempt(&ctx)).await;
        outcome(&ctx, answer)
    }
}
