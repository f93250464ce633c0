//! Instances on one PostgreSQL database divide the firing of slots: each
//! fires its share of the jobs; when one crashes, a survivor takes its
//! share over once its registration expires and records what it missed
//! (per the misfire policy); when one stops cleanly, the others take over
//! at once.

use std::sync::Arc;
use std::time::Duration;

use grove_engine::EngineSettings;
use grove_engine::metrics::MetricsSnapshot;

use crate::support::*;

const JOBS: usize = 20;

/// Both engines' counters, once each sees `live` instances, follows every
/// job and together they fire every job, each a part.
async fn divided(engines: &[&Harness], live: usize) -> Vec<usize> {
    eventually(&format!("the jobs divided among {live}"), || async {
        let m: Vec<MetricsSnapshot> = engines
            .iter()
            .map(|h| h.handle.metrics())
            .collect::<Option<_>>()?;
        let divided = m
            .iter()
            .all(|m| m.instances == live && m.scheduled == JOBS && m.owned > 0)
            && m.iter().map(|m| m.owned).sum::<usize>() == JOBS;
        divided.then(|| m.iter().map(|m| m.owned).collect())
    })
    .await
}

/// How many executions each job has for `slot`: exactly one expected.
async fn slot_counts(h: &Harness, slot: &str) -> Vec<usize> {
    let slot = at(slot);
    let mut counts = Vec::new();
    for i in 0..JOBS {
        let runs = h.executions(&format!("job-{i:02}")).await;
        counts.push(
            runs.iter()
                .filter(|e| e.scheduled_for == Some(slot) && e.status.is_final())
                .count(),
        );
    }
    counts
}

async fn every_job_ran(h: &Harness, slot: &str) {
    eventually(
        &format!("one final execution per job for {slot}"),
        || async {
            slot_counts(h, slot)
                .await
                .iter()
                .all(|n| *n == 1)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn instances_divide_the_slots_and_take_over_a_dead_ones_share() {
    let Some(store) = postgres_store("division").await else {
        return;
    };
    let start = "2026-05-01T00:00:30Z";
    let settings = EngineSettings {
        lease: Duration::from_secs(60),
        ..settings()
    };
    let handlers = || uniform(Arc::new(Succeed::default()));
    let mut a = Harness::on_store(store.clone(), start);
    let mut b = Harness::on_store(store.clone(), start);
    a.start(handlers(), settings.clone());
    b.start(handlers(), settings.clone());
    for i in 0..JOBS {
        a.insert_config(&format!("job-{i:02}"), &health("* * * * *"))
            .await;
    }
    divided(&[&a, &b], 2).await;

    // Each slot is fired by its owner; together they fire every job.
    a.advance(30);
    b.advance(30);
    every_job_ran(&b, "2026-05-01T00:01:00Z").await;

    // a crashes after renewing its registration at 00:01:00 on its clock
    // (it renews every 50 ms): valid until 00:02:00.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shares = divided(&[&a, &b], 2).await;
    a.crash();
    // At 00:02:00 a still counts as live: b fires its own share only, and
    // a's part of the slot is nobody's for now.
    b.advance(60);
    let mine = shares[1];
    let fired = || async {
        slot_counts(&b, "2026-05-01T00:02:00Z")
            .await
            .iter()
            .sum::<usize>()
    };
    eventually("b's share of 00:02", || async {
        (fired().await == mine).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fired().await,
        mine,
        "a's share is not fired while a counts as live"
    );
    // Past the expiry, b takes a's share over: the slot a missed is
    // recorded (skipped as missed: 00:03 is the latest, and runs), and
    // every later slot is fired by b.
    b.advance(90);
    assert_eq!(divided(&[&b], 1).await, vec![JOBS]);
    every_job_ran(&b, "2026-05-01T00:02:00Z").await;
    every_job_ran(&b, "2026-05-01T00:03:00Z").await;
    let missed = {
        let mut n = 0;
        for i in 0..JOBS {
            n += b
                .executions(&format!("job-{i:02}"))
                .await
                .iter()
                .filter(|e| e.reason.as_deref() == Some("missed"))
                .count();
        }
        n
    };
    assert_eq!(
        missed,
        JOBS - mine,
        "a's share of 00:02, recorded on takeover"
    );

    // A newcomer takes part of the share; stopping cleanly, it leaves the
    // live set at once: b fires everything again without waiting for a
    // registration to expire (no clock moves here).
    let mut c = Harness::on_store(store.clone(), "2026-05-01T00:03:00Z");
    c.clock.set(b.clock.now_ts());
    c.start(handlers(), settings);
    divided(&[&b, &c], 2).await;
    c.halt().await;
    assert_eq!(divided(&[&b], 1).await, vec![JOBS]);
    b.advance(60);
    every_job_ran(&b, "2026-05-01T00:04:00Z").await;
    b.stop().await;
}
