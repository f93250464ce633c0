//! TLS to PostgreSQL: a second, TLS-only cluster (initdb into a temporary
//! folder, a self-signed certificate authority, run as the `postgres` OS
//! user on its own port), and `grove-jobs migrate` connecting to it with
//! `sslmode=require`, `verify-ca` and `verify-full`. A wrong root
//! certificate, and a connection without TLS, fail with a clear message.
//!
//! Needs PostgreSQL's server binaries, `openssl` and root (to run the
//! cluster as `postgres`): without them the test is skipped locally and
//! fails in CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::BIN;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !matches!(ci.as_str(), "" | "0" | "false"))
}

fn missing<T>(what: &str) -> Option<T> {
    assert!(!in_ci(), "{what}, but CI is set: the TLS test must run");
    eprintln!("note: PostgreSQL TLS test skipped: {what}");
    None
}

/// The newest installed PostgreSQL's `bin` folder.
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn as_postgres(program: &Path, args: &[&str]) -> Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .output()
        .expect("runuser")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    ok(&out, &format!("openssl {}", args.join(" ")));
}

/// A certificate authority `name.crt`/`name.key`.
fn authority(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

/// `server.crt`/`server.key` for localhost and 127.0.0.1, signed by `ca`.
fn server_certificate(dir: &Path) {
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
            "-out",
            "server.crt",
        ],
    );
}

/// A running TLS-only cluster; stopped when dropped.
struct Cluster {
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
    certs: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let _ = as_postgres(
            &self.pg_ctl,
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn start_cluster() -> Option<Cluster> {
    let Some(bin) = pg_bin() else {
        return missing("no PostgreSQL server binaries under /usr/lib/postgresql");
    };
    if Command::new("openssl").arg("version").output().is_err() {
        return missing("openssl is not installed");
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        return missing("not running as root (the cluster runs as the postgres user)");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let certs = root.join("certs");
    let data = root.join("data");
    std::fs::create_dir(&certs).unwrap();
    authority(&certs, "ca");
    authority(&certs, "other-ca");
    server_certificate(&certs);
    let chown = |p: &Path| {
        let out = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(p)
            .output()
            .expect("chown");
        ok(&out, "chown");
    };
    chown(&root);
    let out = Command::new("chmod")
        .arg("755")
        .arg(&root)
        .output()
        .unwrap();
    ok(&out, "chmod");
    let data_s = data.to_string_lossy().into_owned();
    ok(
        &as_postgres(
            &bin.join("initdb"),
            &["-D", &data_s, "-U", "postgres", "-A", "trust", "--no-sync"],
        ),
        "initdb",
    );
    let key = certs.join("server.key");
    let out = Command::new("chmod").arg("600").arg(&key).output().unwrap();
    ok(&out, "chmod key");
    let port = free_port();
    let conf = format!(
        "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n\
         ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\nfsync = off\n",
        root = root.display(),
        cert = certs.join("server.crt").display(),
        key = key.display(),
    );
    let mut text = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
    text.push_str(&conf);
    std::fs::write(data.join("postgresql.conf"), text).unwrap();
    // TLS only: no `host` line, so a connection without TLS is refused.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
    )
    .unwrap();
    chown(&data);
    let pg_ctl = bin.join("pg_ctl");
    let log = root.join("server.log").to_string_lossy().into_owned();
    ok(
        &as_postgres(
            &pg_ctl,
            &["-D", &data_s, "-l", &log, "-w", "-t", "60", "start"],
        ),
        "pg_ctl start",
    );
    Some(Cluster {
        pg_ctl,
        data,
        port,
        _dir: dir,
        certs,
    })
}

fn migrate(url: &str) -> Output {
    Command::new(BIN)
        .args(["migrate", "--database-url", url])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run grove-jobs migrate")
}

#[test]
fn postgres_over_tls_in_every_sslmode_and_a_wrong_root_fails_clearly() {
    let Some(cluster) = start_cluster() else {
        return;
    };
    let port = cluster.port;
    let ca = cluster.certs.join("ca.crt");
    let other = cluster.certs.join("other-ca.crt");
    let ca = ca.display();
    let other = other.display();
    for (mode, url) in [
        (
            "require",
            format!(
                "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=require&schema=tls_require"
            ),
        ),
        (
            "verify-ca",
            format!(
                "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=verify-ca&sslrootcert={ca}&schema=tls_verify_ca"
            ),
        ),
        (
            "verify-full",
            format!(
                "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}&schema=tls_verify_full"
            ),
        ),
    ] {
        let out = migrate(&url);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("schema version"),
            "{mode}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A root that did not sign the server's certificate.
    let out = migrate(&format!(
        "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={other}"
    ));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("invalid peer certificate"), "{stderr}");
    assert!(
        stderr.contains("sslrootcert must name the certificate authority"),
        "{stderr}"
    );
    // The server refuses connections without TLS.
    let out = migrate(&format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    ));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no encryption") || stderr.contains("pg_hba.conf"),
        "{stderr}"
    );
}
