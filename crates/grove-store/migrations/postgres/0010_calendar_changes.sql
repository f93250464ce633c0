-- Calendars are announced like job configs: `calendar:<id>` when one is
-- created, saved or deleted, so every instance re-plans the jobs that
-- exclude it at once.
CREATE OR REPLACE FUNCTION grove_notify_config() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_type TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.object_type ELSE NEW.object_type END;
    row_id TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN
        RETURN NULL;
    END IF;
    IF row_type = 'job-config' THEN
        PERFORM pg_notify('grove_' || current_schema(), 'config:' || row_id);
    ELSIF row_type = 'calendar' THEN
        PERFORM pg_notify('grove_' || current_schema(), 'calendar:' || row_id);
    END IF;
    RETURN NULL;
END;
$$;
