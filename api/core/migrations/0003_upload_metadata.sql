-- The user's file name of an upload, kept as metadata only (stored names are server-generated).
ALTER TABLE datasets ADD COLUMN original_filename TEXT;
ALTER TABLE models ADD COLUMN original_filename TEXT;
