-- Requests refused while their address is locked out are stored as one row per address per minute, with a count.
ALTER TABLE auth_attempts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
