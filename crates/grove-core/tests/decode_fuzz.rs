//! Random JSON into the decoders: never a panic, and whatever is accepted
//! validates again to itself.

use grove_core::registry::TYPES;
use proptest::prelude::*;
use serde_json::{Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "[a-zA-Z0-9 */,_#?LW.-]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "0 2 * * *",
            "UTC",
            "America/Los_Angeles",
            "advancement-batch",
            "health-check",
            "seed",
            "sprout",
            "all_time",
            "exponential",
            "fixed",
            "log",
            "webhook",
            "database",
            "error",
            "retrievals",
            ">=",
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "meta",
                    "payload",
                    "title",
                    "jobType",
                    "schedule",
                    "retry",
                    "limits",
                    "parameters",
                    "cronExpression",
                    "timezone",
                    "isEnabled",
                    "maxAttempts",
                    "batchSize",
                    "fromTier",
                    "toTier",
                    "conditions",
                    "signal",
                    "operator",
                    "threshold",
                    "notifications",
                    "channels",
                    "webhookUrl",
                    "checks",
                    "endpoints",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid job config with one field replaced by random JSON.
fn mutated_job() -> impl Strategy<Value = Value> {
    let paths = prop::sample::select(vec![
        "/payload/jobType",
        "/payload/schedule",
        "/payload/schedule/cronExpression",
        "/payload/schedule/timezone",
        "/payload/retry",
        "/payload/retry/maxAttempts",
        "/payload/limits/batchSize",
        "/payload/parameters",
        "/payload/parameters/fromTiers",
        "/meta",
        "/meta/title",
        "/payload",
    ]);
    (paths, arb_json()).prop_map(|(path, value)| {
        let mut v = json!({"meta": {"title": "t"}, "payload": grove_core::job_config::seed_advancement_payload()});
        if let Some(slot) = v.pointer_mut(path) {
            *slot = value;
        }
        v
    })
}

fn check(raw: &Value) -> Result<(), TestCaseError> {
    for def in TYPES {
        match def.validate(raw) {
            Ok(out) => {
                let again = def
                    .validate(&json!({"meta": {"title": out.meta.title}, "payload": out.payload}))
                    .map_err(|p| {
                        TestCaseError::fail(format!("normalized payload invalid: {p:?}"))
                    })?;
                prop_assert_eq!(again.payload, out.payload);
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in problems {
                    prop_assert!(p.pointer.is_empty() || p.pointer.starts_with('/'));
                    prop_assert!(!p.message.is_empty());
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_json_never_panics(raw in arb_json()) {
        check(&raw)?;
    }

    #[test]
    fn mutated_configs_never_panic(raw in mutated_job()) {
        check(&raw)?;
    }
}
