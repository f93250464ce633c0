-- The live instances: each renews its row while it runs (expires_at, ms
-- since the epoch) and deletes it at shutdown. They divide the firing of
-- slots among the live set; a row that expired is a dead instance, whose
-- share the others take over.
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
