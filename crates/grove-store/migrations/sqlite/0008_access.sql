-- Who can see and do what: tokens are revoked (kept, for the audit trail's
-- sake) rather than deleted and remember when they were last used; console
-- sessions are opaque ids of their own, stored hashed; the audit trail
-- records every mutation and sign-in. Nothing here references executions
-- or objects, so retention and orphan-cleanup never touch it.
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER;

CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    token_id     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_token ON console_sessions (token_id);

CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    actor          TEXT,
    token_id       TEXT,
    client_addr    TEXT,
    action         TEXT NOT NULL,
    object_type    TEXT,
    object_id      TEXT,
    version_before INTEGER,
    version_after  INTEGER
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_object ON audit_log (object_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
