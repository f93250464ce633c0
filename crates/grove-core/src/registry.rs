//! The object type registry (the brief's EXPERIENCE_TYPE_REGISTRY): what each
//! object type is called, how it looks, how it is searched, filtered, sorted
//! and counted, its default payload and how its payload is validated.
//!
//! Adding an object type means adding an entry here and a payload type.

use serde_json::{Map, Value, json};

use crate::advancement_rule::AdvancementRulePayload;
use crate::calendar::CalendarPayload;
use crate::job_config::{JobConfigPayload, JobType, bounds};
use crate::object::{MAX_ID_LEN, MetaInput, is_valid_id};
use crate::query::{MetricQuery, QueryError};
use crate::validate::{Checker, Choice, Problem};

#[derive(Debug, Clone, Copy)]
pub struct FilterDef {
    pub field: &'static str,
    pub label: &'static str,
    pub options: &'static [&'static str],
}

#[derive(Debug, Clone, Copy)]
pub struct SortDef {
    pub field: &'static str,
    pub label: &'static str,
    /// "asc" or "desc".
    pub direction: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub id: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub query: &'static str,
}

impl MetricDef {
    pub fn parsed(&self) -> Result<MetricQuery, QueryError> {
        MetricQuery::parse(self.query)
    }
}

/// Decodes a payload at `/payload` (given the object's title), returning
/// the normalized payload JSON.
pub type DecodeFn = fn(&Value, Option<&str>, &mut Checker) -> Option<Value>;

#[derive(Debug, Clone, Copy)]
pub struct TypeDef {
    pub id: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub color: &'static str,
    pub description: &'static str,
    pub allow_multiple_active: bool,
    pub search_fields: &'static [&'static str],
    pub filters: &'static [FilterDef],
    pub sort_options: &'static [SortDef],
    pub metrics: &'static [MetricDef],
    pub default_payload: fn() -> Value,
    pub decode: DecodeFn,
    /// Every shape a payload of this type takes with its defaults (one per
    /// job type for job configs): the source of [`TypeDef::known_paths`].
    pub example_payloads: fn() -> Vec<Value>,
    /// Payload paths a default payload leaves out (optional fields, fields
    /// the engine writes).
    pub optional_paths: &'static [&'static str],
    /// `derived.*` fields of this type's documents.
    pub derived_fields: &'static [&'static str],
}

/// The `meta.*` fields every object has.
pub const META_FIELDS: &[&str] = &[
    "id",
    "type",
    "title",
    "description",
    "version",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "tags",
];

fn leaf_paths(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                leaf_paths(&format!("{prefix}.{k}"), v, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

pub const JOB_CONFIG: &str = "job-config";
pub const ADVANCEMENT_RULE: &str = "advancement-rule";
pub const CALENDAR: &str = "calendar";

const JOB_TYPES: &[&str] = &[
    "advancement-batch",
    "signal-aggregation",
    "notification-digest",
    "orphan-cleanup",
    "health-check",
];

/// Every object type, in display order.
pub const TYPES: &[TypeDef] = &[
    TypeDef {
        id: JOB_CONFIG,
        label: "Job Configuration",
        icon: "hourglass_empty",
        color: "#E65100",
        description: "Configure scheduled batch jobs and their execution parameters",
        allow_multiple_active: true,
        search_fields: &[
            "meta.id",
            "meta.title",
            "meta.description",
            "payload.jobType",
            "payload.displayName",
        ],
        filters: &[
            FilterDef {
                field: "payload.jobType",
                label: "Job Type",
                options: JOB_TYPES,
            },
            FilterDef {
                field: "payload.schedule.isEnabled",
                label: "Enabled",
                options: &["true", "false"],
            },
        ],
        sort_options: &[
            SortDef {
                field: "payload.lastExecution.completedAt",
                label: "Last Run",
                direction: "desc",
            },
            SortDef {
                field: "payload.schedule.cronExpression",
                label: "Schedule",
                direction: "asc",
            },
            SortDef {
                field: "meta.title",
                label: "Name",
                direction: "asc",
            },
        ],
        metrics: &[
            MetricDef {
                id: "enabled",
                label: "Enabled",
                icon: "check_circle",
                query: "count(where: payload.schedule.isEnabled=true)",
            },
            MetricDef {
                id: "failed",
                label: "Failed",
                icon: "error",
                query: "count(where: payload.lastExecution.status=failed)",
            },
        ],
        default_payload: || JobConfigPayload::default_for(JobType::AdvancementBatch).to_value(),
        decode: |v, title, c| JobConfigPayload::decode(v, title, c).map(|p| p.to_value()),
        example_payloads: || {
            JobType::ALL
                .iter()
                .map(|t| JobConfigPayload::default_for(*t).to_value())
                .collect()
        },
        optional_paths: &[
            "parameters.lifecycleModelId",
            "parameters.fromTiers",
            "parameters.webhookUrl",
            "parameters.endpoints.api",
            "parameters.endpoints.rag",
            "notifications.webhookUrl",
            "lastExecution.startedAt",
            "lastExecution.completedAt",
            "lastExecution.status",
            "lastExecution.itemsProcessed",
            "lastExecution.errors",
            "lastExecution.runId",
            "lastExecution.error",
            "lastExecution.consecutiveFailures",
            "autoDisabled.at",
            "autoDisabled.reason",
            "schedule.runAt",
            "schedule.excludeCalendars",
            "schedule.pausedUntil",
            "schedule.jitterSeconds",
            "triggers.onSuccess",
            "triggers.onFailure",
            "alerts.maxLatenessSeconds",
            "alerts.maxSilenceSeconds",
            "lastSuccessAt",
            "lateSlot.runId",
            "lateSlot.scheduledFor",
            "lateSlot.dueAt",
            "lateSlot.latenessSeconds",
            "lateSlot.missed",
            "lateSlot.at",
            "silence.at",
            "silence.since",
            "silence.maxSilenceSeconds",
        ],
        derived_fields: &["nextRunAt", "scheduleText", "health"],
    },
    TypeDef {
        id: ADVANCEMENT_RULE,
        label: "Advancement Rule",
        icon: "bolt",
        color: "#1976D2",
        description: "Configure when sprouts advance between tiers",
        allow_multiple_active: true,
        search_fields: &[
            "meta.id",
            "meta.title",
            "meta.description",
            "payload.fromTier",
            "payload.toTier",
        ],
        filters: &[
            FilterDef {
                field: "payload.fromTier",
                label: "From Tier",
                options: &["seed", "sprout", "sapling", "tree"],
            },
            FilterDef {
                field: "payload.isEnabled",
                label: "Enabled",
                options: &["true", "false"],
            },
        ],
        sort_options: &[
            SortDef {
                field: "meta.title",
                label: "Name",
                direction: "asc",
            },
            SortDef {
                field: "payload.fromTier",
                label: "From Tier",
                direction: "asc",
            },
            SortDef {
                field: "meta.updatedAt",
                label: "Last Edited",
                direction: "desc",
            },
        ],
        metrics: &[
            MetricDef {
                id: "enabled",
                label: "Enabled",
                icon: "check_circle",
                query: "count(where: payload.isEnabled=true)",
            },
            MetricDef {
                id: "disabled",
                label: "Disabled",
                icon: "pause_circle",
                query: "count(where: payload.isEnabled=false)",
            },
        ],
        default_payload: || AdvancementRulePayload::default_payload().to_value(),
        decode: |v, _title, c| AdvancementRulePayload::decode(v, c).map(|p| p.to_value()),
        example_payloads: || vec![AdvancementRulePayload::default_payload().to_value()],
        optional_paths: &["lifecycleModelId"],
        derived_fields: &[],
    },
    TypeDef {
        id: CALENDAR,
        label: "Calendar",
        icon: "event_busy",
        color: "#6A1B9A",
        description: "Holidays, blackout ranges and weekly maintenance windows that jobs skip",
        allow_multiple_active: true,
        search_fields: &[
            "meta.id",
            "meta.title",
            "meta.description",
            "payload.timezone",
        ],
        filters: &[],
        sort_options: &[
            SortDef {
                field: "meta.title",
                label: "Name",
                direction: "asc",
            },
            SortDef {
                field: "meta.updatedAt",
                label: "Last Edited",
                direction: "desc",
            },
        ],
        metrics: &[MetricDef {
            id: "calendars",
            label: "Total",
            icon: "event_busy",
            query: "count()",
        }],
        default_payload: || CalendarPayload::default().to_value(),
        decode: |v, _title, c| CalendarPayload::decode(v, c).map(|p| p.to_value()),
        example_payloads: || vec![CalendarPayload::default().to_value()],
        optional_paths: &["timezone", "dates", "ranges", "weekly"],
        derived_fields: &[],
    },
];

/// The registry entry for a type id.
pub fn find(type_id: &str) -> Option<&'static TypeDef> {
    TYPES.iter().find(|t| t.id == type_id)
}

/// Type ids, for messages.
pub fn type_ids() -> String {
    TYPES.iter().map(|t| t.id).collect::<Vec<_>>().join(", ")
}

impl TypeDef {
    /// The registry entry as JSON for `GET /api/v1/types`.
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.id,
            "label": self.label,
            "icon": self.icon,
            "color": self.color,
            "description": self.description,
            "allowMultipleActive": self.allow_multiple_active,
            "defaultPayload": (self.default_payload)(),
            "searchFields": self.search_fields,
            "filters": self.filters.iter().map(|f| json!({
                "field": f.field, "label": f.label, "type": "select", "options": f.options,
            })).collect::<Vec<_>>(),
            "sortOptions": self.sort_options.iter().map(|s| json!({
                "field": s.field, "label": s.label, "direction": s.direction,
            })).collect::<Vec<_>>(),
            "metrics": self.metrics.iter().map(|m| json!({
                "id": m.id, "label": m.label, "icon": m.icon, "query": m.query, "typeFilter": self.id,
            })).collect::<Vec<_>>(),
        })
    }

    /// Every field path a query may filter or sort on: `meta.*`, the
    /// payload's fields (leaves and the objects above them) and
    /// `derived.*`, in a stable order.
    pub fn known_paths(&self) -> Vec<String> {
        let mut out: Vec<String> = META_FIELDS.iter().map(|f| format!("meta.{f}")).collect();
        let mut payload = Vec::new();
        for example in (self.example_payloads)() {
            leaf_paths("payload", &example, &mut payload);
        }
        payload.extend(self.optional_paths.iter().map(|p| format!("payload.{p}")));
        for path in payload {
            // The objects above a leaf are paths too (`payload.schedule`).
            let mut end = 0;
            while let Some(dot) = path[end..].find('.').map(|d| d + end) {
                if dot > "payload".len() && !out.iter().any(|p| p == &path[..dot]) {
                    out.push(path[..dot].to_owned());
                }
                end = dot + 1;
            }
            if !out.contains(&path) {
                out.push(path);
            }
        }
        out.extend(self.derived_fields.iter().map(|f| format!("derived.{f}")));
        out
    }

    /// Whether `path` names a field of this type's documents.
    pub fn is_known_path(&self, path: &str) -> bool {
        self.known_paths().iter().any(|p| p == path)
    }

    /// Validates a client's `{meta, payload}` for this type. Read-only fields
    /// (`derived`, meta timestamps and version, engine-written payload
    /// fields) are accepted and ignored so GET → edit → PUT round-trips.
    pub fn validate(&self, raw: &Value) -> Result<ValidObject, Vec<Problem>> {
        let mut c = Checker::new();
        let Some(top) = c.object(raw, "", &["meta", "payload"], &["derived"]) else {
            return Err(c.into_problems());
        };
        let meta = c.nested(
            &top,
            "meta",
            true,
            &["id", "type", "title", "description", "tags"],
            &[
                "version",
                "createdAt",
                "updatedAt",
                "createdBy",
                "updatedBy",
            ],
        );
        let mut input = MetaInput::default();
        let mut title_ok = false;
        if let Some(meta) = &meta {
            if let Some(t) = c.string(meta, "type", false)
                && t != self.id
            {
                c.push(
                    "/meta/type",
                    format!("must be \"{}\" for this endpoint, got \"{t}\"", self.id),
                );
            }
            if let Some(id) = c.string(meta, "id", false) {
                if is_valid_id(&id) {
                    input.id = Some(id);
                } else {
                    c.push(
                        "/meta/id",
                        format!(
                            "must be 1 to {MAX_ID_LEN} letters, digits, '-', '_' or '.', starting with a letter or digit, got \"{id}\""
                        ),
                    );
                }
            }
            if c.field(meta, "title", false).is_some()
                && let Some(t) = c.text(meta, "title", true, bounds::TITLE_LEN)
            {
                input.title = t.trim().to_owned();
                title_ok = true;
            }
            if c.field(meta, "description", false).is_some() {
                input.description = c.string(meta, "description", true);
                if input
                    .description
                    .as_ref()
                    .is_some_and(|d| d.chars().count() > bounds::TEXT_LEN)
                {
                    c.push(
                        "/meta/description",
                        format!("must be at most {} characters long", bounds::TEXT_LEN),
                    );
                }
            }
            if let Some(tags) = c.string_list(meta, "tags", false) {
                input.tags = tags.into_iter().map(|(_, t)| t).collect();
            }
        }
        let payload = c.field(&top, "payload", true);
        let normalized = payload
            .and_then(|p| (self.decode)(p, title_ok.then_some(input.title.as_str()), &mut c));
        if meta.is_some()
            && !title_ok
            && c.field(meta.as_ref().unwrap_or(&top), "title", false)
                .is_none()
        {
            // The title may be left out when the payload names the object.
            match normalized
                .as_ref()
                .and_then(|p| p.get("displayName"))
                .and_then(Value::as_str)
            {
                Some(name) => input.title = name.to_owned(),
                None => c.push("/meta/title", "is required"),
            }
        }
        match (normalized, c.is_ok()) {
            (Some(payload), true) => Ok(ValidObject {
                meta: input,
                payload,
            }),
            _ => Err(c.into_problems()),
        }
    }
}

/// A client object that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidObject {
    pub meta: MetaInput,
    /// The normalized payload, defaults filled in, engine fields removed.
    pub payload: Value,
}

/// Evaluates every metric of a type over the given objects (`{meta, payload}`).
pub fn evaluate_metrics(def: &TypeDef, objects: &[Value]) -> Result<Vec<Value>, QueryError> {
    let mut tally = MetricTally::new(def)?;
    tally.add(objects);
    Ok(tally.finish())
}

/// A type's metrics counted over its documents a page at a time, so that
/// thousands of objects need not be in memory at once.
#[derive(Debug)]
pub struct MetricTally<'d> {
    def: &'d TypeDef,
    queries: Vec<MetricQuery>,
    counts: Vec<usize>,
    total: usize,
}

impl<'d> MetricTally<'d> {
    /// Fails when one of the type's metric queries does not parse.
    pub fn new(def: &'d TypeDef) -> Result<Self, QueryError> {
        let queries = def
            .metrics
            .iter()
            .map(MetricDef::parsed)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            def,
            counts: vec![0; queries.len()],
            queries,
            total: 0,
        })
    }

    /// Counts a page of documents.
    pub fn add(&mut self, documents: &[Value]) {
        self.total += documents.len();
        for (query, count) in self.queries.iter().zip(&mut self.counts) {
            *count += query.count(documents);
        }
    }

    /// Counts `documents` documents that hold the same values in the
    /// fields the metrics read, which `lookup` finds by their dotted path:
    /// a caller holding parts of documents, or a count of alike ones,
    /// need not assemble them.
    pub fn add_with<'v>(&mut self, documents: usize, lookup: impl Fn(&str) -> Option<&'v Value>) {
        self.total += documents;
        for (query, count) in self.queries.iter().zip(&mut self.counts) {
            if query.matches_with(&lookup) {
                *count += documents;
            }
        }
    }

    /// Every field path the metrics read.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.queries
            .iter()
            .flat_map(|q| q.conditions.iter().map(|c| c.path.as_str()))
    }

    /// Documents counted so far.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Each metric with its value, as the API reports them.
    pub fn finish(self) -> Vec<Value> {
        self.def
            .metrics
            .iter()
            .zip(self.counts)
            .map(|(m, value)| {
                json!({
                    "id": m.id,
                    "label": m.label,
                    "icon": m.icon,
                    "query": m.query,
                    "value": value,
                })
            })
            .collect()
    }
}

/// Names of a choice type, for registries and forms.
pub fn choice_names<C: Choice>() -> Vec<&'static str> {
    C::ALL.iter().map(|c| c.name()).collect()
}

/// Merges engine-written state (`lastExecution`, …) into a stored payload.
pub fn merge_state(payload: &mut Value, state: &Map<String, Value>) {
    if let Value::Object(p) = payload {
        for (k, v) in state {
            p.insert(k.clone(), v.clone());
        }
    }
}
