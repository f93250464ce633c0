//! grove-core: the grove-jobs domain, with no I/O.
//!
//! - [`object`]: the `{meta, payload}` envelope every editable thing uses.
//! - [`job_config`]: the job configuration schema, its defaults and validation.
//! - [`advancement_rule`]: rules that advance sprouts between tiers.
//! - [`lifecycle`]: lifecycle models and their tiers.
//! - [`grove`]: grove data logic: ingestion checks, rule evaluation, digests.
//! - [`validate`]: one-pass decoding that reports every problem at a JSON pointer.
//! - [`registry`]: the object type registry (labels, colours, filters, metrics).
//! - [`query`]: the registry's small query language and JSON-path access.
//! - [`merge_patch`]: RFC 7396 JSON merge patch.
//! - [`schedule`]: cron expressions in IANA zones with explicit DST rules.
//! - [`retry`]: the retry delay schedule.
//! - [`render`]: json-render status trees, their catalog and validation.
//! - [`clock`]: injected time.

pub mod advancement_rule;
pub mod clock;
pub mod grove;
pub mod job_config;
pub mod lifecycle;
pub mod merge_patch;
pub mod object;
pub mod query;
pub mod registry;
pub mod render;
pub mod retry;
pub mod schedule;
pub mod validate;
