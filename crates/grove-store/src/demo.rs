//! A synthetic grove: thousands of sprouts across the default tiers,
//! hundreds of thousands of signals over the last `days` days (a few
//! popular sprouts get most of them), and four advancement rules as
//! `advancement-rule` objects.
//!
//! Deterministic for a seed: running it twice with the same seed and `now`
//! inserts nothing new (ids repeat, existing rows are left alone).

use grove_core::advancement_rule::{AdvancementRulePayload, Condition, MatchMode, Operator};
use grove_core::lifecycle::DEFAULT_MODEL;
use jiff::Timestamp;

use crate::{GroveBulkLoad, ObjectInsert, SignalInsert, SproutUpsert, Store, StoreError};

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    pub sprouts: u32,
    pub signals: u64,
    pub days: u32,
    pub seed: u64,
}

impl Default for DemoSize {
    /// 5,000 sprouts, 300,000 signals over 90 days.
    fn default() -> Self {
        Self {
            sprouts: 5_000,
            signals: 300_000,
            days: 90,
            seed: 42,
        }
    }
}

/// What [`generate`] inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub sprouts: u64,
    pub signals: u64,
    pub rules: Vec<String>,
}

/// Rows per transaction.
const CHUNK: usize = 50_000;

/// SplitMix64: small, fast, good enough for synthetic data.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Cumulative weights of (tier, weight): most sprouts are young.
const TIER_WEIGHTS: &[(&str, f64)] = &[
    ("seed", 0.50),
    ("sprout", 0.25),
    ("sapling", 0.15),
    ("tree", 0.07),
    ("grove", 0.03),
];

const KIND_WEIGHTS: &[(&str, f64)] = &[
    ("retrieval", 0.40),
    ("view", 0.25),
    ("query", 0.15),
    ("citation", 0.12),
    ("upvote", 0.08),
];

fn pick<'a>(table: &[(&'a str, f64)], u: f64) -> &'a str {
    let mut acc = 0.0;
    for (name, w) in table {
        acc += w;
        if u < acc {
            return name;
        }
    }
    table.last().map_or("", |(n, _)| n)
}

/// The id of demo sprout `i`.
pub fn sprout_id(i: u64) -> String {
    format!("sp-{i:07}")
}

fn cond(signal: &str, operator: Operator, threshold: f64) -> Condition {
    Condition {
        signal: signal.to_owned(),
        operator,
        threshold,
    }
}

/// The demo's advancement rules: (id, title, payload).
pub fn demo_rules() -> Vec<(&'static str, &'static str, AdvancementRulePayload)> {
    let rule = |from: &str, to: &str, mode, conditions| AdvancementRulePayload {
        lifecycle_model_id: None,
        from_tier: from.to_owned(),
        to_tier: to.to_owned(),
        conditions,
        match_mode: mode,
        is_enabled: true,
    };
    vec![
        (
            "demo-seed-to-sprout",
            "Seed to sprout: retrieved and cited",
            rule(
                "seed",
                "sprout",
                MatchMode::All,
                vec![
                    cond("retrievals", Operator::Gte, 10.0),
                    cond("citations", Operator::Gte, 2.0),
                ],
            ),
        ),
        (
            "demo-sprout-to-sapling",
            "Sprout to sapling: used regularly",
            rule(
                "sprout",
                "sapling",
                MatchMode::All,
                vec![
                    cond("retrievals", Operator::Gte, 40.0),
                    cond("citations", Operator::Gte, 8.0),
                ],
            ),
        ),
        (
            "demo-sapling-to-tree",
            "Sapling to tree: well liked",
            rule(
                "sapling",
                "tree",
                MatchMode::All,
                vec![
                    cond("retrievals", Operator::Gte, 120.0),
                    cond("upvotes", Operator::Gte, 15.0),
                ],
            ),
        ),
        (
            "demo-tree-to-grove",
            "Tree to grove: a reference",
            rule(
                "tree",
                "grove",
                MatchMode::Any,
                vec![
                    cond("citations", Operator::Gte, 60.0),
                    cond("upvotes", Operator::Gte, 60.0),
                ],
            ),
        ),
    ]
}

/// Generates the dataset into `store`; signals fall in `(now - days, now]`.
pub async fn generate(
    store: &dyn Store,
    size: DemoSize,
    now: Timestamp,
) -> Result<DemoSummary, StoreError> {
    let mut rng = Rng(size.seed);
    let day_ms = 86_400_000_i64;
    let now_ms = now.as_millisecond();
    let span_ms = i64::from(size.days.max(1)) * day_ms;
    let n_sprouts = u64::from(size.sprouts);

    let mut summary = DemoSummary {
        sprouts: 0,
        signals: 0,
        rules: Vec::new(),
    };
    for (id, title, payload) in demo_rules() {
        let inserted = store
            .object_insert(ObjectInsert {
                object_type: "advancement-rule".to_owned(),
                id: id.to_owned(),
                title: title.to_owned(),
                description: Some("Created by the demo dataset generator".to_owned()),
                tags: vec!["demo".to_owned()],
                payload: payload.to_value(),
                actor: Some("demo".to_owned()),
                now,
            })
            .await;
        match inserted {
            Ok(_) => summary.rules.push(id.to_owned()),
            Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }

    let mut batch = Vec::with_capacity(CHUNK.min(n_sprouts as usize));
    for i in 0..n_sprouts {
        let tier = pick(TIER_WEIGHTS, rng.unit());
        debug_assert!(DEFAULT_MODEL.contains(tier));
        let age_ms = span_ms + (rng.unit() * 30.0 * day_ms as f64) as i64;
        let created = Timestamp::from_millisecond(now_ms - age_ms).unwrap_or(now);
        let parent = (i > 10 && rng.unit() < 0.2).then(|| sprout_id(rng.next() % i));
        batch.push(SproutUpsert {
            id: sprout_id(i),
            title: format!("Demo sprout {i}"),
            tier: tier.to_owned(),
            parent_id: parent,
            created_at: created,
        });
        if batch.len() == CHUNK {
            summary.sprouts += load(store, std::mem::take(&mut batch), Vec::new(), now)
                .await?
                .0;
        }
    }
    if !batch.is_empty() {
        summary.sprouts += load(store, batch, Vec::new(), now).await?.0;
    }

    if n_sprouts > 0 {
        let mut batch = Vec::with_capacity(CHUNK.min(size.signals as usize));
        for n in 0..size.signals {
            // u² skews towards low indexes: a few sprouts are popular.
            let u = rng.unit();
            let i = ((u * u) * n_sprouts as f64) as u64 % n_sprouts;
            let at = now_ms - (rng.unit() * span_ms as f64) as i64;
            batch.push(SignalInsert {
                id: format!("sig-{:x}-{n:09}", size.seed),
                sprout_id: sprout_id(i),
                kind: pick(KIND_WEIGHTS, rng.unit()).to_owned(),
                at: Timestamp::from_millisecond(at).unwrap_or(now),
                value: None,
            });
            if batch.len() == CHUNK {
                summary.signals += load(store, Vec::new(), std::mem::take(&mut batch), now)
                    .await?
                    .1;
            }
        }
        if !batch.is_empty() {
            summary.signals += load(store, Vec::new(), batch, now).await?.1;
        }
    }
    Ok(summary)
}

async fn load(
    store: &dyn Store,
    sprouts: Vec<SproutUpsert>,
    signals: Vec<SignalInsert>,
    now: Timestamp,
) -> Result<(u64, u64), StoreError> {
    store
        .grove_bulk_load(GroveBulkLoad {
            sprouts,
            signals,
            now: Some(now),
        })
        .await
}
