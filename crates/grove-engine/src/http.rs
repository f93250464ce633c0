//! A minimal HTTP/1.1 client for health checks (GET) and webhooks (POST of
//! JSON), over `tokio::net::TcpStream`, with TLS (rustls, the system's
//! trusted roots) for `https://`. It answers only the status code; callers
//! bound the time it may take.
//!
//! Every request follows the outbound address policy
//! ([`grove_core::outbound`]): the host is resolved once, every address is
//! checked, and the connection goes to an address that passed (never to a
//! second resolution, so a name cannot change its answer in between).
//! Remote bytes reach messages only as the status line, made printable and
//! cut to 200 characters.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use grove_core::outbound::{Host, OutboundPolicy, OutboundUrl, printable};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The longest status line read from a remote.
const MAX_STATUS_LINE: u64 = 8 * 1024;
/// The most of a status line a message shows.
const SHOWN_STATUS_LINE: usize = 200;

/// Whom a request goes to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// An operator's URL: the outbound policy decides.
    Policy(&'a OutboundPolicy),
    /// The service's own `/readyz` (the `api` health check's default).
    OwnService,
}

/// The addresses `u` may be reached at under `target`, resolved once.
async fn addresses(
    url: &str,
    u: &OutboundUrl,
    target: Target<'_>,
) -> Result<Vec<SocketAddr>, String> {
    let found: Vec<SocketAddr> = match &u.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, u.port)],
        Host::Name(name) => tokio::net::lookup_host((name.as_str(), u.port))
            .await
            .map_err(|e| format!("{url}: cannot resolve {name}: {e}"))?
            .collect(),
    };
    let Target::Policy(policy) = target else {
        return Ok(found);
    };
    let host = u.host.to_string();
    let mut refused = None;
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| match policy.check(&host, a.ip()) {
            Ok(()) => true,
            Err(why) => {
                refused.get_or_insert(why);
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refused) {
        (true, Some(why)) => Err(format!("{url}: {why}")),
        (true, None) => Err(format!("{url}: {host} has no address")),
        (false, _) => Ok(allowed),
    }
}

/// The TLS client configuration: the system's trusted roots, loaded once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A root the parser rejects is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(format!(
                    "no trusted root certificates were found on this system ({} errors)",
                    found.errors.len()
                ));
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}

/// Sends one request and returns the response's status code. `body` is
/// sent as JSON, with `headers` added (values with line breaks are left
/// out: they would end the header).
pub(crate) async fn send(
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    headers: &[(&str, String)],
    target: Target<'_>,
) -> Result<u16, String> {
    let u = grove_core::outbound::parse_url(url).map_err(|why| format!("{url}: {why}"))?;
    let mut last = None;
    let mut tcp = None;
    for addr in addresses(url, &u, target).await? {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| match last {
        Some(e) => format!("{url}: cannot connect: {e}"),
        None => format!("{url}: cannot connect"),
    })?;
    if !u.tls {
        return exchange(tcp, method, url, &u, body, headers).await;
    }
    let name = rustls::pki_types::ServerName::try_from(u.host_str())
        .map_err(|e| format!("{url}: bad host name for TLS: {e}"))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("{url}: TLS handshake failed: {e}"))?;
    exchange(tls, method, url, &u, body, headers).await
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    url: &str,
    u: &OutboundUrl,
    body: Option<&[u8]>,
    headers: &[(&str, String)],
) -> Result<u16, String> {
    let default_port = if u.tls { 443 } else { 80 };
    let host_header = if u.port == default_port {
        u.host.to_string()
    } else {
        format!("{}:{}", u.host, u.port)
    };
    let mut request = format!(
        "{method} {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: grove-jobs\r\nAccept: */*\r\nConnection: close\r\n",
        u.path
    );
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    for (name, value) in headers {
        if !value.contains(['\r', '\n']) {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    stream
        .write_all(&bytes)
        .await
        .map_err(|e| format!("{url}: cannot send the request: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("{url}: cannot send the request: {e}"))?;
    // At most one bounded line is read, as bytes: a remote that sends no
    // newline (or not UTF-8) cannot grow memory or reach the logs raw.
    let mut reader = BufReader::new(stream).take(MAX_STATUS_LINE);
    let mut raw = Vec::new();
    reader
        .read_until(b'\n', &mut raw)
        .await
        .map_err(|e| format!("{url}: no answer: {e}"))?;
    let line = String::from_utf8_lossy(&raw);
    let shown = || printable(&line, SHOWN_STATUS_LINE);
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") && code.len() == 3 => code
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| format!("{url}: not an HTTP answer: {}", shown())),
        _ if raw.is_empty() => Err(format!("{url}: the connection closed without an answer")),
        _ => Err(format!("{url}: not an HTTP answer: {}", shown())),
    }
}

/// GETs `url` and returns the response's status code.
pub(crate) async fn get_status(url: &str, target: Target<'_>) -> Result<u16, String> {
    send("GET", url, None, &[], target).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_trust_store_loads() {
        assert!(tls_config().is_ok(), "{:?}", tls_config().err());
    }

    /// An https URL really speaks TLS: a plain-HTTP server on the other
    /// end fails the handshake (rather than getting a cleartext request).
    #[tokio::test]
    async fn https_speaks_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
            }
        });
        let allow = OutboundPolicy::parse("localhost").unwrap();
        let err = send(
            "POST",
            &format!("https://localhost:{port}/hook"),
            Some(b"{}"),
            &[],
            Target::Policy(&allow),
        )
        .await
        .unwrap_err();
        assert!(err.contains("TLS handshake failed"), "{err}");
    }
}
