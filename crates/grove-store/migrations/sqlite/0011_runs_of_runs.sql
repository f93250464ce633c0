-- Runs made from other runs and requests: per-run overrides (Run Now and
-- backfill `parameters`/`limits`, kept so Retry reuses them), and chained
-- runs. A chained run is not a slot of its own config: it carries its
-- parent's slot in parent_scheduled_for, outside the slot key
-- (config_id, scheduled_for), and is unique per (config_id, parent_run_id)
-- so each target runs once per parent across retries, restarts and
-- instances (NULLs are distinct: other runs never collide).
ALTER TABLE executions ADD COLUMN overrides TEXT;
ALTER TABLE executions ADD COLUMN parent_run_id TEXT;
ALTER TABLE executions ADD COLUMN parent_scheduled_for INTEGER;
CREATE UNIQUE INDEX executions_chain ON executions (config_id, parent_run_id);
