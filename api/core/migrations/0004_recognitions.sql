-- Recognitions: who asked, with which model and parameters, the structured results and the images.
CREATE TABLE recognitions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at   REAL    NOT NULL,
    key_id       INTEGER REFERENCES api_keys(id),
    on_behalf_of TEXT,
    model_id     INTEGER REFERENCES models(id) ON DELETE SET NULL,
    params       TEXT    NOT NULL,
    images       TEXT    NOT NULL,
    verdict      TEXT    NOT NULL CHECK (verdict IN ('complete', 'incomplete', 'unchecked')),
    timings      TEXT    NOT NULL
);
CREATE INDEX recognitions_created ON recognitions (created_at);
CREATE INDEX recognitions_model ON recognitions (model_id, created_at);
CREATE INDEX recognitions_user ON recognitions (on_behalf_of, created_at);
