-- config.changed events for notification digests, written by the database
-- itself in the transaction that changes a job config: every path that
-- saves one (API, console, CLI apply, restore, the engine's auto-disable)
-- is covered, and a change is never journaled without being made.
-- Engine state (lastExecution) lives in `state` and does not bump the
-- version, so it is not a config change.
CREATE TRIGGER journal_job_config_created AFTER INSERT ON objects
WHEN NEW.object_type = 'job-config'
BEGIN
    INSERT INTO journal (event_type, at, subject, message, data) VALUES (
        'config.changed', NEW.updated_at, NEW.id,
        'job config "' || NEW.id || '" created by ' || COALESCE(NEW.updated_by, 'an unknown actor')
            || ' (version ' || NEW.version || ')',
        json_object('change', 'created', 'version', NEW.version, 'actor', NEW.updated_by));
END;

CREATE TRIGGER journal_job_config_updated AFTER UPDATE OF version ON objects
WHEN NEW.object_type = 'job-config' AND NEW.version <> OLD.version
BEGIN
    INSERT INTO journal (event_type, at, subject, message, data) VALUES (
        'config.changed', NEW.updated_at, NEW.id,
        'job config "' || NEW.id || '" updated by ' || COALESCE(NEW.updated_by, 'an unknown actor')
            || ' (version ' || OLD.version || ' → ' || NEW.version || ')',
        json_object('change', 'updated', 'version', NEW.version, 'previousVersion', OLD.version,
                    'actor', NEW.updated_by));
END;

CREATE TRIGGER journal_job_config_deleted AFTER DELETE ON objects
WHEN OLD.object_type = 'job-config'
BEGIN
    INSERT INTO journal (event_type, at, subject, message, data) VALUES (
        'config.changed', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), OLD.id,
        'job config "' || OLD.id || '" deleted (it was at version ' || OLD.version || ')',
        json_object('change', 'deleted', 'version', OLD.version));
END;
