//! The health-check handler against a real store and tiny HTTP servers.

use grove_core::job_config::{AlertThreshold, HealthCheckKind, JobParameters};
use grove_engine::HandlerRegistry;
use grove_store::ExecutionStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

const T0: &str = "2026-03-01T12:00:00Z";

/// Serves every connection with `status` (or never answers with `None`).
async fn server(status: Option<u16>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                match status {
                    Some(code) => {
                        let reply = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
                        let _ = sock.write_all(reply.as_bytes()).await;
                    }
                    None => {
                        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    }
                }
            });
        }
    });
    format!("http://{addr}/health")
}

/// An address nobody listens on.
async fn refused() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}

async fn run_health(
    checks: Vec<HealthCheckKind>,
    rag: Option<String>,
    threshold: AlertThreshold,
    timeout: u64,
) -> (Harness, grove_store::Execution) {
    let mut h = Harness::new(T0).await;
    let mut s = settings();
    s.data_dir = std::env::temp_dir();
    h.start(HandlerRegistry::builtin(&s), s);
    let mut p = health("0 2 * * *");
    p.retry.max_attempts = 1;
    p.limits.timeout_seconds = timeout;
    let JobParameters::HealthCheck(params) = &mut p.parameters else {
        unreachable!()
    };
    params.checks = checks;
    params.endpoints.rag = rag;
    params.alert_threshold = threshold;
    h.insert_config("hc", &p).await;
    let run = h.handle.run_now("hc", None).await.unwrap();
    let e = h.wait_final(&run.id).await;
    (h, e)
}

#[tokio::test]
async fn database_storage_and_a_healthy_rag_pass() {
    let url = server(Some(200)).await;
    let (h, e) = run_health(
        vec![
            HealthCheckKind::Database,
            HealthCheckKind::Storage,
            HealthCheckKind::Rag,
        ],
        Some(url),
        AlertThreshold::Error,
        60,
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Success, "{:?}", e.error);
    let checks = e.metadata["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[0]["check"], "database");
    assert_eq!(checks[0]["grade"], "ok");
    assert!(checks[0]["detail"].as_str().unwrap().contains(&format!(
        "schema version {}",
        grove_store::migrate::latest(grove_store::migrate::SQLITE)
    )));
    assert_eq!(checks[1]["grade"], "ok");
    assert_eq!(checks[2]["grade"], "ok");
    assert_eq!(e.counts.processed, 3);
    h.stop().await;
}

#[tokio::test]
async fn a_failing_rag_endpoint_fails_the_run_naming_the_check() {
    for url in [server(Some(503)).await, refused().await] {
        let (h, e) = run_health(
            vec![HealthCheckKind::Database, HealthCheckKind::Rag],
            Some(url.clone()),
            AlertThreshold::Error,
            60,
        )
        .await;
        assert_eq!(e.status, ExecutionStatus::Failed);
        let err = e.error.unwrap();
        assert!(err.contains("rag (error"), "{url}: {err}");
        assert!(!err.contains("database"), "{err}");
        h.stop().await;
    }
}

#[tokio::test]
async fn below_the_threshold_an_error_makes_the_run_partial() {
    let (h, e) = run_health(
        vec![HealthCheckKind::Database, HealthCheckKind::Rag],
        Some(refused().await),
        AlertThreshold::Critical,
        60,
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Partial);
    assert_eq!(e.counts.failed, 1);
    h.stop().await;
}

#[tokio::test]
async fn an_unconfigured_rag_is_skipped_with_a_warning() {
    let (h, e) = run_health(
        vec![HealthCheckKind::Rag],
        None,
        AlertThreshold::Warning,
        60,
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Success);
    assert_eq!(e.metadata["checks"][0]["grade"], "skipped");
    let logs = h.store.log_list(&e.id, 0, 100).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.level == grove_store::LogLevel::Warn
                && l.message.contains("rag check skipped"))
    );
    h.stop().await;
}

#[tokio::test]
async fn a_silent_rag_endpoint_is_bounded_by_the_deadline() {
    // A silent endpoint with no deadline would hang: run_health waits a
    // bounded time for the run to end.
    let (h, e) = run_health(
        vec![HealthCheckKind::Rag],
        Some(server(None).await),
        AlertThreshold::Error,
        1,
    )
    .await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    h.stop().await;
}

/// Like [`run_health`], under the default outbound policy (public
/// addresses only) and with the service's own URL known.
async fn run_health_strict(
    checks: Vec<HealthCheckKind>,
    api: Option<String>,
    rag: Option<String>,
    self_url: Option<String>,
) -> (Harness, grove_store::Execution) {
    let mut h = Harness::new(T0).await;
    let mut s = settings();
    s.outbound = std::sync::Arc::default();
    s.self_url = self_url;
    s.data_dir = std::env::temp_dir();
    h.start(HandlerRegistry::builtin(&s), s);
    let mut p = health("0 2 * * *");
    p.retry.max_attempts = 1;
    p.limits.timeout_seconds = 10;
    let JobParameters::HealthCheck(params) = &mut p.parameters else {
        unreachable!()
    };
    params.checks = checks;
    params.endpoints.api = api;
    params.endpoints.rag = rag;
    params.alert_threshold = AlertThreshold::Error;
    h.insert_config("hc", &p).await;
    let run = h.handle.run_now("hc", None).await.unwrap();
    let e = h.wait_final(&run.id).await;
    (h, e)
}

/// A listener that counts the connections it gets and answers 200.
async fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    (format!("http://{addr}/health"), hits)
}

fn check_detail(e: &grove_store::Execution, name: &str) -> String {
    e.metadata["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("{name}: {}", e.metadata))["detail"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn loopback_endpoints_are_refused_by_default_and_never_connected() {
    let (url, hits) = counting_server().await;
    let port = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // A literal loopback address, and a name that resolves to it.
    for rag in [url.clone(), format!("http://localhost:{port}/health")] {
        let (h, e) =
            run_health_strict(vec![HealthCheckKind::Rag], None, Some(rag.clone()), None).await;
        assert_eq!(e.status, ExecutionStatus::Failed, "{rag}: {e:?}");
        let detail = check_detail(&e, "rag");
        assert!(detail.contains("outbound address not allowed"), "{detail}");
        assert!(detail.contains("loopback"), "{detail}");
        h.stop().await;
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_services_own_readyz_is_always_allowed() {
    let (url, hits) = counting_server().await;
    let base = url.trim_end_matches("/health").to_owned();
    let (h, e) = run_health_strict(vec![HealthCheckKind::Api], None, None, Some(base)).await;
    assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    h.stop().await;
    // An operator's api endpoint on loopback follows the policy.
    let (h, e) = run_health_strict(vec![HealthCheckKind::Api], Some(url), None, None).await;
    assert_eq!(e.status, ExecutionStatus::Failed, "{e:?}");
    assert!(check_detail(&e, "api").contains("outbound address not allowed"));
    h.stop().await;
}

#[tokio::test]
async fn remote_bytes_reach_the_run_only_as_a_short_printable_status_line() {
    // Not HTTP: an SSH-like banner with escapes, NUL and far too much text.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut banner = b"SSH-2.0-OpenSSH_9.6 \x1b[31m\x00secret".to_vec();
            banner.extend(std::iter::repeat_n(b'A', 20_000));
            banner.extend_from_slice(b"\r\nsecond line that must never show\r\n");
            let _ = sock.write_all(&banner).await;
        }
    });
    let (h, e) = run_health(
        vec![HealthCheckKind::Rag],
        Some(format!("http://{addr}/")),
        AlertThreshold::Error,
        10,
    )
    .await;
    let detail = check_detail(&e, "rag");
    assert!(
        detail.contains("not an HTTP answer: SSH-2.0-OpenSSH_9.6"),
        "{detail}"
    );
    assert!(!detail.chars().any(char::is_control), "{detail:?}");
    assert!(!detail.contains("second line"), "{detail}");
    let shown = detail.split("not an HTTP answer: ").nth(1).unwrap();
    assert!(shown.chars().count() <= 201, "{}", shown.chars().count());
    let logs = h.store.log_list(&e.id, 0, 1000).await.unwrap();
    for line in logs {
        assert!(
            !line.message.chars().any(|c| c.is_control() && c != '\n'),
            "{:?}",
            line.message
        );
        assert!(
            line.message.chars().count() < 1000,
            "{}",
            line.message.len()
        );
    }
    h.stop().await;
}
