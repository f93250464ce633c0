//! One-shot subcommands: validate, migrate, token create.

use serde_json::json;

use crate::grove;

fn write(dir: &std::path::Path, name: &str, value: &serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    name.to_owned()
}

fn seed_json() -> serde_json::Value {
    json!({
        "meta": {"id": "advancement-batch", "type": "job-config", "version": "1.0", "title": "Daily Advancement Batch"},
        "payload": grove_core::job_config::seed_advancement_payload()
    })
}

#[test]
fn validate_accepts_good_files_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(dir.path(), "one.json", &seed_json());
    let list = write(dir.path(), "list.json", &json!([seed_json(), seed_json()]));
    let out = grove(dir.path(), &["validate", &one, &list]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("one.json: valid"));
}

#[test]
fn validate_prints_pointer_lines_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = seed_json();
    bad["payload"]["schedule"]["cronExpression"] = json!("0 25 * * *");
    bad["payload"]["retry"]["maxAttempts"] = json!(0);
    let file = write(dir.path(), "bad.json", &bad);
    let list = write(dir.path(), "list.json", &json!([seed_json(), bad]));
    let out = grove(dir.path(), &["validate", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("/payload/schedule/cronExpression: ")),
        "{stdout}"
    );
    assert!(
        lines.contains(&"/payload/retry/maxAttempts: must be between 1 and 100, got 0"),
        "{stdout}"
    );
    let out = grove(dir.path(), &["validate", &list]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/1/payload/retry/maxAttempts: "));
    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    let out = grove(dir.path(), &["validate", "broken.json", "missing.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not valid JSON"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json: cannot read"));
}

#[test]
fn migrate_and_token_create_use_the_default_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = grove(dir.path(), &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema version"));
    assert!(dir.path().join("grove-jobs.db").exists());
    let out = grove(dir.path(), &["token", "create", "--role", "viewer"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .starts_with("gj_")
    );
    let out = grove(dir.path(), &["token", "create", "--role", "root"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--role must be viewer, operator or admin")
    );
    let out = grove(dir.path(), &["migrate", "--database-url", "mysql://x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

/// `token list` shows id, name, role, created and last use, never a
/// secret; `token revoke ID` ends the token; an unknown id fails.
#[test]
fn token_list_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let create = |name: &str| {
        let out = grove(
            dir.path(),
            &["token", "create", "--role", "operator", "--name", name],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let first = create("deploy");
    let second = create("backup");
    let out = grove(dir.path(), &["token", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = lines[0]
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(header, ["ID", "NAME", "ROLE", "CREATED", "LAST USED"]);
    assert!(
        lines[1].contains("deploy") && lines[1].contains("operator") && lines[1].ends_with("never")
    );
    assert!(
        !text.contains(&first) && !text.contains(&second),
        "never a secret"
    );
    let id = lines[1].split_whitespace().next().unwrap().to_owned();

    let out = grove(dir.path(), &["token", "revoke", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("revoked token {id} (deploy, operator)")
    );
    let out = grove(dir.path(), &["token", "list"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains("deploy") && text.contains("backup"));
    let out = grove(dir.path(), &["token", "revoke", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("token \"{id}\" does not exist")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn export_then_apply_round_trips_and_plans() {
    let dir = tempfile::tempdir().unwrap();
    let out = grove(dir.path(), &["migrate"]);
    assert!(out.status.success());
    let job = seed_json();
    let file = write(dir.path(), "job.json", &job);
    let out = grove(dir.path(), &["apply", "-f", &file, "--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "create job-config advancement-batch\ndry run: nothing was changed\n"
    );
    let out = grove(dir.path(), &["apply", "-f", &file]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "create job-config advancement-batch\n"
    );
    let out = grove(dir.path(), &["apply", "-f", "."]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "unchanged job-config advancement-batch\n"
    );
    let out = grove(dir.path(), &["export"]);
    assert!(out.status.success());
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported[0]["meta"]["id"], "advancement-batch");
    assert!(exported[0]["meta"].get("version").is_none());
    let mut changed = exported.clone();
    changed[0]["payload"]["limits"]["batchSize"] = json!(50);
    let file = write(dir.path(), "export.json", &changed);
    let out = grove(dir.path(), &["apply", "-f", &file]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "update job-config advancement-batch\n"
    );
    changed[0]["payload"]["limits"]["batchSize"] = json!(0);
    let file = write(dir.path(), "bad.json", &changed);
    let out = grove(dir.path(), &["apply", "-f", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("/payload/limits/batchSize: must be between")
    );
    let out = grove(dir.path(), &["export", "--type", "advancement-rule"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}
