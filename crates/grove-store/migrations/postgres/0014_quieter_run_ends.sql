-- A run ending announces `runs` only when another run of its config is
-- queued: one held back by maxConcurrent may start now. Before, every
-- run's end woke every instance to claim, and almost every such claim
-- found nothing. (Runs queued or re-queued are announced as before.)
CREATE INDEX executions_queued_by_config ON executions (config_id) WHERE status = 'queued';

CREATE OR REPLACE FUNCTION grove_notify_execution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'queued' THEN
            PERFORM pg_notify('grove_' || current_schema(), 'runs');
        END IF;
    ELSIF NEW.status <> OLD.status AND NEW.status = 'queued' THEN
        PERFORM pg_notify('grove_' || current_schema(), 'runs');
    ELSIF NEW.status <> OLD.status AND OLD.status = 'running'
          AND EXISTS (SELECT 1 FROM executions
                      WHERE config_id = NEW.config_id AND status = 'queued') THEN
        PERFORM pg_notify('grove_' || current_schema(), 'runs');
    ELSIF NEW.cancel_requested AND NOT OLD.cancel_requested AND NEW.status = 'running' THEN
        PERFORM pg_notify('grove_' || current_schema(), 'cancel:' || NEW.id);
    END IF;
    RETURN NULL;
END;
$$;
