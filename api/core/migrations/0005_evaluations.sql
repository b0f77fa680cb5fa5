-- Evaluations run as sessions of kind 'evaluate' (same queue and scheduler); their results live here.
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'train' CHECK (kind IN ('train', 'evaluate'));

CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL,
    dataset_id  INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    split       TEXT    NOT NULL,
    conf        REAL    NOT NULL,
    iou         REAL    NOT NULL,
    imgsz       INTEGER NOT NULL,
    metrics     TEXT,
    per_class   TEXT,
    created_at  REAL    NOT NULL,
    created_by  INTEGER REFERENCES api_keys(id)
);
CREATE UNIQUE INDEX evaluations_session ON evaluations (session_id);
