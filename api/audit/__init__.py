"""The audit log: every write request of a known key, with its outcome."""
