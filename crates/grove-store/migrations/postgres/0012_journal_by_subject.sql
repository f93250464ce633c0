-- GET /api/v1/journal?subject=: a job config's journal entries, newest
-- first (the dead-man's switch's job.late and job.silent among them).
CREATE INDEX journal_by_subject ON journal (subject, seq);
