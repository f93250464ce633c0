//! `advancement-batch`: its real handler arrives with the grove data model. Until
//! then a run fails with an error that says so, instead of pretending.

use async_trait::async_trait;
use grove_core::job_config::JobType;

use super::{JobHandler, unavailable};
use crate::context::{JobContext, JobFailure, JobOutcome};

/// The `advancement-batch` handler of this build.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdvancementBatch;

#[async_trait]
impl JobHandler for AdvancementBatch {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        Err(unavailable(&ctx, JobType::AdvancementBatch))
    }
}
