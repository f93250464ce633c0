//! `notification-digest`: see [`crate::jobs::digest`] for the work itself.

use std::sync::Arc;

use async_trait::async_trait;
use grove_core::job_config::{JobParameters, JobType};

use super::JobHandler;
use crate::context::{JobContext, JobFailure, JobOutcome};
use crate::jobs::digest::{self, HttpWebhook, WebhookPolicy, WebhookSender};

/// The `notification-digest` handler, with the webhook sender it delivers
/// through (tests substitute one that records).
#[derive(Debug, Clone)]
pub struct NotificationDigest {
    pub sender: Arc<dyn WebhookSender>,
    pub policy: WebhookPolicy,
}

impl Default for NotificationDigest {
    fn default() -> Self {
        Self {
            sender: Arc::new(HttpWebhook::default()),
            policy: WebhookPolicy::default(),
        }
    }
}

impl NotificationDigest {
    /// Delivering webhooks within the engine's outbound policy.
    pub fn new(settings: &crate::EngineSettings) -> Self {
        Self {
            sender: Arc::new(HttpWebhook::new(settings.outbound.clone())),
            policy: WebhookPolicy::default(),
        }
    }
}

#[async_trait]
impl JobHandler for NotificationDigest {
    async fn run(&self, ctx: JobContext) -> Result<JobOutcome, JobFailure> {
        let JobParameters::NotificationDigest(params) = &ctx.config.parameters else {
            return Err(JobFailure::wrong_parameters(JobType::NotificationDigest));
        };
        digest::run(params, &ctx, &*self.sender, self.policy).await
    }
}
