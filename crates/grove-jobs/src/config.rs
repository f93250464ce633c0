//! Service settings: command-line flag > environment variable > `--config`
//! TOML file > built-in default.

use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

use crate::DEFAULT_DATABASE_URL;

/// Defaults for `serve`.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The `--config` file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub seed: Option<bool>,
    pub legacy_fallback: Option<bool>,
}

/// Settings `serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub database_url: String,
    pub bind: String,
    pub seed: bool,
    /// Migration mode: run the advancement job on legacy defaults while no
    /// enabled `advancement-batch` config exists.
    pub legacy_fallback: bool,
}

impl FileConfig {
    pub fn load(path: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("config file {} is not valid", path.display()))
    }
}

/// What `serve` was given as flags or environment (already parsed by clap).
#[derive(Debug, Default)]
pub struct Flags {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub no_seed: bool,
    pub legacy_fallback: Option<bool>,
}

/// Merges flags/environment over the file.
pub fn resolve(flags: Flags, file: FileConfig) -> ServiceConfig {
    let Flags {
        database_url,
        bind,
        no_seed,
        legacy_fallback,
    } = flags;
    ServiceConfig {
        database_url: database_url
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        bind: bind
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned()),
        seed: !no_seed && file.seed.unwrap_or(true),
        legacy_fallback: legacy_fallback.or(file.legacy_fallback).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file = FileConfig {
            database_url: Some("sqlite://from-file.db".into()),
            bind: Some("0.0.0.0:9000".into()),
            seed: Some(false),
            legacy_fallback: Some(true),
        };
        let flags = Flags {
            database_url: Some("sqlite://flag.db".into()),
            ..Flags::default()
        };
        let c = resolve(flags, file);
        assert_eq!(c.database_url, "sqlite://flag.db");
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert!(!c.seed);
        assert!(c.legacy_fallback);
        let file = FileConfig {
            legacy_fallback: Some(true),
            ..FileConfig::default()
        };
        let flags = Flags {
            legacy_fallback: Some(false),
            ..Flags::default()
        };
        assert!(!resolve(flags, file).legacy_fallback);
        let c = resolve(Flags::default(), FileConfig::default());
        assert_eq!(
            c,
            ServiceConfig {
                database_url: DEFAULT_DATABASE_URL.into(),
                bind: DEFAULT_BIND.into(),
                seed: true,
                legacy_fallback: false,
            }
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let err = toml::from_str::<FileConfig>("bnid = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
    }
}
