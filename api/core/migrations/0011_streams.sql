-- Recorded videos (a source for streams without a camera) and stream definitions. A stream's settings are one
-- JSON document validated by api/streams/schemas.py; `enabled` is whether it should run (it starts again when the
-- server starts).
CREATE TABLE videos (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    filename    TEXT    NOT NULL,
    container   TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    fps         REAL    NOT NULL,
    frame_count INTEGER NOT NULL,
    duration_s  REAL    NOT NULL,
    codec       TEXT,
    created_at  REAL    NOT NULL,
    created_by  INTEGER REFERENCES api_keys(id)
);
CREATE TABLE streams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    source     TEXT    NOT NULL,
    model_id   INTEGER NOT NULL REFERENCES models(id),
    settings   TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at REAL    NOT NULL,
    created_by INTEGER REFERENCES api_keys(id),
    updated_at REAL
);
