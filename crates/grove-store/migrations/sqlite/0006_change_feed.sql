-- The change feed of an embedded database: what PostgreSQL announces with
-- NOTIFY (migration 5 there), SQLite records here, written by triggers in
-- the transaction that makes the change, so no write path can forget one.
-- Each process reads the rows with `seq` above the last it saw whenever a
-- commit rings its doorbell (its own commits, or the database file changing
-- under another process's).
--
-- One row per (topic, subject), moved to a new `seq` each time it changes,
-- so the table stays as small as the set of things that ever changed:
-- `config` + job config id, `runs` (an execution became claimable: queued,
-- re-queued, or one ended and freed room under maxConcurrent), `cancel` +
-- run id (cancel requested for a running execution; pruned by retention once
-- the run ended). SQLite has one writer, so `seq` order is commit order.
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY,
    topic   TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    UNIQUE (topic, subject)
);

CREATE TRIGGER changes_config_created AFTER INSERT ON objects
WHEN NEW.object_type = 'job-config'
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'config', NEW.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_config_updated AFTER UPDATE OF version ON objects
WHEN NEW.object_type = 'job-config' AND NEW.version <> OLD.version
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'config', NEW.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_config_deleted AFTER DELETE ON objects
WHEN OLD.object_type = 'job-config'
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'config', OLD.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_runs_queued AFTER INSERT ON executions
WHEN NEW.status = 'queued'
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'runs', '')
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_runs_moved AFTER UPDATE OF status ON executions
WHEN NEW.status <> OLD.status AND (NEW.status = 'queued' OR OLD.status = 'running')
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'runs', '')
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_cancel_requested AFTER UPDATE OF cancel_requested ON executions
WHEN NEW.cancel_requested AND NOT OLD.cancel_requested AND NEW.status = 'running'
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'cancel', NEW.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;
