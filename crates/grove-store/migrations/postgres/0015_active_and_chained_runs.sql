-- The runs of a config that are queued or running: what an overlap check,
-- a claim's maxConcurrent and a start at insert count. A partial index
-- holds only those few rows, so a count no longer reads every retained
-- execution of its configs (200 each by default).
CREATE INDEX executions_active ON executions (config_id, status)
    WHERE status IN ('queued', 'running');

-- A chained run is unique per (config_id, parent_run_id) (migration 11);
-- every other run has no parent, and its NULL key never collides. The
-- unique index now holds chained runs only, so inserting any other run no
-- longer writes it.
DROP INDEX executions_chain;
CREATE UNIQUE INDEX executions_chain ON executions (config_id, parent_run_id)
    WHERE parent_run_id IS NOT NULL;

-- The index of active runs serves what these two did: the count of a
-- config's running runs (a claim's maxConcurrent) and the look for a
-- queued run of a config (a run's end announced, migration 14). One index
-- to write on a change of status instead of two.
DROP INDEX executions_running;
DROP INDEX executions_queued_by_config;
