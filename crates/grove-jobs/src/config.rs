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
}

/// Settings `serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub database_url: String,
    pub bind: String,
    pub seed: bool,
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

/// Merges flags/environment (already resolved by clap) over the file.
pub fn resolve(
    database_url: Option<String>,
    bind: Option<String>,
    no_seed: bool,
    file: FileConfig,
) -> ServiceConfig {
    ServiceConfig {
        database_url: database_url
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        bind: bind
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned()),
        seed: !no_seed && file.seed.unwrap_or(true),
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
        };
        let c = resolve(Some("sqlite://flag.db".into()), None, false, file);
        assert_eq!(c.database_url, "sqlite://flag.db");
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert!(!c.seed);
        let c = resolve(None, None, false, FileConfig::default());
        assert_eq!(
            c,
            ServiceConfig {
                database_url: DEFAULT_DATABASE_URL.into(),
                bind: DEFAULT_BIND.into(),
                seed: true
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
