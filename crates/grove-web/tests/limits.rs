//! The server loop's limits over real sockets: a header-read timeout for
//! half-open requests, and a cap on open connections under which the
//! service still answers once places are given back.

use std::time::{Duration, Instant};

use grove_web::server::{ServerLimits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::common::TestApp;

async fn start(limits: ServerLimits) -> (std::net::SocketAddr, CancellationToken, TestApp) {
    let app = TestApp::new().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(serve(
        listener,
        app.router.clone(),
        limits,
        stop.clone().cancelled_owned(),
    ));
    (addr, stop, app)
}

/// A request head that never ends.
async fn half_open(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: grove\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

async fn healthz(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: grove\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_half_open_request_is_disconnected_after_the_header_timeout() {
    let (addr, stop, _app) = start(ServerLimits {
        header_read_timeout: Duration::from_millis(500),
        max_connections: 8,
        ..ServerLimits::default()
    })
    .await;
    let mut slow = half_open(addr).await;
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
        .await
        .expect("the server closes a half-open request");
    let elapsed = started.elapsed();
    // Closed (EOF, a reset, or a 408 and then EOF), never served.
    if let Ok(n) = read {
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(healthz(addr).await.starts_with("HTTP/1.1 200"));
    stop.cancel();
}

#[tokio::test]
async fn past_the_connection_cap_clients_wait_and_are_served_when_places_free() {
    let (addr, stop, _app) = start(ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 2,
        ..ServerLimits::default()
    })
    .await;
    let _a = half_open(addr).await;
    let _b = half_open(addr).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Both places are held: a third client is not served yet...
    let started = Instant::now();
    let waiting = tokio::spawn(healthz(addr));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "served past the cap");
    // ...and is once the half-open requests time out and give theirs back.
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("served once a place frees")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    // Many more half-open requests than places: still served in the end.
    let held: Vec<TcpStream> = futures::future::join_all((0..20).map(|_| half_open(addr))).await;
    let answer = tokio::time::timeout(Duration::from_secs(30), healthz(addr))
        .await
        .expect("served after the burst times out");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    stop.cancel();
}
