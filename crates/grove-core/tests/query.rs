//! The registry's query language.

use grove_core::query::{MetricQuery, get_path};
use grove_core::registry::{MetricTally, TYPES, evaluate_metrics};
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
fn a_tally_of_parts_counts_what_a_tally_of_documents_counts() {
    let objects = vec![
        json!({"payload": {"schedule": {"isEnabled": true}, "lastExecution": {"status": "failed"}}}),
        json!({"payload": {"schedule": {"isEnabled": false}}}),
        json!({"payload": {"schedule": {"isEnabled": "true"}, "lastExecution": {"status": "success"}}}),
        json!({"payload": {}}),
    ];
    for def in TYPES {
        let mut parts = MetricTally::new(def).unwrap();
        for o in &objects {
            // As the metrics call reads a stored object: the payload
            // alone, its paths without their "payload." prefix.
            parts.add_with(1, |path| {
                path.strip_prefix("payload.")
                    .and_then(|rest| get_path(&o["payload"], rest))
            });
        }
        assert_eq!(parts.total(), objects.len());
        assert_eq!(
            parts.finish(),
            evaluate_metrics(def, &objects).unwrap(),
            "{}",
            def.id
        );
    }
    let job_config = TYPES.iter().find(|t| t.id == "job-config").unwrap();
    let tally = MetricTally::new(job_config).unwrap();
    assert!(tally.paths().any(|p| p == "payload.lastExecution.status"));
    // A field that is not there matches only a negated condition.
    let missing = MetricQuery::parse("count(where: payload.x!=1)").unwrap();
    assert!(missing.matches_with(|_| None));
    let present = MetricQuery::parse("count(where: payload.x=1)").unwrap();
    assert!(!present.matches_with(|_| None));
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
