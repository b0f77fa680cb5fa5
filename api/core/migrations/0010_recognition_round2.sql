-- Named kits of expected tools; a recognition may check one (kit_id). Big batches run in the background
-- (status queued -> running -> completed | failed, processed of total images). A model may be exported to ONNX
-- on its own after registration (auto_export).
CREATE TABLE kits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    items      TEXT    NOT NULL,
    model_id   INTEGER REFERENCES models(id) ON DELETE SET NULL,
    created_at REAL    NOT NULL,
    created_by INTEGER REFERENCES api_keys(id),
    updated_at REAL
);
ALTER TABLE recognitions ADD COLUMN kit_id INTEGER REFERENCES kits(id) ON DELETE SET NULL;
CREATE INDEX recognitions_kit ON recognitions (kit_id, created_at);
ALTER TABLE recognitions ADD COLUMN status TEXT NOT NULL DEFAULT 'completed'
    CHECK (status IN ('queued', 'running', 'completed', 'failed'));
ALTER TABLE recognitions ADD COLUMN processed INTEGER;
ALTER TABLE recognitions ADD COLUMN total INTEGER;
ALTER TABLE recognitions ADD COLUMN error TEXT;
ALTER TABLE models ADD COLUMN auto_export INTEGER NOT NULL DEFAULT 0;
