//! `signal-aggregation`: see [`crate::jobs::aggregation`] for the work itself.

use async_trait::async_trait;
use grove_core::job_config::{JobParameters, JobType};

use super::JobHandler;
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs;

/// The `signal-aggregation` handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignalAggregation;

#[async_trait]
impl JobHandler for SignalAggregation {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::SignalAggregation(params) = &ctx.config.parameters else {
            return Err(JobFailure::wrong_parameters(JobType::SignalAggregation));
        };
        jobs::aggregation::run(params, &ctx).await
    }
}
