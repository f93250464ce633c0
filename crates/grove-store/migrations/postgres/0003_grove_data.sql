-- Grove data: what the job handlers work on. Mirrors
-- migrations/sqlite/0003_grove_data.sql; ids sort byte by byte (COLLATE "C")
-- because advancement and aggregation page through sprouts by id.

CREATE TABLE sprouts (
    id         TEXT COLLATE "C" PRIMARY KEY,
    title      TEXT NOT NULL,
    tier       TEXT NOT NULL,
    parent_id  TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sprouts_by_tier ON sprouts (tier, id);

-- `seq` orders signals for incremental aggregation. Identity values are not
-- committed in order, so readers of the highest seq first wait for
-- in-flight inserts (LOCK TABLE signals IN SHARE MODE; see the adapter).
CREATE TABLE signals (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT COLLATE "C" NOT NULL UNIQUE,
    sprout_id   TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    value       DOUBLE PRECISION,
    received_at BIGINT NOT NULL
);
CREATE INDEX signals_by_sprout ON signals (sprout_id, kind, at) INCLUDE (seq);

CREATE TABLE signal_aggregates (
    period      TEXT NOT NULL,
    sprout_id   TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    count       BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    run_id      TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (period, sprout_id, kind)
);

CREATE TABLE aggregate_state (
    period       TEXT PRIMARY KEY,
    watermark    BIGINT NOT NULL,
    window_start BIGINT,
    run_id       TEXT NOT NULL,
    computed_at  BIGINT NOT NULL
);

CREATE TABLE advancement_events (
    id        TEXT COLLATE "C" PRIMARY KEY,
    sprout_id TEXT COLLATE "C" NOT NULL,
    from_tier TEXT NOT NULL,
    to_tier   TEXT NOT NULL,
    rule_id   TEXT COLLATE "C" NOT NULL,
    run_id    TEXT COLLATE "C" NOT NULL,
    signals   JSONB NOT NULL,
    at        BIGINT NOT NULL,
    dry_run   BOOLEAN NOT NULL
);
CREATE INDEX advancement_events_by_sprout ON advancement_events (sprout_id, at);
CREATE INDEX advancement_events_by_run ON advancement_events (run_id, sprout_id);
CREATE INDEX advancement_events_by_rule ON advancement_events (rule_id, at);
CREATE UNIQUE INDEX advancement_events_once
    ON advancement_events (sprout_id, rule_id, from_tier) WHERE NOT dry_run;

-- Same ordering caveat as signals.seq: readers lock out in-flight appends.
CREATE TABLE journal (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type TEXT NOT NULL,
    at         BIGINT NOT NULL,
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    data       JSONB NOT NULL DEFAULT 'null'
);
CREATE INDEX journal_by_type ON journal (event_type, seq);

CREATE TABLE digest_cursors (
    key        TEXT PRIMARY KEY,
    last_seq   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE notifications (
    id           TEXT COLLATE "C" PRIMARY KEY,
    recipient_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         JSONB NOT NULL,
    run_id       TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, created_at);

CREATE TABLE archive (
    entity      TEXT NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    data        JSONB NOT NULL,
    reason      TEXT NOT NULL,
    run_id      TEXT,
    archived_at BIGINT NOT NULL,
    PRIMARY KEY (entity, id)
);
