-- Runs queued by another process need no rows in `changes` (and executions
-- no trigger, which cost every run's insert and every status change a
-- second write): the change feed learns of any other process's commit from
-- `PRAGMA data_version` on its own writer connection and lets the executor
-- look for due work. Config and cancel changes keep their rows (migration 6).
DROP TRIGGER IF EXISTS changes_runs_queued;
DROP TRIGGER IF EXISTS changes_runs_moved;
DELETE FROM changes WHERE topic = 'runs';
