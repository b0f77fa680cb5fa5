-- Uploaded weights are stored as a normalised copy (see api/registry/models/validation.py). Rows from before
-- that check have validated_at NULL: the server re-validates them at start-up and quarantines what fails.
ALTER TABLE models ADD COLUMN upload_sha256 TEXT;  -- the uploaded bytes, for duplicate detection
ALTER TABLE models ADD COLUMN validated_at REAL;
ALTER TABLE models ADD COLUMN quarantine_reason TEXT;
CREATE INDEX models_upload_sha256 ON models (upload_sha256);
