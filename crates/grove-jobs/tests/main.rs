//! The binary, end to end: real processes, real files, real sockets on loopback.

mod cli;
mod cluster;
mod serve;
mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_grove-jobs");

pub fn grove(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("GROVE_ADMIN_TOKEN")
        .output()
        .expect("run grove-jobs")
}

/// A running `grove-jobs serve`.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub token: Option<String>,
}

/// Starts `cmd` (a `serve` command) and reads what it prints until it is
/// ready: the API address and, on a fresh database, the admin token.
pub fn launch(mut cmd: Command) -> Server {
    cmd.env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    read_banner(cmd.spawn().expect("spawn serve"))
}

/// Reads what a spawned `serve` prints until it is ready.
fn read_banner(mut child: Child) -> Server {
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut addr, mut token) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.trim().strip_prefix("API:") {
            addr = rest
                .trim()
                .strip_prefix("http://")
                .and_then(|r| r.split('/').next())
                .map(str::to_owned);
        }
        if let Some((_, t)) = line.split_once("admin token (shown once, keep it): ") {
            token = Some(t.trim().to_owned());
        }
        if line.trim_start().starts_with("database:") {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        addr: addr.expect("the API address is printed"),
        token,
    }
}

/// Like [`launch`], with the server's log lines (stderr) written to `log`.
pub fn launch_logging(mut cmd: Command, log: &Path) -> Server {
    let file = std::fs::File::create(log).expect("log file");
    cmd.env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(file);
    read_banner(cmd.spawn().expect("spawn serve"))
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
