//! A minimal HTTP/1.1 GET for health checks, over `tokio::net::TcpStream`,
//! so the engine needs no HTTP client dependency. Only `http://` URLs:
//! an `https://` endpoint is answered with an error naming the limit (a TLS
//! client is a later change). The caller bounds the time it may take.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The parts of an `http://` URL a GET needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub(crate) fn parse_url(url: &str) -> Result<HttpUrl, String> {
    if url.starts_with("https://") {
        return Err(format!(
            "{url}: https endpoints need a TLS client, which this build does not have yet; use http://"
        ));
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: not an http:// URL"))?;
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
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(HttpUrl {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        path,
    })
}

/// GETs `url` and returns the response's status code.
pub(crate) async fn get_status(url: &str) -> Result<u16, String> {
    let u = parse_url(url)?;
    let mut stream = TcpStream::connect((u.host.as_str(), u.port))
        .await
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    let host_header = if u.port == 80 {
        u.host.clone()
    } else {
        format!("{}:{}", u.host, u.port)
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: grove-jobs-health\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        u.path
    );
    stream
        .write_all(request.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_url("http://localhost:8080/healthz").unwrap(),
            HttpUrl {
                host: "localhost".into(),
                port: 8080,
                path: "/healthz".into()
            }
        );
        assert_eq!(parse_url("http://rag.internal").unwrap().path, "/");
        assert_eq!(parse_url("http://rag.internal").unwrap().port, 80);
        assert_eq!(parse_url("http://h?x=1").unwrap().path, "/?x=1");
        assert_eq!(parse_url("http://[::1]:9000/a").unwrap().host, "::1");
        assert!(parse_url("https://x").unwrap_err().contains("TLS"));
        assert!(parse_url("ftp://x").is_err());
    }
}
