//! The registry's query language.

use grove_core::query::{MetricQuery, get_path};
use grove_core::registry::TYPES;
use serde_json::json;

#[test]
fn every_registry_metric_parses() {
    for t in TYPES {
        for m in t.metrics {
            m.parsed().unwrap_or_else(|e| panic!("{}: {e}", m.query));
        }
    }
}

#[test]
fn counts_with_equality_and_inequality() {
    let objects = vec![
        json!({"payload": {"schedule": {"isEnabled": true}, "lastExecution": {"status": "failed"}, "n": 5}}),
        json!({"payload": {"schedule": {"isEnabled": false}, "n": 7}}),
        json!({"payload": {"schedule": {"isEnabled": true}, "lastExecution": {"status": "success"}, "n": 5}}),
    ];
    let count = |q: &str| MetricQuery::parse(q).unwrap().count(&objects);
    assert_eq!(count("count()"), 3);
    assert_eq!(count("count(where: payload.schedule.isEnabled=true)"), 2);
    assert_eq!(
        count("count(where: payload.lastExecution.status=failed)"),
        1
    );
    assert_eq!(
        count("count(where: payload.lastExecution.status!=failed)"),
        2
    );
    assert_eq!(
        count("count(where: payload.schedule.isEnabled=true and payload.n=5)"),
        2
    );
    assert_eq!(count("COUNT( where : payload.n = 7 )"), 1);
    assert_eq!(
        count("count(where: payload.lastExecution.status=\"success\")"),
        1
    );
}

#[test]
fn malformed_queries_say_where_and_what_was_expected() {
    for (q, expected) in [
        ("sum(where: a=b)", "expected \"count\""),
        ("count(where a=b)", "expected \":\""),
        ("count(where: a)", "expected \"=\" or \"!=\""),
        ("count(where: a= )", "expected a value"),
        ("count(where: a=b or c=d)", "expected \"and\""),
        ("count(where: a=b", "expected \"and\""),
        ("count() extra", "expected the end of the query"),
        ("count(where: .a=b)", "expected a field path"),
    ] {
        let err = MetricQuery::parse(q).unwrap_err().to_string();
        assert!(err.contains(expected), "{q}: {err}");
        assert!(err.contains("at character"), "{err}");
    }
}

#[test]
fn paths_reach_into_lists() {
    let v = json!({"a": {"b": [10, {"c": "x"}]}});
    assert_eq!(get_path(&v, "a.b.0"), Some(&json!(10)));
    assert_eq!(get_path(&v, "a.b.1.c"), Some(&json!("x")));
    assert_eq!(get_path(&v, "a.z"), None);
}
