-- Grove objects: editable payload plus engine-written state, merged on read.
-- Mirrors migrations/sqlite/0001_objects.sql. Instants are BIGINT unix
-- milliseconds written by the caller (never now()). `payload` is JSON, not
-- JSONB, so an operator's key order survives a round trip; `state` is JSONB
-- so engine keys can be merged in one statement (`||` and `-`). Ids and
-- types compare and sort byte by byte (COLLATE "C"), as SQLite's default
-- BINARY collation does, whatever the database's locale.
CREATE TABLE objects (
    object_type TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    title       TEXT NOT NULL,
    description TEXT,
    tags        JSONB NOT NULL DEFAULT '[]',
    version     BIGINT NOT NULL,
    payload     JSON NOT NULL,
    state       JSONB NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    created_by  TEXT,
    updated_by  TEXT,
    PRIMARY KEY (object_type, id)
);

-- Every save, so any earlier configuration can be viewed, diffed and restored.
CREATE TABLE object_revisions (
    object_type TEXT NOT NULL,
    id          TEXT NOT NULL,
    version     BIGINT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT,
    tags        JSONB NOT NULL DEFAULT '[]',
    payload     JSON NOT NULL,
    actor       TEXT,
    at          BIGINT NOT NULL,
    PRIMARY KEY (object_type, id, version)
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- One-time seeds already applied, so seeding never undoes an operator's edit or delete.
CREATE TABLE seeds (
    key        TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
