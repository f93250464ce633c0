-- Grove data: what the job handlers work on.

-- Knowledge items. Archived sprouts move to `archive` (see below), so every
-- row here is live.
CREATE TABLE sprouts (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    tier       TEXT NOT NULL,
    parent_id  TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX sprouts_by_tier ON sprouts (tier, id);

-- Observed events about a sprout. `seq` is the insertion order, which lets
-- the all_time aggregate be updated incrementally; `id` is the client's id,
-- so a retried upload is counted once.
CREATE TABLE signals (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    sprout_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    value       REAL,
    received_at INTEGER NOT NULL
);
-- Covers the aggregation scan (per sprout, per kind, by time).
CREATE INDEX signals_by_sprout ON signals (sprout_id, kind, at);

-- Per period, sprout and kind: count and last-seen, with the run that wrote them.
CREATE TABLE signal_aggregates (
    period      TEXT NOT NULL,
    sprout_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    count       INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    run_id      TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (period, sprout_id, kind)
) WITHOUT ROWID;

-- How far each period's aggregates are complete: every signal with
-- seq <= watermark is counted (windowed periods as of `computed_at`). No row
-- means the period was never fully computed (or a rebuild is under way).
CREATE TABLE aggregate_state (
    period       TEXT PRIMARY KEY,
    watermark    INTEGER NOT NULL,
    window_start INTEGER,
    run_id       TEXT NOT NULL,
    computed_at  INTEGER NOT NULL
);

-- Why sprout X advanced on date Y: one row per advancement (or dry-run finding).
CREATE TABLE advancement_events (
    id        TEXT PRIMARY KEY,
    sprout_id TEXT NOT NULL,
    from_tier TEXT NOT NULL,
    to_tier   TEXT NOT NULL,
    rule_id   TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    signals   TEXT NOT NULL,
    at        INTEGER NOT NULL,
    dry_run   INTEGER NOT NULL
);
CREATE INDEX advancement_events_by_sprout ON advancement_events (sprout_id, at);
CREATE INDEX advancement_events_by_run ON advancement_events (run_id, sprout_id);
CREATE INDEX advancement_events_by_rule ON advancement_events (rule_id, at);
-- A sprout never advances twice by the same rule from the same tier.
CREATE UNIQUE INDEX advancement_events_once
    ON advancement_events (sprout_id, rule_id, from_tier) WHERE dry_run = 0;

-- What happened, for digests: job outcomes, advancements, config changes, alerts.
CREATE TABLE journal (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    at         INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX journal_by_type ON journal (event_type, seq);

-- Where each digest (keyed by its job config) left off in the journal.
CREATE TABLE digest_cursors (
    key        TEXT PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The notifications outbox, readable over the API.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    run_id       TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, created_at);

-- Archived rows, kept as JSON so they can be restored; nothing is hard-deleted.
CREATE TABLE archive (
    entity      TEXT NOT NULL,
    id          TEXT NOT NULL,
    data        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    run_id      TEXT,
    archived_at INTEGER NOT NULL,
    PRIMARY KEY (entity, id)
);
