-- Executions of job configs. A scheduled slot is unique on
-- (config_id, scheduled_for); manual runs and retries have no slot (NULLs
-- are distinct, so they never collide).
CREATE TABLE executions (
    id               TEXT PRIMARY KEY,
    config_id        TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT,
    late             INTEGER NOT NULL DEFAULT 0,
    scheduled_for    INTEGER,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    completed_at     INTEGER,
    available_at     INTEGER NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    max_concurrent   INTEGER NOT NULL,
    config_version   INTEGER NOT NULL,
    payload          TEXT NOT NULL,
    retry            TEXT NOT NULL,
    items_processed  INTEGER NOT NULL DEFAULT 0,
    items_total      INTEGER,
    items_succeeded  INTEGER NOT NULL DEFAULT 0,
    items_failed     INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}',
    retry_of         TEXT,
    actor            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    UNIQUE (config_id, scheduled_for)
);
CREATE INDEX executions_by_config ON executions (config_id, created_at DESC, id DESC);
CREATE INDEX executions_queue ON executions (status, available_at);

CREATE TABLE execution_attempts (
    execution_id     TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT,
    error            TEXT,
    started_at       INTEGER NOT NULL,
    completed_at     INTEGER,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    PRIMARY KEY (execution_id, attempt)
);
CREATE INDEX execution_attempts_running ON execution_attempts (status, lease_expires_at);

CREATE TABLE execution_logs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    level        TEXT NOT NULL,
    message      TEXT NOT NULL
);
CREATE INDEX execution_logs_by_execution ON execution_logs (execution_id, seq);

-- The latest slot the scheduler handled per config, so slots missed while
-- the service was down can be found at start-up.
CREATE TABLE slot_positions (
    config_id          TEXT PRIMARY KEY,
    last_scheduled_for INTEGER NOT NULL
);
