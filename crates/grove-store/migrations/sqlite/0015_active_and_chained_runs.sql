-- The runs of a config that are queued or running: what an overlap check,
-- a claim's maxConcurrent and a start at insert count. A partial index
-- holds only those few rows, so a count no longer reads every retained
-- execution of its configs (200 each by default). Queries name the index's
-- condition as written here, `status IN ('queued', 'running')`: SQLite
-- uses a partial index only for a query whose WHERE repeats its terms.
CREATE INDEX executions_active ON executions (config_id, status)
    WHERE status IN ('queued', 'running');

-- A chained run is unique per (config_id, parent_run_id) (migration 11);
-- every other run has no parent, and its NULL key never collides. The
-- unique index now holds chained runs only, so inserting any other run no
-- longer writes it.
DROP INDEX executions_chain;
CREATE UNIQUE INDEX executions_chain ON executions (config_id, parent_run_id)
    WHERE parent_run_id IS NOT NULL;

-- The queue of runs waiting for a claim, indexed as PostgreSQL has indexed
-- it since migration 2: queued rows only, in claim order. The index it
-- replaces held every execution by status, so every change of a run's
-- status wrote it, and every finished run stayed in it.
DROP INDEX executions_queue;
CREATE INDEX executions_queue ON executions (available_at, created_at, id)
    WHERE status = 'queued';
