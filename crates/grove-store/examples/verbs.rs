use grove_store::*;
use jiff::{SignedDuration, Timestamp};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let store = grove_store::open(path.to_str().unwrap()).await.unwrap();
    let payload = grove_core::job_config::JobConfigPayload::default_for(
        grove_core::job_config::JobType::HealthCheck,
    );
    let now: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    for c in 0..10 {
        store
            .object_insert(ObjectInsert {
                object_type: "job-config".into(),
                id: format!("c{c}"),
                title: "t".into(),
                description: None,
                tags: vec![],
                payload: payload.to_value(),
                actor: None,
                now,
            })
            .await
            .unwrap();
    }
    let n = 2000;
    let mut t = [0u128; 7];
    for i in 0..n {
        let id = format!("run-{i}");
        let cfg = format!("c{}", i % 10);
        let s = Instant::now();
        let _ = store.object_get("job-config", &cfg).await.unwrap();
        t[0] += s.elapsed().as_micros();
        let s = Instant::now();
        store
            .execution_insert(ExecutionInsert {
                id: id.clone(),
                config_id: cfg.clone(),
                trigger: Trigger::Manual,
                scheduled_for: None,
                due_at: None,
                late: false,
                payload: payload.to_value(),
                config_version: 1,
                retry: payload.retry,
                max_concurrent: 10,
                retry_of: None,
                parent_run_id: None,
                overrides: None,
                actor: None,
                disposition: InsertDisposition::Queue,
                now,
            })
            .await
            .unwrap();
        t[1] += s.elapsed().as_micros();
        let s = Instant::now();
        let c = store
            .execution_claim(ExecutionClaim {
                owner: "w".into(),
                now,
                lease_until: now + SignedDuration::from_secs(30),
                limit: 32,
                returned: Default::default(),
            })
            .await
            .unwrap();
        t[2] += s.elapsed().as_micros();
        assert_eq!(c.len(), 1);
        let s = Instant::now();
        store
            .log_append(vec![LogInsert {
                execution_id: id.clone(),
                attempt: 1,
                at: now,
                level: LogLevel::Info,
                message: "hello".into(),
            }])
            .await
            .unwrap();
        t[3] += s.elapsed().as_micros();
        let s = Instant::now();
        store
            .execution_finish(ExecutionFinish {
                logs: Vec::new(),
                execution_id: id.clone(),
                attempt: 1,
                owner: "w".into(),
                now,
                outcome: AttemptOutcome {
                    status: AttemptStatus::Success,
                    reason: None,
                    error: None,
                    counts: Counts::default(),
                    metadata: serde_json::json!({}),
                },
            })
            .await
            .unwrap();
        t[4] += s.elapsed().as_micros();
        let s = Instant::now();
        let mut m = serde_json::Map::new();
        m.insert(
            "lastExecution".into(),
            serde_json::json!({"status": "success", "runId": id}),
        );
        store
            .object_state_merge("job-config", &cfg, m)
            .await
            .unwrap();
        t[5] += s.elapsed().as_micros();
        let s = Instant::now();
        store
            .journal_append(JournalAppend {
                event_type: "job.succeeded".into(),
                at: now,
                subject: cfg.clone(),
                message: "ok".into(),
                data: serde_json::json!({"runId": id}),
            })
            .await
            .unwrap();
        t[6] += s.elapsed().as_micros();
    }
    let names = [
        "object_get",
        "insert",
        "claim",
        "log_append",
        "finish",
        "state_merge",
        "journal",
    ];
    let total: u128 = t.iter().sum();
    for (k, v) in names.iter().zip(t) {
        print!("{k}={:.0}us ", v as f64 / n as f64);
    }
    println!("total={:.0}us/exec", total as f64 / n as f64);
}
