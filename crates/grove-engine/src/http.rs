//! A minimal HTTP/1.1 client for health checks (GET) and webhooks (POST of
//! JSON), over `tokio::net::TcpStream`, with TLS (rustls, the system's
//! trusted roots) for `https://`. It answers only the status code; callers
//! bound the time it may take.

use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The parts of an `http://` or `https://` URL a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub(crate) fn parse_url(url: &str) -> Result<HttpUrl, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!("{url}: not an http:// or https:// URL"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let path = path.split('#').next().unwrap_or("/").to_owned();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port = p
                .parse::<u16>()
                .map_err(|_| format!("{url}: bad port \"{p}\""))?;
            (h, port)
        }
        _ => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(HttpUrl {
        tls,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        path,
    })
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
/// sent as JSON.
pub(crate) async fn send(method: &str, url: &str, body: Option<&[u8]>) -> Result<u16, String> {
    let u = parse_url(url)?;
    let tcp = TcpStream::connect((u.host.as_str(), u.port))
        .await
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    if !u.tls {
        return exchange(tcp, method, url, &u, body).await;
    }
    let name = rustls::pki_types::ServerName::try_from(u.host.clone())
        .map_err(|e| format!("{url}: bad host name for TLS: {e}"))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("{url}: TLS handshake failed: {e}"))?;
    exchange(tls, method, url, &u, body).await
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    url: &str,
    u: &HttpUrl,
    body: Option<&[u8]>,
) -> Result<u16, String> {
    let default_port = if u.tls { 443 } else { 80 };
    let host_header = if u.port == default_port {
        u.host.clone()
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
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .map_err(|e| format!("{url}: no answer: {e}"))?;
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code
            .parse::<u16>()
            .map_err(|_| format!("{url}: not an HTTP answer: {}", line.trim())),
        _ if line.is_empty() => Err(format!("{url}: the connection closed without an answer")),
        _ => Err(format!("{url}: not an HTTP answer: {}", line.trim())),
    }
}

/// GETs `url` and returns the response's status code.
pub(crate) async fn get_status(url: &str) -> Result<u16, String> {
    send("GET", url, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_url("http://localhost:8080/healthz").unwrap(),
            HttpUrl {
                tls: false,
                host: "localhost".into(),
                port: 8080,
                path: "/healthz".into()
            }
        );
        assert_eq!(parse_url("http://rag.internal").unwrap().path, "/");
        assert_eq!(parse_url("http://rag.internal").unwrap().port, 80);
        assert_eq!(parse_url("http://h?x=1").unwrap().path, "/?x=1");
        assert_eq!(parse_url("http://[::1]:9000/a").unwrap().host, "::1");
        let https = parse_url("https://hooks.example.test/x").unwrap();
        assert!(https.tls);
        assert_eq!(https.port, 443);
        assert!(parse_url("ftp://x").is_err());
    }

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
        let err = send(
            "POST",
            &format!("https://localhost:{port}/hook"),
            Some(b"{}"),
        )
        .await
        .unwrap_err();
        assert!(err.contains("TLS handshake failed"), "{err}");
    }
}
