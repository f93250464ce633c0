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
//! - [`execution`]: the vocabulary of executions: statuses, triggers, attempts, log levels.
//! - [`clock`]: injected time.
//!
//! Every enum stored or shown as text is declared with [`choice_enum!`]: its
//! spellings are listed once and read back with [`validate::Choice::from_name`].

pub mod advancement_rule;
pub mod calendar;
pub mod clock;
pub mod execution;
pub mod grove;
pub mod job_config;
pub mod lifecycle;
pub mod merge_patch;
pub mod object;
pub mod outbound;
pub mod plan;
pub mod query;
pub mod registry;
pub mod render;
pub mod retry;
pub mod schedule;
pub mod secrets;
pub mod validate;

// So `choice_enum!` can name this crate the same way inside and outside it.
extern crate self as grove_core;

#[doc(hidden)]
pub use serde as __serde;

/// Declares an enum whose values are spelled as text (in stored data, JSON
/// and the API): one line per variant, `Variant => "spelling"` (variant
/// attributes such as `#[default]` go before it). It
/// implements [`validate::Choice`] (`name`, `from_name`, `ALL`), `Display`,
/// and serde with the same spellings.
#[macro_export]
macro_rules! choice_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, $crate::__serde::Serialize, $crate::__serde::Deserialize)]
        #[serde(crate = "grove_core::__serde")]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $crate::validate::Choice for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::validate::Choice::name(*self))
            }
        }
    };
}
