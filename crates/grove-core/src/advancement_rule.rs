//! Advancement rules (`advancement-rule` payload): WHEN a sprout advances a tier.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::choice_enum;
use crate::lifecycle::{LifecycleModel, model_ids};
use crate::validate::{Checker, Choice, Obj};

choice_enum!(
    /// Kinds of signal observed about a sprout.
    SignalKind {
        Retrieval => "retrieval",
        Citation => "citation",
        Query => "query",
        View => "view",
        Upvote => "upvote",
    }
);

impl SignalKind {
    /// The plural used in conditions ("retrievals >= 10").
    pub fn plural(self) -> &'static str {
        match self {
            Self::Retrieval => "retrievals",
            Self::Citation => "citations",
            Self::Query => "queries",
            Self::View => "views",
            Self::Upvote => "upvotes",
        }
    }

    /// Accepts the kind ("retrieval") or its plural ("retrievals").
    pub fn from_condition_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name || k.plural() == name)
    }
}

choice_enum!(
    Operator {
        Gte => ">=",
        Gt => ">",
        Lte => "<=",
        Lt => "<",
        Eq => "==",
        Ne => "!=",
    }
);

impl Operator {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Gte => value >= threshold,
            Self::Gt => value > threshold,
            Self::Lte => value <= threshold,
            Self::Lt => value < threshold,
            Self::Eq => value == threshold,
            Self::Ne => value != threshold,
        }
    }
}

choice_enum!(
    /// Whether all conditions must hold, or any one.
    MatchMode { All => "all", Any => "any" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// As written by the operator: a signal kind or its plural.
    pub signal: String,
    pub operator: Operator,
    pub threshold: f64,
}

impl Condition {
    pub fn kind(&self) -> Option<SignalKind> {
        SignalKind::from_condition_name(&self.signal)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancementRulePayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_model_id: Option<String>,
    pub from_tier: String,
    pub to_tier: String,
    pub conditions: Vec<Condition>,
    #[serde(rename = "match")]
    pub match_mode: MatchMode,
    pub is_enabled: bool,
}

const FIELDS: &[&str] = &[
    "lifecycleModelId",
    "fromTier",
    "toTier",
    "conditions",
    "match",
    "isEnabled",
];
const CONDITION_FIELDS: &[&str] = &["signal", "operator", "threshold"];

/// Largest number of conditions in one rule.
pub const MAX_CONDITIONS: usize = 20;

impl AdvancementRulePayload {
    pub fn decode(value: &Value, c: &mut Checker) -> Option<Self> {
        let obj = c.object(value, "/payload", FIELDS, &[])?;
        let model_id = c.string(&obj, "lifecycleModelId", false);
        let model = LifecycleModel::find(model_id.as_deref());
        if model.is_none() {
            c.push(
                "/payload/lifecycleModelId",
                format!(
                    "unknown lifecycle model \"{}\"; known models: {}",
                    model_id.as_deref().unwrap_or_default(),
                    model_ids()
                ),
            );
        }
        let from = tier(c, &obj, "fromTier", model);
        let to = tier(c, &obj, "toTier", model);
        let mut order_ok = true;
        if let (Some(m), Some(f), Some(t)) = (model, &from, &to)
            && m.rank(t) <= m.rank(f)
        {
            c.push(
                "/payload/toTier",
                format!(
                    "must be a tier above fromTier \"{f}\" (tiers in order: {})",
                    m.tier_list()
                ),
            );
            order_ok = false;
        }
        let conditions = c.list(&obj, "conditions", true, decode_condition);
        let conditions = conditions.and_then(|conds| {
            if conds.is_empty() {
                c.push("/payload/conditions", "must list at least one condition");
                None
            } else if conds.len() > MAX_CONDITIONS {
                c.push(
                    "/payload/conditions",
                    format!("must list at most {MAX_CONDITIONS} conditions"),
                );
                None
            } else {
                Some(conds)
            }
        });
        let match_mode = match c.field(&obj, "match", false) {
            Some(_) => c.choice::<MatchMode>(&obj, "match", true),
            None => Some(MatchMode::All),
        };
        let is_enabled = match c.field(&obj, "isEnabled", false) {
            Some(_) => c.boolean(&obj, "isEnabled", true),
            None => Some(true),
        };
        model?;
        order_ok.then_some(())?;
        Some(Self {
            lifecycle_model_id: model_id,
            from_tier: from?,
            to_tier: to?,
            conditions: conditions?,
            match_mode: match_mode?,
            is_enabled: is_enabled?,
        })
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The default payload for a new rule: seed → sprout on retrievals and citations.
    pub fn default_payload() -> Self {
        Self {
            lifecycle_model_id: None,
            from_tier: "seed".to_owned(),
            to_tier: "sprout".to_owned(),
            conditions: vec![
                Condition {
                    signal: "retrievals".to_owned(),
                    operator: Operator::Gte,
                    threshold: 10.0,
                },
                Condition {
                    signal: "citations".to_owned(),
                    operator: Operator::Gte,
                    threshold: 5.0,
                },
            ],
            match_mode: MatchMode::All,
            is_enabled: true,
        }
    }
}

fn tier(
    c: &mut Checker,
    obj: &Obj<'_>,
    key: &str,
    model: Option<&LifecycleModel>,
) -> Option<String> {
    let t = c.string(obj, key, true)?;
    if let Some(m) = model
        && !m.contains(&t)
    {
        c.push(
            Checker::pointer_of(obj, key),
            format!(
                "unknown tier \"{t}\"; the {} model has {}",
                m.id,
                m.tier_list()
            ),
        );
        return None;
    }
    Some(t)
}

fn decode_condition(c: &mut Checker, value: &Value, pointer: &str) -> Option<Condition> {
    let obj = c.object(value, pointer, CONDITION_FIELDS, &[])?;
    let signal = c.string(&obj, "signal", true);
    let signal = signal.and_then(|s| {
        if SignalKind::from_condition_name(&s).is_some() {
            Some(s)
        } else {
            let known: Vec<&str> = SignalKind::ALL.iter().map(|k| k.plural()).collect();
            c.push(
                format!("{pointer}/signal"),
                format!(
                    "unknown signal \"{s}\"; known signals: {}",
                    known.join(", ")
                ),
            );
            None
        }
    });
    let operator = c.choice::<Operator>(&obj, "operator", true);
    let threshold = c.number(&obj, "threshold", true, 0.0, 1e12);
    Some(Condition {
        signal: signal?,
        operator: operator?,
        threshold: threshold?,
    })
}
