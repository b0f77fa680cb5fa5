-- Sessions that outside code reports into (kind 'external'), runs placed on a cluster node, and the ingest path.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (the runner turns foreign keys off
-- around a migration, so the rebuild does not cascade into metrics, logs and evaluations).
CREATE TABLE sessions_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    task           TEXT    NOT NULL,  -- detect | classify for runs we execute; free text for external runs
    model          TEXT    NOT NULL,
    base_model_id  INTEGER REFERENCES models(id) ON DELETE SET NULL,
    dataset_id     INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
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
    on_behalf_of   TEXT,
    kind           TEXT    NOT NULL DEFAULT 'train' CHECK (kind IN ('train', 'evaluate', 'external')),
    node           TEXT    -- the cluster node a run was placed on (Ray executor); NULL on this machine
);
INSERT INTO sessions_new (id, name, task, model, base_model_id, dataset_id, config, priority, status, device,
    created_at, started_at, ended_at, run_seconds, epoch, epochs, batch_index, batches, latest_metrics,
    best_metrics, best_fitness, checkpoint, stop_requested, attempts, error, error_tail, result_model_id,
    created_by, on_behalf_of, kind)
SELECT id, name, task, model, base_model_id, dataset_id, config, priority, status, device,
    created_at, started_at, ended_at, run_seconds, epoch, epochs, batch_index, batches, latest_metrics,
    best_metrics, best_fitness, checkpoint, stop_requested, attempts, error, error_tail, result_model_id,
    created_by, on_behalf_of, kind FROM sessions;
-- Keep the id sequence: ids of deleted sessions are never given again (run dirs, audit rows, the bot use them).
INSERT INTO sqlite_sequence (name, seq)
SELECT 'sessions_keep', COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name IN ('sessions', 'sessions_new');
DELETE FROM sqlite_sequence WHERE name = 'sessions_new';
UPDATE sqlite_sequence SET name = 'sessions_new' WHERE name = 'sessions_keep';
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_queue ON sessions (status, priority DESC, created_at, id);

-- Idempotent ingest: a batch a client retries (same batch_id) is acknowledged again but stored once.
CREATE TABLE ingest_batches (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    batch_id   TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (session_id, batch_id)
) WITHOUT ROWID;

-- Per-run tokens of cluster workers: each may write to its one session, for one attempt, until it ends.
CREATE TABLE session_tokens (
    token_hash TEXT    PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    attempt    INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    expires_at REAL    NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_tokens_session ON session_tokens (session_id);

-- Files a run reported (POST /sessions/{id}/artifacts): checkpoints, weights, anything.
CREATE TABLE session_artifacts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('file', 'checkpoint', 'model')),
    path        TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    UNIQUE (session_id, name)
);
