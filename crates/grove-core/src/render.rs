//! json-render: execution status as a declarative tree of catalog components.
//!
//! - [`catalog`]: the six components of the brief (JobPhaseIndicator,
//!   JobProgressBar, JobMetricRow, JobLogEntry, JobErrorAlert,
//!   NextRunCountdown) with their prop schemas as JSON Schema.
//! - [`ExecutionView`]: the small, storage-free view of one execution the
//!   transform needs (the engine's execution type maps onto it).
//! - [`execution_to_render_tree`] / [`status_tree`]: the pure transform.
//! - [`validate_tree`]: checks a tree against the catalog before rendering.
//!
//! The prop types below are the source of truth; the JSON Schemas in
//! [`catalog`] describe the same shapes for API clients, and a test checks
//! that every component has both.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::job_config::{JobConfigPayload, LastExecution, RunStatus};
use crate::validate::Problem;

/// One node of a render tree: `{type, props?, children?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderNode {
    #[serde(rename = "type")]
    pub node_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<RenderNode>,
}

/// A whole tree; its root has type `root`.
pub type RenderTree = RenderNode;

impl RenderNode {
    pub fn root(children: Vec<RenderNode>) -> Self {
        Self {
            node_type: ROOT.to_owned(),
            props: None,
            children,
        }
    }

    fn component(name: &str, props: impl Serialize) -> Self {
        Self {
            node_type: name.to_owned(),
            props: Some(serde_json::to_value(props).unwrap_or(Value::Null)),
            children: Vec::new(),
        }
    }
}

pub const ROOT: &str = "root";

/// The component names of the catalog, in display order.
pub const COMPONENTS: &[&str] = &[
    "JobPhaseIndicator",
    "JobProgressBar",
    "JobMetricRow",
    "JobLogEntry",
    "JobErrorAlert",
    "NextRunCountdown",
];

/// `JobPhaseIndicator.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Queued,
    Running,
    /// An attempt failed and the next one waits for its time (a Warning).
    Retrying,
    Complete,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobPhaseIndicatorProps {
    pub phase: Phase,
    /// Retrying: the attempt that comes next, of how many, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// Retrying: the failed attempt's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobProgressBarProps {
    pub items_processed: f64,
    pub items_total: f64,
    /// 0 to 100.
    pub percentage: f64,
}

/// Colour of a metric value; always shown next to its label, never alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricColor {
    #[default]
    Default,
    Green,
    Red,
    Amber,
    Blue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricValue {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metric {
    pub label: String,
    pub value: MetricValue,
    #[serde(default)]
    pub color: MetricColor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobMetricRowProps {
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobLogEntryProps {
    pub timestamp: String,
    pub level: LogLevel,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobErrorAlertProps {
    pub error: String,
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NextRunCountdownProps {
    pub next_run_at: String,
    pub timezone: String,
}

/// The catalog as served at `GET /api/v1/render/catalog`:
/// `{components: {Name: {props: <JSON Schema>}}}`.
pub fn catalog() -> Value {
    let string = json!({"type": "string"});
    let time = json!({"type": "string", "format": "date-time"});
    let number = json!({"type": "number"});
    json!({
        "components": {
            "JobPhaseIndicator": {"props": object(json!({
                "phase": {"type": "string", "enum": ["queued", "running", "retrying", "complete", "failed"]},
                "nextAttempt": {"type": "integer", "minimum": 1},
                "maxAttempts": {"type": "integer", "minimum": 1},
                "nextAttemptAt": time,
                "lastError": string,
                "startedAt": time,
                "completedAt": time,
            }), &["phase"])},
            "JobProgressBar": {"props": object(json!({
                "itemsProcessed": {"type": "number", "minimum": 0},
                "itemsTotal": {"type": "number", "minimum": 0},
                "percentage": {"type": "number", "minimum": 0, "maximum": 100},
            }), &["itemsProcessed", "itemsTotal", "percentage"])},
            "JobMetricRow": {"props": object(json!({
                "metrics": {"type": "array", "items": object(json!({
                    "label": string,
                    "value": {"oneOf": [string, number]},
                    "color": {"type": "string", "enum": ["default", "green", "red", "amber", "blue"], "default": "default"},
                }), &["label", "value"])},
            }), &["metrics"])},
            "JobLogEntry": {"props": object(json!({
                "timestamp": time,
                "level": {"type": "string", "enum": ["info", "warn", "error"]},
                "message": string,
            }), &["timestamp", "level", "message"])},
            "JobErrorAlert": {"props": object(json!({
                "error": string,
                "retryable": {"type": "boolean"},
                "retryCount": {"type": "integer", "minimum": 0},
            }), &["error", "retryable"])},
            "NextRunCountdown": {"props": object(json!({
                "nextRunAt": time,
                "timezone": string,
            }), &["nextRunAt", "timezone"])},
        }
    })
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Status of an execution as the console sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Success,
    Partial,
    Failed,
    Cancelled,
    Skipped,
}

impl ExecutionStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Partial => "partial",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    /// "Success", "Failed", … for display.
    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Running => "Running",
            Self::Success => "Success",
            Self::Partial => "Partial",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
            Self::Skipped => "Skipped",
        }
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    pub fn phase(self) -> Phase {
        match self {
            Self::Queued => Phase::Queued,
            Self::Running => Phase::Running,
            Self::Success | Self::Partial | Self::Skipped => Phase::Complete,
            Self::Failed | Self::Cancelled => Phase::Failed,
        }
    }
}

impl From<RunStatus> for ExecutionStatus {
    fn from(s: RunStatus) -> Self {
        match s {
            RunStatus::Success => Self::Success,
            RunStatus::Partial => Self::Partial,
            RunStatus::Failed => Self::Failed,
            RunStatus::Cancelled => Self::Cancelled,
            RunStatus::Skipped => Self::Skipped,
        }
    }
}

/// One stored log line of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub timestamp: Timestamp,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
}

/// What the status display needs to know about one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionView {
    pub run_id: String,
    pub config_id: String,
    pub status: ExecutionStatus,
    /// `schedule`, `manual` or `retry`.
    pub trigger: String,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub items_processed: u64,
    pub items_total: Option<u64>,
    pub errors: u64,
    /// Attempts made so far (1 for the first).
    pub attempts: u32,
    pub error: Option<String>,
    pub logs: Vec<LogLine>,
    /// Queued again after a failed attempt: when the next attempt starts.
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
    /// The retry policy's attempts, first included (0 when unknown).
    #[serde(default)]
    pub max_attempts: u32,
}

impl ExecutionView {
    /// The view of a job config's `lastExecution` (no logs, one attempt known).
    pub fn from_last_execution(config_id: &str, last: &LastExecution) -> Self {
        Self {
            run_id: last.run_id.clone(),
            config_id: config_id.to_owned(),
            status: last.status.into(),
            trigger: "schedule".to_owned(),
            started_at: last.started_at,
            completed_at: last.completed_at,
            items_processed: last.items_processed,
            items_total: None,
            errors: last.errors,
            attempts: 1,
            error: last.error.clone(),
            logs: Vec::new(),
            next_attempt_at: None,
            max_attempts: 0,
        }
    }

    /// Between a failed attempt and the next one.
    pub fn is_retrying(&self) -> bool {
        self.status == ExecutionStatus::Queued && self.next_attempt_at.is_some()
    }

    /// Wall-clock duration, when both ends are known.
    pub fn duration_seconds(&self) -> Option<f64> {
        let (s, e) = (self.started_at?, self.completed_at?);
        Some(((e.as_millisecond() - s.as_millisecond()).max(0)) as f64 / 1000.0)
    }
}

/// How many log lines the status tree shows (the newest).
pub const LOG_TAIL: usize = 20;

/// The status tree of one execution of `config`, as of `now` (used only for
/// the next run). Pure: the same inputs give the same tree.
pub fn execution_to_render_tree(
    execution: &ExecutionView,
    config: &JobConfigPayload,
    now: Timestamp,
) -> RenderTree {
    status_tree(Some(execution), config, now)
}

/// The status tree of a job: its latest execution, if any, then its next run.
pub fn status_tree(
    execution: Option<&ExecutionView>,
    config: &JobConfigPayload,
    now: Timestamp,
) -> RenderTree {
    let mut children = Vec::new();
    if let Some(e) = execution {
        children.push(RenderNode::component(
            "JobPhaseIndicator",
            JobPhaseIndicatorProps {
                phase: if e.is_retrying() {
                    Phase::Retrying
                } else {
                    e.status.phase()
                },
                next_attempt: e.is_retrying().then_some(e.attempts + 1),
                max_attempts: (e.is_retrying() && e.max_attempts > 0).then_some(e.max_attempts),
                next_attempt_at: e
                    .next_attempt_at
                    .filter(|_| e.is_retrying())
                    .map(|t| t.to_string()),
                last_error: e.error.clone().filter(|_| e.is_retrying()),
                started_at: e.started_at.map(|t| t.to_string()),
                completed_at: e.completed_at.map(|t| t.to_string()),
            },
        ));
        let total = e.items_total.unwrap_or(e.items_processed);
        let percentage = if total == 0 {
            if e.status.is_finished() { 100.0 } else { 0.0 }
        } else {
            ((e.items_processed as f64 / total as f64) * 100.0).clamp(0.0, 100.0)
        };
        children.push(RenderNode::component(
            "JobProgressBar",
            JobProgressBarProps {
                items_processed: e.items_processed as f64,
                items_total: total as f64,
                percentage: (percentage * 10.0).round() / 10.0,
            },
        ));
        let mut metrics = vec![
            Metric {
                label: "Status".to_owned(),
                value: MetricValue::Text(
                    if e.is_retrying() {
                        "Retrying"
                    } else {
                        e.status.label()
                    }
                    .to_owned(),
                ),
                color: match e.status {
                    ExecutionStatus::Queued if e.is_retrying() => MetricColor::Amber,
                    ExecutionStatus::Success => MetricColor::Green,
                    ExecutionStatus::Partial | ExecutionStatus::Cancelled => MetricColor::Amber,
                    ExecutionStatus::Failed => MetricColor::Red,
                    ExecutionStatus::Running | ExecutionStatus::Queued => MetricColor::Blue,
                    ExecutionStatus::Skipped => MetricColor::Default,
                },
            },
            Metric {
                label: "Processed".to_owned(),
                value: MetricValue::Number(e.items_processed as f64),
                color: MetricColor::Default,
            },
            Metric {
                label: "Errors".to_owned(),
                value: MetricValue::Number(e.errors as f64),
                color: if e.errors > 0 {
                    MetricColor::Red
                } else {
                    MetricColor::Green
                },
            },
        ];
        if let Some(d) = e.duration_seconds() {
            metrics.push(Metric {
                label: "Duration".to_owned(),
                value: MetricValue::Text(format_duration(d)),
                color: MetricColor::Default,
            });
        }
        metrics.push(Metric {
            label: "Run ID".to_owned(),
            value: MetricValue::Text(e.run_id.chars().take(8).collect()),
            color: MetricColor::Default,
        });
        children.push(RenderNode::component(
            "JobMetricRow",
            JobMetricRowProps { metrics },
        ));
        if matches!(
            e.status,
            ExecutionStatus::Failed | ExecutionStatus::Cancelled
        ) {
            children.push(RenderNode::component(
                "JobErrorAlert",
                JobErrorAlertProps {
                    error: e
                        .error
                        .clone()
                        .unwrap_or_else(|| format!("the run ended as {}", e.status.name())),
                    retryable: true,
                    retry_count: Some(e.attempts.saturating_sub(1)),
                },
            ));
        }
        let skip = e.logs.len().saturating_sub(LOG_TAIL);
        for line in &e.logs[skip..] {
            children.push(RenderNode::component(
                "JobLogEntry",
                JobLogEntryProps {
                    timestamp: line.timestamp.to_string(),
                    level: match line.level.as_str() {
                        "error" => LogLevel::Error,
                        "warn" | "warning" => LogLevel::Warn,
                        _ => LogLevel::Info,
                    },
                    message: line.message.clone(),
                },
            ));
        }
    }
    if let Some(next) = config.derived(now).next_run_at {
        children.push(RenderNode::component(
            "NextRunCountdown",
            NextRunCountdownProps {
                next_run_at: next.to_string(),
                timezone: config.schedule.timezone.clone(),
            },
        ));
    }
    RenderNode::root(children)
}

/// "30 ms", "2.5 s", "23 s", "2 m 34 s", "1 h 02 m".
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if seconds < 1.0 {
        // "30 ms", never "0.0 s".
        format!("{} ms", (seconds.max(0.0) * 1000.0).round() as u64)
    } else if seconds < 10.0 && seconds.fract() != 0.0 {
        format!("{seconds:.1} s")
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} m {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} m", s / 3600, (s % 3600) / 60)
    }
}

/// A validated component, ready for a renderer.
#[derive(Debug, Clone, PartialEq)]
pub enum Component {
    JobPhaseIndicator(JobPhaseIndicatorProps),
    JobProgressBar(JobProgressBarProps),
    JobMetricRow(JobMetricRowProps),
    JobLogEntry(JobLogEntryProps),
    JobErrorAlert(JobErrorAlertProps),
    NextRunCountdown(NextRunCountdownProps),
}

/// Checks a tree against the catalog: the root is `root`, every other node
/// names a catalog component, and its props match the component's schema.
/// Returns the typed components in order, or every problem at its pointer.
pub fn validate_tree(tree: &RenderTree) -> Result<Vec<Component>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    if tree.node_type != ROOT {
        problems.push(Problem::new(
            "/type",
            format!(
                "the root must have type \"root\", got \"{}\"",
                tree.node_type
            ),
        ));
    }
    for (i, node) in tree.children.iter().enumerate() {
        let pointer = format!("/children/{i}");
        if !node.children.is_empty() {
            problems.push(Problem::new(
                format!("{pointer}/children"),
                "catalog components have no children",
            ));
        }
        let props = node.props.clone().unwrap_or(Value::Null);
        let decoded = match node.node_type.as_str() {
            "JobPhaseIndicator" => decode(props).map(Component::JobPhaseIndicator),
            "JobProgressBar" => decode::<JobProgressBarProps>(props).and_then(|p| {
                if (0.0..=100.0).contains(&p.percentage)
                    && p.items_processed >= 0.0
                    && p.items_total >= 0.0
                {
                    Ok(Component::JobProgressBar(p))
                } else {
                    Err(
                        "percentage must be from 0 to 100 and counts must not be negative"
                            .to_owned(),
                    )
                }
            }),
            "JobMetricRow" => decode(props).map(Component::JobMetricRow),
            "JobLogEntry" => decode(props).map(Component::JobLogEntry),
            "JobErrorAlert" => decode(props).map(Component::JobErrorAlert),
            "NextRunCountdown" => decode(props).map(Component::NextRunCountdown),
            other => {
                problems.push(Problem::new(
                    format!("{pointer}/type"),
                    format!(
                        "unknown component \"{other}\"; the catalog has {}",
                        COMPONENTS.join(", ")
                    ),
                ));
                continue;
            }
        };
        match decoded {
            Ok(c) => out.push(c),
            Err(message) => problems.push(Problem::new(format!("{pointer}/props"), message)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn decode<T: serde::de::DeserializeOwned>(props: Value) -> Result<T, String> {
    serde_json::from_value(props).map_err(|e| e.to_string())
}
