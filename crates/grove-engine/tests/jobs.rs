//! The grove job functions on real SQLite data, without the scheduler.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use grove_core::advancement_rule::{AdvancementRulePayload, Condition, MatchMode, Operator};
use grove_core::clock::TestClock;
use grove_core::job_config::{
    AdvancementParams, Channel, CleanupEntity, CleanupParams, EventType, NotificationDigestParams,
    SignalAggregationParams, SignalPeriod,
};
use grove_engine::jobs::digest::{HttpWebhook, RunHeaders, WebhookPolicy, WebhookSender};
use grove_engine::{JobContext, JobFailure, jobs};
use grove_store::sqlite::SqliteStore;
use grove_store::{
    AdvancementEventFilter, ArchiveEntity, JournalAppend, LogLevel, ObjectInsert, SignalInsert,
    SproutUpsert, Store,
};
use jiff::Timestamp;
use serde_json::{Value, json};

pub fn now() -> Timestamp {
    "2026-03-31T00:00:00Z".parse().unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A context outside the engine over `store`, its clock at [`now`].
fn context(store: &Arc<dyn Store>, run_id: &str, batch_size: u32) -> JobContext {
    let clock = Arc::new(TestClock::new(now()));
    JobContext::standalone(store.clone(), clock, run_id, batch_size)
}

/// A context of a run of the notification-digest job config `config_id`
/// (the digest cursor is kept per config).
fn digest_context(store: &Arc<dyn Store>, run_id: &str, config_id: &str) -> JobContext {
    let mut ctx = context(store, run_id, 10);
    ctx.config_id = config_id.to_owned();
    ctx
}

/// Whether some line the job logged contains `text`.
fn logged(ctx: &JobContext, text: &str) -> bool {
    ctx.log.lines().iter().any(|l| l.message.contains(text))
}

/// The progress the job reported: (total, processed).
fn progress(ctx: &JobContext) -> (Option<u64>, u64) {
    let counts = ctx.progress.snapshot();
    (counts.total, counts.processed)
}

/// The metadata of a job that stopped early because it was cancelled.
fn stopped(failure: JobFailure) -> serde_json::Map<String, Value> {
    match failure {
        JobFailure::Stopped { metadata, .. } => metadata,
        other => panic!("expected the job to stop on cancellation, got: {other}"),
    }
}

async fn fresh() -> Arc<dyn Store> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "grove-engine-jobs-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("grove.db");
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    Arc::new(store)
}

async fn rule(store: &Arc<dyn Store>, id: &str, from: &str, to: &str, conds: &[(&str, f64)]) {
    let payload = AdvancementRulePayload {
        lifecycle_model_id: None,
        from_tier: from.into(),
        to_tier: to.into(),
        conditions: conds
            .iter()
            .map(|(s, t)| Condition {
                signal: (*s).into(),
                operator: Operator::Gte,
                threshold: *t,
            })
            .collect(),
        match_mode: MatchMode::All,
        is_enabled: true,
    };
    store
        .object_insert(ObjectInsert {
            object_type: "advancement-rule".into(),
            id: id.into(),
            title: id.into(),
            description: None,
            tags: vec![],
            payload: payload.to_value(),
            actor: None,
            now: now(),
        })
        .await
        .unwrap();
}

async fn sprouts(store: &Arc<dyn Store>, items: &[(&str, &str)]) {
    let items = items
        .iter()
        .map(|(id, tier)| SproutUpsert {
            id: (*id).into(),
            title: (*id).into(),
            tier: (*tier).into(),
            parent_id: None,
            created_at: at("2026-01-01T00:00:00Z"),
        })
        .collect();
    store.sprout_upsert_batch(items, now()).await.unwrap();
}

/// `n` signals of `kind` for `sprout`, at `when`.
async fn signals(store: &Arc<dyn Store>, sprout: &str, kind: &str, n: usize, when: &str) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let items = (0..n)
        .map(|_| SignalInsert {
            id: format!("sig{}", NEXT.fetch_add(1, Ordering::Relaxed)),
            sprout_id: sprout.into(),
            kind: kind.into(),
            at: at(when),
            value: None,
        })
        .collect();
    store.signal_insert_batch(items, now()).await.unwrap();
}

fn adv(period: SignalPeriod, from_tiers: Option<&[&str]>, dry_run: bool) -> AdvancementParams {
    AdvancementParams {
        lifecycle_model_id: None,
        from_tiers: from_tiers.map(|t| t.iter().map(|s| (*s).to_owned()).collect()),
        signal_period: period,
        dry_run,
    }
}

pub async fn tier(store: &Arc<dyn Store>, id: &str) -> String {
    store.sprout_get(id).await.unwrap().unwrap().tier
}

/// Two rules, four sprouts: a qualifies for both rules (but advances once),
/// b for none, c (a sprout) for the second, d is in a tier no rule starts from.
pub async fn grove() -> Arc<dyn Store> {
    let store = fresh().await;
    rule(&store, "r1-seed", "seed", "sprout", &[("retrievals", 2.0)]).await;
    rule(
        &store,
        "r2-sprout",
        "sprout",
        "sapling",
        &[("retrievals", 3.0), ("citations", 1.0)],
    )
    .await;
    sprouts(
        &store,
        &[("a", "seed"), ("b", "seed"), ("c", "sprout"), ("d", "tree")],
    )
    .await;
    signals(&store, "a", "retrieval", 3, "2026-03-30T00:00:00Z").await;
    signals(&store, "a", "citation", 1, "2026-03-30T00:00:00Z").await;
    signals(&store, "b", "retrieval", 1, "2026-03-30T00:00:00Z").await;
    signals(&store, "c", "retrieval", 3, "2026-01-05T00:00:00Z").await;
    signals(&store, "c", "citation", 2, "2026-01-05T00:00:00Z").await;
    store
}

#[tokio::test]
async fn advancement_advances_one_tier_and_records_why() {
    let store = grove().await;
    let ctx = context(&store, "run-1", 2);
    let r = jobs::advancement::run(&adv(SignalPeriod::AllTime, None, false), &ctx)
        .await
        .unwrap();
    let m = &r.metadata;
    assert_eq!(m["evaluated"], 3, "{m:?}");
    assert_eq!(m["advanced"], 2);
    assert_eq!(m["batches"], 2);
    assert_eq!(m["batchSize"], 2);
    assert_eq!(m["perRule"], json!({"r1-seed": 1, "r2-sprout": 1}));
    assert_eq!(m["tiers"], json!(["seed", "sprout"]));
    assert_eq!(
        m["aggregates"], "rebuild",
        "missing aggregates are computed, logged"
    );
    assert!(logged(&ctx, "never computed"));
    // Three sprouts evaluated, after all four were aggregated on the fly.
    assert_eq!(progress(&ctx), (Some(7), 7));

    assert_eq!(tier(&store, "a").await, "sprout", "one tier per run");
    assert_eq!(tier(&store, "b").await, "seed");
    assert_eq!(tier(&store, "c").await, "sapling");
    assert_eq!(tier(&store, "d").await, "tree");
    let events = store
        .advancement_event_list(AdvancementEventFilter {
            sprout_id: Some("a".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.rule_id.as_str(), e.run_id.as_str()),
        ("r1-seed", "run-1")
    );
    assert_eq!(
        (e.from_tier.as_str(), e.to_tier.as_str(), e.dry_run),
        ("seed", "sprout", false)
    );
    assert_eq!(e.signals[0]["signal"], "retrievals");
    assert_eq!(e.signals[0]["value"], 3.0);
    let journal = store
        .journal_since(0, &["advancement".into()], 10)
        .await
        .unwrap();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].data["perRule"]["r1-seed"], 1);

    // The same run again (a retry): nothing more, although a now qualifies for r2.
    let again = jobs::advancement::run(&adv(SignalPeriod::AllTime, None, false), &ctx)
        .await
        .unwrap();
    assert_eq!(again.metadata["advanced"], 0);
    assert_eq!(again.metadata["aggregates"], "fresh");
    // A new run takes a one tier further.
    let ctx2 = context(&store, "run-2", 100);
    let next = jobs::advancement::run(&adv(SignalPeriod::AllTime, None, false), &ctx2)
        .await
        .unwrap();
    assert_eq!(next.metadata["advanced"], 1);
    assert_eq!(tier(&store, "a").await, "sapling");
}

#[tokio::test]
async fn dry_run_writes_marked_events_and_changes_no_tier() {
    let store = grove().await;
    let ctx = context(&store, "dry-1", 10);
    let r = jobs::advancement::run(&adv(SignalPeriod::AllTime, None, true), &ctx)
        .await
        .unwrap();
    assert_eq!(r.metadata["advanced"], 2);
    assert_eq!(r.metadata["dryRun"], true);
    assert_eq!(tier(&store, "a").await, "seed");
    assert_eq!(tier(&store, "c").await, "sprout");
    let events = store
        .advancement_event_list(AdvancementEventFilter {
            run_id: Some("dry-1".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.dry_run));
    // A real run afterwards still advances them.
    let ctx = context(&store, "real-1", 10);
    let r = jobs::advancement::run(&adv(SignalPeriod::AllTime, None, false), &ctx)
        .await
        .unwrap();
    assert_eq!(r.metadata["advanced"], 2);
}

#[tokio::test]
async fn from_tiers_and_period_select_what_is_evaluated() {
    let store = grove().await;
    let ctx = context(&store, "run-1", 10);
    let r = jobs::advancement::run(&adv(SignalPeriod::AllTime, Some(&["sprout"]), false), &ctx)
        .await
        .unwrap();
    assert_eq!(
        (
            r.metadata["evaluated"].clone(),
            r.metadata["advanced"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(tier(&store, "a").await, "seed");
    // c's signals are from January: not in the last 30 days.
    let store = grove().await;
    let r = jobs::advancement::run(
        &adv(SignalPeriod::Last30d, None, false),
        &context(&store, "run-1", 10),
    )
    .await
    .unwrap();
    assert_eq!(r.metadata["perRule"], json!({"r1-seed": 1, "r2-sprout": 0}));
    assert_eq!(tier(&store, "c").await, "sprout");
}

#[tokio::test]
async fn advancement_stops_between_batches_when_cancelled_and_resumes() {
    let store = fresh().await;
    rule(&store, "r1", "seed", "sprout", &[("retrievals", 1.0)]).await;
    let ids: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let pairs: Vec<(&str, &str)> = ids.iter().map(|i| (i.as_str(), "seed")).collect();
    sprouts(&store, &pairs).await;
    for id in &ids {
        signals(&store, id, "retrieval", 1, "2026-03-30T00:00:00Z").await;
    }
    let params = adv(SignalPeriod::AllTime, None, false);
    jobs::aggregation::run(
        &SignalAggregationParams {
            periods: vec![SignalPeriod::AllTime],
        },
        &context(&store, "agg", 100),
    )
    .await
    .unwrap();
    let ctx = context(&store, "run-1", 2).cancel_after_batches(2);
    let err = jobs::advancement::run(&params, &ctx).await.unwrap_err();
    let metadata = stopped(err);
    assert_eq!(metadata["evaluated"], 4);
    assert_eq!(metadata["advanced"], 4);
    assert_eq!(progress(&ctx).0, Some(10));
    assert!(logged(&ctx, "cancelled before the end"));
    // The retry of the same run finishes the work, never advancing twice.
    let ctx = context(&store, "run-1", 2);
    let r = jobs::advancement::run(&params, &ctx).await.unwrap();
    assert_eq!(r.metadata["advanced"], 6);
    assert_eq!(store.sprout_count(&["sprout".into()]).await.unwrap(), 10);
}

#[tokio::test]
async fn odd_data_never_panics() {
    // Empty tables, no rules.
    let store = fresh().await;
    let ctx = context(&store, "run", 10);
    let r = jobs::advancement::run(&adv(SignalPeriod::Last7d, None, false), &ctx)
        .await
        .unwrap();
    assert_eq!(r.metadata["evaluated"], 0);
    assert!(logged(&ctx, "no enabled advancement rule"));
    // Rules but no sprouts, and a sprout in a tier no model has.
    rule(&store, "r1", "seed", "sprout", &[("retrievals", 1.0)]).await;
    sprouts(&store, &[("odd", "oak")]).await;
    signals(&store, "odd", "retrieval", 5, "2026-03-30T00:00:00Z").await;
    let r = jobs::advancement::run(&adv(SignalPeriod::Last7d, None, false), &ctx)
        .await
        .unwrap();
    assert_eq!(r.metadata["evaluated"], 0);
    assert_eq!(tier(&store, "odd").await, "oak");
    // A stored rule that no longer decodes is skipped, not fatal.
    store
        .object_insert(ObjectInsert {
            object_type: "advancement-rule".into(),
            id: "broken".into(),
            title: "broken".into(),
            description: None,
            tags: vec![],
            payload: json!({"fromTier": "seed"}),
            actor: None,
            now: now(),
        })
        .await
        .unwrap();
    let ctx = context(&store, "run2", 10);
    jobs::advancement::run(&adv(SignalPeriod::AllTime, None, false), &ctx)
        .await
        .unwrap();
    assert!(logged(&ctx, "rule \"broken\" is skipped"));
    // Unknown lifecycle model: the run fails with a reason.
    let mut p = adv(SignalPeriod::AllTime, None, false);
    p.lifecycle_model_id = Some("nope".into());
    let err = jobs::advancement::run(&p, &ctx).await.unwrap_err();
    assert!(matches!(err, JobFailure::Failed { .. }), "{err}");
}

#[tokio::test]
async fn aggregation_rebuilds_then_increments() {
    let store = grove().await;
    let params = SignalAggregationParams {
        periods: vec![
            SignalPeriod::AllTime,
            SignalPeriod::Last7d,
            SignalPeriod::Last30d,
        ],
    };
    let ctx = context(&store, "agg-1", 3);
    let r = jobs::aggregation::run(&params, &ctx).await.unwrap();
    let m = &r.metadata;
    assert_eq!(m["periods"]["all_time"]["mode"], "rebuild", "{m:?}");
    assert_eq!(m["periods"]["all_time"]["signals"], 10);
    assert_eq!(m["periods"]["all_time"]["batches"], 2);
    assert_eq!(m["periods"]["last_7d"]["signals"], 5);
    assert_eq!(m["periods"]["last_30d"]["signals"], 5);
    assert_eq!(progress(&ctx), (Some(12), 12));
    let aggs = store.aggregate_get("c").await.unwrap();
    assert_eq!(
        aggs.iter()
            .filter(|a| a.period == SignalPeriod::AllTime)
            .count(),
        2
    );
    assert!(
        aggs.iter().all(|a| a.period == SignalPeriod::AllTime),
        "c is quiet lately"
    );

    signals(&store, "b", "retrieval", 4, "2026-03-30T06:00:00Z").await;
    let ctx = context(&store, "agg-2", 3);
    let r = jobs::aggregation::run(&params, &ctx).await.unwrap();
    assert_eq!(r.metadata["periods"]["all_time"]["mode"], "incremental");
    assert_eq!(r.metadata["periods"]["all_time"]["signals"], 4);
    assert_eq!(
        progress(&ctx).0,
        Some(8),
        "only the windowed periods are rebuilt"
    );
    let b = store.aggregate_get("b").await.unwrap();
    let all = b
        .iter()
        .find(|a| a.period == SignalPeriod::AllTime && a.kind == "retrieval")
        .unwrap();
    assert_eq!((all.count, all.run_id.as_str()), (5, "agg-2"));
}

#[tokio::test]
async fn aggregation_cancelled_mid_rebuild_is_not_trusted() {
    let store = grove().await;
    let ctx = context(&store, "agg", 1).cancel_after_batches(2);
    let err = jobs::aggregation::run(
        &SignalAggregationParams {
            periods: vec![SignalPeriod::Last7d],
        },
        &ctx,
    )
    .await
    .unwrap_err();
    assert_eq!(stopped(err)["periods"]["last_7d"]["complete"], false);
    assert_eq!(
        store.aggregate_status(SignalPeriod::Last7d).await.unwrap(),
        None
    );
    // Advancement notices and computes them itself.
    let ctx = context(&store, "adv", 10);
    jobs::advancement::run(&adv(SignalPeriod::Last7d, None, true), &ctx)
        .await
        .unwrap();
    assert!(logged(&ctx, "never computed"));
    let err = jobs::aggregation::run(&SignalAggregationParams { periods: vec![] }, &ctx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no periods"));
}

#[derive(Debug, Default)]
struct FlakySender {
    calls: AtomicU32,
    fail_first: u32,
}

#[async_trait]
impl WebhookSender for FlakySender {
    async fn post_json(
        &self,
        _url: &str,
        _body: &Value,
        _run: &RunHeaders,
        _t: Duration,
    ) -> Result<u16, String> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if n < self.fail_first {
            Err("connection refused".into())
        } else {
            Ok(204)
        }
    }
}

fn quick() -> WebhookPolicy {
    WebhookPolicy {
        attempts: 3,
        timeout: Duration::from_secs(1),
        backoff: Duration::from_millis(1),
    }
}

fn digest_params(channels: Vec<Channel>) -> NotificationDigestParams {
    NotificationDigestParams {
        event_types: vec![EventType::JobFailed, EventType::Advancement],
        recipient_ids: vec!["ops".into(), "lead".into()],
        channels,
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
    }
}

async fn journal(store: &Arc<dyn Store>, t: &str) {
    store
        .journal_append(JournalAppend {
            event_type: t.into(),
            at: now(),
            subject: "cfg".into(),
            message: format!("{t}!"),
            data: Value::Null,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn digest_collects_since_last_and_fills_the_outbox() {
    let store = fresh().await;
    journal(&store, "job.failed").await;
    journal(&store, "config.changed").await;
    journal(&store, "advancement").await;
    let sender = FlakySender::default();
    let ctx = digest_context(&store, "d1", "cfg-digest");
    let p = digest_params(vec![Channel::Log, Channel::Outbox]);
    let r = jobs::digest::run(&p, &ctx, &sender, quick()).await.unwrap();
    assert_eq!(r.metadata["events"], 2);
    assert_eq!(r.metadata["digests"], 2);
    assert_eq!((r.processed, r.failed), (4, 0));
    assert!(logged(&ctx, "digest for ops"));
    let ops = store.notification_list(Some("ops"), 10).await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].body["total"], 2);
    assert_eq!(ops[0].run_id.as_deref(), Some("d1"));

    // Nothing new: no digest.
    let ctx = digest_context(&store, "d2", "cfg-digest");
    let r = jobs::digest::run(&p, &ctx, &sender, quick()).await.unwrap();
    assert_eq!(r.metadata["digests"], 0);
    journal(&store, "job.failed").await;
    let ctx = digest_context(&store, "d3", "cfg-digest");
    let r = jobs::digest::run(&p, &ctx, &sender, quick()).await.unwrap();
    assert_eq!(r.metadata["events"], 1);
    assert_eq!(
        store
            .notification_list(Some("ops"), 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn failed_webhook_makes_the_run_partial_and_retries_help() {
    let store = fresh().await;
    journal(&store, "job.failed").await;
    let p = digest_params(vec![Channel::Webhook]);
    let dead = FlakySender {
        fail_first: 100,
        ..Default::default()
    };
    let ctx = digest_context(&store, "w1", "cfg");
    let r = jobs::digest::run(&p, &ctx, &dead, quick()).await.unwrap();
    assert_eq!((r.processed, r.failed), (2, 2));
    assert!(
        r.partial_reason
            .unwrap()
            .contains("after 3 attempt(s): connection refused")
    );
    assert_eq!(dead.calls.load(Ordering::Relaxed), 6);
    assert!(ctx.log.lines().iter().any(|l| l.level == LogLevel::Error));

    journal(&store, "job.failed").await;
    let flaky = FlakySender {
        fail_first: 1,
        ..Default::default()
    };
    let r = jobs::digest::run(&p, &digest_context(&store, "w2", "cfg"), &flaky, quick())
        .await
        .unwrap();
    assert_eq!(r.failed, 0);
    assert_eq!(r.partial_reason, None);

    let mut no_url = p.clone();
    no_url.webhook_url = None;
    let err = jobs::digest::run(
        &no_url,
        &digest_context(&store, "w3", "cfg"),
        &flaky,
        quick(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("webhookUrl"));
}

#[tokio::test]
async fn http_webhook_posts_json() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&got).contains("\"hello\"") {
                break;
            }
        }
        sock.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8(got).unwrap()
    });
    let status = HttpWebhook::new(crate::support::local_outbound())
        .post_json(
            &format!("http://{addr}/hook"),
            &json!({"hello": 1}),
            &RunHeaders {
                run_id: "run-7".to_owned(),
                scheduled_for: Some("2026-03-01T02:00:00Z".parse().unwrap()),
                attempt: 2,
            },
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(status, 202);
    let request = server.await.unwrap();
    assert!(request.starts_with("POST /hook HTTP/1.1"));
    assert!(request.contains("Content-Type: application/json"));
    // The slot key, so the receiver can make the effect idempotent.
    assert!(request.contains("Grove-Run-Id: run-7\r\n"), "{request}");
    assert!(
        request.contains("Grove-Scheduled-For: 2026-03-01T02:00:00Z\r\n"),
        "{request}"
    );
    assert!(request.contains("Grove-Attempt: 2\r\n"), "{request}");
    let err = HttpWebhook::default()
        .post_json(
            "https://example.invalid/",
            &json!({}),
            &RunHeaders::default(),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    // https is spoken (TLS, the system's roots); this host does not exist.
    assert!(
        err.contains("cannot resolve") || err.contains("cannot connect"),
        "{err}"
    );
}

#[tokio::test]
async fn cleanup_archives_orphans_and_dry_run_only_counts() {
    let store = grove().await;
    // "old" is idle since 2025 and has a signal from then.
    store
        .sprout_upsert_batch(
            vec![SproutUpsert {
                id: "old".into(),
                title: "old".into(),
                tier: "seed".into(),
                parent_id: None,
                created_at: at("2025-01-01T00:00:00Z"),
            }],
            at("2025-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    signals(&store, "old", "view", 3, "2025-01-02T00:00:00Z").await;
    let params = |dry_run| CleanupParams {
        entity_types: vec![
            CleanupEntity::Signals,
            CleanupEntity::Sprouts,
            CleanupEntity::Executions,
        ],
        orphan_threshold_days: 30,
        dry_run,
    };
    let ctx = context(&store, "c-dry", 2);
    let r = jobs::cleanup::run(&params(true), &ctx).await.unwrap();
    let e = &r.metadata["entities"];
    assert_eq!(e["sprouts"]["found"], 1, "{e}");
    assert_eq!(e["sprouts"]["samples"], json!(["old"]));
    assert_eq!(e["sprouts"]["archived"], 0);
    assert_eq!(e["executions"]["found"], 0, "no config was deleted: {e}");
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 5);

    let ctx = context(&store, "c-1", 2);
    let r = jobs::cleanup::run(&params(false), &ctx).await.unwrap();
    let e = &r.metadata["entities"];
    assert_eq!(e["sprouts"]["archived"], 1, "{e}");
    assert_eq!(
        e["signals"]["archived"], 3,
        "signals of the archived sprout follow it"
    );
    assert_eq!(r.metadata["batches"], 3);
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 4);
    assert!(store.sprout_get("old").await.unwrap().unwrap().archived);
    let rows = store
        .archive_list(ArchiveEntity::Signals, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].run_id.as_deref(), Some("c-1"));
    // Restorable.
    assert_eq!(
        store
            .archive_restore(ArchiveEntity::Sprouts, &["old".to_owned()])
            .await
            .unwrap(),
        1
    );
    // Cancelled before the first batch: nothing moves.
    let ctx = context(&store, "c-2", 1);
    ctx.cancel.cancel();
    let err = jobs::cleanup::run(&params(false), &ctx).await.unwrap_err();
    assert_eq!(stopped(err)["entities"]["sprouts"]["archived"], 0);
    assert_eq!(store.sprout_count(&[]).await.unwrap(), 5);
}
