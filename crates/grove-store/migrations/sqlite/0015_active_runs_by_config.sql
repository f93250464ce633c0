-- The runs of a config that are queued or running: what an overlap check,
-- a claim's maxConcurrent and a start at insert count. A partial index
-- holds only those few rows, so a count no longer reads every retained
-- execution of its configs (200 each by default). Queries name the index's
-- condition as written here, `status IN ('queued', 'running')`: SQLite
-- uses a partial index only for a query whose WHERE repeats its terms.
CREATE INDEX executions_active ON executions (config_id, status)
    WHERE status IN ('queued', 'running');
