-- Images of old recognitions are removed after RECOGNITION_IMAGE_RETENTION_DAYS; the results stay.
ALTER TABLE recognitions ADD COLUMN images_removed_at REAL;
CREATE INDEX recognitions_images_kept ON recognitions (created_at) WHERE images_removed_at IS NULL;
