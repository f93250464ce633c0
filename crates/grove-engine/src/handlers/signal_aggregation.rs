//! `signal-aggregation`: see [`crate::jobs::aggregation`] for the work itself.

use async_trait::async_trait;
use grove_core::job_config::JobParameters;

use super::JobHandler;
use super::grove_job::{Attempt, outcome, wrong_parameters};
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs;

/// The `signal-aggregation` handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignalAggregation;

#[async_trait]
impl JobHandler for SignalAggregation {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::SignalAggregation(params) = &ctx.config.parameters else {
            return Err(wrong_parameters(&ctx, "signal-aggregation"));
        };
        let answer = jobs::aggregation::run(&*ctx.store, params, &Attempt(&ctx)).await;
        outcome(&ctx, answer)
    }
}
