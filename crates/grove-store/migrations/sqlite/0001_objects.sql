-- Grove objects: editable payload plus engine-written state, merged on read.
CREATE TABLE objects (
    object_type TEXT NOT NULL,
    id          TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT,
    tags        TEXT NOT NULL DEFAULT '[]',
    version     INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    created_by  TEXT,
    updated_by  TEXT,
    PRIMARY KEY (object_type, id)
);

-- Every save, so any earlier configuration can be viewed, diffed and restored.
CREATE TABLE object_revisions (
    object_type TEXT NOT NULL,
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    description TEXT,
    tags        TEXT NOT NULL DEFAULT '[]',
    payload     TEXT NOT NULL,
    actor       TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (object_type, id, version)
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- One-time seeds already applied, so seeding never undoes an operator's edit or delete.
CREATE TABLE seeds (
    key        TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
);
