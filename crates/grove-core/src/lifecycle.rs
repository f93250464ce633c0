//! Lifecycle models: the ordered tiers a sprout moves through.

/// An ordered list of tiers, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleModel {
    pub id: &'static str,
    pub tiers: &'static [&'static str],
}

/// The default model: seed → sprout → sapling → tree → grove.
pub const DEFAULT_MODEL: LifecycleModel = LifecycleModel {
    id: "default",
    tiers: &["seed", "sprout", "sapling", "tree", "grove"],
};

/// Every model the service knows.
pub const MODELS: &[LifecycleModel] = &[DEFAULT_MODEL];

impl LifecycleModel {
    /// The model with this id; `None` means the default model.
    pub fn find(id: Option<&str>) -> Option<&'static LifecycleModel> {
        let id = id.unwrap_or(DEFAULT_MODEL.id);
        MODELS.iter().find(|m| m.id == id)
    }

    pub fn rank(&self, tier: &str) -> Option<usize> {
        self.tiers.iter().position(|t| *t == tier)
    }

    pub fn contains(&self, tier: &str) -> bool {
        self.rank(tier).is_some()
    }

    /// The tier after `tier`, if any.
    pub fn next_tier(&self, tier: &str) -> Option<&'static str> {
        self.rank(tier).and_then(|r| self.tiers.get(r + 1).copied())
    }

    pub fn tier_list(&self) -> String {
        self.tiers.join(", ")
    }
}

/// Ids of all known models, for messages.
pub fn model_ids() -> String {
    MODELS.iter().map(|m| m.id).collect::<Vec<_>>().join(", ")
}
