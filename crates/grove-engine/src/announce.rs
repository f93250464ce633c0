//! What the engine tells others when an execution ends: the event journal
//! that notification digests read (`job.succeeded`, `job.failed`,
//! `job.disabled`), and the job config's own immediate notifications
//! (`notifications.onSuccess` / `onFailure` through its `channels`), which
//! the dead-man's switch's alerts use too (see `deadman`).
//!
//! Best effort by design: the run's outcome is already stored; a journal or
//! delivery problem is logged (on the execution and to tracing) and never
//! changes it.

use std::sync::Arc;

use grove_core::job_config::{Channel, EventType, JobConfigPayload, NotificationSettings};
use grove_core::validate::Choice;
use grove_store::{Execution, ExecutionStatus, JournalAppend, LogInsert, LogLevel, Notification};
use serde_json::{Value, json};

use crate::Shared;
use crate::jobs::digest::{HttpWebhook, RunHeaders, WebhookPolicy, deliver_webhook};
use crate::jobs::journal_event;

/// The outbox recipient of a job config's immediate notifications.
pub const RUN_NOTIFICATION_RECIPIENT: &str = "operators";

/// The words and the event of a run's end; `None` for ends nobody hears
/// of (skipped, cancelled).
fn ended(e: &Execution) -> Option<(EventType, String)> {
    let (event, verb) = match e.status {
        ExecutionStatus::Success | ExecutionStatus::Partial => {
            (EventType::JobSucceeded, "succeeded")
        }
        ExecutionStatus::Failed => (EventType::JobFailed, "failed"),
        _ => return None,
    };
    let mut message = format!("job \"{}\" {verb} ({})", e.config_id, e.status);
    if let Some(error) = &e.error {
        message.push_str(&format!(": {error}"));
    }
    Some((event, message))
}

/// The journal entry of the end of `e` (`job.succeeded`, `job.failed`),
/// written with its `lastExecution`.
pub(crate) fn journal_entry(e: &Execution, now: jiff::Timestamp) -> Option<JournalAppend> {
    let (event, message) = ended(e)?;
    Some(JournalAppend {
        event_type: event.name().to_owned(),
        at: now,
        subject: e.config_id.clone(),
        message,
        data: json!({
            "runId": e.id,
            "status": e.status,
            "trigger": e.trigger,
            "itemsProcessed": e.counts.processed,
            "itemsFailed": e.counts.failed,
            "error": e.error,
        }),
    })
}

/// Sends the config's immediate notification of the end of `e`, if it
/// wants one.
pub(crate) async fn notify_ended(shared: &Arc<Shared>, e: &Execution) {
    let Some((event, message)) = ended(e) else {
        return;
    };
    let Ok(payload) = <JobConfigPayload as serde::Deserialize>::deserialize(&e.payload) else {
        return;
    };
    let wanted = match event {
        EventType::JobSucceeded => payload.notifications.on_success,
        _ => payload.notifications.on_failure,
    };
    if wanted {
        notify(shared, e, &payload, &message).await;
    }
}

/// Journals that the engine disabled a job's schedule.
pub(crate) async fn job_disabled(shared: &Arc<Shared>, config_id: &str, reason: &str) {
    let message = format!("job \"{config_id}\" {reason}");
    let now = shared.clock.now();
    let data = json!({ "reason": reason });
    if let Err(err) = journal_event(
        &*shared.store,
        EventType::JobDisabled,
        config_id,
        &message,
        data,
        now,
    )
    .await
    {
        tracing::warn!(job = %config_id, error = %err, "cannot journal the auto-disable");
    }
}

async fn notify(shared: &Arc<Shared>, e: &Execution, payload: &JobConfigPayload, message: &str) {
    let body = json!({
        "subject": message,
        "jobId": e.config_id,
        "runId": e.id,
        "status": e.status,
        "error": e.error,
        "itemsProcessed": e.counts.processed,
        "completedAt": e.completed_at,
    });
    let note = Note {
        id: format!("{}:run", e.id),
        config_id: &e.config_id,
        subject: message,
        body,
        run: Some(e),
    };
    deliver(shared, &payload.notifications, note).await;
}

/// One immediate notification of a job config.
pub(crate) struct Note<'a> {
    /// Deterministic, so the outbox keeps one however often it is sent.
    pub id: String,
    pub config_id: &'a str,
    pub subject: &'a str,
    pub body: Value,
    /// The execution it is about, whose log records the delivery.
    pub run: Option<&'a Execution>,
}

/// Sends an alert of the dead-man's switch (`job.late`, `job.silent`)
/// through the config's channels, when `notifications.onFailure` is on.
pub(crate) async fn alert(shared: &Arc<Shared>, payload: &JobConfigPayload, note: Note<'_>) {
    if payload.notifications.on_failure {
        deliver(shared, &payload.notifications, note).await;
    }
}

async fn deliver(shared: &Arc<Shared>, settings: &NotificationSettings, note: Note<'_>) {
    let mut notes: Vec<(LogLevel, String)> = Vec::new();
    let (config_id, message, body) = (note.config_id, note.subject, &note.body);
    let run_id = note.run.map(|e| e.id.as_str()).unwrap_or("");
    for channel in &settings.channels {
        match channel {
            Channel::Log => {
                tracing::warn!(job = %config_id, run = %run_id, "notification: {message}");
                notes.push((LogLevel::Info, format!("notification (log): {message}")));
            }
            Channel::Outbox => {
                let stored = shared
                    .store
                    .notification_insert(Notification {
                        id: note.id.clone(),
                        recipient_id: RUN_NOTIFICATION_RECIPIENT.to_owned(),
                        channel: "outbox".to_owned(),
                        subject: message.to_owned(),
                        body: body.clone(),
                        run_id: note.run.map(|e| e.id.clone()),
                        created_at: shared.clock.now(),
                    })
                    .await;
                notes.push(match stored {
                    Ok(_) => (
                        LogLevel::Info,
                        "notification stored in the outbox".to_owned(),
                    ),
                    Err(err) => (
                        LogLevel::Error,
                        format!("notification could not be stored in the outbox: {err}"),
                    ),
                });
            }
            Channel::Webhook => match settings.webhook_url.as_deref() {
                None => notes.push((
                    LogLevel::Error,
                    "notification not sent: the webhook channel has no webhookUrl".to_owned(),
                )),
                Some(url) => {
                    // Retries may take a while: never hold the caller.
                    let (shared, run, url, body) = (
                        shared.clone(),
                        note.run.cloned(),
                        url.to_owned(),
                        body.clone(),
                    );
                    let config_id = config_id.to_owned();
                    let sender = HttpWebhook::new(shared.settings.outbound.clone());
                    // An alert about no run names none.
                    let headers = run
                        .as_ref()
                        .map(|e| RunHeaders {
                            run_id: e.id.clone(),
                            scheduled_for: e.scheduled_for,
                            attempt: e.attempt_count,
                        })
                        .unwrap_or_default();
                    tokio::spawn(async move {
                        let policy = WebhookPolicy::default();
                        let sent = deliver_webhook(&sender, &url, &body, &headers, policy).await;
                        let note = match sent {
                            Ok(()) => (LogLevel::Info, format!("notification posted to {url}")),
                            Err(err) => (
                                LogLevel::Error,
                                format!("notification to {url} failed {err}"),
                            ),
                        };
                        record(&shared, &config_id, run.as_ref(), vec![note]).await;
                    });
                }
            },
        }
    }
    record(shared, config_id, note.run, notes).await;
}

/// Records how a notification went: on its execution's log, or (about no
/// execution) to tracing.
async fn record(
    shared: &Arc<Shared>,
    config_id: &str,
    run: Option<&Execution>,
    notes: Vec<(LogLevel, String)>,
) {
    match run {
        Some(e) => append(shared, e, notes).await,
        None => {
            for (level, message) in notes {
                match level {
                    LogLevel::Error => tracing::warn!(job = %config_id, "{message}"),
                    _ => tracing::info!(job = %config_id, "{message}"),
                }
            }
        }
    }
}

/// Adds lines to the ended execution's log.
async fn append(shared: &Arc<Shared>, e: &Execution, notes: Vec<(LogLevel, String)>) {
    if notes.is_empty() {
        return;
    }
    let at = shared.clock.now();
    let lines = notes
        .into_iter()
        .map(|(level, message)| LogInsert {
            execution_id: e.id.clone(),
            attempt: e.attempt_count,
            at,
            level,
            message,
        })
        .collect();
    if let Err(err) = shared.store.log_append(lines).await {
        tracing::warn!(run = %e.id, error = %err, "cannot store the notification's log lines");
    }
}
