//! `orphan-cleanup`: see [`crate::jobs::cleanup`] for the work itself.

use async_trait::async_trait;
use grove_core::job_config::JobParameters;

use super::JobHandler;
use super::grove_job::{Attempt, outcome, wrong_parameters};
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs;

/// The `orphan-cleanup` handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrphanCleanup;

#[async_trait]
impl JobHandler for OrphanCleanup {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::OrphanCleanup(params) = &ctx.config.parameters else {
            return Err(wrong_parameters(&ctx, "orphan-cleanup"));
        };
        let answer = jobs::cleanup::run(&*ctx.store, params, &Attempt(&ctx)).await;
        outcome(&ctx, answer)
    }
}
