-- Calendars reach the change feed like job configs (topic `calendar`), so
-- every process re-plans the jobs that exclude one at once.
CREATE TRIGGER changes_calendar_created AFTER INSERT ON objects
WHEN NEW.object_type = 'calendar'
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'calendar', NEW.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_calendar_updated AFTER UPDATE OF version ON objects
WHEN NEW.object_type = 'calendar' AND NEW.version <> OLD.version
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'calendar', NEW.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER changes_calendar_deleted AFTER DELETE ON objects
WHEN OLD.object_type = 'calendar'
BEGIN
    INSERT INTO changes (seq, topic, subject)
    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), 'calendar', OLD.id)
    ON CONFLICT (topic, subject) DO UPDATE SET seq = excluded.seq;
END;
