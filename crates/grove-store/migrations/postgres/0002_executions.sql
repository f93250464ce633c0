-- Executions of job configs (see the SQLite migration of the same number).
-- A scheduled slot is unique on (config_id, scheduled_for): with several
-- instances, the constraint is what makes a slot run at most once.
CREATE TABLE executions (
    id               TEXT PRIMARY KEY,
    config_id        TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT,
    late             BOOLEAN NOT NULL DEFAULT FALSE,
    scheduled_for    BIGINT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    completed_at     BIGINT,
    available_at     BIGINT NOT NULL,
    attempt_count    BIGINT NOT NULL DEFAULT 0,
    max_concurrent   BIGINT NOT NULL,
    config_version   BIGINT NOT NULL,
    payload          JSONB NOT NULL,
    retry            JSONB NOT NULL,
    items_processed  BIGINT NOT NULL DEFAULT 0,
    items_total      BIGINT,
    items_succeeded  BIGINT NOT NULL DEFAULT 0,
    items_failed     BIGINT NOT NULL DEFAULT 0,
    error            TEXT,
    metadata         JSONB NOT NULL DEFAULT '{}',
    retry_of         TEXT,
    actor            TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (config_id, scheduled_for)
);
CREATE INDEX executions_by_config ON executions (config_id, created_at DESC, id DESC);
-- Claims and "next due" read only queued rows.
CREATE INDEX executions_queue ON executions (available_at, created_at, id) WHERE status = 'queued';
CREATE INDEX executions_running ON executions (config_id) WHERE status = 'running';

CREATE TABLE execution_attempts (
    execution_id     TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    attempt          BIGINT NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT,
    error            TEXT,
    started_at       BIGINT NOT NULL,
    completed_at     BIGINT,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    PRIMARY KEY (execution_id, attempt)
);
CREATE INDEX execution_attempts_running ON execution_attempts (lease_expires_at) WHERE status = 'running';

CREATE TABLE execution_logs (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    level        TEXT NOT NULL,
    message      TEXT NOT NULL
);
CREATE INDEX execution_logs_by_execution ON execution_logs (execution_id, seq);

-- The latest slot any instance handled per config, so slots missed while
-- every instance was down can be found at start-up.
CREATE TABLE slot_positions (
    config_id          TEXT PRIMARY KEY,
    last_scheduled_for BIGINT NOT NULL
);
