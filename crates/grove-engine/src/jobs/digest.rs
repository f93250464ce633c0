//! notification-digest: collects journal events of `eventTypes` since the
//! previous digest of the same job config, builds one digest per recipient
//! and delivers it to each channel: `log`, `outbox` (the notifications
//! table, readable over the API) and `webhook` (HTTP POST of the digest as
//! JSON, with a timeout and retries).
//!
//! The cursor moves past the collected events once the outbox and log have
//! them; a webhook that still fails after its retries makes the run
//! `partial` (counted in `failed`, logged as an error), never silent.

use std::time::Duration;

use async_trait::async_trait;
use grove_core::grove::{JournalEvent, build_digests};
use grove_core::job_config::{Channel, NotificationDigestParams};
use grove_core::validate::Choice;
use grove_store::Notification;
use serde_json::{Value, json};

use crate::context::{JobContext, JobFailure, JobOutcome};

/// Most journal events read per page.
const PAGE: u32 = 5_000;
/// Most events one digest run collects; the rest wait for the next run.
const MAX_EVENTS: usize = 100_000;

/// How webhooks are retried.
#[derive(Debug, Clone, Copy)]
pub struct WebhookPolicy {
    pub attempts: u32,
    pub timeout: Duration,
    /// Delay before the second attempt; doubled for each later one.
    pub backoff: Duration,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(500),
        }
    }
}

/// Sends one webhook request; returns the HTTP status or why it could not.
#[async_trait]
pub trait WebhookSender: Send + Sync + std::fmt::Debug {
    async fn post_json(
        &self,
        url: &str,
        body: &Value,
        run: &RunHeaders,
        timeout: Duration,
    ) -> Result<u16, String>;
}

/// The run a webhook comes from, sent as `Grove-Run-Id`,
/// `Grove-Scheduled-For` (when the run has a slot) and `Grove-Attempt`, so
/// a receiver can tell a redelivery or a retry from new work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunHeaders {
    pub run_id: String,
    pub scheduled_for: Option<jiff::Timestamp>,
    pub attempt: u32,
}

impl RunHeaders {
    pub fn of(ctx: &JobContext) -> Self {
        Self {
            run_id: ctx.run_id.clone(),
            scheduled_for: ctx.scheduled_for,
            attempt: ctx.attempt,
        }
    }

    /// The header lines; none for a message about no run (an alert).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        if self.run_id.is_empty() {
            return Vec::new();
        }
        let mut out = vec![("Grove-Run-Id", self.run_id.clone())];
        if let Some(slot) = self.scheduled_for {
            out.push(("Grove-Scheduled-For", slot.to_string()));
        }
        out.push(("Grove-Attempt", self.attempt.to_string()));
        out
    }
}

/// Webhooks over the engine's small HTTP client (`http://` and `https://`),
/// to addresses the outbound policy allows.
#[derive(Debug, Clone, Default)]
pub struct HttpWebhook {
    pub outbound: std::sync::Arc<grove_core::outbound::OutboundPolicy>,
}

impl HttpWebhook {
    pub fn new(outbound: std::sync::Arc<grove_core::outbound::OutboundPolicy>) -> Self {
        Self { outbound }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhook {
    async fn post_json(
        &self,
        url: &str,
        body: &Value,
        run: &RunHeaders,
        timeout: Duration,
    ) -> Result<u16, String> {
        let payload = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let target = crate::http::Target::Policy(&self.outbound);
        let headers = run.pairs();
        tokio::time::timeout(
            timeout,
            crate::http::send("POST", url, Some(&payload), &headers, target),
        )
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs_f64()))?
    }
}

/// Posts with retries; `Err` holds the last failure.
pub async fn deliver_webhook(
    sender: &dyn WebhookSender,
    url: &str,
    body: &Value,
    run: &RunHeaders,
    policy: WebhookPolicy,
) -> Result<(), String> {
    let mut delay = policy.backoff;
    let mut last = String::new();
    for attempt in 1..=policy.attempts.max(1) {
        match sender.post_json(url, body, run, policy.timeout).await {
            Ok(status) if (200..300).contains(&status) => return Ok(()),
            Ok(status) => last = format!("HTTP {status}"),
            Err(e) => last = e,
        }
        if attempt < policy.attempts {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Err(format!(
        "after {} attempt(s): {last}",
        policy.attempts.max(1)
    ))
}

/// The cursor key of a digest job config.
pub fn cursor_key(config_id: &str) -> String {
    format!("digest:{config_id}")
}

/// Runs notification-digest for the context's job config (whose cursor
/// says where the previous digest stopped).
pub async fn run(
    params: &NotificationDigestParams,
    ctx: &JobContext,
    sender: &dyn WebhookSender,
    policy: WebhookPolicy,
) -> Result<JobOutcome, JobFailure> {
    if params.channels.contains(&Channel::Webhook) && params.webhook_url.is_none() {
        return Err(JobFailure::new(
            "the webhook channel is selected but no webhookUrl is set",
        ));
    }
    let store = &*ctx.store;
    let key = cursor_key(&ctx.config_id);
    let from = store.digest_cursor_get(&key).await?.unwrap_or(0);
    let types: Vec<String> = params
        .event_types
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    let mut events: Vec<JournalEvent> = Vec::new();
    let mut after = from;
    loop {
        if ctx.is_cancelled() {
            let metadata = json!({ "events": 0, "digests": 0, "fromSeq": from });
            return Err(super::stopped(0, metadata));
        }
        let page = store.journal_since(after, &types, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        let full = page.len() as u32 == PAGE;
        events.extend(page);
        if !full || events.len() >= MAX_EVENTS {
            break;
        }
    }
    let digests = build_digests(&events, &params.event_types, &params.recipient_ids);
    let deliveries = digests.len() as u64 * params.channels.len() as u64;
    ctx.progress.set_total(deliveries);
    let mut failed = 0u64;
    let mut failures: Vec<String> = Vec::new();
    for digest in &digests {
        let body = digest.to_value();
        for channel in &params.channels {
            match channel {
                Channel::Log => ctx.log.info(format!(
                    "digest for {}: {}",
                    digest.recipient_id, digest.subject
                )),
                Channel::Outbox => {
                    store
                        .notification_insert(Notification {
                            id: format!("{}:{}", ctx.run_id, digest.recipient_id),
                            recipient_id: digest.recipient_id.clone(),
                            channel: "outbox".to_owned(),
                            subject: digest.subject.clone(),
                            body: body.clone(),
                            run_id: Some(ctx.run_id.clone()),
                            created_at: ctx.clock.now(),
                        })
                        .await?;
                }
                Channel::Webhook => {
                    let url = params.webhook_url.as_deref().unwrap_or_default();
                    let run = RunHeaders::of(ctx);
                    if let Err(e) = deliver_webhook(sender, url, &body, &run, policy).await {
                        failed += 1;
                        let msg = format!(
                            "webhook delivery of the digest for {} failed {e}",
                            digest.recipient_id
                        );
                        ctx.log.error(msg.clone());
                        failures.push(msg);
                    }
                }
            }
            ctx.progress.add(1, 0);
        }
    }
    if after > from {
        store
            .digest_cursor_set(&key, after, ctx.clock.now())
            .await?;
    }
    if digests.is_empty() {
        ctx.log.info("no new events since the previous digest");
    }
    Ok(JobOutcome {
        processed: deliveries,
        total: Some(deliveries),
        succeeded: deliveries - failed,
        failed,
        partial_reason: failures.first().cloned(),
        metadata: super::object(json!({
            "events": events.len(),
            "digests": digests.len(),
            "recipients": params.recipient_ids,
            "channels": params.channels,
            "deliveries": deliveries,
            "failedDeliveries": failed,
            "fromSeq": from,
            "toSeq": after,
        })),
    })
}
