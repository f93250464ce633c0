//! `grove-jobs serve`: wiring of store, engine and web, with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use grove_core::clock::{Clock, SystemClock};
use grove_web::AppState;
use tokio_util::sync::CancellationToken;

use crate::config::{AccessConfig, FileConfig, Flags, resolve};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// sqlite://PATH (default: grove-jobs.db in the working directory) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GROVE_BIND")]
    pub bind: Option<String>,
    /// Do not create the default job configs in a fresh database.
    #[arg(long)]
    pub no_seed: bool,
    /// Migration mode: while no enabled advancement-batch config exists, run
    /// the advancement job on the legacy defaults (daily 02:00 UTC).
    #[arg(long, env = "GROVE_LEGACY_FALLBACK", num_args = 0..=1, default_missing_value = "true")]
    pub legacy_fallback: Option<bool>,
    /// Let anyone read /api/v1 without a token (trusted networks only).
    #[arg(long, env = "GROVE_PUBLIC_READ", num_args = 0..=1, default_missing_value = "true")]
    pub public_read: Option<bool>,
    /// Mark the console's session cookie Secure: turn on behind TLS.
    #[arg(long, env = "GROVE_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true")]
    pub secure_cookies: Option<bool>,
    /// A console session unused this many hours ends [default: 12].
    #[arg(long, env = "GROVE_SESSION_IDLE_HOURS")]
    pub session_idle_hours: Option<u32>,
    /// Failed authentications one client address may make per minute before it gets 429 [default: 10].
    #[arg(long, env = "GROVE_AUTH_FAILURES_PER_MINUTE", value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_failures_per_minute: Option<u32>,
    /// A console session ends this many hours after sign-in [default: 168].
    #[arg(long, env = "GROVE_SESSION_LIFETIME_HOURS")]
    pub session_lifetime_hours: Option<u32>,
    /// Connections open at once; past it new ones wait [default: 1024].
    #[arg(long, env = "GROVE_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Server-sent event streams open at once; past it 503 with Retry-After [default: 256].
    #[arg(long, env = "GROVE_MAX_EVENT_STREAMS")]
    pub max_event_streams: Option<u32>,
    /// Seconds a non-streaming request may take before it is answered 503 [default: 30].
    #[arg(long, env = "GROVE_REQUEST_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_seconds: Option<u64>,
    /// Comma-separated CIDRs and host names health checks and webhooks may
    /// reach besides public addresses (loopback, private and link-local are
    /// refused unless listed), e.g. 10.0.0.0/8,rag.internal.
    #[arg(long, env = "GROVE_OUTBOUND_ALLOW")]
    pub outbound_allow: Option<String>,
    /// A TOML file with database_url, bind, seed, legacy_fallback, the HTTP limits, [outbound], [engine] and [access]; flags and environment win over it.
    #[arg(long, env = "GROVE_CONFIG")]
    pub config: Option<std::path::PathBuf>,
}

/// Logs to stderr; `RUST_LOG` filters, `GROVE_LOG_FORMAT=json` for JSON lines.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = std::env::var("GROVE_LOG_FORMAT").is_ok_and(|f| f == "json");
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let started = std::time::Instant::now();
    let args_auth_failures = args.auth_failures_per_minute;
    let flags = Flags {
        database_url: args.database_url,
        bind: args.bind,
        no_seed: args.no_seed,
        legacy_fallback: args.legacy_fallback,
        access: AccessConfig {
            public_read: args.public_read,
            secure_cookies: args.secure_cookies,
            session_idle_hours: args.session_idle_hours,
            session_lifetime_hours: args.session_lifetime_hours,
        },
        max_connections: args.max_connections.map(|n| n as usize),
        max_event_streams: args.max_event_streams.map(|n| n as usize),
        request_timeout_seconds: args.request_timeout_seconds,
        outbound_allow: args.outbound_allow,
    };
    let config = resolve(flags, FileConfig::load(args.config.as_ref())?)?;
    let outbound = Arc::new(config.outbound.clone());
    if !outbound.is_empty() {
        tracing::info!(allow = %outbound, "outbound allow-list");
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = grove_store::open(&config.database_url)
        .await
        .with_context(|| "cannot open the database")?;

    let addr: SocketAddr = config.bind.parse().with_context(|| {
        format!(
            "bind address \"{}\" is not an address such as 127.0.0.1:8080",
            config.bind
        )
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;

    let shutdown = CancellationToken::new();
    let settings = grove_engine::EngineSettings {
        legacy_fallback: config.legacy_fallback,
        data_dir: data_dir(&config.database_url),
        self_url: Some(format!("http://{local}")),
        outbound: outbound.clone(),
        ..config.engine.apply(grove_engine::EngineSettings::default())
    };
    if settings.legacy_fallback {
        tracing::info!(
            "legacy fallback is on: the advancement job runs on legacy defaults while no enabled advancement-batch config exists"
        );
    }
    let handlers = grove_engine::handlers::HandlerRegistry::builtin(&settings);
    let engine = grove_engine::Engine::new(store.clone(), clock.clone(), handlers, settings);
    let web_settings = grove_web::WebSettings {
        max_event_streams: config.http.max_event_streams,
        request_timeout: config.http.request_timeout,
        auth_failures_per_minute: args_auth_failures
            .unwrap_or(grove_web::auth::throttle::DEFAULT_LIMIT),
        ..config.access.web_settings()?
    };
    if web_settings.public_read {
        tracing::warn!("--public-read is on: anyone who can reach this server can read its API");
    }
    let state = AppState::new(store.clone(), clock.clone(), engine.handle())
        .with_settings(web_settings)
        .with_outbound(outbound);
    // Seeded before the engine starts, so its first load sees them.
    if config.seed {
        let seeded = state.app.seed_defaults().await?;
        if !seeded.is_empty() {
            tracing::info!(ids = ?seeded, "seeded default job configs");
        }
    }
    let engine = engine
        .start(shutdown.clone())
        .await
        .context("the engine could not start")?;
    // Only once nothing else can stop the start: a generated token is shown once.
    let admin_token = bootstrap_admin_token(&state.app).await?;
    let engine_task = tokio::spawn(run_engine(engine, shutdown.clone()));
    let app = grove_web::router(state);

    println!(
        "grove-jobs is ready in {} ms",
        started.elapsed().as_millis()
    );
    println!("  Console:  http://{local}/console   (sign in with an API token)");
    println!("  API:      http://{local}/api/v1   (OpenAPI: http://{local}/api/openapi.json)");
    if let Some(token) = admin_token {
        println!("  admin token (shown once, keep it): {token}");
    }
    println!(
        "  database: {} ({})",
        redact(&config.database_url),
        store.backend()
    );

    tokio::spawn(wait_for_signal(shutdown.clone()));
    let limits = grove_web::server::ServerLimits {
        max_connections: config.http.max_connections,
        ..grove_web::server::ServerLimits::default()
    };
    grove_web::server::serve(listener, app, limits, shutdown.clone().cancelled_owned()).await;
    tracing::info!("shutting down");
    let engine_stopped = engine_task.await;
    store.close().await;
    match engine_stopped {
        Ok(stopped) => stopped.context("the engine stopped with an error"),
        Err(e) => Err(anyhow::Error::new(e).context("the engine task failed")),
    }
}

/// Runs the engine's loops. However they end (an error, a panic), the HTTP
/// server shuts down too: an API with no engine behind it would queue runs
/// that nobody executes.
async fn run_engine(
    engine: grove_engine::RunningEngine,
    shutdown: CancellationToken,
) -> Result<(), grove_engine::EngineError> {
    let _stop_serving = shutdown.drop_guard();
    engine.run().await
}

/// The directory the `storage` health check probes: the SQLite file's
/// directory, else the working directory.
fn data_dir(database_url: &str) -> std::path::PathBuf {
    match grove_store::DatabaseUrl::parse(database_url) {
        Ok(grove_store::DatabaseUrl::Sqlite(path)) => std::path::Path::new(&path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| ".".into(), std::path::Path::to_path_buf),
        _ => ".".into(),
    }
}

/// `GROVE_ADMIN_TOKEN` registers a known admin token; otherwise a fresh
/// database gets a generated one, returned so it can be printed once.
async fn bootstrap_admin_token(app: &grove_app::App) -> anyhow::Result<Option<String>> {
    let given = match std::env::var("GROVE_ADMIN_TOKEN") {
        Ok(secret) => {
            let secret = secret.trim().to_owned();
            anyhow::ensure!(
                secret.len() >= 16,
                "GROVE_ADMIN_TOKEN must be at least 16 characters long"
            );
            Some(secret)
        }
        Err(_) => None,
    };
    Ok(app.bootstrap_admin_token(given.as_deref()).await?)
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn wait_for_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    shutdown.cancel();
}
