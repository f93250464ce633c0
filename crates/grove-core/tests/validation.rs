//! Job config and advancement rule validation: messages and pointers.

use grove_core::job_config::{JobConfigPayload, JobType};
use grove_core::registry::{self, ADVANCEMENT_RULE, JOB_CONFIG};
use grove_core::validate::{Choice, Problem};
use serde_json::{Value, json};

fn job_config() -> &'static registry::TypeDef {
    registry::find(JOB_CONFIG).unwrap()
}

fn valid() -> Value {
    json!({
        "meta": {"id": "nightly", "title": "Nightly"},
        "payload": {
            "jobType": "advancement-batch",
            "schedule": {"cronExpression": "0 2 * * *", "timezone": "America/Los_Angeles", "isEnabled": true},
            "retry": {"maxAttempts": 3, "backoffStrategy": "exponential", "initialDelaySeconds": 60, "maxDelaySeconds": 900},
            "limits": {"batchSize": 100, "timeoutSeconds": 300, "maxConcurrent": 1},
            "parameters": {"jobType": "advancement-batch", "signalPeriod": "all_time", "fromTiers": ["seed", "sprout"]}
        }
    })
}

fn problems(v: &Value) -> Vec<Problem> {
    job_config().validate(v).expect_err("should be invalid")
}

fn with(path: &str, value: Value) -> Value {
    let mut v = valid();
    *v.pointer_mut(path).unwrap_or_else(|| panic!("{path}")) = value;
    v
}

#[test]
fn a_valid_config_gets_every_default() {
    let out = job_config().validate(&valid()).unwrap();
    assert_eq!(out.meta.title, "Nightly");
    assert_eq!(out.payload["displayName"], "Nightly");
    assert_eq!(out.payload["schedule"]["misfirePolicy"], "run-once");
    assert_eq!(out.payload["schedule"]["startingDeadlineSeconds"], 3600);
    assert_eq!(out.payload["schedule"]["dstPolicy"], "cron");
    assert_eq!(out.payload["schedule"]["overlapPolicy"], "skip");
    assert_eq!(out.payload["schedule"]["autoDisableAfterFailures"], 5);
    assert_eq!(out.payload["parameters"]["dryRun"], false);
    assert_eq!(out.payload["notifications"]["channels"], json!(["log"]));
    // Normalized output validates to itself.
    let again = job_config()
        .validate(&json!({"meta": {"title": "Nightly"}, "payload": out.payload}))
        .unwrap();
    assert_eq!(again.payload, out.payload);
}

#[test]
fn parameters_job_type_is_inferred_when_missing() {
    let mut v = valid();
    v["payload"]["parameters"]
        .as_object_mut()
        .unwrap()
        .remove("jobType");
    let out = job_config().validate(&v).unwrap();
    assert_eq!(out.payload["parameters"]["jobType"], "advancement-batch");
}

#[test]
fn messages_name_the_field_and_say_what_is_wrong() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with("/payload/retry/maxAttempts", json!(0)),
            "/payload/retry/maxAttempts",
            "must be between 1 and 100, got 0",
        ),
        (
            with("/payload/limits/batchSize", json!(1.5)),
            "/payload/limits/batchSize",
            "must be a whole number, got 1.5",
        ),
        (
            with("/payload/limits/maxConcurrent", json!("2")),
            "/payload/limits/maxConcurrent",
            "must be a whole number, got a string",
        ),
        (
            with("/payload/limits/timeoutSeconds", json!(100_000)),
            "/payload/limits/timeoutSeconds",
            "must be between 1 and 86400, got 100000",
        ),
        (
            with("/payload/retry/backoffStrategy", json!("linear")),
            "/payload/retry/backoffStrategy",
            "\"linear\" is not one of exponential, fixed",
        ),
        (
            with("/payload/schedule/isEnabled", json!("yes")),
            "/payload/schedule/isEnabled",
            "must be true or false, got a string",
        ),
        (
            with("/payload/schedule/timezone", json!("PST")),
            "/payload/schedule/timezone",
            "unknown time zone \"PST\"",
        ),
        (
            with("/payload/jobType", json!("reindex")),
            "/payload/jobType",
            "\"reindex\" is not one of advancement-batch",
        ),
        (
            with("/payload/parameters/fromTiers", json!(["seed", "forest"])),
            "/payload/parameters/fromTiers/1",
            "unknown tier \"forest\"; the default model has seed, sprout, sapling, tree, grove",
        ),
        (
            with("/payload/parameters/signalPeriod", json!("last_year")),
            "/payload/parameters/signalPeriod",
            "is not one of all_time, last_30d, last_7d",
        ),
        (
            with("/payload/retry/initialDelaySeconds", json!(1000)),
            "/payload/retry/initialDelaySeconds",
            "must not be greater than maxDelaySeconds (900), got 1000",
        ),
        (
            with("/meta/title", json!("  ")),
            "/meta/title",
            "must not be empty",
        ),
        (
            with("/meta/id", json!("has space")),
            "/meta/id",
            "must be 1 to 128 letters",
        ),
    ];
    for (input, pointer, message) in cases {
        let got = problems(&input);
        assert!(
            got.iter()
                .any(|p| p.pointer == pointer && p.message.contains(message)),
            "expected {pointer}: {message}\n got {got:?}"
        );
    }
}

#[test]
fn unknown_fields_are_rejected_with_a_suggestion() {
    let mut v = valid();
    v["payload"]["schedule"]["cronExpresion"] = json!("0 3 * * *");
    v["payload"]["extra"] = json!(1);
    v["meta"]["colour"] = json!("red");
    let got = problems(&v);
    let find = |ptr: &str| {
        got.iter()
            .find(|p| p.pointer == ptr)
            .unwrap_or_else(|| panic!("{ptr} in {got:?}"))
    };
    assert_eq!(
        find("/payload/schedule/cronExpresion").message,
        "unknown field \"cronExpresion\"; did you mean \"cronExpression\"?"
    );
    assert!(
        find("/payload/extra")
            .message
            .starts_with("unknown field \"extra\"; expected one of jobType, displayName")
    );
    assert!(
        find("/meta/colour")
            .message
            .starts_with("unknown field \"colour\"")
    );
}

#[test]
fn pointers_escape_slashes_and_tildes() {
    let mut v = valid();
    v["payload"]["limits"]["a/b~c"] = json!(1);
    assert_eq!(problems(&v)[0].pointer, "/payload/limits/a~1b~0c");
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut v = valid();
    v["payload"]["schedule"] = json!({"cronExpression": "bad", "timezone": "Nowhere/Else"});
    v["payload"]["limits"] = json!({"batchSize": 0, "timeoutSeconds": 0, "maxConcurrent": 0});
    let mut pointers: Vec<String> = problems(&v).into_iter().map(|p| p.pointer).collect();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/payload/limits/batchSize",
            "/payload/limits/maxConcurrent",
            "/payload/limits/timeoutSeconds",
            "/payload/schedule/cronExpression",
            "/payload/schedule/isEnabled",
            "/payload/schedule/timezone",
        ]
    );
}

#[test]
fn webhook_channels_need_a_url() {
    let mut v = valid();
    v["payload"]["notifications"] = json!({"onFailure": true, "channels": ["log", "webhook"]});
    let got = problems(&v);
    assert_eq!(got[0].pointer, "/payload/notifications/webhookUrl");
    v["payload"]["notifications"]["webhookUrl"] = json!("ftp://x");
    assert!(problems(&v)[0].message.contains("http:// or https://"));
    v["payload"]["notifications"]["webhookUrl"] = json!("https://hooks.example.test/grove");
    assert!(job_config().validate(&v).is_ok());
}

#[test]
fn every_job_type_default_is_valid() {
    for jt in JobType::ALL {
        let payload = JobConfigPayload::default_for(*jt).to_value();
        let out = job_config()
            .validate(&json!({"meta": {"title": "t"}, "payload": payload}))
            .unwrap_or_else(|p| panic!("{jt}: {p:?}"));
        assert_eq!(out.payload["parameters"]["jobType"], jt.name());
        assert_eq!(out.payload["schedule"]["isEnabled"], false);
    }
}

#[test]
fn type_specific_parameters_are_checked() {
    let base = |params: Value, jt: &str| {
        let mut v = valid();
        v["payload"]["jobType"] = json!(jt);
        v["payload"]["parameters"] = params;
        v
    };
    let got = problems(&base(
        json!({"entityTypes": [], "orphanThresholdDays": 0}),
        "orphan-cleanup",
    ));
    let ptrs: Vec<&str> = got.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        ptrs,
        [
            "/payload/parameters/entityTypes",
            "/payload/parameters/orphanThresholdDays"
        ]
    );
    let got = problems(&base(
        json!({"checks": ["database", "disk"], "alertThreshold": "fatal", "endpoints": {"rag": "nope"}}),
        "health-check",
    ));
    let ptrs: Vec<&str> = got.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        ptrs,
        [
            "/payload/parameters/checks/1",
            "/payload/parameters/alertThreshold",
            "/payload/parameters/endpoints/rag"
        ]
    );
    let got = problems(&base(
        json!({"eventTypes": ["job.failed"], "recipientIds": []}),
        "notification-digest",
    ));
    assert_eq!(got[0].pointer, "/payload/parameters/recipientIds");
    let ok = base(
        json!({"eventTypes": ["job.failed"], "recipientIds": ["ops"]}),
        "notification-digest",
    );
    let out = job_config().validate(&ok).unwrap();
    assert_eq!(
        out.payload["parameters"]["channels"],
        json!(["log", "outbox"])
    );
}

#[test]
fn advancement_rules_validate_tiers_signals_and_operators() {
    let def = registry::find(ADVANCEMENT_RULE).unwrap();
    let good = json!({"meta": {"title": "r"}, "payload": {"fromTier": "seed", "toTier": "sprout",
        "conditions": [{"signal": "retrievals", "operator": ">=", "threshold": 10}, {"signal": "citation", "operator": ">", "threshold": 2.5}]}});
    let out = def.validate(&good).unwrap();
    assert_eq!(out.payload["match"], "all");
    assert_eq!(out.payload["isEnabled"], true);
    let bad = json!({"meta": {"title": "r"}, "payload": {"fromTier": "tree", "toTier": "sapling", "conditions": [], "match": "most"}});
    let got = def.validate(&bad).unwrap_err();
    let ptrs: Vec<&str> = got.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        ptrs,
        ["/payload/toTier", "/payload/conditions", "/payload/match"]
    );
}

fn problem_at<'a>(problems: &'a [Problem], pointer: &str) -> &'a Problem {
    problems
        .iter()
        .find(|p| p.pointer == pointer)
        .unwrap_or_else(|| panic!("no problem at {pointer}: {problems:?}"))
}

#[test]
fn titles_and_display_names_need_a_visible_character() {
    for invisible in [
        "\u{200b}\u{200d}\u{feff}",
        "\u{2060}\u{00ad}",
        "\u{3164}",
        " \u{200b} ",
    ] {
        let v = with("/meta/title", json!(invisible));
        let p = problems(&v);
        let message = &problem_at(&p, "/meta/title").message;
        assert!(
            message.contains("visible character") || message.contains("must not be empty"),
            "{invisible:?}: {message}"
        );
        let mut v = valid();
        v["payload"]["displayName"] = json!(invisible);
        let p = problems(&v);
        problem_at(&p, "/payload/displayName");
    }
    // Visible text next to a joiner is fine (emoji sequences use them).
    let v = with("/meta/title", json!("Nightly \u{1f469}\u{200d}\u{1f52c}"));
    job_config().validate(&v).unwrap();
}

#[test]
fn control_and_bidi_characters_are_refused_in_every_string() {
    let cases: &[(&str, Value)] = &[
        ("/meta/title", json!("Nightly\u{202e}gnp.exe")),
        ("/meta/title", json!("Night\u{0}ly")),
        ("/meta/description", json!("ok\u{1b}[31mred")),
        ("/meta/description", json!("a\u{2066}b")),
        ("/meta/id", json!("night\u{7}")),
        ("/meta/tags/0", json!(["a\u{200f}"])),
        ("/payload/schedule/cronExpression", json!("0 2 * * *\u{0}")),
        ("/payload/schedule/timezone", json!("UTC\u{202d}")),
        ("/payload/parameters/fromTiers/0", json!(["seed\u{8}"])),
        ("/payload/parameters/lifecycleModelId", json!("m\r1")),
    ];
    for (pointer, value) in cases {
        let mut v = valid();
        let target = pointer.strip_suffix("/0").unwrap_or(pointer);
        let mut node = &mut v;
        for key in target.split('/').skip(1) {
            node = &mut node[key];
        }
        *node = value.clone();
        let p = problems(&v);
        let problem = problem_at(&p, pointer);
        assert!(
            problem.message.contains("control character")
                || problem.message.contains("bidirectional"),
            "{pointer}: {problem}"
        );
        assert!(problem.message.contains("U+"), "{problem}");
    }
    // Tabs, newlines and CRLF (what a browser's textarea sends) stay allowed.
    let mut v = valid();
    v["meta"]["description"] = json!("line one\r\nline\ttwo\nthree");
    job_config().validate(&v).unwrap();
}

#[test]
fn time_zones_must_be_region_names() {
    for tz in [
        "localtime",
        "Factory",
        "posixrules",
        "EST5EDT",
        "posix/Europe/Berlin",
        "right/UTC",
        "america/los_angeles",
        "Europe/../Europe/Berlin",
    ] {
        let v = with("/payload/schedule/timezone", json!(tz));
        let p = problems(&v);
        let message = &problem_at(&p, "/payload/schedule/timezone").message;
        assert!(message.contains(tz), "{tz}: {message}");
        assert!(message.contains("IANA"), "{tz}: {message}");
    }
    for tz in [
        "UTC",
        "Etc/UTC",
        "Europe/Berlin",
        "America/Argentina/Buenos_Aires",
    ] {
        job_config()
            .validate(&with("/payload/schedule/timezone", json!(tz)))
            .unwrap_or_else(|p| panic!("{tz}: {p:?}"));
    }
}

#[test]
fn known_paths_cover_meta_payload_and_derived() {
    let paths = job_config().known_paths();
    for p in [
        "meta.title",
        "meta.updatedAt",
        "payload.jobType",
        "payload.schedule",
        "payload.schedule.cronExpression",
        "payload.parameters.webhookUrl",
        "payload.parameters.checks",
        "payload.lastExecution.status",
        "derived.health",
    ] {
        assert!(paths.iter().any(|k| k == p), "{p} missing from {paths:?}");
    }
    for def in registry::TYPES {
        for f in def.filters {
            assert!(def.is_known_path(f.field), "{}", f.field);
        }
        for s in def.sort_options {
            assert!(def.is_known_path(s.field), "{}", s.field);
        }
        for s in def.search_fields {
            assert!(def.is_known_path(s), "{s}");
        }
    }
    assert!(!job_config().is_known_path("payload.nope"));
    assert!(!job_config().is_known_path("meta.title.x"));
    let rules = registry::find(ADVANCEMENT_RULE).unwrap();
    assert!(rules.is_known_path("payload.conditions"));
    assert!(!rules.is_known_path("derived.health"));
}

#[test]
fn a_stored_schedule_with_a_since_refused_zone_keeps_running() {
    let mut payload = JobConfigPayload::default_for(JobType::HealthCheck);
    payload.schedule.timezone = "US/Pacific".to_owned();
    assert!(payload.schedule.schedule().is_some());
    let v = with("/payload/schedule/timezone", json!("US/Pacific"));
    problem_at(&problems(&v), "/payload/schedule/timezone");
}

#[test]
fn alerts_are_optional_and_bounded_at_their_pointers() {
    // Without alerts (every stored payload so far): valid, and none added.
    let out = job_config().validate(&valid()).unwrap();
    assert!(out.payload.get("alerts").is_none());
    // Either field alone, both, or an empty object (no alert).
    for (alerts, kept) in [
        (
            json!({"maxLatenessSeconds": 300}),
            json!({"maxLatenessSeconds": 300}),
        ),
        (
            json!({"maxSilenceSeconds": 86400}),
            json!({"maxSilenceSeconds": 86400}),
        ),
        (
            json!({"maxLatenessSeconds": 1, "maxSilenceSeconds": 31_536_000}),
            json!({"maxLatenessSeconds": 1, "maxSilenceSeconds": 31_536_000}),
        ),
        (json!({}), Value::Null),
        (Value::Null, Value::Null),
    ] {
        let mut v = valid();
        v["payload"]["alerts"] = alerts.clone();
        let out = job_config().validate(&v).unwrap();
        assert_eq!(
            out.payload.get("alerts").cloned().unwrap_or(Value::Null),
            kept,
            "{alerts}"
        );
    }
    let bad = |alerts: Value| {
        let mut v = valid();
        v["payload"]["alerts"] = alerts;
        problems(&v)
            .into_iter()
            .map(|p| p.pointer)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        bad(json!({"maxLatenessSeconds": 0})),
        ["/payload/alerts/maxLatenessSeconds"]
    );
    assert_eq!(
        bad(json!({"maxSilenceSeconds": 31_536_001})),
        ["/payload/alerts/maxSilenceSeconds"]
    );
    assert_eq!(
        bad(json!({"maxLatenessSeconds": "5m", "maxSilenceSeconds": -1})),
        [
            "/payload/alerts/maxLatenessSeconds",
            "/payload/alerts/maxSilenceSeconds"
        ]
    );
    assert_eq!(
        bad(json!({"maxLateness": 60})),
        ["/payload/alerts/maxLateness"]
    );
    assert_eq!(bad(json!(60)), ["/payload/alerts"]);
}

#[test]
fn health_shows_the_dead_mans_switch_by_precedence() {
    use grove_core::job_config::{
        AlertSettings, AutoDisabled, Health, LastExecution, LateSlot, RunStatus, Silence,
    };
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    let mut p = JobConfigPayload::default_for(JobType::HealthCheck);
    p.schedule.is_enabled = true;
    p.last_execution = Some(LastExecution {
        started_at: None,
        completed_at: None,
        status: RunStatus::Failed,
        items_processed: 0,
        errors: 1,
        run_id: "r".to_owned(),
        error: None,
        consecutive_failures: 1,
    });
    let late = LateSlot {
        run_id: "r".to_owned(),
        scheduled_for: at("2026-03-01T01:00:00Z"),
        due_at: at("2026-03-01T01:00:00Z"),
        lateness_seconds: 300,
        missed: false,
        at: at("2026-03-01T01:05:00Z"),
    };
    let silence = Silence {
        at: at("2026-03-02T00:00:00Z"),
        since: at("2026-03-01T00:00:00Z"),
        max_silence_seconds: 86_400,
    };
    p.late_slot = Some(late);
    p.silence = Some(silence);
    // Engine state without the alert that raised it says nothing.
    assert_eq!(p.health(), Health::Error);
    p.alerts = Some(AlertSettings {
        max_lateness_seconds: Some(60),
        max_silence_seconds: None,
    });
    assert_eq!(p.health(), Health::Late, "late over a failed run");
    p.alerts = Some(AlertSettings {
        max_lateness_seconds: Some(60),
        max_silence_seconds: Some(86_400),
    });
    assert_eq!(p.health(), Health::Silent, "silent over late");
    p.schedule.is_enabled = false;
    assert_eq!(p.health(), Health::Disabled, "disabled over silent");
    p.auto_disabled = Some(AutoDisabled {
        at: at("2026-03-02T00:00:00Z"),
        reason: "failures".to_owned(),
    });
    assert_eq!(p.health(), Health::Critical);
    assert_eq!(serde_json::to_value(Health::Late).unwrap(), "late");
    assert_eq!(serde_json::to_value(Health::Silent).unwrap(), "silent");
}
