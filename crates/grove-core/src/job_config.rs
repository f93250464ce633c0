//! The job configuration schema (`job-config` payload): the brief's
//! `JobConfigPayload` plus optional extensions, each with a default so old
//! payloads stay valid.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::lifecycle::{LifecycleModel, model_ids};
use crate::plan::{Calendars, JobPlan};
use crate::retry::{BackoffStrategy, RetryPolicy};
use crate::schedule::{CronExpr, DstPolicy, Schedule, parse_timezone};
use crate::validate::{Checker, Choice, Obj};

use crate::choice_enum;

choice_enum!(
    /// The five job types; each has exactly one handler.
    JobType {
        AdvancementBatch => "advancement-batch",
        SignalAggregation => "signal-aggregation",
        NotificationDigest => "notification-digest",
        OrphanCleanup => "orphan-cleanup",
        HealthCheck => "health-check",
    }
);

choice_enum!(
    /// What happens to slots missed while the service was down.
    MisfirePolicy { RunOnce => "run-once", Skip => "skip" }
);

choice_enum!(
    /// What happens to a slot due while `maxConcurrent` runs are going.
    OverlapPolicy { Skip => "skip", Queue => "queue" }
);

choice_enum!(
    SignalPeriod { AllTime => "all_time", Last30d => "last_30d", Last7d => "last_7d" }
);

choice_enum!(
    /// Where notifications are delivered.
    Channel { Log => "log", Outbox => "outbox", Webhook => "webhook" }
);

choice_enum!(
    EventType {
        JobFailed => "job.failed",
        JobSucceeded => "job.succeeded",
        JobDisabled => "job.disabled",
        Advancement => "advancement",
        ConfigChanged => "config.changed",
        HealthAlert => "health.alert",
        JobLate => "job.late",
        JobSilent => "job.silent",
    }
);

choice_enum!(
    CleanupEntity {
        Signals => "signals",
        AdvancementEvents => "advancement-events",
        Sprouts => "sprouts",
        Executions => "executions",
    }
);

choice_enum!(
    HealthCheckKind { Database => "database", Storage => "storage", Api => "api", Rag => "rag" }
);

choice_enum!(
    /// Severity grades, lowest first.
    Severity { Ok => "ok", Warning => "warning", Error => "error", Critical => "critical" }
);

choice_enum!(
    /// Grades at or above which a health check alerts.
    AlertThreshold { Warning => "warning", Error => "error", Critical => "critical" }
);

choice_enum!(
    /// Final status of an execution, as shown in `lastExecution`.
    RunStatus { Success => "success", Partial => "partial", Failed => "failed", Cancelled => "cancelled", Skipped => "skipped" }
);

/// Bounds operators can set; wide enough for real use, narrow enough that a
/// typo (an extra zero or three) is caught.
pub mod bounds {
    pub const BATCH_SIZE: (i64, i64) = (1, 100_000);
    pub const TIMEOUT_SECONDS: (i64, i64) = (1, 86_400);
    pub const MAX_CONCURRENT: (i64, i64) = (1, 100);
    pub const MAX_ATTEMPTS: (i64, i64) = (1, 100);
    pub const DELAY_SECONDS: (i64, i64) = (0, 604_800);
    pub const STARTING_DEADLINE_SECONDS: (i64, i64) = (0, 604_800);
    pub const AUTO_DISABLE: (i64, i64) = (0, 10_000);
    pub const JITTER_SECONDS: (i64, i64) = (0, 3_600);
    /// `alerts.maxLatenessSeconds` and `alerts.maxSilenceSeconds`: a second to a year.
    pub const ALERT_SECONDS: (i64, i64) = (1, 31_536_000);
    pub const ORPHAN_THRESHOLD_DAYS: (i64, i64) = (1, 36_500);
    pub const TITLE_LEN: usize = 200;
    pub const TEXT_LEN: usize = 2_000;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleConfig {
    /// Exactly one of `cron_expression` and `run_at` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_expression: Option<String>,
    /// A one-off run at this instant, instead of a cron expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<Timestamp>,
    pub timezone: String,
    pub is_enabled: bool,
    pub misfire_policy: MisfirePolicy,
    pub starting_deadline_seconds: u64,
    pub dst_policy: DstPolicy,
    pub overlap_policy: OverlapPolicy,
    /// 0 = never.
    pub auto_disable_after_failures: u32,
    /// Calendars whose excluded times the job does not run in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_calendars: Vec<String>,
    /// No slot before this instant runs; the job resumes by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<Timestamp>,
    /// Each run is due up to this many seconds after its slot (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter_seconds: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ScheduleConfig {
    /// The evaluated cron schedule, zones looked up as stored (see
    /// [`Schedule::parse_stored`]); `None` for a one-off `runAt` (and for
    /// payloads that bypassed validation).
    pub fn schedule(&self) -> Option<Schedule> {
        let expr = self.cron_expression.as_deref()?;
        Schedule::parse_stored(expr, &self.timezone, self.dst_policy).ok()
    }

    /// The cron expression, or "" for a one-off run (for display and sorting).
    pub fn cron_text(&self) -> &str {
        self.cron_expression.as_deref().unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionLimits {
    pub batch_size: u32,
    pub timeout_seconds: u64,
    pub max_concurrent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancementParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_model_id: Option<String>,
    /// Empty or absent: every tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_tiers: Option<Vec<String>>,
    pub signal_period: SignalPeriod,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalAggregationParams {
    pub periods: Vec<SignalPeriod>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDigestParams {
    pub event_types: Vec<EventType>,
    pub recipient_ids: Vec<String>,
    pub channels: Vec<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupParams {
    pub entity_types: Vec<CleanupEntity>,
    pub orphan_threshold_days: u32,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthEndpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckParams {
    pub checks: Vec<HealthCheckKind>,
    pub alert_threshold: AlertThreshold,
    #[serde(default)]
    pub endpoints: HealthEndpoints,
}

/// Job-specific parameters, tagged by `jobType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "jobType")]
pub enum JobParameters {
    #[serde(rename = "advancement-batch")]
    AdvancementBatch(AdvancementParams),
    #[serde(rename = "signal-aggregation")]
    SignalAggregation(SignalAggregationParams),
    #[serde(rename = "notification-digest")]
    NotificationDigest(NotificationDigestParams),
    #[serde(rename = "orphan-cleanup")]
    OrphanCleanup(CleanupParams),
    #[serde(rename = "health-check")]
    HealthCheck(HealthCheckParams),
}

impl JobParameters {
    pub fn job_type(&self) -> JobType {
        match self {
            Self::AdvancementBatch(_) => JobType::AdvancementBatch,
            Self::SignalAggregation(_) => JobType::SignalAggregation,
            Self::NotificationDigest(_) => JobType::NotificationDigest,
            Self::OrphanCleanup(_) => JobType::OrphanCleanup,
            Self::HealthCheck(_) => JobType::HealthCheck,
        }
    }
}

/// Immediate per-run notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettings {
    pub on_success: bool,
    pub on_failure: bool,
    pub channels: Vec<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            on_success: false,
            on_failure: true,
            channels: vec![Channel::Log],
            webhook_url: None,
        }
    }
}

/// Jobs that run when a run of this one ends (chained jobs): `onSuccess`
/// after a `success` or `partial` run, `onFailure` after a run that failed
/// its last attempt. Each target gets one execution per parent run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Triggers {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_success: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_failure: Vec<String>,
}

impl Triggers {
    pub fn is_empty(&self) -> bool {
        self.on_success.is_empty() && self.on_failure.is_empty()
    }
}

/// The dead-man's switch (`alerts`): what counts as a late slot and as a
/// job gone silent. Both optional; absent means no alert of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettings {
    /// A scheduled slot whose first attempt starts more than this many
    /// seconds after its due instant (slot plus jitter), or that is
    /// recorded as missed, raises `job.late`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lateness_seconds: Option<u64>,
    /// An enabled job with no `success` or `partial` run for this many
    /// seconds raises `job.silent`, once, until its next success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_silence_seconds: Option<u64>,
}

/// The latest late slot (`lateSlot`), written by the engine; cleared when a
/// later slot starts in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LateSlot {
    pub run_id: String,
    pub scheduled_for: Timestamp,
    pub due_at: Timestamp,
    /// Seconds from the due instant to the start, or to when the slot was
    /// recorded as missed.
    pub lateness_seconds: u64,
    pub missed: bool,
    pub at: Timestamp,
}

/// Set by the engine when it raised `job.silent` (`silence`); cleared by
/// the next `success` or `partial` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    /// When the alert was raised.
    pub at: Timestamp,
    /// Where the silence was counted from: the last success, or when the
    /// watch began (the alert set, the job enabled).
    pub since: Timestamp,
    pub max_silence_seconds: u64,
}

/// The latest finished execution, written by the engine (never by clients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastExecution {
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub status: RunStatus,
    pub items_processed: u64,
    pub errors: u64,
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub consecutive_failures: u32,
}

/// Set by the engine when it disabled a schedule after repeated failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoDisabled {
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobConfigPayload {
    pub job_type: JobType,
    pub display_name: String,
    pub schedule: ScheduleConfig,
    pub retry: RetryPolicy,
    pub limits: ExecutionLimits,
    pub parameters: JobParameters,
    pub notifications: NotificationSettings,
    /// Jobs chained after this one's runs.
    #[serde(default, skip_serializing_if = "Triggers::is_empty")]
    pub triggers: Triggers,
    /// The dead-man's switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_execution: Option<LastExecution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disabled: Option<AutoDisabled>,
    /// When the latest `success` or `partial` run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_slot: Option<LateSlot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<Silence>,
}

/// Payload fields written by the engine; accepted from clients and ignored.
pub const ENGINE_FIELDS: &[&str] = &[
    "lastExecution",
    "autoDisabled",
    "lastSuccessAt",
    "lateSlot",
    "silence",
];

const PAYLOAD_FIELDS: &[&str] = &[
    "jobType",
    "displayName",
    "schedule",
    "retry",
    "limits",
    "parameters",
    "notifications",
    "triggers",
    "alerts",
];
const SCHEDULE_FIELDS: &[&str] = &[
    "cronExpression",
    "runAt",
    "excludeCalendars",
    "pausedUntil",
    "jitterSeconds",
    "timezone",
    "isEnabled",
    "misfirePolicy",
    "startingDeadlineSeconds",
    "dstPolicy",
    "overlapPolicy",
    "autoDisableAfterFailures",
];
const RETRY_FIELDS: &[&str] = &[
    "maxAttempts",
    "backoffStrategy",
    "initialDelaySeconds",
    "maxDelaySeconds",
];
const LIMIT_FIELDS: &[&str] = &["batchSize", "timeoutSeconds", "maxConcurrent"];
const NOTIFICATION_FIELDS: &[&str] = &["onSuccess", "onFailure", "channels", "webhookUrl"];
const TRIGGER_FIELDS: &[&str] = &["onSuccess", "onFailure"];
const ALERT_FIELDS: &[&str] = &["maxLatenessSeconds", "maxSilenceSeconds"];

impl JobConfigPayload {
    /// Decodes and validates a client's payload at `/payload`, filling in
    /// defaults; `title` is the object's title (the default display name).
    pub fn decode(value: &Value, title: Option<&str>, c: &mut Checker) -> Option<Self> {
        let obj = c.object(value, "/payload", PAYLOAD_FIELDS, ENGINE_FIELDS)?;
        let job_type = c.choice::<JobType>(&obj, "jobType", true);
        let display_name = match c.field(&obj, "displayName", false) {
            Some(_) => c.text(&obj, "displayName", true, bounds::TITLE_LEN),
            None => match title {
                Some(t) => Some(t.to_owned()),
                None => {
                    c.push(
                        "/payload/displayName",
                        "is required when meta.title is not given",
                    );
                    None
                }
            },
        };
        let schedule = decode_schedule(c, &obj);
        let retry = decode_retry(c, &obj);
        let limits = decode_limits(c, &obj);
        let parameters = job_type.and_then(|jt| decode_parameters(c, &obj, jt));
        let notifications = decode_notifications(c, &obj);
        let triggers = decode_triggers(c, &obj);
        let alerts = decode_alerts(c, &obj);
        Some(Self {
            job_type: job_type?,
            display_name: display_name?,
            schedule: schedule?,
            retry: retry?,
            limits: limits?,
            parameters: parameters?,
            notifications: notifications?,
            triggers: triggers?,
            alerts: alerts?,
            last_execution: None,
            auto_disabled: None,
            last_success_at: None,
            late_slot: None,
            silence: None,
        })
    }

    /// The payload as stored JSON (without engine fields).
    pub fn to_value(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            for f in ENGINE_FIELDS {
                map.remove(*f);
            }
        }
        v
    }

    /// The default payload for a job type: disabled, with the brief's limits.
    pub fn default_for(job_type: JobType) -> Self {
        let (display_name, cron, parameters, limits) = match job_type {
            JobType::AdvancementBatch => (
                "Daily Advancement",
                "0 2 * * *",
                JobParameters::AdvancementBatch(AdvancementParams {
                    lifecycle_model_id: None,
                    from_tiers: None,
                    signal_period: SignalPeriod::AllTime,
                    dry_run: false,
                }),
                (100, 300),
            ),
            JobType::SignalAggregation => (
                "Hourly Signal Aggregation",
                "15 * * * *",
                JobParameters::SignalAggregation(SignalAggregationParams {
                    periods: vec![
                        SignalPeriod::AllTime,
                        SignalPeriod::Last30d,
                        SignalPeriod::Last7d,
                    ],
                }),
                (1000, 900),
            ),
            JobType::NotificationDigest => (
                "Daily Operator Digest",
                "0 8 * * *",
                JobParameters::NotificationDigest(NotificationDigestParams {
                    event_types: vec![
                        EventType::JobFailed,
                        EventType::JobDisabled,
                        EventType::Advancement,
                        EventType::HealthAlert,
                    ],
                    recipient_ids: vec!["operators".to_owned()],
                    channels: vec![Channel::Log, Channel::Outbox],
                    webhook_url: None,
                }),
                (500, 300),
            ),
            JobType::OrphanCleanup => (
                "Weekly Orphan Cleanup",
                "0 3 * * SUN",
                JobParameters::OrphanCleanup(CleanupParams {
                    entity_types: vec![
                        CleanupEntity::Signals,
                        CleanupEntity::AdvancementEvents,
                        CleanupEntity::Executions,
                    ],
                    orphan_threshold_days: 90,
                    dry_run: true,
                }),
                (500, 1800),
            ),
            JobType::HealthCheck => (
                "System Health Check",
                "*/5 * * * *",
                JobParameters::HealthCheck(HealthCheckParams {
                    checks: vec![
                        HealthCheckKind::Database,
                        HealthCheckKind::Storage,
                        HealthCheckKind::Api,
                    ],
                    alert_threshold: AlertThreshold::Error,
                    endpoints: HealthEndpoints::default(),
                }),
                (10, 60),
            ),
        };
        Self {
            job_type,
            display_name: display_name.to_owned(),
            schedule: ScheduleConfig {
                cron_expression: Some(cron.to_owned()),
                run_at: None,
                timezone: "America/Los_Angeles".to_owned(),
                is_enabled: false,
                misfire_policy: MisfirePolicy::RunOnce,
                starting_deadline_seconds: 3600,
                dst_policy: DstPolicy::Cron,
                overlap_policy: OverlapPolicy::Skip,
                auto_disable_after_failures: 5,
                exclude_calendars: Vec::new(),
                paused_until: None,
                jitter_seconds: 0,
            },
            retry: RetryPolicy {
                max_attempts: 3,
                backoff_strategy: BackoffStrategy::Exponential,
                initial_delay_seconds: 60,
                max_delay_seconds: 900,
            },
            limits: ExecutionLimits {
                batch_size: limits.0,
                timeout_seconds: limits.1,
                max_concurrent: 1,
            },
            parameters,
            notifications: NotificationSettings::default(),
            triggers: Triggers::default(),
            alerts: None,
            last_execution: None,
            auto_disabled: None,
            last_success_at: None,
            late_slot: None,
            silence: None,
        }
    }

    /// Whether the schedule is active.
    pub fn is_enabled(&self) -> bool {
        self.schedule.is_enabled
    }
}

fn range(
    c: &mut Checker,
    obj: &Obj<'_>,
    key: &str,
    required: bool,
    (min, max): (i64, i64),
) -> Option<i64> {
    c.integer(obj, key, required, min, max)
}

fn decode_schedule(c: &mut Checker, payload: &Obj<'_>) -> Option<ScheduleConfig> {
    let obj = c.nested(payload, "schedule", true, SCHEDULE_FIELDS, &[])?;
    let has = |key: &str| obj.map.get(key).is_some_and(|v| !v.is_null());
    let (cron, cron_ok, run_at) = match (has("cronExpression"), has("runAt")) {
        (true, true) => {
            c.push(
                "/payload/schedule/runAt",
                "give either cronExpression (a repeating schedule) or runAt (one run), not both",
            );
            (None, None, None)
        }
        (false, false) => {
            c.push(
                "/payload/schedule/cronExpression",
                "is required (or runAt, for a single run at an instant)",
            );
            (None, None, None)
        }
        (true, false) => {
            let cron = c.string(&obj, "cronExpression", true);
            let ok = cron
                .as_deref()
                .and_then(|expr| match CronExpr::parse(expr) {
                    Ok(_) => Some(()),
                    Err(e) => {
                        c.push("/payload/schedule/cronExpression", e.to_string());
                        None
                    }
                });
            (cron.map(|e| Some(e.trim().to_owned())), ok, Some(None))
        }
        (false, true) => {
            let at = instant(c, &obj, "runAt");
            (Some(None), Some(()), at.map(Some))
        }
    };
    let exclude_calendars = id_list(c, &obj, "excludeCalendars", "a calendar id");
    let paused_until = match has("pausedUntil") {
        true => instant(c, &obj, "pausedUntil").map(Some),
        false => Some(None),
    };
    let jitter_seconds = optional_int(c, &obj, "jitterSeconds", bounds::JITTER_SECONDS, 0);
    let timezone = c.string(&obj, "timezone", true);
    let tz_ok = timezone.as_deref().and_then(|tz| match parse_timezone(tz) {
        Ok(_) => Some(()),
        Err(e) => {
            c.push("/payload/schedule/timezone", e.to_string());
            None
        }
    });
    let is_enabled = c.boolean(&obj, "isEnabled", true);
    let misfire_policy = optional_choice(c, &obj, "misfirePolicy", MisfirePolicy::RunOnce);
    let starting_deadline_seconds = optional_int(
        c,
        &obj,
        "startingDeadlineSeconds",
        bounds::STARTING_DEADLINE_SECONDS,
        3600,
    );
    let dst_policy = optional_choice(c, &obj, "dstPolicy", DstPolicy::Cron);
    let overlap_policy = optional_choice(c, &obj, "overlapPolicy", OverlapPolicy::Skip);
    let auto_disable = optional_int(c, &obj, "autoDisableAfterFailures", bounds::AUTO_DISABLE, 5);
    cron_ok?;
    tz_ok?;
    Some(ScheduleConfig {
        cron_expression: cron?,
        run_at: run_at?,
        timezone: timezone?,
        is_enabled: is_enabled?,
        misfire_policy: misfire_policy?,
        starting_deadline_seconds: u64::try_from(starting_deadline_seconds?).ok()?,
        dst_policy: dst_policy?,
        overlap_policy: overlap_policy?,
        auto_disable_after_failures: u32::try_from(auto_disable?).ok()?,
        exclude_calendars: exclude_calendars?,
        paused_until: paused_until?,
        jitter_seconds: u32::try_from(jitter_seconds?).ok()?,
    })
}

/// An RFC 3339 instant with an offset (`2026-12-24T18:00:00Z`).
fn instant(c: &mut Checker, obj: &Obj<'_>, key: &str) -> Option<Timestamp> {
    let text = c.string(obj, key, true)?;
    match text.parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            c.push(
                Checker::pointer_of(obj, key),
                format!("\"{text}\" is not an instant such as 2026-12-24T18:00:00Z (RFC 3339, with an offset)"),
            );
            None
        }
    }
}

/// A list of object ids, each once (`excludeCalendars`, the chained jobs
/// of `triggers`). Whether they exist is checked where objects are stored
/// (the application layer).
fn id_list(c: &mut Checker, obj: &Obj<'_>, key: &str, what: &str) -> Option<Vec<String>> {
    let Some(items) = c.string_list(obj, key, false) else {
        return if obj.map.get(key).is_some_and(|v| !v.is_null()) {
            None
        } else {
            Some(Vec::new())
        };
    };
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for (pointer, id) in items {
        if !crate::object::is_valid_id(&id) {
            ok = false;
            c.push(pointer, format!("\"{id}\" is not {what}"));
        } else if out.contains(&id) {
            ok = false;
            c.push(pointer, format!("\"{id}\" is listed twice"));
        } else {
            out.push(id);
        }
    }
    ok.then_some(out)
}

/// `triggers`: job config ids to chain on success and on failure.
fn decode_triggers(c: &mut Checker, payload: &Obj<'_>) -> Option<Triggers> {
    if c.field(payload, "triggers", false).is_none() {
        return Some(Triggers::default());
    }
    let obj = c.nested(payload, "triggers", true, TRIGGER_FIELDS, &[])?;
    let on_success = id_list(c, &obj, "onSuccess", "a job config id");
    let on_failure = id_list(c, &obj, "onFailure", "a job config id");
    Some(Triggers {
        on_success: on_success?,
        on_failure: on_failure?,
    })
}

fn optional_choice<C: Choice>(c: &mut Checker, obj: &Obj<'_>, key: &str, default: C) -> Option<C> {
    match c.field(obj, key, false) {
        Some(_) => c.choice(obj, key, true),
        None => Some(default),
    }
}

fn optional_int(
    c: &mut Checker,
    obj: &Obj<'_>,
    key: &str,
    bounds: (i64, i64),
    default: i64,
) -> Option<i64> {
    match c.field(obj, key, false) {
        Some(_) => range(c, obj, key, true, bounds),
        None => Some(default),
    }
}

fn optional_bool(c: &mut Checker, obj: &Obj<'_>, key: &str, default: bool) -> Option<bool> {
    match c.field(obj, key, false) {
        Some(_) => c.boolean(obj, key, true),
        None => Some(default),
    }
}

fn decode_retry(c: &mut Checker, payload: &Obj<'_>) -> Option<RetryPolicy> {
    let obj = c.nested(payload, "retry", true, RETRY_FIELDS, &[])?;
    let max_attempts = range(c, &obj, "maxAttempts", true, bounds::MAX_ATTEMPTS);
    let strategy = c.choice::<BackoffStrategy>(&obj, "backoffStrategy", true);
    let initial = range(c, &obj, "initialDelaySeconds", true, bounds::DELAY_SECONDS);
    let max = range(c, &obj, "maxDelaySeconds", true, bounds::DELAY_SECONDS);
    if let (Some(i), Some(m)) = (initial, max)
        && i > m
    {
        c.push(
            "/payload/retry/initialDelaySeconds",
            format!("must not be greater than maxDelaySeconds ({m}), got {i}"),
        );
        return None;
    }
    Some(RetryPolicy {
        max_attempts: u32::try_from(max_attempts?).ok()?,
        backoff_strategy: strategy?,
        initial_delay_seconds: u64::try_from(initial?).ok()?,
        max_delay_seconds: u64::try_from(max?).ok()?,
    })
}

fn decode_limits(c: &mut Checker, payload: &Obj<'_>) -> Option<ExecutionLimits> {
    let obj = c.nested(payload, "limits", true, LIMIT_FIELDS, &[])?;
    let batch = range(c, &obj, "batchSize", true, bounds::BATCH_SIZE);
    let timeout = range(c, &obj, "timeoutSeconds", true, bounds::TIMEOUT_SECONDS);
    let concurrent = range(c, &obj, "maxConcurrent", true, bounds::MAX_CONCURRENT);
    Some(ExecutionLimits {
        batch_size: u32::try_from(batch?).ok()?,
        timeout_seconds: u64::try_from(timeout?).ok()?,
        max_concurrent: u32::try_from(concurrent?).ok()?,
    })
}

fn decode_notifications(c: &mut Checker, payload: &Obj<'_>) -> Option<NotificationSettings> {
    if c.field(payload, "notifications", false).is_none() {
        return Some(NotificationSettings::default());
    }
    let obj = c.nested(payload, "notifications", true, NOTIFICATION_FIELDS, &[])?;
    let defaults = NotificationSettings::default();
    let on_success = optional_bool(c, &obj, "onSuccess", defaults.on_success);
    let on_failure = optional_bool(c, &obj, "onFailure", defaults.on_failure);
    let channels = match c.field(&obj, "channels", false) {
        Some(_) => c.choice_list::<Channel>(&obj, "channels", true),
        None => Some(defaults.channels),
    };
    let webhook_url = webhook(c, &obj, channels.as_deref());
    Some(NotificationSettings {
        on_success: on_success?,
        on_failure: on_failure?,
        channels: channels?,
        webhook_url: webhook_url?,
    })
}

/// `alerts`: optional, and so is each of its fields; absent or `null` is
/// no alert (an empty object is kept as none).
fn decode_alerts(c: &mut Checker, payload: &Obj<'_>) -> Option<Option<AlertSettings>> {
    if payload.map.get("alerts").is_none_or(Value::is_null) {
        return Some(None);
    }
    let obj = c.nested(payload, "alerts", true, ALERT_FIELDS, &[])?;
    let mut seconds = |key: &str| -> Option<Option<u64>> {
        if obj.map.get(key).is_none_or(Value::is_null) {
            return Some(None);
        }
        let n = range(c, &obj, key, true, bounds::ALERT_SECONDS)?;
        u64::try_from(n).ok().map(Some)
    };
    let lateness = seconds("maxLatenessSeconds");
    let silence = seconds("maxSilenceSeconds");
    let alerts = AlertSettings {
        max_lateness_seconds: lateness?,
        max_silence_seconds: silence?,
    };
    Some((alerts != AlertSettings::default()).then_some(alerts))
}

/// `webhookUrl`: required when `channels` includes `webhook`, an http(s) URL.
fn webhook(c: &mut Checker, obj: &Obj<'_>, channels: Option<&[Channel]>) -> Option<Option<String>> {
    let wants = channels.is_some_and(|ch| ch.contains(&Channel::Webhook));
    let pointer = Checker::pointer_of(obj, "webhookUrl");
    match c.string(obj, "webhookUrl", false) {
        Some(url) => match crate::outbound::parse_url(&url) {
            Ok(_) => Some(Some(url)),
            Err(why) => {
                c.push(
                    pointer,
                    format!("must be an http:// or https:// URL: \"{url}\" {why}"),
                );
                None
            }
        },
        None if wants && obj.map.get("webhookUrl").is_none_or(Value::is_null) => {
            c.push(pointer, "is required when channels include \"webhook\"");
            None
        }
        None if obj.map.get("webhookUrl").is_some_and(|v| !v.is_null()) => None,
        None => Some(None),
    }
}

/// An absolute http(s) URL the service could send a request to (see
/// [`crate::outbound::parse_url`]; the address policy is checked apart).
pub fn is_http_url(url: &str) -> bool {
    crate::outbound::parse_url(url).is_ok()
}

/// The URLs a job config payload makes the service call, each with its
/// pointer: webhook URLs and health-check endpoints.
pub fn outbound_urls(payload: &Value) -> Vec<(String, String)> {
    [
        "/notifications/webhookUrl",
        "/parameters/webhookUrl",
        "/parameters/endpoints/api",
        "/parameters/endpoints/rag",
    ]
    .iter()
    .filter_map(|p| {
        payload
            .pointer(p)
            .and_then(Value::as_str)
            .map(|u| (format!("/payload{p}"), u.to_owned()))
    })
    .collect()
}

const ADVANCEMENT_FIELDS: &[&str] = &[
    "jobType",
    "lifecycleModelId",
    "fromTiers",
    "signalPeriod",
    "dryRun",
];
const AGGREGATION_FIELDS: &[&str] = &["jobType", "periods"];
const DIGEST_FIELDS: &[&str] = &[
    "jobType",
    "eventTypes",
    "recipientIds",
    "channels",
    "webhookUrl",
];
const CLEANUP_FIELDS: &[&str] = &["jobType", "entityTypes", "orphanThresholdDays", "dryRun"];
const HEALTH_FIELDS: &[&str] = &["jobType", "checks", "alertThreshold", "endpoints"];

fn decode_parameters(
    c: &mut Checker,
    payload: &Obj<'_>,
    job_type: JobType,
) -> Option<JobParameters> {
    let allowed = match job_type {
        JobType::AdvancementBatch => ADVANCEMENT_FIELDS,
        JobType::SignalAggregation => AGGREGATION_FIELDS,
        JobType::NotificationDigest => DIGEST_FIELDS,
        JobType::OrphanCleanup => CLEANUP_FIELDS,
        JobType::HealthCheck => HEALTH_FIELDS,
    };
    let obj = c.nested(payload, "parameters", true, allowed, &[])?;
    if c.field(&obj, "jobType", false).is_some() {
        let given = c.string(&obj, "jobType", true)?;
        if given != job_type.name() {
            c.push(
                "/payload/parameters/jobType",
                format!(
                    "must match payload.jobType \"{}\", got \"{given}\" (it may be left out)",
                    job_type.name()
                ),
            );
            return None;
        }
    }
    match job_type {
        JobType::AdvancementBatch => {
            decode_advancement(c, &obj).map(JobParameters::AdvancementBatch)
        }
        JobType::SignalAggregation => {
            let periods = non_empty(c, &obj, "periods", |c, o| {
                c.choice_list::<SignalPeriod>(o, "periods", true)
            });
            Some(JobParameters::SignalAggregation(SignalAggregationParams {
                periods: periods?,
            }))
        }
        JobType::NotificationDigest => {
            decode_digest(c, &obj).map(JobParameters::NotificationDigest)
        }
        JobType::OrphanCleanup => {
            let entity_types = non_empty(c, &obj, "entityTypes", |c, o| {
                c.choice_list::<CleanupEntity>(o, "entityTypes", true)
            });
            let days = range(
                c,
                &obj,
                "orphanThresholdDays",
                true,
                bounds::ORPHAN_THRESHOLD_DAYS,
            );
            let dry_run = optional_bool(c, &obj, "dryRun", false);
            Some(JobParameters::OrphanCleanup(CleanupParams {
                entity_types: entity_types?,
                orphan_threshold_days: u32::try_from(days?).ok()?,
                dry_run: dry_run?,
            }))
        }
        JobType::HealthCheck => decode_health(c, &obj).map(JobParameters::HealthCheck),
    }
}

fn non_empty<T>(
    c: &mut Checker,
    obj: &Obj<'_>,
    key: &str,
    read: impl FnOnce(&mut Checker, &Obj<'_>) -> Option<Vec<T>>,
) -> Option<Vec<T>> {
    let items = read(c, obj)?;
    if items.is_empty() {
        c.push(
            Checker::pointer_of(obj, key),
            "must list at least one value",
        );
        return None;
    }
    Some(items)
}

fn decode_advancement(c: &mut Checker, obj: &Obj<'_>) -> Option<AdvancementParams> {
    let model_id = c.string(obj, "lifecycleModelId", false);
    let model = LifecycleModel::find(model_id.as_deref());
    if model.is_none() {
        c.push(
            "/payload/parameters/lifecycleModelId",
            format!(
                "unknown lifecycle model \"{}\"; known models: {}",
                model_id.as_deref().unwrap_or_default(),
                model_ids()
            ),
        );
    }
    let from_tiers = match c.string_list(obj, "fromTiers", false) {
        Some(items) => {
            let mut tiers = Vec::with_capacity(items.len());
            let mut ok = true;
            for (pointer, tier) in items {
                if let Some(m) = model
                    && !m.contains(&tier)
                {
                    ok = false;
                    c.push(
                        pointer,
                        format!(
                            "unknown tier \"{tier}\"; the {} model has {}",
                            m.id,
                            m.tier_list()
                        ),
                    );
                } else if tiers.contains(&tier) {
                    ok = false;
                    c.push(pointer, format!("\"{tier}\" is listed twice"));
                } else {
                    tiers.push(tier);
                }
            }
            if !ok {
                return None;
            }
            Some(tiers)
        }
        None if obj.map.get("fromTiers").is_some_and(|v| !v.is_null()) => return None,
        None => None,
    };
    let signal_period = c.choice::<SignalPeriod>(obj, "signalPeriod", true);
    let dry_run = optional_bool(c, obj, "dryRun", false);
    model?;
    Some(AdvancementParams {
        lifecycle_model_id: model_id,
        from_tiers,
        signal_period: signal_period?,
        dry_run: dry_run?,
    })
}

fn decode_digest(c: &mut Checker, obj: &Obj<'_>) -> Option<NotificationDigestParams> {
    let event_types = non_empty(c, obj, "eventTypes", |c, o| {
        c.choice_list::<EventType>(o, "eventTypes", true)
    });
    let recipients = c.string_list(obj, "recipientIds", true).and_then(|items| {
        let mut ok = true;
        let mut out: Vec<String> = Vec::new();
        for (pointer, id) in items {
            if id.trim().is_empty() {
                ok = false;
                c.push(pointer, "must not be empty");
            } else if out.contains(&id) {
                ok = false;
                c.push(pointer, format!("\"{id}\" is listed twice"));
            } else {
                out.push(id);
            }
        }
        ok.then_some(out)
    });
    let recipients = recipients.and_then(|r| {
        if r.is_empty() {
            c.push(
                "/payload/parameters/recipientIds",
                "must list at least one recipient",
            );
            None
        } else {
            Some(r)
        }
    });
    let channels = match c.field(obj, "channels", false) {
        Some(_) => non_empty(c, obj, "channels", |c, o| {
            c.choice_list::<Channel>(o, "channels", true)
        }),
        None => Some(vec![Channel::Log, Channel::Outbox]),
    };
    let webhook_url = webhook(c, obj, channels.as_deref());
    Some(NotificationDigestParams {
        event_types: event_types?,
        recipient_ids: recipients?,
        channels: channels?,
        webhook_url: webhook_url?,
    })
}

fn decode_health(c: &mut Checker, obj: &Obj<'_>) -> Option<HealthCheckParams> {
    let checks = non_empty(c, obj, "checks", |c, o| {
        c.choice_list::<HealthCheckKind>(o, "checks", true)
    });
    let alert_threshold = c.choice::<AlertThreshold>(obj, "alertThreshold", true);
    let endpoints = match c.field(obj, "endpoints", false) {
        None => Some(HealthEndpoints::default()),
        Some(_) => c
            .nested(obj, "endpoints", true, &["api", "rag"], &[])
            .and_then(|e| {
                let mut url = |key: &str| -> Option<Option<String>> {
                    match c.string(&e, key, false) {
                        Some(u) => match crate::outbound::parse_url(&u) {
                            Ok(_) => Some(Some(u)),
                            Err(why) => {
                                c.push(
                                    Checker::pointer_of(&e, key),
                                    format!("must be an http:// or https:// URL: \"{u}\" {why}"),
                                );
                                None
                            }
                        },
                        None if e.map.get(key).is_some_and(|v| !v.is_null()) => None,
                        None => Some(None),
                    }
                };
                let api = url("api");
                let rag = url("rag");
                Some(HealthEndpoints {
                    api: api?,
                    rag: rag?,
                })
            }),
    };
    Some(HealthCheckParams {
        checks: checks?,
        alert_threshold: alert_threshold?,
        endpoints: endpoints?,
    })
}

/// Health of a job config, as the console and API show it.
///
/// One state, by precedence: a disabled schedule is `critical` (the engine
/// disabled it) or `disabled`; then the dead-man's switch, which the
/// operator asked to hear about — `silent` (no success for
/// `alerts.maxSilenceSeconds`), then `late` (the latest slot started late
/// or was missed, `alerts.maxLatenessSeconds`); then the last run:
/// `error` (failed), `warning` (partial or cancelled), `healthy`, or
/// `never-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    NeverRun,
    Healthy,
    Warning,
    Error,
    Critical,
    Disabled,
    Late,
    Silent,
}

/// Read-only fields computed for every job config response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Derived {
    /// `None` when the schedule is disabled (or has no future run).
    pub next_run_at: Option<Timestamp>,
    pub schedule_text: String,
    pub health: Health,
}

impl JobConfigPayload {
    pub fn health(&self) -> Health {
        if !self.schedule.is_enabled {
            return if self.auto_disabled.is_some() {
                Health::Critical
            } else {
                Health::Disabled
            };
        }
        let alerts = self.alerts.unwrap_or_default();
        if alerts.max_silence_seconds.is_some() && self.silence.is_some() {
            return Health::Silent;
        }
        if alerts.max_lateness_seconds.is_some() && self.late_slot.is_some() {
            return Health::Late;
        }
        match &self.last_execution {
            None => Health::NeverRun,
            Some(last) => match last.status {
                RunStatus::Success | RunStatus::Skipped => Health::Healthy,
                RunStatus::Partial | RunStatus::Cancelled => Health::Warning,
                RunStatus::Failed => Health::Error,
            },
        }
    }

    /// `derived` as of `now`, without calendars (see [`Self::derived_with`]).
    pub fn derived(&self, now: Timestamp) -> Derived {
        self.derived_with("", now, &Calendars::default())
    }

    /// `derived` as of `now`: every "when" comes from the job's
    /// [`JobPlan`], with the calendars it excludes.
    pub fn derived_with(&self, config_id: &str, now: Timestamp, calendars: &Calendars) -> Derived {
        let plan = JobPlan::new(config_id, &self.schedule, calendars);
        let next_run_at = plan
            .as_ref()
            .filter(|_| self.schedule.is_enabled)
            .and_then(|p| p.next_after(now))
            .map(|slot| slot.due_at);
        Derived {
            next_run_at,
            schedule_text: self.schedule.text(),
            health: self.health(),
        }
    }
}

impl ScheduleConfig {
    /// The schedule in words, naming the zone: "At 02:00 (UTC)", or
    /// "Once at 24 Dec 2026 18:00 EST (America/New_York)".
    pub fn text(&self) -> String {
        match (self.schedule(), self.run_at) {
            (Some(s), _) => format!("{} ({})", s.describe(), self.timezone),
            (None, Some(at)) => match parse_timezone(&self.timezone) {
                Ok(tz) => format!(
                    "Once at {} ({})",
                    at.to_zoned(tz).strftime("%-d %b %Y %H:%M %Z"),
                    self.timezone
                ),
                Err(_) => format!("Once at {at}"),
            },
            (None, None) => self.cron_text().to_owned(),
        }
    }
}

/// The brief's seeding payload for `advancement-batch` (section 4.6.3).
pub fn seed_advancement_payload() -> Value {
    json!({
        "jobType": "advancement-batch",
        "schedule": {"cronExpression": "0 2 * * *", "timezone": "UTC", "isEnabled": true},
        "retry": {"maxAttempts": 3, "backoffStrategy": "exponential", "initialDelaySeconds": 60, "maxDelaySeconds": 3600},
        "limits": {"batchSize": 100, "timeoutSeconds": 3600, "maxConcurrent": 1},
        "parameters": {"signalPeriod": "all_time", "dryRun": false},
        "notifications": {"onSuccess": false, "onFailure": true, "channels": ["log"]}
    })
}
