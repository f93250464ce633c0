//! Service settings: command-line flag > environment variable > `--config`
//! TOML file > built-in default.

use std::path::PathBuf;
use std::time::Duration;

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
    pub max_connections: Option<usize>,
    pub max_event_streams: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    /// Engine timings; rarely changed (tests shorten them).
    #[serde(default)]
    pub engine: EngineTimings,
    /// Who may read, and console sessions.
    #[serde(default)]
    pub access: AccessConfig,
    /// The `[outbound]` table: `allow`, CIDRs and host names the service
    /// may send requests to besides public addresses.
    #[serde(default)]
    pub outbound: OutboundFile,
}

/// The `[access]` table (and its flags): anonymous reads, the session
/// cookie's `Secure` flag, how long console sessions last.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AccessConfig {
    pub public_read: Option<bool>,
    pub secure_cookies: Option<bool>,
    pub session_idle_hours: Option<u32>,
    pub session_lifetime_hours: Option<u32>,
}

impl AccessConfig {
    /// Each key of `self` that is set, else `other`'s.
    pub fn or(self, other: Self) -> Self {
        Self {
            public_read: self.public_read.or(other.public_read),
            secure_cookies: self.secure_cookies.or(other.secure_cookies),
            session_idle_hours: self.session_idle_hours.or(other.session_idle_hours),
            session_lifetime_hours: self.session_lifetime_hours.or(other.session_lifetime_hours),
        }
    }

    /// The web layer's settings with these keys applied over the defaults.
    pub fn web_settings(self) -> anyhow::Result<grove_web::WebSettings> {
        let defaults = grove_web::WebSettings::default();
        let hours = |h: Option<u32>, default: jiff::SignedDuration| {
            h.map_or(default, |h| jiff::SignedDuration::from_hours(i64::from(h)))
        };
        let sessions = grove_app::tokens::SessionPolicy {
            idle: hours(self.session_idle_hours, defaults.sessions.idle),
            lifetime: hours(self.session_lifetime_hours, defaults.sessions.lifetime),
        };
        anyhow::ensure!(
            sessions.idle.as_secs() > 0 && sessions.lifetime.as_secs() > 0,
            "session_idle_hours and session_lifetime_hours must be at least 1"
        );
        Ok(grove_web::WebSettings {
            public_read: self.public_read.unwrap_or(false),
            secure_cookies: self.secure_cookies.unwrap_or(false),
            sessions,
            ..defaults
        })
    }
}

/// `[outbound] allow = "10.0.0.0/8, rag.internal"` (or a list of strings).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundFile {
    pub allow: Option<AllowList>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AllowList {
    Text(String),
    List(Vec<String>),
}

impl AllowList {
    fn joined(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::List(l) => l.join(","),
        }
    }
}

/// The outbound policy from `--outbound-allow` / `GROVE_OUTBOUND_ALLOW`
/// (`flag`), else the file's `[outbound] allow`.
pub fn outbound_policy(
    flag: Option<&str>,
    file: &OutboundFile,
) -> anyhow::Result<grove_core::outbound::OutboundPolicy> {
    let text = match (flag, &file.allow) {
        (Some(f), _) => f.to_owned(),
        (None, Some(list)) => list.joined(),
        (None, None) => String::new(),
    };
    grove_core::outbound::OutboundPolicy::parse(&text).map_err(anyhow::Error::msg)
}

/// The `[engine]` table: lease and heartbeat of running attempts, how often
/// maintenance (lease rescue, retention) runs, how long shutdown waits, and
/// the resync safety net behind the change feed.
/// Every key is optional; absent keys keep the built-in defaults.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct EngineTimings {
    pub lease_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    pub maintenance_interval_seconds: Option<u64>,
    pub shutdown_grace_seconds: Option<u64>,
    /// The safety net behind the change feed (see `EngineSettings::resync_interval`).
    pub resync_interval_seconds: Option<u64>,
}

impl EngineTimings {
    /// `settings` with the keys that are set.
    pub fn apply(self, settings: grove_engine::EngineSettings) -> grove_engine::EngineSettings {
        let secs = Duration::from_secs;
        grove_engine::EngineSettings {
            lease: self.lease_seconds.map_or(settings.lease, secs),
            heartbeat: self.heartbeat_seconds.map_or(settings.heartbeat, secs),
            maintenance_interval: self
                .maintenance_interval_seconds
                .map_or(settings.maintenance_interval, secs),
            shutdown_grace: self
                .shutdown_grace_seconds
                .map_or(settings.shutdown_grace, secs),
            resync_interval: self
                .resync_interval_seconds
                .map_or(settings.resync_interval, secs),
            ..settings
        }
    }

    /// A lease must outlive a couple of heartbeats, or healthy attempts
    /// would be rescued while they run.
    pub fn check(self) -> anyhow::Result<Self> {
        let d = grove_engine::EngineSettings::default();
        let s = self.apply(d);
        anyhow::ensure!(
            s.heartbeat.as_secs() >= 1 && s.lease >= s.heartbeat * 2,
            "[engine] lease_seconds ({}) must be at least twice heartbeat_seconds ({}), and heartbeat_seconds at least 1",
            s.lease.as_secs(),
            s.heartbeat.as_secs()
        );
        Ok(self)
    }
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
    pub engine: EngineTimings,
    pub access: AccessConfig,
    /// HTTP limits (connections, event streams, request timeout).
    pub http: HttpLimits,
    /// Where health checks and webhooks may connect besides public addresses.
    pub outbound: grove_core::outbound::OutboundPolicy,
}

/// Limits of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub max_event_streams: usize,
    pub request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: grove_web::server::DEFAULT_MAX_CONNECTIONS,
            max_event_streams: grove_web::state::DEFAULT_MAX_EVENT_STREAMS,
            request_timeout: grove_web::state::DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl FileConfig {
    pub fn load(path: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let file: Self = toml::from_str(&text)
            .with_context(|| format!("config file {} is not valid", path.display()))?;
        file.engine
            .check()
            .with_context(|| format!("config file {} is not valid", path.display()))?;
        Ok(file)
    }
}

/// What `serve` was given as flags or environment (already parsed by clap).
#[derive(Debug, Default)]
pub struct Flags {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub no_seed: bool,
    pub legacy_fallback: Option<bool>,
    pub access: AccessConfig,
    pub max_connections: Option<usize>,
    pub max_event_streams: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    pub outbound_allow: Option<String>,
}

/// Merges flags/environment over the file.
pub fn resolve(flags: Flags, file: FileConfig) -> anyhow::Result<ServiceConfig> {
    let Flags {
        database_url,
        bind,
        no_seed,
        legacy_fallback,
        access,
        max_connections,
        max_event_streams,
        request_timeout_seconds,
        outbound_allow,
    } = flags;
    let outbound = outbound_policy(outbound_allow.as_deref(), &file.outbound)?;
    let defaults = HttpLimits::default();
    let http = HttpLimits {
        max_connections: max_connections
            .or(file.max_connections)
            .unwrap_or(defaults.max_connections),
        max_event_streams: max_event_streams
            .or(file.max_event_streams)
            .unwrap_or(defaults.max_event_streams),
        request_timeout: request_timeout_seconds
            .or(file.request_timeout_seconds)
            .map_or(defaults.request_timeout, Duration::from_secs),
    };
    Ok(ServiceConfig {
        database_url: database_url
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        bind: bind
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned()),
        seed: !no_seed && file.seed.unwrap_or(true),
        legacy_fallback: legacy_fallback.or(file.legacy_fallback).unwrap_or(false),
        engine: file.engine,
        access: access.or(file.access),
        http,
        outbound,
    })
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
            ..FileConfig::default()
        };
        let flags = Flags {
            database_url: Some("sqlite://flag.db".into()),
            ..Flags::default()
        };
        let c = resolve(flags, file).unwrap();
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
        assert!(!resolve(flags, file).unwrap().legacy_fallback);
        let c = resolve(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(
            c,
            ServiceConfig {
                database_url: DEFAULT_DATABASE_URL.into(),
                bind: DEFAULT_BIND.into(),
                seed: true,
                legacy_fallback: false,
                engine: EngineTimings::default(),
                access: AccessConfig::default(),
                http: HttpLimits::default(),
                outbound: grove_core::outbound::OutboundPolicy::default(),
            }
        );
    }

    #[test]
    fn access_flags_beat_the_access_table() {
        let file: FileConfig = toml::from_str(
            "[access]\npublic_read = true\nsecure_cookies = true\nsession_idle_hours = 2\n",
        )
        .unwrap();
        let flags = Flags {
            access: AccessConfig {
                public_read: Some(false),
                ..AccessConfig::default()
            },
            ..Flags::default()
        };
        let web = resolve(flags, file).unwrap().access.web_settings().unwrap();
        assert!(!web.public_read);
        assert!(web.secure_cookies);
        assert_eq!(web.sessions.idle, jiff::SignedDuration::from_hours(2));
        assert_eq!(web.sessions.lifetime, jiff::SignedDuration::from_hours(168));
        let zero = AccessConfig {
            session_lifetime_hours: Some(0),
            ..AccessConfig::default()
        };
        assert!(zero.web_settings().is_err());
    }

    #[test]
    fn http_limits_come_from_flags_then_the_file_then_defaults() {
        let c = resolve(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(c.http.max_connections, 1024);
        assert_eq!(c.http.max_event_streams, 256);
        assert_eq!(c.http.request_timeout, Duration::from_secs(30));
        let file: FileConfig = toml::from_str(
            "max_connections = 64\nmax_event_streams = 8\nrequest_timeout_seconds = 5\n",
        )
        .unwrap();
        let flags = Flags {
            max_connections: Some(32),
            ..Flags::default()
        };
        let c = resolve(flags, file).unwrap();
        assert_eq!(c.http.max_connections, 32);
        assert_eq!(c.http.max_event_streams, 8);
        assert_eq!(c.http.request_timeout, Duration::from_secs(5));
    }

    #[test]
    fn the_outbound_allow_list_comes_from_the_flag_else_the_file() {
        let file: FileConfig =
            toml::from_str("[outbound]\nallow = \"10.0.0.0/8, rag.internal\"\n").unwrap();
        let c = resolve(Flags::default(), file).unwrap();
        assert_eq!(c.outbound.to_string(), "10.0.0.0/8,rag.internal");
        let file: FileConfig =
            toml::from_str("[outbound]\nallow = [\"192.168.0.0/16\", \"::1\"]\n").unwrap();
        let flags = Flags {
            outbound_allow: Some("127.0.0.1".into()),
            ..Flags::default()
        };
        let c = resolve(flags, file).unwrap();
        assert_eq!(c.outbound.to_string(), "127.0.0.1/32");
        let flags = Flags {
            outbound_allow: Some("10.0.0.0/99".into()),
            ..Flags::default()
        };
        let err = resolve(flags, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("10.0.0.0/99"), "{err}");
    }

    #[test]
    fn engine_timings_override_the_defaults_and_are_checked() {
        let file: FileConfig =
            toml::from_str("[engine]\nlease_seconds = 6\nheartbeat_seconds = 2\n").unwrap();
        let s = file
            .engine
            .check()
            .unwrap()
            .apply(grove_engine::EngineSettings::default());
        assert_eq!(s.lease, Duration::from_secs(6));
        assert_eq!(s.heartbeat, Duration::from_secs(2));
        assert_eq!(
            s.maintenance_interval,
            grove_engine::EngineSettings::default().maintenance_interval
        );
        let bad: FileConfig =
            toml::from_str("[engine]\nlease_seconds = 3\nheartbeat_seconds = 2\n").unwrap();
        let err = bad.engine.check().unwrap_err().to_string();
        assert!(err.contains("at least twice"), "{err}");
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let err = toml::from_str::<FileConfig>("bnid = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
    }
}
