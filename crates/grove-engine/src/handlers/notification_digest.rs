//! `notification-digest`: its real handler arrives with the grove data model. Until
//! then a run fails with an error that says so, instead of pretending.

use async_trait::async_trait;
use grove_core::job_config::JobType;

use super::{JobHandler, unavailable};
use crate::context::{JobContext, JobFailure, JobOutcome};

/// The `notification-digest` handler of this build.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotificationDigest;

#[async_trait]
impl JobHandler for NotificationDigest {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        Err(unavailable(&ctx, JobType::NotificationDigest))
    }
}
