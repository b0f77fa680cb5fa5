-- Training sessions, their metrics and logs, and the model registry.
CREATE TABLE models (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    task         TEXT    NOT NULL CHECK (task IN ('detect', 'classify')),
    architecture TEXT    NOT NULL,
    classes      TEXT    NOT NULL,
    metrics      TEXT    NOT NULL DEFAULT '{}',
    source       TEXT    NOT NULL CHECK (source IN ('training', 'upload')),
    session_id   INTEGER,
    path         TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    created_at   REAL    NOT NULL,
    created_by   INTEGER REFERENCES api_keys(id)
);

CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    task           TEXT    NOT NULL CHECK (task IN ('detect', 'classify')),
    model          TEXT    NOT NULL,
    base_model_id  INTEGER REFERENCES models(id) ON DELETE SET NULL,
    dataset_id     INTEGER REFERENCES datasets(id) ON DELETE SET NULL,  -- history outlives the dataset
    config         TEXT    NOT NULL,
    priority       INTEGER NOT NULL DEFAULT 0,
    status         TEXT    NOT NULL CHECK (status IN
                     ('queued', 'running', 'completed', 'failed', 'stopped', 'cancelled', 'interrupted')),
    device         TEXT,
    created_at     REAL    NOT NULL,
    started_at     REAL,
    ended_at       REAL,
    run_seconds    REAL    NOT NULL DEFAULT 0,
    epoch          INTEGER NOT NULL DEFAULT 0,
    epochs         INTEGER NOT NULL,
    batch_index    INTEGER NOT NULL DEFAULT 0,
    batches        INTEGER NOT NULL DEFAULT 0,
    latest_metrics TEXT    NOT NULL DEFAULT '{}',
    best_metrics   TEXT    NOT NULL DEFAULT '{}',
    best_fitness   REAL,
    checkpoint     TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    error_tail     TEXT,
    result_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    created_by     INTEGER REFERENCES api_keys(id),
    on_behalf_of   TEXT
);
CREATE INDEX sessions_queue ON sessions (status, priority DESC, created_at, id);

-- One row per (session, key, step): the primary key is the index a history query walks.
CREATE TABLE metrics (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    step       INTEGER NOT NULL,
    epoch      INTEGER NOT NULL,
    value      REAL    NOT NULL,
    ts         REAL    NOT NULL,
    PRIMARY KEY (session_id, key, step)
) WITHOUT ROWID;

CREATE TABLE logs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    ts         REAL    NOT NULL,
    level      TEXT    NOT NULL,
    message    TEXT    NOT NULL
);
CREATE INDEX logs_session ON logs (session_id, id);
