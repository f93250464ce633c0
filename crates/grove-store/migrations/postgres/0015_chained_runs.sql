-- (SQLite's migration 15 also indexes the active runs by config and the
-- queue apart from the history: PostgreSQL has had partial indexes for
-- both since migrations 2 and 14.)

-- A chained run is unique per (config_id, parent_run_id) (migration 11);
-- every other run has no parent, and its NULL key never collides. The
-- unique index now holds chained runs only, so inserting any other run no
-- longer writes it.
DROP INDEX executions_chain;
CREATE UNIQUE INDEX executions_chain ON executions (config_id, parent_run_id)
    WHERE parent_run_id IS NOT NULL;
