-- The runs of a config that are queued or running: what an overlap check,
-- a claim's maxConcurrent and a start at insert count. A partial index
-- holds only those few rows, so a count no longer reads every retained
-- execution of its configs (200 each by default).
CREATE INDEX executions_active ON executions (config_id, status)
    WHERE status IN ('queued', 'running');
