-- When a scheduled run is due: its slot (scheduled_for) plus the config's
-- jitter offset. Null for runs nobody scheduled (Run Now, retries) and for
-- executions recorded before jitter existed (due at their slot).
ALTER TABLE executions ADD COLUMN due_at BIGINT;
