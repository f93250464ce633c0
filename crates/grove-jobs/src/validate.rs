//! `grove-jobs validate FILE...`: the same validation the API runs, offline.
//! Problems go to stdout as `pointer: message` lines (so they can be piped
//! and diffed); a verdict per file goes to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use grove_core::registry::{self, JOB_CONFIG};
use grove_core::validate::Problem;
use serde_json::Value;

/// Problems of one object; its type comes from `meta.type` (default job-config).
pub fn check_object(raw: &Value) -> Vec<Problem> {
    let type_id = raw
        .pointer("/meta/type")
        .and_then(Value::as_str)
        .unwrap_or(JOB_CONFIG);
    match registry::find(type_id) {
        Some(def) => def.validate(raw).err().unwrap_or_default(),
        None => vec![Problem::new(
            "/meta/type",
            format!(
                "unknown object type \"{type_id}\"; known types: {}",
                registry::type_ids()
            ),
        )],
    }
}

pub fn run(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        let name = file.display();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                failed = true;
                continue;
            }
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                println!("/: not valid JSON: {e}");
                eprintln!("{name}: invalid");
                failed = true;
                continue;
            }
        };
        let objects: Vec<(String, &Value)> = match &value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("/{i}"), v))
                .collect(),
            v => vec![(String::new(), v)],
        };
        let mut file_ok = true;
        for (prefix, object) in objects {
            for problem in check_object(object) {
                file_ok = false;
                let pointer = format!("{prefix}{}", problem.pointer);
                let pointer = if pointer.is_empty() {
                    "/".to_owned()
                } else {
                    pointer
                };
                println!("{pointer}: {}", problem.message);
            }
        }
        if file_ok {
            eprintln!("{name}: valid");
        } else {
            eprintln!("{name}: invalid");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
