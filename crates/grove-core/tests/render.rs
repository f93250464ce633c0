//! json-render: the catalog, the pure transform and tree validation.

use grove_core::job_config::{JobConfigPayload, JobType};
use grove_core::render::{
    COMPONENTS, Component, ExecutionStatus, ExecutionView, LogLine, RenderNode, catalog,
    execution_to_render_tree, status_tree, validate_tree,
};
use serde_json::json;

fn failed_run() -> ExecutionView {
    ExecutionView {
        run_id: "0192f0aa-1111-7000-8000-000000000001".to_owned(),
        config_id: "advancement-batch".to_owned(),
        status: ExecutionStatus::Failed,
        trigger: "schedule".to_owned(),
        started_at: Some("2026-03-01T02:00:00Z".parse().unwrap()),
        completed_at: Some("2026-03-01T02:00:23Z".parse().unwrap()),
        items_processed: 40,
        items_total: Some(80),
        errors: 2,
        attempts: 3,
        error: Some("timeout after 300 s".to_owned()),
        next_attempt_at: None,
        max_attempts: 3,
        logs: (0..30)
            .map(|i| LogLine {
                timestamp: "2026-03-01T02:00:01Z".parse().unwrap(),
                level: if i == 29 { "error" } else { "debug" }.to_owned(),
                message: format!("line {i}"),
            })
            .collect(),
    }
}

#[test]
fn catalog_declares_the_six_components_with_object_schemas() {
    let c = catalog();
    let components = c["components"].as_object().unwrap();
    assert_eq!(components.len(), 6);
    for name in COMPONENTS {
        assert_eq!(components[*name]["props"]["type"], "object", "{name}");
    }
    assert_eq!(
        c["components"]["JobProgressBar"]["props"]["properties"]["percentage"]["maximum"],
        100
    );
}

#[test]
fn failed_execution_becomes_a_valid_tree_with_an_error_alert_and_log_tail() {
    let mut config = JobConfigPayload::default_for(JobType::AdvancementBatch);
    config.schedule.is_enabled = true;
    let now = "2026-03-01T12:00:00Z".parse().unwrap();
    let tree = execution_to_render_tree(&failed_run(), &config, now);
    assert_eq!(tree.node_type, "root");
    let types: Vec<&str> = tree.children.iter().map(|n| n.node_type.as_str()).collect();
    assert_eq!(
        &types[..4],
        [
            "JobPhaseIndicator",
            "JobProgressBar",
            "JobMetricRow",
            "JobErrorAlert"
        ]
    );
    assert_eq!(types.iter().filter(|t| **t == "JobLogEntry").count(), 20);
    assert_eq!(types.last(), Some(&"NextRunCountdown"));
    assert_eq!(tree.children[0].props.as_ref().unwrap()["phase"], "failed");
    assert_eq!(tree.children[1].props.as_ref().unwrap()["percentage"], 50.0);
    assert_eq!(tree.children[3].props.as_ref().unwrap()["retryCount"], 2);
    let components = validate_tree(&tree).expect("valid");
    assert!(matches!(components[0], Component::JobPhaseIndicator(_)));
    // The same inputs give the same tree.
    assert_eq!(tree, execution_to_render_tree(&failed_run(), &config, now));
    // Serialized as {type, props?, children?}.
    let v = serde_json::to_value(&tree).unwrap();
    assert_eq!(v["type"], "root");
    assert!(v["children"][0].get("children").is_none());
}

#[test]
fn a_job_that_never_ran_shows_only_its_next_run_and_a_disabled_one_nothing() {
    let mut config = JobConfigPayload::default_for(JobType::HealthCheck);
    config.schedule.is_enabled = true;
    let now = "2026-03-01T12:00:00Z".parse().unwrap();
    let tree = status_tree(None, &config, now);
    assert_eq!(tree.children.len(), 1);
    assert_eq!(tree.children[0].node_type, "NextRunCountdown");
    config.schedule.is_enabled = false;
    assert!(status_tree(None, &config, now).children.is_empty());
}

#[test]
fn validation_names_unknown_components_and_bad_props_by_pointer() {
    let tree: RenderNode = serde_json::from_value(json!({
        "type": "root",
        "children": [
            {"type": "JobProgressBar", "props": {"itemsProcessed": 1, "itemsTotal": 2, "percentage": 140}},
            {"type": "Marquee", "props": {}},
            {"type": "JobLogEntry", "props": {"timestamp": "t", "level": "loud", "message": "m"}},
            {"type": "JobPhaseIndicator", "props": {"phase": "running", "extra": 1}}
        ]
    }))
    .unwrap();
    let problems = validate_tree(&tree).unwrap_err();
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/children/0/props",
            "/children/1/type",
            "/children/2/props",
            "/children/3/props"
        ]
    );
    assert!(problems[1].message.contains("JobPhaseIndicator"));
}
