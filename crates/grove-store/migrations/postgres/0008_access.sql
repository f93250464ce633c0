-- Who can see and do what: tokens are revoked (kept, for the audit trail's
-- sake) rather than deleted and remember when they were last used; console
-- sessions are opaque ids of their own, stored hashed; the audit trail
-- records every mutation and sign-in. Nothing here references executions
-- or objects, so retention and orphan-cleanup never touch it.
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT;

CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    token_id     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_token ON console_sessions (token_id);

CREATE TABLE audit_log (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT NOT NULL,
    actor          TEXT,
    token_id       TEXT,
    client_addr    TEXT,
    action         TEXT NOT NULL,
    object_type    TEXT,
    object_id      TEXT,
    version_before BIGINT,
    version_after  BIGINT
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_object ON audit_log (object_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
