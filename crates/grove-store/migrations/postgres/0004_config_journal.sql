-- config.changed events for notification digests, written by the database
-- itself in the transaction that changes a job config (see the SQLite
-- migration of the same number). Engine state lives in `state` and does
-- not bump the version, so it is not a config change.
CREATE FUNCTION journal_job_config_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.object_type <> 'job-config' THEN
            RETURN OLD;
        END IF;
    ELSIF NEW.object_type <> 'job-config' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO journal (event_type, at, subject, message, data) VALUES (
            'config.changed', NEW.updated_at, NEW.id,
            format('job config "%s" created by %s (version %s)',
                   NEW.id, COALESCE(NEW.updated_by, 'an unknown actor'), NEW.version),
            jsonb_build_object('change', 'created', 'version', NEW.version, 'actor', NEW.updated_by));
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.version <> OLD.version THEN
            INSERT INTO journal (event_type, at, subject, message, data) VALUES (
                'config.changed', NEW.updated_at, NEW.id,
                format('job config "%s" updated by %s (version %s → %s)',
                       NEW.id, COALESCE(NEW.updated_by, 'an unknown actor'), OLD.version, NEW.version),
                jsonb_build_object('change', 'updated', 'version', NEW.version,
                                   'previousVersion', OLD.version, 'actor', NEW.updated_by));
        END IF;
        RETURN NEW;
    ELSE
        INSERT INTO journal (event_type, at, subject, message, data) VALUES (
            'config.changed', (extract(epoch FROM clock_timestamp()) * 1000)::bigint, OLD.id,
            format('job config "%s" deleted (it was at version %s)', OLD.id, OLD.version),
            jsonb_build_object('change', 'deleted', 'version', OLD.version));
        RETURN OLD;
    END IF;
END;
$$;

CREATE TRIGGER journal_job_config_change
AFTER INSERT OR UPDATE OR DELETE ON objects
FOR EACH ROW EXECUTE FUNCTION journal_job_config_change();
