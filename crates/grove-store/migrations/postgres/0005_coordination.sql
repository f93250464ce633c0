-- Coordination of several instances on one database.
--
-- Change notifications: triggers NOTIFY the channel `grove_<schema>`
-- (delivered at commit, so a listener never hears of an uncommitted change;
-- one channel per schema, so deployments sharing a database stay apart).
-- Payloads: `config:<id>` (a job config created, saved or deleted),
-- `runs` (an execution became claimable: queued, re-queued, or one ended
-- and freed room under maxConcurrent), `cancel:<run id>` (cancel requested
-- for a running execution).
CREATE FUNCTION grove_notify_config() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_type TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.object_type ELSE NEW.object_type END;
    row_id TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
    IF row_type = 'job-config'
       AND (TG_OP <> 'UPDATE' OR NEW.version <> OLD.version) THEN
        PERFORM pg_notify('grove_' || current_schema(), 'config:' || row_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER grove_notify_config AFTER INSERT OR UPDATE OR DELETE ON objects
FOR EACH ROW EXECUTE FUNCTION grove_notify_config();

CREATE FUNCTION grove_notify_execution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'queued' THEN
            PERFORM pg_notify('grove_' || current_schema(), 'runs');
        END IF;
    ELSIF NEW.status <> OLD.status
          AND (NEW.status = 'queued' OR OLD.status = 'running') THEN
        PERFORM pg_notify('grove_' || current_schema(), 'runs');
    ELSIF NEW.cancel_requested AND NOT OLD.cancel_requested AND NEW.status = 'running' THEN
        PERFORM pg_notify('grove_' || current_schema(), 'cancel:' || NEW.id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER grove_notify_execution AFTER INSERT OR UPDATE ON executions
FOR EACH ROW EXECUTE FUNCTION grove_notify_execution();

-- Leader leases: one row per role ("maintenance"); `term` grows each time
-- the lease changes hands, so a deposed leader can tell.
CREATE TABLE leader_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    term       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
